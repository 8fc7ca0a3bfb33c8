"""The Clusters page's parts: its settings, the clustering of the codes (cached per run + epoch), the raw-pixel and
PCA baselines (a background task cached per dataset, not per epoch), the scores, the confusion matrix, the decoded
centroids and a few samples per cluster.

Slow work never blocks the page: UMAP and the pixel baseline run on `aeviz.tasks.Task`s, shown with a progress bar
and a Cancel button by a fragment that reruns the page when they finish.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from aeviz.ui import url

from aeviz import plots
from aeviz.analysis import clustering
from aeviz.analysis.importance import decode_all
from aeviz.data import Dataset
from aeviz.embedding import warm_up_in_background
from aeviz.errors import InputError
from aeviz.projections import PROJECTIONS, params_for
from aeviz.runs import Run
from aeviz.tasks import Task
from aeviz.ui.explore import Codes, class_name
from aeviz.ui.latent_view import ORPHAN_S, task_progress

PAGE = "clusters"
K_MAX = 30
METHODS = {"kmeans": "K-Means", "gmm": "Gaussian mixture"}
SPACES = {"latent": "the latent space (all code dimensions)", "umap": "a 2-D UMAP embedding of the codes"}
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
_BASELINE_SLOT = threading.Lock()
warm_up_in_background()  # UMAP's import and JIT paid while the visitor looks at PCA, not on the first click


@dataclass(frozen=True)
class Settings:
    method: str
    space: str
    k: int


def controls(data: Dataset, n: int) -> Settings:
    """k, method and space, keyed by page; k defaults to the number of classes."""
    c1, c2, c3 = st.columns([3, 2, 3])
    k_max = max(3, min(K_MAX, n - 1))
    default = min(data.n_classes if data.n_classes >= 2 else 10, k_max)
    k = url.slider(c1, "Number of clusters k", 2, k_max, default, key=f"{PAGE}.k",
                  help="Defaults to the number of classes; try more to see classes split into styles.")
    method = url.radio(c2, "Method", list(METHODS), format_func=METHODS.get, key=f"{PAGE}.method",
                      help="K-Means: round clusters of equal spread. Gaussian mixture: each cluster its own "
                           "ellipsoid (full covariance on codes; diagonal on raw pixels, where full is too slow), "
                           "which can follow stretched clusters.")
    space = url.radio(c3, "Cluster in", list(SPACES), format_func=SPACES.get, key=f"{PAGE}.space")
    if space == "umap":
        c3.caption("UMAP keeps each point's nearest neighbours together and pulls separate groups apart, so "
                   "clusters that touch in the code space become islands: scores usually jump. The baselines "
                   "below are still clustered without UMAP.")
    return Settings(method, space, int(k))


# -- slow work on background tasks (aeviz.tasks.Task: progress and Cancel) -------------------------------------------
def _baseline_work(pixels: np.ndarray, labels: np.ndarray | None, k: int, method: str, n_components: int):
    def work(report):
        report(f"clustering the raw {raw_name(pixels)} and PCA codes", None)  # one step: no finer checkpoints
        return clustering.baselines(pixels, labels, k, n_components, method)
    return work


@st.cache_resource(max_entries=32, show_spinner=False)
def _baseline_task(source: str, params: str, split: str, k: int, method: str, n_components: int,
                   _x: np.ndarray, _y: np.ndarray | None) -> Task:
    # One at a time (the slot): trying five values of k must not start five pixel clusterings. Shared by every
    # session on this dataset, so it never cancels itself when one viewer leaves.
    return Task(_baseline_work(_x, _y, k, method, n_components),
                f"The {raw_name(_x)} and PCA baseline of {len(_x):,} points", slot=_BASELINE_SLOT)


def raw_name(x: np.ndarray) -> str:
    """'pixels' for images (N, C, H, W), 'inputs' for vectors."""
    return "pixels" if x.ndim == 4 else "inputs"


def baselines(data: Dataset, split: str, s: Settings, codes: Codes) -> dict[str, dict[str, float]] | None:
    """Pixel and PCA scores for this dataset, split, k and method (shared by every run on it), or None while
    they are computed (their progress is shown)."""
    params = json.dumps(data.params, sort_keys=True, default=str)
    task = _baseline_task(data.source, params, split, s.k, s.method, codes.z.shape[1], codes.x, codes.y)
    if task.running:
        task_progress(task, f"{PAGE}.cancel_baseline")
        return None
    if task.cancelled:  # cached for everyone: forget it so the next visit starts it again
        _baseline_task.clear()
        st.info(task.status() + ". Reload the page to compute it again.")
        return None
    if task.error:
        st.warning(task.error)
        return None
    return task.result


def umap_features(run: Run, split: str, z: np.ndarray) -> np.ndarray | None:
    """The codes' 2-D UMAP embedding, or None while it runs (its progress is shown) or when it failed."""
    tasks: dict = st.session_state.setdefault(f"{PAGE}.umap_tasks", {})
    key = (run.id, run.revision, split)
    if key not in tasks or tasks[key].cancelled:
        try:
            params = params_for("umap", len(z))  # UMAP's defaults, from the one registry
        except InputError as exc:
            st.error(f"{exc} Cluster in the latent space instead, or use more points.")
            return None
        umap = PROJECTIONS["umap"]
        tasks[key] = Task(lambda report: umap.fn(z, params, 0, report), f"UMAP of {len(z):,} codes",
                          orphan_after=ORPHAN_S)
        while len(tasks) > MAX_TASKS:  # keep memory bounded: forget (and stop) the oldest embedding
            tasks.pop(next(iter(tasks))).cancel()
    task = tasks[key]
    if task.running:
        task_progress(task, f"{PAGE}.cancel_umap")
        return None
    if task.cancelled:
        st.info(task.status() + ". Cluster in the latent space, or pick UMAP again.")
        return None
    if task.error:
        st.error(f"{task.error}. Cluster in the latent space instead.")
        return None
    st.caption(f"UMAP of {len(z):,} codes took {task.elapsed:.1f} s (kept for this run and epoch).")
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
    """One metric per score (delta against raw pixels/inputs) and a small table, the best value per row in bold."""
    keys = [key for key in SCORES if key in result.scores]
    for col, key in zip(st.columns(len(keys)), keys):
        ours, ref = result.scores[key], (base or {}).get("pixels", {}).get(key)
        col.metric(SCORES[key], f"{ours:.3f}", None if ref is None else f"{ours - ref:+.3f} vs {raw}",
                   help=SCORE_HELP[key])
    ours_name = "codes" if s.space == "latent" else "UMAP of codes"
    columns = {ours_name: [result.scores[key] for key in keys]}
    if base is not None:
        columns[f"raw {raw}"] = [base["pixels"].get(key, np.nan) for key in keys]
        columns[f"PCA ({pca_dims} dims)"] = [base["pca"].get(key, np.nan) for key in keys]
    table = pd.DataFrame(columns, index=[SCORES[key] for key in keys])
    styled = table.style.format("{:.3f}", na_rep="–").highlight_max(
        axis=1, props="font-weight: bold; background-color: #dbeafe")
    left, right = st.columns([3, 2])
    left.dataframe(styled, width="stretch")
    right.caption(f"Same method ({METHODS[s.method]}) and k in every column; PCA keeps as many components as the "
                  "code has dimensions (or as the inputs have values, if fewer). The best value of each row is "
                  "highlighted. Silhouette is measured in each column's own space, so compare it across columns "
                  "with care.")
    if base is not None and "acc" in result.scores:
        right.markdown(verdict(result.scores["acc"], base["pixels"]["acc"], s.space, raw, model))


