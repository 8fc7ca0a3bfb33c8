"""The vector field an autoencoder draws on its input space: r(x) = g(f(x)) - x, for 2-D inputs.

A denoising autoencoder trained with small Gaussian corruption learns r(x) proportional to the score, the gradient of
the log-density (Alain & Bengio 2014, "What regularized auto-encoders learn from the data-generating distribution";
Goodfellow, Bengio & Courville 2016, section 14.5.1): from anywhere near the data it points back to the data
manifold, and iterating x <- g(f(x)) walks points onto it. A plain autoencoder is trained only on the data itself,
so nothing asks its field to undo anything off the data: measured here, its arrows point back too (on these 2-D
sets its decoder only ever learned to draw the data) but go less than half of the way (`reach`), where a DAE's go
all of it. Here: the field on a grid (`grid`, `field`), its agreement with the direction to the nearest data point
(`towards_data`), how far it goes (`reach`), and the iteration (`flow`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from aeviz.tasks import Report, no_report

if TYPE_CHECKING:
    from aeviz.data import Dataset
    from aeviz.runs import Run

LAB_MODEL = {"hidden": (64, 64), "latent_dim": 2}  # as many code units as inputs (yet a plain AE does not copy)
LAB_EPOCHS = 40  # about 5 s for both models on 2,000 points, one core
GRID = 21  # points per side of the drawn grid: 441 arrows, readable on a projector
MARGIN = 0.25  # the grid extends this fraction of the data's extent beyond it on every side
NEAR = 0.02  # points this close to the data (in the data's [0, 1] units) have no direction to the data to agree with


def train_pair(data: Dataset, noise_level: float, report: Report = no_report) -> tuple[Run, Run]:
    """A denoising AE (Gaussian corruption of std `noise_level`) and a plain AE of the same shape, trained on the
    same 2-D points with the same seed, epoch by epoch through `report` (which may cancel)."""
    from aeviz.analysis.lab import train_models

    _check_2d(data.x)
    dae, ae = train_models(data, [("the denoising AE", "denoising",
                                   {"noise": "gaussian", "noise_level": noise_level, **LAB_MODEL}),
                                  ("the plain AE", "ae", LAB_MODEL)], LAB_EPOCHS, report)
    return dae, ae


def grid(x: np.ndarray, n: int = GRID, margin: float = MARGIN) -> np.ndarray:
    """(n * n, 2) points on a square grid over the 2-D data `x` (N, 2), widened by `margin` of its extent but
    kept in [0, 1], where every input (and every corrupted training input) lives."""
    _check_2d(x)
    pad = (x.max(axis=0) - x.min(axis=0)) * margin
    lo, hi = np.maximum(x.min(axis=0) - pad, 0.0), np.minimum(x.max(axis=0) + pad, 1.0)
    u = np.linspace(lo[0], hi[0], n, dtype=np.float32)
    v = np.linspace(lo[1], hi[1], n, dtype=np.float32)
    gx, gy = np.meshgrid(u, v)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def field(model: torch.nn.Module, points: np.ndarray) -> np.ndarray:
    """(N, 2) points -> (N, 2) r(x) = g(f(x)) - x: the deterministic reconstruction (eval mode: no training noise,
    a VAE's mean code) minus the point."""
    from aeviz.evaluation import reconstruct_all

    _check_2d(points)
    return reconstruct_all(model, points).reshape(-1, 2) - points


def flow(model: torch.nn.Module, start: np.ndarray, steps: int) -> np.ndarray:
    """(steps + 1, N, 2): `start` (N, 2) and the points after 1..steps iterations of x <- g(f(x))."""
    if not 0 <= steps <= 1000:
        raise ValueError(f"The 'steps' parameter of flow must be an int in [0, 1000]. Got {steps!r} instead.")
    path = [np.asarray(start, np.float32)]
    for _ in range(steps):
        path.append(path[-1] + field(model, path[-1]))
    return np.stack(path)


def towards_data(points: np.ndarray, vectors: np.ndarray, data: np.ndarray, near: float = NEAR) -> float:
    """The fraction of `points` (those farther than `near` from every data point) whose vector has a positive dot
    product with the direction to their nearest data point: 1.0 when the whole field points back to the data."""
    _check_2d(points)
    _check_2d(data)
    nearest = _nearest(points, data)
    to_data = nearest - points
    far = np.linalg.norm(to_data, axis=1) > near
    if not far.any():
        return float("nan")
    return float(np.mean(np.sum(vectors[far] * to_data[far], axis=1) > 0))


def reach(points: np.ndarray, vectors: np.ndarray, data: np.ndarray, far: float = 0.1) -> float:
    """How far the arrows go towards the data, as a share of the distance: the median of |r(x)| / d(x) over the
    points farther than `far` from the data. About 1 for a DAE (it maps a corrupted point onto the data in one step:
    it learned to undo the corruption); a plain AE, never shown a point off the data, goes part of the way."""
    d = distance_to_data(points, data)
    keep = d > far
    if not keep.any():
        return float("nan")
    return float(np.median(np.linalg.norm(vectors[keep], axis=1) / d[keep]))


def distance_to_data(points: np.ndarray, data: np.ndarray) -> np.ndarray:
    """(N,) distance from each point to its nearest data point (how far a flow still is from the manifold)."""
    return np.linalg.norm(_nearest(points, data) - points, axis=1)


def _nearest(points: np.ndarray, data: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """(N, 2) the nearest row of `data` to each point (exact, in chunks: a grid against a few thousand points)."""
    out = np.empty_like(points, dtype=np.float32)
    for i in range(0, len(points), chunk):
        d2 = ((points[i:i + chunk, None, :] - data[None, :, :]) ** 2).sum(-1)  # (chunk, M)
        out[i:i + chunk] = data[d2.argmin(axis=1)]
    return out


def _check_2d(x: np.ndarray) -> None:
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"The vector field is drawn for 2-D inputs: expected an array (N, 2). Got {x.shape} instead.")
