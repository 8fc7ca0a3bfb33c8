"""Views benchmark: seconds and quality of the latent page's projections, each in a fresh process and warm.

Run: aeviz train --model ae --out /tmp/bench_ae && python benchmarks/bench_views.py /tmp/bench_ae [2000,10000]

Rows: PCA; UMAP as aeviz calls it (scikit-learn's exact neighbours fed to umap-learn, see aeviz/embedding.py) with
numba's on-disk cache empty (a server's very first start) and filled (every later start); umap-learn's default call
the same two ways (the baseline, in the same run); t-SNE (openTSNE, shortened schedule). "fresh" is import + first fit
in a new process, "warm" the second fit there. Quality: trustworthiness@5 on a fixed 2,000-point subset, and K-Means
accuracy on the 2-D embedding (the project's one scorer). Times on a shared machine move with its load: compare
rows of the same run, not runs. Never part of the test suite's pass/fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROWS = [  # (name, how, numba cache) ; "empty" rows only at the largest size: the JIT does not depend on it
    ("PCA", "pca", "disk"),
    ("UMAP (aeviz), numba cache empty", "umap", "empty"),
    ("UMAP (aeviz), numba cache on disk", "umap", "disk"),
    ("umap-learn default, numba cache empty", "umap-default", "empty"),
    ("umap-learn default, numba cache on disk", "umap-default", "disk"),
    ("t-SNE (openTSNE 100+250 it.)", "tsne", "disk"),
]


def child(how: str, n: int, codes: str) -> None:
    """In a fresh process: time import + first fit, then a warm fit; print one JSON line."""
    t0 = time.perf_counter()
    from aeviz.projections import project

    saved = np.load(codes)
    z, y = saved["z"][:n].astype(np.float32), saved["y"][:n]

    def fit() -> np.ndarray:
        if how != "umap-default":
            return project(how, z)
        import umap
        return umap.UMAP(n_neighbors=15, min_dist=0.1, random_state=0, n_jobs=1).fit_transform(z)

    fit()
    fresh = time.perf_counter() - t0
    t0 = time.perf_counter()
    xy = fit()
    warm = time.perf_counter() - t0
    from sklearn.manifold import trustworthiness

    from aeviz.analysis import clustering
    sub = np.random.default_rng(0).choice(n, min(n, 2000), replace=False)
    print(json.dumps({"fresh": fresh, "warm": warm, "trust5": trustworthiness(z[sub], xy[sub], n_neighbors=5),
                      "kmeans": clustering.run(xy, y, 10).scores["acc"]}))


def codes_of(run_dir: str, path: Path) -> None:
    from aeviz import runs
    from aeviz.data import load_dataset
    from aeviz.evaluation import encode_all
    run = runs.load(run_dir)
    x, y = load_dataset(run.data_source, **run.data_params).split("all")
    np.savez(path, z=encode_all(run.model, x), y=y)


def main(run_dir: str, sizes: list[int]) -> None:
    work = Path(tempfile.mkdtemp(prefix="aeviz-bench-views-"))
    codes_of(run_dir, work / "codes.npz")
    disk = work / "numba-disk"
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    # Fill the on-disk cache once, as the server's first start would, so "on disk" rows measure a restart.
    for how in ("umap", "umap-default"):
        subprocess.run([sys.executable, __file__, "--child", how, "300", str(work / "codes.npz")], check=True,
                       env={**env, "NUMBA_CACHE_DIR": str(disk)}, capture_output=True)
    print(f"{'method':42} {'points':>7} {'fresh s':>8} {'warm s':>7} {'trust@5':>8} {'K-Means':>8}", flush=True)
    for n in sizes:
        for name, how, cache in ROWS:
            if cache == "empty" and n != max(sizes):
                continue
            folder = disk if cache == "disk" else Path(tempfile.mkdtemp(dir=work))
            out = subprocess.run([sys.executable, __file__, "--child", how, str(n), str(work / "codes.npz")],
                                 env={**env, "NUMBA_CACHE_DIR": str(folder)}, capture_output=True, text=True)
            if out.returncode:
                print(f"{name:42} {n:>7} failed: {out.stderr.strip().splitlines()[-1]}", flush=True)
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{name:42} {n:>7} {r['fresh']:>8.1f} {r['warm']:>7.1f} {r['trust5']:>8.3f} {r['kmeans']:>8.3f}",
                  flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/bench_ae",
             [int(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "2000,10000").split(",")])
