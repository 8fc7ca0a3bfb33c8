"""Predictive sparse decomposition: sparse coding with an encoder that learns to predict the codes.

Kavukcuoglu, Ranzato & LeCun, "Fast inference in sparse coding algorithms with applications to object
recognition", 2008. The loss is ||x - g(h)||^2 + lambda |h|_1 + gamma ||h - f(x)||^2. For each batch the code h is
inferred by a few steps of ISTA (or FISTA) from the encoder's guess f(x), with the weights held still; then the weights
take one gradient step with h held still: the dictionary g learns to rebuild x from sparse codes, the encoder f
(G tanh(Wx + b), as in the paper) learns to predict them. `encode` is f alone, the fast path PSD exists for: the
views show what the trained predictor gives; `forward` reports the losses of the inferred codes. The dictionary's
columns are kept at unit length, or the L1 term could be dodged by shrinking h and growing the dictionary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from aeviz.config import param
from aeviz.models.base import MAX_DEPTH, AEConfig, AutoEncoder, Output, mlp, recon_loss


@dataclass(frozen=True)
class PSDConfig(AEConfig):
    unused: ClassVar[tuple[str, ...]] = ("tied",)  # the dictionary is its own matrix, with unit-length columns
    latent_dim: int = param(64, "number of dictionary atoms (the code's size)", min=1, max=1024)
    hidden: tuple[int, ...] = param((), "widths of the encoder's hidden layers (none: the paper's G tanh(Wx + b))",
                                    min=1, max=8192, max_len=MAX_DEPTH)
    loss: str = param("mse", "reconstruction loss: mse (a linear dictionary, the paper's) or bce (a sigmoid after "
                      "it)", choices=("mse", "bce"))
    sparsity_weight: float = param(0.5, "lambda: strength of the L1 penalty on the inferred code", min=0.0,
                                   max=1000.0)
    prediction_weight: float = param(1.0, "gamma: how strongly the code is pulled towards the encoder's guess",
                                     min=0.0, max=1000.0)
    steps: int = param(10, "ISTA/FISTA steps that infer each batch's code", min=1, max=100)
    inference: str = param("fista", "ista (each step lowers the loss) or fista (momentum: fewer steps)",
                           choices=("ista", "fista"))


class PSD(AutoEncoder):
    Config = PSDConfig
    paper = ("Kavukcuoglu, Ranzato & LeCun, Fast inference in sparse coding algorithms with applications to object "
             "recognition, 2008")
    summary = "sparse coding by ISTA, with an encoder that learns to predict the codes"
    knobs = ("sparsity_weight", "prediction_weight", "steps")
    steerable = ("sparsity_weight", "prediction_weight")

    @property
    def bounded_output(self) -> bool:  # type: ignore[override]
        return self.config.loss == "bce"

    def build(self) -> None:
        c = self.config
        self.encoder = mlp([self.n_in, *c.hidden, c.latent_dim], c.activation, nn.Tanh())
        self.gain = nn.Parameter(torch.ones(c.latent_dim))  # G: the code's scale per unit
        self.atoms = nn.Parameter(torch.randn(self.n_in, c.latent_dim) / self.n_in ** 0.5)  # (D, k), any scale
        self.bias = nn.Parameter(torch.zeros(self.n_in))

    def dictionary(self) -> torch.Tensor:
        """(D, k) with unit-length columns."""
        return self.atoms / self.atoms.norm(dim=0, keepdim=True).clamp_min(1e-8)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.gain * self.encoder(x.flatten(1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        out = F.linear(z, self.dictionary(), self.bias)  # (B, k) -> (B, D)
        return (torch.sigmoid(out) if self.config.loss == "bce" else out).view(-1, *self.input_shape)

    def infer(self, x: torch.Tensor, start: torch.Tensor) -> torch.Tensor:
        """The code h minimising recon + lambda |h|_1 + gamma ||h - start||^2, by `steps` proximal gradient steps
        from `start` (B, k), weights held still: -> (B, k), no gradient to the weights."""
        c = self.config
        with torch.no_grad():
            sigma = torch.linalg.matrix_norm(self.dictionary(), ord=2)  # largest singular value
        # Lipschitz constant of the smooth part's gradient: mse 2 s^2, bce s^2 / 4 (a sigmoid's slope <= 1/4).
        step = 1.0 / float((2.0 if c.loss == "mse" else 0.25) * sigma ** 2 + 2 * c.prediction_weight)
        start = start.detach()
        h, y, t = start, start, 1.0
        for _ in range(c.steps):
            with torch.enable_grad():
                y = y.detach().requires_grad_(True)
                smooth = recon_loss(c.loss, self.decode(y), x) * len(x) + c.prediction_weight * (y - start).square().sum()
                grad = torch.autograd.grad(smooth, y)[0]  # per-sample sums: each row's own gradient
            new = _shrink(y.detach() - step * grad, step * c.sparsity_weight)
            t_next = (1 + (1 + 4 * t * t) ** 0.5) / 2 if c.inference == "fista" else 1.0
            y = new + ((t - 1) / t_next) * (new - h) if c.inference == "fista" else new
            h, t = new, t_next
        return h.detach()

    def forward(self, x: torch.Tensor) -> Output:
        c = self.config
        guess = self.encode(x)  # (B, k)
        h = self.infer(x, guess)
        x_hat = self.decode(h)
        recon = recon_loss(c.loss, x_hat, x)
        sparsity = c.sparsity_weight * h.abs().sum(1).mean()  # fixed by the inference: a part, not a gradient
        prediction = c.prediction_weight * (h - guess).square().sum(1).mean()
        return Output(x_hat, h, {"loss": recon + sparsity + prediction, "recon": recon, "sparsity": sparsity,
                                 "prediction": prediction})

    @torch.no_grad()
    def extra_metrics(self, x: torch.Tensor) -> dict[str, float | list[float]]:
        """What the fast path gives against the inferred codes: the encoder's reconstruction error, its prediction
        error relative to the codes' size (||h - f(x)||^2 / ||h||^2: the codes grow as the dictionary learns, so
        the absolute error is a moving target), and how many code units are active (above a tenth of each input's
        strongest) in the inferred and the predicted code."""
        guess = self.encode(x)
        h = self.infer(x, guess)
        fast = recon_loss(self.config.loss, self.decode(guess), x)
        relative = float((h - guess).square().sum() / h.square().sum().clamp_min(1e-12))

        def active(z: torch.Tensor) -> float:
            z = z.abs()
            return float((z > 0.1 * z.amax(1, keepdim=True).clamp_min(1e-12)).float().mean())

        return {"encoder_recon": float(fast), "relative_prediction_error": relative, "active_fraction": active(h), "encoder_active_fraction": active(guess)}


def _shrink(v: torch.Tensor, threshold: float) -> torch.Tensor:
    """The proximal map of threshold * |.|_1: soft thresholding."""
    return v.sign() * (v.abs() - threshold).clamp_min(0.0)
