"""The training view: live while a job trains, then the finished run beside its PCA baseline.

While a job is queued, running or paused, `live_panel` is a fragment that reruns on its own every second and draws
`job.view()`, a snapshot taken under the job's lock (the worker thread never calls Streamlit). Charts keep stable
keys, so they update in place. When the job ends, the fragment asks for one full rerun and the page switches to
`finished_panel`: final metrics with deltas against PCA at the same code size, the validation-MSE curve, and
"continue training" for N more epochs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from aeviz import metrics, plots
from aeviz.data import Dataset
from aeviz.errors import InputError
from aeviz.evaluation import corrupt, encode_all, reconstruct_all
from aeviz.jobs import PROBE_SIZE, STRIP_SIZE, Job, JobView, history_points
from aeviz.projections import aligned_pca
from aeviz.runs import Run
from aeviz.ui import access, state

STRIP_SCALE = 3  # 28 px digits drawn at 84 px: readable on a projector
CHART_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


LIVE_EVERY_S = 1.0  # the owner's live view: loss points arrive every few hundred ms
WATCH_EVERY_S = 2.0  # anyone else watching: half the redraws, so a room watching costs the job little
QUEUED_EVERY_S = 5.0  # a queued job only waits: a rare, cheap check


def show(run: Run, job: Job | None) -> None:
    """The live panel while `job` is active (a cheap waiting panel while it is queued), the finished panel
    otherwise."""
    if job is not None and job.state == "queued":
        st.fragment(run_every=QUEUED_EVERY_S)(queued_panel)(run.id)
    elif job is not None and job.active:
        every = LIVE_EVERY_S if access.may_change(run.owner) else WATCH_EVERY_S
        st.fragment(run_every=every)(live_panel)(run.id)
    else:
        finished_panel(run, job)


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
    st.progress(_progress(view), text=_progress_text(view))
    if view.note:
        st.caption(view.note)
    _epoch_metrics(view.history)
    _strip(view.strip_inputs, view.strip_outputs, job.data.is_image, f"now, epoch {view.epoch}", view.strip_noisy,
           job.run.model.training_noise())
    left, right = st.columns(2)
    with left:
        _loss_chart(view.loss_points, view.history, run_id)
    with right:
        _latent_chart(view.probe_xy, view.probe_labels, job.data.classes, job.run.model.config.latent_dim,
                      view.probe_epoch, run_id)


def _controls(job: Job, view: JobView) -> None:
    if not access.may_change(job.run.owner):
        st.markdown(f"**{job.run.model_name}** on **{job.data.name}** · "
                    f"{_state_words(view.state, job.control.stopped, job.control.paused)} · :gray[read-only: "
                    "only the person who started it (or the admin) can pause or stop it]")
        return
    c1, c2, c3 = st.columns([1, 1, 3], vertical_alignment="center")
    if job.control.paused:  # the flag, not the state: a queued job can be paused before it starts
        c1.button("Resume", icon=":material/play_arrow:", key="train.live.resume", on_click=job.resume,
                  width="stretch")
    else:
        c1.button("Pause", icon=":material/pause:", key="train.live.pause", on_click=job.pause, width="stretch")
    stopping = job.control.stopped
    c2.button("Stopping…" if stopping else "Stop", icon=":material/stop:", key="train.live.stop",
              on_click=job.stop, disabled=stopping, width="stretch",
              help="Stops after the current step; every finished epoch is already saved.")
    with c3.container(key="train.live.status"):
        st.markdown(f"**{job.run.model_name}** on **{job.data.name}** · "
                    f"{_state_words(view.state, stopping, job.control.paused)}")


def _state_words(state_name: str, stopping: bool, paused: bool) -> str:
    if stopping:
        return ":orange[stopping after this step]"
    if paused and state_name == "queued":
        return ":gray[queued, will start paused]"
    return {"running": ":green[training]", "paused": ":orange[paused]", "queued": ":gray[queued]"}.get(
        state_name, state_name)


def _progress(view: JobView) -> float:
    done = max([float(view.epoch), *(p["epoch"] for p in view.loss_points[-1:])])
    return min(1.0, done / max(view.until, 1))


def _progress_text(view: JobView) -> str:
    """'epoch 3/20 · step 40/63 · 3,600 samples/s · about 0:41 left' (epochs count from the run's start)."""
    at = view.loss_points[-1]["epoch"] if view.loss_points else 0.0  # fractional epoch of the last logged step
    in_epoch = at > view.epoch  # the last step belongs to the epoch in progress, not to one already finished
    parts = [f"epoch {min(view.epoch + 1, view.until)}/{view.until}"]
    if view.steps:
        parts.append(f"step {view.step if in_epoch else 0}/{view.steps}")
    if view.samples_per_s > 0 and view.state == "running":  # both averaged over the fit by the trainer
        parts += [f"{view.samples_per_s:,.0f} samples/s", f"about {_duration(view.eta_s)} left"]
    return " · ".join(parts)


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds} s"


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


