"""Background training jobs: one worker thread per run, a fair queue, live snapshots for the app to poll.

The app must never call Streamlit from a worker thread, so a Job only records what happened (loss points, the
last step, the latent probe, the reconstruction strip) under its lock; pages read `job.view()` on a timer. At most
`slots` jobs train at once (1 on a CPU: two runs sharing 2 cores are both slower than one after the other); the next
queued job is taken from the owner (browser session) who has been waiting longest, so one tab cannot hog the
machine. A run is saved to disk after every epoch, so a restart loses at most the epoch in progress. Only the
KEEP_FINISHED most recent ended jobs stay in memory (~15 MB each): a day-long workshop's server stays flat, and the
app shows an older run from its folder.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aeviz import runs
from aeviz.errors import InputError
from aeviz.evaluation import corrupt, encode_all, reconstruct_all
from aeviz.projections import aligned_pca
from aeviz.child import fit_in_child
from aeviz.training import Control, EndEvent, EpochEvent, StepEvent, fit

PROBE_SIZE = 1000  # validation points drawn in the live latent plot
STRIP_SIZE = 10  # validation images in the live reconstruction strip
STRIP_EVERY_S = 1.0  # refresh the strip at most this often
MAX_LOSS_POINTS = 5000  # keep the live loss curve light: thin it out beyond this
KEEP_FINISHED = 8  # ended jobs kept for their last live view; older ones are forgotten: their runs are on disk


def history_points(history: list[dict[str, Any]]) -> list[dict[str, float]]:
    """One loss-curve point per finished epoch (its training loss parts), for runs whose step points are gone."""
    return [{"epoch": float(h["epoch"]), **{k[6:]: v for k, v in h.items()
                                            if k.startswith("train_") and isinstance(v, (int, float))}}
            for h in history if "epoch" in h]


@dataclass
class JobView:
    """A consistent copy of a job's state for drawing (no shared mutable references)."""

    run_id: str
    state: str
    message: str
    epoch: int
    until: int
    step: int
    steps: int
    samples_per_s: float
    eta_s: float
    loss_points: list[dict[str, float]]
    history: list[dict[str, Any]]
    probe_xy: np.ndarray | None
    probe_epoch: int
    probe_when: str  # "epoch 3" or, mid-epoch (stepping, slow motion), "epoch 4, step 17"
    probe_labels: np.ndarray | None
    strip_inputs: np.ndarray
    strip_noisy: np.ndarray | None  # what a denoising model is fed (None for clean inputs)
    strip_outputs: np.ndarray | None
    queue_position: int
    note: str | None
    changes: list[dict[str, Any]]  # knobs changed mid-run (aeviz.steering), for the loss chart's marks
    total_steps: int  # optimisation steps done over the whole run


