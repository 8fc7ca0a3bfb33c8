"""Turn a user's raw numeric array and labels into aeviz's layout: x (N, *shape) float32 in [0, 1], y (N,) int64.

Shared by the .npy/.npz/.csv readers and the image readers. Every rule that changes the data adds a one-line
note so the user is told (min-max scaling, vectors read as images, alpha dropped).
"""

from __future__ import annotations

import math

import numpy as np

from aeviz.errors import InputError

MAX_CLASSES = 1000  # more distinct labels than this is a regression target or an id column, not classes
MIN_SQUARE_SIDE = 8  # (N, D) with D = s*s and s >= 8 (D >= 64) is read as (1, s, s) images
BLOCK_VALUES = 1 << 18  # values scaled at a time: the float64 working copy is one block, never the whole array


def to_float01(x: np.ndarray | list[np.ndarray], name: str) -> tuple[np.ndarray, list[str]]:
    """Scale by dtype: bool 0/1, uint8 /255, uint16 /65535, other ints and out-of-range floats min-max (in float64,
    halved first so even +-1e308 keep their range). `x` may be a list of row blocks (a streamed CSV): each is
    converted and dropped from the list in turn, so the peak stays near twice the float32 result."""
    blocks = x if isinstance(x, list) else [x]
    kind, dtype = blocks[0].dtype.kind, blocks[0].dtype
    if kind not in "buif":
        raise InputError(f"{name} holds {_describe(dtype)}, not numbers; save a numeric array (float or int).")
    if sum(b.size for b in blocks) == 0:
        shape = (sum(len(b) for b in blocks), *blocks[0].shape[1:])
        raise InputError(f"{name} has no values (shape {shape}); it needs at least one row with one value.")
    notes: list[str] = []
    if kind == "b" or dtype in (np.uint8, np.uint16):
        lo, hi = 0.0, 1.0
        scale = {"b": 1.0, "u1": 1 / 255, "u2": 1 / 65535}[dtype.str[1:] if kind != "b" else "b"]
    else:
        lo, hi = _value_range(blocks, name)
        scale = None
        if hi == lo and not (0.0 <= lo <= 1.0):
            notes.append(f"every value is {lo:g}; set them all to 0")
        elif not (lo >= 0.0 and hi <= 1.0):  # already in range (floats, or 0/1 integers): keep the values as they are
            notes.append(f"values min-max scaled from [{lo:g}, {hi:g}] to [0, 1]")

    def convert(block: np.ndarray) -> np.ndarray:
        if scale is not None:
            return np.multiply(block, np.float32(scale), dtype=np.float32)
        return _min_max(block, lo, hi) if notes else np.asarray(block, dtype=np.float32)

    if isinstance(x, list):
        done = []
        while x:
            done.append(convert(x.pop(0)))  # the caller's block is released as its float32 copy is made
        return (done[0] if len(done) == 1 else np.concatenate(done)), notes
    if x.ndim < 2 or (scale is None and not notes):  # floats already in [0, 1]: no copy for float32
        return convert(x), notes
    out = np.empty(x.shape, np.float32)
    rows = max(1, BLOCK_VALUES // max(1, x[0].size))
    for a in range(0, len(x), rows):
        out[a:a + rows] = convert(x[a:a + rows])
    return out, notes


def _value_range(blocks: list[np.ndarray], name: str) -> tuple[float, float]:
    row0 = 0
    for b in blocks:
        if b.dtype.kind == "f":
            finite = np.isfinite(b)
            if not finite.all():
                bad = b.size - int(finite.sum())
                row = row0 + int(np.argmin(finite.reshape(len(b), -1).all(axis=1)))
                raise InputError(f"{name} contains {bad} NaN or infinite values (first in row {row}); "
                                 "remove or fill them.")
        row0 += len(b)
    live = [b for b in blocks if b.size]
    return float(min(b.min() for b in live)), float(max(b.max() for b in live))


def _min_max(block: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """(x - lo) / (hi - lo) in float64 on halves: hi - lo overflows for +-1e308, hi / 2 - lo / 2 never does.
    A constant block (hi == lo) becomes zeros."""
    if hi == lo:
        return np.zeros(block.shape, np.float32)
    work = block.astype(np.float64)  # int64 or huge floats would lose the range in float32 before the division
    work *= 0.5
    work -= lo * 0.5
    work /= hi * 0.5 - lo * 0.5
    out = work.astype(np.float32)
    np.clip(out, 0.0, 1.0, out=out)
    return out


def to_layout(x: np.ndarray, name: str) -> tuple[np.ndarray, tuple[int, ...], list[str]]:
    """(N, D) vectors, or images as (N, C, H, W) with C in {1, 3}; returns x C-contiguous, shape, notes."""
    notes: list[str] = []
    if x.ndim == 2:
        d = x.shape[1]
        side = math.isqrt(d)
        if side * side == d and side >= MIN_SQUARE_SIDE:
            notes.append(f"each row of {d} values read as a {side}x{side} greyscale image")
            x = x.reshape(len(x), 1, side, side)
    elif x.ndim == 3:
        x = x[:, None]  # (N, H, W) -> (N, 1, H, W)
    elif x.ndim == 4:
        x, notes = _channels_first(x, name)
    else:
        raise InputError(
            f"{name} has shape {x.shape}; aeviz reads (N, D) vectors or (N, H, W), (N, H, W, C), (N, C, H, W) images."
        )
    if len(x) == 0:
        raise InputError(f"{name} has zero rows (shape {x.shape}); it needs at least one sample.")
    if 0 in x.shape[1:]:
        raise InputError(f"{name} has an empty dimension (shape {x.shape}); every sample needs at least one value.")
    return np.ascontiguousarray(x, dtype=np.float32), tuple(int(s) for s in x.shape[1:]), notes


def _channels_first(x: np.ndarray, name: str) -> tuple[np.ndarray, list[str]]:
    # Channels-last wins a tie ((N, 3, 5, 3) is read as 5x3 RGB) because numpy/PIL images are channels-last.
    if x.shape[1] in (1, 3) and x.shape[3] not in (1, 3, 4):
        return x, []
    if x.shape[3] not in (1, 3, 4):
        raise InputError(
            f"{name} has shape {x.shape}: a 4-D array must be (N, H, W, C) with C in 1/3/4 or (N, C, H, W), C in 1/3."
        )
    x = x.transpose(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)
    if x.shape[1] == 4:
        return x[:, :3], ["dropped the alpha channel (RGBA -> RGB)"]
    return x, []


def encode_labels(y: np.ndarray, n: int, name: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Map labels (ints, integral floats, bools or strings) to 0..K-1; classes are the original values as text."""
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise InputError(f"{name}: labels must be one value per row, shape (N,); got shape {y.shape}.")
    if len(y) != n:
        raise InputError(f"{name}: x has {n} rows but y has {len(y)} labels; give one label per row.")
    kind = y.dtype.kind
    if kind == "S":
        y = np.char.decode(y, "utf-8", errors="replace")
    elif kind == "f":
        if not np.isfinite(y).all() or not np.all(y == np.round(y)):
            raise InputError(f"{name}: labels must be integers or strings; y has fractional or NaN values.")
        y = y.astype(np.int64)
    elif kind not in "biuU":
        raise InputError(f"{name}: labels hold {_describe(y.dtype)}; use integers or strings.")
    values, codes = np.unique(y, return_inverse=True)
    if len(values) > MAX_CLASSES:
        raise InputError(
            f"{name}: y has {len(values)} distinct values; aeviz needs class labels (at most {MAX_CLASSES} classes)."
        )
    classes = tuple(str(v.item() if hasattr(v, "item") else v) for v in values)
    return codes.reshape(-1).astype(np.int64), classes


def _describe(dtype: np.dtype) -> str:
    names = {"U": "text", "S": "bytes", "O": "Python objects", "c": "complex numbers", "V": "structured records",
             "M": "dates", "m": "time spans"}
    return f"{names.get(dtype.kind, 'values')} (dtype {dtype})"
