"""The Clusters page's parts: its settings, the clustering of the codes in the chosen space (cached per run + epoch),
the raw-pixel and PCA baselines taken through the same space (background tasks cached per dataset, not per epoch),
the scores and verdict, the confusion matrix, the decoded centroids and a few samples per cluster. The logic lives in
aeviz.analysis.clustering and .n2d, the figure in aeviz.plots_clusters.

Slow work never blocks the page: UMAP and the baselines run on `aeviz.tasks.Task`s, shown with a progress bar and a
Cancel button by a fragment that reruns the page when they finish.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from aeviz import plots
from aeviz.analysis import clustering, n2d
from aeviz.analysis.importance import decode_all
from aeviz.data import Dataset
from aeviz.embedding import warm_up_in_background
from aeviz.errors import InputError
from aeviz.plots_clusters import confusion_figure
from aeviz.runs import Run
from aeviz.tasks import Task
from aeviz.ui import url
from aeviz.ui.explore import Codes, class_name
from aeviz.ui.latent_view import ORPHAN_S, task_progress

PAGE = "clusters"
K_MAX = 30
METHODS = {"kmeans": "K-Means", "gmm": "Gaussian mixture"}
SCORES = {"acc": "Accuracy", "nmi": "NMI", "ari": "ARI", "silhouette": "Silhouette"}
SCORE_HELP = {
    "acc": "Share of points whose cluster, mapped one-to-one to a label (Hungarian matching), is their true label.",
    "nmi": "Normalised mutual information between clusters and labels: 0 = unrelated, 1 = the same partition.",
    "ari": "Adjusted Rand index: agreement on which pairs of points belong together, 0 for a random clustering.",
    "silhouette": "How much closer each point is to its own cluster than to the next one (-1..1), measured in the "
                  "space that was clustered; it needs no labels.",
}
SAMPLES = 12  # images per cluster row
PER_ROW = 10  # decoded centroids per row
MAX_TASKS = 4  # UMAP results kept per session
# Task's `slot`: baselines wait for each other, so trying five values of k never starts five pixel clusterings.
_BASELINE_SLOT = threading.Lock()
warm_up_in_background()  # UMAP's import and JIT paid while the visitor looks at PCA, not on the first click


@dataclass(frozen=True)
class Settings:
    method: str  # the clusterer actually used: the space's own (N2D: a Gaussian mixture) or the user's choice
    space: str  # a key of aeviz.analysis.n2d.SPACES
    k: int


def controls(data: Dataset, n: int) -> Settings:
    """k, space and method, keyed by page; k defaults to the number of classes."""
    c1, c2, c3 = st.columns([3, 2, 3])
    k_max = max(3, min(K_MAX, n - 1))
    default = min(data.n_classes if data.n_classes >= 2 else 10, k_max)
    k = url.slider(c1, "Number of clusters k", 2, k_max, default, key=f"{PAGE}.k",
                   help="Defaults to the number of classes; try more to see classes split into styles.")
    space = url.radio(c3, "Cluster in", list(n2d.SPACES), format_func=lambda name: n2d.SPACES[name].label,
                      key=f"{PAGE}.space")
    prescribed = n2d.SPACES[space].method
    if prescribed is None:
        method = url.radio(c2, "Method", list(METHODS), format_func=METHODS.get, key=f"{PAGE}.method",
                           help="K-Means: round clusters of equal spread. Gaussian mixture: each cluster its own "
                                "ellipsoid (full covariance on codes; diagonal on raw pixels, where full is too "
                                "slow), which can follow stretched clusters.")
    else:
        method = prescribed
        c2.markdown(f"**Method**  \n{METHODS[method]}, as N2D prescribes")
    if space != "latent":
        c3.caption("UMAP keeps each point's nearest neighbours together and pulls separate groups apart, so "
                   "clusters that touch in the code space become islands. It does that for raw pixels too, so "
                   "the baselines below go through the same UMAP.")
    return Settings(method, space, int(k))


# -- slow work on background tasks (aeviz.tasks.Task: progress and Cancel) -------------------------------------------
def raw_name(x: np.ndarray) -> str:
    """'pixels' for images (N, C, H, W), 'inputs' for vectors."""
    return "pixels" if x.ndim == 4 else "inputs"


def _finished(task: Task, cancel_key: str, forget: Callable[[], None]) -> Any:
    """A shared baseline task's result, or None while it runs (progress shown) or when it was cancelled or failed."""
    if task.running:
        task_progress(task, cancel_key)
        return None
    if task.cancelled:  # cached for everyone: forget it so the next visit starts it again
        forget()
        st.info(task.status() + ". Reload the page to compute it again.")
        return None
    if task.error:
        st.warning(task.error)
        return None
    return task.result


