"""Compare runs: two or three runs on the same data, their latent maps side by side with a linked selection, and
their reconstructions of the same inputs in one grid."""

import streamlit as st

from aeviz.ui import compare_view
from aeviz.ui.layout import page_header

page_header(
    "Compare runs",
    "Runs trained on the same data encode the **same inputs**, so their maps can be read side by side: each map is "
    "its own run's code space (drawn raw for 2-D codes, else by PCA), and a group you select in one lights up in "
    "the others. Below, every run rebuilds the same inputs.",
    "with a workshop pack, pick *Plain AE: the robustness baseline*, *Denoising AE…* and *Contractive AE…*, lasso "
    "one cluster in the plain AE's map and see whether the same digits stay together in the others; then compare "
    "their reconstructions of the selected digits row by row.",
)

picked = compare_view.pick_runs()
if picked is not None:
    runs, data = picked
    codes = compare_view.maps(runs, data)
    compare_view.selection_line(runs)
    st.subheader("The same inputs, rebuilt by each run")
    compare_view.grid(runs, codes, data)