# -- charts shared by both panels --------------------------------------------------------------------------------
def _strip(inputs: np.ndarray | None, outputs: np.ndarray | None, is_image: bool, when: str,
           noisy: np.ndarray | None = None, noise_spec: tuple[str, float] | None = None) -> None:
    """Validation images over their reconstructions; for a denoising model the noisy inputs it is fed between."""
    if not is_image or inputs is None or not len(inputs):
        return
    rows = [inputs] + ([noisy] if noisy is not None else []) + ([outputs] if outputs is not None else [])
    if noisy is not None:
        caption = (f"top: clean validation images · middle: what the model is fed ({noise_spec[0]} noise, level "
                   f"{noise_spec[1]:g}) · bottom: its reconstruction of the noisy input ({when})")
    else:
        caption = f"top: validation images · bottom: their reconstructions ({when})"
    st.image(plots.tile(np.concatenate(rows), cols=len(inputs), pad=2, scale=STRIP_SCALE), caption=caption)


def _loss_chart(points: list[dict[str, float]], history: list[dict[str, Any]], run_id: str) -> None:
    if not points and not history:
        st.caption("The loss curve appears after the first logged steps.")
        return
    fig = plots.loss_curves(_distinct_parts(points), history)
    fig.update_layout(uirevision=run_id)  # keep the user's zoom while the data updates
    fig.update_yaxes(dtick="D2", tickformat="~g")  # log axis labelled 1, 2, 5, 10, 20...: no crowded digits
    st.plotly_chart(fig, key="train.live.loss", config=CHART_CONFIG)


def _distinct_parts(points: list[dict[str, float]]) -> list[dict[str, float]]:
    """Drop a loss part that equals the total everywhere (a plain AE's recon): it would hide under the total."""
    same = [k for k in plots.PART_COLOURS if k != "loss" and points and all(
        k in p and math.isclose(p[k], p.get("loss", math.nan), rel_tol=1e-9) for p in points)]
    return [{k: v for k, v in p.items() if k not in same} for p in points] if same else points


def _latent_chart(xy: np.ndarray | None, labels: np.ndarray | None, classes: tuple[str, ...] | None,
                  latent_dim: int, epoch: int, run_id: str) -> None:
    if xy is None:
        st.caption("The latent plot appears once training starts.")
        return
    fingerprint = hashlib.blake2b(np.ascontiguousarray(xy).tobytes(), digest_size=8).hexdigest()
    fig = latent_figure(run_id, epoch, latent_dim, fingerprint, xy, labels, classes)
    st.plotly_chart(fig, key="train.live.latent", config=CHART_CONFIG)
    st.caption(f"{len(xy):,} validation samples, coloured by label: watch the clusters form.")


@st.cache_resource(show_spinner=False, max_entries=16)
def latent_figure(run_id: str, epoch: int, latent_dim: int, fingerprint: str, _xy: np.ndarray,
                  _labels: np.ndarray | None, _classes: tuple[str, ...] | None) -> go.Figure:
    """The latent scatter, built once per probe (the codes change once an epoch, the live view redraws every
    second, and building a 1,000-point figure costs ~70 ms of the training thread's CPU). Keyed by the codes'
    fingerprint, since the end of a run re-encodes the probe with the best epoch's weights."""
    raw = latent_dim <= 2  # 1-D and 2-D codes are drawn as they are
    how = f"the {latent_dim}-D code itself" if raw else f"PCA of the {latent_dim}-D code"
    fig = plots.latent_scatter(_xy, _labels, _classes, title=f"Latent space at epoch {epoch}: {how}",
                               axis_titles=("z1", "z2") if raw else ("PC 1", "PC 2"))
    fig.update_layout(uirevision=run_id, dragmode="pan", legend=dict(title="class"))
    return fig


