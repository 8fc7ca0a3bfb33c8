"""The pictures both training panels draw: the reconstruction strip, the loss chart and the latent probe.

Each is built once per change for every tab that shows it (`st.cache_resource` keyed by the run and a fingerprint
of what changed): a room of tabs watching one run costs one build per update, not one per tab per second.
"""

from __future__ import annotations

import hashlib
import io
import math
import time
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from aeviz import plots, steering
from aeviz.ui.view_caches import view_resource

STRIP_SCALE = 3  # 28 px digits drawn at 84 px: readable on a projector
CHART_CONFIG = {**plots.CHART_CONFIG, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


def duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds} s"



def strip(inputs: np.ndarray | None, outputs: np.ndarray | None, is_image: bool, when: str,
           noisy: np.ndarray | None = None, noise_spec: tuple[str, float] | None = None) -> None:
    """Validation images over their reconstructions; for a denoising model the noisy inputs it is fed between."""
    if not is_image or inputs is None or not len(inputs):
        return
    rows = [inputs] + ([noisy] if noisy is not None else []) + ([outputs] if outputs is not None else [])
    if noisy is not None:
        caption = (f"top: clean validation images · middle: what the model is fed ({noise_spec[0]} noise, level "
                   f"{noise_spec[1]:g}) · bottom: its reconstruction of the noisy input ({when})")
    else:
        caption = f"top: validation images · bottom: their reconstructions ({when})"
    stack = np.concatenate(rows)
    st.image(_strip_png(fingerprint(stack), stack, len(inputs)), caption=caption)


def fingerprint(array: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(array).tobytes(), digest_size=8).hexdigest()


@view_resource(show_spinner=False, max_entries=64)
def _strip_png(fingerprint: str, _stack: np.ndarray, cols: int) -> bytes:
    """The strip as PNG bytes, encoded once per picture for every tab that shows it (the live view redraws every
    second or two, the reconstructions change a few times an epoch)."""
    buf = io.BytesIO()
    Image.fromarray(plots.tile(_stack, cols=cols, pad=2, scale=STRIP_SCALE)).save(buf, format="PNG")
    return buf.getvalue()


LIVE_LOSS_EVERY_S = 2.0  # a live loss chart is rebuilt at most this often, whatever the number of tabs


