"""Anomalies and out-of-distribution inputs: reconstruction error per sample, thresholds, ROC AUC.

An autoencoder reconstructs what looks like its training data; inputs from elsewhere (another dataset, noise) come
back worse, so their error separates them: the ROC AUC says how well a threshold on it does.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from aeviz.errors import InputError
from aeviz.evaluation import reconstruct_all
from aeviz.metrics import per_sample_mse
from aeviz.models import AutoEncoder


def errors(model: AutoEncoder, x: np.ndarray) -> np.ndarray:
    """Per-sample mean squared reconstruction error: (N,)."""
    return per_sample_mse(x, reconstruct_all(model, x))


def error_maps(model: AutoEncoder, x: np.ndarray) -> np.ndarray:
    """|x - x_hat| averaged over channels: (N, H, W) for images, (N, D) for vectors."""
    diff = np.abs(np.asarray(x, np.float32) - reconstruct_all(model, x))
    return diff.mean(1) if diff.ndim == 4 else diff


def threshold_at(errs: np.ndarray, quantile: float) -> float:
    if not 0.0 < quantile < 1.0:
        raise InputError(f"The threshold quantile must be in (0, 1). Got {quantile} instead.")
    return float(np.quantile(errs, quantile))


def worst(errs: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n largest errors, largest first (ties by row). Only the candidates are sorted: a page shows
    the worst 10 of a million samples without sorting the million."""
    errs = np.asarray(errs)
    n = max(0, min(int(n), len(errs)))
    if n == 0:
        return np.zeros(0, np.int64)
    candidates = np.arange(len(errs)) if n == len(errs) else np.flatnonzero(errs >= np.partition(errs, -n)[-n])
    return candidates[np.argsort(-errs[candidates], kind="stable")][:n]


def ood_auc(in_errors: np.ndarray, out_errors: np.ndarray) -> float:
    """ROC AUC of 'reconstruction error' as a score for 'is out of distribution' (1 = perfect, 0.5 = chance)."""
    if len(in_errors) == 0 or len(out_errors) == 0:
        raise InputError("The out-of-distribution check needs samples on both sides.")
    y = np.concatenate([np.zeros(len(in_errors)), np.ones(len(out_errors))])
    return float(roc_auc_score(y, np.concatenate([in_errors, out_errors])))


def uniform_noise_like(x: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """n images of uniform noise shaped like x's rows: the simplest out-of-distribution input."""
    return np.random.default_rng(seed).random((n, *x.shape[1:]), dtype=np.float32)
