"""The Theory lab's first section: the vector field a denoising autoencoder learns, against a plain one's.

A DAE and a plain AE are trained on a 2-D toy set in a background task (`aeviz.tasks.Task`, shared by every session
that asks for the same data and noise: the result is the same), then drawn side by side: the data, the arrows of
g(f(x)) - x on a grid, and where random points go when the reconstruction is applied again and again.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from aeviz.analysis import field
from aeviz.data import Dataset, load_dataset
from aeviz.plots import CHART_CONFIG
from aeviz.plots_field import field_figure
from aeviz.tasks import Task
from aeviz.ui import url
from aeviz.ui.latent_view import shared_result

LAB_DATA = ("circles", "moons", "spiral")  # 2-D toy sets of the registry
STARTS = 60  # random starting points for the flow


@st.cache_resource(max_entries=4, show_spinner=False)
def _data(name: str) -> Dataset:
    return load_dataset(name)


@st.cache_resource(max_entries=8, show_spinner=False)
def _pair_task(name: str, noise_level: float) -> Task:
    data = _data(name)
    return Task(lambda report: field.train_pair(data, noise_level, report),
                f"Training a denoising AE and a plain AE on {len(data.x):,} points of {name}")


def section() -> None:
    left, mid, right = st.columns(3)
    name = url.selectbox(left, "Data", LAB_DATA, key="theory.field.data")
    noise_level = url.slider(mid, "Training corruption (std of the Gaussian noise)", 0.02, 0.3, 0.1, 0.02,
                             key="theory.field.noise",
                             help="the DAE learns to undo noise of this size: its arrows reach about this far")
    steps = url.slider(right, "Apply the reconstruction again and again: steps", 0, 30, 0, key="theory.field.steps",
                       help="x ← g(f(x)), from random points: the DAE's walk onto the data")
    task = shared_result(_pair_task, (name, float(noise_level)), "theory.field.cancel")
    if task is None:
        return
    data, (dae, ae) = _data(name), task.result
    points = field.grid(data.x)
    start = np.random.default_rng(0).uniform(points.min(0), points.max(0), (STARTS, 2)).astype(np.float32)
    columns = st.columns(2)
    for column, run, label in zip(columns, (dae, ae), ("DAE", "Plain AE")):
        vectors = field.field(run.model, points)
        path = field.flow(run.model, start, steps) if steps else None
        share = field.towards_data(points, vectors, data.x)
        title = f"{label}: {share:.0%} point to the data"
        column.plotly_chart(field_figure(data.x, points, vectors, title, path), config=CHART_CONFIG,
                            key=f"theory.field.chart.{run.model_name}")
        column.caption(f"Away from the data its arrows go **{field.reach(points, vectors, data.x):.0%}** of the way "
                       "there (median; arrows drawn to scale with each other, the longest one grid cell).")
        if path is not None:
            column.caption(f"After {steps} steps the {STARTS} points are on average "
                           f"{field.distance_to_data(path[-1], data.x).mean():.3f} from the data "
                           f"(they started {field.distance_to_data(start, data.x).mean():.3f} away).")
    st.caption(f"{task.status()}. Both have a code as large as the input (2 numbers). The DAE was trained to undo "
               "noise, so from a point off the data its reconstruction lands on the data: arrows that go all the way "
               "(its field is proportional to the score, ∇ log p(x)). The plain AE only ever saw the data: what it "
               "does off the data is whatever its decoder happened to learn; here it points back, part of the way.")
