"""Memory: estimate what a model, its training and a dataset will take, and refuse what will not fit, before any of
it is allocated.

The budget is a fraction of the memory available now (/proc/meminfo's MemAvailable, or the GPU's free memory),
or `AEVIZ_MEMORY_BUDGET` (e.g. "2GB"; the CLI's `--memory-budget` sets it). A model is sized by building it on
torch's meta device (shapes only, no storage) and running one meta forward pass whose saved tensors are counted.
Training adds to the weights: their gradients, Adam's two moments and the trainer's snapshots (the last good
epoch, the best one and its replacement), a copy of the data on the device, and the activations of one batch.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Any

import torch

from aeviz.errors import InputError
from aeviz.loaders import human_bytes

BUDGET_ENV = "AEVIZ_MEMORY_BUDGET"
FRACTION = 0.5  # of the memory available now: the app, its pages and the data already loaded need the rest
FALLBACK_AVAILABLE = 4 * 1024**3  # where the OS does not say (no /proc/meminfo)
FLOAT = 4  # bytes of a float32
ADAM_STATE = 2  # Adam keeps two moments per parameter
# Gradients + Adam's 2 moments + the trainer's snapshots: the last good epoch's, the best so far and, for a moment at
# an epoch's end, its replacement. Measured: a 40 M-parameter MLP peaked at 6.5x its weights over them while training.
TRAINING_COPIES = 6
BACKWARD_FACTOR = 2  # the backward pass holds a gradient the size of each saved activation
MEMORY_ERRORS: tuple[type[BaseException], ...] = (MemoryError, torch.OutOfMemoryError)
_UNITS = {"": 1, "B": 1, "K": 1024, "KB": 1024, "M": 1024**2, "MB": 1024**2, "G": 1024**3, "GB": 1024**3,
          "T": 1024**4, "TB": 1024**4}


def parse_bytes(text: str, what: str = BUDGET_ENV) -> int:
    """'2GB' / '512M' / '1.5e9' -> bytes; anything else is an InputError naming `what`."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([KMGT]?B?)\s*", str(text), re.IGNORECASE)
    value = float(match.group(1)) * _UNITS[match.group(2).upper()] if match else 0.0
    if not match or not 1 <= value < 2**62:
        raise InputError(f"{what} must be a size such as 2GB, 512MB or 1e9 (bytes). Got {text!r} instead.")
    return int(value)


def available(device: torch.device | None = None) -> int:
    """Bytes free for new allocations now: the GPU's free memory for a CUDA device, else the OS's MemAvailable."""
    if device is not None and device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return FALLBACK_AVAILABLE


def budget(device: torch.device | None = None) -> int:
    """The most a new model, dataset or training run may take: $AEVIZ_MEMORY_BUDGET, else FRACTION of `available`."""
    env = os.environ.get(BUDGET_ENV, "").strip()
    return parse_bytes(env) if env else int(FRACTION * available(device))


def budget_text(device: torch.device | None = None) -> str:
    """'the memory budget of 1.5 GB (half of the 3 GB available; set AEVIZ_MEMORY_BUDGET to change it)'."""
    if os.environ.get(BUDGET_ENV, "").strip():
        return f"the memory budget of {human_bytes(budget(device))} ({BUDGET_ENV})"
    where = "free on the GPU" if device is not None and device.type == "cuda" else "available"
    return (f"the memory budget of {human_bytes(budget(device))} (half of the {human_bytes(available(device))} "
            f"{where}; {BUDGET_ENV} or --memory-budget changes it)")


@dataclass(frozen=True)
class Estimate:
    """Bytes a training run adds to what is already allocated, by part."""

    params: int  # parameter count
    weights: int  # the model's weights
    state: int  # gradients, Adam's moments, the trainer's snapshots
    data: int  # the training and validation split copied to the device
    activations: int  # one batch's forward and backward

    @property
    def total(self) -> int:
        return self.weights + self.state + self.data + self.activations


def _meta_model(model_cls: type, config: Any, input_shape: tuple[int, ...]) -> torch.nn.Module:
    with torch.device("meta"):  # shapes only: 40 layers of 8192 cost nothing here
        return model_cls(config, tuple(input_shape))


def param_count(model_cls: type, config: Any, input_shape: tuple[int, ...]) -> int:
    """Parameters of `model_cls(config, input_shape)`, counted without allocating them."""
    return sum(p.numel() for p in _meta_model(model_cls, config, input_shape).parameters())


def _saved_bytes(model: torch.nn.Module, x: torch.Tensor) -> int:
    """Bytes of the tensors autograd saves for backward in one meta forward pass of `x`."""
    total = 0

    def pack(t: torch.Tensor) -> None:
        nonlocal total
        total += t.numel() * t.element_size()
        # Keep nothing: a node that saved its own output (a sigmoid's) would otherwise hold the tensor that holds
        # the node, a cycle through C++ the garbage collector cannot see (~1.4 MB leaked per Train page drawn).
        return None

    with torch.device("meta"), torch.autograd.graph.saved_tensors_hooks(pack, lambda _: None):
        out = model(x)
    return total + sum(t.numel() * t.element_size() for t in (out.x_hat, out.z))


