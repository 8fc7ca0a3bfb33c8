"""Steering a training job while it runs: pause/resume/stop, stepping, slow motion and live knob changes.

`Control` is what the app (or a script) holds: flags read between steps, plus an inbox of commands ("step one
batch", "go at 1/16 speed", "set lr to 1e-2"). `Steer` is the training loop's side: before each step it takes the
commands, applies knob changes to the optimizer and the model's config (recording each in `run.changes`, so the loss
chart can mark it and a saved run keeps it), and blocks while paused unless a step was granted; after each step it
sleeps to honour slow motion. The loop in `training.py` stays ignorant of which knobs exist: a variant declares the
ones that may change mid-run (`steerable` on its class), and the learning rate is always one.
"""

from __future__ import annotations

import dataclasses
import math
import queue
import threading
import time
from typing import Any

from aeviz.errors import InputError

SPEEDS = {"1x": 1.0, "1/4": 0.25, "1/16": 1 / 16, "1/64": 1 / 64}  # slow motion: the fraction of full speed
MAX_CHANGES = 1000  # a run's change log is bounded (each is a click)
WAIT_POLL_S = 0.05  # while paused, how often the loop looks for a granted step


class Control:
    """Thread-safe flags and a command inbox; the UI writes them, the loop reads them between steps. A child
    process swaps in process-shared events and a process queue with the same API (see `aeviz.child`)."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self.reason = "by the user"
        self._go = threading.Event()
        self._go.set()
        self._held = threading.Event()  # set while the loop is actually waiting (a pause has landed)
        self._inbox: Any = queue.Queue()
        self.speed = 1.0  # the last speed asked for (for the UI; the loop's own copy lives in Steer)

    def pause(self) -> None:
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    def stop(self, reason: str = "by the user") -> None:
        """Stop between steps; `reason` completes "Stopped ... during epoch N." in the run's message."""
        self.reason = reason
        self._stop.set()
        self._go.set()

    @property
    def paused(self) -> bool:
        return not self._go.is_set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def holding(self) -> bool:
        """The loop is waiting between steps: what the view shows is exactly where it stopped (a pause asked for
        lands after the step in progress; a child process hears of it a moment later)."""
        return self._held.is_set()

    def wait(self, timeout: float | None = None) -> float:
        """Block while paused, at most `timeout` seconds (returns the seconds spent waiting)."""
        if self._go.is_set():
            return 0.0
        start = time.perf_counter()
        self._go.wait(timeout)
        return time.perf_counter() - start

    # -- commands -------------------------------------------------------------------------------------------------
    def step(self, what: str = "batch") -> None:
        """While paused: train one more batch, or to the end of the epoch in progress."""
        if what not in ("batch", "epoch"):
            raise InputError(f"Step {what!r} is not known; step one 'batch' or one 'epoch'.")
        self._inbox.put(("step", what))

    def set_speed(self, speed: float) -> None:
        if not 0 < speed <= 1:
            raise InputError(f"Speed {speed!r} must be in (0, 1]: 1 is full speed, 0.25 a quarter of it.")
        self.speed = speed
        self._inbox.put(("speed", speed))

    def change(self, name: str, value: float) -> None:
        """Set a live knob from the next step (validate first with `check_change`)."""
        self._inbox.put(("set", name, float(value)))

    def take(self) -> list[tuple]:
        """Every command sent since the last call, oldest first."""
        out = []
        while True:
            try:
                out.append(self._inbox.get_nowait())
            except queue.Empty:
                return out


# -- which knobs may change, and how a change is applied ----------------------------------------------------------
def live_knobs(run: Any) -> dict[str, float]:
    """{knob: current value} of what may change while `run` trains: the learning rate, then the variant's own."""
    model_cls = type(run.model)
    values = dataclasses.asdict(run.model.config)
    return {"lr": run.train_config.lr, **{k: values[k] for k in model_cls.steerable_for(values)}}


