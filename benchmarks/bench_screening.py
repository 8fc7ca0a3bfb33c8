"""Feature selection and data screening on the bundled MNIST: the figures the README quotes.

Run: PYTHONPATH=. python benchmarks/bench_screening.py [RUN_DIR]
(default: a small `ae` run, `aeviz train --model ae --epochs 5`, trained into /tmp/bench_screening/ when absent)

Selection (aeviz.analysis.feature_selection, what the Features page runs): for k = 50 and 100, the validation MSE
per value and the K-Means accuracy of the code of three probes that all rebuild the whole image: from the top k
pixels by importance (saliency of the reconstruction error), from k random pixels, from k PCA components.
Screening (aeviz.analysis.screening, what `aeviz screen` and the Anomalies page do): drop the 5% of all samples the
run rebuilds worst; which classes they are; the run's validation MSE on every validation digit against on those
kept; then a fresh run with the same settings trained on the kept training digits only, scored on the same
validation digits. Never part of the test suite's pass/fail.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from aeviz import runs
from aeviz.analysis import anomaly, feature_selection, screening
from aeviz.data import Dataset, load_dataset
from aeviz.runs import Run
from aeviz.training import train

OUT = Path("/tmp/bench_screening")


def selection(run: Run, data: Dataset) -> None:
    train_x, _ = data.split("train")
    val_x, val_y = data.split("val")
    t = time.perf_counter()
    importance = feature_selection.importance_of(run.model, train_x, "recon")
    print(f"importance of {importance.size} pixels: {time.perf_counter() - t:.1f} s")
    top = feature_selection.rank(importance)
    for k in (50, 100):
        t = time.perf_counter()
        scores = feature_selection.compare(train_x, val_x, val_y, top, k, run.model.config.latent_dim)
        print(f"k = {k} ({time.perf_counter() - t:.1f} s): " + "; ".join(
            f"{feature_selection.ARMS[arm]}: MSE {s.mse:.4f}, K-Means acc {s.acc:.3f}" for arm, s in scores.items()))


def screening_effect(run: Run, data: Dataset) -> None:
    errors = anomaly.errors(run.model, data.x)  # every sample, train and validation
    out = screening.screen(errors, fraction=0.05)
    lost, total = screening.class_counts(data.y, out.dropped, data.n_classes)
    print(f"dropped {len(out.dropped)} of {len(errors)} (errors >= {out.cutoff:.4f}); per class (dropped / all): "
          + ", ".join(f"{c}: {lost[c]}/{total[c]}" for c in np.argsort(-lost, kind="stable")))
    val_kept = np.intersect1d(data.val_idx, out.kept)
    print(f"the run on validation: all {len(data.val_idx)}: MSE {errors[data.val_idx].mean():.5f}; "
          f"the {len(val_kept)} kept: {errors[val_kept].mean():.5f}")
    train_kept = np.intersect1d(data.train_idx, out.kept)
    rows = np.concatenate([train_kept, data.val_idx])  # the kept training digits, then every validation digit
    screened = Dataset("screened", data.x[rows], data.y[rows], data.shape, data.classes,
                       np.arange(len(train_kept)), np.arange(len(train_kept), len(rows)), "screened", {})
    fresh = Run.create(run.model_name, data.shape, "screened", {}, run.train_config, **_params(run))
    t = time.perf_counter()
    train(fresh, screened)
    again = anomaly.errors(fresh.model, data.x[data.val_idx])
    kept_mask = np.isin(data.val_idx, val_kept)
    print(f"retrained on the {len(train_kept)} kept training digits ({time.perf_counter() - t:.0f} s): validation "
          f"MSE all {again.mean():.5f}, kept {again[kept_mask].mean():.5f}, dropped {again[~kept_mask].mean():.5f} "
          f"(the run: dropped {errors[data.val_idx][~kept_mask].mean():.5f})")


def _params(run: Run) -> dict:
    return {name: getattr(run.model.config, name) for name in ("latent_dim", "hidden")}


def main(argv: list[str]) -> None:
    path = Path(argv[0]) if argv else OUT / "ae"
    if not (path / "config.json").exists():
        subprocess.run([sys.executable, "-m", "aeviz.cli", "train", "--model", "ae", "--epochs", "5", "--out",
                        str(path)], check=True)
    run = runs.load(path)
    data = load_dataset(run.data_source, **run.data_params)
    print(f"{run.model_name}, epoch {run.epoch}, on {data.name} ({len(data.train_idx)} train / {len(data.val_idx)} val)")
    selection(run, data)
    screening_effect(run, data)


if __name__ == "__main__":
    main(sys.argv[1:])