def activation_bytes(model: torch.nn.Module, input_shape: tuple[int, ...], batch: int) -> int:
    """One batch's activations: what a sample adds to the saved tensors (a 2-sample minus a 1-sample pass, so the
    weights autograd also saves do not count), times the batch, times BACKWARD_FACTOR."""
    model.train()
    one, two = (_saved_bytes(model, torch.zeros((b, *input_shape), device="meta")) for b in (1, 2))
    return max(two - one, 0) * batch * BACKWARD_FACTOR


def estimate(model_cls: type, config: Any, input_shape: tuple[int, ...], n_samples: int, batch_size: int) -> Estimate:
    model = _meta_model(model_cls, config, input_shape)
    params = sum(p.numel() for p in model.parameters())
    try:
        acts = activation_bytes(model, tuple(input_shape), min(batch_size, max(n_samples, 1)))
    except (RuntimeError, NotImplementedError):  # an op without a meta kernel: a plain guess from the widths
        widths = math.prod(input_shape) * 2 + sum(getattr(config, "hidden", ())) * 2
        acts = widths * FLOAT * batch_size * 3
    data = n_samples * math.prod(input_shape) * FLOAT
    return Estimate(params, params * FLOAT, params * FLOAT * TRAINING_COPIES, data, acts)


def _widths(values: tuple[int, ...]) -> str:
    """(8192, 8192, 8192) -> '8192 x3'; (512, 128) -> '512,128'."""
    return f"{values[0]} x{len(values)}" if len(values) > 2 and len(set(values)) == 1 else ",".join(map(str, values))


def _model_fix(config: Any, input_shape: tuple[int, ...]) -> str:
    knobs = [f"{name}={_widths(getattr(config, name))}" for name in ("hidden", "channels") if getattr(config, name, ())]
    lower = f"lower {' or '.join(knobs)} (fewer or narrower layers)" if knobs else "lower latent_dim"
    return f"{lower}, or use data with fewer features ({math.prod(input_shape):,} per sample now)"


def check_model(model_cls: type, config: Any, input_shape: tuple[int, ...]) -> int:
    """Refuse a model whose weights and Adam state would not fit in the budget; returns its parameter count."""
    params = param_count(model_cls, config, input_shape)
    need = params * FLOAT * (2 + ADAM_STATE)  # weights, gradients, Adam's moments
    if need > budget():
        raise InputError(f"This {model_cls.__name__} needs ~{human_bytes(need)} for its weights and Adam state "
                         f"({params:,} parameters), over {budget_text()}; {_model_fix(config, input_shape)}.")
    return params


def check_training(model_cls: type, config: Any, input_shape: tuple[int, ...], n_samples: int, batch_size: int,
                   device: torch.device | None = None, weights_allocated: bool = False) -> Estimate:
    """Refuse a training run whose estimate exceeds the budget, naming the biggest part and its fix.
    `weights_allocated`: the model already exists on `device` (its weights are no longer to come)."""
    est = estimate(model_cls, config, input_shape, n_samples, batch_size)
    need = est.total - (est.weights if weights_allocated else 0)
    limit = budget(device)
    if need <= limit:
        return est
    parts = {"weights and Adam state": est.weights + est.state, "the data": est.data,
             f"the activations of a batch of {batch_size}": est.activations}
    biggest = max(parts, key=parts.__getitem__)
    fix = {"weights and Adam state": _model_fix(config, input_shape),
           "the data": "use fewer samples (a smaller subset or file)"}.get(biggest, "lower batch_size")
    detail = ", ".join(f"{name} {human_bytes(v)}" for name, v in parts.items())
    raise InputError(f"Training needs ~{human_bytes(need)} ({detail}), over {budget_text(device)}; {fix}.")


def check_array(name: str, shape: tuple[int, ...], itemsize: int) -> None:
    """Refuse an array file whose header declares more than loading can hold: the array as stored plus the float32
    copy aeviz keeps (the scaling works in blocks, so nothing else grows with it)."""
    values = math.prod(shape)
    need = values * itemsize + values * FLOAT
    if need > budget():
        raise InputError(f"{name} declares a {'x'.join(map(str, shape))} array: loading it needs ~{human_bytes(need)} "
                         f"({human_bytes(values * itemsize)} as stored + {human_bytes(values * FLOAT)} as float32), "
                         f"over {budget_text()}; use fewer rows.")


def out_of_memory_message(exc: BaseException, epoch: int, kept: int) -> str:
    """The end message of a run that ran out of memory anyway (the estimate is an estimate)."""
    where = "GPU" if isinstance(exc, torch.OutOfMemoryError) else "CPU"
    return (f"Training ran out of {where} memory in epoch {epoch}; the weights of the last good epoch ({kept}) were "
            "kept. Lower batch_size or the hidden widths, or use less data.")


# -- giving memory back (a long-lived server) ---------------------------------------------------------------------------
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD = 128 * 1024


def _libc() -> Any:
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:  # not glibc (macOS, musl, Windows): their allocators return memory on their own terms
        return None


def serve_from_mmap() -> bool:
    """Give every allocation over 128 KiB (weights, batches, arrays) its own mapping, returned to the OS when freed.
    glibc's default raises that threshold after each large free, until big buffers come from the heap and stay
    there: with the estimate's leak still in, a server that trained 32 small runs grew by 370 MB, by 65 MB with this.
    False where it does not apply."""
    libc = _libc()
    return bool(libc is not None and libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def give_back() -> None:
    """Collect garbage and hand free heap pages back to the OS (a moment after a room leaves)."""
    import gc

    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
