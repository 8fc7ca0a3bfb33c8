"""The GPU path's opt-in speed-ups, right by construction: bf16 autocast on CUDA, `torch.compile` with a fallback to
plain PyTorch, and how many runs a GPU's memory holds at once.

No GPU is available on the machines that test aeviz, so everything here is written to be checkable on a CPU: the
checks refuse what cannot work (bf16 without CUDA) in one line, the compile fallback is exercised by a compile that
fails, and the slot count is a pure function of the memory size.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import torch

from aeviz.errors import InputError

PRECISIONS = ("fp32", "bf16")
GIB = 2**30
GPU_BYTES_PER_SLOT = 8 * GIB  # the largest run the forms allow, with Adam's state and a batch, fits in well under this
MAX_SLOTS = 4  # more concurrent runs than this share the GPU's compute with little gain each


def check(precision: str, device: torch.device) -> None:
    """bf16 autocast is offered on CUDA only (where it is fast and bf16 is supported); fp32 works everywhere."""
    if precision not in PRECISIONS:
        raise InputError(f"precision must be one of {list(PRECISIONS)}, not {precision!r}.")
    if precision == "bf16" and device.type != "cuda":
        raise InputError(f"precision bf16 needs a CUDA GPU, and this run trains on {device.type}. Set precision to "
                         "fp32.")
    if precision == "bf16" and not torch.cuda.is_bf16_supported():
        raise InputError("This GPU does not support bf16. Set precision to fp32.")


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """The forward pass's context: bf16 autocast (matmuls in bf16, reductions and the loss in fp32) or nothing."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


class Forward:
    """The model's forward pass, through `torch.compile` when asked. torch.compile compiles on the first call; if
    that fails (no compiler, an unsupported op), training goes on with the plain model and `note` says why. Errors
    after a successful first call (out of memory, NaN checks) are the model's own and propagate."""

    def __init__(self, model: torch.nn.Module, compile: bool) -> None:
        self.model, self.note = model, ""
        self._compiled: Any = None
        self._first = True
        if compile:
            try:
                self._compiled = torch.compile(model)
            except Exception as exc:  # torch.compile itself refused (e.g. an unsupported Python)
                self._fall_back(exc)

    def __call__(self, x: torch.Tensor) -> Any:
        if self._compiled is not None and self._first:
            self._first = False
            try:
                return self._compiled(x)
            except Exception as exc:  # the compile happens here, on the first call
                self._fall_back(exc)
        return (self._compiled or self.model)(x)

    def _fall_back(self, exc: Exception) -> None:
        self._compiled = None
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        self.note = f"torch.compile failed ({reason}); trained without it."


def slots_for(devices: list[str], gpu_bytes: int = 0, env: str | None = None) -> int:
    """How many runs train at once: $AEVIZ_SLOTS (1-16) if set; on a CUDA GPU one per 8 GiB of its memory (1 to
    4); on a CPU 1 (two runs sharing 2 cores are each slower than one after the other)."""
    if env:
        if not env.strip().isdigit() or not 1 <= int(env) <= 16:
            raise InputError(f"AEVIZ_SLOTS must be a whole number from 1 to 16, not {env!r}.")
        return int(env)
    if "cuda" in devices:
        return max(1, min(MAX_SLOTS, gpu_bytes // GPU_BYTES_PER_SLOT))
    return 1


def training_slots(devices: list[str]) -> int:
    """`slots_for` on this machine."""
    gpu = torch.cuda.get_device_properties(0).total_memory if "cuda" in devices else 0
    return slots_for(devices, gpu, os.environ.get("AEVIZ_SLOTS"))
