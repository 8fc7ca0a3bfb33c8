"""Session and server state in one place: the current dataset, the user's runs, the job manager, the runs folder.

Datasets live in `st.cache_resource` (shared, read-only), the JobManager is one per server, a user's runs are in
`st.session_state` (keys prefixed "state."), and every run is also on disk under `runs_dir()`, so nothing is lost
on a restart. Widget keys elsewhere are prefixed by page ("train.vae.beta").
"""

from __future__ import annotations

import atexit
import copy
import os
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import streamlit as st
import torch
from threadpoolctl import threadpool_limits

from aeviz import accel, catalog, memory, runs
from aeviz.data import Dataset, load_dataset
from aeviz.devices import available
from aeviz.errors import InputError
from aeviz.jobs import Job, JobManager
from aeviz.training import check_trainable
from aeviz.ui import access, sessions, view_caches

SWITCH_INTERVAL_S = 0.001
DEFAULT_DATA: tuple[str, dict[str, Any]] = ("mnist", {})
# A closed tab's jobs stop after this long; reopening the run from the runs list within it adopts the job instead.
GRACE_S = float(os.environ.get("AEVIZ_GRACE_S", "60"))  # after Streamlit's own 120 s session TTL


def runs_dir() -> Path:
    """Where runs are saved: $AEVIZ_RUNS, else ./runs under the folder the app was started from."""
    return Path(os.environ.get("AEVIZ_RUNS", "runs")).resolve()


@st.cache_resource(show_spinner=False)
def job_manager() -> JobManager:
    # The trainer thread gives up the GIL for every torch op and must win it back from the page threads; with
    # Python's default 5 ms switch interval one busy page thread cut a small MLP's steps to ~0.2x, with 1 ms ~0.3x.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    # And one BLAS thread: numpy's OpenBLAS threads spin while they wait, so a small SVD (the live probe's PCA)
    # took ~0.1 s instead of ~1 ms whenever browsers or page threads held the other core.
    threadpool_limits(1, user_api="blas")
    torch.set_num_threads(1)  # the pages' own torch work (codes, strips) leaves the other core to the trainer
    # One training slot per machine: on 2 cores two runs at once are each much slower than one after the other.
    slots = accel.training_slots(available())  # $AEVIZ_SLOTS, else 1 per 8 GiB of a GPU (at most 4), 1 on a CPU
    # Each job trains in a child process (aeviz.child): the steps then share no GIL with this server's page threads.
    manager = JobManager(slots=slots, in_child=True)
    memory.serve_from_mmap()  # large buffers freed go back to the OS: a day-long workshop's server stays flat
    # Ctrl+C or a service stop: every job stops between two steps and saves before the process ends (registered
    # after multiprocessing's own exit handler, so it runs first, while the training children are still alive).
    atexit.register(manager.shutdown)
    return manager


@st.cache_resource(show_spinner=False)
def _tabs() -> tuple[dict[str, set[str]], threading.Lock]:
    """owner -> ids of their open sessions (tabs), so one closed tab does not stop a job another tab watches."""
    return {}, threading.Lock()


def _release(tab: tuple[str, str]) -> None:
    """A tab closed (Streamlit ended its session): once the grace period is over, stop its owner's jobs if none of
    their tabs is left, and if nobody at all is left, release the views (`_empty_room`). Waiting matters: a lone
    presenter's reload ends one session and starts the next, and must find the views of a million points cached."""
    owner, sid = tab
    sessions.end_later()  # its session, kept for a reconnect, is ended (and its memory freed) when that window closes
    tabs, lock = _tabs()
    with lock:
        tabs.get(owner, set()).discard(sid)
        everyone_gone = not any(tabs.values())

    def stop_if_gone() -> None:
        with lock:
            gone = not tabs.get(owner)
            room_empty = everyone_gone and not any(tabs.values())
        if gone:
            job_manager().stop_owner(owner)
        if room_empty:  # still nobody: a reload or a page opened within the grace keeps every cached view
            _empty_room()

    timer = threading.Timer(GRACE_S, stop_if_gone)
    timer.daemon = True
    timer.start()


def _empty_room() -> None:
    """Nobody is connected: drop what only viewers needed (the runs are on disk, jobs keep training) and give the
    memory back (tests/test_room.py measures what a room of 30 leaves behind)."""
    view_caches.release()
    store, lock = _opened()
    with lock:
        store.clear()
    job_manager().forget_ended()
    memory.give_back()


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def _tab(owner: str) -> tuple[str, str]:
    """Registers this session as one of `owner`'s open tabs; `_release` runs when the session ends."""
    sid = uuid.uuid4().hex
    tabs, lock = _tabs()
    with lock:
        tabs.setdefault(owner, set()).add(sid)
    return owner, sid


def session_owner() -> str:
    """Who this session's jobs belong to: the visitor's stable owner id (the same after a reload), or the admin's."""
    owner = access.me()
    _tab(owner)
    return owner


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
    return (session_runs().get(run_id) or open_run(run_id)) if run_id else None