@st.cache_resource(max_entries=32, show_spinner=False)
def _baseline_task(source: str, params: str, split: str, k: int, method: str, n_components: int,
                   _x: np.ndarray, _y: np.ndarray | None) -> Task:
    """Raw pixels and PCA codes clustered as they are. Shared by every session on this dataset, so it never cancels
    itself when one viewer leaves."""
    def work(report):
        report(f"clustering the raw {raw_name(_x)} and PCA codes", None)  # one step: no finer checkpoints
        return clustering.baselines(_x, _y, k, n_components, method)
    return Task(work, f"The {raw_name(_x)} and PCA baseline of {len(_x):,} points", slot=_BASELINE_SLOT)


@st.cache_resource(max_entries=8, show_spinner=False)
def _embedding_task(source: str, params: str, split: str, space: str, n_components: int, _x: np.ndarray) -> Task:
    """Raw pixels and PCA codes through the space's UMAP: computed once per dataset and space, whatever k."""
    return Task(lambda report: n2d.baseline_features(_x, space, n_components, report=report),
                f"UMAP of the raw {raw_name(_x)} and PCA codes ({len(_x):,} points)", slot=_BASELINE_SLOT)


@st.cache_data(max_entries=32, show_spinner="Clustering the baselines...")
def _score_embedded(source: str, params: str, split: str, space: str, n_components: int, k: int, method: str,
                    _feats: dict, _y: np.ndarray | None) -> dict[str, dict[str, float]]:
    return {name: clustering.run(feats, _y, k, method).scores for name, feats in _feats.items()}


def baselines(data: Dataset, split: str, s: Settings, codes: Codes) -> dict[str, dict[str, float]] | None:
    """Pixel and PCA scores for this dataset, split, space, k and method (shared by every run on it), or None
    while they are computed (their progress is shown)."""
    params = json.dumps(data.params, sort_keys=True, default=str)
    dims = codes.z.shape[1]
    if s.space == "latent":
        task = _baseline_task(data.source, params, split, s.k, s.method, dims, codes.x, codes.y)
        return _finished(task, f"{PAGE}.cancel_baseline", _baseline_task.clear)
    task = _embedding_task(data.source, params, split, s.space, dims, codes.x)
    feats = _finished(task, f"{PAGE}.cancel_baseline", _embedding_task.clear)
    if feats is None:
        return None
    return _score_embedded(data.source, params, split, s.space, dims, s.k, s.method, feats, codes.y)


def space_features(run: Run, split: str, z: np.ndarray, space: str) -> np.ndarray | None:
    """The codes as `space` clusters them (a UMAP embedding), or None while it runs (its progress is shown) or
    when it failed."""
    if space == "latent":
        return z
    spec = n2d.get(space)
    tasks: dict = st.session_state.setdefault(f"{PAGE}.umap_tasks", {})
    key = (run.id, run.revision, split, space)
    if key not in tasks or tasks[key].cancelled:
        try:
            spec.params.check(len(z))
        except InputError as exc:
            st.error(f"{exc} Cluster in the latent space instead, or use more points.")
            return None
        dims = min(spec.dims, z.shape[1])
        title = f"{'' if dims == 2 else f'{dims}-D '}UMAP of {len(z):,} codes"
        tasks[key] = Task(lambda report: n2d.features(z, space, 0, report), title, orphan_after=ORPHAN_S)
        while len(tasks) > MAX_TASKS:  # keep memory bounded: forget (and stop) the oldest embedding
            tasks.pop(next(iter(tasks))).cancel()
    task = tasks[key]
    if task.running:
        task_progress(task, f"{PAGE}.cancel_umap")
        return None
    if task.cancelled:
        st.info(task.status() + ". Cluster in the latent space, or pick this space again.")
        return None
    if task.error:
        st.error(f"{task.error}. Cluster in the latent space instead.")
        return None
    st.caption(f"{task.title} took {task.elapsed:.1f} s (kept for this run and epoch).")
    return task.result


# -- clustering and its scores --------------------------------------------------------------------------------------
@st.cache_data(max_entries=32, show_spinner="Clustering the codes...")
def _cluster(run_id: str, revision: int, split: str, space: str, method: str, k: int, _feats: np.ndarray,
             _y: np.ndarray | None) -> clustering.Clustering:
    return clustering.run(_feats, _y, k, method)


def cluster(run: Run, split: str, s: Settings, feats: np.ndarray, y: np.ndarray | None) -> clustering.Clustering:
    """Cached per run id + epoch + split + settings (raises InputError for an impossible k)."""
    return _cluster(run.id, run.revision, split, s.space, s.method, s.k, feats, y)


