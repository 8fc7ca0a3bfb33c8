"""Reconstructions & denoising: what the current run rebuilds, how it copes with noise, and what it makes of a
picture you draw."""

import streamlit as st

from aeviz.ui import denoise_view, draw_view, explore
from aeviz.ui.layout import page_header

page_header(
    "Reconstructions & denoising",
    "Compare each input with what the model rebuilds from its code, then make the task harder: corrupt the input "
    "and ask for the **clean** original back. A *denoising* autoencoder is trained exactly that way, so it must "
    "learn what digits look like rather than copy pixels; a plain one was only ever shown clean inputs.",
    "train a plain **ae** and a **denoising** one on the same data, then come back: set the noise to gaussian and "
    "compare their robustness curves. From level 0.4 up the denoising one rebuilds the digits about 4 dB better; "
    "on clean inputs the plain one wins.",
    r"\tilde x = \mathrm{noise}(x), \qquad \min_{\theta,\phi}\; "
    r"\mathbb{E}\,\lVert x - g_\phi(f_\theta(\tilde x)) \rVert^2",
)

run, data = explore.require_run("recon")
x_val, y_val = data.split("val")
x_val, y_val = x_val[:denoise_view.EVAL_MAX], None if y_val is None else y_val[:denoise_view.EVAL_MAX]

st.subheader("Clean, noisy, rebuilt")
settings = denoise_view.controls(run, data.classes)
denoise_view.evaluate_view(run, x_val, y_val, data.classes, settings)

st.subheader("How robust is it to noise?")
denoise_view.robustness(run, x_val, settings.kind)

st.subheader("Draw your own")
draw_view.draw_section(run, x_val, y_val, data.classes)
