"""The Features page's parts: the per-dimension table and its bar chart, what one dimension draws (traversal and
class means), gradient saliency, the first layer's filters, and the linear model against PCA.

Everything that touches the model holds `run.lock` and is cached per run id + epoch + parameters (arrays as
underscore arguments, so Streamlit does not hash them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from aeviz.ui import url

from aeviz import plots
from aeviz.analysis import importance
from aeviz.data import Dataset
from aeviz.runs import Run
from aeviz.ui.explore import Codes, class_name

PAGE = "features"
COLUMNS = {  # latent_table key -> (column title, what it says)
    "variance": ("variance", "how much the dimension varies over the data: ~0 means it is unused"),
    "ablation_mse": ("ablation ΔMSE", "how much the reconstruction error rises when it is held at its mean"),
    "anova_f": ("ANOVA F", "how far apart the class means are, relative to the spread within classes"),
    "mutual_info": ("mutual info (nats)", "how much knowing it tells about the label (0 = nothing)"),
    "kl": ("KL (nats)", "the VAE's price for this dimension: ~0 means its posterior is the prior, i.e. unused"),
}
SALIENCY_MAX = 256  # images averaged for a saliency map
FILTERS = 64
STEPS, SPAN = 9, 3.0


@st.cache_data(max_entries=16, show_spinner="Measuring every latent dimension...")
def _table(run_id: str, revision: int, _run: Run, _x: np.ndarray, _y: np.ndarray | None) -> pd.DataFrame:
    with _run.lock:
        table = importance.latent_table(_run.model, _x, _y)
    frame = pd.DataFrame({COLUMNS[key][0]: table[key] for key in COLUMNS if key in table})
    frame.index = [plots.dim_name(j) for j in table["dim"]]
    return frame


def latent_frame(run: Run, codes: Codes) -> pd.DataFrame:
    """One row per latent dimension ("z0", ...), one column per measure, on the validation split."""
    return _table(run.id, run.revision, run, codes.x, codes.y)


def show_table(frame: pd.DataFrame) -> None:
    """The sortable table beside a bar chart of the chosen column, largest first."""
    left, right = st.columns([5, 4])
    left.dataframe(frame, width="stretch", height=min(420, 38 + 35 * len(frame)),
                   column_config={c: st.column_config.NumberColumn(format="%.4g") for c in frame.columns})
    left.caption("Click a column title to sort. " + " ".join(
        f"**{title}**: {text}." for key, (title, text) in COLUMNS.items() if title in frame.columns))
    column = url.selectbox(right, "Bar chart of", list(frame.columns), key=f"{PAGE}.column",
                             index=list(frame.columns).index(COLUMNS["ablation_mse"][0]))
    ranked = frame[column].sort_values(ascending=False)
    right.plotly_chart(plots.bars(list(ranked.index), ranked.to_numpy(), column, column), key=f"{PAGE}.bars",
                       config=plots.CHART_CONFIG)
    right.caption(f"{column} of each latent dimension, largest first.")
    right.caption(f"Largest {column}: **{ranked.index[0]}** ({ranked.iloc[0]:.4g}); smallest: "
                  f"**{ranked.index[-1]}** ({ranked.iloc[-1]:.4g}).")


def pick_dim(frame: pd.DataFrame) -> int:
    """A dimension to look at; starts on the one whose ablation hurts most."""
    top = int(np.argmax(frame[COLUMNS["ablation_mse"][0]].to_numpy()))
    return url.selectbox(st.columns([1, 3])[0], "Dimension", list(range(len(frame))), index=top, key=f"{PAGE}.dim",
                                           format_func=plots.dim_name)


@st.cache_data(max_entries=32, show_spinner=False)
def _traversal(run_id: str, revision: int, dim: int, _run: Run, _z: np.ndarray) -> np.ndarray:
    with _run.lock:
        return importance.traversal(_run.model, _z, dim, STEPS, SPAN)


def show_traversal(run: Run, data: Dataset, z: np.ndarray, dim: int) -> None:
    decoded = _traversal(run.id, run.revision, dim, run, z)
    name = plots.dim_name(dim)
    st.markdown(f"**What {name} draws**: the mean code with {name} moved from −{SPAN:g} to +{SPAN:g} standard "
                "deviations, decoded")
    if data.is_image:
        st.image(plots.tile(decoded, cols=STEPS, scale=3))
        st.caption("  ·  ".join(f"{v:+.1f}σ" for v in np.linspace(-SPAN, SPAN, STEPS)))
    else:
        st.dataframe(pd.DataFrame(decoded.reshape(STEPS, -1),
                                  index=[f"{v:+.1f}σ" for v in np.linspace(-SPAN, SPAN, STEPS)]))


def show_dim_summary(frame: pd.DataFrame, codes: Codes, dim: int) -> None:
    """The table's row for this dimension in words: its ablation effect against the whole error."""
    base = float(codes.errors.mean())
    rise = float(frame[COLUMNS["ablation_mse"][0]].iloc[dim])
    share = f" ({rise / base:.1%} of it)" if base > 0 else ""
    st.markdown(f"Holding **{plots.dim_name(dim)}** at its mean raises the reconstruction MSE from {base:.4g} by "
                f"**{rise:.3g}**"
                f"{share}; it ranks **#{int((frame[COLUMNS['ablation_mse'][0]] > rise).sum()) + 1}** of "
                f"{len(frame)} dimensions by this measure.")


