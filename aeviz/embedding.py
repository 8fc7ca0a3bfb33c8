"""The slow 2-D embeddings, UMAP and t-SNE, with their described parameters and their progress checkpoints.

UMAP: umap-learn's default call spends most of a fresh process's first fit compiling pynndescent's numba code for
its approximate neighbour search (about a minute on 2 cores). The exact k-nearest-neighbour graph of at most a few
ten thousand codes costs scikit-learn about a second, so we compute it there and hand it to UMAP as
`precomputed_knn`: same trustworthiness, and what is left to compile (the graph and the layout) is cached on disk in
the cache folder (`NUMBA_CACHE_DIR`), so a restarted server does not compile again. Epochs report through tqdm.

t-SNE: openTSNE's FFT-accelerated gradient, with fewer iterations than its defaults (100 exaggerated + 250, instead
of 250 + 500): measured on 10,000 MNIST codes it keeps trustworthiness@5 at 0.984 for a third of the time.

The registry that pages draw from lives in `aeviz.projections`; these functions are its slow entries.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass

import numpy as np

from aeviz.config import param, validate
from aeviz.errors import InputError
from aeviz.loaders.download import cache_dir
from aeviz.tasks import Report, Task, no_report

# Before numba is first imported (by umap, lazily): compiled code lands in the cache folder and survives restarts.
os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_dir() / "numba"))

_warm = threading.Event()  # set once UMAP has been fitted in this process (numba code loaded or compiled)
_warm_lock = threading.Lock()


def _check_neighbourhood(owner: str, name: str, value: float, n: int) -> None:
    """A neighbourhood must be smaller than the data: refuse it with the project's message shape."""
    if not value < n - 1:
        raise InputError(f"The {name!r} parameter of {owner} must be below {n - 1} for {n} points. "
                         f"Got {value!r} instead. Lower it, or use more points.")


@dataclass(frozen=True)
class UMAPParams:
    n_neighbors: int = param(15, "Neighbours each point keeps: small = local detail, large = global shape",
                             min=2, max=100)
    min_dist: float = param(0.1, "How tightly points may pack within a cluster (0 = tight, 1 = spread out)",
                            min=0.0, max=1.0)

    def __post_init__(self) -> None:
        validate(self)

    def check(self, n: int) -> None:
        _check_neighbourhood("UMAPParams", "n_neighbors", self.n_neighbors, n)


@dataclass(frozen=True)
class TSNEParams:
    perplexity: float = param(30.0, "Effective number of neighbours each point attends to", min=2.0, max=100.0)

    def __post_init__(self) -> None:
        validate(self)

    def check(self, n: int) -> None:
        _check_neighbourhood("TSNEParams", "perplexity", self.perplexity, n)


class _EpochFile:
    """A file for UMAP's tqdm bar, printed as 'n/total' every epoch: each print becomes a progress report (which
    raises Cancelled when the task was cancelled, stopping the layout between two epochs)."""

    def __init__(self, report: Report, start: float) -> None:
        self.report, self.start, self.stopped = report, start, False

    def write(self, text: str) -> None:
        found = re.findall(r"(\d+)/(\d+)", text)
        if found and not self.stopped:  # raise once: tqdm writes again while closing
            n, total = (int(v) for v in found[-1])
            try:
                self.report(f"layout epoch {n}/{total}", self.start + (1 - self.start) * n / max(total, 1))
            except Exception:
                self.stopped = True
                # tqdm calls write() holding its process-wide lock, acquired once in refresh() and released
                # without try/finally: raising through it would leave every later bar (every later UMAP) blocked.
                from tqdm.auto import tqdm
                tqdm.get_lock().release()
                raise

    def flush(self) -> None:
        pass


def umap_2d(z: np.ndarray, params: UMAPParams, seed: int = 0, report: Report = no_report,
            n_epochs: int | None = 200, n_components: int = 2) -> np.ndarray:
    """(N, D) -> (N, n_components): 2 for pictures, up to D as features to cluster (N2D, aeviz.analysis.n2d).
    Exact neighbours from scikit-learn, then UMAP's graph and layout (n_jobs=1: the other core stays with a training
    run). 200 epochs (UMAP's own choice above 10,000 points) instead of 500 below, and a PCA start instead of the
    spectral one (an eigensolver on the whole graph): on 10,000 MNIST codes together about half the time,
    trustworthiness@5 0.969 against 0.970 and K-Means accuracy 0.787 against 0.792."""
    from sklearn.neighbors import NearestNeighbors

    most = min(z.shape[1], len(z) - 2)  # PCA's start has no more axes than the data; UMAP's layout needs N > d + 1
    if not 1 <= n_components <= most:
        raise InputError(f"UMAP can give 1 to {most} output dimensions for {len(z)} points of {z.shape[1]} values. "
                         f"Got {n_components} instead.")
    report("neighbours", 0.0)
    k = min(params.n_neighbors, len(z) - 1)
    dist, idx = NearestNeighbors(n_neighbors=k).fit(z).kneighbors(z)  # includes each point itself, as UMAP expects
    report("neighbour graph", 0.15)
    import warnings

    import umap  # numba: loaded from the on-disk cache after the first server start

    bar = {"disable": False, "file": _EpochFile(report, 0.3), "bar_format": "{n}/{total}", "mininterval": 0,
           "miniters": 1, "delay": 0}
    with warnings.catch_warnings():  # "no NNDescent index: transform unavailable": we never transform
        warnings.simplefilter("ignore", UserWarning)
        xy = umap.UMAP(n_neighbors=k, min_dist=params.min_dist, n_components=n_components, random_state=seed,
                       n_jobs=1, n_epochs=n_epochs, init="pca", precomputed_knn=(idx, dist, None),
                       tqdm_kwds=bar).fit_transform(z)
    _warm.set()
    return np.asarray(xy, np.float64)


