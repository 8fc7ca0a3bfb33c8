"""The training view: live while a job trains, then the finished run (`finished_view`).

While a job runs or is paused, `live_panel` is a fragment that reruns on its own (every two seconds for the run's
owner, every five for anyone else watching; faster while paused or in slow motion) and draws `job.view()`, a snapshot
taken under the job's lock (the worker thread never calls Streamlit). A queued job gets a cheap panel that checks
every five seconds. Charts keep stable keys, so they update in place, and a browser redraws only what changed: the
loss chart at most every two seconds, the latent map at most every four at full speed (see `benchmarks/
bench_watching.py`). When the job ends, the fragment asks for one full rerun and the page switches to the finished
panel.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from aeviz import plots, steering
from aeviz.data import Dataset
from aeviz.jobs import STRIP_SIZE, Job, JobView
from aeviz.runs import Run
from aeviz.ui import access, finished_view, state, steer_view
from aeviz.ui.run_charts import STRIP_SCALE, duration, latent_chart, loss_chart, strip

LIVE_EVERY_S = 2.0  # the owner's live view at full speed (1 s while paused, 0.5 s in slow motion)
WATCH_EVERY_S = 5.0  # anyone else watching: a fifth of the redraws, so a room watching costs the job little
QUEUED_EVERY_S = 5.0  # a queued job only waits: a rare, cheap check
LIVE_MAP_EVERY_S = 4.0  # at full speed the live map changes at most this often (a redraw is the browser's dearest)


def show(run: Run, job: Job | None) -> None:
    """The live panel while `job` is active (a cheap waiting panel while it is queued), the finished panel
    otherwise."""
    if job is not None and job.state == "queued":
        st.fragment(run_every=QUEUED_EVERY_S)(queued_panel)(run.id)
    elif job is not None and job.active:
        every = steer_view.refresh_every(job, LIVE_EVERY_S, WATCH_EVERY_S, access.may_change(run.owner))
        st.fragment(run_every=every)(live_panel)(run.id)
    else:
        finished_view.finished_panel(run, job)


def intro(data: Dataset) -> None:
    """Before the first run: what will be watched."""
    st.markdown(f"#### Ready to train on **{data.name}**")
    st.markdown(f"{len(data.train_idx):,} training and {len(data.val_idx):,} validation samples of shape "
                f"{'×'.join(map(str, data.shape))}. Press **Start training**: the loss, these validation images "
                "with their reconstructions, and the codes of the validation set will update here while it learns.")
    if data.is_image:
        st.image(plots.tile(data.split("val")[0][:STRIP_SIZE], cols=STRIP_SIZE, scale=STRIP_SCALE),
                 caption="the validation images you will watch being reconstructed")


# -- live --------------------------------------------------------------------------------------------------------
def queued_panel(run_id: str) -> None:
    """A queued job: its place in line and its controls, nothing to draw; a full rerun once it starts."""
    manager = state.job_manager()
    job = manager.get(run_id)
    if job is None or job.state != "queued":
        st.rerun()
    view = job.view(manager.queue_position(job))
    _controls(job, view)
    st.info(f"Queued: position {view.queue_position}. Another run is using this machine's training slot; this one "
            f"starts as soon as it is free (checked every {QUEUED_EVERY_S:g} s).", icon=":material/hourglass_top:")


def live_panel(run_id: str) -> None:
    manager = state.job_manager()
    job = manager.get(run_id)
    if job is None or not job.active or job.state == "queued":
        st.rerun()  # the job ended (or went back to waiting): one full rerun draws the right panel
    view = job.view(manager.queue_position(job))
    _controls(job, view)
    st.progress(_progress(view), text=_progress_text(view, job.control.speed))
    if view.note:
        st.caption(view.note)
    left, right = st.columns(2)  # the charts first: on a 768-pixel projector they are what the room watches
    with left:
        loss_chart(view.loss_points, view.history, run_id, live=True, changes=view.changes)
    with right:
        full_speed = view.state == "running" and job.control.speed >= 1  # steps and slow motion: every probe
        latent_chart(view.probe_xy, view.probe_labels, job.data.classes, job.run.model.config.latent_dim,
                      view.probe_when, run_id, LIVE_MAP_EVERY_S if full_speed else 0.0)
    strip(view.strip_inputs, view.strip_outputs, job.data.is_image, f"now, epoch {view.epoch}", view.strip_noisy,
          job.run.model.training_noise())
    _epoch_metrics(view.history)


def _controls(job: Job, view: JobView) -> None:
    if not access.may_change(job.run.owner):
        st.markdown(f"**{job.run.model_name}** on **{job.data.name}** · "
                    f"{_state_words(view.state, job.control.stopped, job.control.paused)} · :gray[read-only: "
                    "only the person who started it (or the admin) can pause or stop it]")
        return
    c1, c2, c3, c4 = st.columns(4, vertical_alignment="center")  # four buttons fit a 1024-pixel projector
    if job.control.paused:  # the flag, not the state: a queued job can be paused before it starts
        c1.button("Resume", icon=":material/play_arrow:", key="train.live.resume", on_click=job.resume,
                  width="stretch")
    else:
        c1.button("Pause", icon=":material/pause:", key="train.live.pause", on_click=job.pause, width="stretch")
    stopping = job.control.stopped
    c2.button("Stopping…" if stopping else "Stop", icon=":material/stop:", key="train.live.stop",
              on_click=job.stop, disabled=stopping, width="stretch",
              help="Stops after the current step; every finished epoch is already saved.")
    steer_view.step_buttons(job, view.total_steps, c3, c4)
    c5, c6, c7 = st.columns([1.6, 2.1, 1.3], vertical_alignment="bottom")
    with c5.container(key="train.live.status"):
        st.markdown(f"**{job.run.model_name}** on **{job.data.name}** · "
                    f"{_state_words(view.state, stopping, job.control.paused, job.control.holding)}")
    steer_view.speed_and_knobs(job, c6, c7)


def _state_words(state_name: str, stopping: bool, paused: bool, holding: bool = True) -> str:
    if stopping:
        return ":orange[stopping after this step]"
    if paused and state_name == "queued":
        return ":gray[queued, will start paused]"
    if paused and not holding:
        return ":orange[pausing after this step…]"
    return {"running": ":green[training]", "paused": ":orange[paused]", "queued": ":gray[queued]"}.get(
        state_name, state_name)


def _progress(view: JobView) -> float:
    done = max([float(view.epoch), *(p["epoch"] for p in view.loss_points[-1:])])
    return min(1.0, done / max(view.until, 1))


def _progress_text(view: JobView, speed: float = 1.0) -> str:
    """'epoch 3/20 · step 40/63 · 3,600 samples/s · about 0:41 left' (epochs count from the run's start); in slow
    motion the speed instead (the averaged rate and its ETA would mix full-speed and slowed steps)."""
    at = view.loss_points[-1]["epoch"] if view.loss_points else 0.0  # fractional epoch of the last logged step
    in_epoch = at > view.epoch  # the last step belongs to the epoch in progress, not to one already finished
    parts = [f"epoch {min(view.epoch + 1, view.until)}/{view.until}"]
    if view.steps:
        parts.append(f"step {view.step if in_epoch else 0}/{view.steps}")
    slow = next((name for name, value in steering.SPEEDS.items() if value == speed), None) if speed < 1 else None
    if slow and view.state == "running":
        parts.append(f"slow motion, {slow} speed")
    elif view.samples_per_s > 0 and view.state == "running":  # both averaged over the fit by the trainer
        parts += [f"{view.samples_per_s:,.0f} samples/s", f"about {duration(view.eta_s)} left"]
    return " · ".join(parts)


def _epoch_metrics(history: list[dict[str, Any]]) -> None:
    """The last epoch's validation figures, with the change since the epoch before."""
    if not history:
        st.caption("Validation figures appear after the first epoch.")
        return
    last, prev = history[-1], (history[-2] if len(history) > 1 else None)
    cols = st.columns(4)
    for col, (key, name, fmt, lower_better) in zip(cols, (
            ("train_loss", "train loss", "{:.4g}", True), ("val_loss", "validation loss", "{:.4g}", True),
            ("val_mse", "validation MSE", "{:.5f}", True), ("val_psnr", "validation PSNR (dB)", "{:.2f}", False))):
        value = last.get(key)
        if value is None:
            continue
        delta = None if prev is None or prev.get(key) is None else fmt.format(value - prev[key])
        col.metric(f"{name}, epoch {last['epoch']}", fmt.format(value), delta,
                   delta_color="inverse" if lower_better else "normal")


