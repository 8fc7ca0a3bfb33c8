"""The latent replay as an animated Plotly figure: one frame per epoch, a slider labelled by epoch, Play and Pause.

Pure like `aeviz.plots` (whose template, palette and layout it uses); a module of its own because an animation's
frames, slider and buttons are a seam of their own, and `plots.py` is near the house size.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from aeviz.plots import LAYOUT, PALETTE
from aeviz.replay import spaced

FRAME_MS, TRANSITION_MS = 400, 250  # points glide between epochs, then rest a moment
MAX_FRAMES = 120  # a slider of more steps is too fine to drag, and the figure's JSON grows with every frame


def _traces(xy: np.ndarray, groups: list[tuple[str, str, np.ndarray]]) -> list[go.Scatter]:
    """One SVG trace per class (Scattergl does not glide between frames; 500 points do not need WebGL)."""
    return [go.Scatter(x=xy[rows, 0], y=xy[rows, 1], mode="markers", name=name, hoverinfo="name",
                       marker=dict(color=colour, size=6, opacity=0.8)) for name, colour, rows in groups]


def _groups(labels: np.ndarray | None, classes: Sequence[str] | None, n: int) -> list[tuple[str, str, np.ndarray]]:
    if labels is None:
        return [("codes", PALETTE[0], np.arange(n))]
    return [(classes[int(c)] if classes else str(int(c)), PALETTE[int(c) % len(PALETTE)], np.flatnonzero(labels == c))
            for c in np.unique(labels)]


def _range(values: np.ndarray) -> list[float]:
    lo, hi = float(values.min()), float(values.max())
    pad = 0.05 * max(hi - lo, 1e-6)
    return [lo - pad, hi + pad]


def _controls(names: list[str]) -> dict:
    """The slider (one step per frame, labelled by epoch) and the Play/Pause buttons under the plot."""
    still = dict(mode="immediate", frame=dict(duration=0, redraw=False), transition=dict(duration=0))
    play = dict(fromcurrent=True, mode="immediate", frame=dict(duration=FRAME_MS, redraw=False),
                transition=dict(duration=TRANSITION_MS, easing="cubic-in-out"))
    steps = [dict(method="animate", label=name, args=[[name], still]) for name in names]
    slider = dict(active=len(names) - 1, steps=steps, currentvalue=dict(prefix="epoch ", xanchor="right"), x=0.2,
                  len=0.8, y=0, yanchor="top", pad=dict(t=40))  # right of the buttons, its value at its right end
    # Stacked, not side by side: a 1024-pixel page leaves the plot ~450 px, and two buttons in a row ran under the
    # slider's first steps.
    buttons = dict(type="buttons", direction="down", x=0, y=0, xanchor="left", yanchor="top", pad=dict(t=36),
                   showactive=False, buttons=[dict(label="▶ Play", method="animate", args=[None, play]),
                                              dict(label="❚❚ Pause", method="animate", args=[[None], still])])
    return dict(sliders=[slider], updatemenus=[buttons])


def replay_figure(epochs: Sequence[int], xy: np.ndarray, labels: np.ndarray | None = None,
                  classes: Sequence[str] | None = None, axis_titles: tuple[str, str] = ("PC 1", "PC 2"),
                  title: str = "Latent replay") -> go.Figure:
    """xy (E, P, 2) from `replay.frames` -> an animation over epochs; it opens on the last epoch, fixed axes."""
    keep = spaced(len(epochs), MAX_FRAMES)
    names, xy = [str(epochs[i]) for i in keep], np.asarray(xy)[keep]
    groups = _groups(labels, classes, xy.shape[1])
    frames = [go.Frame(data=_traces(frame, groups), name=name) for name, frame in zip(names, xy)]
    fig = go.Figure(data=_traces(xy[-1], groups), frames=frames)
    # the legend stands at the right, one class a row: above the plot it would meet the title
    fig.update_layout(title=title, **{**LAYOUT, "height": 560}, **_controls(names))
    fig.update_layout(margin={**LAYOUT["margin"], "b": 130})  # room for the slider and the buttons
    fig.update_xaxes(title=axis_titles[0], range=_range(xy[..., 0]), autorange=False)
    fig.update_yaxes(title=axis_titles[1], range=_range(xy[..., 1]), autorange=False, scaleanchor="x",
                     scaleratio=1)
    return fig
