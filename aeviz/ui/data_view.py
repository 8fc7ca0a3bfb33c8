"""The Data page's drawing: pick a registry dataset or upload a file, then show what the current dataset looks like.

Loading goes through `state.set_dataset` (cached per server); uploads are written to a content-addressed temp file
that keeps the original name and extension, so the loaders' messages name the user's file. A download shows a
progress bar; offline, the loader falls back to the bundled MNIST and says so in the dataset's notes.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from aeviz import plots
from aeviz.data import DATASETS, Dataset
from aeviz.data_ref import uploads_dir
from aeviz.errors import InputError
from aeviz.loaders import download
from aeviz.loaders.download import DownloadError
from aeviz.projections import pca_2d
from aeviz.ui import state, url
from aeviz.ui.text import plain

KIND_NOTE = {
    "bundled": "ships with aeviz: works offline",
    "download": "downloaded once, then cached; offline it falls back to the bundled MNIST",
    "builtin": "comes with scikit-learn",
    "toy": "generated on the fly: points on a low-dimensional shape",
    "synthetic": "generated on the fly from a seed: images with no structure at all",
}
UPLOAD_TYPES = ["npy", "npz", "csv", "zip"]
PER_CLASS = 4  # samples drawn for each class in the grid
MAX_CLASSES = 10  # classes shown in the grid (the bar chart shows them all)


def _flash(kind: str, text: str) -> None:
    """A message that survives the rerun after a dataset change (the sidebar must redraw with the new data)."""
    st.session_state.setdefault("data.flash", []).append((kind, text))


def _show_flash() -> None:
    for kind, text in st.session_state.pop("data.flash", []):
        getattr(st, kind)(text)


def _use(source: str, params: dict[str, Any], label: str) -> None:
    try:
        data = state.set_dataset(source, params)
    except InputError as exc:
        st.error(str(exc))
        return
    instead = "" if data.name in (label, Path(source).name) else f" instead of {label} (see the note below)"
    _flash("success", f"Now using **{data.name}**{instead}: {len(data.x):,} samples of {shape_text(data)}. "
                      "Runs you train from now on use it; existing runs keep their own data.")
    st.rerun()


# -- pickers ----------------------------------------------------------------------------------------------------------
def registry_picker() -> None:
    """Choose a DATASETS entry and its parameters; 'Use this dataset' makes it current."""
    current, current_params = st.session_state.get("state.data", state.DEFAULT_DATA)
    names = list(DATASETS)
    name = url.selectbox(st, "Dataset", names, index=names.index(current) if current in names else 0, key="data.name",
                        format_func=lambda n: f"{n} · {DATASETS[n].description}")
    spec = DATASETS[name]
    st.caption(f"Kind: **{spec.kind}**, {KIND_NOTE.get(spec.kind, '')}.")
    params: dict[str, Any] = {}
    cols = st.columns(max(len(spec.params), 1) + 2)
    for col, p in zip(cols, spec.params):
        start = current_params.get(p.name, p.default) if name == current else p.default
        if isinstance(p.default, int):
            params[p.name] = url.number_input(col, p.name, int(p.min), int(p.max), int(start), step=1, help=p.help,
                                              key=f"data.{name}.{p.name}")
        else:
            params[p.name] = url.number_input(col, p.name, float(p.min), float(p.max), float(start), step=0.01,
                                              format="%.3f", help=p.help, key=f"data.{name}.{p.name}")
    if st.button("Use this dataset", type="primary", icon=":material/check:", key="data.use"):
        if spec.kind == "download":
            _prefetch(name)
        _use(name, params, name)


def _prefetch(name: str) -> None:
    """Download with a progress bar before the (cached) load; a failure is left to the loader's offline fallback."""
    bar = st.progress(0.0, text=f"Downloading {name}...")

    def report(done: int, total: int) -> None:
        frac = min(done / total, 1.0) if total else 0.0
        bar.progress(frac, text=f"Downloading {name}: {done / 1e6:.1f} of {total / 1e6:.1f} MB")

    try:
        download.fetch(name, progress=report)
    except DownloadError:
        pass  # load_dataset tries once more, then uses the bundled sample and adds a note saying why
    bar.empty()


def save_upload(name: str, content: bytes) -> Path:
    """Keep an upload in the cache under its own name (same extension); same bytes, same path. Not a temp folder:
    a run trained on it names this path, and must reopen with its data after a reboot clears /tmp."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name).lstrip(".") or "upload"
    digest = hashlib.sha256(name.encode() + b"\0" + content).hexdigest()[:16]
    folder = uploads_dir() / digest
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / safe
    if not path.exists():
        path.write_bytes(content)
    return path


def upload_picker() -> None:
    """Upload a .npy/.npz/.csv/.zip; 'Use this file' loads it with the CLI's loaders and makes it current."""
    up = st.file_uploader("A .npy, .npz, .csv or .zip file", type=UPLOAD_TYPES, key="data.upload",
                          help=".npy/.npz: an array (N, H, W), (N, C, H, W) or (N, D), optional labels 'y' in .npz. "
                               ".csv: one row per sample, an optional 'label' column. .zip: images, labelled by folder.")
    size = url.number_input(st.columns([1, 2])[0], "Resize images to (pixels, 0 = keep their size)", 0, 4096, 0, step=1, key="data.size",
                           help="only for a .zip of images: every image becomes size x size")
    if st.button("Use this file", type="primary", icon=":material/upload:", key="data.use_upload",
                 disabled=up is None):
        try:
            path = save_upload(up.name, up.getvalue())
        except OSError as exc:  # a full disk, a read-only or missing cache folder: say so, keep the current data
            st.error(f"Could not keep {plain(up.name)} in {uploads_dir()} ({exc.strerror or exc}): free some disk "
                     "space, or start the app with AEVIZ_CACHE set to a writable folder, and try again.",
                     icon=":material/error:")
        else:
            _use(str(path), {"size": int(size)} if size else {}, up.name)
    st.caption(f"A file you use is kept in `{uploads_dir()}`, so runs trained on it reopen with "
               "their data after a restart.")


