"""The Anomalies page's drawing: the validation errors with a movable threshold, the worst inputs with their
reconstructions and error maps, and an out-of-distribution check (noise, another dataset, or an upload).

Every model read happens under `run.lock`; results are cached by run id + epoch + settings, with the model and
arrays passed as `_run` / `_x` so they are never hashed. An upload is parsed once per file and kept in the session.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from aeviz import plots
from aeviz.analysis import anomaly, codespace
from aeviz.data import DATASETS, Dataset, load_file
from aeviz.errors import InputError
from aeviz.evaluation import encode_all, reconstruct_all
from aeviz.runs import Run
from aeviz.ui import state, url
from aeviz.ui.explore import Codes, class_name

N_OOD = 2000  # out-of-distribution samples fed through the run
NOISE, UPLOAD = "noise", "upload"
UPLOAD_TYPES = ["npy", "npz", "csv", "zip"]
IN_COLOUR, OUT_COLOUR = "#1f77b4", "#d62728"


@dataclass(frozen=True)
class OOD:
    """A batch of other inputs, what to call them, and the key their results are cached under."""

    x: np.ndarray  # (M, *shape)
    label: str
    key: str


# -- cached computations ------------------------------------------------------------------------------------------
@st.cache_data(max_entries=16, show_spinner=False)
def _error_maps(run_id: str, revision: int, rows: tuple[int, ...], _run: Run, _x: np.ndarray) -> np.ndarray:
    with _run.lock:
        return anomaly.error_maps(_run.model, _x[list(rows)])


@st.cache_data(max_entries=16, show_spinner="Feeding the other data through the run...")
def _ood_scores(run_id: str, revision: int, key: str, _run: Run, _x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(errors (M,), codes (M, k)) of the other inputs."""
    with _run.lock:
        return anomaly.errors(_run.model, _x), encode_all(_run.model, _x)


@st.cache_data(max_entries=16, show_spinner=False)
def _first_reconstructions(run_id: str, revision: int, key: str, _run: Run, _x: np.ndarray) -> np.ndarray:
    with _run.lock:
        return reconstruct_all(_run.model, _x[:10])


# -- threshold ----------------------------------------------------------------------------------------------------
def _error_histogram(errors: np.ndarray, threshold: float, quantile: float) -> go.Figure:
    edges = np.histogram_bin_edges(errors, 60)
    fig = go.Figure(plots.histogram(errors, edges, marker_color=IN_COLOUR, name="validation"))
    fig.add_vline(x=threshold, line_dash="dash", line_color=OUT_COLOUR,
                  annotation_text=f"threshold ({quantile:.1%} quantile)", annotation_position="top right")
    fig.update_layout(title="Reconstruction error of each validation sample", xaxis_title="MSE per value",
                      yaxis_title="samples", showlegend=False, bargap=0.05, **plots.LAYOUT)
    return fig


def threshold(codes: Codes) -> float:
    """The quantile slider, the count above it and the histogram; returns the threshold."""
    errors = codes.errors
    q = url.slider(st.columns([2, 3])[0], 
        "Threshold at this quantile of the validation errors", 0.50, 0.999, 0.95, step=0.001, format="%.3f",
        key="anomalies.quantile", help="0.95: the 5% of validation samples the model rebuilds worst are flagged")
    thr = anomaly.threshold_at(errors, q)
    above = int((errors > thr).sum())
    c = st.columns(4)
    c[0].metric("Threshold (MSE)", f"{thr:.4f}")
    c[1].metric("Above the threshold", f"{above:,} of {len(errors):,}")
    c[2].metric("Median error", f"{np.median(errors):.3g}")
    c[3].metric("Largest error", f"{errors.max():.4f}")
    st.plotly_chart(_error_histogram(errors, thr, q), key="anomalies.hist", config=plots.CHART_CONFIG)
    return thr


# -- the worst ----------------------------------------------------------------------------------------------------
def _heat(maps: np.ndarray) -> np.ndarray:
    """(N, H, W) errors -> (N, 3, H, W) in a black-red-yellow-white scale, shared by all maps shown."""
    v = maps / max(float(maps.max()), 1e-8)
    return np.stack([np.clip(3 * v, 0, 1), np.clip(3 * v - 1, 0, 1), np.clip(3 * v - 2, 0, 1)], axis=1)


