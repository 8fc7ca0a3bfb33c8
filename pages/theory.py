"""Theory lab: ideas from the autoencoder literature made visible, one section at a time (a switch bound to the URL,
so only the section shown trains anything): the vector field a denoising autoencoder learns, the tangent a
contractive one follows, and binary codes for retrieval (semantic hashing)."""

import streamlit as st

from aeviz.ui import field_view, hashing_view, tangent_view, url
from aeviz.ui.layout import page_header

SECTIONS = {
    "Denoising field": ("A denoising autoencoder learns a vector field that points back to the data",
                        field_view.section),
    "Contractive tangents": ("Contractive codes follow the manifold's tangent", tangent_view.section),
    "Semantic hashing": ("Semantic hashing: binary codes for retrieval", hashing_view.section),
}

page_header(
    "Theory lab",
    "What the theory says an autoencoder learns, shown on small toy examples that train in seconds. A **denoising "
    "autoencoder** is trained to undo noise, so its reconstruction minus its input, g(f(x)) − x, is an arrow that "
    "points from wherever x is back to the data: up to a factor, the gradient of the data's log-density "
    "(Alain & Bengio 2014; Goodfellow, Bengio & Courville, ch. 14). A **contractive** one is penalised for every "
    "direction its code responds to, and keeps only those along the data.",
    "compare the two fields on the defaults: away from the circles the DAE's arrows go all the way to the data, the "
    "plain AE's about half of it. Then move **steps** to 10: the DAE walks random points onto the data. In "
    "**Contractive tangents**, the tied CAE's strokes lie along the ring; the untied CAE's wander. In **Semantic "
    "hashing**, the digits stored at the query's own 16-bit address are all 6s, like the query.",
    r"g(f(\tilde x)) - \tilde x \;\approx\; \sigma^2\, \nabla_x \log p(x), \qquad "
    r"\mathcal L_{\text{CAE}} = \lVert x - g(f(x)) \rVert^2 + \lambda \lVert \partial f / \partial x \rVert_F^2",
)

shown = url.radio(st, "Section", list(SECTIONS), key="theory.section", horizontal=True, label_visibility="collapsed")
title, draw = SECTIONS[shown]
st.subheader(title)
draw()
