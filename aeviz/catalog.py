"""The run catalogue: what run folders there are, who may see and change each, and how a run is labelled.

A run folder is checked whole (`list_runs` via `run_schema.check_files`: every field, and the weights parsed once
per change of its files), so a broken run is listed as broken with its reason. Labels say what tells runs apart
in a picker: title, variant, code size, the variant's key knobs (declared on its class as `knobs`), data, epochs
and status: "Denoising demo · denoising · z=32 · noise gaussian 0.5 ·
mnist · 20/20 epochs · finished".
"""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path
from typing import Any

from aeviz import run_folders
from aeviz.errors import InputError
from aeviz.models import MODELS
from aeviz.run_files import MAX_NOTE, MAX_TITLE, read_json, text_field
from aeviz.run_schema import check_files


def _knobs(config: dict[str, Any]) -> dict[str, Any]:
    model = config["model"]
    cls = MODELS.get(str(model.get("name")))
    values = model.get("config") if isinstance(model.get("config"), dict) else {}
    return {k: values[k] for k in (cls.label_knobs(values) if cls else ()) if k in values}


def row_of(folder: Path) -> dict[str, Any]:
    """One run folder's summary; a broken folder gives a row with its error instead of raising."""
    try:
        config = check_files(folder)
        model_cfg = config["model"].get("config") if isinstance(config["model"].get("config"), dict) else {}
        train = config["train"]
        return {"path": folder, "id": config["id"], "model": config["model"].get("name"),
                "title": text_field(config, "title", MAX_TITLE), "note": text_field(config, "note", MAX_NOTE),
                "owner": text_field(config, "owner", 64), "latent_dim": model_cfg.get("latent_dim"),
                "knobs": _knobs(config), "until": train.get("epochs") if isinstance(train.get("epochs"), int) else 0,
                "dataset": config["dataset"].get("source"), "epoch": config["epoch"],
                "status": config.get("status"), "created": str(config.get("created", "")), "error": None}
    except (InputError, OSError) as exc:
        return {"path": folder, "id": folder.name, "model": None, "dataset": None, "epoch": 0, "title": "",
                "note": "", "owner": _claimed_owner(folder), "latent_dim": None, "knobs": {}, "until": 0,
                "status": "broken", "created": "", "error": str(exc)}


def _claimed_owner(folder: Path) -> str:
    """The owner a broken run's config.json names, if it can be read at all ("" otherwise: the admin's to clean up),
    so a visitor sees their own broken run and why."""
    try:
        config = read_json(folder / "config.json", "config.json")
    except (InputError, OSError):
        return ADMIN
    return text_field(config, "owner", 64) if isinstance(config, dict) else ADMIN


_LISTED: dict[Path, tuple[int, list[dict[str, Any]]]] = {}  # root -> (its mtime, rows): pages list runs often
_LISTED_LOCK = threading.Lock()


