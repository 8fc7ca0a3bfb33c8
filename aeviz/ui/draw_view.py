"""Draw a digit or upload a picture, and see what the model makes of it: its reconstruction and where its code
lands among the validation codes. The canvas is `streamlit-drawable-canvas`; without it, upload still works.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from aeviz.ui import url

from aeviz import denoising_lab as lab
from aeviz import metrics, plots
from aeviz.errors import InputError
from aeviz.evaluation import reconstruct_all
from aeviz.runs import Run

try:  # an optional dependency: the page explains its absence instead of failing
    from streamlit_drawable_canvas import st_canvas
except ImportError:  # pragma: no cover - exercised only where the package is missing
    st_canvas = None

CANVAS_PX = 280  # 10x a 28-pixel digit: a 18 px brush becomes MNIST's ~2 px stroke
LATENT_POINTS = 1000  # validation codes drawn behind the new one


def _drawn(kind: str) -> np.ndarray | None:
    """The picture from the canvas (RGBA) or the upload, or None (nothing there, or a bad file: error shown)."""
    if kind == "draw":
        if st_canvas is None:
            st.info("Drawing needs the `streamlit-drawable-canvas` package (`pip install streamlit-drawable-canvas`)."
                    " Upload a picture instead.")
            return None
        st.space(36)  # room for the canvas's floating toolbar, which sits above its top edge
        result = st_canvas(stroke_width=18, stroke_color="#FFFFFF", background_color="#000000", height=CANVAS_PX,
                           width=CANVAS_PX, drawing_mode="freedraw", return_image_data=True, key="recon.canvas")
        st.caption("Draw with the mouse, large and centred, like the digits above. The bin icon clears the canvas.")
        return result.image_data
    up = st.file_uploader("A PNG or JPEG picture", type=["png", "jpg", "jpeg"], key="recon.upload",
                          help="dark ink on white paper is inverted automatically to match the data")
    if up is None:
        return None
    try:
        return lab.decode_upload(up.getvalue(), up.name)
    except InputError as exc:
        st.error(str(exc))
        return None


def latent_figure(ref_xy: np.ndarray, labels: np.ndarray | None, classes, new_xy: np.ndarray,
                  axis_titles: tuple) -> go.Figure:
    fig = plots.latent_scatter(ref_xy, labels, classes, title="Where your picture's code lands",
                               axis_titles=axis_titles)
    fig.add_trace(go.Scatter(x=new_xy[:, 0], y=new_xy[:, 1], mode="markers", name="your picture",
                             marker=dict(symbol="star", size=22, color="#111111", line=dict(color="white", width=2))))
    fig.update_layout(dragmode="pan")
    return fig


def draw_section(run: Run, x_val: np.ndarray, y_val: np.ndarray | None, classes) -> None:
    """Canvas or upload on the left; the prepared input, its reconstruction and its place in the latent space."""
    if x_val.ndim != 4:
        st.caption("Drawing needs an image dataset; this run's inputs are vectors.")
        return
    left, right = st.columns([1, 2])
    with left:
        kind = url.radio(st, "Source", ["draw", "upload"], horizontal=True, key="recon.draw_source",
                        format_func={"draw": "Draw", "upload": "Upload a picture"}.get)
        picture = _drawn(kind)
    with right:
        if picture is None:
            st.info("Your picture's reconstruction and its place among the validation codes appear here.")
            return
        try:
            x_new = lab.prepare_image(picture, run.input_shape, lab.background_level(x_val[:500]))[None]
        except InputError as exc:
            st.error(str(exc))
            return
        if not lab.has_ink(x_new):
            st.info("The picture is empty: draw something (or upload a picture with a visible shape).")
            return
        with run.lock:  # a run still training is read between two steps
            rec = reconstruct_all(run.model, x_new)
            ref_xy, new_xy, axes = lab.place_in_latent(run.model, x_val[:LATENT_POINTS], x_new)
        h, w = x_new.shape[-2:]
        c = st.columns([1, 1, 2.4])
        scale = max(1, 168 // max(h, w))
        c[0].image(plots.tile(x_new, pad=0, scale=scale), caption="What the model sees")
        c[1].image(plots.tile(rec, pad=0, scale=scale), caption="Its reconstruction")
        c[1].metric("PSNR", f"{metrics.psnr(x_new, rec):.1f} dB")
        labels = None if y_val is None else y_val[:LATENT_POINTS]
        c[2].plotly_chart(latent_figure(ref_xy, labels, classes, new_xy, axes), key="recon.latent",
                          config=plots.CHART_CONFIG)
