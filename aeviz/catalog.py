"""The run catalogue: what run folders there are, who may see and change each, and how a run is labelled.

A run folder's config.json is read without loading weights (`list_runs`), so listing a folder of a hundred runs is
cheap. Labels say what tells runs apart in a picker: title, variant, code size, the variant's key knobs (declared
on its class as `knobs`), data, epochs and status: "Denoising demo · denoising · z=32 · noise gaussian 0.5 ·
mnist · 20/20 epochs · finished".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aeviz.errors import InputError
from aeviz.models import MODELS
from aeviz.runs import MAX_NOTE, MAX_TITLE, _check_config, _read_json, text_field


def _knobs(config: dict[str, Any]) -> dict[str, Any]:
    model = config["model"]
    cls = MODELS.get(str(model.get("name")))
    values = model.get("config") if isinstance(model.get("config"), dict) else {}
    return {k: values[k] for k in (cls.knobs if cls else ()) if k in values}


def row_of(folder: Path) -> dict[str, Any]:
    """One run folder's summary; a broken folder gives a row with its error instead of raising."""
    try:
        config = _read_json(folder / "config.json", "config.json")
        _check_config(config, folder)
        model_cfg = config["model"].get("config") if isinstance(config["model"].get("config"), dict) else {}
        train = config["train"]
        return {"path": folder, "id": config["id"], "model": config["model"].get("name"),
                "title": text_field(config, "title", MAX_TITLE), "note": text_field(config, "note", MAX_NOTE),
                "owner": text_field(config, "owner", 64), "latent_dim": model_cfg.get("latent_dim"),
                "knobs": _knobs(config), "until": train.get("epochs") if isinstance(train.get("epochs"), int) else 0,
                "dataset": config["dataset"].get("source"), "epoch": config["epoch"],
                "status": config.get("status"), "created": str(config.get("created", "")), "error": None}
    except InputError as exc:
        return {"path": folder, "id": folder.name, "model": None, "dataset": None, "epoch": 0, "title": "",
                "note": "", "owner": "", "latent_dim": None, "knobs": {}, "until": 0, "status": "broken",
                "created": "", "error": str(exc)}


def list_runs(root: str | Path) -> list[dict[str, Any]]:
    """Summaries of the run folders under `root`, newest first; broken folders are listed with their error."""
    root = Path(root)
    if not root.is_dir():
        return []
    rows = [row_of(p) for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted(rows, key=lambda r: (r["created"], r["id"]), reverse=True)


def _knob_text(name: str, value: Any) -> str:
    if isinstance(value, float):
        value = f"{value:g}"
    elif isinstance(value, list):
        value = ",".join(map(str, value))
    return f"{name.replace('_level', '').replace('_', ' ')} {value}"


def _data_name(source: Any) -> str:
    text = str(source or "?")
    return Path(text).name if "/" in text or "\\" in text else text  # an upload: its file name, never its path


def label(row: dict[str, Any], status: str | None = None) -> str:
    """'Title · vae · z=2 · beta 4 · mnist · 20/20 epochs · finished' for pickers and lists."""
    if row.get("error"):
        return f"{row['id']} (broken)"
    parts = [row["title"]] if row.get("title") else []
    parts.append(str(row["model"]))
    if row.get("latent_dim") is not None:
        parts.append(f"z={row['latent_dim']}")
    parts += [_knob_text(k, v) for k, v in (row.get("knobs") or {}).items()]
    knobs = row.get("knobs") or {}
    if "noise" in knobs and "noise_level" in knobs:  # "noise gaussian 0.5", not two separate parts
        parts = [p for p in parts if not p.startswith(("noise ", "noise level"))]
        parts.append(f"noise {knobs['noise']} {knobs['noise_level']:g}")
    until = max(int(row.get("until") or 0), int(row.get("epoch") or 0))
    parts += [_data_name(row.get("dataset")), f"{row['epoch']}/{until} epochs", status or str(row.get("status"))]
    return " · ".join(parts)


def row_of_run(run: Any) -> dict[str, Any]:
    """The same summary for a Run in memory (its label matches the one its folder gets once saved)."""
    cls = MODELS.get(run.model_name)
    return {"path": run.path, "id": run.id, "model": run.model_name, "title": run.title, "note": run.note,
            "owner": run.owner, "latent_dim": run.model.config.latent_dim,
            "knobs": {k: getattr(run.model.config, k) for k in (cls.knobs if cls else ())},
            "until": run.train_config.epochs, "dataset": run.data_source, "epoch": run.epoch, "status": run.status,
            "created": run.created, "error": None}
