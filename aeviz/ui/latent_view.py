"""The latent space page's parts: the projection controls, the scatter with selection, and what a selection shows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from aeviz.ui import url

from aeviz import embedding, plots
from aeviz.analysis import clustering, selection
from aeviz.data import Dataset
from aeviz.errors import InputError
from aeviz.projections import pca_2d
from aeviz.runs import Run
from aeviz.ui.explore import SPLIT_WORDS, Codes, class_name

COLOURINGS = ("label", "K-Means cluster", "reconstruction error", "one latent dimension")
METHOD_NAMES = {"raw": "raw code (2-D)", "pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
SHOW_CAP = 60  # images drawn for a selection (all selected rows go into the CSV)


@dataclass(frozen=True)
class View:
    xy: np.ndarray  # (N, 2)
    axis_titles: tuple[str, str]
    method: str
    note: str


def projection_controls(page: str, k: int) -> tuple[str, dict]:
    """Method and its parameters; a 2-D code gets 'raw' as its first choice."""
    options = (["raw"] if k == 2 else []) + ["pca", "tsne", "umap"]
    method = url.radio(st, "Projection", options, key=f"{page}.method", horizontal=True, format_func=METHOD_NAMES.get)
    params: dict = {}
    if method == "tsne":
        params["perplexity"] = url.slider(st, "Perplexity (neighbourhood size)", 5, 100, 30, key=f"{page}.perplexity")
    elif method == "umap":
        c1, c2 = st.columns(2)
        params["n_neighbors"] = url.slider(c1, "Neighbours (local vs global)", 2, 100, 15, key=f"{page}.neighbors")
        params["min_dist"] = url.slider(c2, "Minimum distance (how tight clusters pack)", 0.0, 1.0, 0.1, 0.05,
                                       key=f"{page}.min_dist")
    return method, params


def compute_view(page: str, run: Run, codes: Codes, split: str, method: str, params: dict) -> View | None:
    """PCA and raw at once; t-SNE and UMAP on a background task polled every second (None while it runs)."""
    z = codes.z
    if method == "raw":
        return View(z, ("z1", "z2"), "raw", "the codes themselves: no projection")
    if method == "pca":
        xy, _, ratio = pca_2d(z)
        return View(xy, (f"PC1 ({ratio[0]:.0%} of variance)", f"PC2 ({ratio[1]:.0%})"), "pca",
                    f"PCA keeps {ratio.sum():.0%} of the codes' variance in these two axes")
    key = f"{page}.task.{run.id}.{run.revision}.{split}.{method}.{sorted(params.items())}"
    task = st.session_state.get(key)
    if task is None:
        try:
            task = embedding.EmbeddingTask(z, method, params)
        except InputError as exc:
            st.error(str(exc))
            return None
        st.session_state[key] = task
    if not task.done.is_set():
        _wait_for(task)
        return None
    if task.error:
        st.error(task.error)
        return None
    name = "t-SNE" if method == "tsne" else "UMAP"
    return View(task.result, (f"{name} 1", f"{name} 2"), method,
                f"{name} keeps neighbourhoods, not distances: cluster sizes and gaps between them mean little. "
                + task.status())


def _wait_for(task: embedding.EmbeddingTask) -> None:
    @st.fragment(run_every=1.0)
    def poll() -> None:
        if task.done.is_set():
            st.rerun()  # the whole page, now with the result
        st.info(task.status(), icon=":material/hourglass_top:")
        st.progress(min(0.95, task.elapsed / (90.0 if task.cold else 40.0)))

    poll()


def colour_controls(page: str, codes: Codes, data: Dataset) -> tuple[str, dict]:
    options = [c for c in COLOURINGS if c != "label" or codes.y is not None]
    colour = url.selectbox(st, "Colour by", options, key=f"{page}.colour")
    extra: dict = {}
    if colour == "K-Means cluster":
        top = max(2, min(30, len(codes.z)))  # never more clusters than points
        extra["k"] = url.slider(st, "Clusters (k)", 2, top, min(top, max(2, data.n_classes or 10)), key=f"{page}.k")
    elif colour == "one latent dimension":
        extra["dim"] = url.selectbox(st, "Dimension", range(codes.z.shape[1]), format_func=plots.dim_name,
                                    key=f"{page}.dim")
    return colour, extra


@st.cache_data(max_entries=8, show_spinner="K-Means on the codes...")
def _kmeans(run_id: str, revision: int, split: str, k: int, _z: np.ndarray) -> np.ndarray:
    return clustering.cluster(_z, k)[0]


def figure(run: Run, codes: Codes, data: Dataset, view: View, split: str, colour: str, extra: dict):
    title = f"{len(view.xy):,} points of {SPLIT_WORDS[split]} · {METHOD_NAMES[view.method]}"
    if colour == "label":
        return plots.latent_scatter(view.xy, codes.y, data.classes, title, view.axis_titles)
    if colour == "K-Means cluster":
        assign = _kmeans(run.id, run.revision, split, extra["k"], codes.z)
        names = tuple(f"cluster {c}" for c in range(extra["k"]))
        return plots.latent_scatter(view.xy, assign, names, title + f" · K-Means k={extra['k']} in latent space",
                                    view.axis_titles)
    if colour == "reconstruction error":
        return plots.latent_scatter(view.xy, title=title, axis_titles=view.axis_titles, values=codes.errors,
                                    value_name="MSE")
    dim = int(extra["dim"])
    return plots.latent_scatter(view.xy, title=title, axis_titles=view.axis_titles, values=codes.z[:, dim],
                                value_name=plots.dim_name(dim))


def show_selection(page: str, indices: list[int], codes: Codes, data: Dataset, view: View) -> None:
    """One point: its nearest neighbours in the full latent space. Several: their images, counts and a CSV."""
    if len(indices) == 1:
        i = indices[0]
        nn_idx, dist = selection.nearest(codes.z, i, k=8)
        label = f" ({class_name(data, codes.y[i])})" if codes.y is not None else ""
        st.markdown(f"**Point #{i}{label}** and its 8 nearest neighbours in the {codes.z.shape[1]}-D latent space "
                    "(not in this 2-D picture):")
        caps = ["#" + str(i)] + [f"#{j} · d={d:.2f}" for j, d in zip(nn_idx, dist)]
        _image_row(np.concatenate([codes.x[[i]], codes.x[nn_idx]]), caps, data)
        return
    shown = indices[:SHOW_CAP]
    counts = selection.label_counts(codes.y, indices, data.classes)
    st.markdown(f"**{len(indices):,} points selected**" + (f" · showing the first {len(shown)}"
                                                              if len(indices) > len(shown) else ""))
    if counts:
        st.markdown(" · ".join(f"`{name}`: {n}" for name, n in counts.items()))
    if data.is_image:
        c1, c2 = st.columns(2)
        c1.image(plots.tile(codes.x[shown], cols=10, scale=2), caption="inputs", clamp=True)
        c2.image(plots.tile(codes.x_hat[shown], cols=10, scale=2), caption="reconstructions", clamp=True)
    csv = selection.to_csv(indices, view.xy, codes.y, data.classes, codes.errors, codes.z)
    st.download_button("Download the selection as CSV", csv, file_name="aeviz-selection.csv", mime="text/csv",
                       icon=":material/download:", key=f"{page}.csv")


def _image_row(images: np.ndarray, captions: list[str], data: Dataset) -> None:
    if not data.is_image:
        st.dataframe({"row": captions, **{f"x{j}": images[:, j] for j in range(images.shape[1])}})
        return
    cols = st.columns(len(images))
    for col, img, cap in zip(cols, images, captions):
        col.image(plots.tile(img[None], cols=1, pad=0, scale=3), caption=cap, clamp=True)
