"""The latent replay panel: the codes of a fixed probe of validation samples, epoch by epoch, as an animation, and
an "Export for slides" row of downloads (GIF, PNG, SVG) drawn on the server by `aeviz.export`.

The figure and the exported files are cached by run id + revision (a new epoch is a new revision); the downloads are
drawn only when clicked (Streamlit runs the callable in a thread of its own), so opening the page costs nothing.
"""

from __future__ import annotations

import functools

import plotly.graph_objects as go
import streamlit as st

from aeviz import plots

from aeviz import export
from aeviz import replay as replays
from aeviz.data import Dataset
from aeviz.errors import InputError
from aeviz.plots_replay import replay_figure
from aeviz.runs import Run

# (what, format, button label): the exports a presenter wants of this panel, in the order they are shown
DOWNLOADS = (("latent-gif", "gif", "Latent GIF"), ("latent", "png", "Latent PNG"), ("latent", "svg", "Latent SVG"),
             ("loss", "png", "Loss PNG"), ("loss", "svg", "Loss SVG"))
MIMES = {"gif": "image/gif", "png": "image/png", "svg": "image/svg+xml"}


@st.cache_data(max_entries=8, show_spinner=False)
def _figure(run_id: str, revision: int, _run: Run, _data: Dataset) -> tuple[go.Figure, int, int] | None:
    """(figure, code size, probe size) of the run's replay, or None when it has none."""
    replay = replays.of_run(_run)
    if replay is None or not replay.epochs:
        return None
    if replay.probe_idx.max() >= len(_data.x):
        raise InputError("The run's replay does not fit its data (the data changed since training).")
    epochs, xy = replays.frames(replay)
    dim = replay.codes[0].shape[1]
    labels = None if _data.y is None else _data.y[replay.probe_idx]
    axes = ("z1", "z2") if dim == 2 else ("PC 1", "PC 2")
    fig = replay_figure(epochs, xy, labels, _data.classes, axes, title=f"Latent replay: epochs {epochs[0]} to "
                        f"{epochs[-1]}")
    return fig, dim, len(replay.probe_idx)


@st.cache_data(max_entries=16, show_spinner=False)
def _export(run_id: str, revision: int, what: str, fmt: str, _run: Run, _data: Dataset) -> bytes:
    return export.export_bytes(_run, _data, what, fmt)


def show_replay(run: Run, data: Dataset) -> None:
    """Caption, the animated replay and the export row; one line of advice for a run without a replay."""
    try:
        shown = _figure(run.id, run.revision, run, data)
    except InputError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    if shown is None:
        st.info(export.NO_REPLAY, icon=":material/history:")
        return
    fig, dim, probe = shown
    st.caption(f"The codes of the same {probe} validation samples after every epoch (epoch 0: before training). "
               f"Press Play, or drag the slider. {replays.describe(dim)}")
    st.plotly_chart(fig, key="replay.figure", config=plots.CHART_CONFIG)
    _export_row(run, data)


def _export_row(run: Run, data: Dataset) -> None:
    st.markdown("**Export for slides** (1920 x 1080 PNG and GIF, the GIF loops; SVG to edit)")
    for col, (what, fmt, label) in zip(st.columns(len(DOWNLOADS)), DOWNLOADS):
        no_loss = what == "loss" and not run.history
        col.download_button(label, data=functools.partial(_export, run.id, run.revision, what, fmt, run, data),
                            file_name=f"{run.id}-{what}.{fmt}", mime=MIMES[fmt], on_click="ignore",
                            key=f"replay.export.{what}.{fmt}", width="stretch",
                            disabled=no_loss, help="no finished epoch yet" if no_loss else None)