@dataclass(eq=False)
class Job:
    run: runs.Run
    data: Any  # aeviz.data.Dataset
    until: int
    owner: str
    save_path: Path | None
    admin: bool = False  # the admin's jobs have a slot of their own: they never wait behind visitors'
    in_child: bool = False  # train in a child process (the app: its page threads must not slow the steps)
    control: Control = field(default_factory=Control)
    state: str = "queued"  # queued | running | paused | finished | stopped | failed
    message: str = ""
    note: str | None = None
    last_step: StepEvent | None = None
    loss_points: list[dict[str, float]] = field(default_factory=list)
    probe_xy: np.ndarray | None = None
    probe_epoch: int = 0
    probe_when: str = "epoch 0"
    strip_outputs: np.ndarray | None = None
    queued_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    def __post_init__(self) -> None:
        x_val, y_val = self.data.split("val")
        self.probe_x = x_val[:PROBE_SIZE]
        self.probe_labels = None if y_val is None else y_val[:PROBE_SIZE]
        self.strip_inputs = x_val[:STRIP_SIZE]
        self._noise_spec = spec = self.run.model.training_noise()
        self.strip_noisy = None if spec is None else corrupt(self.strip_inputs, *spec)
        self.loss_points = history_points(self.run.history)  # a continued run keeps its whole curve
        self._last_strip = 0.0
        self._pca_prev: np.ndarray | None = None

    @property
    def active(self) -> bool:
        return self.state in {"queued", "running", "paused"}

    # -- controls (any thread) ---------------------------------------------------------------------------------
    def pause(self) -> None:
        self.control.pause()
        with self.lock:
            if self.state == "running":
                self.state = "paused"

    def resume(self) -> None:
        self.control.resume()
        with self.lock:
            if self.state == "paused":
                self.state = "running"

    def stop(self, reason: str = "by the user") -> None:
        self.control.stop(reason)
        with self.lock:
            if self.state == "queued":
                self.state, self.message = "stopped", "Removed from the queue before it started."
                self.done.set()
                with self.run.lock:
                    self.run.status = "stopped"

    # -- the worker's side ---------------------------------------------------------------------------------------
    def record_step(self, event: StepEvent) -> None:
        point = {"epoch": event.epoch - 1 + event.step / event.steps, **event.losses}
        with self.lock:
            self.last_step = event
            self.loss_points.append(point)
            if len(self.loss_points) > MAX_LOSS_POINTS:
                self.loss_points = self.loss_points[::2]
        if event.fresh:  # stepping, slow motion or a knob change: the room watches every update
            self.refresh_probe(event)
            self.refresh_strip()
        elif time.monotonic() - self._last_strip >= STRIP_EVERY_S:
            self.refresh_strip()

    def refresh_strip(self) -> None:
        spec = self.run.model.training_noise()
        if spec is not None and spec != self._noise_spec:  # the training noise level was changed mid-run
            self.strip_noisy, self._noise_spec = corrupt(self.strip_inputs, *spec), spec
        with self.run.lock:
            outputs = reconstruct_all(self.run.model, self.strip_inputs if self.strip_noisy is None
                                      else self.strip_noisy)
        with self.lock:
            self.strip_outputs = outputs
        self._last_strip = time.monotonic()

    def refresh_probe(self, mid: StepEvent | None = None) -> None:
        """Encode the probe set; 2-D codes are drawn raw, wider ones by PCA aligned to the last frame. `mid`: the
        step event of a mid-epoch redraw (the picture is then of epoch N's step k, not of a finished epoch)."""
        with self.run.lock:
            z = encode_all(self.run.model, self.probe_x)
            epoch = self.run.epoch
        xy, self._pca_prev = aligned_pca(z, self._pca_prev)
        when = f"epoch {epoch}"
        if mid is not None and mid.step < mid.steps:
            when = f"epoch {mid.epoch}, step {mid.step}/{mid.steps}"
        with self.lock:
            self.probe_xy, self.probe_epoch, self.probe_when = xy, epoch, when

    def view(self, queue_position: int = 0) -> JobView:
        with self.lock, self.run.lock:
            step = self.last_step
            return JobView(
                self.run.id, self.state, self.message, self.run.epoch, self.until,
                step.step if step else 0, step.steps if step else 0, step.samples_per_s if step else 0.0,
                step.eta_s if step else float("nan"), list(self.loss_points), list(self.run.history),
                None if self.probe_xy is None else self.probe_xy.copy(), self.probe_epoch, self.probe_when,
                self.probe_labels,
                self.strip_inputs, self.strip_noisy,
                None if self.strip_outputs is None else self.strip_outputs.copy(),
                queue_position, self.note, list(self.run.changes), self.run.step)

    def work(self) -> None:
        """Consume fit() to the end (called on the worker thread once the scheduler gives this job a slot)."""
        with self.lock:
            if self.state == "stopped":
                return
            self.state = "paused" if self.control.paused else "running"
            self.started_at = time.monotonic()
        try:
            self.refresh_strip()
            self.refresh_probe()
            trainer = fit_in_child if self.in_child else fit
            for event in trainer(self.run, self.data, self.control, self.until):
                self._handle(event)
        except Exception as exc:  # the job must never die silently: the page shows the message
            text = str(exc) if isinstance(exc, InputError) else f"Training failed: {type(exc).__name__}: {exc}"
            with self.lock:
                self.state, self.message = "failed", text
            with self.run.lock:
                self.run.status, self.run.message = "failed", self.message

    def _handle(self, event: StepEvent | EpochEvent | EndEvent) -> None:
        if isinstance(event, StepEvent):
            self.record_step(event)
            with self.lock:
                if self.state in {"running", "paused"}:
                    self.state = "paused" if self.control.paused else "running"
        elif isinstance(event, EpochEvent):
            with self.lock:
                self.note = event.note
            self.refresh_probe()
            self.refresh_strip()
            if self.save_path is not None:
                runs.save(self.run, self.save_path)
        else:
            if self.save_path is not None:
                runs.save(self.run, self.save_path)
            self.refresh_strip()
            self.refresh_probe()
            with self.lock:
                self.state, self.message = event.status, event.message


