"""The Reconstructions & denoising page's drawing: noise controls, clean/noisy/rebuilt rows, scores, an error map
and robustness curves that compare runs trained on the same data.

Every model read happens under `run.lock`, so a run still training is read between two optimisation steps. Derived
arrays are cached by run id + epoch + settings (the model and arrays are passed as `_run` / `_x`, never hashed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from aeviz import denoising_lab as lab
from aeviz import catalog, metrics, noise, plots, runs
from aeviz.evaluation import corrupt, reconstruct_all
from aeviz.errors import InputError
from aeviz.runs import Run
from aeviz.ui import state, url

EVAL_MAX = 2000  # validation images scored per setting (all of MNIST's 2,000)
CURVE_MAX = 1000  # images per noise level in a robustness curve: 8 levels stay under a second on a CPU
MAX_COMPARED = 5  # other runs drawn beside the current one


@dataclass(frozen=True)
class Settings:
    kind: str
    level: float
    mode: str
    label: int | None
    count: int
    seed: int


def run_label(run: Run) -> str:
    return f"{run.model_name} · epoch {run.epoch} · {run.id[-4:]}"


# -- controls ---------------------------------------------------------------------------------------------------------
def controls(run: Run, classes: tuple[str, ...] | None) -> Settings:
    """Noise kind and level, which images, the seed. A denoising run starts on the noise it was trained with."""
    trained = run.model.training_noise()
    trained_kind = trained[0] if trained else None
    kinds = list(noise.NOISES)
    c = st.columns([2.2, 3, 1.4]) + st.columns([3, 2])  # two rows: they stay readable on a 1024-pixel screen
    kind = url.selectbox(c[0], "Noise", kinds, index=kinds.index(trained_kind) if trained_kind in kinds else 0,
                          key="recon.noise", help="; ".join(f"{k}: {s.help}" for k, s in noise.NOISES.items()))
    spec = noise.NOISES[kind]
    start = trained[1] if trained and kind == trained_kind else spec.default
    level = url.slider(c[1], f"Level of {kind} noise", 0.0, spec.max_level, float(min(start, spec.max_level)),
                        step=spec.max_level / 50, key=f"recon.level.{kind}", help=spec.help)
    modes = list(lab.SAMPLE_MODES) if classes else ["random", "worst"]
    mode = url.radio(c[3], "Show", modes, horizontal=True, key="recon.mode", format_func=lab.SAMPLE_MODES.get)
    label = None
    if mode == "class" and classes:
        label = url.selectbox(c[4], "Class", range(len(classes)), format_func=lambda i: classes[i], key="recon.class")
    count = url.slider(c[4], "Images", 4, 16, 10, key="recon.count") if mode != "class" else 10
    seed = int(url.number_input(c[2], "Seed", 0, 10_000, 0, step=1, key="recon.seed",
                                 help="the same seed gives the same images and the same noise"))
    return Settings(kind, float(level), mode, label, int(count), seed)


# -- cached work --------------------------------------------------------------------------------------------------------
@st.cache_data(max_entries=24, show_spinner=False)
def _noisy_and_rebuilt(run_id: str, revision: int, kind: str, level: float, seed: int, _run: Run,
                       _x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    noisy = corrupt(_x, kind, level, seed)
    with _run.lock:
        return noisy, reconstruct_all(_run.model, noisy)


@st.cache_data(max_entries=64, show_spinner="Measuring robustness...")
def _curve(run_id: str, revision: int, kind: str, _run: Run, _x: np.ndarray) -> lab.Curve:
    with _run.lock:
        return lab.robustness_curve(_run.model, _x, kind)


@st.cache_resource(max_entries=16, show_spinner=False)
def _disk_run(path: str, mtime: float) -> Run | None:
    try:
        return runs.load(path)
    except (InputError, OSError):
        return None


def comparable_runs(run: Run) -> list[Run]:
    """Other runs on the same data and input shape: this session's, then those saved on disk."""
    found = {r.id: r for r in state.session_runs().values() if r.id != run.id and lab.same_data(r, run)}
    for row in catalog.list_runs(state.runs_dir()):
        if row["error"] or row["id"] in found or row["id"] == run.id or row["dataset"] != run.data_source:
            continue
        other = _disk_run(str(row["path"]), (row["path"] / "config.json").stat().st_mtime)
        if other is not None and lab.same_data(other, run):
            found[other.id] = other
    return list(found.values())


# -- drawing ----------------------------------------------------------------------------------------------------------
def score_row(title: str, s: dict[str, Any]) -> None:
    c = st.columns([1.6, 1, 1, 1, 1])
    c[0].markdown(f"**{title}**")
    c[1].metric("noisy PSNR", f"{s['psnr_noisy']:.1f} dB", help="of the noisy input against the clean image")
    c[2].metric("rebuilt PSNR", f"{s['psnr_rec']:.1f} dB", f"{s['psnr_rec'] - s['psnr_noisy']:+.1f} dB",
                help="of the model's output against the clean image; the delta is the gain over the noisy input")
    if s["ssim_rec"] is not None:
        c[3].metric("noisy SSIM", f"{s['ssim_noisy']:.3f}", help="structural similarity, 1 = identical")
        c[4].metric("rebuilt SSIM", f"{s['ssim_rec']:.3f}", f"{s['ssim_rec'] - s['ssim_noisy']:+.3f}")


