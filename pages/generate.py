"""Generate: make new images from codes: interpolate between two inputs, sweep one dimension at a time, decode a
whole 2-D grid of codes, and sample (from the VAE's prior, or from a Gaussian fitted to any model's codes)."""

import streamlit as st

from aeviz.ui import explore, generate_view
from aeviz.ui.layout import page_header

page_header(
    "Generate",
    "The decoder turns **any** code into an image, not only the codes of real inputs. Walk in a straight line "
    "between two codes, move one dimension at a time, or decode a whole grid of codes to see everything the model "
    "has learned to draw.",
    "pick a random pair of different classes and compare the two rows: the pixel blend's middle frame is a double "
    "exposure with about 40% more ink than its ends, the decoded path draws one digit at a time. Then train a "
    "**vae** with latent size 2: its manifold grid draws all ten digits.",
    r"\hat x(t) = g\big((1-t)\,f(a) + t\,f(b)\big) \qquad \text{versus} \qquad (1-t)\,a + t\,b",
)

run, data = explore.require_run("generate")
if not data.is_image:
    st.info(f"This page draws pictures, and {data.name}'s samples are points of shape {data.shape}. "
            "Look at the *Latent space* page instead, or train a run on image data.", icon=":material/info:")
    st.stop()
codes = explore.codes(run, data, "val")

st.subheader("Interpolate between two images")
generate_view.interpolation(run, data, codes)

st.subheader("Traverse: one dimension at a time")
generate_view.traversal(run, codes)

st.subheader("The decoded manifold")
generate_view.manifold(run, data, codes)

st.subheader("Sample new images")
generate_view.samples(run, codes)
