"""A dataset named in one short text, for links: 'moons:n=500,noise=0.1', or 'upload:<digest>/<name>'.

Core (no Streamlit), so a lesson can build a Train link; the app's URL module (`aeviz.ui.url`) decodes it, checking
every part against the registry's bounds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aeviz.data import DATASETS
from aeviz.loaders import download


def uploads_dir() -> Path:
    """Where the app keeps uploaded data files: `<cache>/uploads/<digest>/<name>`."""
    return download.cache_dir() / "uploads"


def is_upload(source: str) -> bool:
    """Whether `source` is a file path inside this server's uploads folder (`<uploads>/<digest>/<name>`)."""
    path = Path(source)
    if not path.is_absolute():
        return False
    try:
        inside = path.resolve().relative_to(uploads_dir().resolve())
    except (ValueError, OSError):
        return False
    return len(inside.parts) == 2


def encode_data(source: str, params: dict[str, Any]) -> str:
    """'moons:n=500,noise=0.1'; an upload is 'upload:<digest>/<name>' (never a server path)."""
    path = Path(source)
    if source not in DATASETS and path.parent.parent == uploads_dir():
        source = f"upload:{path.parent.name}/{path.name}"
    return source + (":" + ",".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                                    for k, v in sorted(params.items())) if params else "")
