"""Adam's state on disk: its tensors go to safetensors, the rest (step counts, param groups) to JSON.

A state_dict cannot go to safetensors as it is (nested dicts, scalars); it is never pickled either, so a run folder
from anywhere loads without running code.
"""

from __future__ import annotations

from typing import Any

import torch


def flatten(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Adam's state_dict -> (tensors for safetensors, JSON-able rest)."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, Any] = {"param_groups": state["param_groups"], "state": {}}
    for pid, slots in state["state"].items():
        for name, value in slots.items():
            key = f"{pid}.{name}"
            if torch.is_tensor(value) and value.dim() > 0:
                tensors[key] = value.detach().cpu().contiguous()
            else:
                scalars["state"][key] = float(value)
    return tensors, scalars


def unflatten(tensors: dict[str, torch.Tensor], scalars: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        pid, name = key.split(".", 1)
        state.setdefault(int(pid), {})[name] = value
    for key, value in scalars["state"].items():
        pid, name = key.split(".", 1)
        state.setdefault(int(pid), {})[name] = torch.tensor(float(value))
    return {"state": state, "param_groups": scalars["param_groups"]}
