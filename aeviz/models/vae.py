"""Variational autoencoder (beta-VAE): a code that is a distribution, pulled towards N(0, I).

The encoder gives q(z|x) = N(mu, diag(sigma^2)); training samples z = mu + sigma * eps (the reparameterisation
trick) and minimises the negative ELBO: recon + beta * KL(q(z|x) || N(0, I)) (Kingma & Welling, "Auto-encoding
variational Bayes", 2014; beta from Higgins et al., "beta-VAE", ICLR 2017). `encode` returns mu.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from aeviz.config import param
from aeviz.models.base import AEConfig, AutoEncoder, Output, mlp, recon_loss


@dataclass(frozen=True)
class VAEConfig(AEConfig):
    unused: ClassVar[tuple[str, ...]] = ("tied",)  # its decoder does not mirror an MLP encoder
    latent_dim: int = param(16, "size of the code z", min=1, max=1024)
    beta: float = param(1.0, "weight of the KL term: > 1 gives smoother, more disentangled codes, blurrier images",
                        min=0.0, max=1000.0)
    loss: str = param("bce", "reconstruction loss (bce is the Bernoulli likelihood of the ELBO)", choices=("mse", "bce"))


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, 1)) per sample and dimension: (B, k) x 2 -> (B, k)."""
    return 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar)


class VAE(AutoEncoder):
    Config = VAEConfig
    paper = "Kingma & Welling, Auto-encoding variational Bayes, ICLR 2014; Higgins et al., beta-VAE, ICLR 2017"
    summary = "encodes a distribution; samples from the prior decode to new images"
    knobs = ('beta',)
    steerable = ('beta',)
    has_prior = True

    def build(self) -> None:
        c = self.config
        self.encoder = mlp([self.n_in, *c.hidden, 2 * c.latent_dim], c.activation, None)  # -> [mu, logvar]
        self.decoder = mlp([c.latent_dim, *reversed(c.hidden), self.n_in], c.activation, nn.Sigmoid())

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, *shape) -> mu, logvar, each (B, k); logvar clamped so exp() stays finite."""
        mu, logvar = self.encoder(x.flatten(1)).chunk(2, dim=1)
        return mu, logvar.clamp(-20.0, 10.0)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.posterior(x)[0]

    def forward(self, x: torch.Tensor) -> Output:
        mu, logvar = self.posterior(x)
        z = mu + (0.5 * logvar).exp() * torch.randn_like(mu) if self.training else mu
        x_hat = self.decode(z)
        recon = recon_loss(self.config.loss, x_hat, x)
        kl = kl_per_dim(mu, logvar).sum(1).mean()
        return Output(x_hat, z, {"loss": recon + self.config.beta * kl, "recon": recon, "kl": kl})

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n draws from the prior, decoded: -> (n, *shape)."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.config.latent_dim, generator=generator, device=device)
        return self.decode(z)

    def extra_metrics(self, x: torch.Tensor) -> dict[str, float | list[float]]:
        with torch.no_grad():
            mu, logvar = self.posterior(x)
            per_dim = kl_per_dim(mu, logvar).mean(0)  # (k,)
        return {"kl_per_dim": [round(float(v), 5) for v in per_dim],
                "active_dims": int((per_dim > 0.01).sum())}
