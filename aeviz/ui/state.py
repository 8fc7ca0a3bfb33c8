"""Session and server state in one place: the current dataset, the user's runs, the job manager, the runs folder.

Datasets live in `st.cache_resource` (shared, read-only), the JobManager is one per server, a user's runs are in
`st.session_state` (keys prefixed "state."), and every run is also on disk under `runs_dir()`, so nothing is lost
on a restart. Widget keys elsewhere are prefixed by page ("train.vae.beta").
"""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path
from typing import Any

import streamlit as st

from aeviz import catalog, runs
from aeviz.data import Dataset, load_dataset
from aeviz.devices import available
from aeviz.errors import InputError
from aeviz.jobs import Job, JobManager
from aeviz.training import check_trainable

DEFAULT_DATA: tuple[str, dict[str, Any]] = ("mnist", {})
# A closed tab's jobs stop after this long; reopening the run from the runs list within it adopts the job instead.
GRACE_S = float(os.environ.get("AEVIZ_GRACE_S", "60"))  # after Streamlit's own 120 s session TTL


def runs_dir() -> Path:
    """Where runs are saved: $AEVIZ_RUNS, else ./runs under the folder the app was started from."""
    return Path(os.environ.get("AEVIZ_RUNS", "runs")).resolve()


@st.cache_resource(show_spinner=False)
def job_manager() -> JobManager:
    # One training slot per machine: on 2 cores two runs at once are each much slower than one after the other.
    slots = int(os.environ.get("AEVIZ_SLOTS", "2" if "cuda" in available() else "1"))
    return JobManager(slots=slots)


def _release(owner: str) -> None:
    """A tab closed: stop its jobs after the grace period unless a new session adopted them."""
    timer = threading.Timer(GRACE_S, job_manager().stop_owner, args=(owner,))
    timer.daemon = True
    timer.start()


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def session_owner() -> str:
    """A stable id for this browser session; when the session ends, `_release` runs."""
    return uuid.uuid4().hex[:12]


@st.cache_resource(show_spinner=False)
def _dataset_store() -> tuple[dict, threading.Lock]:
    """Datasets shared by every session (read-only: noise and models make new arrays)."""
    return {}, threading.Lock()


MAX_DATASETS = 8


def dataset_for(source: str, params: dict[str, Any] | None = None) -> Dataset:
    """A dataset by source and params, loaded once per server. An offline fallback is not kept, so the real
    dataset is tried again next time (the network may be back)."""
    store, lock = _dataset_store()
    key = (source, tuple(sorted((params or {}).items())))
    with lock:
        if key in store:
            return store[key]
    data = load_dataset(source, **(params or {}))
    if data.source == source or Path(source).exists():  # a user file's source is its absolute path
        with lock:
            store[key] = data
            while len(store) > MAX_DATASETS:
                store.pop(next(iter(store)))
    return data


def set_dataset(source: str, params: dict[str, Any] | None = None) -> Dataset:
    """Make a dataset current for this session (raises InputError for bad input, or data too small to train on;
    nothing changes then)."""
    data = dataset_for(source, params)
    check_trainable(data)
    st.session_state["state.data"] = (source, dict(params or {}))
    return data


def current_dataset() -> Dataset:
    source, params = st.session_state.get("state.data", DEFAULT_DATA)
    try:
        return dataset_for(source, params)
    except InputError as exc:  # e.g. an uploaded file that is gone after a restart
        st.session_state["state.data"] = DEFAULT_DATA
        st.warning(f"{exc} Back to the bundled MNIST sample.")
        return dataset_for(*DEFAULT_DATA)


def session_runs() -> dict[str, runs.Run]:
    return st.session_state.setdefault("state.runs", {})


def add_run(run: runs.Run, make_current: bool = True) -> None:
    session_runs()[run.id] = run
    if make_current:
        st.session_state["state.current_run"] = run.id


def current_run() -> runs.Run | None:
    run_id = st.session_state.get("state.current_run")
    return session_runs().get(run_id) if run_id else None


def run_data(run: runs.Run) -> Dataset:
    """The dataset a run was trained on (reloaded by its source and params), checked against the model's shape."""
    data = dataset_for(run.data_source, run.data_params)
    runs.check_data_shape(run, data.shape)
    return data


def job_for(run: runs.Run | None) -> Job | None:
    return job_manager().get(run.id) if run is not None else None


def load_saved_run(path: Path) -> runs.Run:
    """Load a run from disk into this session (a run still training in this server is shared, not reloaded)."""
    cfg_id = None
    for row in catalog.list_runs(path.parent):
        if row["path"] == path:
            cfg_id = row["id"]
    job = job_manager().get(cfg_id) if cfg_id else None
    run = job.run if job is not None and job.active else runs.load(path)  # disk is newer than a finished job
    if job is not None and job.active:
        job.owner = session_owner()  # adopt it: this tab now keeps it alive
    add_run(run)
    return run
