"""Latent space: every code as a point; select some to see their images, click one to see its neighbours."""

import numpy as np
import streamlit as st

from aeviz import plots
from aeviz.ui import explore, latent_find, latent_view, url
from aeviz.ui.layout import page_header

page_header(
    "Latent space",
    "Each point is one input's **code** $z = f(x)$. The autoencoder was never told the labels, yet inputs that "
    "look alike get nearby codes, so classes show up as clusters. Codes wider than two numbers need a projection "
    "to be drawn: PCA keeps straight-line distances, t-SNE and UMAP keep neighbourhoods.",
    "colour by *reconstruction error* and lasso the bright points: they are the digits the model finds hardest "
    "(the brightest 1% have about three times the median error). Then switch to zoom or pan (top right) and click "
    "one point: most of its nearest neighbours in the full code are the same digit.",
)

run, data = explore.require_run("latent")
split = explore.split_picker("latent", data)
codes = explore.codes(run, data, split)
left, right = st.columns([3, 2])
with right:
    method, params = latent_view.projection_controls("latent", codes.z.shape[1])
    colour, extra = latent_view.colour_controls("latent", codes, data)
    show_3d = url.toggle(st, "Also show a 3-D view (PCA)", key="latent.3d", disabled=codes.z.shape[1] < 3)
    thumbs = latent_view.thumbs_toggle("latent", data)
    found = latent_find.controls("latent", codes, data)
    rows = explore.drawn_rows("latent", len(codes.z))
with left:
    view = latent_view.compute_view("latent", run, codes, split, method, params)
    if view is not None:
        groups = latent_view.groups(run, codes, split, colour, extra)
        fig = latent_find.draw(latent_view.figure(run, codes, data, view, split, colour, extra, rows), view.xy,
                               found, groups, data.classes if colour == "label" else None)
        drawn = latent_view.add_thumbs(fig, run, codes, view, split, colour, extra, found.rows) if thumbs else ""
        event = st.plotly_chart(fig, key=f"latent.chart.{method}", on_select="rerun",
                                selection_mode=("points", "box", "lasso"), config=plots.CHART_CONFIG)
        st.caption(plots.drawn_words(len(rows), len(view.xy), f"points of {explore.SPLIT_WORDS[split]}")
                   + f"; {view.note}" + (f"; {drawn}" if drawn else "") + ". Lasso (or pick the box tool, top right) to "
                   "select a group; in zoom or pan mode, click one point to see its image, its reconstruction and "
                   "its nearest neighbours; double-click to clear.")
if view is not None:
    picked = latent_find.picked_rows(event, fig, len(view.xy))
    if picked:
        latent_view.show_selection("latent", picked, codes, data, view)
    else:
        st.caption("Nothing selected yet.")
if show_3d and codes.z.shape[1] >= 3:
    centred = codes.z - codes.z.mean(0)
    xyz = centred[rows] @ np.linalg.svd(centred, full_matrices=False)[2][:3].T
    st.plotly_chart(plots.points_3d(xyz, None if codes.y is None else codes.y[rows],
                                    "The codes' first three principal components"),
                    key="latent.chart3d", config=plots.CHART_CONFIG)
