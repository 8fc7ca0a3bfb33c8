"""Settings that fit the data: `suggested(model_name, data)` gives the model and training knobs a form starts from.

The classes' own defaults fit the bundled MNIST sample. The toy manifolds (vectors of 2 or 3 values) are a curve or a
sheet one dimension thinner than the space they are drawn in, so their code is that thin: one number for moons,
circles and spiral, two for swiss-roll and s-curve. Their 2,000 points make epochs of 25 steps, so they get a wide
three-layer MLP, a higher learning rate and 150 passes (about 20 s on 2 cores). Measured (tests/test_hints.py, 2026-11):
the ae's 1-D code of moons puts the two moons on either side of one cut (accuracy 1.0; a straight line through the raw
points: 0.89); its 2-D code of the swiss roll keeps neighbours on the unrolled sheet together (trustworthiness 0.99
with seeds 0, 1 and 3, 0.89 with seed 2; a flat PCA view: 0.77). Two hidden layers, 20 epochs or lr 2e-3 leave the roll
folded (0.72 to 0.93). Other vectors no wider than the default code get a code of half their width: a code as wide as
the data can copy it.

Images (measured by benchmarks/bench_time_to_quality.py on 2 shared cores, one torch thread, 2026-11): the default
variant is the convolutional AE, with batches of 64. On the bundled MNIST it passes PCA (as many components as the
code has numbers) within about 6 s of training and reaches 0.34x PCA's held-out error within 60 s (medians of three
seeds); the MLP `ae`, the default before, also passes PCA within ~6 s but stays at 0.61x. A code is at most an eighth of the image's values (32 for
MNIST's 784, 8 for scikit-learn's 8x8 digits): wider codes of small images leave PCA nothing to lose (on the digits a
32-number code of 64 pixels keeps 99% of their variance)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from aeviz.config import fields_of
from aeviz.models import model_class

TOY_WIDTHS = (2, 3)  # values per sample of the toy manifolds (data.DATASETS' "toy" kind)
TOY_MODEL = {"hidden": (256, 256, 256)}
TOY_TRAIN = {"epochs": 150, "batch_size": 64, "lr": 5e-3}


@dataclass(frozen=True)
class Suggested:
    """Overrides of the config classes' defaults: `model` for the variant's Config, `train` for TrainConfig."""

    model: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)


IMAGE_MODEL = "conv"
IMAGE_TRAIN = {"batch_size": 64}  # one seed: 0.51x PCA at 10 s and 0.34x at 60 s; 128: 0.68x and 0.36x; 32: worse
CODE_SHARE = 8  # an image's code has at most 1/CODE_SHARE of its values


def suggested(model_name: str, data) -> Suggested:
    """Knobs that fit `data` (an aeviz Dataset, or anything with a `shape`) for variant `model_name`; empty dicts
    where the class defaults already fit. Only fields the variant has are suggested."""
    cls = model_class(model_name)
    names = {f.name for f in fields_of(cls.Config)}
    shape = tuple(data.shape)
    default_code = cls.Config().latent_dim
    if len(shape) == 3:  # images (C, H, W)
        model = {"latent_dim": max(2, math.prod(shape) // CODE_SHARE)} \
            if math.prod(shape) // CODE_SHARE < default_code else {}
        train = dict(IMAGE_TRAIN) if model_name == IMAGE_MODEL else {}
        return Suggested({k: v for k, v in model.items() if k in names}, train)
    if len(shape) != 1:
        return Suggested()
    width = shape[0]
    if width in TOY_WIDTHS:
        model = {"latent_dim": width - 1, **TOY_MODEL}
        return Suggested({k: v for k, v in model.items() if k in names}, dict(TOY_TRAIN))
    if width <= default_code:
        return Suggested({"latent_dim": max(1, width // 2)})
    return Suggested()


def default_model(data) -> str:
    """The variant a form (and `aeviz train`) starts from for `data`: the convolutional AE for images, the MLP
    `ae` for vectors."""
    return IMAGE_MODEL if len(tuple(data.shape)) == 3 else "ae"


def overcomplete_note(latent: int, values: int) -> str:
    """What the app and the CLI say when a code of `latent` numbers is at least as wide as inputs of `values`."""
    return (f"The code has {latent} numbers for inputs of {values} values, so it is not smaller than the input "
            f"(not *undercomplete*): PCA with {values} components rebuilds the inputs exactly, and the network can "
            f"learn to copy instead of finding structure. Set the latent size below {values} to see what it keeps.")
