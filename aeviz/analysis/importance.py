"""Per-feature importance: which latent dimensions matter, what each one draws, which pixels drive the code.

Latent side: variance (activity), ANOVA F and mutual information with the labels, the increase in reconstruction
error when a dimension is ablated (set to its mean), and for the VAE its KL. Input side: gradient saliency maps and
the encoder's first-layer filters. For the linear model: its subspace against PCA's (principal angles).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from scipy.linalg import subspace_angles
from sklearn.feature_selection import f_classif, mutual_info_classif

from aeviz.evaluation import EVAL_CHUNK, batched, encode_all, reconstruct_all
from aeviz.metrics import pca_baseline, per_sample_mse
from aeviz.models import AutoEncoder
from aeviz.models.base import decoder_weights


def decode_all(model: AutoEncoder, z: np.ndarray) -> np.ndarray:
    """(N, k) codes -> (N, *shape) images, in eval mode and chunks."""
    if len(z) == 0:
        return np.zeros((0, *model.input_shape), np.float32)
    return batched(model, z, model.decode)


def ablation(model: AutoEncoder, x: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
    """Increase of the mean per-value MSE when each dimension is replaced by its mean: (k,)."""
    z = encode_all(model, x) if z is None else z
    base = per_sample_mse(x, decode_all(model, z)).mean()
    out = np.zeros(z.shape[1])
    for j in range(z.shape[1]):
        ablated = z.copy()
        ablated[:, j] = z[:, j].mean()
        out[j] = per_sample_mse(x, decode_all(model, ablated)).mean() - base
    return out


def latent_table(model: AutoEncoder, x: np.ndarray, y: np.ndarray | None, seed: int = 0) -> dict[str, np.ndarray]:
    """Per-dimension columns: variance, ablation, and with labels ANOVA F and mutual information (nats)."""
    z = encode_all(model, x)
    table = {"dim": np.arange(z.shape[1]), "variance": z.var(0), "ablation_mse": ablation(model, x, z)}
    if y is not None and len(np.unique(y)) > 1:
        with warnings.catch_warnings():  # a dead (constant) unit has no F statistic: reported as 0 below
            warnings.simplefilter("ignore", category=RuntimeWarning)
            warnings.simplefilter("ignore", category=UserWarning)
            f, _ = f_classif(z, y)
        table["anova_f"] = np.nan_to_num(f, nan=0.0)
        if np.bincount(y).max() >= 2:  # its nearest-neighbour estimate needs two members in some class
            table["mutual_info"] = mutual_info_classif(z, y, random_state=seed)
    if model.has_prior:  # a prior's KL per dimension (the VAE's `kl_per_dim`): ~0 means the dimension is unused
        with torch.no_grad():
            dev = next(model.parameters()).device
            extra = model.extra_metrics(torch.from_numpy(x[:EVAL_CHUNK]).to(dev))
        if "kl_per_dim" in extra:
            table["kl"] = np.array(extra["kl_per_dim"])
    return table


def traversal(model: AutoEncoder, z: np.ndarray, dim: int, steps: int = 9, span: float = 3.0,
              base: np.ndarray | None = None) -> np.ndarray:
    """Decodes of `base` (default: the mean code) with dimension `dim` moved from -span to +span std: (steps, ...)."""
    centre = z.mean(0) if base is None else np.asarray(base, np.float64)
    std = z[:, dim].std() or 1.0
    codes = np.repeat(centre[None], steps, 0)
    codes[:, dim] = centre[dim] + np.linspace(-span, span, steps) * std
    return decode_all(model, codes)


def label_correlation(z: np.ndarray, y: np.ndarray, dim: int, n_classes: int) -> np.ndarray:
    """Mean value of dimension `dim` per class: (n_classes,)."""
    return np.array([z[y == c, dim].mean() if np.any(y == c) else np.nan for c in range(n_classes)])


def saliency(model: AutoEncoder, x: np.ndarray, dim: int | None = None) -> np.ndarray:
    """Mean |gradient| over `x` of z[dim] (or of the reconstruction error when dim is None): (*shape)."""
    if len(x) == 0:
        return np.zeros(model.input_shape)

    def chunk_sum(xb: torch.Tensor) -> torch.Tensor:  # (B, *shape) -> (1, *shape): sum over the chunk of |grad|
        xb.requires_grad_(True)
        if dim is None:
            target = (model.reconstruct(xb) - xb.detach()).square().sum()
        else:
            target = model.encode(xb)[:, dim].sum()
        (grad,) = torch.autograd.grad(target, xb)
        return grad.abs().sum(0, keepdim=True)

    return batched(model, x, chunk_sum, grad=True).astype(np.float64).sum(0) / len(x)


def first_layer_filters(model: AutoEncoder) -> np.ndarray | None:
    """The encoder's first linear layer as images (units, *input_shape), or None for conv/other encoders."""
    layer = next((m for m in model.modules() if isinstance(m, torch.nn.Linear)), None)
    if layer is None or layer.in_features != int(np.prod(model.input_shape)):
        return None
    w = layer.weight.detach().cpu().numpy().reshape(-1, *model.input_shape)
    lo, hi = w.min(axis=tuple(range(1, w.ndim)), keepdims=True), w.max(axis=tuple(range(1, w.ndim)), keepdims=True)
    return (w - lo) / np.maximum(hi - lo, 1e-12)  # each filter scaled to [0, 1] for display


def linear_vs_pca(model: AutoEncoder, train_x: np.ndarray, eval_x: np.ndarray) -> dict[str, np.ndarray | float]:
    """Principal angles (degrees) between the decoder's column space and PCA's top-k subspace, and both errors."""
    weights = [w.detach().cpu().numpy() for w in decoder_weights(model.decoder)]  # tied or not
    w = weights[0]
    for layer in weights[1:]:  # a stack of linear maps is one linear map
        w = layer @ w
    pca_mse, pca = pca_baseline(train_x, eval_x, w.shape[1], clip=model.bounded_output)
    angles = np.degrees(subspace_angles(w, pca.components_.T))
    return {"angles": np.sort(angles), "ae_mse": float(per_sample_mse(eval_x, reconstruct_all(model, eval_x)).mean()),
            "pca_mse": pca_mse}