TIE = 0.01  # accuracies closer than this are "about as well": K-Means restarts move them by about as much


def verdict(ours: float, pixels: float, space: str, raw: str = "pixels", model: str = "ae") -> str:
    """One sentence on how the codes compare with the raw inputs, and what to try next."""
    what = "These codes cluster" if space == "latent" else "The UMAP embedding of these codes clusters"
    numbers = f"({ours:.3f} against {pixels:.3f} accuracy)"
    word = "about as well as" if abs(ours - pixels) < TIE else "better than" if ours > pixels else "worse than"
    if space != "latent":
        return (f"{what} **{word}** raw {raw} {numbers}. UMAP would lift raw {raw} too, so for a like-for-like "
                "comparison cluster in the latent space.")
    if word == "better than":
        return f"{what} **{word}** raw {raw} {numbers}: the encoder has put similar inputs close together."
    if word == "about as well as":
        return (f"{what} **{word}** raw {raw} {numbers}: the code keeps the groups the inputs already had, and "
                "adds little separation of its own.")
    advice = ("a lower β lets its codes spread out; train it longer or try the UMAP option" if model == "vae" else
              "train it longer, try the UMAP option, or compare a **vae**")
    return (f"{what} **{word}** raw {raw} {numbers}. An autoencoder is trained to reconstruct, not to form round, "
            f"separate groups: {advice}.")


