"""Reading a saved run's files defensively: size limits, JSON that may be corrupt, fields that may be anything.

Everything here turns a bad file into a one-line InputError (or drops a bad optional field), so `runs.load` never
shows a traceback and never unpickles.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from aeviz.errors import InputError

FORMAT = "aeviz-run"
FORMAT_VERSION = 1
MAX_JSON_BYTES = 20_000_000  # a history of 10,000 epochs is ~5 MB


def read_json(path: Path, what: str) -> Any:
    if not path.is_file():
        raise InputError(f"{path.parent}: not an aeviz run ({path.name} is missing). Pick a folder saved by aeviz.")
    if path.stat().st_size > MAX_JSON_BYTES:
        raise InputError(f"{path.parent}: {what} is larger than {MAX_JSON_BYTES // 1_000_000} MB; this is not an aeviz run.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:  # caught between the two renames of a save
        raise InputError(f"{path.parent}: the run is being saved right now; try again.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.parent}: {what} is corrupt ({exc.__class__.__name__}); the run cannot be loaded.") from None
    except RecursionError:  # thousands of nested brackets: json's parser recurses once per level
        raise InputError(f"{path.parent}: {what} is nested too deeply; this is not an aeviz run.") from None


MAX_TITLE, MAX_NOTE = 80, 300


def text_field(config: dict[str, Any], key: str, limit: int) -> str:
    """A short free-text field of config.json: one line, at most `limit` characters; anything else is dropped."""
    value = config.get(key, "")
    return " ".join(value.split())[:limit] if isinstance(value, str) else ""


def load_tensors(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise InputError(f"{path.parent}: {path.name} is missing; the run cannot be loaded.")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise InputError(f"{path}: not a valid safetensors file ({str(exc).splitlines()[0]}).") from None


def count(value: Any) -> int:
    """A non-negative int field (0 when absent or anything else)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


CHANGE_KEYS = {"epoch": int, "step": int, "steps": int, "name": str, "old": float, "new": float}


def _is(value: Any, kind: type) -> bool:
    """`value` is of `kind`: a float field takes an int too; never a bool, NaN or infinity (saves write strict JSON)."""
    if isinstance(value, bool):
        return False
    if kind is float:
        return isinstance(value, (int, float)) and math.isfinite(value)
    return isinstance(value, kind)


def changes(value: Any) -> list[dict[str, Any]]:
    """The recorded knob changes (aeviz.steering); a malformed entry is dropped, the run itself is still good."""
    if not isinstance(value, list):
        return []
    good = []
    for item in value[:1000]:
        if isinstance(item, dict) and all(_is(item.get(k), kind) for k, kind in CHANGE_KEYS.items()):
            good.append({**{k: item[k] for k in CHANGE_KEYS}, "name": item["name"][:40]})
    return good