def show_scores(result: clustering.Clustering, base: dict[str, dict[str, float]] | None, s: Settings,
                pca_dims: int, raw: str = "pixels", model: str = "ae") -> None:
    """One metric per score (delta against raw pixels/inputs clustered the same way) and a small table, the best
    value per row in bold, and the verdict."""
    keys = [key for key in SCORES if key in result.scores]
    for col, key in zip(st.columns(len(keys)), keys):
        ours, ref = result.scores[key], (base or {}).get("pixels", {}).get(key)
        col.metric(SCORES[key], f"{ours:.3f}", None if ref is None else f"{ours - ref:+.3f} vs {raw}",
                   help=SCORE_HELP[key])
    prefix = n2d.SPACES[s.space].prefix
    columns = {f"{prefix}codes": [result.scores[key] for key in keys]}
    if base is not None:
        columns[f"{prefix}raw {raw}"] = [base["pixels"].get(key, np.nan) for key in keys]
        columns[f"{prefix}PCA ({pca_dims} dims)"] = [base["pca"].get(key, np.nan) for key in keys]
    table = pd.DataFrame(columns, index=[SCORES[key] for key in keys])
    styled = table.style.format("{:.3f}", na_rep="–").highlight_max(
        axis=1, props="font-weight: bold; background-color: #dbeafe")
    left, right = st.columns([3, 2])
    left.dataframe(styled, width="stretch")
    same = "method" if s.space == "latent" else "UMAP, method"
    right.caption(f"Same {same} ({METHODS[s.method]}) and k in every column; PCA keeps as many components as the "
                  "code has dimensions (or as the inputs have values, if fewer). The best value of each row is "
                  "highlighted. Silhouette is measured in each column's own space, so compare it across columns "
                  "with care.")
    if base is not None and "acc" in result.scores:
        right.markdown(n2d.verdict(result.scores["acc"], base["pixels"]["acc"], s.space, raw, model))


# -- naming, confusion, centroids, samples --------------------------------------------------------------------------
def cluster_order(data: Dataset, assign: np.ndarray, y: np.ndarray | None) -> tuple[list[int], dict[int, str]]:
    """Non-empty clusters in display order and their names ("cluster 3 → 7")."""
    order, mapping = clustering.cluster_order(assign, y)
    if y is None:
        return order, {c: f"cluster {c}" for c in order}
    names = {c: f"cluster {c} → {class_name(data, mapping[c])}" if c in mapping else f"cluster {c} (unmatched)"
             for c in order}
    return order, names


def show_confusion(data: Dataset, result: clustering.Clustering, y: np.ndarray, names: dict[int, str]) -> None:
    table, labels, order = clustering.confusion(y, result.assign)
    fig = confusion_figure(table, [class_name(data, lab) for lab in labels], [names[c] for c in order])
    st.plotly_chart(fig, key=f"{PAGE}.confusion", config=plots.CHART_CONFIG)


def show_centroids(run: Run, data: Dataset, result: clustering.Clustering, codes: Codes, s: Settings,
                   order: list[int], names: dict[int, str]) -> None:
    centres = n2d.centre_codes(result, codes.z, s.space, order).astype(np.float32)
    with run.lock:
        decoded = decode_all(run.model, centres)
    sizes = {c: int(np.sum(result.assign == c)) for c in order}
    if not data.is_image:
        st.dataframe(pd.DataFrame(decoded.reshape(len(order), -1), index=[names[c] for c in order]),
                     width="stretch")
        return
    for start in range(0, len(order), PER_ROW):  # a row of columns per 10 clusters, each image with its caption
        for col, c, img in zip(st.columns(PER_ROW), order[start:start + PER_ROW], decoded[start:start + PER_ROW]):
            col.image(plots.tile(img[None], scale=3), width="stretch")
            col.caption(f"**{names[c]}**  \n{sizes[c]:,} points")


def show_samples(data: Dataset, result: clustering.Clustering, codes: Codes, order: list[int],
                 names: dict[int, str]) -> None:
    """A row of random members per cluster, with its size and (with labels) the share of its matched label."""
    rng = np.random.default_rng(0)
    for c in order:
        members = np.flatnonzero(result.assign == c)
        pick = np.sort(rng.choice(members, min(SAMPLES, len(members)), replace=False))
        left, right = st.columns([1, 6], vertical_alignment="center")
        text = f"**{names[c]}**  \n{len(members):,} points"
        if codes.y is not None:
            top = int(np.bincount(codes.y[members]).argmax())
            text += f"  \n{np.mean(codes.y[members] == top):.0%} are {class_name(data, top)}"
        left.markdown(text)
        right.image(plots.tile(codes.x[pick], cols=SAMPLES, scale=2))
