"""The Clusters page's figure: labels against clusters as a confusion heatmap. Pure: arrays in, a Plotly figure out."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from aeviz.plots import LAYOUT


def confusion_figure(table: np.ndarray, row_names: list[str], col_names: list[str]) -> go.Figure:
    """Counts (labels x clusters) written in each cell, coloured by the share of each label's points."""
    share = table / np.maximum(table.sum(1, keepdims=True), 1)
    fig = go.Figure(go.Heatmap(z=share, x=col_names, y=row_names, text=table, texttemplate="%{text}",
                               colorscale="Blues", zmin=0, zmax=1, colorbar={"title": "share<br>of label"},
                               hovertemplate="label %{y}<br>%{x}<br>%{text} points<extra></extra>"))
    # At least 320 px: rotated cluster names take ~100 px, and the colour bar needs room for its scale.
    fig.update_layout(**{**LAYOUT, "height": max(320, 140 + 34 * len(row_names))},
                      title="Which labels end up in which cluster")
    fig.update_xaxes(type="category", title="cluster → its matched label",
                     tickangle=0 if len(col_names) <= 4 else -40)
    fig.update_yaxes(type="category", title="true label", autorange="reversed")
    return fig
