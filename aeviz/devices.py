"""Which devices exist, and `auto`'s choice among them: CUDA, then MPS, then the CPU."""

from __future__ import annotations

import torch

from aeviz.errors import InputError


def available() -> list[str]:
    """The device names that work on this machine, best first (always ends with 'cpu')."""
    names = []
    if torch.cuda.is_available():
        names.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        names.append("mps")
    return [*names, "cpu"]


def resolve(name: str) -> torch.device:
    """'auto' -> the best available; an unavailable device is refused with the list of what exists."""
    have = available()
    if name == "auto":
        return torch.device(have[0])
    if name not in have:
        raise InputError(f"Device {name!r} is not available on this machine. Choose one of {['auto', *have]}.")
    return torch.device(name)


def describe(device: torch.device) -> str:
    """'cuda (NVIDIA H100)' / 'cpu (1 thread)' for sidebars and logs."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        n = torch.get_num_threads()
        return f"cpu ({n} thread{'s' if n != 1 else ''})"
    return device.type