def show_class_means(data: Dataset, z: np.ndarray, y: np.ndarray | None, dim: int) -> None:
    if y is None:
        st.info("This data has no labels, so there are no class means to compare.", icon=":material/label_off:")
        return
    means = importance.label_correlation(z, y, dim, data.n_classes)
    names = [class_name(data, c) for c in range(data.n_classes)]
    name = plots.dim_name(dim)
    st.plotly_chart(plots.bars(names, means, f"Mean of {name} per class", name), key=f"{PAGE}.class_means",
                    config=plots.CHART_CONFIG)
    hi, lo = int(np.nanargmax(means)), int(np.nanargmin(means))
    st.caption(f"{name} is highest for **{names[hi]}** ({means[hi]:+.3g}) and lowest for **{names[lo]}** "
               f"({means[lo]:+.3g}): bars far apart mean the dimension helps tell classes apart.")


# -- the input side -------------------------------------------------------------------------------------------------
@st.cache_data(max_entries=32, show_spinner="Computing gradients...")
def _saliency(run_id: str, revision: int, dim: int | None, rows: str, _run: Run, _x: np.ndarray) -> np.ndarray:
    with _run.lock:
        return importance.saliency(_run.model, _x, dim)


def saliency_inputs(data: Dataset, codes: Codes) -> tuple[np.ndarray, str]:
    """The images to average over (the first 256 validation images, or one class's), and a name for them."""
    options = ["val"] + ([f"class {c}" for c in range(data.n_classes)] if codes.y is not None else [])
    pick = url.selectbox(st, "Averaged over", options, key=f"{PAGE}.saliency_set",
                        format_func=lambda o: f"the first {min(SALIENCY_MAX, len(codes.x))} validation images"
                        if o == "val" else f"validation images of class {class_name(data, int(o.split()[1]))}")
    rows = np.arange(len(codes.x)) if pick == "val" else np.flatnonzero(codes.y == int(pick.split()[1]))
    return codes.x[rows[:SALIENCY_MAX]], pick


