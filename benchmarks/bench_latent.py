"""Latent-space figures for a trained run: UMAP time for all 10,000 codes (fresh process vs warm) and K-Means
accuracy on the codes, on their UMAP embedding and on raw pixels.

Run: aeviz train --model ae --out runs/ae && python benchmarks/bench_latent.py runs/ae
The "fresh" figure is the first UMAP fit in this process (numba compiles then; its on-disk cache may shorten
later fresh starts); "warm" is the second fit of the same codes.
"""

from __future__ import annotations

import json
import sys
import time

from aeviz import embedding, runs
from aeviz.analysis import clustering
from aeviz.data import load_dataset
from aeviz.evaluation import encode_all


def main(run_dir: str) -> None:
    run = runs.load(run_dir)
    data = load_dataset(run.data_source, **run.data_params)
    x, y = data.split("all")
    z = encode_all(run.model, x)
    t0 = time.perf_counter()
    embedding.embed(z, "umap")
    fresh = time.perf_counter() - t0
    t0 = time.perf_counter()
    xy = embedding.embed(z, "umap")
    warm = time.perf_counter() - t0
    k = data.n_classes
    out = {"points": len(z), "umap_fresh_s": round(fresh, 1), "umap_warm_s": round(warm, 1),
           "kmeans_acc_codes": clustering.run(z, y, k).scores["acc"],
           "kmeans_acc_umap": clustering.run(xy, y, k).scores["acc"],
           "kmeans_acc_pixels": clustering.run(x.reshape(len(x), -1), y, k).scores["acc"]}
    print(json.dumps({key: round(v, 3) if isinstance(v, float) else v for key, v in out.items()}))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/ae")
