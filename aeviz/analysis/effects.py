"""Measures of the effects the lessons teach, each a number that says how strongly a trained model shows one idea.

Code sparsity per input, the encoder's sensitivity relative to its code's spread, and how close decoded samples
come to real data. `aeviz.lesson_checks` turns them into verdicts; they are plain numpy/torch and change no weights.
"""

from __future__ import annotations

import numpy as np
import torch

from aeviz.evaluation import encode_all
from aeviz.models import AutoEncoder
from aeviz.models.contractive import encode_with_jacobian_norm

ACTIVE_SHARE = 0.1  # SparseAE.extra_metrics' rule: a unit is active above a tenth of the input's strongest unit


def quiet_fraction(z: np.ndarray, ceiling: float | None = None) -> np.ndarray:
    """Per input, the fraction of code units that are quiet, at most ACTIVE_SHARE of the code's scale: (N, k) -> (N,).

    The scale is the input's strongest unit (SparseAE.extra_metrics' rule, right for ReLU and signed codes, which
    have no top), or the code's `ceiling` when it has one: a sigmoid code under Ng's KL penalty is quiet near 0 and
    active near 1, and its many small values (0.05 is the usual target) are quiet even when every unit is small.
    """
    a = np.abs(np.asarray(z, np.float64))
    scale = np.maximum(a.max(1, keepdims=True), 1e-12) if ceiling is None else ceiling
    return (a <= ACTIVE_SHARE * scale).mean(1)


@torch.no_grad()
def relative_sensitivity(model: AutoEncoder, x: np.ndarray) -> dict[str, float]:
    """Mean Frobenius norm of dz/dx over `x`, and that divided by the codes' spread (the RMS distance of the codes from
    their mean). The ratio does not change when a model merely scales its code down, which shrinks the Jacobian by
    the same factor and costs a decoder nothing (it scales its first layer up)."""
    layers = getattr(model, "encoder", None)
    assert isinstance(layers, torch.nn.Sequential), f"{type(model).__name__} has no MLP encoder to differentiate"
    device = next(model.parameters()).device
    flat = torch.from_numpy(np.ascontiguousarray(x, np.float32)).to(device).flatten(1)  # (N, D)
    _, jac_sq = encode_with_jacobian_norm(layers, flat)  # (N,)
    z = encode_all(model, x).astype(np.float64)  # the model's deterministic code (a VAE's mean), (N, k)
    spread = float(np.sqrt(z.var(0).sum()))
    jac = float(jac_sq.sqrt().mean())
    return {"jacobian": jac, "code_spread": spread, "sensitivity": jac / max(spread, 1e-12)}


def nearest_distances(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """For each row of `a`, the Euclidean distance to its nearest row of `b` (of `a` itself, not counting the row,
    when `b` is None): (N, ...) x (M, ...) -> (N,)."""
    fa = np.asarray(a, np.float64).reshape(len(a), -1)
    fb = fa if b is None else np.asarray(b, np.float64).reshape(len(b), -1)
    sq = (fa * fa).sum(1)[:, None] - 2 * fa @ fb.T + (fb * fb).sum(1)[None]  # (N, M), by one matrix product
    if b is None:
        np.fill_diagonal(sq, np.inf)
    return np.sqrt(np.maximum(sq.min(1), 0.0))


def realism(samples: np.ndarray, real: np.ndarray, pool: np.ndarray) -> dict[str, float]:
    """How far generated `samples` lie from the data, in units of how far real images lie from it: the mean distance
    from a sample to its nearest image in `pool`, over the same for held-out `real` images (1 = as close as a new
    real image; noise or a grey square lie several times further). And how varied the samples are: their spread
    (RMS distance from their mean image) over the real images' (0 = one image repeated). Not nearest-neighbour
    distances among the samples: a 2-D code's samples lie densely on a 2-D sheet, close to each other yet varied."""
    near_sample = float(nearest_distances(samples, pool).mean())
    near_real = float(nearest_distances(real, pool).mean())
    return {"sample_to_data": near_sample, "real_to_data": near_real, "distance_ratio": near_sample / near_real,
            "variety": _spread(samples) / max(_spread(real), 1e-12)}


def _spread(x: np.ndarray) -> float:
    flat = np.asarray(x, np.float64).reshape(len(x), -1)
    return float(np.sqrt(flat.var(0).sum()))
