"""Adam's state on disk: its tensors go to safetensors, the rest (step counts, param groups) to JSON.

A state_dict cannot go to safetensors as it is (nested dicts, scalars); it is never pickled either, so a run folder
from anywhere loads without running code.
"""

from __future__ import annotations

import math
import re
from typing import Any

import torch

from aeviz.errors import InputError

KEY = re.compile(r"(\d{1,6})\.([A-Za-z_]{1,32})")  # "3.exp_avg": parameter 3's slot
GROUP_KEYS = {"lr": float, "betas": list, "eps": float, "weight_decay": float, "params": list}


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


def check(tensors: dict[str, torch.Tensor], scalars: Any, shapes: list[tuple[int, ...]], where: str) -> None:
    """Refuse an optimizer section that Adam could not resume from, naming the field (`where`: the folder);
    `shapes` are the model's parameter shapes in order."""
    n_params = len(shapes)
    def refuse(field: str, expected: str) -> InputError:
        return InputError(f"{where}: config.json's optimizer {field} must be {expected}; the run cannot be "
                          "resumed. Delete optimizer.safetensors and the 'optimizer' section to restart Adam.")

    if not isinstance(scalars, dict) or not isinstance(scalars.get("param_groups"), list) \
            or not isinstance(scalars.get("state"), dict):
        raise refuse("section", "an object with 'param_groups' and 'state'")
    groups = scalars["param_groups"]
    if len(groups) != 1 or not isinstance(groups[0], dict):
        raise refuse("'param_groups'", "a list of one group (aeviz trains every parameter with one Adam group)")
    group = groups[0]
    for name, kind in GROUP_KEYS.items():
        value = group.get(name)
        ok = (kind is float and _finite(value) and value >= 0) or (kind is list and isinstance(value, list))
        if not ok:
            raise refuse(f"param_groups[0].{name}", "a number >= 0" if kind is float else "a list")
    if len(group["betas"]) != 2 or not all(_finite(b) and 0 <= b < 1 for b in group["betas"]):
        raise refuse("param_groups[0].betas", "two numbers in [0, 1)")
    if group["params"] != list(range(n_params)):
        raise refuse("param_groups[0].params", f"the model's {n_params} parameter numbers 0..{n_params - 1}")
    for name, value in group.items():
        if name not in GROUP_KEYS and not isinstance(value, (bool, type(None))):
            raise refuse(f"param_groups[0].{name[:40]}", "true, false or null")
    for key, value in scalars["state"].items():
        if not KEY.fullmatch(key) or int(key.split(".")[0]) >= n_params or not _finite(value) or value < 0:
            raise refuse(f"state {key[:40]!r}", "a parameter's step count")
    for key, value in tensors.items():
        if not KEY.fullmatch(key) or int(key.split(".")[0]) >= n_params:
            raise refuse(f"tensor {key[:40]!r}", "named '<parameter number>.<slot>'")
        if not value.is_floating_point() or not bool(torch.isfinite(value).all()):
            raise refuse(f"tensor {key[:40]!r}", "finite floating-point values")
        if tuple(value.shape) != tuple(shapes[int(key.split(".")[0])]):
            raise refuse(f"tensor {key[:40]!r}", f"of its parameter's shape {tuple(shapes[int(key.split('.')[0])])}")


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
