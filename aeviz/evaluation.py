"""Evaluate a trained run: reconstruction error beside PCA's, K-Means on its codes beside raw pixels, denoising.

`evaluate(run, train_x, eval_x, eval_y)` returns the JSON-ready dict `aeviz evaluate` prints; its K-Means scores
come from `analysis.clustering`, the scorer of the app's Clusters page. This module is also the one home of batched
eval-mode inference: `batched` (with `EVAL_CHUNK`, `eval_mode`) and the `encode_all` / `reconstruct_all` helpers the
app uses too; they never change the weights.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

import numpy as np
import torch

from aeviz import metrics, noise
from aeviz.models import AutoEncoder

# The one chunk size of every eval-mode pass (inference here, validation in training.py, saliency): bounded memory
# on any dataset. Changing it changes nothing but memory and speed.
EVAL_CHUNK = 2048


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


@contextmanager
def eval_mode(model: torch.nn.Module, grad: bool = False) -> Iterator[None]:
    """The model in eval mode (and autograd off unless `grad`) for the block, then back in the mode it was in."""
    was_training = model.training
    model.eval()
    try:
        with torch.set_grad_enabled(grad):
            yield
    finally:
        model.train(was_training)


def batched(model: torch.nn.Module, x: np.ndarray, fn: Callable[[torch.Tensor], torch.Tensor],
            chunk: int = EVAL_CHUNK, grad: bool = False) -> np.ndarray:
    """`fn` over `x` (N, ...) in chunks of `chunk` rows, in eval mode on the model's device; the results
    concatenated along the first axis (numpy). `grad`: keep autograd on (for gradients of the inputs)."""
    dev = _device(model)
    with eval_mode(model, grad):
        outs = [fn(torch.from_numpy(np.ascontiguousarray(x[i:i + chunk], np.float32)).to(dev)).detach().cpu().numpy()
                for i in range(0, len(x), chunk)]
    return np.concatenate(outs) if outs else np.zeros((0,), np.float32)


def encode_all(model: AutoEncoder, x: np.ndarray) -> np.ndarray:
    """Deterministic codes (N, *shape) -> (N, latent_dim)."""
    return batched(model, x, model.encode)


def reconstruct_all(model: AutoEncoder, x: np.ndarray) -> np.ndarray:
    """decode(encode(x)): (N, *shape) -> (N, *shape)."""
    return batched(model, x, model.reconstruct)


def corrupt(x: np.ndarray, kind: str, level: float, seed: int = 0) -> np.ndarray:
    """A noisy copy of `x` (numpy in, numpy out), reproducible by seed."""
    g = torch.Generator().manual_seed(seed)
    return noise.apply(kind, torch.from_numpy(np.ascontiguousarray(x, np.float32)), level, g).numpy()


def evaluate(model: AutoEncoder, train_x: np.ndarray, eval_x: np.ndarray, eval_y: np.ndarray | None = None,
             noise_spec: tuple[str, float] | None = None, seed: int = 0, with_kmeans: bool = True) -> dict[str, Any]:
    """Scores of `model` on `eval_x` (clean targets), with the PCA baseline fitted on `train_x`."""
    inputs = eval_x if noise_spec is None else corrupt(eval_x, *noise_spec, seed=seed)
    rec = reconstruct_all(model, inputs)
    k = model.config.latent_dim
    pca_mse, pca = metrics.pca_baseline(train_x, eval_x, k, seed, clip=model.bounded_output)
    if noise_spec is not None:  # PCA sees the same noisy inputs the model saw
        flat = inputs.reshape(len(inputs), -1)
        pca_mse = metrics.mse(eval_x.reshape(len(eval_x), -1),
                              np.clip(pca.inverse_transform(pca.transform(flat)), 0, 1))
    out: dict[str, Any] = {"n": int(len(eval_x)), "mse": metrics.mse(eval_x, rec)}
    out["psnr"] = metrics.psnr_from_mse(out["mse"])
    if eval_x.ndim == 4:
        out["ssim"] = metrics.ssim(eval_x, rec)
    out["pca_mse"] = pca_mse
    out["pca_psnr"] = metrics.psnr_from_mse(pca_mse)
    out["pca_components"] = int(pca.n_components_)
    if noise_spec is not None:
        out["noise"] = f"{noise_spec[0]}:{noise_spec[1]:g}"
        out["mse_noisy"] = metrics.mse(eval_x, inputs)
        out["psnr_noisy"] = metrics.psnr_from_mse(out["mse_noisy"])
    if with_kmeans and eval_y is not None and len(np.unique(eval_y)) > 1:
        codes = encode_all(model, inputs)
        # As many clusters as classes, scored as the Clusters page does: with the scorer's own fixed seed, not the
        # run's training seed, so the CLI and the page agree and the pixel baseline does not depend on the run.
        n_classes = int(len(np.unique(eval_y)))
        # scikit-learn loads only here, when clusters are scored (a training process never needs it)
        from aeviz.analysis import clustering

        on_codes = clustering.run(codes, eval_y, n_classes, silhouette=False).scores
        on_pixels = clustering.run(inputs.reshape(len(inputs), -1), eval_y, n_classes, silhouette=False).scores
        out.update({"kmeans_k": n_classes, "kmeans_acc": on_codes["acc"],
                    "kmeans_nmi": on_codes["nmi"], "kmeans_acc_pixels": on_pixels["acc"],
                    "kmeans_nmi_pixels": on_pixels["nmi"]})
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in out.items()}
