"""The Generate page's drawing: interpolation (code path against pixel blend), traversal rows, the decoded 2-D
manifold beside the codes it spans, and samples from the VAE's prior or from a Gaussian fitted to the codes.

Every model read happens under `run.lock` (a run still training is read between two steps); results are cached by
run id + epoch + settings, with the model and arrays passed as `_run` / `_x` / `_z` so they are never hashed.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from aeviz.ui import url

from aeviz import plots
from aeviz.analysis import codespace, generation
from aeviz.data import Dataset
from aeviz.errors import InputError
from aeviz.runs import Run
from aeviz.ui.explore import Codes, class_name

N_SAMPLES = 32
TRAVERSAL_STEPS = 7  # -3, -2, ..., +3 standard deviations: whole numbers read best
MAX_TRAVERSAL_ROWS = 12


# -- cached computations ------------------------------------------------------------------------------------------
@st.cache_data(max_entries=32, show_spinner=False)
def _interpolation(run_id: str, revision: int, a: int, b: int, steps: int, _run: Run, _x: np.ndarray):
    with _run.lock:
        return generation.interpolate(_run.model, _x[a], _x[b], steps)


@st.cache_data(max_entries=32, show_spinner=False)
def _traversal(run_id: str, revision: int, dims: tuple[int, ...], _run: Run, _z: np.ndarray) -> np.ndarray:
    with _run.lock:
        return generation.traversal_grid(_run.model, _z, list(dims), TRAVERSAL_STEPS, 3.0)


@st.cache_data(max_entries=16, show_spinner=False)
def _manifold(run_id: str, revision: int, dims: tuple[int, int], n: int, _run: Run, _z: np.ndarray):
    with _run.lock:
        return generation.manifold_grid(_run.model, _z, dims, n)


@st.cache_data(max_entries=16, show_spinner=False)
def _samples(run_id: str, revision: int, source: str, seed: int, _run: Run, _z: np.ndarray) -> np.ndarray:
    with _run.lock:
        if source == "prior":
            return generation.prior_samples(_run.model, N_SAMPLES, seed)
        return codespace.gaussian_samples(_run.model, _z, N_SAMPLES, seed)


# -- interpolation ------------------------------------------------------------------------------------------------
def _pick_pair(codes: Codes) -> tuple[int, int] | None:
    n = len(codes.x)
    c = st.columns([2, 3], vertical_alignment="bottom")
    mode = url.radio(c[0], "Which two images", ["random", "index"], horizontal=True, key="generate.pair_mode",
                      format_func={"random": "A random pair of different classes", "index": "Pick by index"}.get)
    if mode == "random":
        if c[1].button("Another random pair", icon=":material/shuffle:", key="generate.new_pair"):
            st.session_state["generate.pair_seed"] = st.session_state.get("generate.pair_seed", 0) + 1
        try:
            return codespace.random_pair(codes.y, n, st.session_state.get("generate.pair_seed", 0))
        except InputError as exc:  # e.g. a validation split of one image
            st.error(str(exc))
            return None
    c = st.columns(3)
    a = url.number_input(c[0], f"First image (validation index, 0 to {n - 1})", 0, n - 1, 0, key="generate.a")
    b = url.number_input(c[1], f"Second image (0 to {n - 1})", 0, n - 1, min(1, n - 1), key="generate.b")
    if a == b:
        st.error("Both picks are the same image: choose two different indices to interpolate between.")
        return None
    return int(a), int(b)


def interpolation(run: Run, data: Dataset, codes: Codes) -> None:
    pair = _pick_pair(codes)
    steps = url.slider(st.columns([2, 3])[0], "Steps", 5, 15, 11, step=2, key="generate.steps",
                                         help="images along each path, ends included")
    if pair is None:
        return
    a, b = pair
    latent, pixels = _interpolation(run.id, run.revision, a, b, steps, run, codes.x)

    def who(i: int) -> str:
        return f"#{i}" + (f" (class {class_name(data, codes.y[i])})" if codes.y is not None else "")

    st.markdown(f"From {who(a)} to {who(b)}, t = 0 to 1 in {steps} steps.")
    st.markdown(r"**Through the code space:** decode $\big((1-t)\,z_a + t\,z_b\big)$")
    st.image(plots.tile(latent, cols=steps, scale=3))
    st.markdown(r"**Through pixel space:** $(1-t)\,a + t\,b$")
    st.image(plots.tile(pixels, cols=steps, scale=3))
    st.caption("Every point on the code path goes through the decoder, which only knows how to draw things like its "
               "training images, so each step still looks like one of them; the pixel blend is just both images at "
               "partial strength, a ghostly double exposure that looks like neither.")


# -- traversal ----------------------------------------------------------------------------------------------------
def traversal(run: Run, codes: Codes) -> None:
    z = codes.z
    k = z.shape[1]
    dims = url.multiselect(st, f"Dimensions to sweep (one row each; preselected: the {min(6, k)} with the most variance)",
                          list(range(k)), default=codespace.top_dims(z, min(6, k)), key="generate.dims",
                          format_func=plots.dim_name, max_selections=MAX_TRAVERSAL_ROWS)
    if not dims:
        st.info("Choose at least one dimension to sweep.", icon=":material/info:")
        return
    grid = _traversal(run.id, run.revision, tuple(dims), run, z)
    st.caption("Each row starts from the mean code and moves one dimension from −3 to +3 standard deviations "
               "(left to right: −3σ, −2σ, −1σ, mean, +1σ, +2σ, +3σ); all the others stay at their mean.")
    std = z.std(0)
    for r, d in enumerate(dims):
        left, right = st.columns([1, 8], vertical_alignment="center")
        left.markdown(f"**{plots.dim_name(d)}**  \nσ = {std[d]:.2f}")
        right.image(plots.tile(grid[r * TRAVERSAL_STEPS:(r + 1) * TRAVERSAL_STEPS], cols=TRAVERSAL_STEPS, scale=3))


# -- the decoded manifold -----------------------------------------------------------------------------------------
def _manifold_dims(z: np.ndarray) -> tuple[int, int] | None:
    k = z.shape[1]
    if k == 2:
        st.caption("The codes are 2-D, so this grid covers the whole latent space.")
        return 0, 1
    top = codespace.top_dims(z, 2)
    c = st.columns(2)
    dx = url.selectbox(c[0], "Horizontal dimension", list(range(k)), index=top[0], key="generate.mx",
                        format_func=plots.dim_name)
    dy = url.selectbox(c[1], "Vertical dimension", list(range(k)), index=top[1], key="generate.my",
                        format_func=plots.dim_name)
    if dx == dy:
        st.error("The two axes are the same dimension: choose two different ones to span a plane.")
        return None
    st.caption(f"A 2-D slice of the {k}-D code space: the other {k - 2} dimensions stay at their mean.")
    return int(dx), int(dy)


def _grid_figure(codes: Codes, data: Dataset, dims: tuple[int, int], xs: np.ndarray, ys: np.ndarray) -> go.Figure:
    fig = plots.latent_scatter(codes.z[:, list(dims)], codes.y, data.classes, title="Validation codes and the grid",
                               axis_titles=(plots.dim_name(dims[0]), plots.dim_name(dims[1])))
    fig.add_shape(type="rect", x0=xs[0], x1=xs[-1], y0=ys[-1], y1=ys[0], line=dict(color="#111111", width=2))
    fig.update_layout(dragmode="zoom", height=560)
    return fig


def manifold(run: Run, data: Dataset, codes: Codes) -> None:
    if codes.z.shape[1] < 2:
        st.info("This run has a 1-D code: there is no plane to spread a grid over. Train one with latent size ≥ 2.",
                icon=":material/info:")
        return
    dims = _manifold_dims(codes.z)
    if dims is None:
        return
    n = url.slider(st.columns([2, 3])[0], "Grid size (images per side)", 6, 24, 15, key="generate.grid")
    images, xs, ys = _manifold(run.id, run.revision, dims, n, run, codes.z)
    left, right = st.columns(2)
    left.image(plots.tile(images, cols=n, pad=0, scale=2), width="stretch")
    left.caption(f"Left to right: {plots.dim_name(dims[0])} from {xs[0]:.2f} to {xs[-1]:.2f}. Top to bottom: "
                 f"{plots.dim_name(dims[1])} from {ys[0]:.2f} to {ys[-1]:.2f} (the codes' central 96%).")
    right.plotly_chart(_grid_figure(codes, data, dims, xs, ys), key="generate.grid_scatter", config=plots.CHART_CONFIG)


# -- sampling -----------------------------------------------------------------------------------------------------
def samples(run: Run, codes: Codes) -> None:
    if st.button("New samples", icon=":material/casino:", key="generate.new_samples"):
        st.session_state["generate.sample_seed"] = st.session_state.get("generate.sample_seed", 0) + 1
    seed = st.session_state.get("generate.sample_seed", 0)
    try:
        fitted = _samples(run.id, run.revision, "fitted", seed, run, codes.z)
    except InputError as exc:
        st.error(str(exc))
        return
    if run.model.has_prior:
        c = st.columns(2)
        c[0].markdown("**From the prior** $z \\sim \\mathcal{N}(0, I)$")
        c[0].image(plots.tile(_samples(run.id, run.revision, "prior", seed, run, codes.z), cols=8, scale=2))
        c[1].markdown("**From a Gaussian fitted to the validation codes**")
        c[1].image(plots.tile(fitted, cols=8, scale=2))
        st.caption(f"Seed {seed}. The VAE's KL term pulls its codes towards N(0, I), so draws from the prior should "
                   "land where the decoder has learned to draw: the more alike the two panels look, the better that "
                   "worked (more epochs help; so does a larger β, at the price of blurrier images).")
        return
    st.markdown(f"A **{run.model_name}** was never asked to put its codes anywhere in particular, so draws from "
                "N(0, I) may land where no training code ever was and decode to smudges. The fair alternative: "
                "draw from a Gaussian with the **mean and covariance of the validation codes**.")
    st.image(plots.tile(fitted, cols=16, scale=2))
    st.caption(f"Seed {seed}. {N_SAMPLES} draws from N(mean, covariance of the codes), decoded.")
    if url.checkbox(st, "Show draws from N(0, I) too, for contrast", key="generate.show_prior"):
        st.image(plots.tile(_samples(run.id, run.revision, "prior", seed, run, codes.z), cols=16, scale=2))
