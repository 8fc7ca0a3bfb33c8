"""The one background task type for slow views (UMAP, t-SNE, clustering baselines): a worker thread with real
progress and a prompt cancel.

The work is a function `work(report) -> result`. It calls `report(stage, fraction)` at its own checkpoints (UMAP's
epochs, t-SNE's iterations, the end of a neighbour search); `report` raises `Cancelled` once `cancel()` was asked
for, so the work stops at the next checkpoint and the thread ends. Pages poll `status()` / `fraction` and call
`touch()` while someone is looking: a task built with `orphan_after` cancels itself when nobody has polled it for that
long (the tab was closed or the user went to another page). Workers never call Streamlit.
"""

from __future__ import annotations

import atexit
import threading
import time
import weakref
from typing import Any, Callable, Protocol

_LIVE: weakref.WeakSet = weakref.WeakSet()  # tasks whose thread may still run, for the exit handler


class Cancelled(Exception):
    """Raised inside the work by `report` once the task was cancelled (not an error: nobody wants the result)."""


class Report(Protocol):
    def __call__(self, stage: str, fraction: float | None = None) -> None: ...


def no_report(stage: str, fraction: float | None = None) -> None:
    """For blocking calls nobody watches."""


class Task:
    """`work(report)` on a daemon thread; read `.result` once `.done` is set (or `.error`, or `.cancelled`)."""

    def __init__(self, work: Callable[[Report], Any], title: str, *, slot: threading.Lock | None = None,
                 orphan_after: float | None = None) -> None:
        self.title = title  # "UMAP of 10,000 codes": what the status lines name
        self.stage = "waiting for another task to finish" if slot is not None else "starting"
        self.fraction: float | None = None  # None until the work reports one (a single step has none)
        self.result: Any = None
        self.error: str | None = None
        self.cancelled = False
        self.started = time.monotonic()
        self.finished: float | None = None
        self.done = threading.Event()
        self._cancel = threading.Event()
        self._work, self._slot, self._orphan_after = work, slot, orphan_after
        self._seen = self.started
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"aeviz-task-{title[:30]}")
        _LIVE.add(self)
        self.thread.start()

    def report(self, stage: str, fraction: float | None = None) -> None:
        """Called by the work at each checkpoint: records progress, raises Cancelled when cancelled."""
        if self._orphan_after is not None and time.monotonic() - self._seen >= self._orphan_after:
            self._cancel.set()  # nobody has looked for a while: free the CPU
        if self._cancel.is_set():
            raise Cancelled(self.title)
        self.stage = stage
        if fraction is not None:
            self.fraction = min(1.0, max(self.fraction or 0.0, fraction))  # never moves back

    def cancel(self) -> None:
        """Ask the work to stop at its next checkpoint (a no-op once done)."""
        self._cancel.set()

    def touch(self) -> None:
        """Someone is still waiting for the result."""
        self._seen = time.monotonic()

    @property
    def running(self) -> bool:
        return not self.done.is_set()

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def status(self) -> str:
        if self.cancelled:
            return f"{self.title} was cancelled after {self.elapsed:.1f} s"
        if self.error:
            return self.error
        if self.done.is_set():
            return f"{self.title} took {self.elapsed:.1f} s"
        share = "" if self.fraction is None else f" · {self.fraction:.0%}"
        return f"{self.title}: {self.stage}{share} · {self.elapsed:.0f} s so far"

    def _run(self) -> None:
        try:
            if self._slot is not None:  # one at a time (e.g. pixel baselines): wait, but stay cancellable
                while not self._slot.acquire(timeout=0.2):
                    self.report(self.stage)
                self.started = time.monotonic()  # the clock starts when the work does
            try:
                self.report("starting")
                self.result = self._work(self.report)
                self.fraction, self.stage = 1.0, "done"
            finally:
                if self._slot is not None:
                    self._slot.release()
        except Cancelled:
            self.cancelled = True
        except Exception as exc:  # shown on the page, never lost
            self.error = f"{self.title} failed: {type(exc).__name__}: {exc}"
        finally:
            self.finished = time.monotonic()
            self.done.set()


@atexit.register
def _stop_all(grace_s: float = 5.0) -> None:
    """At exit, cancel what still runs and give it a moment to stop: a thread killed inside openTSNE's native code
    aborts the interpreter ("terminate called without an active exception") instead of exiting cleanly."""
    live = [task for task in list(_LIVE) if task.running]
    for task in live:
        task.cancel()
    deadline = time.monotonic() + grace_s
    for task in live:
        task.thread.join(max(0.0, deadline - time.monotonic()))
