"""One schema for a saved run's files: every field of config.json and history.json, and the weights' tensors.

`read_folder` reads and checks config.json and history.json; `check_tensors` checks the weights (finite, and shaped as
the model config.json describes) and Adam's saved state; `check_files` does both for a listing.
Each problem is a one-line InputError that names the field and the fix ("config.json: 'best_epoch' must be an int
from 0 to the run's epoch (2). Got 'abc' instead; ..."), so `runs.load`, the run list (`catalog.row_of`) and a zip
import refuse a damaged or tampered run the same way, and nothing downstream ever sees a value of the wrong kind.
Optional cosmetic fields keep their old leniency where a test pins it (`step`, `changes`, long titles are cut).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import torch

from aeviz import optimizer_files
from aeviz.config import build_config
from aeviz.errors import InputError
from aeviz.models import build, make_config
from aeviz.run_files import FORMAT, FORMAT_VERSION, load_tensors, read_json
from aeviz.training_config import TrainConfig

MAX_DEPTH = 12  # config.json nests 4 levels (optimizer.param_groups[0].betas); a file nested deeper is not ours
MAX_EPOCHS = 100_000  # as aeviz.replay: a run claiming more is not ours
MAX_INPUT_VALUES = 50_000_000  # values per sample: aeviz.loaders.images' largest decoded image
MAX_TEXT = 10_000  # characters of a free-text field before it is cut for display
MAX_PARAMS_KEYS, MAX_HISTORY_KEYS = 32, 64
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")  # a run's id is a folder name and part of links
STATUSES = ("new", "queued", "running", "paused", "stopped", "finished", "failed")
HISTORY_KEYS = ("epoch", "train_loss", "val_loss", "val_mse", "val_psnr")  # what every page reads of an epoch
FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def bad(where: str, field: str, expected: str, got: Any) -> InputError:
    """"<folder>: config.json: 'best_epoch' must be an int >= 0. Got 'abc' instead; the run cannot be loaded."."""
    shown = repr(got)
    if isinstance(got, (dict, list)) and len(shown) > 60:
        shown = f"a {type(got).__name__} of {len(got)}"
    return InputError(f"{where}: {field!r} must be {expected}. Got {shown[:60]} instead; the run cannot be loaded.")


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return (is_int(value) or isinstance(value, float)) and math.isfinite(value)


def check_depth(value: Any, where: str, limit: int = MAX_DEPTH) -> None:
    """Refuse JSON nested deeper than `limit` (checked without recursion, so 10,000 levels cannot crash it)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                raise InputError(f"{where} is nested more than {limit} levels deep; this is not an aeviz run.")
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))


