"""Denoising autoencoder: corrupt the input, reconstruct the clean original.

Trained on x~ = noise(x) against x, so it must learn the data's structure rather than copy pixels
(Vincent et al., "Extracting and composing robust features with denoising autoencoders", ICML 2008).
The corruption happens only in training mode; evaluation sees the inputs it is given.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from aeviz import noise
from aeviz.config import param
from aeviz.models.base import AEConfig, AutoEncoder, Output, recon_loss


@dataclass(frozen=True)
class DenoisingConfig(AEConfig):
    noise: str = param("gaussian", "corruption applied to training inputs", choices=tuple(noise.NOISES))
    noise_level: float = param(0.5, "strength of the corruption (see the noise's help)", min=0.0, max=2.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        noise.check(self.noise, self.noise_level)


class DenoisingAE(AutoEncoder):
    Config = DenoisingConfig
    paper = "Vincent et al., Extracting and composing robust features with denoising autoencoders, ICML 2008"
    summary = "reconstructs clean inputs from corrupted ones"
    knobs = ('noise', 'noise_level')
    steerable = ('noise_level',)

    def training_noise(self) -> tuple[str, float] | None:
        return self.config.noise, self.config.noise_level

    def forward(self, x: torch.Tensor) -> Output:
        x_in = noise.apply(self.config.noise, x, self.config.noise_level) if self.training else x
        z = self.encode(x_in)
        x_hat = self.decode(z)
        recon = recon_loss(self.config.loss, x_hat, x)  # the target is always the clean x
        return Output(x_hat, z, {"loss": recon, "recon": recon})
