"""The autoencoder contract every variant follows, and the MLP building blocks they share.

A model is built from `(config, input_shape)`; `forward(x)` returns `Output(x_hat, z, losses)` where
`losses["loss"]` is the total the trainer minimises and `"recon"`, `"kl"`, `"sparsity"`, `"contractive"` are its
parts, each a per-sample sum averaged over the batch. `encode(x)` is deterministic (a VAE's mean). The trainer
knows nothing else about a variant: curricula (the stacked AE's layer-wise stages) go through `start_epoch`, and
`phase` names them for the history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from aeviz.config import param, validate
from aeviz.errors import InputError

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "elu": nn.ELU,
}

MAX_DEPTH = 16  # hidden layers per side: deeper MLPs do not train here anyway, and each may be 8192 wide


@dataclass(frozen=True)
class AEConfig:
    """Knobs shared by every variant."""

    latent_dim: int = param(32, "size of the code z: smaller forces more compression", min=1, max=1024)
    hidden: tuple[int, ...] = param((512, 128), "widths of the encoder's hidden layers (the decoder mirrors them)",
                                    min=1, max=8192,
                                    max_len=MAX_DEPTH)
    activation: str = param("relu", "non-linearity between layers", choices=tuple(ACTIVATIONS))
    loss: str = param("mse", "reconstruction loss: mse (squared error) or bce (binary cross-entropy)",
                      choices=("mse", "bce"))
    tied: bool = param(False, "tied weights: the decoder reuses the encoder's weights transposed (W' = W^T), half "
                       "the weights; a contractive penalty can then no longer be dodged by scaling")

    def __post_init__(self) -> None:
        validate(self)
        if self.tied and "tied" in getattr(self, "unused", ()):
            raise InputError(f"The 'tied' parameter of {type(self).__name__} must be false: this variant's decoder "
                             "does not mirror an MLP encoder. Tie the weights of ae, linear, sparse, denoising or "
                             "contractive instead.")


class Output(NamedTuple):
    x_hat: torch.Tensor  # (B, *shape), in [0, 1] unless a linear model with MSE
    z: torch.Tensor  # (B, latent_dim), the code used for this reconstruction
    losses: dict[str, torch.Tensor]  # "loss" is the total; the other keys are its parts


def recon_loss(kind: str, x_hat: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample sum over values, mean over the batch: (B, *shape) x 2 -> scalar."""
    if kind == "bce":
        per_value = F.binary_cross_entropy(x_hat.clamp(1e-6, 1 - 1e-6), target, reduction="none")
    else:
        per_value = (x_hat - target).square()
    return per_value.flatten(1).sum(1).mean()


def mlp(widths: list[int], activation: str, last_activation: nn.Module | None) -> nn.Sequential:
    """Linear layers through `widths`, the activation between them, `last_activation` (or none) at the end."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(ACTIVATIONS[activation]())
    if last_activation is not None:
        layers.append(last_activation)
    return nn.Sequential(*layers)


class TiedDecoder(nn.Module):
    """A decoder that reuses the encoder's Linear weights transposed (W' = W^T, top layer first) with biases of its
    own: one weight matrix per layer pair. The encoder's layers are referenced, not registered here, so the weights
    appear once in `parameters()` and in the saved file (safetensors refuses tensors stored twice)."""

    def __init__(self, encoder: nn.Sequential, activation: str | None, last_activation: nn.Module | None) -> None:
        super().__init__()
        self._linears = [m for m in encoder if isinstance(m, nn.Linear)][::-1]  # a list: not submodules
        self.biases = nn.ParameterList([nn.Parameter(torch.zeros(m.in_features)) for m in self._linears])
        self.act = ACTIVATIONS[activation]() if activation else None
        self.last = last_activation

    def weights(self) -> list[torch.Tensor]:
        """Its weight matrices (out, in), first layer first, as an untied decoder's Linear layers hold them."""
        return [m.weight.t() for m in self._linears]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = z  # (B, latent_dim) -> (B, n_in)
        for i, (weight, bias) in enumerate(zip(self.weights(), self.biases)):
            h = F.linear(h, weight, bias)
            if self.act is not None and i < len(self.biases) - 1:
                h = self.act(h)
        return self.last(h) if self.last is not None else h


