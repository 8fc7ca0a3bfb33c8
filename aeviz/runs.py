"""A Run in memory and on disk.

In memory a Run is the single source of truth for one model being trained: weights, history, epoch and status,
guarded by `run.lock` (the trainer holds it for each optimisation step; readers hold it while they evaluate).
On disk it is a folder:
    config.json          format, dataset, model name + config, training config, epoch, status, versions
    model.safetensors    the model's weights
    optimizer.safetensors  Adam's moments, flattened (so training resumes exactly), optional
    history.json         one dict of metrics per epoch
    replay.safetensors   the probe set's codes at every epoch (aeviz.replay), optional
Saving writes a sibling temp folder and swaps it in with renames (aeviz.run_folders), so a crash mid-save leaves the
previous good run, and the next save, load or listing cleans up what it left. Loading never unpickles: JSON and
safetensors only, every field checked against one schema (aeviz.run_schema).
"""

from __future__ import annotations

import errno
import itertools
import json
import platform
import shutil
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import save_file

import aeviz
from aeviz import optimizer_files, run_files, run_folders, run_schema
from aeviz import replay as replays
from aeviz.config import build_config, to_dict
from aeviz.errors import InputError
from aeviz.models import AutoEncoder, build
from aeviz.run_files import FORMAT, FORMAT_VERSION, MAX_NOTE, MAX_TITLE, text_field
from aeviz.training_config import TrainConfig

FILES = ("config.json", "model.safetensors", "history.json")
_REVISIONS = itertools.count(1)  # process-wide: every weight state of every Run gets its own number


def new_id(model_name: str) -> str:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    # 40 random bits: a run's id is also its share link (an unlisted run is opened by whoever holds its id).
    return f"{model_name}-{stamp}-{uuid.uuid4().hex[:10]}"


@dataclass(eq=False)
class Run:
    """One model, its training settings and what has happened to it so far."""

    model_name: str
    model: AutoEncoder
    train_config: TrainConfig
    data_source: str
    data_params: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    epoch: int = 0  # epochs completed
    history: list[dict[str, Any]] = field(default_factory=list)
    status: str = "new"  # new | queued | running | paused | stopped | finished | failed
    message: str = ""
    best_epoch: int = 0
    optimizer_state: dict[str, Any] | None = None
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    title: str = ""  # a short human name ("2-D VAE: digits on a map"); empty: described from its settings
    note: str = ""  # one line: what to show with it
    owner: str = ""  # who may change it: a visitor's hashed id, or "" for the server's admin (and legacy runs)
    step: int = 0  # optimisation steps done, over every epoch
    changes: list[dict[str, Any]] = field(default_factory=list)  # knobs changed mid-run (aeviz.steering)
    replay: Any = None  # aeviz.replay.Replay: the probe set's codes at every epoch, or None
    path: Path | None = None
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    # Changes whenever the weights are published (an epoch ends, training ends, weights are restored): caches of
    # derived views key on it, so they never serve results of older weights.
    revision: int = field(default_factory=lambda: next(_REVISIONS))

    def __post_init__(self) -> None:
        self.id = self.id or new_id(self.model_name)

    @classmethod
    def create(cls, model_name: str, input_shape: tuple[int, ...], data_source: str,
               data_params: dict[str, Any] | None = None, train_config: TrainConfig | None = None,
               **model_params: Any) -> Run:
        """A fresh run; the model is initialised under the training seed so runs are reproducible."""
        train_config = train_config or TrainConfig()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(train_config.seed)
            model = build(model_name, tuple(input_shape), **model_params)
        return cls(model_name, model, train_config, data_source, dict(data_params or {}))

    def touch(self) -> None:
        """Mark the weights as changed (call with `lock` held)."""
        self.revision = next(_REVISIONS)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.model.input_shape

    def describe(self) -> str:
        """'vae, epoch 3/10, running' for sidebars and logs; a run whose kept weights are an earlier epoch's says so."""
        best = (f", weights of its best epoch ({self.best_epoch})"
                if self.status != "running" and 0 < self.best_epoch < self.epoch else "")
        return f"{self.model_name}, epoch {self.epoch}/{self.train_config.epochs}, {self.status}{best}"

    def config_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "id": self.id,
            "created": self.created,
            "title": self.title,
            "note": self.note,
            "owner": self.owner,
            "dataset": {"source": self.data_source, "params": self.data_params},
            "model": {"name": self.model_name, "input_shape": list(self.input_shape),
                      "config": to_dict(self.model.config)},
            "train": to_dict(self.train_config),
            "epoch": self.epoch,
            "step": self.step,
            "changes": list(self.changes),
            "best_epoch": self.best_epoch,
            "status": self.status if self.status in {"finished", "stopped", "failed", "new"} else "stopped",
            "message": self.message,
            "versions": {"aeviz": aeviz.__version__, "torch": torch.__version__, "numpy": np.__version__,
                         "python": platform.python_version()},
        }


