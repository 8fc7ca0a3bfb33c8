"""Working with a selection of points in a latent view: nearest neighbours, per-label counts, CSV export."""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Sequence

import numpy as np
from sklearn.neighbors import NearestNeighbors

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
