"""Training throughput of `aeviz.training.fit` against a bare PyTorch loop on the same model, batch and data.

Target: fit's samples/s >= 90% of the bare loop's. Both run in this process, interleaved (bare, fit, bare, fit...)
so a noisy neighbour hits both alike; the figure is the ratio of medians. Run: python benchmarks/bench_training.py
On a GPU (`--device cuda [--precision bf16] [--compile]`) it also measures the GPU's own matmul rate and reports the
fraction of it that training reaches (~6 FLOPs per weight per sample for a forward and backward pass).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from aeviz.data import load_dataset
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig


def bare_loop(model: torch.nn.Module, x: torch.Tensor, batch: int, epochs: int, lr: float) -> float:
    """The minimal loop: shuffle, slice, forward, backward, step. Returns samples/s."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    start = time.perf_counter()
    for epoch in range(epochs):
        order = torch.randperm(len(x), device=x.device)
        for i in range(0, len(x), batch):
            out = model(x[order[i:i + batch]])
            opt.zero_grad(set_to_none=True)
            out.losses["loss"].backward()
            opt.step()
    if x.is_cuda:
        torch.cuda.synchronize()
    return epochs * len(x) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="ae")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    parser.add_argument("--compile", action="store_true")
    args = parser.parse_args()
    if args.device == "cpu":
        torch.set_num_threads(1)
    data = load_dataset("mnist")
    x = torch.from_numpy(data.x[data.train_idx])
    bare, ours = [], []
    for r in range(args.repeats):
        cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, seed=r, device=args.device,
                          precision=args.precision, compile=args.compile)
        run = Run.create(args.model, data.shape, "mnist", train_config=cfg)
        bare.append(bare_loop(Run.create(args.model, data.shape, "mnist", train_config=cfg).model.to(args.device),
                              x.to(args.device), args.batch_size, args.epochs, cfg.lr))
        start = time.perf_counter()
        train(run, data)
        wall = time.perf_counter() - start
        ours.append(run.history[-1]["samples_per_s"])
        print(f"repeat {r}: bare {bare[-1]:,.0f}/s  fit {ours[-1]:,.0f}/s (training time; "
              f"{args.epochs * len(x) / wall:,.0f}/s counting validation)")
    ratio = statistics.median(ours) / statistics.median(bare)
    out = {"model": args.model, "device": args.device, "batch_size": args.batch_size,
           "bare_samples_per_s": statistics.median(bare), "fit_samples_per_s": statistics.median(ours),
           "ratio": round(ratio, 3), "target": ">= 0.90", "ok": ratio >= 0.90}
    if args.device.startswith("cuda"):
        weights = sum(p.numel() for p in run.model.parameters())
        peak = matmul_rate(args.device, torch.bfloat16 if args.precision == "bf16" else torch.float32)
        out.update({"matmul_tflops": round(peak / 1e12, 1),
                    "fraction_of_matmul_rate": round(6 * weights * statistics.median(ours) / peak, 4)})
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
