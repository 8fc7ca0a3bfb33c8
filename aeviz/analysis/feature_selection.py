"""Feature selection: rank a run's inputs (pixels, or a CSV's columns) by importance, keep the top k, retrain on those
alone, and compare with k random inputs and k PCA components.

Importance is `analysis.importance.saliency`, the Features page's own measure, over (at most IMPORTANCE_ROWS of) the
training split: the mean |gradient| of the reconstruction error through the encoder ("recon"), or the sum over the
code's dimensions of the mean |gradient| of each ("code"); times each input's standard deviation over the training
split. Why the weight: a pixel that never changes tells the model nothing, yet MNIST's never-inked border pixels
have large gradients (no training ever pushed their weights down), so raw saliency's top 50 pixels are 18% border
and rebuild the digits worse than 50 random pixels (measured: MSE 0.057 against 0.035); weighted, the top 50 are
all strokes. Ties are ranked by feature index.

The comparison (`compare`) trains one small MLP per arm, the same for all three: its encoder sees only the arm's k
inputs (standardised with the training split's mean and std, so pixels and PCA scores start on an equal footing)
and its decoder rebuilds the WHOLE input through a code of min(k, the run's code size) units; so every arm's error is
an error on the full input and the three are comparable. Arms: the top k features by importance, k features drawn at
random (seeded), and the first k principal components of the training split. Scores on the validation split: MSE
per value, and with labels the K-Means accuracy of each model's code, from `analysis.clustering` (the project's one
scorer, as `aeviz evaluate` runs it: as many clusters as classes, Hungarian-matched). These probes are plain PyTorch
on the CPU, a few epochs each: not registered variants, never saved as runs.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from aeviz.analysis.importance import saliency
from aeviz.errors import InputError
from aeviz.models import AutoEncoder
from aeviz.tasks import Report, no_report

TARGETS = {"recon": "the reconstruction error", "code": "the code"}
ARMS = {"top": "top k by importance", "random": "k random features", "pca": "k PCA components"}
IMPORTANCE_ROWS = 1000  # training rows the gradients are averaged over: a steady mean, a second or two of work
EPOCHS, HIDDEN, BATCH, LR = 6, 256, 256, 3e-3  # each probe: a few seconds on 8,000 MNIST digits


@dataclass(frozen=True)
class Score:
    """One arm's result on the validation split."""

    mse: float  # reconstruction MSE per value of the whole input
    acc: float | None  # K-Means accuracy of its code against the labels (None: no labels)


def importance_of(model: AutoEncoder, x: np.ndarray, target: str = "recon") -> np.ndarray:
    """(N, *shape) -> (D,) one importance per input value, flattened in C order."""
    if target not in TARGETS:
        raise InputError(f"Unknown importance target {target!r}. Choose one of {sorted(TARGETS)}.")
    spread = x.reshape(len(x), -1).std(0)  # (D,): how far each input moves over the data
    x = x[:IMPORTANCE_ROWS]
    if target == "recon":
        grad = saliency(model, x, None)
    else:
        grad = sum(saliency(model, x, j) for j in range(model.config.latent_dim))
    return grad.ravel() * spread


def rank(importance: np.ndarray) -> np.ndarray:
    """Feature indices, most important first; ties by the lower index."""
    return np.argsort(-np.asarray(importance), kind="stable")


def feature_names(shape: tuple[int, ...], header: list[str] | None = None) -> list[str]:
    """A name per flattened input: 'pixel (row, col)' (with ', channel c' for colour), or a CSV's column titles
    (`header`: the file's header row; its label column dropped when it has one cell more than the features), else
    'x0', 'x1', ...."""
    if len(shape) == 3:
        c, h, w = shape
        return [f"pixel ({r}, {col})" + (f", channel {ch}" if c > 1 else "")
                for ch in range(c) for r in range(h) for col in range(w)]
    d = int(np.prod(shape))
    if header and len(header) == d + 1:
        from aeviz.loaders.csvfile import LABEL_COLUMNS

        named = [j for j, title in enumerate(header) if title.lower() in LABEL_COLUMNS]
        header = [t for j, t in enumerate(header) if j != (named[0] if named else d)]
    if header and len(header) == d and all(header):
        return list(header)
    return [f"x{i}" for i in range(d)]


