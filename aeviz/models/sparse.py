"""Sparse autoencoder: a penalty that keeps most code units quiet.

`l1` adds weight * sum|z| (ReLU code, so units can be exactly zero); `kl` adds weight * sum_j KL(rho || rho_hat_j)
where rho_hat_j is unit j's mean sigmoid activation over the batch (Ng, "Sparse autoencoder", CS294A notes, 2011).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from aeviz.config import param
from aeviz.models.base import AEConfig, AutoEncoder, Output, mlp, recon_loss


@dataclass(frozen=True)
class SparseConfig(AEConfig):
    latent_dim: int = param(64, "size of the code z (sparse codes can be wider than the data needs)", min=1, max=1024)
    penalty: str = param("l1", "l1: |z| on each code; kl: KL(rho || mean activation) per unit", choices=("l1", "kl"))
    weight: float = param(0.1, "strength of the sparsity penalty", min=0.0, max=1000.0)
    rho: float = param(0.05, "kl only: the target mean activation of each code unit", min=1e-4, max=0.9999)


def kl_sparsity(rho: float, rho_hat: torch.Tensor) -> torch.Tensor:
    """sum_j KL(Bernoulli(rho) || Bernoulli(rho_hat_j)); rho_hat: (latent_dim,)."""
    rho_hat = rho_hat.clamp(1e-6, 1 - 1e-6)
    return (rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).sum()


class SparseAE(AutoEncoder):
    Config = SparseConfig
    paper = "Ng, Sparse autoencoder (CS294A lecture notes), 2011"
    summary = "penalises active code units so each input uses only a few"
    knobs = ('penalty', 'weight')

    def build(self) -> None:
        c = self.config
        code_act = nn.ReLU() if c.penalty == "l1" else nn.Sigmoid()
        self.encoder = mlp([self.n_in, *c.hidden, c.latent_dim], c.activation, code_act)
        self.decoder = mlp([c.latent_dim, *reversed(c.hidden), self.n_in], c.activation, nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> Output:
        c = self.config
        z = self.encode(x)  # (B, latent_dim), >= 0
        x_hat = self.decode(z)
        recon = recon_loss(c.loss, x_hat, x)
        if c.penalty == "l1":
            sparsity = c.weight * z.abs().sum(1).mean()
        else:
            sparsity = c.weight * kl_sparsity(c.rho, z.mean(0))
        return Output(x_hat, z, {"loss": recon + sparsity, "recon": recon, "sparsity": sparsity})
