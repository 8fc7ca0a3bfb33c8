"""Training the Theory lab's small models: a few variants of the same shape on the same points, one after another,
with progress through a task's `report` (which may cancel). One home for what the lab's sections train."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aeviz.tasks import Report, no_report

if TYPE_CHECKING:
    from aeviz.data import Dataset
    from aeviz.runs import Run

LabSpec = tuple[str, str, dict[str, Any]]  # (label for the progress line, model name, model params)


def train_models(data: Dataset, specs: Sequence[LabSpec], epochs: int, report: Report = no_report,
                 share: float = 1.0, **train: Any) -> list[Run]:
    """One run per spec, trained for `epochs` on all of `data` with the same seed and settings (`train`: TrainConfig
    fields other than the defaults below), reported epoch by epoch as a fraction of `share` (the rest of a task's
    bar is for what its caller does next)."""
    from aeviz.runs import Run
    from aeviz.training import EpochEvent, fit
    from aeviz.training_config import TrainConfig

    config = TrainConfig(**{"batch_size": 64, "lr": 3e-3, **train, "epochs": epochs})
    runs = [Run.create(name, data.shape, data.source, data.params, config, **params) for _, name, params in specs]
    for i, (run, (label, _, _)) in enumerate(zip(runs, specs)):
        for event in fit(run, data):
            if isinstance(event, EpochEvent):
                done = (i + event.epoch / epochs) / len(specs)
                report(f"training {label}: epoch {event.epoch} of {epochs}", done * share)
    return runs
