"""Clusters benchmark: does the autoencoder add anything beyond what UMAP alone gives?

Run: python benchmarks/bench_clusters.py [--seeds 0,1,2] [RUN_DIR ...]
(default runs: the default AE, trained as benchmarks/bench_views.py's `aeviz train --model ae --out DIR`, and the
pack's conv-32; both trained fresh into /tmp/bench_clusters/ when absent)

On the bundled MNIST ("all": 10,000 digits) it scores, against the labels, three pipelines on each run's codes and
the same three on raw pixels (the baseline, measured in the same run): K-Means on the features, K-Means on their
2-D UMAP, and N2D (McConville et al. 2019: a 10-D UMAP, then a Gaussian mixture), all with k = 10, over a few seeds
(UMAP's and the clusterer's), through the functions the Clusters page calls (aeviz.analysis.clustering and .n2d).
Columns: Hungarian-matched accuracy (mean, and its range over the seeds), NMI (mean), and seconds per seed (UMAP
included; a shared machine's load moves them). Never part of the test suite's pass/fail.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from aeviz import runs
from aeviz.analysis import clustering, n2d
from aeviz.data import load_dataset
from aeviz.evaluation import encode_all

OUT = Path("/tmp/bench_clusters")
PIPELINES = [  # (name, space, method)
    ("K-Means", "latent", "kmeans"),
    ("K-Means on UMAP-2", "umap", "kmeans"),
    ("N2D: UMAP-10 -> GMM", "n2d", "gmm"),
]


def default_runs() -> list[Path]:
    """The default AE (the CLI's defaults, as bench_views trains it) and the pack's conv-32, trained if absent."""
    ae, pack = OUT / "ae", OUT / "pack"
    if not (ae / "model.safetensors").exists():
        subprocess.run([sys.executable, "-m", "aeviz.cli", "train", "--model", "ae", "--out", str(ae)], check=True)
    if not (pack / "conv-32" / "model.safetensors").exists():
        from aeviz.pack import make_pack
        make_pack(pack, only=["conv-32"])
    return [ae, pack / "conv-32"]


def score(name: str, feats: np.ndarray, y: np.ndarray, k: int, seeds: list[int]) -> None:
    """One line per pipeline: accuracy and NMI averaged over the seeds (UMAP's and the clusterer's), with the
    range of the accuracy, and the seconds of one seed."""
    for pipeline, space, method in PIPELINES:
        acc, nmi, t0 = [], [], time.perf_counter()
        for seed in seeds:
            s = clustering.run(n2d.features(feats, space, seed), y, k, method, seed, silhouette=False).scores
            acc.append(s["acc"])
            nmi.append(s["nmi"])
        seconds = (time.perf_counter() - t0) / len(seeds)
        print(f"{name:30} {pipeline:20} {np.mean(acc):>6.3f} {min(acc):>6.3f}-{max(acc):.3f} {np.mean(nmi):>6.3f} "
              f"{seconds:>6.1f}", flush=True)


def main(run_dirs: list[Path], seeds: list[int]) -> None:
    x, y = load_dataset("mnist").split("all")
    k = len(np.unique(y))
    print(f"{len(x):,} MNIST digits, k = {k}, seeds {seeds}")
    print(f"{'features':30} {'pipeline':20} {'acc':>6} {'acc range':>11} {'NMI':>6} {'s/seed':>6}", flush=True)
    score("raw pixels (784)", x.reshape(len(x), -1), y, k, seeds)
    for folder in run_dirs:
        run = runs.load(folder)
        z = encode_all(run.model, x)
        score(f"{folder.name} ({run.model_name}, {z.shape[1]}-D codes)", z, y, k, seeds)


if __name__ == "__main__":
    args = sys.argv[1:]
    seeds = [0, 1, 2]
    if args[:1] == ["--seeds"]:
        seeds, args = [int(v) for v in args[1].split(",")], args[2:]
    main([Path(p) for p in args] or default_runs(), seeds)
