"""What the exploration pages share: the 'needs a trained run' guard and the run's codes, cached per epoch.

Derived arrays are cached with `st.cache_data` keyed by run id + epoch (+ parameters); large inputs are passed as
underscore arguments so Streamlit does not hash them.
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
import streamlit as st

from aeviz import plots
from aeviz.data import Dataset
from aeviz.errors import InputError
from aeviz.evaluation import encode_all, reconstruct_all
from aeviz.metrics import per_sample_mse
from aeviz.runs import Run
from aeviz.ui import run_picker, state, url


@dataclass(frozen=True)
class Codes:
    """A split of the run's data with its codes, reconstructions and per-sample errors, row-aligned."""

    x: np.ndarray  # (N, *shape)
    y: np.ndarray | None  # (N,)
    z: np.ndarray  # (N, k)
    x_hat: np.ndarray  # (N, *shape)
    errors: np.ndarray  # (N,) per-sample MSE


def require_run(page: str) -> tuple[Run, Dataset]:
    """The run picker and the current run with its data; with no run at all, an explanation and a link to Train,
    then st.stop(). A fresh browser is shown the newest saved run it may list, and told so."""
    run = run_picker.run_picker(page)
    if run is not None and st.session_state.get("state.auto_run") == run.id:
        st.caption(":material/history: Showing the newest saved run; pick another above.")
    if run is None:
        st.warning("There is no run to look at yet: this page needs a trained model.", icon=":material/info:")
        st.page_link("pages/train.py", label="Train a model first", icon=":material/model_training:")
        st.stop()
    try:
        data = state.run_data(run)
    except InputError as exc:
        st.error(f"{exc} The run's data cannot be loaded, so it cannot be shown here.")
        st.stop()
    job = state.job_for(run)
    training = job is not None and job.active
    if training:
        st.caption(f"Run `{run.id}` is still training: these views show epoch {run.epoch} and follow it.")
    elif 0 < run.best_epoch < run.epoch:
        st.caption(f"These views use the weights of its best epoch ({run.best_epoch} of {run.epoch}).")
        st.fragment(run_every=FOLLOW_EVERY_S)(_follow)(run.id, run.revision)
    return run, data


FOLLOW_EVERY_S = 3.0


def _follow(run_id: str, shown: int) -> None:
    """While the run trains, redraw the page once its weights change (an epoch ends), so no view goes stale."""
    run = state.current_run()
    if run is None or run.id != run_id or run.revision != shown:
        st.rerun(scope="app")


@st.cache_data(max_entries=16, show_spinner="Encoding the data...")
def _codes(run_id: str, revision: int, split: str, limit: int, _run: Run, _data: Dataset) -> Codes:
    x, y = _data.split(split)
    if limit:
        x, y = x[:limit], None if y is None else y[:limit]
    with _run.lock:
        z = encode_all(_run.model, x)
        x_hat = reconstruct_all(_run.model, x)
    return Codes(x, y, z, x_hat, per_sample_mse(x, x_hat))


def codes(run: Run, data: Dataset, split: str = "val", limit: int = 0) -> Codes:
    """The run's codes for a split (all rows unless `limit`), recomputed when the run's epoch changes."""
    return _codes(run.id, run.revision, split, limit, run, data)


SPLIT_WORDS = {"val": "the validation split", "train": "the training split", "all": "both splits"}


def split_picker(page: str, data: Dataset) -> str:
    """Validation split by default; 'all' and 'train' on request. Says how many points each has."""
    sizes = {"val": len(data.val_idx), "train": len(data.train_idx), "all": len(data.x)}
    names = {"val": "validation", "train": "training", "all": "all"}
    return url.radio(st, "Points", list(sizes), key=f"{page}.split", horizontal=True,
                    format_func=lambda s: f"{names[s]} ({sizes[s]:,})")


DRAW_CHOICES = (5_000, plots.MAX_DRAWN, 50_000, 100_000)  # beyond ~100,000 points a browser takes seconds to draw


def drawn_rows(page: str, n: int) -> np.ndarray:
    """The rows a page's scatter draws: all up to `plots.MAX_DRAWN`; beyond that a "Points drawn" choice (in the URL)
    of a seeded sample, MAX_DRAWN by default. Scores, searches and neighbours always use every row."""
    if n <= plots.MAX_DRAWN:
        return np.arange(n)
    choices = [c for c in DRAW_CHOICES if c < n] + ([n] if n <= DRAW_CHOICES[-1] else [])
    cap = url.selectbox(st, "Points drawn", choices, index=choices.index(plots.MAX_DRAWN), key=f"{page}.drawn",
                        format_func=lambda c: f"all {c:,}" if c == n else f"{c:,}",
                        help=f"A seeded random sample of the {n:,} points, the same on every visit (at most "
                        f"{DRAW_CHOICES[-1]:,}: more take a browser many seconds to draw). Every number on the page "
                        "(colours, clusters, searches, a selection's neighbours) uses all of them; only the drawing "
                        "is thinned.")
    return plots.drawn_rows(n, cap)


def class_name(data: Dataset, label: int) -> str:
    return data.classes[int(label)] if data.classes else str(int(label))
