"""Working with a selection of points in a latent view: nearest neighbours, per-label counts, CSV export, and
finding points by row, class and reconstruction error."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
from sklearn.neighbors import NearestNeighbors

from aeviz.errors import InputError
from aeviz.plots import dim_name


def nearest(z: np.ndarray, index: int, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest rows to row `index` in the full latent space (itself excluded): (indices, distances)."""
    k = max(1, min(k, len(z) - 1))
    nn = NearestNeighbors(n_neighbors=k + 1).fit(z)
    dist, idx = nn.kneighbors(z[index:index + 1])
    keep = idx[0] != index
    return idx[0][keep][:k], dist[0][keep][:k]


def label_counts(labels: np.ndarray | None, indices: Sequence[int], classes: Sequence[str] | None) -> dict[str, int]:
    """How many selected points carry each label, most common first."""
    if labels is None:
        return {}
    counts = Counter(int(labels[i]) for i in indices)
    return {(classes[c] if classes else str(c)): n for c, n in counts.most_common()}


def to_csv(indices: Sequence[int], xy: np.ndarray, labels: np.ndarray | None, classes: Sequence[str] | None,
           errors: np.ndarray | None, z: np.ndarray | None = None) -> str:
    """Rows of the selection: row index, 2-D coordinates, label, reconstruction error and the full code."""
    out = io.StringIO()
    writer = csv.writer(out)
    k = 0 if z is None else z.shape[1]
    writer.writerow(["row", "x", "y", "label", "error", *[dim_name(j) for j in range(k)]])
    for i in indices:
        label = "" if labels is None else (classes[int(labels[i])] if classes else int(labels[i]))
        err = "" if errors is None else f"{errors[i]:.6g}"
        code = [] if z is None else [f"{v:.6g}" for v in z[i]]
        writer.writerow([int(i), f"{xy[i, 0]:.6g}", f"{xy[i, 1]:.6g}", label, err, *code])
    return out.getvalue()


# -- finding points: by row (index) text, by class, by reconstruction-error percentile ------------------------------
RANGE = re.compile(r"(\d+)\s*-\s*(\d+)")


def parse_rows(text: str, n: int) -> list[int]:
    """'3, 10-20' -> the sorted distinct rows it names (ranges inclusive), each in [0, n); '' -> []. A bad part
    raises InputError naming it and the fix."""
    fix = f"use numbers and ranges like 3, 10-20 (0-{n - 1})"
    rows: set[int] = set()
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        span = RANGE.fullmatch(part)
        if part.isdigit():
            lo = hi = int(part)
        elif span:
            lo, hi = int(span[1]), int(span[2])
            if lo > hi:
                raise InputError(f"'{part}' runs backwards: write the smaller row first, like {hi}-{lo}.")
        else:
            raise InputError(f"'{part[:40]}' is not an index: {fix}.")
        if hi >= n:
            raise InputError(f"'{part}' goes past the last row, {n - 1}: {fix}.")
        rows.update(range(lo, hi + 1))
    return sorted(rows)


def find(n: int, labels: np.ndarray | None = None, wanted: Sequence[int] = (), rows: Sequence[int] = (),
         errors: np.ndarray | None = None, percentiles: tuple[float, float] = (0.0, 100.0)) -> np.ndarray | None:
    """Rows (sorted) that pass every filter that is set: a label in `wanted`, a row in `rows`, an error within the
    `percentiles` of `errors` (inclusive). None when no filter is set (nothing to highlight)."""
    keep = np.ones(n, bool)
    active = False
    if labels is not None and len(wanted):
        keep &= np.isin(np.asarray(labels), np.asarray(wanted))
        active = True
    if len(rows):
        keep &= np.isin(np.arange(n), np.asarray(rows))
        active = True
    if errors is not None and tuple(percentiles) != (0.0, 100.0):
        lo, hi = np.percentile(errors, percentiles)
        keep &= (errors >= lo) & (errors <= hi)
        active = True
    return np.flatnonzero(keep) if active else None
