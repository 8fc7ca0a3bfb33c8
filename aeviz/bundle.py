"""Where the app (app.py, pages/) and the bundled MNIST sample are, from a clone and from an installed wheel; the
installed version.

In a clone (and after `pip install -e .`) they are the top-level `app.py`, `pages/`, `assets/mnist/` and
`.streamlit/config.toml`: the one source of truth. The wheel build (`setup.py`) copies exactly those into the package
as `aeviz/_app/`, with the same layout, so `st.page_link("pages/...")` (relative to app.py's folder) and the config
beside it work the same in both. This module picks whichever is there; nothing else locates them by path.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import aeviz

PACKAGE = Path(__file__).resolve().parent
INSTALLED = PACKAGE / "_app"  # filled by the wheel build; absent in a clone


def app_dir() -> Path:
    """The folder holding app.py, pages/, assets/mnist/ and .streamlit/config.toml."""
    return INSTALLED if (INSTALLED / "app.py").is_file() else PACKAGE.parent


APP_DIR = app_dir()
APP = APP_DIR / "app.py"
PAGES = APP_DIR / "pages"
MNIST = APP_DIR / "assets" / "mnist"


def version() -> str:
    """The installed distribution's version (its metadata), else the source's `aeviz.__version__` (a bare clone)."""
    try:
        return metadata.version("aeviz")
    except metadata.PackageNotFoundError:
        return aeviz.__version__