class JobManager:
    """Runs jobs on worker threads, `slots` at a time, fairly across owners."""

    def __init__(self, slots: int = 1, in_child: bool = False) -> None:
        self.slots = slots
        self.in_child = in_child
        self._jobs: dict[str, Job] = {}
        self._queue: deque[Job] = deque()
        self._running: dict[str, Job] = {}
        self._served: dict[str, float] = {}  # owner -> when they last got a slot
        self._ended: deque[str] = deque()  # ids of ended jobs still held, oldest first
        self._lock = threading.Lock()

    def submit(self, run: runs.Run, data: Any, until: int, owner: str, save_path: Path | None,
               admin: bool = False) -> Job:
        """Queue `run` to train up to epoch `until`; a run already active is returned as it is (no restart)."""
        with self._lock:
            existing = self._jobs.get(run.id)
            if existing is not None and existing.active:
                return existing
            job = Job(run, data, until, owner, save_path, admin, self.in_child)
            with run.lock:
                run.status = "queued"
            self._jobs[run.id] = job
            self._queue.append(job)
        self._schedule()
        return job

    def get(self, run_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(run_id)

    def queue_position(self, job: Job) -> int:
        """0 when running or finished, else 1-based place in line."""
        with self._lock:
            return next((i + 1 for i, j in enumerate(self._ordered_queue()) if j is job), 0)

    def active_jobs(self, owner: str | None = None) -> list[Job]:
        with self._lock:
            return [j for j in self._jobs.values() if j.active and (owner is None or j.owner == owner)]

    def stop_owner(self, owner: str) -> None:
        """Stop every active job of `owner` (a closed browser tab)."""
        for job in self.active_jobs(owner):
            job.stop("after its browser tab was closed")

    def forget_ended(self) -> None:
        """Drop every ended job's live view (nobody is looking; the runs are on disk)."""
        with self._lock:
            for run_id in self._ended:
                job = self._jobs.get(run_id)
                if job is not None and not job.active:
                    del self._jobs[run_id]
            self._ended.clear()

    def shutdown(self, wait_s: float = 30.0) -> list[str]:
        """The server is going down (Ctrl+C, a service stop): stop every job between two steps and wait, up to
        `wait_s` in all, for each to save where it got to. Returns the ids of runs that did not end in time."""
        jobs = self.active_jobs()
        for job in jobs:
            job.stop("when the server was shut down")
        deadline = time.monotonic() + wait_s
        return [j.run.id for j in jobs if not j.done.wait(max(0.0, deadline - time.monotonic()))]

    def _ordered_queue(self) -> list[Job]:
        """Queued jobs: the admin's first, then the owner served longest ago first; FIFO within an owner."""
        live = [j for j in self._queue if j.state == "queued"]
        return sorted(live, key=lambda j: (not j.admin, self._served.get(j.owner, 0.0), j.queued_at))

    def _free(self, admin: bool) -> bool:
        """Visitors share `slots`; the admin has one slot of their own (on 2 cores, one thread each, two jobs fit)."""
        running = [j for j in self._running.values() if j.admin == admin]
        return len(running) < (1 if admin else self.slots)

    def _release(self, job: Job) -> None:
        """Note that `job` ended (call with `_lock` held) and forget all but the KEEP_FINISHED most recent."""
        if job.run.id in self._ended:
            self._ended.remove(job.run.id)
        self._ended.append(job.run.id)
        while len(self._ended) > KEEP_FINISHED:
            old = self._jobs.get(self._ended.popleft())
            if old is not None and not old.active:
                del self._jobs[old.run.id]

    def _schedule(self) -> None:
        with self._lock:
            for job in self._queue:
                if job.state != "queued":  # stopped while it waited
                    self._release(job)
            self._queue = deque(j for j in self._queue if j.state == "queued")
            while True:
                job = next((j for j in self._ordered_queue() if self._free(j.admin)), None)
                if job is None:
                    break
                self._queue.remove(job)
                self._running[job.run.id] = job
                self._served[job.owner] = time.monotonic()
                threading.Thread(target=self._worker, args=(job,), name=f"aeviz-train-{job.run.id}",
                                 daemon=True).start()

    def _worker(self, job: Job) -> None:
        try:
            job.work()
        finally:
            with self._lock:
                self._running.pop(job.run.id, None)
                self._release(job)
            job.done.set()
            self._schedule()
