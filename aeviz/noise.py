"""Input corruptions: the NOISES registry.

Every noise is a pure function `(x, level, generator) -> new tensor` clipped to [0, 1]. `x` is a batch
(B, *shape) with values in [0, 1]; `level` 0 returns an unchanged copy; the input is never modified, so a
cached dataset can be corrupted freely. Randomness comes only from `generator`, so a seed reproduces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from aeviz.errors import InputError


@dataclass(frozen=True)
class NoiseSpec:
    fn: Callable[[torch.Tensor, float, torch.Generator | None], torch.Tensor]
    help: str
    max_level: float  # the widest level that still makes sense (for sliders and validation)
    default: float


def _rand(x: torch.Tensor, g: torch.Generator | None) -> torch.Tensor:
    return torch.rand(x.shape, generator=g, device=x.device, dtype=x.dtype)


def gaussian(x: torch.Tensor, level: float, g: torch.Generator | None = None) -> torch.Tensor:
    """Additive N(0, level^2) per value."""
    noise = torch.randn(x.shape, generator=g, device=x.device, dtype=x.dtype)
    return (x + level * noise).clamp_(0.0, 1.0)


def masking(x: torch.Tensor, level: float, g: torch.Generator | None = None) -> torch.Tensor:
    """Each value set to 0 with probability `level` (the denoising AE paper's masking noise)."""
    return x * (_rand(x, g) >= level).to(x.dtype)


def salt_and_pepper(x: torch.Tensor, level: float, g: torch.Generator | None = None) -> torch.Tensor:
    """A fraction `level` of the values set to 0 or 1, half each."""
    u = _rand(x, g)
    out = x.clone()
    out[u < level / 2] = 0.0
    out[(u >= level / 2) & (u < level)] = 1.0
    return out


def speckle(x: torch.Tensor, level: float, g: torch.Generator | None = None) -> torch.Tensor:
    """Multiplicative noise x * (1 + level * N(0, 1)): bright pixels get noisier."""
    noise = torch.randn(x.shape, generator=g, device=x.device, dtype=x.dtype)
    return (x * (1.0 + level * noise)).clamp_(0.0, 1.0)


def block(x: torch.Tensor, level: float, g: torch.Generator | None = None) -> torch.Tensor:
    """One zeroed box per sample whose side is `level` times the image side (a span of features for vectors)."""
    if level <= 0:
        return x.clone()
    b = x.shape[0]
    spatial = x.shape[-2:] if x.dim() == 4 else x.shape[-1:]  # (B, C, H, W) -> (H, W); (B, D) -> (D,)
    sizes = [max(1, round(level * s)) for s in spatial]
    starts = [
        (torch.rand(b, generator=g, device=x.device) * (s - k + 1)).floor().long().clamp_(0, s - k)
        for s, k in zip(spatial, sizes)
    ]
    return _box(x, starts, sizes, spatial)


def _box(x: torch.Tensor, starts: list[torch.Tensor], sizes: list[int], spatial: torch.Size) -> torch.Tensor:
    """Zero the box [start, start + size) along every spatial axis."""
    b = x.shape[0]
    inside = torch.ones((b, *spatial), device=x.device, dtype=torch.bool)
    for axis, (start, k, s) in enumerate(zip(starts, sizes, spatial)):
        pos = torch.arange(s, device=x.device)
        along = (pos[None, :] >= start[:, None]) & (pos[None, :] < start[:, None] + k)  # (B, s)
        shape = [b] + [1] * len(spatial)
        shape[axis + 1] = s
        inside = inside & along.view(shape)
    if x.dim() == 4:
        inside = inside[:, None]  # (B, H, W) -> (B, 1, H, W), broadcast over channels
    return x.masked_fill(inside, 0.0)


NOISES: dict[str, NoiseSpec] = {
    "gaussian": NoiseSpec(gaussian, "additive Gaussian noise; level = standard deviation", 1.0, 0.3),
    "masking": NoiseSpec(masking, "drop values to 0; level = fraction dropped", 1.0, 0.3),
    "salt-pepper": NoiseSpec(salt_and_pepper, "set values to 0 or 1; level = fraction hit", 1.0, 0.2),
    "speckle": NoiseSpec(speckle, "multiplicative Gaussian noise; level = standard deviation", 2.0, 0.5),
    "block": NoiseSpec(block, "one zeroed box per image; level = box side / image side", 1.0, 0.3),
}


def check(kind: str, level: float) -> None:
    """Raise InputError for an unknown kind or a level outside [0, max]."""
    if kind not in NOISES:
        raise InputError(f"Unknown noise {kind!r}. Choose one of {sorted(NOISES)}.")
    top = NOISES[kind].max_level
    if not isinstance(level, (int, float)) or not 0 <= float(level) <= top:
        raise InputError(f"The level of {kind!r} noise must be a number in [0, {top:g}]. Got {level!r} instead.")


def apply(kind: str, x: torch.Tensor, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Corrupt a batch: a new tensor, `x` untouched; level 0 is an exact copy."""
    check(kind, level)
    if level == 0:
        return x.clone()
    return NOISES[kind].fn(x, float(level), generator)


def parse(spec: str) -> tuple[str, float]:
    """'gaussian:0.5' -> ('gaussian', 0.5), validated."""
    kind, sep, level_text = spec.partition(":")
    if not sep:
        raise InputError(f"Noise {spec!r} needs a level: write KIND:LEVEL, e.g. gaussian:0.5.")
    try:
        level = float(level_text)
    except ValueError:
        raise InputError(f"Noise level {level_text!r} in {spec!r} is not a number: write e.g. gaussian:0.5.") from None
    check(kind, level)
    return kind, level
