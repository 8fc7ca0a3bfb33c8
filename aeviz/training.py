"""The training loop: `fit(run, data)` yields events and mutates the Run, knowing nothing about any variant.

Step events are cheap (losses summed on the device, read every `log_every` steps, after every granted step and a
few times a second in slow motion); epoch events carry the validation metrics. Pause/resume/stop, stepping, slow
motion and live knob changes come through a `steering.Control`, applied between steps. At every epoch end the codes
of a fixed probe set are kept for the replay (`aeviz.replay`). The best weights (by validation loss) are
kept and restored at the end; a non-finite loss stops training and restores the weights of the last good epoch.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch

from aeviz import accel, devices, memory, replay as replays
from aeviz.errors import InputError
from aeviz.evaluation import EVAL_CHUNK, eval_mode
from aeviz.metrics import psnr_from_mse
from aeviz.runs import Run
from aeviz.steering import Control, Steer  # noqa: F401 - Control is imported from here by callers

SLOW_EVENT_S = 0.25  # in slow motion, a step event (and a redraw of the live views) at most this often


@dataclass(frozen=True)
class StepEvent:
    epoch: int  # 1-based epoch in progress
    step: int  # steps done in this epoch
    steps: int  # steps per epoch
    losses: dict[str, float]  # means since the last step event
    samples_per_s: float  # averaged over this fit() call, pauses excluded
    elapsed_s: float  # training time in this fit() call, pauses excluded
    eta_s: float
    fresh: bool = False  # worth redrawing the live views for now (a granted step, a knob change, slow motion)


@dataclass(frozen=True)
class EpochEvent:
    epoch: int
    metrics: dict[str, float]  # train_* means over the epoch, val_* on the validation split
    is_best: bool
    note: str | None = None


@dataclass(frozen=True)
class EndEvent:
    status: str  # finished | stopped | failed
    message: str
    extra: dict = field(default_factory=dict)


Event = StepEvent | EpochEvent | EndEvent


def _to_device(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """Once per fit: the whole split moves to the device (from pinned memory to a GPU), never a batch at a time."""
    host = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    return host.pin_memory().to(device, non_blocking=True) if device.type == "cuda" else host.to(device)


def evaluate_losses(model: torch.nn.Module, x: torch.Tensor) -> dict[str, float]:
    """Eval-mode mean losses and per-value MSE/PSNR over `x` (B, *shape), in chunks."""
    # A reduction (sums weighted by chunk size) over a tensor already on the device, not `evaluation.batched`'s
    # per-row map over numpy: it shares that helper's eval-mode switch and chunk size instead.
    sums: dict[str, float] = {}
    sq_err = 0.0
    with eval_mode(model):
        for chunk in torch.split(x, EVAL_CHUNK):
            out = model(chunk)
            for k, v in out.losses.items():
                sums[k] = sums.get(k, 0.0) + float(v) * len(chunk)
            sq_err += float((out.x_hat - chunk).square().sum())
    n = max(len(x), 1)
    metrics = {k: v / n for k, v in sums.items()}
    metrics["mse"] = sq_err / (n * max(x[0].numel(), 1))
    metrics["psnr"] = psnr_from_mse(metrics["mse"])
    return metrics


MIN_SAMPLES = 10  # 8 to train on and 2 to validate: fewer leaves nothing to score, cluster or project


def check_trainable(data) -> None:
    """Training (and every view of a trained run) needs a few training and validation samples."""
    if len(data.x) < MIN_SAMPLES or len(data.train_idx) == 0 or len(data.val_idx) < 2:
        raise InputError(f"{data.name} has {len(data.x)} sample(s); training needs at least {MIN_SAMPLES} "
                         "(8 to train on, 2 to validate). Use more data.")


def fit(run: Run, data, control: Control | None = None, until: int | None = None) -> Iterator[Event]:
    """Train `run` on `data` (an aeviz Dataset) up to epoch `until` (default: the run's configured epochs)."""
    control = control or Control()
    cfg = run.train_config
    check_trainable(data)
    device = devices.resolve(cfg.device)
    accel.check(cfg.precision, device)
    # More threads than cores only adds per-thread buffers (256 of them end in allocator failures).
    threads = min(cfg.threads, os.cpu_count() or 1) if device.type == "cpu" and cfg.threads > 0 else 0
    until = cfg.epochs if until is None else until
    memory.check_training(type(run.model), run.model.config, run.input_shape, len(data.train_idx) + len(data.val_idx),
                          cfg.batch_size, device, weights_allocated=device.type == "cpu")
    try:
        model = run.model.to(device)
        x_train = _to_device(data.x[data.train_idx], device)
        x_val = _to_device(data.x[data.val_idx], device)
    except memory.MEMORY_ERRORS as exc:
        raise InputError(memory.out_of_memory_message(exc, run.epoch + 1, run.epoch)) from None
    # Fused Adam (CPU and CUDA) updates every parameter in one op: ~1.3x the steps/s of the per-tensor loop on a
    # CPU, and far fewer hand-overs of the GIL when the trainer shares a process with the app's page threads.
    fused = True if device.type in ("cpu", "cuda") else None
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, fused=fused)
    if run.optimizer_state is not None:
        optimizer.load_state_dict(run.optimizer_state)
        for group in optimizer.param_groups:  # a state saved by the per-tensor Adam resumes fused too
            group["fused"], group["foreach"] = fused, None
            group["lr"] = cfg.lr  # the run's own record wins (a learning rate changed mid-run is saved in both)
    steer = Steer(control, run, optimizer)
    forward = accel.Forward(model, cfg.compile)
    probe = _start_replay(run, data, model)
    n, bs = len(x_train), cfg.batch_size
    steps = max(1, math.ceil(n / bs))
    best_loss = min((h["val_loss"] for h in run.history if "val_loss" in h), default=math.inf)
    best_state = _snapshot(model) if run.history else None
    elapsed, seen = 0.0, 0
    with run.lock:
        run.status, run.message = "running", ""
    status, message = "finished", f"Trained to epoch {until}."
    while run.epoch < until and status == "finished":
        epoch = run.epoch  # 0-based index of the epoch about to run
        note = model.start_epoch(epoch, until)
        last_good = _snapshot(model)
        torch.manual_seed(cfg.seed * 100_003 + epoch)  # noise and dropout: reproducible, resumable
        order = torch.randperm(n, generator=torch.Generator().manual_seed(cfg.seed * 7919 + epoch)).to(device)
        model.train()
        sums, count = {}, 0
        epoch_sums: dict[str, torch.Tensor] = {}
        finite = torch.ones((), dtype=torch.bool, device=device)
        window_start, window_seen, last_event = time.perf_counter(), 0, time.perf_counter()
        for step in range(steps):
            waited, granted = steer.before_step(epoch + 1, step, steps)
            window_start += waited  # paused time does not count
            if control.stopped:
                status, message = "stopped", f"Stopped {control.reason} during epoch {epoch + 1}."
                break
            if threads and torch.get_num_threads() != threads:  # process-wide: a UMAP fit in the app resets it
                torch.set_num_threads(threads)
            xb = x_train[order[step * bs:(step + 1) * bs]]
            started = time.perf_counter()
            try:
                with run.lock:
                    with accel.autocast(cfg.precision, device):
                        out = forward(xb)
                    optimizer.zero_grad(set_to_none=True)
                    out.losses["loss"].backward()
                    optimizer.step()
                    run.step += 1
            except memory.MEMORY_ERRORS as exc:  # the estimate is an estimate: end as failed, keep the last epoch
                optimizer.zero_grad(set_to_none=True)
                if device.type == "cuda":
                    torch.cuda.empty_cache()  # hand the failed batch's blocks back to other processes on the GPU
                status, message = "failed", memory.out_of_memory_message(exc, epoch + 1, epoch)
                break
            steer.after_step(time.perf_counter() - started)
            for k, v in out.losses.items():
                d = v.detach()
                sums[k] = sums.get(k, 0) + d
                epoch_sums[k] = epoch_sums.get(k, 0) + d * len(xb)
            finite &= torch.isfinite(out.losses["loss"].detach())
            window_seen, count = window_seen + len(xb), count + 1
            # Fresh (reported now, with the weights): a granted step, a knob change, a pause that is about to hold
            # the loop (the view must show exactly where it stopped), and slow motion a few times a second.
            fresh = (granted or steer.changed or (control.paused and not steer.to_epoch_end)
                     or (steer.speed < 1 and time.perf_counter() - last_event >= SLOW_EVENT_S))
            if fresh or (step + 1) % cfg.log_every == 0 or step + 1 == steps:
                if not bool(finite):
                    status, message = "failed", ""  # the message is written below, after the restore
                    break
                elapsed += time.perf_counter() - window_start
                seen += window_seen
                # The average over this fit() call is steadier than the last window's, which swings whenever
                # another process takes a core; the ETA follows from it.
                rate = seen / elapsed if elapsed > 0 else 0.0
                remaining = (steps - step - 1) * bs + (until - epoch - 1) * n
                yield StepEvent(epoch + 1, step + 1, steps, {k: float(v) / count for k, v in sums.items()},
                                rate, elapsed, remaining / rate if rate > 0 else math.inf, fresh)
                sums, count, window_start, window_seen = {}, 0, time.perf_counter(), 0
                last_event, steer.changed = time.perf_counter(), False
        steer.end_epoch()
        if status == "failed":
            with run.lock:
                _restore(model, last_good)
                run.touch()
            message = message or (f"Training stopped in epoch {epoch + 1}: the loss became NaN or infinite. The "
                                  f"weights of the last good epoch ({epoch}) were kept. Try a lower learning rate "
                                  f"(now {run.train_config.lr:g}).")
            break
        if status == "stopped":
            break
        metrics = {f"train_{k}": float(v) / n for k, v in epoch_sums.items()}
        with run.lock, torch.no_grad():  # a page reading the model must not switch it to train mode meanwhile
            val = evaluate_losses(model, x_val)
            extra = model.extra_metrics(x_val[:EVAL_CHUNK])
            run.replay.add(epoch + 1, replays.capture(model, probe))
        metrics.update({f"val_{k}": v for k, v in val.items()})
        metrics.update({"epoch": epoch + 1, "time_s": round(elapsed, 3),
                        "samples_per_s": seen / elapsed if elapsed > 0 else 0.0, **extra})
        phase = model.phase(epoch)
        if phase is not None:  # a curriculum's stage ("fine-tune"): the loss chart marks where it changes
            metrics["phase"] = phase
        is_best = val["loss"] < best_loss
        if is_best:
            best_loss, best_state = val["loss"], _snapshot(model)
        with run.lock:
            run.history.append(metrics)
            run.epoch = epoch + 1
            run.best_epoch = epoch + 1 if is_best else run.best_epoch
            run.optimizer_state = optimizer.state_dict()
            run.touch()
        yield EpochEvent(epoch + 1, metrics, is_best, note)
    if status != "failed" and best_state is not None:
        with run.lock:
            _restore(model, best_state)
        if status == "finished" and 0 < run.best_epoch < run.epoch:
            message += (f" Kept the weights of epoch {run.best_epoch}, whose validation loss was the lowest; later "
                        "epochs did worse on unseen data.")
    message += f" {forward.note}" if forward.note else ""
    with run.lock:
        run.status, run.message = status, message
        run.optimizer_state = optimizer.state_dict()
        run.touch()  # a stop mid-epoch or the best-weights restore changed what the model computes
    yield EndEvent(status, message, {"best_epoch": run.best_epoch, "elapsed_s": elapsed,
                                     "samples_per_s": seen / elapsed if elapsed > 0 else 0.0})


def _start_replay(run: Run, data, model: torch.nn.Module) -> np.ndarray:
    """The probe inputs whose codes the replay keeps; a run without a replay (new, or saved before replays) starts
    one with the codes it has now, and a resumed one forgets the snapshots after the epoch it resumes from."""
    idx = replays.probe_indices(data)
    with run.lock:
        if run.replay is None or not np.array_equal(run.replay.probe_idx, idx):
            run.replay = replays.Replay(idx)
        run.replay.truncate(run.epoch)
        probe = data.x[idx]
        if run.epoch not in run.replay.epochs:
            run.replay.add(run.epoch, replays.capture(model, probe))
    return probe


def _snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _restore(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    model.load_state_dict(state)


def train(run: Run, data, control: Control | None = None, until: int | None = None) -> EndEvent:
    """Run `fit` to the end and return its EndEvent (for scripts and tests)."""
    end = None
    for event in fit(run, data, control, until):
        if isinstance(event, EndEvent):
            end = event
    assert end is not None, "fit() always ends with an EndEvent"
    return end
