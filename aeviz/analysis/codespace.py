"""Small operations on a set of codes z (N, k) that the Generate and Anomalies pages need.

A pair of inputs from different classes to interpolate between, the most varied dimensions to traverse, a Gaussian
fitted to the codes (the fair way to sample from a model that has no prior), and a 2-D view of other codes in the
plane of the reference codes (so out-of-distribution inputs land on the same axes as the data they are compared to).
"""

from __future__ import annotations

import numpy as np

from aeviz.analysis.importance import decode_all
from aeviz.errors import InputError
from aeviz.models import AutoEncoder
from aeviz.projections import pca_2d


def random_pair(y: np.ndarray | None, n: int, seed: int) -> tuple[int, int]:
    """Two different row indices in [0, n), of different classes when labels allow it (seeded)."""
    if n < 2:
        raise InputError(f"An interpolation needs two inputs; this split has {n}. Use a larger dataset.")
    rng = np.random.default_rng(seed)
    a = int(rng.integers(n))
    if y is not None and len(np.unique(y[:n])) > 1:
        others = np.flatnonzero(y[:n] != y[a])
    else:
        others = np.delete(np.arange(n), a)
    return a, int(rng.choice(others))


def top_dims(z: np.ndarray, k: int) -> list[int]:
    """The k dimensions with the largest variance, largest first (ties by index)."""
    return [int(d) for d in np.argsort(-z.var(0), kind="stable")[:k]]


def fitted_gaussian(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (k,) and covariance (k, k) of the codes, with a tiny ridge so a collapsed dimension stays sampleable."""
    z = np.asarray(z, np.float64)
    if len(z) < 2:
        raise InputError(f"A Gaussian needs at least two codes to fit; got {len(z)}. Use a larger split.")
    cov = np.atleast_2d(np.cov(z, rowvar=False)) + 1e-6 * np.eye(z.shape[1])
    return z.mean(0), cov


def gaussian_samples(model: AutoEncoder, z: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Decodes of n draws from N(mean, cov) of the codes z: (n, *shape)."""
    mean, cov = fitted_gaussian(z)
    draws = np.random.default_rng(seed).multivariate_normal(mean, cov, size=n, method="eigh")
    return decode_all(model, draws.astype(np.float32))


def shared_plane(z_ref: np.ndarray, z_other: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[str, str]]:
    """Both sets of codes in one 2-D plane fitted to z_ref alone: raw axes for 2-D codes, else z_ref's PCA.

    Returns (xy_ref (N, 2), xy_other (M, 2), axis titles). z_other is centred with z_ref's mean and projected on
    z_ref's components, so a point far from the data in the picture is far from it in the code space's main plane.
    """
    z_ref, z_other = np.asarray(z_ref, np.float64), np.asarray(z_other, np.float64)
    if z_ref.shape[1:] != z_other.shape[1:]:
        raise InputError(f"Codes of size {z_other.shape[1]} cannot share a plane with codes of size {z_ref.shape[1]}.")
    if z_ref.shape[1] == 2:
        return z_ref.copy(), z_other.copy(), ("z1", "z2")
    xy_ref, comps, ratio = pca_2d(z_ref)
    xy_other = (z_other - z_ref.mean(0)) @ comps.T
    return xy_ref, xy_other, (f"PC1 ({ratio[0]:.0%} of the variance)", f"PC2 ({ratio[1]:.0%})")


def check_same_shape(shape: tuple[int, ...], expected: tuple[int, ...], name: str) -> None:
    """InputError when a dataset's sample shape is not what the model takes."""
    if tuple(shape) != tuple(expected):
        raise InputError(
            f"{name} has samples of shape {tuple(shape)} but this run's model takes {tuple(expected)}: "
            "choose data with the same shape (or train a run on this data)."
        )
