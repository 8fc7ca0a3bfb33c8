"""Runs side by side, without Streamlit: which runs can be compared sample by sample, each run's 2-D map of the same
samples, a linked selection's rows, and the figure of one map with another map's selection drawn over it.

Runs are comparable when they were trained on the same data (source, params, input shape: `denoising_lab.same_data`),
so row i of one run's validation codes is the same input as row i of the other's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from aeviz import plots
from aeviz.denoising_lab import same_data
from aeviz.projections import pca_2d

MAX_RUNS = 3  # maps side by side: more would be too narrow to lasso in
GRID = 10  # inputs in the reconstruction grid
HIGHLIGHT = "selected"  # the name of the trace a linked selection draws over the rest


def split_comparable(anchor: Any, runs: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    """`runs` -> (those on the anchor's data, the others), each in the given order."""
    same = [r for r in runs if same_data(anchor, r)]
    return same, [r for r in runs if not same_data(anchor, r)]


def map_2d(z: np.ndarray) -> tuple[np.ndarray, tuple[str, str], str]:
    """Codes (N, D) -> their 2-D map (N, 2), axis titles and the method's name: raw when D = 2, else PCA."""
    z = np.asarray(z, np.float64)
    if z.shape[1] == 2:
        return z.copy(), ("z1", "z2"), "raw code"
    xy, _, ratio = pca_2d(z)
    return xy, (f"PC1 ({ratio[0]:.0%})", f"PC2 ({ratio[1]:.0%})"), "PCA"


def agree(xy: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """`xy` with each axis' sign flipped where it runs against the same axis of `reference` (same rows): the maps
    of two runs are unrelated spaces, but a digit found top-left in one is then more often top-left in the other."""
    xy = np.asarray(xy, np.float64)
    signs = np.sign(np.sum((xy - xy.mean(0)) * (reference - reference.mean(0)), axis=0))
    signs[signs == 0] = 1.0
    return xy * signs


def grid_rows(selected: Sequence[int], n: int, count: int = GRID) -> np.ndarray:
    """The rows the reconstruction grid shows: the first `count` selected ones, else the first `count` rows."""
    rows = [int(i) for i in selected if 0 <= int(i) < n] or list(range(n))
    return np.asarray(rows[:count], np.int64)


def clean_rows(points: Sequence[int], n: int) -> list[int]:
    """A selection's point indices -> sorted distinct rows in [0, n) (a stale selection may name rows no more)."""
    return sorted({int(i) for i in points if 0 <= int(i) < n})


def highlight(fig: go.Figure, xy: np.ndarray, rows: Sequence[int], labels: np.ndarray | None,
              classes: Sequence[str] | None = None) -> go.Figure:
    """`fig` (a `plots.latent_scatter`, its points in trace 0) with trace 0 dimmed and the points in `rows` drawn
    over it, larger, in their class colours, as a trace named HIGHLIGHT (a seeded sample of them beyond
    `plots.MAX_DRAWN`; each point's row is its customdata, as in trace 0)."""
    rows = np.asarray(rows, np.int64)
    rows = rows[plots.drawn_rows(len(rows))]
    base = fig.data[0]
    base.marker.opacity = 0.12
    marker = dict(size=8, opacity=1.0, line=dict(width=0.6, color="#222222"))
    if labels is not None and base.marker.showscale is not True:
        marker.update(color=np.asarray(labels)[rows].astype(int) % len(plots.PALETTE), **plots.CLASS_SCALE)
    else:
        marker["color"] = "#d62728"
    fig.add_trace(go.Scattergl(x=xy[rows, 0], y=xy[rows, 1], mode="markers", marker=marker,
                               text=plots.hover_text(rows, None if labels is None else np.asarray(labels), classes),
                               hoverinfo="text", customdata=rows, showlegend=False, name=HIGHLIGHT))
    return fig
