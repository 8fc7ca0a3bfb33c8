"""Retrieval with binary codes (semantic hashing, Salakhutdinov & Hinton 2009) against its baselines.

The protocol: the queries are the validation split, the database the training split (a query is never in the
database, so it cannot find itself). A method's precision@k is the mean, over the queries, of the fraction of its k
nearest database items that share the query's label. Nearest is by Hamming distance for bits and Euclidean distance
for real-valued codes or pixels; ties (frequent in Hamming distance, which takes only B + 1 values) are broken by
database index, so every figure is deterministic. `compare` scores four methods on the same queries:
- the trained hash's bits (`model_bits`: a `hashing` model's code thresholded at 0.5);
- random-projection LSH with as many bits (`lsh_bits`: the signs of the centred pixels times a seeded Gaussian
  matrix; Charikar 2002), the data-independent hash a learned one must beat;
- Euclidean kNN on a plain autoencoder's real-valued code of the same size;
- Euclidean kNN on the raw pixels, the reference.
`buckets` gives what semantic hashing looks up: the database items at Hamming distance 0, 1, 2 from a query.
`train_pair` trains the Theory lab's pair (a hashing model and a plain AE with as many code units) and scores them.
Measured (2026-11, 2 busy cores, 3,200 bundled MNIST digits, 800 queries, 32 bits, 10 epochs of batch 32): the
pair trains in about 11 s; precision@10: hash 0.73, LSH 0.59, the plain AE's code 0.86, pixels 0.86.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from aeviz.errors import InputError
from aeviz.evaluation import batched, encode_all
from aeviz.tasks import Report, no_report

if TYPE_CHECKING:
    from aeviz.data import Dataset
    from aeviz.models import AutoEncoder
    from aeviz.runs import Run

LAB_LIMIT = 4000  # bundled MNIST digits for the lab: 3,200 to search, 800 queries
LAB_TRAIN = {"epochs": 10, "batch_size": 32, "lr": 2e-3}  # both models of the pair: about 11 s together
K = 10  # precision@K
METRICS = ("hamming", "euclidean")
CHUNK = 1024  # queries per block of the distance matrix: (CHUNK, N) float64, 64 MB for 8,000 items
METHODS = {"hash": "trained hash (Hamming)", "lsh": "random-projection LSH (Hamming)",
           "ae": "plain AE's code (Euclidean)", "pixels": "raw pixels (Euclidean)"}


def model_bits(model: AutoEncoder, x: np.ndarray) -> np.ndarray:
    """(N, *shape) -> (N, bits) uint8 in {0, 1}: a hashing model's code thresholded at 0.5, in batches."""
    if not callable(getattr(model, "bits", None)):
        raise InputError(f"{type(model).__name__} has no binary code; train a 'hashing' model to retrieve by bits.")
    return batched(model, x, model.bits).astype(np.uint8).reshape(len(x), model.config.latent_dim)


def lsh_bits(x: np.ndarray, n_bits: int, seed: int = 0, centre: np.ndarray | None = None) -> np.ndarray:
    """(N, *shape) -> (N, n_bits) uint8: sign bits of (x - centre) @ W, W (D, n_bits) Gaussian from `seed`.
    `centre` (D,) defaults to the mean of `x`; pass the database's mean when hashing queries."""
    if not (isinstance(n_bits, int) and 1 <= n_bits <= 1024):
        raise InputError(f"The 'n_bits' parameter of lsh_bits must be an int in [1, 1024]. Got {n_bits!r} instead.")
    flat = np.asarray(x, np.float64).reshape(len(x), -1)  # (N, D)
    centre = flat.mean(0) if centre is None else np.asarray(centre, np.float64).reshape(-1)
    planes = np.random.default_rng(seed).standard_normal((flat.shape[1], n_bits))  # (D, n_bits)
    return ((flat - centre) @ planes > 0).astype(np.uint8)


def _as_bits(bits: np.ndarray, name: str) -> np.ndarray:
    bits = np.asarray(bits)
    if bits.ndim != 2 or not np.isin(bits, (0, 1)).all():
        raise InputError(f"{name} must be an array (N, bits) of 0s and 1s. Got shape {bits.shape}.")
    return bits.astype(np.float64)


def hamming(query: np.ndarray, database: np.ndarray) -> np.ndarray:
    """Bits (Q, B) or (B,) against (N, B) -> (Q, N) or (N,) int64: the number of places they differ."""
    one = np.asarray(query).ndim == 1
    q, db = _as_bits(np.atleast_2d(query), "query"), _as_bits(database, "database")
    if q.shape[1] != db.shape[1]:
        raise InputError(f"The query has {q.shape[1]} bits and the database {db.shape[1]}; hash both alike.")
    d = q @ (1 - db.T) + (1 - q) @ db.T  # (Q, N): 1 where the query has a 1 and the item a 0, and vice versa
    d = np.rint(d).astype(np.int64)
    return d[0] if one else d