def worst(run: Run, data: Dataset, codes: Codes) -> None:
    n = url.slider(st.columns([2, 3])[0], "How many", 1, 30, 10, key="anomalies.worst")
    rows = anomaly.worst(codes.errors, n)
    names = [f"#{i}" + (f" ({class_name(data, codes.y[i])})" if codes.y is not None else "")
             + f": {codes.errors[i]:.4f}" for i in rows]
    if not data.is_image:
        st.dataframe({"validation index": rows, "error (MSE)": codes.errors[rows],
                      **({"class": [class_name(data, codes.y[i]) for i in rows]} if codes.y is not None else {})})
        return
    maps = _error_maps(run.id, run.revision, tuple(int(i) for i in rows), run, codes.x)
    cols = min(n, 15)
    for title, images in (("Inputs", codes.x[rows]), ("Reconstructions", codes.x_hat[rows]),
                          ("Error maps |x − x̂| (brighter = worse, scaled to the largest shown)", _heat(maps))):
        st.markdown(f"**{title}**")
        st.image(plots.tile(images, cols=cols, scale=3 if cols <= 10 else 2))
    st.caption("Worst first, left to right: " + " · ".join(names))


# -- out-of-distribution ------------------------------------------------------------------------------------------
def _choices(data: Dataset) -> list[str]:
    """Noise, the other registry datasets whose samples have this data's shape, and an upload."""
    fits = [name for name, spec in DATASETS.items() if name != data.source and spec.shape == tuple(data.shape)]
    return [NOISE, *fits, UPLOAD]


def _choice_label(choice: str) -> str:
    if choice == NOISE:
        return "Uniform noise"
    if choice == UPLOAD:
        return "A file of your own (.npy, .npz, .csv or .zip)"
    return f"{choice}: {DATASETS[choice].description}"


def _registry_data(name: str, run: Run) -> OOD | None:
    names = {p.name for p in DATASETS[name].params}
    params = {"limit": N_OOD} if "limit" in names else {"n": N_OOD} if "n" in names else {}
    try:
        other = state.dataset_for(name, params)
    except InputError as exc:
        st.error(str(exc))
        return None
    if other.name != name:  # the offline fallback: the bundled MNIST sample stands in, and says so in its notes
        same = " (the run itself was trained on MNIST images, some of them these very ones)" \
            if run.data_source.startswith("mnist") else ""
        st.warning(f"{name} could not be loaded here, so the bundled MNIST sample stands in for it: **this comparison "
                   f"is MNIST vs MNIST**{same}, and an AUC near 0.5 is what that should give.",
                   icon=":material/cloud_off:")
        for note in other.notes:
            st.caption(note)
        return OOD(other.x[:N_OOD], "MNIST stand-in", f"{name}->{other.name}:{params}")
    return OOD(other.x[:N_OOD], name, f"{name}:{params}")


def _load_upload(content: bytes, name: str, shape: tuple[int, ...]) -> Dataset:
    """Parse an upload with the CLI's loaders; a .zip of images is resized to the run's image size."""
    suffix = Path(name).suffix.lower()
    params = {"size": [shape[1], shape[2]]} if suffix == ".zip" and len(shape) == 3 else {}
    with tempfile.TemporaryDirectory(prefix="aeviz-ood-") as tmp:
        path = Path(tmp) / f"upload{suffix}"  # our own name: the user's file name never becomes a path
        path.write_bytes(content)
        return load_file(path, name, **params)


def _uploaded_data(run: Run) -> OOD | None:
    up = st.file_uploader("Your file", type=UPLOAD_TYPES, key="anomalies.upload",
                          help=".npy/.npz: an array shaped like this run's samples, (N, H, W), (N, C, H, W) or (N, D). "
                               ".csv: one sample per row. .zip: images, resized to this run's image size.")
    if up is None:
        st.info(f"Upload samples shaped like this run's, {run.input_shape}, to see how they score.",
                icon=":material/upload_file:")
        return None
    seen = st.session_state.get("anomalies.upload_cache")
    if seen is None or seen[0] != up.file_id:  # parse each upload once, keep the result (or the error)
        try:
            seen = (up.file_id, _load_upload(up.getvalue(), up.name, run.input_shape))
        except InputError as exc:
            seen = (up.file_id, str(exc))
        st.session_state["anomalies.upload_cache"] = seen
    if isinstance(seen[1], str):
        st.error(seen[1])
        return None
    for note in seen[1].notes:
        st.caption(note)
    return OOD(seen[1].x[:N_OOD], up.name, f"upload:{up.file_id}")