def run_data(run: runs.Run) -> Dataset:
    """The dataset a run was trained on (reloaded by its source and params), checked against the model's shape."""
    data = dataset_for(run.data_source, run.data_params)
    runs.check_data_shape(run, data.shape)
    return data


def job_for(run: runs.Run | None) -> Job | None:
    return job_manager().get(run.id) if run is not None else None


@st.cache_resource(show_spinner=False)
def _opened() -> tuple[dict[str, tuple[int, runs.Run]], threading.Lock]:
    """Runs loaded from disk, shared by every session: id -> (config.json's mtime, Run). Sharing one Run object
    means every student looking at the teacher's run shares its cached views too."""
    return {}, threading.Lock()


MAX_OPENED = 64
BROKEN = "state.broken_run"  # why the last run asked for could not be opened


def open_run(run_id: str) -> runs.Run | None:
    """The run with this id: the live one if it is training in this server, else its folder under `runs_dir()`
    (loaded once per change of the folder). None if there is no such run, or if its folder broke since it was
    listed (the reason waits in BROKEN for the run line to show: one damaged run never takes a page down)."""
    job = job_manager().get(run_id)
    if job is not None and job.active:
        return job.run
    row = catalog.find(runs_dir(), run_id)
    if row is None:
        return job.run if job is not None else None
    try:
        stamp = (row["path"] / "config.json").stat().st_mtime_ns
        store, lock = _opened()
        with lock:
            hit = store.get(run_id)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        run = runs.load(row["path"])
    except (InputError, OSError) as exc:
        why = catalog.reason({"path": row["path"], "error": str(exc)})  # without the server's folder
        st.session_state[BROKEN] = f"The run {run_id} cannot be opened: {why}"
        return None
    with lock:
        store[run_id] = (stamp, run)
        while len(store) > MAX_OPENED:
            store.pop(next(iter(store)))
    return run


def select_run(run_id: str) -> runs.Run | None:
    """Make the run with this id current for this session (None, and nothing changes, if there is none)."""
    run = session_runs().get(run_id) or open_run(run_id)
    if run is not None:
        st.session_state["state.current_run"] = run.id
    return run


def load_saved_run(path: Path) -> runs.Run:
    """Make the run saved in `path` current (a run still training in this server is shared, not reloaded)."""
    row = catalog.row_of(Path(path))
    if row["error"]:
        raise InputError(row["error"])
    run = open_run(row["id"]) if Path(path).resolve().parent == runs_dir() else None
    if run is None:  # a folder outside the runs folder (an import in progress, a test's folder)
        run = runs.load(path)
        add_run(run)
    st.session_state["state.current_run"] = run.id
    return run


def copy_run(run: runs.Run) -> runs.Run:
    """This visitor's own copy of a run they may not change (continuing a teacher's run): the same weights,
    history and optimizer state under a new id, owned by them, saved in the runs folder and made current."""
    with run.lock:
        clone = runs.Run(run.model_name, copy.deepcopy(run.model), run.train_config, run.data_source,
                         dict(run.data_params), epoch=run.epoch, history=copy.deepcopy(run.history),
                         status="stopped", best_epoch=run.best_epoch,
                         optimizer_state=copy.deepcopy(run.optimizer_state),
                         title=f"{run.title or run.model_name} (my copy)"[:runs.MAX_TITLE], note=run.note,
                         owner=session_owner())
    runs.save(clone, runs_dir() / clone.id)
    add_run(clone)
    return clone


def retitle(run_id: str, title: str, note: str) -> runs.Run:
    """Set a run's title and note (its owner or the admin only) and save them at once."""
    run = open_run(run_id)
    if run is None:
        raise InputError(f"There is no run {run_id!r} any more; it may have been deleted.")
    if not access.may_change(run.owner):
        raise InputError("Only the person who trained this run (or the admin) can rename it.")
    with run.lock:
        run.title, run.note = " ".join(title.split())[:runs.MAX_TITLE], " ".join(note.split())[:runs.MAX_NOTE]
    runs.save(run, run.path or runs_dir() / run.id)
    return run


def adopt(path: Path) -> runs.Run:
    """An imported run becomes this visitor's own (whatever owner its zip named) and current."""
    run = runs.load(path)
    run.owner = session_owner()
    runs.save(run, path)
    run = open_run(run.id) or run
    add_run(run)
    return run


def newest_trained_id() -> str | None:
    """The newest listed run with at least one finished epoch (what a fresh browser is shown first)."""
    return next((r["id"] for r in visible_runs() if r["epoch"] > 0 and not r["error"]), None)


def visible_runs() -> list[dict]:
    """The saved runs this visitor may list (theirs and the admin's; the admin sees all), with live job states."""
    me, admin = access.me(), access.is_admin()
    rows = [r for r in catalog.list_runs(runs_dir())  # broken folders: their owner's and the admin's to clean up
            if (r["error"] is None and catalog.listed_for(r, me, admin))
            or (r["error"] and catalog.may_change(r["owner"], me, admin))]
    manager = job_manager()
    for row in rows:
        job = manager.get(row["id"])
        row["active"] = job is not None and job.active
        if row["active"]:
            row["status"], row["epoch"] = job.state, job.run.epoch
    return rows
