"""What every page shares: page config, navigation, the header with its concept text, and the sidebar."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from aeviz import devices
from aeviz.ui import state

NAV = [  # (script, label, icon): the order people work in
    ("app.py", "Start here", ":material/home:"),
    ("pages/data.py", "Data", ":material/dataset:"),
    ("pages/train.py", "Train", ":material/model_training:"),
    ("pages/reconstructions.py", "Reconstruct & denoise", ":material/auto_fix_high:"),
    ("pages/latent.py", "Latent space", ":material/scatter_plot:"),
    ("pages/clusters.py", "Clusters", ":material/bubble_chart:"),
    ("pages/features.py", "Features", ":material/tune:"),
    ("pages/generate.py", "Generate", ":material/brush:"),
    ("pages/anomalies.py", "Anomalies", ":material/report:"),
]


def page_header(title: str, concept: str, try_this: str, formula: str | None = None) -> None:
    """Page config, the sidebar, then the title, two or three plain sentences, a formula and a 'try this' hint."""
    st.set_page_config(page_title=f"{title} · aeviz", page_icon=":material/science:", layout="wide")
    sidebar()
    st.title(title)
    st.markdown(concept)
    if formula:
        st.latex(formula)
    st.info(f"**Try this:** {try_this}", icon=":material/lightbulb:")


def sidebar() -> None:
    data = state.current_dataset()
    run = state.current_run()
    job = state.job_for(run)
    with st.sidebar:
        st.markdown("## :material/science: aeviz")
        for script, label, icon in NAV:
            st.page_link(script, label=label, icon=icon)
        st.divider()
        st.markdown(f"**Data:** {data.name} · {len(data.x):,} samples · shape {data.shape}")
        if run is None:
            st.markdown("**Run:** none yet. Train one on the *Train* page.")
        else:
            # While its job is active the run line refreshes itself; a finished run needs no timer.
            st.fragment(run_every=1.0 if job is not None and job.active else None)(_run_line)()
        st.markdown(f"**Device:** {', '.join(devices.available())}")
        st.caption(f"Runs are saved in `{state.runs_dir()}`")


def _run_line() -> None:
    run = state.current_run()
    if run is None:
        return
    job = state.job_for(run)
    status = job.state if job is not None else run.status
    until = job.until if job is not None else run.train_config.epochs
    # The run's own data, which the explore pages use: it may differ from the Data line (the data for new runs).
    st.markdown(f"**Run:** `{run.model_name}` on {Path(run.data_source).name} · {run.epoch} of {until} epochs done "
                f"· {status}")
    if job is not None and job.state == "queued":
        st.caption(f"Queued: position {state.job_manager().queue_position(job)} in line.")
