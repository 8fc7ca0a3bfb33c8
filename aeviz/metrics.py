"""Scores: reconstruction error (MSE, PSNR, SSIM) and the PCA baseline. (K-Means against labels: analysis.clustering.)

All take numpy arrays with values in [0, 1]. MSE is the mean over all values of (x - x_hat)^2.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy.ndimage import uniform_filter

if TYPE_CHECKING:  # scikit-learn loads in ~0.9 s: only where a PCA is fitted (not in a training process)
    from sklearn.decomposition import PCA


def mse(x: np.ndarray, x_hat: np.ndarray) -> float:
    return float(np.mean((np.asarray(x, np.float64) - np.asarray(x_hat, np.float64)) ** 2))


def psnr_from_mse(value: float) -> float:
    """Peak signal-to-noise ratio in dB for data in [0, 1]; capped at 100 dB for a perfect copy."""
    return 100.0 if value <= 1e-10 else 10.0 * math.log10(1.0 / value)


def psnr(x: np.ndarray, x_hat: np.ndarray) -> float:
    return psnr_from_mse(mse(x, x_hat))


def per_sample_mse(x: np.ndarray, x_hat: np.ndarray) -> np.ndarray:
    """(N, ...) x 2 -> (N,)."""
    diff = np.asarray(x, np.float64) - np.asarray(x_hat, np.float64)
    return (diff.reshape(len(diff), -1) ** 2).mean(1)


def ssim(x: np.ndarray, y: np.ndarray, window: int = 7) -> float:
    """Mean structural similarity of two image batches (N, C, H, W) in [0, 1] (Wang et al. 2004, uniform window)."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    if x.ndim != 4:
        raise ValueError("ssim needs image batches (N, C, H, W)")
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    size = (1, 1, min(window, x.shape[2]), min(window, x.shape[3]))
    mx, my = uniform_filter(x, size), uniform_filter(y, size)
    vx = uniform_filter(x * x, size) - mx * mx
    vy = uniform_filter(y * y, size) - my * my
    cxy = uniform_filter(x * y, size) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(s.mean())


def pca_components(k: int, x: np.ndarray) -> int:
    """How many components a PCA asked for k can have on `x` (N, ...): no more than its values or rows."""
    return max(1, min(k, int(np.prod(x.shape[1:])), len(x)))


def pca_baseline(train: np.ndarray, test: np.ndarray, k: int, seed: int = 0, clip: bool = True) -> tuple[float, PCA]:
    """MSE of PCA with k components (at most: see pca_components) fitted on `train`, reconstructing `test`; and the
    fitted PCA (its n_components_ says how many it kept). `clip`: its reconstructions clipped to the data's [0, 1],
    the fair rival of a model whose outputs are bounded there; a linear AE's are not (`bounded_output`)."""
    tr = train.reshape(len(train), -1)
    te = test.reshape(len(test), -1)
    k = pca_components(k, tr)
    from sklearn.decomposition import PCA

    pca = PCA(n_components=k, random_state=seed, svd_solver="randomized" if k < min(tr.shape) // 2 else "full")
    pca.fit(tr)
    rec = pca.inverse_transform(pca.transform(te))
    return mse(te, np.clip(rec, 0.0, 1.0) if clip else rec), pca