# -- the current dataset ------------------------------------------------------------------------------------------------
def show(data: Dataset) -> None:
    """Numbers, notes, samples and class balance of the current dataset."""
    _show_flash()
    st.subheader(f"Current dataset: {data.name}")
    for note in data.notes:
        st.warning(note, icon=":material/info:")
    x_min, x_max = float(data.x.min()), float(data.x.max())
    c = st.columns([1, 1.1, 1.4, 0.6, 1.2])  # "8,000 / 2,000" needs the widest column
    c[0].metric("Samples", f"{len(data.x):,}")
    c[1].metric("One sample", shape_text(data))
    c[2].metric("Train / validation", f"{len(data.train_idx):,} / {len(data.val_idx):,}")
    c[3].metric("Classes", data.n_classes or "none")
    c[4].metric("Value range", f"{x_min:.2f} to {x_max:.2f}")
    d = int(np.prod(data.shape))
    if d > 32:
        st.caption(f"Each sample is **{d:,} numbers**. A code of 2 numbers squeezes it {d / 2:,.0f}x, a code of 32 "
                   f"{d / 32:,.1f}x: the smaller the code, the more the model must find the structure of this data.")
    else:
        st.caption(f"Each sample is only **{d} numbers**: a useful code is smaller still ({max(d - 1, 1)} or fewer), "
                   "so the model must find the shape the points lie on.")
    left, right = st.columns([3, 2])
    with left:
        if data.is_image:
            sample_grid(data)
        else:
            point_cloud(data)
    with right:
        if data.y is not None:
            counts = np.bincount(data.y, minlength=data.n_classes)
            st.plotly_chart(plots.bars(list(data.classes), counts.tolist(), "Samples per class", "samples"),
                            key="data.bars", config=plots.CHART_CONFIG)
        else:
            st.info("This dataset has no labels: the plots colour nothing, and clustering scores are skipped.")


def shape_text(data: Dataset) -> str:
    """'1 x 28 x 28' for images, '3 values' for vectors."""
    return " x ".join(map(str, data.shape)) if data.is_image else f"{data.shape[0]} values"


def grid_rows(data: Dataset, per_class: int = PER_CLASS, seed: int = 0) -> list[tuple[str, np.ndarray]]:
    """(caption, row indices) per column of the sample grid: a few of each class, or one block when unlabelled."""
    rng = np.random.default_rng(seed)
    if data.y is None:
        n = min(len(data.x), per_class * MAX_CLASSES)
        return [("samples", np.sort(rng.choice(len(data.x), n, replace=False)))]
    out = []
    for c in range(min(data.n_classes, MAX_CLASSES)):
        rows = np.flatnonzero(data.y == c)
        if len(rows):
            out.append((data.classes[c], np.sort(rng.choice(rows, min(per_class, len(rows)), replace=False))))
    return out


def sample_grid(data: Dataset) -> None:
    columns = grid_rows(data)
    h, w = data.shape[1:]
    scale = int(np.clip(round(112 / max(h, w)), 1, 8))  # about 112 px per image, whatever the size
    st.markdown(f"**{PER_CLASS} samples of each class**" if data.y is not None else "**Samples**")
    if data.y is None:
        st.image(plots.tile(data.x[columns[0][1]], cols=10, scale=max(1, scale // 2)))
        return
    cells = st.columns(len(columns))
    for cell, (name, rows) in zip(cells, columns):
        cell.image(plots.tile(data.x[rows], cols=1, scale=scale), caption=name, width="stretch")
    if data.n_classes > MAX_CLASSES:
        st.caption(f"The first {MAX_CLASSES} of {data.n_classes} classes.")


def point_cloud(data: Dataset) -> None:
    """Vector data as points: 2-D as is, 3-D in 3-D, wider data through its two main PCA axes."""
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(len(data.x), min(len(data.x), 5000), replace=False))
    x, y = data.x[rows], None if data.y is None else data.y[rows]
    d = data.shape[0]
    if d == 3:
        fig = plots.points_3d(x, y, f"{data.name}: {len(rows):,} points in 3-D (drag to turn)")
    elif d == 2:
        fig = plots.latent_scatter(x, y, data.classes, title=f"{data.name}: {len(rows):,} points",
                                   axis_titles=("x1", "x2"))
    else:
        xy, _, ratio = pca_2d(x)
        fig = plots.latent_scatter(xy, y, data.classes, title=f"{data.name}: first two PCA axes",
                                   axis_titles=(f"PC1 ({ratio[0]:.0%})", f"PC2 ({ratio[1]:.0%})"))
    st.plotly_chart(fig, key="data.points", config=plots.CHART_CONFIG)
    if d in (2, 3):
        st.caption(f"The points lie near a shape of lower dimension than {d}: a {d - 1}-number code can describe "
                   "where a point is on it. Colour is the class (the segment along the shape for the rolls).")
