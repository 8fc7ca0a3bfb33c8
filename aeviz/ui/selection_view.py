"""The Features page's feature selection: the inputs ranked by importance, the top k kept (and downloadable as a
CSV), and on request the comparison of probes trained on them, on k random inputs and on k PCA components
(`aeviz.analysis.feature_selection`).

The comparison is seconds of training, so it runs in one background `aeviz.tasks.Task`, started by a button and kept
per (run id, revision, k, importance target) in a dict shared by every session: a rerun or a reload shows the same
result without training again, and the weights changing (a new revision) asks for a fresh one.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from aeviz import plots
from aeviz.analysis import feature_selection as fsel
from aeviz.data import Dataset
from aeviz.loaders import csvfile
from aeviz.runs import Run
from aeviz.tasks import Task
from aeviz.ui import url
from aeviz.ui.latent_view import task_progress

PAGE = "features.select"
K_MAX, K_DEFAULT = 300, 50
MAX_TASKS = 8  # comparisons kept (running or done); the oldest is cancelled and dropped
_LOCK = threading.Lock()  # sessions run their scripts on their own threads: one at a time edits the shared dict


@st.cache_resource(show_spinner=False)
def tasks() -> dict[tuple, Task]:
    """(run id, revision, k, target) -> its comparison Task, shared by every session."""
    return {}


@st.cache_data(max_entries=16, show_spinner="Measuring each input's importance...")
def _importance(run_id: str, revision: int, target: str, _run: Run, _x: np.ndarray) -> np.ndarray:
    with _run.lock:
        return fsel.importance_of(_run.model, _x, target)


def names(data: Dataset) -> list[str]:
    """Each input's name: pixel (row, col), or the CSV's column titles when the data came from one."""
    path = Path(data.source)
    header = csvfile.header(path) if path.suffix.lower() == ".csv" else None
    return fsel.feature_names(data.shape, header)


def _show_chosen(data: Dataset, importance: np.ndarray, top: np.ndarray, labels: list[str], k: int) -> None:
    left, right = st.columns(2)
    if data.is_image and data.shape[0] == 1:
        h, w = data.shape[1:]
        left.plotly_chart(plots.heatmap(importance.reshape(h, w), "Importance of each pixel"),
                          key=f"{PAGE}.map", config=plots.CHART_CONFIG)
        mask = np.zeros(importance.size, np.float32)
        mask[top[:k]] = 1.0
        right.markdown(f"**The {k} pixels kept** (white)")
        right.image(plots.tile(mask.reshape(1, *data.shape), cols=1, scale=8))
    else:
        shown = top[:min(k, 40)]
        left.plotly_chart(plots.bars([labels[i] for i in shown], importance[shown],
                                     f"The {len(shown)} most important inputs", "importance"),
                          key=f"{PAGE}.bars", config=plots.CHART_CONFIG)
        right.markdown("**Kept:** " + ", ".join(labels[i] for i in top[:k]))


def _start(key: tuple, run: Run, data: Dataset, top: np.ndarray, k: int) -> None:
    code = run.model.config.latent_dim

    def work(report):  # the splits are copied here, not captured: a kept Task holds no arrays but the ranking
        (train_x, _), (val_x, val_y) = data.split("train"), data.split("val")
        return fsel.compare(train_x, val_x, val_y, top, k, code, report=report)

    task = Task(work, f"Training three probes on {k} inputs each")
    with _LOCK:
        shared = tasks()
        shared[key] = task
        while len(shared) > MAX_TASKS:  # bounded: drop (and stop) the oldest
            shared.pop(next(iter(shared))).cancel()


def _table(scores: dict[str, fsel.Score], k: int) -> pd.DataFrame:
    frame = pd.DataFrame({"validation MSE": [s.mse for s in scores.values()]},
                         index=[fsel.ARMS[arm].replace("k", str(k), 1) for arm in scores])
    if all(s.acc is not None for s in scores.values()):
        frame["K-Means accuracy"] = [s.acc for s in scores.values()]
    return frame


def _show_result(task: Task, k: int) -> None:
    scores: dict[str, fsel.Score] = task.result
    frame = _table(scores, k)
    st.dataframe(frame, column_config={c: st.column_config.NumberColumn(format="%.4f") for c in frame.columns})
    top, rand, pca = (scores[arm] for arm in ("top", "random", "pca"))
    st.caption(f"All three rebuild the whole input from their {k} numbers, so their errors compare directly. The top "
               f"{k} inputs give {top.mse / rand.mse:.0%} of the random inputs' error and {top.mse / pca.mse:.0%} of "
               "PCA's: PCA's components each mix every input, so they are the bar a choice of raw inputs has to "
               "reach." + ("" if "K-Means accuracy" in frame else " This data has no labels, so there are no "
                           "cluster accuracies.") + f" {task.status()}.")


def section(run: Run, data: Dataset) -> None:
    """Rank, keep k, download the list; then the comparison (button, background task, table)."""
    d, n_train = int(np.prod(data.shape)), len(data.train_idx)
    top_k = min(d, n_train, K_MAX)
    if top_k < 2:
        st.info(f"Feature selection needs at least 2 inputs and 2 training rows (this data has {d} and {n_train}).",
                icon=":material/info:")
        return
    left, right = st.columns(2)
    target = url.radio(left, "Rank the inputs by their importance to", list(fsel.TARGETS), key=f"{PAGE}.by",
                       format_func=fsel.TARGETS.get, horizontal=True)
    k = url.slider(right, "Keep the top k", 1, top_k, min(K_DEFAULT, top_k), key=f"{PAGE}.k")
    importance = _importance(run.id, run.revision, target, run, data.split("train")[0])
    top, labels = fsel.rank(importance), names(data)
    _show_chosen(data, importance, top, labels, k)
    st.download_button(f"Download the {k} chosen features (CSV)", fsel.ranking_csv(importance, labels, k),
                       file_name=f"{run.id}-top{k}-features.csv", mime="text/csv", key=f"{PAGE}.download",
                       icon=":material/download:", on_click="ignore")
    st.caption("Importance: the mean |gradient| of " + fsel.TARGETS[target] + " with respect to each input, over "
               f"up to {fsel.IMPORTANCE_ROWS:,} training rows, times how much that input varies over the data (an "
               "input that never changes tells the model nothing, however steep its gradient).")
    key = (run.id, run.revision, k, target)
    task = tasks().get(key)
    if task is None:
        if st.button(f"Retrain on these {k} and compare", key=f"{PAGE}.go", icon=":material/play_arrow:",
                     help="Trains three small models (a few seconds each): from the top k inputs, from k random "
                          "inputs, and from k PCA components, each rebuilding the whole input."):
            _start(key, run, data, top, k)
            st.rerun()
        return
    if task.running:
        task_progress(task, f"{PAGE}.cancel")
    elif task.cancelled or task.error:
        with _LOCK:
            tasks().pop(key, None)  # the next click starts it again
        st.warning(task.status() + ". Click the button to run it again.", icon=":material/warning:")
    else:
        _show_result(task, k)