# -- naming, confusion, centroids, samples --------------------------------------------------------------------------
def cluster_order(data: Dataset, assign: np.ndarray, y: np.ndarray | None) -> tuple[list[int], dict[int, str]]:
    """Non-empty clusters in display order (by matched label, else by size) and their names ("cluster 3 → 7")."""
    if y is None:
        ids, counts = np.unique(assign, return_counts=True)
        order = [int(c) for c in ids[np.argsort(-counts, kind="stable")]]
        return order, {c: f"cluster {c}" for c in order}
    _, _, order = clustering.confusion(y, assign)
    mapping = clustering.match_clusters(y, assign)
    names = {c: f"cluster {c} → {class_name(data, mapping[c])}" if c in mapping else f"cluster {c} (unmatched)"
             for c in order}
    return order, names


def confusion_figure(table: np.ndarray, row_names: list[str], col_names: list[str]) -> go.Figure:
    """Counts (labels x clusters) written in each cell, coloured by the share of each label's points."""
    share = table / np.maximum(table.sum(1, keepdims=True), 1)
    fig = go.Figure(go.Heatmap(z=share, x=col_names, y=row_names, text=table, texttemplate="%{text}",
                               colorscale="Blues", zmin=0, zmax=1, colorbar=dict(title="share<br>of label"),
                               hovertemplate="label %{y}<br>%{x}<br>%{text} points<extra></extra>"))
    # At least 320 px: rotated cluster names take ~100 px, and the colour bar needs room for its scale.
    fig.update_layout(**{**plots.LAYOUT, "height": max(320, 140 + 34 * len(row_names))},
                      title="Which labels end up in which cluster")
    fig.update_xaxes(type="category", title="cluster → its matched label",
                     tickangle=0 if len(col_names) <= 4 else -40)
    fig.update_yaxes(type="category", title="true label", autorange="reversed")
    return fig


def show_confusion(data: Dataset, result: clustering.Clustering, y: np.ndarray, names: dict[int, str]) -> None:
    table, labels, order = clustering.confusion(y, result.assign)
    fig = confusion_figure(table, [class_name(data, lab) for lab in labels], [names[c] for c in order])
    st.plotly_chart(fig, key=f"{PAGE}.confusion", config=plots.CHART_CONFIG)


def centroid_codes(result: clustering.Clustering, z: np.ndarray, space: str, order: list[int]) -> np.ndarray:
    """What to decode per cluster: its centre in the latent space, or (UMAP) the mean code of its members."""
    if space == "latent":
        return result.centres[order]
    return np.stack([z[result.assign == c].mean(0) for c in order])


def show_centroids(run: Run, data: Dataset, result: clustering.Clustering, codes: Codes, s: Settings,
                   order: list[int], names: dict[int, str]) -> None:
    centres = centroid_codes(result, codes.z, s.space, order).astype(np.float32)
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