# -- finished ----------------------------------------------------------------------------------------------------
@st.cache_data(show_spinner="Fitting the PCA baseline...", max_entries=32)
def pca_baseline(run_id: str, k: int, _data: Dataset) -> tuple[float, int]:
    """Validation MSE of PCA with k components (fewer if the data has fewer values) fitted on the training split,
    and how many it kept. It depends on the run's data and k only, so it is cached by run id and k (not the epoch):
    continuing a run does not refit it."""
    mse, pca = metrics.pca_baseline(_data.split("train")[0], _data.split("val")[0], k)
    return mse, int(pca.n_components_)


@st.cache_data(show_spinner=False, max_entries=32)
def final_views(run_id: str, revision: int, _run: Run, _data: Dataset) -> dict[str, np.ndarray | None]:
    """The latent probe and the reconstruction strip of a run that has no live job in this server (loaded from
    disk); keyed by run id and epoch, since the weights only change when an epoch ends."""
    x_val, y_val = _data.split("val")
    spec = _run.model.training_noise()
    noisy = None if spec is None else corrupt(x_val[:STRIP_SIZE], *spec)
    with _run.lock:
        z = encode_all(_run.model, x_val[:PROBE_SIZE])
        strip = reconstruct_all(_run.model, x_val[:STRIP_SIZE] if noisy is None else noisy)
    return {"xy": aligned_pca(z, None)[0], "labels": None if y_val is None else y_val[:PROBE_SIZE],
            "strip_in": x_val[:STRIP_SIZE], "strip_noisy": noisy, "strip_out": strip}


def finished_panel(run: Run, job: Job | None) -> None:
    try:
        data = state.run_data(run)
    except InputError as exc:
        data = None
        problem = f"{exc} The charts that need the data are hidden."
    top, more, go = st.columns([4, 1, 1.4], vertical_alignment="bottom")  # room for "Continue training"
    with top:
        _status(run, job)
    _continue(run, data, more, go)
    if data is None:
        st.warning(problem, icon=":material/warning:")
    pca = _final_metrics(run, data) if run.history else None
    if data is None:
        return
    if job is not None:
        view = job.view()
        xy, labels, s_in, s_noisy, s_out, points = (view.probe_xy, view.probe_labels, view.strip_inputs,
                                                    view.strip_noisy, view.strip_outputs, view.loss_points)
    else:
        views = final_views(run.id, run.revision, run, data)
        xy, labels, s_in, s_noisy, s_out = (views["xy"], views["labels"], views["strip_in"], views["strip_noisy"],
                                            views["strip_out"])
        points = history_points(run.history)
    _strip(s_in, s_out, data.is_image, f"epoch {run.epoch}", s_noisy, run.model.training_noise())
    left, right = st.columns(2)
    with left:
        if run.history:
            fig = plots.metric_curve(run.history, "val_mse", "Validation MSE per epoch",
                                     baseline=pca[0] if pca else None,
                                     baseline_name=f"PCA, {pca[1]} components" if pca else "PCA")
            st.plotly_chart(fig, key="train.done.mse", config=CHART_CONFIG)
        _loss_chart(points, run.history, run.id)
    with right:
        _latent_chart(xy, labels, data.classes, run.model.config.latent_dim, run.epoch, run.id)


def _status(run: Run, job: Job | None) -> None:
    status = job.state if job is not None else run.status
    message = (job.message if job is not None else "") or run.message or f"Saved at epoch {run.epoch}."
    text = f"**{run.model_name} on {run.data_source}, epoch {run.epoch}.** {message}"
    if status == "finished":
        st.success(text, icon=":material/check_circle:")
    elif status == "failed":
        st.error(text, icon=":material/error:")
    else:
        st.warning(text, icon=":material/stop_circle:")


