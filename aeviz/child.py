"""Training in a child process, so that the optimisation steps never share a GIL with the app's page threads.

In one process the trainer thread gives the GIL up for every torch op and must win it back from whichever page
thread holds it; with a room of tabs refreshing, a job fell to ~0.4-0.5x of its speed alone. `fit_in_child` runs
`training.fit` in a spawned process and yields the same events in the parent, mirroring the child's run (weights,
history, epoch, optimizer state, status) into the parent's `Run` after every epoch and at the end, so everything
that reads the run (pages, saves, the live probe) works as before. Pause, resume and stop are relayed to the child
between steps through process-shared events; the Control's commands (step, slow motion, knob changes) through a
process queue. A "fresh" step event (a granted step, a change, slow motion) carries the weights and the change log,
so the live views move with every step the room is watching. A child that dies without a word ends the job as
failed.

Children come from a fork server that has imported torch and aeviz once (`_context`), so a job starts in a few
milliseconds instead of a fresh interpreter's ~1.6 s of imports: a room's queue of short runs moves about that much
faster per run. Where there is no fork server (Windows), each child is spawned.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
import threading
from collections.abc import Iterator
from typing import Any

import torch

from aeviz import steering
from aeviz.config import to_dict
from aeviz.replay import Replay
from aeviz.models import build
from aeviz.errors import InputError
from aeviz.runs import Run
from aeviz.training import Control, EndEvent, Event, StepEvent, fit
from aeviz.training_config import TrainConfig

PRELOAD = ["aeviz.child"]  # what the fork server imports once: torch, the models, training
ENV_PREFIX = "AEVIZ_"  # settings read from the environment: each child gets the parent's, as they are now
POLL_S = 0.1  # how often the parent checks the pipe and the control flags
OUTBOX = 8  # messages the child may be ahead of the parent


def _plain(obj: Any) -> Any:
    """Tensors (at any depth of dicts and lists) as numpy arrays: torch pickles a tensor as a handle to shared
    memory that dies with the process that sent it, and the child is gone once the run ends."""
    if torch.is_tensor(obj):
        return ("tensor", obj.detach().cpu().numpy().copy())
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_plain(v) for v in obj)
    return obj


def _tensors(obj: Any) -> Any:
    """The inverse of `_plain`."""
    if isinstance(obj, tuple) and len(obj) == 2 and obj[0] == "tensor":
        return torch.from_numpy(obj[1])
    if isinstance(obj, dict):
        return {k: _tensors(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_tensors(v) for v in obj)
    return obj


def _payload(run: Run) -> dict[str, Any]:
    """What the child needs to rebuild the run (a Run holds a lock, which does not pickle)."""
    with run.lock:
        return {"model_name": run.model_name, "shape": tuple(run.input_shape), "config": to_dict(run.model.config),
                "train": to_dict(run.train_config), "source": run.data_source, "params": dict(run.data_params),
                "id": run.id, "epoch": run.epoch, "history": list(run.history), "best_epoch": run.best_epoch,
                "optimizer": _plain(run.optimizer_state), "weights": _plain(run.model.state_dict()),
                "step": run.step, "changes": list(run.changes),
                "replay": None if run.replay is None else run.replay.to_dict()}


def _rebuild(p: dict[str, Any]) -> Run:
    p = _tensors(p)
    model = build(p["model_name"], p["shape"], **p["config"])
    model.load_state_dict(p["weights"])
    return Run(p["model_name"], model, TrainConfig(**{k: tuple(v) if isinstance(v, list) else v
                                                      for k, v in p["train"].items()}),
               p["source"], p["params"], id=p["id"], epoch=p["epoch"], history=p["history"],
               best_epoch=p["best_epoch"], optimizer_state=p["optimizer"], step=p["step"], changes=p["changes"],
               replay=None if p["replay"] is None else Replay.from_dict(p["replay"]))


def _state(run: Run, light: bool = False) -> dict[str, Any]:
    """What the parent mirrors: everything after an epoch or at the end; after a fresh step only the weights, the
    step count and the change log (Adam's moments triple the bytes and matter only when saving)."""
    with run.lock:
        state = {"weights": run.model.state_dict(), "step": run.step, "changes": list(run.changes)}
        if not light:
            state.update({"history": list(run.history), "epoch": run.epoch, "best_epoch": run.best_epoch,
                          "optimizer": run.optimizer_state, "status": run.status, "message": run.message,
                          "replay": None if run.replay is None else run.replay.to_dict()})
        return _plain(state)


def _context() -> Any:
    """The fork server's context where the platform has one (children are forked from a process that has already
    imported everything, and that runs no threads), else spawn. Never plain fork: the app runs threads."""
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)  # read once, when the fork server starts (at the first job)
    return ctx


def _settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)}


