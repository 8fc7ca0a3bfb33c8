"""Making new images from codes: interpolation, traversal grids, the decoded 2-D manifold, samples from the prior."""

from __future__ import annotations

import numpy as np
import torch

from aeviz.analysis.importance import decode_all
from aeviz.evaluation import encode_all
from aeviz.models import AutoEncoder


def interpolate(model: AutoEncoder, a: np.ndarray, b: np.ndarray, steps: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """Images between inputs a and b (*shape): decoded along the line between their codes, and the pixel blend.

    The endpoints of the latent path are exactly the reconstructions of a and b; the pixel path is (1-t) a + t b.
    """
    t = np.linspace(0.0, 1.0, steps)
    za, zb = encode_all(model, np.stack([a, b]))
    latent = decode_all(model, (1 - t)[:, None] * za[None] + t[:, None] * zb[None])
    pixels = (1 - t).reshape(-1, *[1] * a.ndim) * a[None] + t.reshape(-1, *[1] * a.ndim) * b[None]
    return latent, pixels.astype(np.float32)


def traversal_grid(model: AutoEncoder, z: np.ndarray, dims: list[int], steps: int = 9,
                   span: float = 3.0) -> np.ndarray:
    """One row per dimension: the mean code with that dimension swept over +-span std: (len(dims) * steps, ...)."""
    centre = z.mean(0)
    std = z.std(0)
    rows = []
    for d in dims:
        codes = np.repeat(centre[None], steps, 0)
        codes[:, d] = centre[d] + np.linspace(-span, span, steps) * (std[d] or 1.0)
        rows.append(codes)
    return decode_all(model, np.concatenate(rows))


def manifold_grid(model: AutoEncoder, z: np.ndarray, dims: tuple[int, int] = (0, 1), n: int = 12,
                  quantile: float = 0.02) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decodes of an n x n grid over two dimensions (others at their mean), spanning the codes' central range.

    Returns the images (n * n, ...) row by row from the top (highest second dim), and the two axes' values.
    """
    centre = z.mean(0)
    lo = np.quantile(z[:, list(dims)], quantile, axis=0)
    hi = np.quantile(z[:, list(dims)], 1 - quantile, axis=0)
    xs, ys = np.linspace(lo[0], hi[0], n), np.linspace(hi[1], lo[1], n)
    codes = np.repeat(centre[None], n * n, 0)
    gx, gy = np.meshgrid(xs, ys)
    codes[:, dims[0]], codes[:, dims[1]] = gx.ravel(), gy.ravel()
    return decode_all(model, codes), xs, ys


def prior_samples(model: AutoEncoder, n: int = 32, seed: int = 0) -> np.ndarray:
    """Decodes of z ~ N(0, I): what the VAE generates from nothing (other models were not trained for this)."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, model.config.latent_dim, generator=g).numpy()
    return decode_all(model, z)