def _final_metrics(run: Run, data: Dataset | None) -> tuple[float, int] | None:
    """The best epoch's validation MSE and PSNR (its weights are the ones kept) beside PCA with as many
    components; returns PCA's MSE and component count (None without the data)."""
    best = run.history[run.best_epoch - 1] if 0 < run.best_epoch <= len(run.history) else run.history[-1]
    pca = None if data is None else pca_baseline(run.id, run.model.config.latent_dim, data)
    exact = pca is not None and data is not None and pca[1] >= int(np.prod(data.shape))
    c1, c2, c3, c4 = st.columns(4)
    mse, psnr = best["val_mse"], best["val_psnr"]
    compare = pca is not None and not exact  # PCA that keeps every value rebuilds exactly: nothing to compare
    c1.metric(f"validation MSE (epoch {best['epoch']})", f"{mse:.5f}",
              f"{mse - pca[0]:+.5f} vs PCA" if compare else None, delta_color="inverse",
              help="mean squared error per pixel on the validation images; lower is better")
    c2.metric("validation PSNR", f"{psnr:.2f} dB",
              f"{psnr - metrics.psnr_from_mse(pca[0]):+.2f} dB vs PCA" if compare else None,
              help="peak signal-to-noise ratio, 10·log10(1/MSE); higher is better")
    if pca is not None:
        c3.metric(f"PCA, {pca[1]} components", f"{pca[0]:.5f}", help="the linear baseline with the same code size: "
                  "the MSE of projecting onto the top principal components of the training inputs")
    c4.metric("training time", _duration(training_time(run.history)),
              f"{best.get('samples_per_s', 0):,.0f} samples/s", delta_color="off", delta_arrow="off")
    if exact:
        st.info(overcomplete_note(run.model.config.latent_dim, int(np.prod(data.shape))), icon=":material/info:")
    return pca


def warn_overcomplete(latent: int, data: Dataset) -> None:
    """Say so before training when the chosen code is as wide as the data (e.g. 32 numbers for 2-D moons)."""
    values = int(np.prod(data.shape))
    if latent >= values:
        st.warning(overcomplete_note(latent, values), icon=":material/warning:")


def overcomplete_note(latent: int, values: int) -> str:
    return (f"The code has {latent} numbers for inputs of {values} values, so it is not smaller than the input "
            f"(not *undercomplete*): PCA with {values} components rebuilds the inputs exactly, and the network can "
            f"learn to copy instead of finding structure. Set the latent size below {values} to see what it keeps.")


def training_time(history: list[dict[str, Any]]) -> float:
    """Seconds of training, pauses excluded. `time_s` counts up within one fit() call and restarts when a run
    is continued, so each call's last value is added."""
    total, prev = 0.0, 0.0
    for h in history:
        t = float(h.get("time_s", 0.0))
        if t < prev:
            total += prev
        prev = t
    return total + prev


def _continue(run: Run, data: Dataset | None, more_col: Any, go_col: Any) -> None:
    """N more epochs; a run this visitor may not change is continued as their own copy (the original stays)."""
    mine = access.may_change(run.owner)
    more = more_col.number_input("More epochs", min_value=1, max_value=1000, value=5, step=1, key="train.more",
                                 help="train this run further from where it stopped, with the same settings")
    label = "Continue training" if mine else "Continue as my copy"
    if go_col.button(label, icon=":material/fast_forward:", key="train.continue", disabled=data is None,
                     width="stretch", help=None if mine else "this run is read-only for you: the copy is yours, "
                     "saved beside your other runs, and the original stays as it is"):
        if not mine:
            run = state.copy_run(run)
        continue_run(run, data, int(more))
        st.rerun()


def continue_run(run: Run, data: Dataset, more: int) -> Job:
    """Queue `run` for `more` epochs past its current one (an active job is returned untouched, never restarted)."""
    until = run.epoch + more
    with run.lock:
        run.train_config = dataclasses.replace(run.train_config, epochs=until)
    return state.job_manager().submit(run, data, until, state.session_owner(), run.path or state.runs_dir() / run.id,
                                      admin=access.is_admin())
