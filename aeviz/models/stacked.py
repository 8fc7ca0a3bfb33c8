"""Stacked autoencoder: greedy layer-wise pre-training, then fine-tuning of the whole stack.

Stage k (for `pretrain_epochs` epochs each) trains encoder layer k and its mirror decoder layer to reconstruct the
(frozen) output of the layers below; after the last stage every layer is fine-tuned end to end (Bengio et al.,
"Greedy layer-wise training of deep networks", NIPS 2006; Hinton & Salakhutdinov, Science 2006).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from aeviz.config import param
from aeviz.models.base import MAX_DEPTH, ACTIVATIONS, AEConfig, AutoEncoder, Output, recon_loss


@dataclass(frozen=True)
class StackedConfig(AEConfig):
    unused: ClassVar[tuple[str, ...]] = ("tied",)  # its decoder does not mirror an MLP encoder
    hidden: tuple[int, ...] = param((512, 256, 128), "widths of the stacked hidden layers", min=1, max=8192,
                                    max_len=MAX_DEPTH)
    pretrain_epochs: int = param(1, "epochs of greedy pre-training per layer before fine-tuning", min=0, max=1000)


class StackedAE(AutoEncoder):
    Config = StackedConfig
    paper = "Bengio et al., Greedy layer-wise training of deep networks, NIPS 2006"
    summary = "trains one layer at a time, then the whole stack"
    knobs = ('pretrain_epochs',)

    def build(self) -> None:
        c = self.config
        widths = [self.n_in, *c.hidden, c.latent_dim]
        n = len(widths) - 1
        act = ACTIVATIONS[c.activation]
        # Encoder layer k: widths[k] -> widths[k+1]; the code layer is linear.
        self.enc_layers = nn.ModuleList(
            nn.Sequential(nn.Linear(widths[k], widths[k + 1]), *([act()] if k < n - 1 else [])) for k in range(n))
        # Decoder layer k mirrors it: widths[k+1] -> widths[k], ending in what layer k's input looked like.
        self.dec_layers = nn.ModuleList(
            nn.Sequential(nn.Linear(widths[k + 1], widths[k]), nn.Sigmoid() if k == 0 else act()) for k in range(n))
        self.stage = n  # n = fine-tuning; k < n = pre-training layer k

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        h = x.flatten(1)
        for layer in self.enc_layers:
            h = layer(h)
        return h

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h = z
        for layer in reversed(self.dec_layers):
            h = layer(h)
        return h.view(-1, *self.input_shape)

    def _stage(self, epoch: int) -> int:
        """Layer k < n pre-trains in epochs [k * p, (k + 1) * p); n = fine-tuning."""
        n, p = len(self.enc_layers), self.config.pretrain_epochs
        return min(epoch // p, n) if p > 0 else n

    def start_epoch(self, epoch: int, total_epochs: int) -> str | None:
        self.stage = self._stage(epoch)
        n = len(self.enc_layers)
        if self.stage < n:
            return f"pre-training layer {self.stage + 1} of {n}"
        return "fine-tuning the whole stack"

    def phase(self, epoch: int) -> str | None:
        stage = self._stage(epoch)
        return f"pre-train layer {stage + 1}" if stage < len(self.enc_layers) else "fine-tune"

    def forward(self, x: torch.Tensor) -> Output:
        if not self.training or self.stage >= len(self.enc_layers):
            z = self.encode(x)
            x_hat = self.decode(z)
            recon = recon_loss(self.config.loss, x_hat, x)
            return Output(x_hat, z, {"loss": recon, "recon": recon})
        k = self.stage
        with torch.no_grad():  # the layers below are frozen in stage k
            h = x.flatten(1)
            for layer in self.enc_layers[:k]:
                h = layer(h)
        h_next = self.enc_layers[k](h)
        h_rec = self.dec_layers[k](h_next)
        # Layer 0 reconstructs pixels (its own loss); deeper layers reconstruct activations (squared error).
        recon = recon_loss(self.config.loss if k == 0 else "mse", h_rec, h)
        with torch.no_grad():
            z = h_next
            for layer in self.enc_layers[k + 1:]:
                z = layer(z)
            x_hat = self.decode(z)
        return Output(x_hat, z, {"loss": recon, "recon": recon})
