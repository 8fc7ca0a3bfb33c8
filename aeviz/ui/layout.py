"""What every page shares: page config, navigation, the header with its concept text, and the sidebar."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from aeviz import devices
from aeviz.embedding import warm_up_in_background
from aeviz.ui import access, present, state, url
from aeviz.ui.text import plain

NAV = [  # (script, label, icon): the order people work in
    ("app.py", "Start here", ":material/home:"),
    ("pages/lessons.py", "Lessons", ":material/school:"),
    ("pages/data.py", "Data", ":material/dataset:"),
    ("pages/train.py", "Train", ":material/model_training:"),
    ("pages/reconstructions.py", "Reconstruct & denoise", ":material/auto_fix_high:"),
    ("pages/latent.py", "Latent space", ":material/scatter_plot:"),
    ("pages/compare.py", "Compare runs", ":material/compare:"),
    ("pages/clusters.py", "Clusters", ":material/bubble_chart:"),
    ("pages/features.py", "Features", ":material/tune:"),
    ("pages/generate.py", "Generate", ":material/brush:"),
    ("pages/anomalies.py", "Anomalies", ":material/report:"),
    ("pages/theory.py", "Theory lab", ":material/functions:"),
]


def page_header(title: str, concept: str, try_this: str, formula: str | None = None) -> None:
    """Page config, the sidebar, then the title, two or three plain sentences, a formula and a 'try this' hint.

    The URL's presenter settings (`aeviz.ui.present`) apply here: in presenter mode the sidebar starts collapsed
    and the explanations fold under "Notes"; `?hide=explanations` (or `formula`, `hints`) leaves them out."""
    show = present.settings()
    warm_up_in_background()  # the first page of a fresh server starts UMAP's import and JIT, off the first click
    st.set_page_config(page_title=f"{title} · aeviz", page_icon=":material/science:", layout="wide",
                       initial_sidebar_state="collapsed" if show.present else "auto")
    sidebar()
    st.title(title)
    present.apply(show)  # its CSS, and a note under the title if the link had values it ignored
    if not show.shows("explanations"):
        return
    with st.container(key="explain"):
        with st.expander("Notes", icon=":material/notes:") if show.present else st.container():
            st.markdown(concept)
            if formula and show.shows("formula"):
                st.container(key="formula").latex(formula)  # present.py shrinks it to fit a narrow column
            if show.shows("hints"):
                st.info(f"**Try this:** {try_this}", icon=":material/lightbulb:")


def sidebar() -> None:
    admin = access.is_admin()  # first: an ?admin= token leaves the URL before anything copies it
    state.session_owner()  # this tab counts as the visitor's open tab on every page: their jobs keep running
    url.sync_run_and_data()
    data = state.current_dataset()
    run = state.current_run()
    job = state.job_for(run)
    links = url.links()
    with st.sidebar:
        st.markdown("## :material/science: aeviz")
        for script, label, icon in NAV:
            st.page_link(script, label=label, icon=icon, query_params=links)
        url.copy_link_button()
        on = present.settings().present
        toggle = f"layout.present.{int(on)}"  # a new widget when a link switches the mode
        st.toggle("Presenter mode", value=on, key=toggle, on_change=_present, args=(toggle,),
                  help="projector layout: larger text and charts, explanations folded under Notes, sidebar closed "
                       "(the link keeps it: ?present=1; ?hide= also takes " + ", ".join(present.HIDE) + ")")
        st.divider()
        st.markdown(f"**Data:** {data.name} · {len(data.x):,} samples · shape {data.shape}")
        broken = st.session_state.pop(state.BROKEN, None)  # the current run's folder broke since it was listed
        if broken:
            st.error(plain(broken), icon=":material/error:")
        if run is None:
            st.markdown("**Run:** none yet. Train one on the *Train* page, or pick a saved one.")
        else:
            # While its job is active the run line refreshes itself (rarely while it waits in the queue).
            every = None if job is None or not job.active else 5.0  # the live view itself shows the details
            st.fragment(run_every=every)(_run_line)()
        st.markdown(f"**Device:** {', '.join(devices.available())}")
        who = ("the **admin**: you can change every run" if admin
               else "a visitor: you can change your own runs; the others are read-only")
        st.caption(f"You are {who}. Runs are saved in `{state.runs_dir().name}/`.")
        access.write_cookies()


def _present(toggle: str) -> None:
    if st.session_state.get(toggle):
        st.query_params["present"] = "1"
    elif "present" in st.query_params:
        del st.query_params["present"]


def _run_line() -> None:
    run = state.current_run()
    if run is None:
        return
    job = state.job_for(run)
    status = job.state if job is not None else run.status
    until = job.until if job is not None else run.train_config.epochs
    # The run's own data, which the explore pages use: it may differ from the Data line (the data for new runs).
    title = f"**{plain(run.title)}** · " if run.title else ""
    data = plain(Path(run.data_source).name)
    st.markdown(f"**Run:** {title}`{run.model_name}` on {data} · {run.epoch} of {until} epochs done · {status}")
    if not access.may_change(run.owner):
        st.caption(":material/visibility: read-only for you: continuing it makes your own copy.")
    if job is not None and job.state == "queued":
        st.caption(f"Queued: position {state.job_manager().queue_position(job)} in line.")