def tsne_2d(z: np.ndarray, params: TSNEParams, seed: int = 0, report: Report = no_report,
            n_jobs: int = 2) -> np.ndarray:
    """(N, D) -> (N, 2) with openTSNE (FFT gradients); its callback every 10 iterations reports and can cancel."""
    import openTSNE

    report("neighbours and affinities", 0.0)
    early, main = 100, 250
    seen = {"phase": 0, "last": 0}

    def callback(iteration: int, error: float, embedding: np.ndarray) -> None:
        if iteration < seen["last"]:  # openTSNE restarts its count for the second phase
            seen["phase"] = early
        seen["last"] = iteration
        done = seen["phase"] + iteration
        phase = "early exaggeration" if seen["phase"] == 0 else "iteration"
        report(f"{phase} {done}/{early + main}", 0.1 + 0.9 * done / (early + main))

    perplexity = min(params.perplexity, (len(z) - 1) / 3)  # openTSNE's own bound, said here instead of warned
    tsne = openTSNE.TSNE(perplexity=perplexity, early_exaggeration_iter=early, n_iter=main, random_state=seed,
                         n_jobs=n_jobs, callbacks=callback, callbacks_every_iters=10, verbose=False)
    return np.asarray(tsne.fit(np.asarray(z, np.float64)), np.float64)


def umap_is_warm() -> bool:
    return _warm.is_set()


def warm_up() -> None:
    """Load (or compile, the first time) UMAP's numba code on a tiny random set, once per process."""
    with _warm_lock:
        if not _warm.is_set():
            umap_2d(np.random.default_rng(0).random((200, 8)), UMAPParams(n_neighbors=10), n_epochs=20)


_warming: list[Task] = []  # the one warm-up task of this process


def warm_up_in_background() -> Task:
    """Compile UMAP's numba code into the cache folder in a separate, low-priority process, once per server (later
    calls return the same task), so the first UMAP a visitor asks for only loads it (about 1 s, not 25).

    Not in a thread of this process: numba's import and compile hold the GIL and the import lock for ~20 s, and a
    server warming up that way drew its first page only after 23.5 s (measured; 4.3 s without)."""
    with _warm_lock:
        if not _warming:
            # AEVIZ_WARM_UP=0: the tests (servers that measure training speed must not compile meanwhile), and a
            # server started by `aeviz app`, which started the warm-up itself before the server
            _warming.append(Task(_warm_up_in_child, "UMAP warm-up"))
    return _warming[0]


def start_warm_up_process():
    """The warm-up compile in a separate low-priority process (a `subprocess.Popen`); None when $AEVIZ_WARM_UP is 0.
    `aeviz app` starts it before the server, so the compile has a head start on the first visitor's click."""
    import subprocess
    import sys

    if os.environ.get("AEVIZ_WARM_UP", "1") == "0":
        return None
    nice = (lambda: os.nice(10)) if hasattr(os, "nice") else None  # noqa: E731 - the page's work comes first
    return subprocess.Popen([sys.executable, "-c", "from aeviz.embedding import warm_up; warm_up()"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=nice)


def _warm_up_in_child(report: Report) -> None:
    import subprocess

    proc = start_warm_up_process()
    if proc is None:
        return
    try:
        while proc.poll() is None:
            report("compiling UMAP into the cache folder", None)  # raises when the task is cancelled
            try:
                proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
    finally:
        if proc.poll() is None:
            proc.kill()


def embed(z: np.ndarray, method: str = "pca", seed: int = 0, **params) -> np.ndarray:
    """(N, D) -> (N, 2), blocking: `aeviz.projections.project` under its older name."""
    from aeviz.projections import project  # projections imports this module for its slow entries

    return project(method, z, seed=seed, **params)