def loss_chart(points: list[dict[str, float]], history: list[dict[str, Any]], run_id: str,
               live: bool = False, changes: list[dict[str, Any]] = ()) -> None:
    """The loss chart; a live one is rebuilt once per `LIVE_LOSS_EVERY_S` (and per finished epoch or knob change)
    for every tab. Each knob changed mid-run is a dashed line with its text ("lr 0.002 → 0.01 (epoch 4, step 17)")."""
    if not points and not history:
        st.caption("The loss curve appears after the first logged steps.")
        return
    when = int(time.monotonic() // LIVE_LOSS_EVERY_S) if live else (len(points), points[-1]["epoch"] if points else 0)
    marks = [(steering.mark_x(c), steering.label(c)) for c in changes]
    fig = loss_figure(run_id, when, (len(history), len(marks)), _thin(points), history, marks)
    st.plotly_chart(fig, key="train.live.loss", config=CHART_CONFIG)


MAX_DRAWN_POINTS = 400  # a chart a few hundred pixels wide shows no more; thousands cost every tab every redraw


def _thin(points: list[dict[str, float]], most: int = MAX_DRAWN_POINTS) -> list[dict[str, float]]:
    """At most `most` points: consecutive points averaged in equal groups, the last point kept as it is."""
    if len(points) <= most:
        return points
    edges = np.linspace(0, len(points) - 1, most).astype(int)
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        group = points[lo:hi]
        keys = set.intersection(*(set(p) for p in group))
        out.append({k: float(np.mean([p[k] for p in group])) for k in keys})
    return out + [points[-1]]


@view_resource(show_spinner=False, max_entries=32)
def loss_figure(run_id: str, when: Any, counts: tuple[int, int], _points: list[dict[str, float]],
                _history: list[dict[str, Any]], _marks: list[tuple[float, str]] = ()) -> go.Figure:
    """The loss chart, built once per `when` (new points, or a live chart's time slot) and per count of epochs and
    marks, for every tab."""
    fig = plots.loss_curves(_distinct_parts(_points), _history, marks=_marks)
    fig.update_layout(uirevision=run_id)  # keep the user's zoom while the data updates
    ys = [v for p in _points for k, v in p.items() if k != "epoch" and v and v > 0]
    ys += [h["val_loss"] for h in _history if h.get("val_loss", 0) > 0]
    if ys and max(ys) / min(ys) > 3:  # log axis labelled 1, 2, 5, 10, 20...: no crowded digits
        fig.update_yaxes(dtick="D2", tickformat="~g")
    else:  # a loss that hardly moves (pure noise) spans no 1-2-5 tick: plotly's own ticks, not none at all
        fig.update_yaxes(tickformat=".3~g")
    return fig


def _distinct_parts(points: list[dict[str, float]]) -> list[dict[str, float]]:
    """Drop a loss part that equals the total everywhere (a plain AE's recon): it would hide under the total."""
    same = [k for k in plots.PART_COLOURS if k != "loss" and points and all(
        k in p and math.isclose(p[k], p.get("loss", math.nan), rel_tol=1e-9) for p in points)]
    return [{k: v for k, v in p.items() if k not in same} for p in points] if same else points


def latent_chart(xy: np.ndarray | None, labels: np.ndarray | None, classes: tuple[str, ...] | None,
                  latent_dim: int, when: int | str, run_id: str, every_s: float = 0.0) -> None:
    """The probe's codes; `when` is an epoch or a mid-epoch moment ("epoch 4, step 17/47"). With `every_s`, a new
    probe replaces the one on screen at most that often (for every tab alike), and the caption names the epoch the
    picture shows."""
    if xy is None:
        st.caption("The latent plot appears once training starts.")
        return
    when = f"epoch {when}" if isinstance(when, int) else when
    print_ = fingerprint(xy)
    if every_s > 0:
        print_, when, xy, labels = _throttled(_shown(run_id), every_s, print_, when, xy, labels)
    fig = latent_figure(run_id, when, latent_dim, print_, xy, labels, classes)
    st.plotly_chart(fig, key="train.live.latent", config=CHART_CONFIG)
    how = f"the {latent_dim}-D code itself" if latent_dim <= 2 else f"PCA of the {latent_dim}-D code"
    colour = ", coloured by label: watch the clusters form" if labels is not None else " (the data has no labels)"
    st.caption(f"{len(xy):,} validation samples at {when}, {how}{colour}.")


@view_resource(show_spinner=False, max_entries=16)
def _shown(run_id: str) -> dict[str, Any]:
    """The live map on screen for a run (shared by every tab): its fingerprint, moment, codes, labels and time."""
    return {}


def _throttled(shown: dict[str, Any], every_s: float, print_: str, when: str, xy: np.ndarray,
               labels: np.ndarray | None) -> tuple[str, str, np.ndarray, np.ndarray | None]:
    """The probe to draw: this one if the one on screen is older than `every_s`, else the one on screen. A browser
    redraws a changed 1,000-point map in ~0.2 s of CPU, and a fast run has a new probe every half second: on the
    machine that trains, a map redrawn every refresh took the trainer's CPU."""
    now = time.monotonic()
    if shown.get("print") != print_ and now - shown.get("at", -math.inf) >= every_s:
        shown.update({"print": print_, "when": when, "xy": xy, "labels": labels, "at": now})
    return shown["print"], shown["when"], shown["xy"], shown["labels"]


@view_resource(show_spinner=False, max_entries=16)
def latent_figure(run_id: str, when: str, latent_dim: int, fingerprint: str, _xy: np.ndarray,
                  _labels: np.ndarray | None, _classes: tuple[str, ...] | None) -> go.Figure:
    """The latent scatter, built once per probe (the codes change once an epoch, the live view redraws every
    second, and building a 1,000-point figure costs ~70 ms of the training thread's CPU). Keyed by the codes'
    fingerprint, since the end of a run re-encodes the probe with the best epoch's weights."""
    raw = latent_dim <= 2  # 1-D and 2-D codes are drawn as they are
    fig = plots.latent_scatter(_xy, _labels, _classes, title=f"Codes at {when}",
                               axis_titles=("z1", "z2") if raw else ("PC 1", "PC 2"))
    # As tall as the loss chart beside it: the live view fits a 768-pixel projector in presenter mode.
    fig.update_layout(uirevision=run_id, dragmode="pan", legend=dict(title="class"), height=plots.LAYOUT["height"])
    return svg(fig)


def svg(fig: go.Figure) -> go.Figure:
    """The same figure drawn as SVG instead of WebGL: a live chart redraws every few seconds, and a WebGL redraw
    (a context, a read-back of its pixels) cost a browser without a GPU several times an SVG one of 1,000 points."""
    spec = fig.to_plotly_json()
    for trace in spec["data"]:
        if trace.get("type") == "scattergl":
            trace["type"] = "scatter"
    return go.Figure(spec)
