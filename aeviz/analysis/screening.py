"""Data screening: drop the samples a run reconstructs worst, see which they are, and write the rest as a `.npz`.

Pure numpy (no model here: the caller scores the samples, e.g. `analysis.anomaly.errors`). Two ways to choose:
- a share p of the samples: the floor(p * n) largest errors are dropped ("at most p%": 5% of 19 samples drops 0),
  ties broken by row order (the lower row is dropped first), through `anomaly.worst`, the one ranking of errors;
- a threshold: every sample whose error is strictly above it (as the Anomalies page counts "above the threshold").
`aeviz screen` and the Anomalies page both screen every sample of the run's dataset (train and validation, in the
dataset's row order) and write x, y (only when there are labels) and `kept`, the kept rows' indices into that
dataset, which `aeviz.data.load_dataset(path)` loads again (its .npz reader reads x and y and ignores `kept`).
"""

from __future__ import annotations

import io
import math
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aeviz.analysis.anomaly import worst
from aeviz.errors import InputError

PERCENT = re.compile(r"\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*(%?)\s*")
DROP_FIX = "give a percentage from 0 up to (not including) 100, like 5% or 2.5"


@dataclass(frozen=True)
class Screen:
    """Which rows a screening drops and keeps, and the error cut-off it used."""

    dropped: np.ndarray  # (n_dropped,) row indices, worst first
    kept: np.ndarray  # (n_kept,) row indices, ascending (the order the screened file keeps)
    cutoff: float | None  # every dropped error is >= this (None: nothing dropped)


def parse_drop(text: str) -> float:
    """'5%' or '5' (a bare number is a percentage too) -> 0.05. Anything else, or outside [0, 100), raises
    InputError naming the value and the fix."""
    match = PERCENT.fullmatch(str(text))
    if match is None:
        raise InputError(f"--drop {str(text)[:40]!r} is not a percentage: {DROP_FIX}.")
    percent = float(match[1])
    if not 0.0 <= percent < 100.0:
        raise InputError(f"--drop {str(text).strip()[:40]!r} is out of range: {DROP_FIX}.")
    return percent / 100.0


def drop_count(n: int, fraction: float) -> int:
    """How many of n samples a share `fraction` drops: floor(fraction * n), never all of them."""
    if not 0.0 <= fraction < 1.0:
        raise InputError(f"The share to drop must be in [0, 1). Got {fraction} instead.")
    return min(math.floor(fraction * n + 1e-9), max(n - 1, 0))  # + 1e-9: 0.07 * 100 is 7.000000000000001 or 6.99..


def screen(errors: np.ndarray, fraction: float | None = None, threshold: float | None = None) -> Screen:
    """Drop the worst `fraction` of the samples by `errors` (N,), or those with an error above `threshold`."""
    errs = np.asarray(errors, np.float64)
    if (fraction is None) == (threshold is None):
        raise InputError("Screening needs either a share to drop or an error threshold, not both.")
    if fraction is not None:
        dropped = worst(errs, drop_count(len(errs), fraction))
    else:
        if not math.isfinite(threshold):
            raise InputError(f"The screening threshold must be a finite error. Got {threshold} instead.")
        above = np.flatnonzero(errs > threshold)
        dropped = above[np.argsort(-errs[above], kind="stable")]  # worst first, ties by row
    keep = np.ones(len(errs), bool)
    keep[dropped] = False
    cutoff = float(errs[dropped].min()) if len(dropped) else None
    return Screen(dropped.astype(np.int64), np.flatnonzero(keep).astype(np.int64), cutoff)


def class_counts(y: np.ndarray, dropped: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(dropped per class, all per class), each (n_classes,)."""
    y = np.asarray(y, np.int64)
    return np.bincount(y[dropped], minlength=n_classes), np.bincount(y, minlength=n_classes)


def most_dropped(y: np.ndarray, dropped: np.ndarray, classes: tuple[str, ...] | None, top: int = 3) -> str:
    """'3: 12, 8: 9, 5: 7' (class: dropped count, most first, ties by class order), or '' with no labels."""
    if classes is None or len(dropped) == 0:
        return ""
    counts, _ = class_counts(y, dropped, len(classes))
    order = np.argsort(-counts, kind="stable")[:top]
    return ", ".join(f"{classes[c]}: {counts[c]}" for c in order if counts[c])


def npz_bytes(x: np.ndarray, y: np.ndarray | None, kept: np.ndarray) -> bytes:
    """The screened data as a compressed .npz: x (n_kept, *shape) float32, y (n_kept,) int64 when there are labels,
    kept (n_kept,) int64. Rows of x and y are already the kept ones."""
    arrays = {"x": np.ascontiguousarray(x, np.float32), "kept": np.asarray(kept, np.int64)}
    if y is not None:
        arrays["y"] = np.asarray(y, np.int64)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def check_out(path: Path, force: bool = False) -> None:
    """Refuse an output that is not a .npz, or that exists (unless `force`), before any work is spent."""
    if path.suffix.lower() != ".npz":
        raise InputError(f"--out {path}: the screened data is written as .npz; give a name ending in .npz.")
    if path.is_dir():
        raise InputError(f"--out {path} is a folder; give a file name ending in .npz.")
    if path.exists() and not force:
        raise InputError(f"--out {path} exists; pick another name, or add --force to replace it.")
    if not path.absolute().parent.is_dir():
        raise InputError(f"--out {path}: the folder {path.parent} does not exist; create it first.")


def write_npz(path: Path, content: bytes) -> None:
    """Write via a new temporary file in the same folder and a rename, so an interrupted write never leaves half a
    file (opened with "xb", not mkstemp: the file gets the umask's usual permissions, not 0600)."""
    path = Path(path)
    tmp = path.absolute().with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as fh:
            fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
