"""A dataset named in one short text, for links: 'moons:n=500,noise=0.1', or 'upload:<digest>/<name>'.

Core (no Streamlit), so a lesson can build a Train link; the app's URL module (`aeviz.ui.url`) decodes it, checking
every part against the registry's bounds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aeviz.data import DATASETS
from aeviz.loaders import download


def encode_data(source: str, params: dict[str, Any]) -> str:
    """'moons:n=500,noise=0.1'; an upload is 'upload:<digest>/<name>' (never a server path)."""
    path = Path(source)
    uploads = download.cache_dir() / "uploads"
    if source not in DATASETS and path.parent.parent == uploads:
        source = f"upload:{path.parent.name}/{path.name}"
    return source + (":" + ",".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                                    for k, v in sorted(params.items())) if params else "")
