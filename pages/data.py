"""Data: choose what the autoencoder learns from (a bundled, downloaded, toy or uploaded dataset) and look at it."""

import streamlit as st

from aeviz.ui import data_view, state
from aeviz.ui.layout import page_header

page_header(
    "Data",
    "An autoencoder learns the structure of **this** data and nothing else: a model trained on digits rebuilds "
    "digits, and turns anything else into something digit-like. What it can learn depends on how much structure "
    "there is to find: a 28x28 digit is 784 numbers, yet far fewer are enough to say which digit it is and how it "
    "was written. The code size $k$ sets how hard the squeeze is.",
    "switch to **swiss-roll** (a 2-D sheet rolled up in 3-D), press *Use this dataset*, then train an **ae** with "
    "the settings the *Train* page suggests for it (a 2-D code): it unrolls the sheet, neighbours on the sheet stay "
    "neighbours in the code. If a seed leaves a fold, try another.",
    r"x \in [0,1]^{d} \;\rightarrow\; z \in \mathbb{R}^{k}, \qquad k \ll d",
)

pick_registry, pick_upload = st.tabs([":material/dataset: Built-in datasets", ":material/upload: Your file"])
with pick_registry:
    data_view.registry_picker()
with pick_upload:
    data_view.upload_picker()

st.divider()
data_view.show(state.current_dataset())
