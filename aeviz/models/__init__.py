"""The MODELS registry: one line per variant, and `build` / `config_class` to make them by name."""

from __future__ import annotations

from typing import Any

from aeviz import memory
from aeviz.config import build_config
from aeviz.errors import InputError
from aeviz.models.base import AEConfig, AutoEncoder, Output
from aeviz.models.contractive import ContractiveAE
from aeviz.models.conv import ConvAE
from aeviz.models.denoising import DenoisingAE
from aeviz.models.hashing import HashingAE
from aeviz.models.linear import LinearAE
from aeviz.models.psd import PSD
from aeviz.models.sparse import SparseAE
from aeviz.models.stacked import StackedAE
from aeviz.models.vae import VAE

MODELS: dict[str, type[AutoEncoder]] = {
    "ae": AutoEncoder,
    "linear": LinearAE,
    "sparse": SparseAE,
    "denoising": DenoisingAE,
    "contractive": ContractiveAE,
    "vae": VAE,
    "conv": ConvAE,
    "stacked": StackedAE,
    "psd": PSD,
    "hashing": HashingAE,
}

AutoEncoder.summary = "undercomplete MLP: squeeze the input through a small code and rebuild it"
AutoEncoder.paper = "Hinton & Salakhutdinov, Reducing the dimensionality of data with neural networks, Science 2006"


def model_class(name: str) -> type[AutoEncoder]:
    if name not in MODELS:
        raise InputError(f"Unknown model {name!r}. Choose one of {sorted(MODELS)}.")
    return MODELS[name]


def make_config(name: str, **params: Any) -> AEConfig:
    """The validated config of model `name` (unknown parameter names are refused)."""
    return build_config(model_class(name).Config, params)


def build(name: str, input_shape: tuple[int, ...], **params: Any) -> AutoEncoder:
    """A fresh model by registry name: build('vae', (1, 28, 28), beta=4.0). One whose weights and Adam state would
    not fit in the memory budget is refused before a weight is allocated (`aeviz.memory`)."""
    cls, config = model_class(name), make_config(name, **params)
    memory.check_model(cls, config, tuple(input_shape))
    return cls(config, input_shape)


__all__ = ["MODELS", "AEConfig", "AutoEncoder", "Output", "build", "make_config", "model_class"]
