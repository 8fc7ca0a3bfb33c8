"""Training throughput of `aeviz.training.fit` against a bare PyTorch loop on the same model, batch and data.

Target: fit's samples/s >= 90% of the bare loop's. Both run in this process in many short rounds (`--rounds` of
`--steps` steps each), taking turns and swapping who goes first every round, so a noisy neighbour hits both alike;
the figure is the median of the rounds' ratios (two-epoch repeats swung 0.90-1.21 with the machine's load). The
first round of each is a warm-up and is not counted. Run: python benchmarks/bench_training.py [--model conv]
On a GPU (`--device cuda [--precision bf16] [--compile]`) it also measures the GPU's own matmul rate and reports the
fraction of it that training reaches (~6 FLOPs per weight per sample for a forward and backward pass).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import torch

from aeviz.data import load_dataset
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig


class BareLoop:
    """The minimal loop: shuffle, slice, forward, backward, step; `round(steps)` returns samples/s."""

    def __init__(self, model: torch.nn.Module, x: torch.Tensor, batch: int, lr: float) -> None:
        self.model, self.x, self.batch = model, x, batch
        # the same fused Adam as fit: the figure is fit's overhead, not the optimiser's speed
        self.opt = torch.optim.Adam(model.parameters(), lr=lr, fused=x.device.type in ("cpu", "cuda") or None)

    def round(self, steps: int) -> float:
        self.model.train()
        order = torch.randperm(len(self.x), device=self.x.device)
        start = time.perf_counter()
        for i in range(steps):
            out = self.model(self.x[order[i * self.batch:(i + 1) * self.batch]])
            self.opt.zero_grad(set_to_none=True)
            out.losses["loss"].backward()
            self.opt.step()
        if self.x.is_cuda:
            torch.cuda.synchronize()
        return steps * self.batch / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="ae")
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--steps", type=int, default=40, help="steps per round (one epoch of fit)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    parser.add_argument("--compile", action="store_true")
    args = parser.parse_args()
    if args.device == "cpu":
        torch.set_num_threads(1)
    # fit's round is one epoch: a training split of about `steps` batches (80% of the rows loaded)
    data = load_dataset("mnist", limit=min(10_000, math.ceil(args.steps * args.batch_size / 0.8)))
    cfg = TrainConfig(epochs=args.rounds + 1, batch_size=args.batch_size, seed=0, device=args.device,
                      precision=args.precision, compile=args.compile)
    run = Run.create(args.model, data.shape, "mnist", data.params, train_config=cfg)
    bare = BareLoop(Run.create(args.model, data.shape, "mnist", train_config=cfg).model.to(args.device),
                    torch.from_numpy(data.x[data.train_idx]).to(args.device), args.batch_size, cfg.lr)
    steps = math.ceil(len(data.train_idx) / args.batch_size)
    rates = []
    for r in range(args.rounds + 1):
        def ours() -> float:
            train(run, data, until=run.epoch + 1)
            return run.history[-1]["samples_per_s"]  # training time only, as the bare loop's
        first, second = (lambda: bare.round(steps), ours) if r % 2 == 0 else (ours, lambda: bare.round(steps))
        a, b = first(), second()
        pair = (a, b) if r % 2 == 0 else (b, a)  # (bare, fit)
        if r:
            rates.append(pair)
            print(f"round {r}: bare {pair[0]:,.0f}/s  fit {pair[1]:,.0f}/s  ratio {pair[1] / pair[0]:.3f}")
    ratios = [f / b for b, f in rates]
    ratio = statistics.median(ratios)
    out = {"model": args.model, "device": args.device, "batch_size": args.batch_size, "rounds": len(rates),
           "steps_per_round": steps, "bare_samples_per_s": statistics.median(b for b, _ in rates),
           "fit_samples_per_s": statistics.median(f for _, f in rates), "ratio": round(ratio, 3),
           "ratio_iqr": [round(q, 3) for q in statistics.quantiles(ratios, n=4)[::2]],
           "target": ">= 0.90", "ok": ratio >= 0.90}
    if args.device.startswith("cuda"):
        weights = sum(p.numel() for p in run.model.parameters())
        peak = matmul_rate(args.device, torch.bfloat16 if args.precision == "bf16" else torch.float32)
        out.update({"matmul_tflops": round(peak / 1e12, 1),
                    "fraction_of_matmul_rate": round(6 * weights * out["fit_samples_per_s"] / peak, 4)})
    print(json.dumps(out))


def matmul_rate(device: str, dtype: torch.dtype, n: int = 8192, repeats: int = 20) -> float:
    """FLOP/s of the GPU's own square matmul in `dtype`: the ceiling a training loop is measured against."""
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    a @ b
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    torch.cuda.synchronize()
    return 2 * n**3 * repeats / (time.perf_counter() - start)


if __name__ == "__main__":
    main()
