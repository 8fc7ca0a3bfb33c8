"""Convolutional autoencoder for images of any size and channel count.

Stride-2 3x3 convolutions halve the image per stage, a linear layer maps to the code; the decoder mirrors it with
transposed convolutions whose output padding is computed from the recorded sizes, so odd sizes (e.g. 28 -> 14 -> 7
-> 4) come back exactly (Masci et al., "Stacked convolutional auto-encoders", ICANN 2011).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from aeviz.config import param
from aeviz.errors import InputError
from aeviz.models.base import ACTIVATIONS, MAX_DEPTH, AEConfig, AutoEncoder, mlp

MAX_STAGES = 8  # stride-2 stages: 8 halve a 256-pixel side to 1


@dataclass(frozen=True)
class ConvConfig(AEConfig):
    unused: ClassVar[tuple[str, ...]] = ("tied",)  # its decoder does not mirror an MLP encoder
    channels: tuple[int, ...] = param((32, 64), "channels of each stride-2 convolution stage", min=1, max=1024,
                                      max_len=MAX_STAGES)
    hidden: tuple[int, ...] = param((), "widths of dense layers between the convolutions and the code", min=1,
                                    max=8192, max_len=MAX_DEPTH)


class ConvAE(AutoEncoder):
    Config = ConvConfig
    paper = "Masci et al., Stacked convolutional auto-encoders for hierarchical feature extraction, ICANN 2011"
    summary = "convolutions share weights across the image: fewer parameters, sharper digits"
    knobs = ('channels',)

    def build(self) -> None:
        c = self.config
        if len(self.input_shape) != 3:
            raise InputError(f"The conv model needs images (C, H, W); this data has shape {self.input_shape}. "
                             "Pick an MLP model such as 'ae'.")
        act = ACTIVATIONS[c.activation]
        in_ch, h, w = self.input_shape
        sizes = [(h, w)]
        enc: list[nn.Module] = []
        for a, b in zip([in_ch, *c.channels[:-1]], c.channels):
            enc += [nn.Conv2d(a, b, 3, stride=2, padding=1), act()]
            h, w = (h + 1) // 2, (w + 1) // 2  # conv k3 s2 p1: ceil(n / 2)
            sizes.append((h, w))
        self.flat_shape = (c.channels[-1], h, w)
        flat = math.prod(self.flat_shape)
        self.conv_encoder = nn.Sequential(*enc)
        self.dense_encoder = mlp([flat, *c.hidden, c.latent_dim], c.activation, None)
        self.dense_decoder = mlp([c.latent_dim, *reversed(c.hidden), flat], c.activation, act())
        dec: list[nn.Module] = []
        outs = [*reversed(c.channels[:-1]), in_ch]
        for i, (a, b) in enumerate(zip(reversed(c.channels), outs)):
            (hi, wi), (ho, wo) = sizes[-1 - i], sizes[-2 - i]
            pad = (ho - (2 * hi - 1), wo - (2 * wi - 1))  # transposed k3 s2 p1 gives 2n - 1 (+ output_padding)
            dec += [nn.ConvTranspose2d(a, b, 3, stride=2, padding=1, output_padding=pad)]
            dec += [act()] if i < len(c.channels) - 1 else [nn.Sigmoid()]
        self.conv_decoder = nn.Sequential(*dec)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.dense_encoder(self.conv_encoder(x).flatten(1))  # (B, C, H, W) -> (B, k)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h = self.dense_decoder(z).view(-1, *self.flat_shape)
        return self.conv_decoder(h)  # -> (B, C, H, W)
