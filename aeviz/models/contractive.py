"""Contractive autoencoder: penalise how much the code moves when the input moves.

Adds weight * ||J_f(x)||_F^2, the squared Frobenius norm of the encoder's Jacobian dz/dx, computed exactly (not
estimated) by chaining the layers' derivatives: J = D_L W_L ... D_1 W_1 with D_l the activation's derivative
(Rifai et al., "Contractive auto-encoders: explicit invariance during feature extraction", ICML 2011).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from aeviz.config import param
from aeviz.models.base import MAX_DEPTH, AEConfig, AutoEncoder, Output, recon_loss


@dataclass(frozen=True)
class ContractiveConfig(AEConfig):
    hidden: tuple[int, ...] = param((256,), "widths of the encoder's hidden layers (the Jacobian costs ~width x "
                                    "latent per sample)", min=1, max=8192, max_len=MAX_DEPTH)
    weight: float = param(0.01, "strength of the contractive penalty ||dz/dx||^2", min=0.0, max=1000.0)


def _derivative(act: nn.Module, pre: torch.Tensor, post: torch.Tensor) -> torch.Tensor:
    """Elementwise d act(pre) / d pre, from the pre- and post-activation values: (B, n) -> (B, n)."""
    if isinstance(act, nn.ReLU):
        return (pre > 0).to(pre.dtype)
    if isinstance(act, nn.Sigmoid):
        return post * (1 - post)
    if isinstance(act, nn.Tanh):
        return 1 - post.square()
    if isinstance(act, nn.ELU):
        return torch.where(pre > 0, torch.ones_like(pre), post + act.alpha)
    raise AssertionError(f"no derivative for {type(act).__name__}")


def encode_with_jacobian_norm(encoder: nn.Sequential, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Run an MLP encoder and return (z, ||dz/dx||_F^2 per sample): (B, D) -> (B, k), (B,)."""
    factors: list[list] = []  # [W (out, in), D (B, out) or None] per Linear, bottom to top
    h = x
    for layer in encoder:
        if isinstance(layer, nn.Linear):
            h = layer(h)
            factors.append([layer.weight, None])
        else:
            pre, h = h, layer(h)
            factors[-1][1] = _derivative(layer, pre, h)
    m = None  # (B, k, n): d z / d (the input of the layer reached so far)
    for weight, deriv in reversed(factors):
        if m is None:
            m = weight.expand(x.shape[0], *weight.shape)  # (B, k, n)
            if deriv is not None:
                m = deriv[:, :, None] * m
        else:
            if deriv is not None:
                m = m * deriv[:, None, :]
            m = m @ weight  # (B, k, out) @ (out, in) -> (B, k, in)
    return h, m.square().flatten(1).sum(1)


class ContractiveAE(AutoEncoder):
    Config = ContractiveConfig
    paper = "Rifai et al., Contractive auto-encoders: explicit invariance during feature extraction, ICML 2011"
    summary = "penalises the encoder's sensitivity to small input changes"
    knobs = ('weight',)
    steerable = ('weight',)

    def forward(self, x: torch.Tensor) -> Output:
        z, jac_sq = encode_with_jacobian_norm(self.encoder, x.flatten(1))
        x_hat = self.decode(z)
        recon = recon_loss(self.config.loss, x_hat, x)
        contractive = self.config.weight * jac_sq.mean()
        return Output(x_hat, z, {"loss": recon + contractive, "recon": recon, "contractive": contractive})