def check_data_shape(run: Run, shape: tuple[int, ...]) -> None:
    """Refuse data whose samples do not have the shape the run's model takes (e.g. its file changed since)."""
    if tuple(shape) != tuple(run.input_shape):
        raise InputError(f"The run's data {run.data_source!r} has shape {tuple(shape)}, but its model takes "
                         f"{run.input_shape}; the data changed since training. Use a run trained on this data.")


# -- saving -------------------------------------------------------------------------------------------------------
def save(run: Run, path: str | Path | None = None) -> Path:
    """Write the run folder atomically; returns its path. The previous save survives any crash mid-way, and a
    failed write (a full disk) is one OSError line that says so."""
    target = Path(path or run.path or "")
    assert str(target), "save() needs a path for a run that has never been saved"
    target.parent.mkdir(parents=True, exist_ok=True)
    run_folders.tidy(target)
    tmp = run_folders.sibling(target, "tmp")
    try:
        tmp.mkdir()
        _write(run, tmp)
        run_folders.swap_in(tmp, target)
    except (OSError, SafetensorError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        why = getattr(exc, "strerror", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
        raise OSError(getattr(exc, "errno", None) or errno.EIO,
                      f"could not save the run ({why}); its previous save is kept", str(target)) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        run_folders.done(tmp)
    run.path = target
    return target


def _write(run: Run, tmp: Path) -> None:
    """The run's files into the (new, empty) folder `tmp`."""
    with run.lock:
        config = run.config_dict()
        weights = {k: v.detach().cpu().contiguous() for k, v in run.model.state_dict().items()}
        history = list(run.history)
        optimizer = run.optimizer_state
        replay = None if run.replay is None else replays.Replay(run.replay.probe_idx, list(run.replay.epochs),
                                                                list(run.replay.codes))
    save_file(weights, str(tmp / "model.safetensors"), metadata={"format": FORMAT})
    if optimizer is not None:
        tensors, scalars = optimizer_files.flatten(optimizer)
        save_file(tensors, str(tmp / "optimizer.safetensors"), metadata={"format": FORMAT})
        config["optimizer"] = scalars
    if replay is not None:
        replays.save(replay, tmp)
    (tmp / "history.json").write_text(json.dumps(history, indent=1, allow_nan=False, default=_json_default))
    (tmp / "config.json").write_text(json.dumps(config, indent=2, allow_nan=False))


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# -- loading -------------------------------------------------------------------------------------------------------
def load(path: str | Path) -> Run:
    """Read a run folder back; anything corrupt or foreign raises a one-line InputError naming the field."""
    folder = Path(path)
    run_folders.tidy(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} is a file, not a run folder. Give the folder a run was saved in (`aeviz runs`).")
    if not folder.is_dir():
        raise InputError(f"{folder}: no such run folder. List saved runs with `aeviz runs` or check the path.")
    config, history = run_schema.read_folder(folder)
    weights, optimizer = run_schema.read_tensors(folder, config)
    run_schema.check_tensors(config, weights, optimizer, folder)
    model = build(config["model"]["name"], tuple(config["model"]["input_shape"]), **config["model"].get("config", {}))
    model.load_state_dict(weights, strict=True)  # names and shapes are checked: this cannot fail
    dataset = config["dataset"]
    return Run(config["model"]["name"], model, build_config(TrainConfig, config["train"]), dataset["source"],
               dict(dataset.get("params") or {}), id=config["id"], epoch=config["epoch"], history=history,
               status=config.get("status", "stopped"),
               message=" ".join(config.get("message", "").split())[:run_schema.MAX_TEXT],
               best_epoch=config.get("best_epoch", 0),
               optimizer_state=None if optimizer is None else optimizer_files.unflatten(optimizer, config["optimizer"]),
               created=config.get("created", ""), title=text_field(config, "title", MAX_TITLE),
               note=text_field(config, "note", MAX_NOTE), owner=text_field(config, "owner", 64), path=folder,
               step=run_files.count(config.get("step")), changes=run_files.changes(config.get("changes")),
               replay=_replay(folder))


def _replay(folder: Path) -> Any:
    """The run's replay; a damaged replay file costs the replay, never the run."""
    try:
        return replays.load(folder)
    except InputError:
        return None


def delete(path: str | Path) -> None:
    """Remove a run folder (only one that looks like an aeviz run)."""
    folder = Path(path)
    if not (folder / "config.json").is_file():
        raise InputError(f"{folder}: not an aeviz run folder; nothing was deleted.")
    shutil.rmtree(folder)
