"""The live view's steering row, for the run's owner: step while paused, slow motion, and knob changes mid-run.

Everything here only sends commands to the job's `steering.Control`; the training loop applies them between steps
(and records knob changes in the run, which the loss chart marks). A change is validated here first, so a bad value
gets a one-line error at once and never reaches the trainer.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from aeviz import steering
from aeviz.errors import InputError
from aeviz.jobs import Job

SPEED_HELP = ("Slow motion: each optimisation step is stretched to 4, 16 or 64 times its length, and the live views "
              "redraw every half second, so a room can follow the codes moving.")
KNOB_HELP = {"lr": "Adam's learning rate", "beta": "weight of the KL term", "weight": "weight of the penalty",
             "noise_level": "strength of the training noise"}


def refresh_every(job: Job, owner_every: float, watcher_every: float, owner: bool) -> float:
    """The live panel's redraw interval: matched to slow motion, which is there to be watched step by step, and
    to a pause, when the owner's steps should show within a second."""
    if job.control.speed < 1:
        return min(owner_every, 0.5) if owner else min(watcher_every, 2.0)
    if job.control.paused and owner:
        return min(owner_every, 1.0)
    return owner_every if owner else watcher_every


def step_buttons(job: Job, total_steps: int, batch_col: Any, epoch_col: Any) -> None:
    """Step one batch or to the end of the epoch; only while paused."""
    paused = job.control.holding and not job.control.stopped  # the pause has landed: the counter is exact
    batch_col.button("Step 1 batch", key="train.live.step_batch", disabled=not paused, on_click=job.control.step,
                     args=("batch",), width="stretch", help=f"While paused: one optimisation step (step "
                     f"{total_steps} so far); the loss, the reconstructions and the codes redraw after it.")
    epoch_col.button("Step 1 epoch", key="train.live.step_epoch", disabled=not paused, on_click=job.control.step,
                     args=("epoch",), width="stretch",
                     help="While paused: train to the end of the epoch in progress, then wait again.")


def speed_and_knobs(job: Job, speed_col: Any, knobs_col: Any) -> None:
    """The slow-motion speed, and the knobs that may change mid-run."""
    speeds = list(steering.SPEEDS)
    now = next((k for k, v in steering.SPEEDS.items() if v == job.control.speed), "1x")
    picked = speed_col.segmented_control("Speed", speeds, default=now, key=f"train.live.speed.{job.run.id}",
                                         help=SPEED_HELP)
    if picked is not None and steering.SPEEDS[picked] != job.control.speed:
        job.control.set_speed(steering.SPEEDS[picked])
        st.rerun()  # the whole page: the live panel's timer follows the new speed
    with knobs_col.popover("Change live", icon=":material/tune:", width="stretch",
                           help="Change the learning rate or the regulariser's weight without restarting: it "
                                "applies from the next step and is marked on the loss chart."):
        _knobs(job)


def _knobs(job: Job) -> None:
    with job.run.lock:
        knobs = steering.live_knobs(job.run)
    with st.form(f"train.live.knobs.{job.run.id}", border=False):
        values = {name: st.number_input(f"{name} (now {value:.3g})", value=float(value), format="%.6g",
                                        step=float(value) / 2 or 0.1, key=f"train.live.knob.{name}",
                                        help=KNOB_HELP.get(name)) for name, value in knobs.items()}
        sent = st.form_submit_button("Apply from the next step", icon=":material/check:")
    if not sent:
        return
    for name, value in values.items():
        if value == knobs[name]:
            continue
        try:
            job.control.change(name, steering.check_change(job.run, name, value))
        except InputError as exc:
            st.error(str(exc), icon=":material/error:")
            continue
        st.toast(f"{name} {knobs[name]:.3g} → {value:.3g} from the next step", icon=":material/tune:")
