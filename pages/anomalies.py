"""Anomalies: reconstruction error as an anomaly score: a threshold on the validation errors, the worst samples with
their error maps, data screening (drop the worst, download the rest), and an out-of-distribution check against
noise, another dataset or an uploaded file."""

import streamlit as st

from aeviz.ui import anomaly_view, explore, screening_view
from aeviz.ui.layout import page_header

page_header(
    "Anomalies",
    "An autoencoder rebuilds inputs that look like its training data well and everything else badly, so its "
    "**reconstruction error is an anomaly score**: no labels needed, just a threshold. Inputs from somewhere else "
    "(noise, another dataset) should score high.",
    "move the threshold and look at the worst digits: are they odd, or mislabelled? Then feed **uniform noise** "
    "through the run and read the AUC, and try another dataset or a file of your own.",
    r"s(x) = \tfrac{1}{D}\,\lVert x - g(f(x)) \rVert^2, \qquad \text{flag } x \text{ when } s(x) > \tau_q",
)

run, data = explore.require_run("anomalies")
codes = explore.codes(run, data, "val")

st.subheader("Reconstruction error per sample")
threshold = anomaly_view.threshold(codes)

st.subheader("The worst reconstructed")
anomaly_view.worst(run, data, codes)

st.subheader("Data screening: drop the worst, keep the rest")
screening_view.section(run, data, threshold)

st.subheader("Out of distribution: feed it something else")
anomaly_view.ood(run, data, codes, threshold)
