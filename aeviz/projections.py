"""2-D views of latent codes: the PROJECTIONS registry (raw, PCA) and a PCA that keeps its orientation between
frames, so the live latent plot does not flip or spin from one epoch to the next.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from aeviz.errors import InputError


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
    if z.shape[1] != 2:
        raise InputError(f"'raw' shows 2-D codes only; these codes have {z.shape[1]} dimensions. Use 'pca'.")
    return np.asarray(z, np.float64)


PROJECTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "raw": raw_2d,
    "pca": lambda z: pca_2d(z)[0],
}


def project(name: str, z: np.ndarray) -> np.ndarray:
    if name not in PROJECTIONS:
        raise InputError(f"Unknown projection {name!r}. Choose one of {sorted(PROJECTIONS)}.")
    return PROJECTIONS[name](z)
