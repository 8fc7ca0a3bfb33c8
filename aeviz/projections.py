"""2-D views of latent codes: the one PROJECTIONS registry (raw, PCA, t-SNE, UMAP) that the pages draw their choices
and parameter widgets from, and a PCA that keeps its orientation between frames, so the live latent plot does not
flip or spin from one epoch to the next.

Each entry is a function `(z (N, D), params, seed, report) -> (N, 2)`, a label, a frozen dataclass describing its
parameters with `aeviz.config.param` (the same metadata the models' forms read) and a `slow` flag: slow ones run on
an `aeviz.tasks.Task` with progress and cancel, fast ones inline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from aeviz.config import build_config
from aeviz.embedding import TSNEParams, UMAPParams, tsne_2d, umap_2d
from aeviz.errors import InputError
from aeviz.tasks import Report, no_report


def pca_2d(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N, D) -> xy (N, 2), components (2, D), explained variance ratio (2,). D = 1 gets a zero second axis."""
    z = np.asarray(z, np.float64)
    centred = z - z.mean(0)
    if z.shape[1] == 1:
        return np.column_stack([centred[:, 0], np.zeros(len(z))]), np.array([[1.0], [0.0]]), np.array([1.0, 0.0])
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    var = s ** 2
    ratio = var[:2] / var.sum() if var.sum() > 0 else np.zeros(2)
    return centred @ vt[:2].T, vt[:2], ratio


def aligned_pca(z: np.ndarray, previous: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Codes as 2-D points: raw when D <= 2, else PCA with each axis' sign chosen to agree with `previous`."""
    z = np.asarray(z, np.float64)
    if z.shape[1] == 2:
        return z.copy(), None
    xy, comps, _ = pca_2d(z)
    if previous is not None and previous.shape == comps.shape:
        signs = np.sign(np.sum(comps * previous, axis=1))
        signs[signs == 0] = 1.0
        comps, xy = comps * signs[:, None], xy * signs[None, :]
    return xy, comps


def raw_2d(z: np.ndarray) -> np.ndarray:
    """A 2-D code as it is; a 1-D code along x, with a seeded random height in [-0.5, 0.5] so that points do not
    hide one another (a strip plot: the height means nothing)."""
    if z.shape[1] == 1:
        jitter = np.random.default_rng(0).uniform(-0.5, 0.5, len(z))
        return np.column_stack([np.asarray(z[:, 0], np.float64), jitter])
    if z.shape[1] != 2:
        raise InputError(f"'raw' shows 1-D and 2-D codes only; these codes have {z.shape[1]} dimensions. Use 'pca'.")
    return np.asarray(z, np.float64)


@dataclass(frozen=True)
class NoParams:
    """The parameters of a projection that has none."""

    def check(self, n: int) -> None:
        pass


@dataclass(frozen=True)
class Projection:
    fn: Callable[..., np.ndarray]  # (z, params, seed, report) -> (N, 2)
    label: str
    params: type  # a frozen dataclass of `param` fields, validated on construction
    slow: bool  # True: run it on a background Task (seconds or more), never inline


PROJECTIONS: dict[str, Projection] = {
    "raw": Projection(lambda z, p, seed, report: raw_2d(z), "the code itself", NoParams, False),
    "pca": Projection(lambda z, p, seed, report: pca_2d(z)[0], "PCA", NoParams, False),
    "tsne": Projection(tsne_2d, "t-SNE", TSNEParams, True),
    "umap": Projection(umap_2d, "UMAP", UMAPParams, True),
}


def get(name: str) -> Projection:
    if name not in PROJECTIONS:
        raise InputError(f"Unknown projection {name!r}. Choose one of {sorted(PROJECTIONS)}.")
    return PROJECTIONS[name]


def params_for(name: str, n: int, **values: Any) -> Any:
    """The validated parameters of projection `name` for `n` points (InputError names the bad one and the fix)."""
    params = build_config(get(name).params, values)
    params.check(n)
    return params


def project(name: str, z: np.ndarray, seed: int = 0, report: Report = no_report, **values: Any) -> np.ndarray:
    """(N, D) codes -> (N, 2) points, blocking. `report` receives progress and may cancel (see aeviz.tasks)."""
    z = np.asarray(z, np.float32)
    params = params_for(name, len(z), **values)
    return np.asarray(PROJECTIONS[name].fn(z, params, seed, report), np.float64)