def ranking_csv(importance: np.ndarray, names: list[str], k: int | None = None) -> str:
    """rank, feature index, feature name, importance: the top k rows (all with k None), most important first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["rank", "feature", "name", "importance"])
    for r, i in enumerate(rank(importance)[:k], start=1):
        writer.writerow([r, int(i), names[i], f"{importance[i]:.6g}"])
    return out.getvalue()


def check_k(k: int, d: int, n_train: int) -> None:
    """k inputs kept out of d; PCA can have at most as many components as training rows."""
    top = min(d, n_train)
    if not 1 <= k <= top:
        raise InputError(f"The number of features to keep must be between 1 and {top} (the inputs, and the training "
                         f"rows PCA can fit). Got {k} instead.")


def random_features(d: int, k: int, seed: int = 0) -> np.ndarray:
    """k distinct feature indices out of d, sorted, the same for the same seed."""
    return np.sort(np.random.default_rng([seed, 2]).choice(d, size=k, replace=False))


def arm_inputs(arm: str, train: np.ndarray, val: np.ndarray, top: np.ndarray, k: int,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """What an arm's encoder sees: (N_train, D), (N_val, D) flattened inputs -> (N_train, k), (N_val, k)."""
    if arm == "top":
        cols = np.asarray(top)[:k]
    elif arm == "random":
        cols = random_features(train.shape[1], k, seed)
    elif arm == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=k, random_state=seed).fit(train)
        return pca.transform(train), pca.transform(val)
    else:
        raise InputError(f"Unknown arm {arm!r}. Choose one of {sorted(ARMS)}.")
    return train[:, cols], val[:, cols]


def _probe(k: int, code: int, d: int) -> nn.Module:
    """(B, k) -> code (B, code) -> (B, d) in [0, 1]: the same shape for every arm."""
    return nn.ModuleDict({
        "encoder": nn.Sequential(nn.Linear(k, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, code)),
        "decoder": nn.Sequential(nn.Linear(code, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, d), nn.Sigmoid()),
    })


def fit_probe(inputs: tuple[np.ndarray, np.ndarray], targets: tuple[np.ndarray, np.ndarray], code: int,
              epochs: int = EPOCHS, seed: int = 0, step: Report = no_report) -> tuple[float, np.ndarray]:
    """Train on (train inputs (N, k) -> train targets (N, D)); return the validation MSE per value and the
    validation codes (N_val, code). `step(stage, fraction)` is told each finished epoch."""
    mean, std = inputs[0].mean(0), inputs[0].std(0)
    std[std < 1e-6] = 1.0  # a constant input (a border pixel) stays 0 after centring
    xin = [torch.from_numpy(((a - mean) / std).astype(np.float32)) for a in inputs]
    xout = [torch.from_numpy(np.asarray(t, np.float32)) for t in targets]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = _probe(xin[0].shape[1], code, xout[0].shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    rng = np.random.default_rng([seed, 3])
    for epoch in range(1, epochs + 1):
        for rows in np.array_split(rng.permutation(len(xin[0])), max(1, len(xin[0]) // BATCH)):
            loss = (model["decoder"](model["encoder"](xin[0][rows])) - xout[0][rows]).square().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        step(f"epoch {epoch} of {epochs}", epoch / epochs)
    with torch.no_grad():
        z = model["encoder"](xin[1])
        mse = float((model["decoder"](z) - xout[1]).square().mean())
    return mse, z.numpy()


def compare(train: np.ndarray, val: np.ndarray, y_val: np.ndarray | None, top: np.ndarray, k: int, code: int,
            epochs: int = EPOCHS, seed: int = 0, report: Report = no_report) -> dict[str, Score]:
    """Every arm of ARMS trained and scored (see the module's docstring); `top` is the importance ranking."""
    train, val = train.reshape(len(train), -1), val.reshape(len(val), -1)  # (N, *shape) -> (N, D)
    check_k(k, train.shape[1], len(train))
    out = {}
    for i, (arm, label) in enumerate(ARMS.items()):
        inputs = arm_inputs(arm, train, val, top, k, seed)
        mse, z = fit_probe(inputs, (train, val), min(k, code), epochs, seed,
                           lambda stage, f, i=i, label=label: report(f"{label}: {stage}", (i + f) / len(ARMS)))
        report(f"{label}: K-Means on its code", (i + 1) / len(ARMS))
        out[arm] = Score(mse, _cluster_acc(z, y_val))
    return out


def _cluster_acc(z: np.ndarray, y: np.ndarray | None) -> float | None:
    """K-Means with as many clusters as classes, scored by `analysis.clustering` with its own fixed seed, as
    `aeviz evaluate` does (None without two classes)."""
    if y is None or len(np.unique(y)) < 2 or len(z) < len(np.unique(y)):
        return None
    from aeviz.analysis import clustering

    return clustering.run(z, y, len(np.unique(y)), silhouette=False).scores["acc"]
