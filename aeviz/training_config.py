"""TrainConfig: the optimisation knobs, shared by the trainer, the CLI, the app and saved runs."""

from __future__ import annotations

from dataclasses import dataclass

from aeviz.config import param, validate


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = param(20, "passes over the training split", min=1, max=10_000)
    batch_size: int = param(128, "samples per optimisation step", min=1, max=65_536)
    lr: float = param(2e-3, "Adam's learning rate", min=1e-7, max=10.0)
    weight_decay: float = param(0.0, "L2 penalty on the weights (Adam's weight_decay)", min=0.0, max=1.0)
    seed: int = param(0, "seeds the initial weights, the batch order and the noise", min=0, max=2**31 - 1)
    device: str = param("auto", "auto picks CUDA, then MPS, then the CPU", choices=("auto", "cpu", "cuda", "mps"))
    threads: int = param(1, "CPU threads for torch; 1 stays fast when another process takes a core (0 = torch's "
                         "default)", min=0, max=256)
    log_every: int = param(20, "steps between step events (loss curve points)", min=1, max=100_000)
    precision: str = param("fp32", "bf16 runs the forward pass in bfloat16 on a CUDA GPU (faster, same loss to "
                           "~3 digits); fp32 everywhere else", choices=("fp32", "bf16"))
    compile: bool = param(False, "torch.compile the model (GPU: faster after a slow first step; if compiling "
                          "fails the run trains without it)")

    def __post_init__(self) -> None:
        validate(self)
