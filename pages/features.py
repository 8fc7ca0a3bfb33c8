"""Features: which latent dimensions matter, what each one draws, which pixels drive the code, feature selection
(the top inputs kept and retrained on, against random inputs and PCA), and (linear model) the learned subspace
against PCA's."""

import streamlit as st

from aeviz.ui import explore, selection_view
from aeviz.ui import features_view as view
from aeviz.ui.layout import page_header

page_header(
    "Features",
    "Each latent dimension is one number the encoder computes from the input. Here you measure which ones matter: "
    "how much each varies, how much it says about the label, and how much worse the reconstruction gets when it "
    "is switched off (held at its mean over the data, the *ablation* below). Then see what one dimension draws, "
    "and which pixels the encoder reads.",
    "sort the table by *ablation ΔMSE* and pick the top dimension: its row of decodes shows what it encodes "
    "(often thickness, slant or a digit's identity). With a **vae**, look at the KL column: dimensions with KL "
    "near 0 carry nothing (posterior collapse).",
    r"\Delta_j = \mathrm{MSE}\big(x,\; g(z_1, \dots, \bar z_j, \dots, z_k)\big) - \mathrm{MSE}\big(x,\; g(z)\big)",
)

run, data = explore.require_run(view.PAGE)
codes = explore.codes(run, data, "val")
if len(codes.x) < 2:
    st.error(f"The validation split has {len(codes.x)} points: these measures need at least 2. "
             "Load the data with a larger validation fraction.")
    st.stop()

st.subheader("Latent dimensions", divider="gray")
st.caption(f"Measured on the {len(codes.x):,} validation points.")
frame = view.latent_frame(run, codes)
view.show_table(frame)

st.subheader("What one dimension draws", divider="gray")
dim = view.pick_dim(frame)
left, right = st.columns([3, 2])
with left:
    view.show_traversal(run, data, codes.z, dim)
    view.show_dim_summary(frame, codes, dim)
with right:
    view.show_class_means(data, codes.z, codes.y, dim)

st.subheader("Which inputs drive the code", divider="gray")
view.show_saliency(run, data, codes, dim)
st.markdown("**The encoder's first-layer filters**")
view.show_filters(run, data)

st.subheader("Feature selection: keep the inputs that matter, retrain on them", divider="gray")
selection_view.section(run, data)

st.subheader("A linear autoencoder learns PCA", divider="gray")
view.show_linear(run, data, codes)
