"""The latent space page's parts: the projection controls, the scatter with selection, and what a selection shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from aeviz import plots, plots_thumbs
from aeviz.analysis import clustering, compare, selection
from aeviz.config import offered
from aeviz.data import Dataset
from aeviz.embedding import warm_up_in_background
from aeviz.errors import InputError
from aeviz.projections import PROJECTIONS, params_for, pca_2d, raw_2d
from aeviz.runs import Run
from aeviz.tasks import Task
from aeviz.ui import forms, url
from aeviz.ui.explore import SPLIT_WORDS, Codes, class_name

COLOURINGS = ("label", "K-Means cluster", "reconstruction error", "one latent dimension")
SHOW_CAP = 60  # images drawn for a selection (all selected rows go into the CSV)
MAX_TASKS = 4  # slow projections kept per session (running or finished); the oldest is cancelled and dropped
ORPHAN_S = 30.0  # a running projection nobody has polled for this long (page left, tab closed) cancels itself
warm_up_in_background()  # UMAP's import and JIT paid while the visitor looks at PCA, not on the first click


@dataclass(frozen=True)
class View:
    xy: np.ndarray  # (N, 2)
    axis_titles: tuple[str, str]
    method: str
    note: str


def projection_controls(page: str, k: int) -> tuple[str, dict]:
    """Method (from the PROJECTIONS registry) and its raw parameter values, drawn from the parameters' own
    descriptions; a 1-D or 2-D code gets 'raw' (the code itself) as its first choice."""
    options = [name for name in PROJECTIONS if name != "raw" or k <= 2]
    method = url.radio(st, "Projection", options, key=f"{page}.method", horizontal=True,
                       format_func=lambda name: PROJECTIONS[name].label)
    spec = PROJECTIONS[method].params
    raw = forms.config_form(spec, f"{page}.{method}", captions=False) if offered(spec) else {}
    return method, raw


def _pca_view(z: np.ndarray, note: str = "") -> View:
    xy, _, ratio = pca_2d(z)
    return View(xy, (f"PC1 ({ratio[0]:.0%} of variance)", f"PC2 ({ratio[1]:.0%})"), "pca",
                note or f"PCA keeps {ratio.sum():.0%} of the codes' variance in these two axes")


def compute_view(page: str, run: Run, codes: Codes, split: str, method: str, raw: dict) -> View | None:
    """PCA and raw at once. t-SNE and UMAP run on a background task with progress and Cancel; until they are
    done the PCA view is shown in their place. Asking for anything else cancels what nobody waits for."""
    z = codes.z
    codes_key = (run.id, run.revision, split)
    tasks: dict = st.session_state.setdefault(f"{page}.tasks", {})
    try:
        params = params_for(method, len(z), **raw)
    except InputError as exc:
        st.error(str(exc))
        return None
    key = (*codes_key, method, tuple(sorted(raw.items())))
    for other, task in list(tasks.items()):
        if other != key and task.running:  # a new request replaces the old one: free the CPU for it
            task.cancel()
            tasks.pop(other)
    if method == "raw" and z.shape[1] == 1:
        return View(raw_2d(z), ("z1", "random height (no meaning)"), "raw",
                    "the 1-D code itself along the x axis; the height is random and means nothing")
    if method == "raw":
        return View(z, ("z1", "z2"), "raw", "the codes themselves: no projection")
    if method == "pca":
        return _pca_view(z)
    entry = PROJECTIONS[method]
    task = tasks.get(key)
    if task is None or (task.cancelled and st.session_state.pop(f"{page}.restart", False)):
        task = tasks[key] = Task(lambda report: entry.fn(z, params, 0, report), f"{entry.label} of {len(z):,} points",
                                 orphan_after=ORPHAN_S)
        while len(tasks) > MAX_TASKS:  # bounded: drop (and stop) the oldest
            tasks.pop(next(iter(tasks))).cancel()
    if task.cancelled:
        st.info(task.status() + ". The PCA view is shown instead.", icon=":material/cancel:")
        if st.button(f"Run {entry.label} again", key=f"{page}.again", icon=":material/refresh:"):
            st.session_state[f"{page}.restart"] = True
            st.rerun()
        return _pca_view(z, f"PCA, shown because {entry.label} was cancelled")
    if task.running:
        task_progress(task, f"{page}.cancel")
        return _pca_view(z, f"PCA, shown until {entry.label} is ready")
    if task.error:
        st.error(task.error)
        return None
    return View(task.result, (f"{entry.label} 1", f"{entry.label} 2"), method,
                f"{entry.label} keeps neighbourhoods, not distances: cluster sizes and gaps between them mean little. "
                + task.status())


def task_progress(task: Task, key: str) -> None:
    """A moving bar with the task's stage and a Cancel button, refreshed every second; the whole page reruns
    when the task ends. Polling also tells the task someone is still waiting (see Task.touch)."""
    @st.fragment(run_every=1.0)
    def poll() -> None:
        task.touch()
        if task.done.is_set():
            st.rerun()  # the whole page, now with the result
        bar, button = st.columns([3, 1], vertical_alignment="bottom")  # "Cancel" on one line at 1024 px
        bar.progress(task.fraction or 0.0, text=task.status())  # no fraction: a step with no checkpoints
        if button.button("Cancel", key=key, icon=":material/cancel:", width="stretch"):
            task.cancel()
            task.done.wait(2.0)  # it stops at its next checkpoint: well under a second
            st.rerun()

    poll()


def shared_result(factory: Any, args: tuple, cancel_key: str) -> Task | None:
    """The finished task `factory(*args)` (an st.cache_resource task factory, shared by every session), or None:
    while it runs, its progress and Cancel are drawn; once it failed or was cancelled, a warning, and the cached
    task is cleared so the next visit starts it again."""
    task = factory(*args)
    if task.running:
        task_progress(task, cancel_key)
        return None
    if task.cancelled or task.error:
        factory.clear(*args)  # cached for everyone: the next visit starts this one again
        st.warning(task.status() + ". Reload the page to train them again.", icon=":material/warning:")
        return None
    return task


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


def thumbs_toggle(page: str, data: Dataset) -> bool:
    why = "" if data.is_image else " Only for image data: these inputs are rows of numbers."
    on = url.toggle(st, "Images at their points", key=f"{page}.thumbs", disabled=not data.is_image,
                    help=f"Draw each input's image at its point: all of them up to {plots_thumbs.ALL_UP_TO:,} points, "
                    "beyond that one per cell of a grid over the map, so dense and sparse regions both show. They "
                    "grow as you zoom in." + why)
    return on and data.is_image  # a link may turn it on for data that are not images


def groups(run: Run, codes: Codes, split: str, colour: str, extra: dict) -> np.ndarray | None:
    """The class of each point that colours it (labels or K-Means clusters); None for a colour scale."""
    if colour == "label":
        return codes.y
    if colour == "K-Means cluster":
        return _kmeans(run.id, run.revision, split, extra["k"], codes.z)
    return None


def figure(run: Run, codes: Codes, data: Dataset, view: View, split: str, colour: str, extra: dict,
           rows: np.ndarray | None = None):
    """The scatter of `view` coloured as asked, drawing the points in `rows` (default: `plots.drawn_rows`)."""
    which = {"val": "validation", "train": "training"}.get(split, "")  # short: the title fits half a 1024-px page
    title = f"{len(view.xy):,} {which + ' ' if which else ''}points · {PROJECTIONS[view.method].label}"
    common = dict(title=title, axis_titles=view.axis_titles, rows=rows)
    if colour == "label":
        return plots.latent_scatter(view.xy, codes.y, data.classes, **common)
    if colour == "K-Means cluster":
        names = tuple(f"cluster {c}" for c in range(extra["k"]))
        return plots.latent_scatter(view.xy, groups(run, codes, split, colour, extra), names,
                                    **{**common, "title": title + f" · K-Means k={extra['k']} in latent space"})
    if colour == "reconstruction error":
        return plots.latent_scatter(view.xy, values=codes.errors, value_name="MSE", **common)
    dim = int(extra["dim"])
    return plots.latent_scatter(view.xy, values=codes.z[:, dim], value_name=plots.dim_name(dim), **common)


@st.cache_data(max_entries=8, show_spinner="Drawing the inputs at their points...")
def _thumbs(run_id: str, revision: int, split: str, xy: np.ndarray, groups: np.ndarray | None, _x: np.ndarray,
            among: np.ndarray | None = None) -> tuple[np.ndarray, list[dict]]:
    """The rows drawn (of all, or of the rows `among`) and their layout images, sized for the whole map."""
    rows = plots_thumbs.pick(xy) if among is None else among[plots_thumbs.pick(xy[among])]
    srcs = plots_thumbs.sources(_x[rows], None if groups is None else groups[rows])
    return rows, plots_thumbs.layout_images(xy, rows, srcs)


def add_thumbs(fig, run: Run, codes: Codes, view: View, split: str, colour: str, extra: dict,
               found: np.ndarray | None) -> str:
    """Draw the inputs at their points; when some are found, theirs on top (chosen among them alone) and the rest
    faint. The markers fade so the images show. Returns the caption's sentence on how many are drawn."""
    colours = groups(run, codes, split, colour, extra)
    rows, images = _thumbs(run.id, run.revision, split, view.xy, colours, codes.x)
    n, drawn = len(view.xy), len(images)
    if found is not None:
        top_rows, top = _thumbs(run.id, run.revision, split, view.xy, colours, codes.x, found)
        images = [{**im, "opacity": 0.15} for im, r in zip(images, np.isin(rows, top_rows)) if not r] + top
        if len(top) == len(found):  # every found point has its image: the highlight's markers would hide them
            fig.update_traces(marker={"size": 5, "opacity": 0.3, "line_width": 0}, selector={"name": compare.HIGHLIGHT})
    plots_thumbs.add(fig, images)
    base = fig.data[0].marker
    base.opacity = min(base.opacity or 1.0, 0.15)  # the points stay for hover and selection, faint under the images
    fig.update_layout(height=560, legend=plots.LEGEND_BELOW)  # the legend below: the plot gets the column's width
    if drawn == n:
        return "each point shows its input's image"
    return (f"the images of {drawn:,} of the {n:,} points are drawn: one per occupied cell of a "
            f"{plots_thumbs.GRID[0]}x{plots_thumbs.GRID[1]} grid, the point nearest the cell's centre")


def show_selection(page: str, indices: list[int], codes: Codes, data: Dataset, view: View) -> None:
    """One point: its input, its reconstruction and its nearest neighbours in the full latent space. Several: their
    images, counts and a CSV."""
    if len(indices) == 1:
        i = indices[0]
        nn_idx, dist = selection.nearest(codes.z, i, k=8)
        label = f" ({class_name(data, codes.y[i])})" if codes.y is not None else ""
        st.markdown(f"**Point #{i}{label}**, its reconstruction (MSE {codes.errors[i]:.3g}) and its 8 nearest "
                    f"neighbours in the {codes.z.shape[1]}-D latent space (not in this 2-D picture):")
        caps = [f"#{i} input", f"#{i} rebuilt"] + [f"#{j} · d={d:.2f}" for j, d in zip(nn_idx, dist)]
        _image_row(np.concatenate([codes.x[[i]], codes.x_hat[[i]], codes.x[nn_idx]]), caps, data)
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