def read_folder(folder: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """config.json and history.json of a run folder, every field checked."""
    config = read_json(folder / "config.json", "config.json")
    check_depth(config, f"{folder}: config.json")
    check_config(config, folder)
    history = read_json(folder / "history.json", "history.json")
    check_depth(history, f"{folder}: history.json", 3)
    check_history(history, config["epoch"], folder)
    return config, history


def check_config(config: Any, folder: Path) -> None:
    """Every field of config.json except the model's and training's knobs (their dataclasses check those)."""
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise InputError(f"{folder}: config.json is not an aeviz run config (no 'format': '{FORMAT}').")
    if config.get("format_version") != FORMAT_VERSION:
        raise InputError(f"{folder}: run format version {config.get('format_version')!r} is not supported "
                         f"(this aeviz reads version {FORMAT_VERSION}); upgrade aeviz.")
    where = f"{folder}: config.json"
    for key, kind in (("dataset", dict), ("model", dict), ("train", dict), ("epoch", int), ("id", str)):
        if not isinstance(config.get(key), kind) or isinstance(config.get(key), bool):
            raise InputError(f"{where} has no valid {key!r}; the run cannot be loaded.")
    if not SAFE_ID.fullmatch(config["id"]):
        raise bad(where, "id", "a safe folder name (letters, digits, '.', '_' or '-'; at most 128)", config["id"])
    if not 0 <= config["epoch"] <= MAX_EPOCHS:
        raise bad(where, "epoch", f"an int from 0 to {MAX_EPOCHS:,}", config["epoch"])
    best = config.get("best_epoch", 0)
    if not is_int(best) or not 0 <= best <= config["epoch"]:
        raise bad(where, "best_epoch", f"an int from 0 to the run's epoch ({config['epoch']})", best)
    if config.get("status", "stopped") not in STATUSES:
        raise bad(where, "status", f"one of {list(STATUSES)}", config.get("status"))
    for key in ("title", "note", "owner", "message", "created"):
        if not isinstance(config.get(key, ""), str):
            raise bad(where, key, "a string", config.get(key))
    if not isinstance(config.get("versions", {}), dict):
        raise bad(where, "versions", "an object of version strings", config.get("versions"))
    _check_dataset(config["dataset"], where)
    _check_model(config["model"], where)
    try:  # the knobs, by the dataclasses that own them (bounds, choices, unknown names)
        make_config(config["model"]["name"], **config["model"].get("config", {}))
        build_config(TrainConfig, config["train"])
    except InputError as exc:
        raise InputError(f"{folder}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where} is invalid ({exc}); the run cannot be loaded.") from None


def _check_dataset(dataset: dict[str, Any], where: str) -> None:
    source, params = dataset.get("source"), dataset.get("params", {})
    if not isinstance(source, str) or not 0 < len(source) <= 4096 or "\x00" in source:
        raise bad(where, "dataset.source", "a dataset name or a file path", source)
    if params is None:
        return
    if not isinstance(params, dict) or len(params) > MAX_PARAMS_KEYS:
        raise bad(where, "dataset.params", f"an object of at most {MAX_PARAMS_KEYS} parameters", params)
    for key, value in params.items():
        if len(key) > 64 or not (is_number(value) or isinstance(value, (bool, type(None)))
                                 or (isinstance(value, str) and len(value) <= 256)):
            raise bad(where, f"dataset.params.{key[:64]}", "a number, a bool or a short string", value)


def _check_model(model: dict[str, Any], where: str) -> None:
    shape = model.get("input_shape")
    if not isinstance(model.get("name"), str):
        raise bad(where, "model.name", "a model name (see `aeviz models`)", model.get("name"))
    if (not isinstance(shape, list) or not 1 <= len(shape) <= 3
            or not all(is_int(s) and 1 <= s <= 65_536 for s in shape)):
        raise bad(where, "model.input_shape", "a list of 1 to 3 sizes from 1 to 65,536, e.g. [1, 28, 28]", shape)
    if math.prod(shape) > MAX_INPUT_VALUES:
        raise bad(where, "model.input_shape", f"a sample of at most {MAX_INPUT_VALUES:,} values", shape)
    if not isinstance(model.get("config", {}), dict):
        raise bad(where, "model.config", "an object of the model's parameters", model.get("config"))


def check_history(history: Any, epoch: int, folder: Path) -> None:
    """One entry per finished epoch, each a flat object with the numbers every page reads."""
    where = f"{folder}: history.json"
    if not isinstance(history, list):
        raise InputError(f"{where} is not a list of epochs; the run cannot be loaded.")
    if len(history) != epoch:
        raise InputError(f"{where} has {len(history)} epochs, but config.json says {epoch}; the run cannot be loaded.")
    for i, entry in enumerate(history):
        if not isinstance(entry, dict) or len(entry) > MAX_HISTORY_KEYS:
            raise bad(where, f"[{i}]", "an object of an epoch's metrics", entry)
        for key in HISTORY_KEYS:
            if not is_number(entry.get(key)):
                raise bad(where, f"[{i}].{key}", "a finite number", entry.get(key))
        if entry["epoch"] != i + 1:
            raise bad(where, f"[{i}].epoch", f"{i + 1} (epochs in order)", entry["epoch"])
        for key, value in entry.items():
            if len(key) > 64 or not _metric(key, value):
                expected = {"phase": "a short phase name"}.get(key, "a list of numbers" if key.endswith("_per_dim")
                                                               else "a finite number")
                raise bad(where, f"[{i}].{key[:64]}", expected, value)


def _metric(key: str, value: Any) -> bool:
    """An epoch's metric: a number; the phase of a curriculum ("fine-tune"); a per-dimension list (the VAE's
    `kl_per_dim`). Pages read each by its kind, so no other key may hold a string or a list."""
    if key == "phase":
        return isinstance(value, str) and len(value) <= 64
    if key.endswith("_per_dim"):
        return isinstance(value, list) and len(value) <= 4096 and all(is_number(v) for v in value)
    return is_number(value)


def check_weights(tensors: dict[str, torch.Tensor], path: Path) -> None:
    """Floating-point tensors, every value finite (NaN weights would draw blank pages, not an error)."""
    for name, tensor in tensors.items():
        if tensor.dtype not in FLOAT_DTYPES:
            raise InputError(f"{path}: tensor {name[:80]!r} has dtype {tensor.dtype}, not floating point; "
                             "the run cannot be loaded.")
        if not bool(torch.isfinite(tensor).all()):
            raise InputError(f"{path}: tensor {name[:80]!r} holds NaN or infinite values; the run cannot be loaded. "
                             "Retrain it (a run saves only finite weights).")


Tensors = dict[str, torch.Tensor]


def read_tensors(folder: Path, config: dict[str, Any]) -> tuple[Tensors, Tensors | None]:
    """model.safetensors, and optimizer.safetensors when config.json has an optimizer section (never unpickled)."""
    weights = load_tensors(folder / "model.safetensors")
    return weights, (load_tensors(folder / "optimizer.safetensors") if "optimizer" in config else None)


def check_tensors(config: dict[str, Any], weights: dict[str, torch.Tensor],
                  optimizer: dict[str, torch.Tensor] | None, folder: Path) -> None:
    """The weights (and Adam's state) against the model config.json describes. The model is built on the meta
    device: no memory, so a config claiming a huge model costs nothing before its weights are compared."""
    check_weights(weights, folder / "model.safetensors")
    model = config["model"]
    try:
        with torch.device("meta"):
            probe = build(model["name"], tuple(model["input_shape"]), **model.get("config", {}))
    except InputError as exc:
        raise InputError(f"{folder}: {exc}") from None
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InputError(f"{folder}: config.json's model is invalid ({str(exc)[:120]}); the run cannot be "
                         "loaded.") from None
    expected = {k: tuple(v.shape) for k, v in probe.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in weights.items()}
    if expected != got:
        diff = min(set(expected.items()) ^ set(got.items()))[0]
        raise InputError(f"{folder}: model.safetensors does not match the model in config.json (tensor {diff[:80]!r} "
                         "differs); the run cannot be loaded.")
    if optimizer is not None:
        optimizer_files.check(optimizer, config["optimizer"], [tuple(p.shape) for p in probe.parameters()],
                              str(folder))


_CHECKED: dict[tuple, dict[str, Any]] = {}  # config.json of folders found good, by their files' stamps
CHECKED_FILES = ("config.json", "history.json", "model.safetensors", "optimizer.safetensors")


def check_files(folder: Path) -> dict[str, Any]:
    """The whole run folder as `runs.load` checks it, without keeping its tensors (what a listing needs). Returns
    the config. A folder found good is not read again until one of its files changes (a listing re-reads every
    folder whenever any run is saved)."""
    key = tuple(_stamp(folder / name) for name in CHECKED_FILES)
    if key in _CHECKED:
        return _CHECKED[key]
    config, _ = read_folder(folder)
    weights, optimizer = read_tensors(folder, config)
    check_tensors(config, weights, optimizer, folder)
    if len(_CHECKED) > 4096:
        _CHECKED.clear()
    _CHECKED[key] = config
    return config


def _stamp(path: Path) -> tuple[str, int, int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (str(path), -1, -1, -1)
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino)