def ood_source(run: Run, data: Dataset, codes: Codes) -> OOD | None:
    """The picker and the chosen inputs, checked against the run's input shape (None: message shown)."""
    choice = url.selectbox(st.columns([3, 2])[0], "Feed this through the run", _choices(data), key="anomalies.ood",
                                             format_func=_choice_label)
    if choice == NOISE:
        n = min(len(codes.x), N_OOD)  # as many as the validation split, at most N_OOD (a million would add nothing)
        batch = OOD(anomaly.uniform_noise_like(codes.x, n), "uniform noise", f"noise:{n}")
    elif choice == UPLOAD:
        batch = _uploaded_data(run)
    else:
        batch = _registry_data(choice, run)
    if batch is None:
        return None
    try:
        codespace.check_same_shape(batch.x.shape[1:], run.input_shape, batch.label)
    except InputError as exc:
        st.error(str(exc))
        return None
    return batch


def _overlay_histogram(in_err: np.ndarray, out_err: np.ndarray, label: str) -> go.Figure:
    """Both error distributions on a log axis (noise errors are often 10x the data's)."""
    a, b = np.log10(np.maximum(in_err, 1e-8)), np.log10(np.maximum(out_err, 1e-8))
    lo, hi = min(a.min(), b.min()), max(a.max(), b.max())
    edges = np.linspace(lo, max(hi, lo + 1e-3), 61)
    fig = go.Figure([plots.histogram(a, edges, name="validation", marker_color=IN_COLOUR, opacity=0.65),
                     plots.histogram(b, edges, name=label, marker_color=OUT_COLOUR, opacity=0.65)])
    vals, text = plots.log_ticks(lo, hi)
    fig.update_layout(barmode="overlay", title="Reconstruction errors", xaxis_title="MSE per value (log scale)",
                      yaxis_title="samples", legend=plots.LEGEND_BELOW, **plots.LAYOUT)
    fig.update_xaxes(tickvals=vals, ticktext=text)
    return fig


def _overlay_codes(z_in: np.ndarray, z_out: np.ndarray, label: str) -> go.Figure:
    xy_in, xy_out, titles = codespace.shared_plane(z_in, z_out)
    ins, outs = plots.drawn_rows(len(xy_in), N_OOD), plots.drawn_rows(len(xy_out), N_OOD)
    fig = go.Figure([go.Scattergl(x=xy_in[ins, 0], y=xy_in[ins, 1], mode="markers", name="validation",
                                  marker=dict(color=IN_COLOUR, size=4, opacity=0.5)),
                     go.Scattergl(x=xy_out[outs, 0], y=xy_out[outs, 1], mode="markers", name=label,
                                  marker=dict(color=OUT_COLOUR, size=4, opacity=0.45, symbol="x"))])
    sampled = f" ({len(ins):,} of each drawn)" if len(ins) < len(xy_in) or len(outs) < len(xy_out) else ""
    fig.update_layout(title="Where their codes land" + sampled, xaxis_title=titles[0], yaxis_title=titles[1],
                      legend={**plots.LEGEND_BELOW, "itemsizing": "constant"}, **plots.LAYOUT)
    return fig


def ood(run: Run, data: Dataset, codes: Codes, thr: float) -> None:
    batch = ood_source(run, data, codes)
    if batch is None:
        return
    out_err, out_z = _ood_scores(run.id, run.revision, batch.key, run, batch.x)
    auc = anomaly.ood_auc(codes.errors, out_err)
    c = st.columns(4)
    c[0].metric("ROC AUC", f"{auc:.3f}", help="1 = a threshold separates them perfectly, 0.5 = a coin toss")
    c[1].metric("Median error, validation", f"{np.median(codes.errors):.3g}")
    c[2].metric(f"Median error, {batch.label}", f"{np.median(out_err):.3g}")
    c[3].metric("Flagged by the threshold above", f"{(out_err > thr).mean():.0%}",
                help=f"share of the {len(out_err):,} {batch.label} samples whose error exceeds {thr:.4f}")
    st.caption(f"The AUC is the chance that a random {batch.label} sample is rebuilt worse than a random validation "
               f"sample ({len(out_err):,} against {len(codes.errors):,}).")
    left, right = st.columns(2)
    left.plotly_chart(_overlay_histogram(codes.errors, out_err, batch.label), key="anomalies.ood_hist",
                      config=plots.CHART_CONFIG)
    right.plotly_chart(_overlay_codes(codes.z, out_z, batch.label), key="anomalies.ood_codes",
                       config=plots.CHART_CONFIG)
    if data.is_image:
        recon = _first_reconstructions(run.id, run.revision, batch.key, run, batch.x)
        st.markdown(f"**A few of them** ({batch.label}): the inputs on top, what the run rebuilds below")
        st.image(plots.tile(np.concatenate([batch.x[:10], recon]), cols=10, scale=2))

