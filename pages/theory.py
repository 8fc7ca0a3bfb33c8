"""Theory lab: ideas from the autoencoder literature made visible, one section each. First: the vector field a
denoising autoencoder learns (reconstruction minus input points back to the data)."""

import streamlit as st

from aeviz.ui import field_view
from aeviz.ui.layout import page_header

page_header(
    "Theory lab",
    "What the theory says an autoencoder learns, shown on small 2-D examples that train in seconds. A **denoising "
    "autoencoder** is trained to undo noise, so its reconstruction minus its input, g(f(x)) − x, is an arrow that "
    "points from wherever x is back to the data: up to a factor, the gradient of the data's log-density "
    "(Alain & Bengio 2014; Goodfellow, Bengio & Courville, ch. 14).",
    "compare the two fields on the defaults: away from the circles the DAE's arrows go all the way to the data, the "
    "plain AE's about half of it. Then move **steps** to 10: the DAE walks random points onto the data.",
    r"g(f(\tilde x)) - \tilde x \;\approx\; \sigma^2\, \nabla_x \log p(x), \qquad \tilde x = x + \varepsilon,\; "
    r"\varepsilon \sim \mathcal N(0, \sigma^2 I)",
)

st.subheader("A denoising autoencoder learns a vector field that points back to the data")
field_view.section()
