"""Time to quality: held-out error against PCA's after equal seconds of training, for several configurations.

Every configuration trains with the app's own `fit` (one torch thread, as the app does) in this one process, taking
turns: each gets a short slice of training time (`--slice`, 2 s) before the next one goes, so a noisy neighbour on
the shared cores hits all of them alike. At each checkpoint (`--at`, seconds of training) the current weights
reconstruct the validation split; the figure is that MSE over the MSE of a PCA with as many components as the code
has numbers (fitted on the training split, reconstructions clipped to [0, 1], as the Train page's baseline).
The clock is wall time inside `fit` (its validation pass at each epoch end counts; the checkpoints' own does not).
"beats PCA" is the first probe (every `--probe` seconds) at which the validation error was below PCA's.
Medians over seeds.

Run: python benchmarks/bench_time_to_quality.py --data mnist --at 10,60,180 --seeds 3
     python benchmarks/bench_time_to_quality.py --data digits --configs default,ae,conv:batch_size=32
Rows: "default" is what the Train page and `aeviz train` start from for this data; "previous" is the default before
issue 12 (ae, 32 numbers, batch 128, lr 2e-3); "variant:key=value:..." is any variant with any knobs (a tuple as
16-32). Prints one JSON line per row. Never part of the test suite's pass/fail.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from aeviz import metrics
from aeviz.data import load_dataset
from aeviz.defaults import default_model, suggested
from aeviz.runs import Run
from aeviz.training import StepEvent, evaluate_losses, fit
from aeviz.training_config import TrainConfig

NAMED = {"previous": ("ae", {}, {})}  # name -> (variant, model overrides, training overrides)


def spec(name: str, data) -> tuple[str, dict, dict]:
    """(variant, model knobs, training knobs) of a row name."""
    if name == "default":
        variant = default_model(data)
        tips = suggested(variant, data)
        return variant, dict(tips.model), dict(tips.train)
    if name in NAMED:
        return NAMED[name]
    variant, model, train = name.split(":")[0], {}, {}
    for part in name.split(":")[1:]:
        key, value = part.split("=")
        parsed = tuple(int(v) for v in value.split("-")) if "-" in value else json.loads(value)
        (train if key in TrainConfig.__dataclass_fields__ else model)[key] = parsed
    return variant, model, train


def build(name: str, data, seed: int) -> Run:
    """A new run of row `name` on `data`, logging every step (the checkpoints need the clock then)."""
    variant, model, train = spec(name, data)
    cfg = TrainConfig(**{**train, "seed": seed, "log_every": 1, "epochs": 10_000, "threads": 1})
    return Run.create(variant, data.shape, data.name, data.params, train_config=cfg, **model)


def val_mse(run: Run, x_val: torch.Tensor) -> float:
    with torch.no_grad():
        mse = evaluate_losses(run.model, x_val)["mse"]
    run.model.train()
    return mse


def race(names: list[str], data, seed: int, at: list[float], slice_s: float, probe_s: float,
         pca: dict[int, float]) -> dict:
    """Train every row in turns of `slice_s` seconds up to max(at); their ratios to PCA at each checkpoint."""
    x_val = torch.from_numpy(data.split("val")[0])
    runs = {n: build(n, data, seed) for n in names}
    gens = {n: fit(runs[n], data) for n in names}
    clock = {n: 0.0 for n in names}
    marks = sorted(set(at) | {round(p * probe_s, 3) for p in range(1, int(max(at) / probe_s) + 1)})
    pending = {n: list(marks) for n in names}
    out = {n: {"ratio": {}, "beats_pca_s": None, "epochs": 0.0} for n in names}
    while any(pending.values()):
        for n in names:
            if not pending[n]:
                continue
            turn_end = clock[n] + slice_s
            started = time.perf_counter()
            for event in gens[n]:
                clock[n] += time.perf_counter() - started
                if isinstance(event, StepEvent):
                    while pending[n] and clock[n] >= pending[n][0]:
                        mark = pending[n].pop(0)
                        ratio = val_mse(runs[n], x_val) / pca[runs[n].model.config.latent_dim]
                        if mark in at:
                            out[n]["ratio"][mark] = ratio
                        if ratio < 1 and out[n]["beats_pca_s"] is None:
                            out[n]["beats_pca_s"] = mark
                    out[n]["epochs"] = event.epoch - 1 + event.step / event.steps
                    if clock[n] >= turn_end or not pending[n]:
                        break
                started = time.perf_counter()  # the checkpoint's own evaluation does not count
    for gen in gens.values():
        gen.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="mnist")
    parser.add_argument("--configs", default="default,previous", help="comma-separated rows (see above)")
    parser.add_argument("--at", default="10,60", help="checkpoints, seconds of training")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--slice", type=float, default=2.0)
    parser.add_argument("--probe", type=float, default=2.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_dataset(args.data)
    at = [float(a) for a in args.at.split(",")]
    names = args.configs.split(",")
    sizes = sorted({build(n, data, 0).model.config.latent_dim for n in names})
    train, val = data.split("train")[0], data.split("val")[0]
    pca = {k: metrics.pca_baseline(train, val, k)[0] for k in sizes}  # as many components as the code has numbers
    results = [race(names, data, seed, at, args.slice, args.probe, pca) for seed in range(args.seeds)]
    print(f"{args.data}: PCA validation MSE " + ", ".join(f"{v:.5f} with {k} components" for k, v in pca.items())
          + f"; medians over {args.seeds} seed(s)")
    for n in names:
        variant, model, train = spec(n, data)
        row = {"data": args.data, "config": n, "variant": variant, "knobs": {**model, **train}}
        row.update({f"ratio_at_{a:g}s": round(statistics.median(r[n]["ratio"][a] for r in results), 3) for a in at})
        beats = [r[n]["beats_pca_s"] for r in results]
        row["beats_pca_s"] = None if None in beats else statistics.median(beats)
        row["epochs_done"] = round(statistics.median(r[n]["epochs"] for r in results), 1)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
