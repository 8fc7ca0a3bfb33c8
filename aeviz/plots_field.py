"""The Theory lab's vector-field figure: 2-D data, the arrows of r(x) = g(f(x)) - x on a grid, and points flowing
under x <- g(f(x)). Pure: arrays in, a Plotly figure out."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from aeviz.plots import LAYOUT, LEGEND_BELOW, PALETTE

ARROW = 0.9  # the longest arrow spans this fraction of a grid cell: arrows never overlap their neighbours


def field_figure(data: np.ndarray, points: np.ndarray, vectors: np.ndarray, title: str,
                 path: np.ndarray | None = None) -> go.Figure:
    """`data` (N, 2) in grey; an arrow per grid point (`points`, `vectors` (M, 2), rescaled so the longest fits a
    cell: the direction and the relative length are what matter); `path` (steps + 1, K, 2): where K starting points
    went, their tracks and where they are now."""
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=data[:, 0], y=data[:, 1], mode="markers", name="data",
                               marker={"size": 3, "color": "#bbbbbb"}, hoverinfo="skip"))
    fig.add_trace(_arrows(points, vectors))
    if path is not None and len(path):
        tracks = np.concatenate([path.transpose(1, 0, 2), np.full((path.shape[1], 1, 2), np.nan)], axis=1)
        tracks = tracks.reshape(-1, 2)
        fig.add_trace(go.Scatter(x=tracks[:, 0], y=tracks[:, 1], mode="lines", name="paths",
                                 line={"color": PALETTE[1], "width": 1}, opacity=0.5, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=path[-1, :, 0], y=path[-1, :, 1], mode="markers", name=f"after {len(path) - 1}",
                                 marker={"size": 6, "color": PALETTE[3]}))
    fig.update_layout(**{**LAYOUT, "height": 460}, title=title, showlegend=True, legend=LEGEND_BELOW)
    fig.update_xaxes(title="x₁", constrain="domain")
    fig.update_yaxes(title="x₂", scaleanchor="x", scaleratio=1)
    return fig


def _arrows(points: np.ndarray, vectors: np.ndarray) -> go.Scatter:
    """Each arrow a shaft and a two-stroke head, as one line trace (NaN between arrows): ~450 arrows draw fast."""
    n = max(round(np.sqrt(len(points))), 2)
    cell = float(np.ptp(points[:, 0])) / (n - 1) if np.ptp(points[:, 0]) > 0 else 1.0
    longest = float(np.linalg.norm(vectors, axis=1).max()) if len(vectors) else 0.0
    v = vectors * (ARROW * cell / longest) if longest > 0 else vectors
    tip = points + v
    back = -v * 0.35  # the head's strokes: back along the shaft, turned 25 degrees each way
    c, s = np.cos(np.radians(25)), np.sin(np.radians(25))
    left = tip + np.stack([c * back[:, 0] - s * back[:, 1], s * back[:, 0] + c * back[:, 1]], axis=1)
    right = tip + np.stack([c * back[:, 0] + s * back[:, 1], -s * back[:, 0] + c * back[:, 1]], axis=1)
    gap = np.full_like(points, np.nan)
    xy = np.stack([points, tip, gap, left, tip, right, gap], axis=1).reshape(-1, 2)
    return go.Scatter(x=xy[:, 0], y=xy[:, 1], mode="lines", name="g(f(x)) − x", line={"color": PALETTE[0], "width": 1.2},
                      hoverinfo="skip")