def show_saliency(run: Run, data: Dataset, codes: Codes, dim: int) -> None:
    c1, c2 = st.columns(2)
    with c1:
        target = url.radio(st, "Gradient of", ["recon", "dim"], key=f"{PAGE}.saliency_target", horizontal=True,
                          format_func=lambda t: "the reconstruction error" if t == "recon" else plots.dim_name(dim))
        x, rows = saliency_inputs(data, codes)
    if len(x) == 0:
        c2.warning("No validation images in that class: pick another.")
        return
    which = None if target == "recon" else dim
    sal = _saliency(run.id, run.revision, which, rows, run, x)
    title = "reconstruction error" if which is None else plots.dim_name(dim)
    if data.is_image:
        c2.plotly_chart(plots.heatmap(sal.mean(0), f"|∂ {title} / ∂ pixel|"), key=f"{PAGE}.saliency",
                        config=plots.CHART_CONFIG)
        c2.caption(f"Mean over {len(x)} images: bright pixels change the {title} most.")
    else:
        c2.plotly_chart(plots.bars([f"x{i}" for i in range(sal.size)], sal.ravel(), f"|∂ {title} / ∂ input|"),
                        key=f"{PAGE}.saliency", config=plots.CHART_CONFIG)
    c1.caption(f"Bright pixels are those where a small change moves {title} most, averaged over {len(x)} images: "
               "what the encoder reads. (Gradient saliency: local, and noisy image by image, hence the average.) "
               "Border pixels are never inked in training, so nothing taught the encoder to ignore them: they can "
               "light up too.")


def show_filters(run: Run, data: Dataset) -> None:
    with run.lock:
        filters = importance.first_layer_filters(run.model)
    if not data.is_image:
        st.info("Filters are drawn as images, so this needs image data.", icon=":material/info:")
        return
    if filters is None:
        st.info("This model's first layer is not one weight per input pixel (a convolution has small kernels), so "
                "there are no whole-image filters to draw.", icon=":material/info:")
        return
    shown = filters[:FILTERS]
    st.image(plots.tile(shown, cols=16, scale=2))
    st.caption(f"The first {len(shown)} of {len(filters)} units of the encoder's first layer. Each unit computes "
               "a weighted sum of all pixels; its weights are drawn as an image, scaled to its own range (dark = "
               "most negative, bright = most positive). Strokes and blobs mean it has learned parts of digits; pure "
               "noise means that unit is barely trained."
               + (" In the linear model these units are the code's dimensions themselves." if run.model_name == "linear"
                  else ""))


# -- linear model against PCA ---------------------------------------------------------------------------------------
@st.cache_data(max_entries=8, show_spinner="Fitting PCA and comparing subspaces...")
def _linear(run_id: str, revision: int, _run: Run, _train_x: np.ndarray, _eval_x: np.ndarray) -> dict:
    with _run.lock:
        return importance.linear_vs_pca(_run.model, _train_x, _eval_x)


def show_linear(run: Run, data: Dataset, codes: Codes) -> None:
    if run.model_name != "linear":
        st.info(f"This section needs the **linear** model (this run is **{run.model_name}**). Train a linear "
                "autoencoder with the same code size and come back: you will see its subspace line up with PCA's.",
                icon=":material/info:")
        st.page_link("pages/train.py", label="Train a linear model", icon=":material/model_training:")
        return
    out = _linear(run.id, run.revision, run, data.split("train")[0], codes.x)
    angles = out["angles"]
    c1, c2, c3 = st.columns(3)
    c1.metric("Linear AE MSE (validation)", f"{out['ae_mse']:.5f}")
    c2.metric(f"PCA MSE, {len(angles)} components", f"{out['pca_mse']:.5f}",
              help="The best any k-dimensional linear code can do on squared error.")
    c3.metric("Largest principal angle", f"{angles.max():.1f}°", help="0° = the same subspace, 90° = unrelated.")
    left, right = st.columns([3, 2], vertical_alignment="center")
    left.plotly_chart(plots.bars([f"θ{i + 1}" for i in range(len(angles))], angles,
                                 "Principal angles between the decoder's subspace and PCA's", "degrees"),
                      key=f"{PAGE}.angles", config=plots.CHART_CONFIG)
    close = int(np.sum(angles < 10))
    right.markdown(f"**{close} of {len(angles)} directions lie within 10° of PCA's.**")
    right.caption("Theory (Baldi & Hornik, 1989): trained to the optimum on squared error, a linear autoencoder "
                  "spans the same subspace as the top principal components, though with a rotated, non-orthogonal "
                  "basis. As it trains, the angles fall towards 0° and its error towards PCA's. The last directions "
                  "align slowest: they carry the least variance, so they change the error least.")