def image_rows(clean: np.ndarray, noisy: np.ndarray, rec: np.ndarray, captions: list[str]) -> None:
    """Three labelled rows of one width: originals, noisy inputs, reconstructions."""
    h, w = clean.shape[-2:]
    scale = int(np.clip(880 // (len(clean) * (w + 1)), 1, 8))
    for name, imgs in (("Original", clean), ("Noisy input", noisy), ("Reconstruction", rec)):
        c = st.columns([1.4, 8], vertical_alignment="center")  # wide enough for "Reconstruction"
        c[0].markdown(f"**{name}**")
        c[1].image(plots.tile(imgs, cols=len(imgs), scale=scale))
    st.caption("Columns, left to right: " + " · ".join(captions))


def inspect_one(clean: np.ndarray, noisy: np.ndarray, rec: np.ndarray, options: list[str]) -> None:
    """One image large, with where its reconstruction is wrong."""
    pick = url.selectbox(st, "Look closer at column", range(len(options)), format_func=lambda i: options[i],
                        key="recon.pick")
    err = lab.error_map(clean[pick], rec[pick])
    h, w = clean.shape[-2:]
    scale = max(1, 196 // max(h, w))
    c = st.columns([1, 1, 1, 1.6])
    for col, name, img in zip(c, ("Original", "Noisy input", "Reconstruction"), (clean, noisy, rec)):
        col.image(plots.tile(img[pick:pick + 1], pad=0, scale=scale), caption=name)
    c[3].plotly_chart(plots.heatmap(err, "Error per pixel"), key="recon.heatmap", config=plots.CHART_CONFIG)
    c[3].caption(f"Squared error of each pixel; mean {err.mean():.4f}.")


def vector_view(clean: np.ndarray, noisy: np.ndarray, rec: np.ndarray) -> None:
    """Vector data has no pictures: clean, noisy and rebuilt points on the same (first two) axes."""
    fig = go.Figure()
    for name, pts, colour in (("clean", clean, "#bbbbbb"), ("noisy input", noisy, "#ff7f0e"),
                              ("reconstruction", rec, "#1f77b4")):
        fig.add_trace(go.Scattergl(x=pts[:, 0], y=pts[:, 1], mode="markers", name=name,
                                   marker=dict(size=4, color=colour, opacity=0.7)))
    fig.update_layout(title="Validation points: clean, noisy, rebuilt (first two values)", xaxis_title="x1",
                      yaxis_title="x2", **{**plots.LAYOUT, "height": 420})
    st.plotly_chart(fig, key="recon.points", config=plots.CHART_CONFIG)


def robustness(run: Run, x: np.ndarray, kind: str) -> None:
    """Reconstruction PSNR against noise level for this run and comparable ones, and the noisy input's own PSNR."""
    others = comparable_runs(run)
    chosen: list[str] = []
    if others:
        by_id = {r.id: r for r in others}
        chosen = url.multiselect(st, "Compare with runs on the same data", list(by_id), default=list(by_id)[:MAX_COMPARED],
                                format_func=lambda i: run_label(by_id[i]), max_selections=MAX_COMPARED,
                                key="recon.compare")
    else:
        st.caption("No other run on this data yet: train a plain `ae` and a `denoising` one to compare them here.")
    xs = x[:CURVE_MAX]
    curve = _curve(run.id, run.revision, kind, run, xs)
    series = {f"{run_label(run)} (this run)": curve.recon_psnr}
    for rid in chosen:
        other = next(r for r in others if r.id == rid)
        series[run_label(other)] = _curve(other.id, other.revision, kind, other, xs).recon_psnr
    # at level 0 the input is the clean image (PSNR capped at 100 dB): leave that point out, it would flatten the rest
    series["noisy input, no model"] = [None if v >= 100 else v for v in curve.noisy_psnr]
    fig = plots.curves(curve.levels, series, f"Robustness to {kind} noise", f"{kind} noise level",
                       "PSNR (dB)")
    fig.update_traces(line=dict(dash="dash", color="#7f7f7f"), selector=dict(name="noisy input, no model"))
    st.plotly_chart(fig, key="recon.curve", config=plots.CHART_CONFIG)
    st.caption("Higher is better. Where a line sits above the grey dashed one, the model removes noise; where it "
               "falls below, the model does worse than leaving the input alone.")


def evaluate_view(run: Run, x: np.ndarray, y: np.ndarray | None, classes: tuple[str, ...] | None,
                  s: Settings) -> None:
    """Scores for the shown set and the whole (capped) validation split, then the pictures."""
    noisy, rec = _noisy_and_rebuilt(run.id, run.revision, s.kind, s.level, s.seed, run, x)
    errors = metrics.per_sample_mse(x, rec)
    try:
        rows = lab.choose_samples(s.mode, s.count, len(x), seed=s.seed, labels=y, label=s.label, errors=errors)
    except InputError as exc:
        st.error(str(exc))
        return
    if len(rows) == 0:
        st.info("No validation image of this class: pick another class.")
        return
    score_row(f"These {len(rows)} images", lab.scores(x[rows], noisy[rows], rec[rows]))
    score_row(f"Validation split ({len(x):,} images)", lab.scores(x, noisy, rec))
    if x.ndim != 4:
        vector_view(x, noisy, rec)
        return
    names = [f"#{i}" + (f" ({classes[y[i]]})" if y is not None and classes else "") for i in rows]
    image_rows(x[rows], noisy[rows], rec[rows], names)
    options = [f"column {k + 1}: {name}, error {errors[i]:.4f}" for k, (i, name) in enumerate(zip(rows, names))]
    inspect_one(x[rows], noisy[rows], rec[rows], options)