def decoder_weights(decoder: nn.Module) -> list[torch.Tensor]:
    """The weight matrices of an MLP decoder, tied or not, first layer first."""
    if isinstance(decoder, TiedDecoder):
        return decoder.weights()
    return [m.weight for m in decoder.modules() if isinstance(m, nn.Linear)]


def tied_knob(values: dict[str, Any]) -> tuple[str, ...]:
    """("tied",) for a config with tied weights: run labels say so; untied runs' labels stay as they were."""
    return ("tied",) if values.get("tied") is True else ()


class AutoEncoder(nn.Module):
    """Base class: an MLP encoder/decoder on flattened inputs. Variants override what differs."""

    Config: ClassVar[type[AEConfig]] = AEConfig
    paper: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    bounded_output: ClassVar[bool] = True  # its outputs lie in [0, 1] (a sigmoid): PCA's rival output is clipped too
    has_prior: ClassVar[bool] = False  # it has a prior to sample codes from (`sample(n)`): the VAE
    knobs: ClassVar[tuple[str, ...]] = ()  # the config fields that tell two runs of this variant apart in a label

    @classmethod
    def label_knobs(cls, values: dict[str, Any]) -> tuple[str, ...]:
        """The `knobs` that matter for a config with these values (a variant may use some only in one mode)."""
        return cls.knobs + tied_knob(values)

    # The config fields that may change while it trains (the trainer reads them at every step), e.g. the VAE's beta.
    steerable: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def steerable_for(cls, values: dict[str, Any]) -> tuple[str, ...]:
        """The `steerable` fields that matter for a config with these values."""
        return cls.steerable

    def __init__(self, config: AEConfig, input_shape: tuple[int, ...]) -> None:
        super().__init__()
        assert isinstance(config, self.Config), f"{type(self).__name__} needs a {self.Config.__name__}"
        self.config = config
        self.input_shape = tuple(input_shape)
        self.n_in = math.prod(self.input_shape)
        self.build()

    def training_noise(self) -> tuple[str, float] | None:
        """The corruption its training inputs get, as (noise, level); None for a model trained on clean inputs."""
        return None

    # -- construction -------------------------------------------------------------------------------------
    def build(self) -> None:
        c = self.config
        self.encoder = mlp([self.n_in, *c.hidden, c.latent_dim], c.activation, None)
        self.decoder = self.mirror(c.activation, nn.Sigmoid())

    def mirror(self, activation: str, last_activation: nn.Module | None) -> nn.Module:
        """The decoder: an MLP through the encoder's widths reversed, or with `tied`, the encoder's weights
        transposed."""
        c = self.config
        if c.tied:
            return TiedDecoder(self.encoder, activation, last_activation)
        return mlp([c.latent_dim, *reversed(c.hidden), self.n_in], activation, last_activation)

    # -- the contract ---------------------------------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, *shape) -> (B, latent_dim), deterministic."""
        return self.encoder(x.flatten(1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, latent_dim) -> (B, *shape)."""
        return self.decoder(z).view(-1, *self.input_shape)

    def forward(self, x: torch.Tensor) -> Output:
        z = self.encode(x)
        x_hat = self.decode(z)
        recon = recon_loss(self.config.loss, x_hat, x)
        return Output(x_hat, z, {"loss": recon, "recon": recon})

    def start_epoch(self, epoch: int, total_epochs: int) -> str | None:
        """Called by the trainer before each epoch (0-based); returns a note for the user, or None."""
        return None

    def phase(self, epoch: int) -> str | None:
        """The named phase of a curriculum that epoch `epoch` (0-based) belongs to ("fine-tune"), or None for a
        variant without one. The trainer records it in each epoch's history; the loss chart marks its changes."""
        return None

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Deterministic reconstruction: decode(encode(x))."""
        return self.decode(self.encode(x))

    def extra_metrics(self, x: torch.Tensor) -> dict[str, float | list[float]]:
        """Variant-specific validation figures (the VAE's KL per dimension)."""
        return {}