def _child(conn: Any, payload: dict[str, Any], data: Any, until: int, flags: tuple[Any, ...],
           settings: dict[str, str] | None = None) -> None:
    """The child's side: train, send each event (with the run's state after an epoch or at the end). Pause and stop
    are the parent's process-shared events, read between steps like a `Control`'s own. `settings`: the parent's
    AEVIZ_* environment now (a fork server's own is the one it started with)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the server's terminal is the server's to handle
    if settings is not None:
        for name in [k for k in os.environ if k.startswith(ENV_PREFIX)]:
            del os.environ[name]
        os.environ.update(settings)
    control = Control()
    control._stop, control._go, reason, control._inbox, control._held = flags  # noqa: SLF001 - same API, shared
    # The steps do not wait for the parent: a sender thread takes the messages from a queue, so a parent that is
    # busy for a moment (saving an epoch, serving pages) delays what it hears, not the training. The queue is short:
    # a parent that falls behind (tiny epochs, each saved) holds the child back instead of letting it run ahead of
    # what it has saved.
    outbox: queue.Queue = queue.Queue(maxsize=OUTBOX)

    def send() -> None:
        while True:
            message = outbox.get()
            if message is None:
                return
            conn.send(message)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        run = _rebuild(payload)
        for event in fit(run, data, _Reasoned(control, reason), until):
            if isinstance(event, StepEvent):
                outbox.put((event, _state(run, light=True) if event.fresh else None))
            else:
                outbox.put((event, _state(run)))
    except Exception as exc:  # noqa: BLE001 - the parent reports it: the job must never die silently
        outbox.put((None, f"{type(exc).__name__}: {exc}"))
    finally:
        outbox.put(None)
        sender.join()


class _Reasoned:
    """A child's Control whose stop reason is read from the parent's shared text at the moment of stopping."""

    def __init__(self, control: Control, reason: Any) -> None:
        self._control, self._reason = control, reason

    def __getattr__(self, name: str) -> Any:
        return getattr(self._control, name)

    @property
    def reason(self) -> str:
        return self._reason.value.decode(errors="replace") or "by the user"


def _apply(run: Run, state: dict[str, Any]) -> None:
    state = _tensors(state)
    with run.lock:
        run.model.load_state_dict(state["weights"])
        for change in state["changes"][len(run.changes):]:  # knobs the child changed: the parent's configs follow
            steering.set_value(run, change["name"], change["new"])
        run.step, run.changes[:] = state["step"], state["changes"]
        if "history" in state:
            run.history[:] = state["history"]
            run.epoch, run.best_epoch = state["epoch"], state["best_epoch"]
            run.optimizer_state, run.status, run.message = state["optimizer"], state["status"], state["message"]
            run.replay = None if state["replay"] is None else Replay.from_dict(state["replay"])
        run.touch()


def _relay(control: Control, stop: Any, go: Any, reason: Any, commands: Any) -> None:
    """Mirror the job's Control into the flags and the command queue the child reads."""
    for command in control.take():
        commands.put(command)
    if control.stopped and not stop.is_set():
        reason.value = control.reason.encode()[:199]
        stop.set()
        go.set()
    elif control.paused and go.is_set() and not stop.is_set():
        go.clear()
    elif not control.paused and not go.is_set():
        go.set()


def fit_in_child(run: Run, data: Any, control: Control, until: int) -> Iterator[Event]:
    """`training.fit(run, data, control, until)`, computed in a child process; the same events, here."""
    ctx = _context()
    here, there = ctx.Pipe(duplex=False)
    stop, go, reason, commands = ctx.Event(), ctx.Event(), ctx.Array("c", 200), ctx.Queue()
    go.set()
    control._held = ctx.Event()  # noqa: SLF001 - the child sets it while it waits; the job's view reads it here
    _relay(control, stop, go, reason, commands)  # a job paused (or slowed) while queued starts that way
    proc = ctx.Process(target=_child, args=(there, _payload(run), data, until,
                                                       (stop, go, reason, commands, control._held), _settings()),
                       daemon=True, name=f"aeviz-train-{run.id}")
    proc.start()
    there.close()
    with run.lock:
        run.status, run.message = "running", ""
    try:
        while True:
            if here.poll(POLL_S):
                try:
                    event, extra = here.recv()
                except EOFError:
                    proc.join(timeout=5)
                    raise RuntimeError(f"the training process ended without a word (exit code {proc.exitcode}; "
                                       "out of memory?)") from None
                if event is None:  # "InputError: ..." (a refusal, e.g. over the memory budget) stays one
                    kind, _, text = extra.partition(": ")
                    raise InputError(text) if kind == "InputError" else RuntimeError(extra)
                if extra is not None:
                    _apply(run, extra)
                yield event
                if isinstance(event, EndEvent):
                    return
            elif not proc.is_alive() and not here.poll(0):
                raise RuntimeError(f"the training process exited (code {proc.exitcode}) before it finished")
            _relay(control, stop, go, reason, commands)
    finally:
        here.close()
        commands.cancel_join_thread()  # commands the child never read must not hold this thread up
        proc.join(timeout=10)
        if proc.is_alive():
            proc.terminate()

