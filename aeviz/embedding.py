"""Slow 2-D embeddings (t-SNE, UMAP) run in a background thread with a visible phase and elapsed time.

UMAP's first fit in a fresh process compiles numba code (a minute or more on 2 cores); t-SNE of 10,000 points takes
about as long. The page polls an `EmbeddingTask` instead of freezing, and `warm_up()` can compile UMAP ahead of time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from aeviz.errors import InputError
from aeviz.projections import pca_2d

METHODS = ("pca", "tsne", "umap")
NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
_warm = threading.Event()  # set once UMAP has been fitted in this process (numba compiled)
_warm_lock = threading.Lock()


def check_params(method: str, params: dict, n: int) -> None:
    """Refuse bad embedding parameters with the project's one message shape."""
    if method not in METHODS:
        raise InputError(f"Unknown projection {method!r}. Choose one of {list(METHODS)}.")
    if method == "tsne" and not 2 <= params.get("perplexity", 30) < max(n, 3):
        raise InputError(f"The 'perplexity' of t-SNE must be in [2, {max(n - 1, 2)}) for {n} points. "
                         f"Got {params.get('perplexity')} instead.")
    if method == "umap":
        if not 2 <= params.get("n_neighbors", 15) < max(n, 3):
            raise InputError(f"UMAP's 'n_neighbors' must be in [2, {max(n - 1, 2)}) for {n} points. "
                             f"Got {params.get('n_neighbors')} instead.")
        if not 0.0 <= params.get("min_dist", 0.1) <= 1.0:
            raise InputError(f"UMAP's 'min_dist' must be in [0, 1]. Got {params.get('min_dist')} instead.")


def embed(z: np.ndarray, method: str = "pca", seed: int = 0, **params) -> np.ndarray:
    """(N, D) codes -> (N, 2) points (blocking). D == 2 with 'pca' returns the codes centred, unrotated."""
    z = np.asarray(z, np.float32)
    check_params(method, params, len(z))
    if method == "pca":
        return pca_2d(z)[0]
    if method == "tsne":
        from sklearn.manifold import TSNE
        init = "pca" if z.shape[1] >= 2 else "random"  # a PCA start needs two dimensions
        return TSNE(n_components=2, perplexity=params.get("perplexity", 30), init=init, random_state=seed,
                    learning_rate="auto").fit_transform(z)
    import umap  # slow import (numba): only when asked for

    xy = umap.UMAP(n_neighbors=params.get("n_neighbors", 15), min_dist=params.get("min_dist", 0.1),
                   random_state=seed, n_jobs=1).fit_transform(z)
    _warm.set()
    return np.asarray(xy, np.float64)


def umap_is_warm() -> bool:
    return _warm.is_set()


def warm_up() -> None:
    """Compile UMAP's numba code on a tiny random set, once per process (call it from a background thread)."""
    with _warm_lock:
        if not _warm.is_set():
            embed(np.random.default_rng(0).random((200, 8)), "umap", n_neighbors=10)


@dataclass(eq=False)
class EmbeddingTask:
    """One embedding computed on a worker thread; poll `.status()`, read `.result` when `.done` is set."""

    z: np.ndarray
    method: str
    params: dict
    seed: int = 0
    result: np.ndarray | None = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        check_params(self.method, self.params, len(self.z))
        self.cold = self.method == "umap" and not umap_is_warm()
        threading.Thread(target=self._work, daemon=True, name=f"aeviz-{self.method}").start()

    def _work(self) -> None:
        try:
            self.result = embed(self.z, self.method, self.seed, **self.params)
        except Exception as exc:  # reported on the page, never lost
            self.error = f"{NAMES[self.method]} failed: {type(exc).__name__}: {exc}"
        finally:
            self.finished = time.monotonic()
            self.done.set()

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def status(self) -> str:
        if self.done.is_set():
            return self.error or f"{NAMES[self.method]} of {len(self.z):,} points took {self.elapsed:.1f} s"
        if self.cold:
            return (f"UMAP is compiling its numba code (first time in this server, about a minute on 2 cores), "
                    f"then embedding {len(self.z):,} points: {self.elapsed:.0f} s so far")
        return f"{NAMES[self.method]} is embedding {len(self.z):,} points: {self.elapsed:.0f} s so far"
