"""The Theory lab's tangent figures: where an encoder is most sensitive, drawn as short strokes on 2-D or 3-D data,
and the singular-value spectra of the encoders' Jacobians side by side. Pure: arrays in, a Plotly figure out."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from aeviz.plots import LAYOUT, LEGEND_BELOW, PALETTE

STROKE = 0.06  # half a stroke's length, in the data's [0, 1] units


def direction_figure(data: np.ndarray, points: np.ndarray, directions: np.ndarray, angles: np.ndarray,
                     title: str, within: float = 20.0) -> go.Figure:
    """`data` (N, D) in grey, D = 2 or 3; at each of `points` (M, D) a stroke along its leading direction
    `directions` (M, D) (unit vectors), green where it is within `within` degrees of the true tangent (`angles`
    (M,)), red where it is not: a code that follows the manifold draws green strokes along it."""
    three = data.shape[1] == 3
    scatter = go.Scatter3d if three else go.Scattergl
    traces = [scatter(**_xyz(data), mode="markers", name="data", hoverinfo="skip",
                      marker={"size": 1.5 if three else 3, "color": "#cccccc"})]
    for keep, name, colour in ((angles < within, f"within {within:g}° of the tangent", PALETTE[2]),
                               (angles >= within, "farther off", PALETTE[3])):
        ends = np.stack([points[keep] - STROKE * directions[keep], points[keep] + STROKE * directions[keep],
                         np.full_like(points[keep], np.nan)], axis=1).reshape(-1, points.shape[1])
        line_trace = go.Scatter3d if three else go.Scatter
        traces.append(line_trace(**_xyz(ends), mode="lines", name=f"{name} ({keep.sum()})", hoverinfo="skip",
                                 line={"color": colour, "width": 3 if three else 2}))
    fig = go.Figure(traces)
    if three:
        fig.update_layout(scene={"aspectmode": "cube", "xaxis_title": "x₁", "yaxis_title": "x₂",
                                 "zaxis_title": "x₃"})
    else:
        fig.update_xaxes(title="x₁", constrain="domain")
        fig.update_yaxes(title="x₂", scaleanchor="x", scaleratio=1)
    fig.update_layout(**{**LAYOUT, "height": 380}, title=title, showlegend=True, legend=LEGEND_BELOW)
    return fig


def _xyz(points: np.ndarray) -> dict[str, np.ndarray]:
    return dict(zip("xyz", points.T))


def spectrum_figure(spectra: dict[str, np.ndarray]) -> go.Figure:
    """Grouped bars: for each model (label -> singular values relative to its largest, (r,)), how much the code
    responds along its 1st, 2nd, ... direction. A sharp fall after the manifold's dimension is what a CAE learns."""
    fig = go.Figure([go.Bar(x=[f"σ{i + 1} / σ1" for i in range(len(values))], y=values, name=label,
                           marker_color=PALETTE[i % len(PALETTE)])
                     for i, (label, values) in enumerate(spectra.items())])
    fig.update_layout(**{**LAYOUT, "height": 320}, barmode="group", title="Singular values of df/dx (mean over points)",
                      showlegend=True, legend=LEGEND_BELOW)
    fig.update_yaxes(title="relative to the largest", range=[0, 1.05])
    return fig
