"""The start page: what an autoencoder is, and the three steps to see one learn."""

import streamlit as st

from aeviz.ui.layout import page_header


def home() -> None:
    page_header(
        "aeviz: watch an autoencoder learn",
        "An **autoencoder** squeezes each input through a small **code** $z$ and rebuilds it. Because the code is "
        "smaller than the input, the network must keep what matters and drop the rest: similar inputs end up "
        "with similar codes, and you can watch those codes arrange themselves into clusters while it learns.",
        "open **Train**, press *Start* with the defaults, and watch the digits separate in the latent plot.",
        r"x \;\xrightarrow{\;f_\theta\;}\; z \;\xrightarrow{\;g_\phi\;}\; \hat x, \qquad "
        r"\min_{\theta,\phi}\; \lVert x - \hat x \rVert^2",
    )
    c1, c2, c3 = st.columns(3)
    c1.markdown("#### 1 · Data\nThe bundled MNIST digits are ready. Or pick a toy manifold, or upload your own.")
    c1.page_link("pages/data.py", label="Choose data", icon=":material/dataset:")
    c2.markdown("#### 2 · Train\nPick a variant, set its knobs, and train it live: loss, reconstructions, codes.")
    c2.page_link("pages/train.py", label="Train a model", icon=":material/model_training:")
    c3.markdown("#### 3 · Explore\nAdd noise and watch it denoise; compare runs; draw your own digit.")
    c3.page_link("pages/reconstructions.py", label="Reconstruct & denoise", icon=":material/auto_fix_high:")
    st.markdown("#### Or follow a lesson\nSeven short lessons, one idea each (a linear AE is PCA, sparse codes, "
                "denoising, the VAE's prior, what cannot be compressed...), each with a check computed from your "
                "own run that turns green when the effect is there.")
    st.page_link("pages/lessons.py", label="Open the lessons", icon=":material/school:")
