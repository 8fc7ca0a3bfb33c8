"""The Anomalies page's data screening: drop the samples the run rebuilds worst (a share, or those above the page's
threshold), see which they are and their classes, and download the rest as a `.npz` that aeviz loads again.

Every sample of the run's dataset is screened (train and validation, as `aeviz screen` does); the choice, the counts
and the file are `aeviz.analysis.screening`'s. The errors are cached per run id + revision; the file is built only
when the download is clicked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from aeviz import plots
from aeviz.analysis import anomaly, screening
from aeviz.data import Dataset
from aeviz.runs import Run
from aeviz.ui import url
from aeviz.ui.explore import class_name

PAGE = "anomalies.screen"
MODES = {"share": "the worst share of the samples", "threshold": "those above the threshold above"}
SHOWN = 30  # dropped samples drawn


@st.cache_data(max_entries=8, show_spinner="Scoring every sample...")
def _errors(run_id: str, revision: int, source: str, _run: Run, _x: np.ndarray) -> np.ndarray:
    """(N,) reconstruction error of every sample, train and validation."""
    with _run.lock:
        return anomaly.errors(_run.model, _x)


def choose(run: Run, data: Dataset, threshold: float) -> screening.Screen:
    """The mode and share widgets, and what they drop."""
    left, right = st.columns(2)
    mode = url.radio(left, "Drop", list(MODES), key=f"{PAGE}.by", format_func=MODES.get, horizontal=True)
    errors = _errors(run.id, run.revision, data.source, run, data.x)
    if mode == "threshold":
        right.markdown(f"Threshold: **{threshold:.4f}** (move it above)")
        return screening.screen(errors, threshold=threshold)
    percent = url.slider(right, "Share to drop (%)", 0.0, 50.0, 5.0, step=0.5, format="%.1f%%", key=f"{PAGE}.drop",
                         help="floor(p × N) samples, the worst first; ties go by row order")
    return screening.screen(errors, fraction=percent / 100)


def _class_table(data: Dataset, dropped: np.ndarray) -> pd.DataFrame:
    lost, total = screening.class_counts(data.y, dropped, data.n_classes)
    return pd.DataFrame({"dropped": lost, "of all": total,
                         "% of the class dropped": 100 * lost / np.maximum(total, 1)},
                        index=[class_name(data, c) for c in range(data.n_classes)])


def _show_dropped(data: Dataset, dropped: np.ndarray, errors: np.ndarray) -> None:
    shown = dropped[:SHOWN]
    if not len(shown):
        return
    names = [f"#{i}" + (f" ({class_name(data, data.y[i])})" if data.y is not None else "") + f": {errors[i]:.4f}"
             for i in shown]
    if data.is_image:
        st.markdown(f"**The {len(shown)} worst of the dropped**")
        st.image(plots.tile(data.x[shown], cols=15, scale=2))
        st.caption("Worst first, left to right: " + " · ".join(names))
    else:
        st.dataframe({"row": shown, "error (MSE)": errors[shown],
                      **({"class": [class_name(data, data.y[i]) for i in shown]} if data.y is not None else {})})


def section(run: Run, data: Dataset, threshold: float) -> None:
    """Choose, count per class, show the dropped, and offer the screened file."""
    result = choose(run, data, threshold)
    errors = _errors(run.id, run.revision, data.source, run, data.x)
    n, dropped, kept = len(errors), result.dropped, result.kept
    c = st.columns(3)
    c[0].metric("Dropped", f"{len(dropped):,} of {n:,}")
    c[1].metric("Kept", f"{len(kept):,}")
    c[2].metric("Error cut-off", "none" if result.cutoff is None else f"{result.cutoff:.4f}",
                help="every dropped sample's error is at least this")
    st.caption(f"All {n:,} samples of {data.name} (training and validation) scored by this run.")
    if data.y is not None:
        table = _class_table(data, dropped)
        left, right = st.columns([2, 3])
        left.dataframe(table, column_config={"% of the class dropped": st.column_config.NumberColumn(format="%.1f")})
        top = screening.most_dropped(data.y, dropped, data.classes)
        right.markdown(f"**Dropped most:** {top}" if top else "Nothing dropped.")
        right.caption("A class dropped far more than its share is one the run draws badly, or one with odd "
                      "samples: look at them below before training on the screened file.")
    _show_dropped(data, dropped, errors)
    y = None if data.y is None else data.y[kept]
    st.download_button(f"Download the {len(kept):,} kept samples (.npz)",
                       data=lambda: screening.npz_bytes(data.x[kept], y, kept),
                       file_name=f"{data.name.rsplit('.', 1)[0]}-screened.npz", mime="application/octet-stream",
                       key=f"{PAGE}.download", icon=":material/download:", on_click="ignore")
    st.caption("The file holds x, y (with labels) and kept, the kept rows' indices into this data. Load it on the "
               "Data page or with `aeviz train --data FILE.npz`; `aeviz screen RUN_DIR --drop 5% --out clean.npz` "
               "does the same from the command line.")
