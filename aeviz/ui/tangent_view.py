"""The Theory lab's tangent section: which input directions four encoders respond to, against the true tangent of
the data manifold (a tied CAE, an untied one, a plain AE and a DAE, trained together in one shared background task
per data set), with the mean angle per model and the singular-value spectra."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from aeviz.analysis import tangents
from aeviz.data import Dataset, load_dataset
from aeviz.loaders import toy
from aeviz.plots import CHART_CONFIG
from aeviz.plots_tangents import direction_figure, spectrum_figure
from aeviz.tasks import Task
from aeviz.ui import url
from aeviz.ui.latent_view import shared_result

EVERY = 10  # a stroke at every 10th point: 200 of the 2,000, readable on a projector


@st.cache_resource(max_entries=3, show_spinner=False)
def _data(name: str) -> Dataset:
    return load_dataset(name)


@st.cache_resource(max_entries=3, show_spinner=False)
def _lab_task(name: str) -> Task:
    data = _data(name)
    return Task(lambda report: tangents.train_lab(data, report),
                f"Training four autoencoders on {len(data.x):,} points of {name}")


def _figures(name: str, lab: dict) -> tuple[np.ndarray, dict[str, dict]]:
    data = _data(name)
    idx = np.arange(0, len(data.x), EVERY)
    tangent = toy.tangents(name, len(data.x), data.params["noise"], 0)[idx]
    return data.x[idx], {label: tangents.summary(run.model, data.x[idx], tangent) for label, run in lab.items()}


def section() -> None:
    name = url.selectbox(st, "Data", tangents.LAB_DATA, key="theory.tangent.data",
                         help="a ring (a 1-D manifold in 2-D) or a 2-D sheet rolled up in 3-D")
    task = shared_result(_lab_task, (name,), "theory.tangent.cancel")
    if task is None:
        return
    points, figures = _figures(name, task.result)
    st.dataframe(pd.DataFrame({
        "model": list(figures),
        "mean angle to the tangent (°)": [round(f["mean_angle"], 1) for f in figures.values()],
        f"within {tangents.WITHIN:g}°": [f"{f['within']:.0%}" for f in figures.values()],
        "σ2 / σ1": [round(float(f["spectrum"][1]), 2) for f in figures.values()],
    }), hide_index=True, width="stretch")
    data = _data(name)
    for row in range(0, len(figures), 2):
        for column, (label, f) in zip(st.columns(2), list(figures.items())[row:row + 2]):
            title = f"{label}: {f['mean_angle']:.0f}° off the tangent on average"
            column.plotly_chart(direction_figure(data.x, points, f["directions"][:, 0], f["angles"], title,
                                                 tangents.WITHIN), config=CHART_CONFIG,
                                key=f"theory.tangent.chart.{row}.{label}")
    st.plotly_chart(spectrum_figure({label: f["spectrum"] for label, f in figures.items()}), config=CHART_CONFIG,
                    key="theory.tangent.spectrum")
    best = min(figures, key=lambda label: figures[label]["mean_angle"])
    st.caption(f"{task.status()}. Each model has a code as large as the input and tanh units; the strokes show, at "
               f"every {EVERY}th point, the input direction its code responds to most (the leading right-singular "
               "vector of the encoder's Jacobian df/dx). The contractive penalty ‖df/dx‖² pushes every direction "
               "down, and reconstruction pays only for those along the data, so a CAE's code should follow the "
               "manifold and barely move across it (a small σ2 / σ1 on the ring). Untied, a CAE can dodge the "
               "penalty by shrinking its code and letting the decoder scale it back up: tied weights (W' = Wᵀ) close "
               f"that door. Here the closest to the tangent is the **{best}** (a DAE's reconstruction is contractive "
               "too, Alain & Bengio 2014).")
