"""The run picker every page that looks at a run shows: the runs this visitor may list, labelled so that two runs
are told apart at a glance (title, variant, code size, key knobs, data, epochs, status; `catalog.label`).

A run opened from a link that is not in the visitor's list (someone else's, shared by its id) is offered too, marked
as shared. Picking one makes it current for the session and puts it in the URL (`?run=`).
"""

from __future__ import annotations

import zlib
from typing import Any

import streamlit as st

from aeviz import catalog
from aeviz.runs import Run
from aeviz.ui import state, url


def _options() -> tuple[list[str], dict[str, str]]:
    rows = [r for r in state.visible_runs() if not r["error"]]
    labels = {r["id"]: catalog.label(r, r["status"]) for r in rows}
    unsaved = [*state.session_runs().values(), *(j.run for j in state.job_manager().active_jobs(state.session_owner()))]
    for run in unsaved:  # this visitor's runs that have no saved epoch yet (this tab's, or one before a reload)
        labels.setdefault(run.id, catalog.label(catalog.row_of_run(run)))
    manager = state.job_manager()
    for run_id in labels:  # a training run's epoch would be stale by the next second: the live view has it
        job = manager.get(run_id)
        if job is not None and job.active:
            parts = catalog.parts(catalog.row_of_run(job.run))
            parts["epochs"] = f"{job.until} epochs"
            parts["status"] = {"queued": "queued", "paused": "paused"}.get(job.state, "in training")
            labels[run_id] = " · ".join(p for p in parts.values() if p)
    current = state.current_run()
    if current is not None and current.id not in labels:
        labels[current.id] = catalog.label(catalog.row_of_run(current)) + " · shared with you"
    return list(labels), labels


def _pick(key: str) -> None:
    chosen = st.session_state.get(key)
    if chosen:
        state.select_run(chosen)


def run_picker(page: str, where: Any = st, label: str = "Run") -> Run | None:
    """A select box of the runs; returns the current run (None if there is none and nothing to pick)."""
    ids, labels = _options()
    current = state.current_run()
    if not ids:
        return current
    # A new widget whenever the current run or any label changes: Streamlit 1.67 keeps showing a keyed select box's
    # old text when only its labels change (measured: "in training" after a Stop, though the label said "stopped").
    labels_id = zlib.crc32("\n".join(labels[i] for i in ids).encode())
    key = f"{page}.run.{current.id if current else 'none'}.{labels_id:08x}"
    where.selectbox(label, ids, index=ids.index(current.id) if current is not None else None, key=key,
                    format_func=labels.get, on_change=_pick, args=(key,),
                    placeholder=f"Pick one of {len(ids)} runs",
                    help="title · variant · code size · its key settings · data · epochs done/planned · status")
    url.publish_carried()
    return state.current_run()