def list_runs(root: str | Path) -> list[dict[str, Any]]:
    """Summaries of the run folders under `root`, newest first; broken folders are listed with their error (the
    whole run is checked, weights included: `run_schema.check_files`). What interrupted saves left behind is
    recovered or removed first (`run_folders.tidy_root`). Re-read only when the folder changes (every save swaps a
    run folder in by rename, which touches it)."""
    root = Path(root).resolve()
    try:
        stamp = root.stat().st_mtime_ns
    except OSError:
        return []
    if not root.is_dir():
        return []
    if run_folders.tidy_root(root):  # an interrupted save was recovered or cleaned up: the folder changed
        stamp = root.stat().st_mtime_ns
    with _LISTED_LOCK:
        hit = _LISTED.get(root)
    if hit is not None and hit[0] == stamp:
        return [dict(r) for r in hit[1]]
    rows = [row_of(p) for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    rows.sort(key=lambda r: (r["created"], r["id"]), reverse=True)
    with _LISTED_LOCK:
        _LISTED[root] = (stamp, rows)
    return [dict(r) for r in rows]


def reason(row: dict[str, Any]) -> str:
    """Why a broken row's folder is not a good run, without the folder's path (its row already says where)."""
    return str(row.get("error") or "").replace(f"{row['path']}: ", "").replace(f"{row['path']}/", "")


def find(root: str | Path, run_id: str) -> dict[str, Any] | None:
    """The row of the run with this id under `root` (None if there is none)."""
    return next((r for r in list_runs(root) if r["id"] == run_id and r["error"] is None), None)


def _knob_text(name: str, value: Any) -> str:
    if value is True:  # a switch: "tied", not "tied True"
        return name
    if isinstance(value, float):
        value = f"{value:g}"
    elif isinstance(value, list):
        value = ",".join(map(str, value))
    return f"{name.replace('_level', '').replace('_', ' ')} {value}"


def _data_name(source: Any) -> str:
    text = str(source or "?")
    return Path(text).name if "/" in text or "\\" in text else text  # an upload: its file name, never its path


def parts(row: dict[str, Any], status: str | None = None) -> dict[str, str]:
    """The pieces of a run's label: title, variant, code size, its key settings, data, epochs, status."""
    knobs = dict(row.get("knobs") or {})
    settings = []
    if "noise" in knobs and "noise_level" in knobs:  # "noise gaussian 0.5", not two separate parts
        settings.append(f"noise {knobs.pop('noise')} {knobs.pop('noise_level'):g}")
    settings += [_knob_text(k, v) for k, v in knobs.items()]
    until = max(int(row.get("until") or 0), int(row.get("epoch") or 0))
    return {"title": row.get("title") or "", "variant": str(row.get("model")),
            "code": "" if row.get("latent_dim") is None else f"z={row['latent_dim']}",
            "settings": ", ".join(settings), "data": _data_name(row.get("dataset")),
            "epochs": f"{row.get('epoch', 0)}/{until} epochs", "status": status or str(row.get("status"))}


def label(row: dict[str, Any], status: str | None = None) -> str:
    """'Title · vae · z=2 · beta 4 · mnist · 20/20 epochs · finished' for pickers and lists."""
    if row.get("error"):
        return f"{row['id']} (broken)"
    return " · ".join(p for p in parts(row, status).values() if p)


def row_of_run(run: Any) -> dict[str, Any]:
    """The same summary for a Run in memory (its label matches the one its folder gets once saved)."""
    cls = MODELS.get(run.model_name)
    return {"path": run.path, "id": run.id, "model": run.model_name, "title": run.title, "note": run.note,
            "owner": run.owner, "latent_dim": run.model.config.latent_dim,
            "knobs": {k: getattr(run.model.config, k)
                      for k in (cls.label_knobs(vars(run.model.config)) if cls else ())},
            "until": run.train_config.epochs, "dataset": run.data_source, "epoch": run.epoch, "status": run.status,
            "created": run.created, "error": None}


# -- who may see and change a run ------------------------------------------------------------------------------------
ADMIN_TOKEN = re.compile(r"[A-Za-z0-9_.~-]{8,128}")  # what an admin token may be: it travels in a link once
ADMIN = ""  # the owner of runs made by the server's admin (and of packs and runs saved before owners existed)


def owner_id(token: str) -> str:
    """A visitor's owner id: a hash of their secret token, so a run folder (or a zip of it) never holds the token."""
    return hashlib.sha256(f"aeviz-visitor:{token}".encode()).hexdigest()[:16]


def may_change(owner: str, me: str, admin: bool) -> bool:
    """Pause, stop, continue, rename or delete: the run's owner, or the admin. Admin-owned runs are read-only to
    visitors (a teacher's prepared runs)."""
    return admin or (owner != ADMIN and owner == me)


def listed_for(row: dict[str, Any], me: str, admin: bool) -> bool:
    """Whether `row` appears in this visitor's run lists: the admin's runs for everyone, a visitor's own runs for
    them (and the admin). Anyone else's run is unlisted, but opens read-only from a link that names it."""
    return admin or row.get("owner", ADMIN) in (ADMIN, me)
