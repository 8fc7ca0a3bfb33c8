"""The finished (or stopped) run on the Train page: final metrics beside PCA at the same code size, the
validation-MSE and loss curves, the latent probe, and "continue training" (a read-only run continues as a copy)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from aeviz import devices, memory, metrics, plots
from aeviz.data import Dataset
from aeviz.defaults import overcomplete_note
from aeviz.errors import InputError
from aeviz.evaluation import corrupt, encode_all, reconstruct_all
from aeviz.jobs import PROBE_SIZE, STRIP_SIZE, Job, history_points
from aeviz.projections import aligned_pca
from aeviz.runs import Run
from aeviz.ui import access, replay_view, state
from aeviz.ui.run_charts import CHART_CONFIG, duration, latent_chart, loss_chart, strip
from aeviz.ui.text import plain


@st.cache_data(show_spinner="Fitting the PCA baseline...", max_entries=32)
def pca_baseline(run_id: str, k: int, clip: bool, _data: Dataset) -> tuple[float, int]:
    """Validation MSE of PCA with k components (fewer if the data has fewer values) fitted on the training split,
    and how many it kept. It depends on the run's data and k only, so it is cached by run id and k (not the epoch):
    continuing a run does not refit it."""
    mse, pca = metrics.pca_baseline(_data.split("train")[0], _data.split("val")[0], k, clip=clip)
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
    strip(s_in, s_out, data.is_image, f"epoch {run.epoch}", s_noisy, run.model.training_noise())
    left, right = st.columns(2)
    with left:
        if run.history:
            fig = plots.metric_curve(run.history, "val_mse", "Validation MSE per epoch",
                                     baseline=pca[0] if pca else None,
                                     baseline_name=f"PCA, {pca[1]} components" if pca else "PCA")
            st.plotly_chart(fig, key="train.done.mse", config=CHART_CONFIG)
        loss_chart(points, run.history, run.id, changes=run.changes)
    with right:
        latent_chart(xy, labels, data.classes, run.model.config.latent_dim, run.epoch, run.id)
    st.subheader("Replay: how the codes formed", anchor="replay")
    replay_view.show_replay(run, data)


def _status(run: Run, job: Job | None) -> None:
    status = job.state if job is not None else run.status
    message = (job.message if job is not None else "") or run.message or f"Saved at epoch {run.epoch}."
    data = Path(run.data_source).name  # an upload by its file name: never the server's folders
    text = f"**{plain(run.model_name)} on {plain(data)}, epoch {run.epoch}.** {plain(message)}"
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
    pca = None if data is None else pca_baseline(run.id, run.model.config.latent_dim, run.model.bounded_output, data)
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
    c4.metric("training time", duration(training_time(run.history)),
              f"{best.get('samples_per_s', 0):,.0f} samples/s", delta_color="off", delta_arrow="off")
    if exact:
        st.info(overcomplete_note(run.model.config.latent_dim, int(np.prod(data.shape))), icon=":material/info:")
    return pca


def warn_overcomplete(latent: int, data: Dataset) -> None:
    """Say so before training when the chosen code is as wide as the data (e.g. 32 numbers for 2-D moons)."""
    values = int(np.prod(data.shape))
    if latent >= values:
        st.warning(overcomplete_note(latent, values), icon=":material/warning:")




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
        cfg = run.train_config
        try:  # the memory check of `fit`, here, so a refusal is said on the page and no job is queued
            device = devices.resolve(cfg.device)
            memory.check_training(type(run.model), run.model.config, run.input_shape, len(data.x), cfg.batch_size,
                                  device, weights_allocated=device.type == "cpu")
        except InputError as exc:
            st.error(str(exc), icon=":material/error:")
            return
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