def check_change(run: Any, name: str, value: Any) -> float:
    """The value as a float if `name` may be set to it on `run`; else a one-line InputError naming the fix."""
    knobs = live_knobs(run)
    if name not in knobs:
        raise InputError(f"{name!r} cannot change while {run.model_name} trains; choose one of {sorted(knobs)}.")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number; got {value!r}.") from None
    if not math.isfinite(value):
        raise InputError(f"{name} must be a finite number; got {value!r}.")
    _replaced(run, name, value)  # the configs' own bounds (e.g. lr in [1e-7, 10]) raise InputError
    return value


def _replaced(run: Any, name: str, value: float) -> Any:
    if name == "lr":
        return dataclasses.replace(run.train_config, lr=value)
    return dataclasses.replace(run.model.config, **{name: value})


def set_value(run: Any, name: str, value: float) -> None:
    """Write a knob's new value into the run's configs (caller holds `run.lock`); a saved run keeps it."""
    if name == "lr":
        run.train_config = _replaced(run, name, value)
    else:
        run.model.config = _replaced(run, name, value)


def label(change: dict[str, Any]) -> str:
    """'lr 0.001 → 0.01 (epoch 4, step 17)' for the loss chart's mark."""
    return f"{change['name']} {change['old']:.3g} → {change['new']:.3g} (epoch {change['epoch']}, step {change['step']})"


def mark_x(change: dict[str, Any]) -> float:
    """Where a change sits on an epoch axis: the epoch in progress plus the fraction of its steps done."""
    return change["epoch"] - 1 + change["step"] / max(change["steps"], 1)


class Steer:
    """The training loop's side of a Control, for one fit() call."""

    def __init__(self, control: Control, run: Any, optimizer: Any) -> None:
        self.control, self.run, self.optimizer = control, run, optimizer
        self.speed = 1.0
        self.batches = 0  # single steps granted while paused
        self.to_epoch_end = False  # a step-one-epoch grant, until the epoch in progress ends
        self.changed = False  # a change was applied since the last step event (the event should carry it)

    def before_step(self, epoch: int, step: int, steps: int) -> tuple[float, bool]:
        """Apply new commands, then wait while paused and nothing is granted. Returns (seconds waited, whether this
        is a single granted step: the loop reports it at once; an epoch's grant reports as usual)."""
        start = time.perf_counter()
        try:
            return self._turn(epoch, step, steps, start)
        finally:
            self.control._held.clear()  # noqa: SLF001 - training again

    def _turn(self, epoch: int, step: int, steps: int, start: float) -> tuple[float, bool]:
        while True:
            for command in self.control.take():
                self._command(command, epoch, step, steps)
            if self.control.stopped or not self.control.paused:
                return time.perf_counter() - start, False
            if self.batches > 0:
                self.batches -= 1
                return time.perf_counter() - start, True
            if self.to_epoch_end:
                return time.perf_counter() - start, False
            self.control._held.set()  # noqa: SLF001 - the loop's side of the flag
            self.control.wait(WAIT_POLL_S)

    def after_step(self, seconds: float) -> None:
        """Slow motion: a step that took `seconds` is stretched to `seconds / speed` (a stop cuts the wait short)."""
        if self.speed < 1:
            self.control._stop.wait(seconds * (1 / self.speed - 1))  # noqa: SLF001 - an interruptible sleep

    def end_epoch(self) -> None:
        self.to_epoch_end = False

    def _command(self, command: tuple, epoch: int, step: int, steps: int) -> None:
        kind = command[0]
        if kind == "step":
            if command[1] == "batch":
                self.batches += 1
            else:
                self.to_epoch_end = True
        elif kind == "speed":
            self.speed = min(max(float(command[1]), 1e-3), 1.0)
        elif kind == "set":
            self._apply(command[1], command[2], epoch, step, steps)

    def _apply(self, name: str, value: float, epoch: int, step: int, steps: int) -> None:
        run = self.run
        try:
            value = check_change(run, name, value)
        except InputError:
            return  # the UI validates before sending; a stale command for another variant is dropped
        with run.lock:
            old = live_knobs(run)[name]
            if old == value or len(run.changes) >= MAX_CHANGES:
                return
            set_value(run, name, value)
            if name == "lr":
                for group in self.optimizer.param_groups:
                    group["lr"] = value
            run.changes.append({"epoch": epoch, "step": step, "steps": steps, "name": name, "old": old,
                                "new": value})
        self.changed = True
