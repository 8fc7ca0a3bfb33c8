"""Loader memory benchmark: the peak Python-heap memory of reading a user file, as a ratio to the float32 array kept.

Run: python benchmarks/bench_loader_memory.py [ROWS]   (default 3,000 rows of 784 values; files in /tmp/bench_loader)

Three files of the same data: a CSV (%.6g text), a .npy of float64 values in [0, 10) (min-max scaled on load) and a
compressed .npz of a constant float64 array (inflates ~1000x). Peaks are tracemalloc's (numpy buffers included;
torch's are not, and no torch is involved), and a ratio near 2 means "about twice the final array". The aim stated
in aeviz.memory: the array as stored plus its float32 copy, and a CSV near twice its result (it was ~31x before the
CSV parse was streamed). Never part of the test suite's pass/fail.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from aeviz.loaders.files import read_path

OUT = Path("/tmp/bench_loader")


def files(rows: int) -> list[Path]:
    OUT.mkdir(exist_ok=True)
    x = np.random.default_rng(0).random((rows, 784)) * 10
    paths = [OUT / f"x{rows}.csv", OUT / f"x{rows}.npy", OUT / f"c{rows}.npz"]
    if not paths[0].exists():
        np.savetxt(paths[0], x, delimiter=",", fmt="%.6g")
    if not paths[1].exists():
        np.save(paths[1], x)
    if not paths[2].exists():
        np.savez_compressed(paths[2], x=np.full((rows * 4, 784), 5.0))
    return paths


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    print(f"{'file':14s} {'on disk':>9s} {'float32':>9s} {'peak':>9s} {'peak/result':>11s} {'seconds':>8s}")
    for path in files(rows):
        tracemalloc.start()
        start = time.perf_counter()
        raw = read_path(path)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        final = raw.x.nbytes
        print(f"{path.name:14s} {path.stat().st_size / 1e6:8.1f}M {final / 1e6:8.1f}M {peak / 1e6:8.1f}M "
              f"{peak / final:10.2f}x {seconds:8.2f}")
        del raw


if __name__ == "__main__":
    main()