def _distances(query: np.ndarray, database: np.ndarray, metric: str) -> np.ndarray:
    """(Q, N) distances under `metric`: Hamming counts, or squared Euclidean (same order as Euclidean)."""
    if metric == "hamming":
        return hamming(query, database).astype(np.float64)
    q = np.asarray(query, np.float64).reshape(len(query), -1)
    db = np.asarray(database, np.float64).reshape(len(database), -1)
    return np.maximum((q * q).sum(1)[:, None] + (db * db).sum(1)[None, :] - 2 * q @ db.T, 0.0)


def buckets(query: np.ndarray, database: np.ndarray, radius: int = 2) -> list[np.ndarray]:
    """One query's bits (B,) against the database's (N, B): for d = 0..radius, the sorted indices of the items
    at Hamming distance exactly d (an empty array where none are)."""
    d = hamming(np.asarray(query).reshape(-1), database)  # (N,)
    return [np.flatnonzero(d == r) for r in range(radius + 1)]


def neighbours(query: np.ndarray, database: np.ndarray, k: int, metric: str = "hamming",
               exclude_self: bool = False) -> np.ndarray:
    """(Q, k) indices of each query's k nearest database rows, ties broken by index. `exclude_self`: the queries
    are the database itself (Q == N) and row i may not find item i."""
    if metric not in METRICS:
        raise InputError(f"Unknown metric {metric!r}. Choose one of {list(METRICS)}.")
    n = len(database) - (1 if exclude_self else 0)
    if not (isinstance(k, int) and 1 <= k <= n):
        raise InputError(f"k must be an int in [1, {n}] (the database's size). Got {k!r} instead.")
    if exclude_self and len(query) != len(database):
        raise InputError("exclude_self needs the queries to be the database itself (as many rows).")
    out = np.empty((len(query), k), np.int64)
    for i in range(0, len(query), CHUNK):
        d = _distances(query[i:i + CHUNK], database, metric)  # (chunk, N)
        if exclude_self:
            d[np.arange(len(d)), np.arange(i, i + len(d))] = np.inf
        out[i:i + CHUNK] = np.argsort(d, axis=1, kind="stable")[:, :k]  # stable: equal distances in index order
    return out


def precision_at_k(query: np.ndarray, query_labels: np.ndarray, database: np.ndarray, database_labels: np.ndarray,
                   k: int = 10, metric: str = "hamming", exclude_self: bool = False) -> float:
    """The mean over queries of the fraction of their k nearest database items with the query's label."""
    query_labels, database_labels = np.asarray(query_labels), np.asarray(database_labels)
    if len(query_labels) != len(query) or len(database_labels) != len(database):
        raise InputError("Give one label per query and one per database item.")
    found = database_labels[neighbours(query, database, k, metric, exclude_self)]  # (Q, k)
    return float((found == query_labels[:, None]).mean())


def compare(hash_model: AutoEncoder, ae_model: AutoEncoder, x_train: np.ndarray, y_train: np.ndarray,
            x_val: np.ndarray, y_val: np.ndarray, k: int = 10, seed: int = 0) -> dict[str, float]:
    """precision@k of each of METHODS, the validation split querying the training split."""
    n_bits = hash_model.config.latent_dim
    centre = x_train.reshape(len(x_train), -1).mean(0)  # the database's: queries are hashed alike
    codes = {
        "hash": (model_bits(hash_model, x_train), model_bits(hash_model, x_val), "hamming"),
        "lsh": (lsh_bits(x_train, n_bits, seed, centre), lsh_bits(x_val, n_bits, seed, centre), "hamming"),
        "ae": (encode_all(ae_model, x_train), encode_all(ae_model, x_val), "euclidean"),
        "pixels": (x_train, x_val, "euclidean"),
    }
    return {name: precision_at_k(q, y_val, db, y_train, k, metric) for name, (db, q, metric) in codes.items()}


@dataclass(frozen=True)
class Retrieval:
    """The Theory lab's trained pair and what it found: bits of the database (training split) and of the queries
    (validation split), and precision@K of each of METHODS."""

    hash_run: Run
    ae_run: Run
    database_bits: np.ndarray  # (N_train, bits) uint8
    query_bits: np.ndarray  # (N_val, bits) uint8
    precision: dict[str, float]


def train_pair(data: Dataset, n_bits: int, report: Report = no_report) -> Retrieval:
    """A hashing model with `n_bits` bits and a plain AE with as many code units, trained on `data` with the same
    seed, epoch by epoch through `report` (which may cancel); then scored by `compare`."""
    from aeviz.analysis.lab import train_models

    if data.y is None:
        raise InputError(f"{data.name} has no labels; retrieval is scored by label, so pick labelled data.")
    train = {k: v for k, v in LAB_TRAIN.items() if k != "epochs"}
    pair = train_models(data, [("the hashing model", "hashing", {"latent_dim": n_bits}),
                               ("the plain AE", "ae", {"latent_dim": n_bits})], LAB_TRAIN["epochs"], report,
                        share=2 / 2.1, **train)
    report("searching: precision@10 of each method", 2 / 2.1)
    (x_train, y_train), (x_val, y_val) = data.split("train"), data.split("val")
    precision = compare(pair[0].model, pair[1].model, x_train, y_train, x_val, y_val, K)
    return Retrieval(*pair, model_bits(pair[0].model, x_train), model_bits(pair[0].model, x_val), precision)
