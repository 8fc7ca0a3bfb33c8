"""Shared fixtures: a private runs folder and cache for every test, and a helper to open an app page."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Tests that train full-size MNIST models run alone in the test process: two torch threads on the 2 cores train them
# ~1.5x faster (measured 2.45 -> 1.61 s for 5 epochs of the default ae). The app's default stays 1 thread, which
# holds when another process takes a core; results differ only in float rounding (val MSE 0.02436 vs 0.02457).
TEST_THREADS = 2


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path_factory, monkeypatch):
    """Runs and downloads of a test never touch the user's folders."""
    monkeypatch.setenv("AEVIZ_RUNS", str(tmp_path_factory.mktemp("runs")))
    monkeypatch.setenv("AEVIZ_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("AEVIZ_WARM_UP", "0")  # pages under AppTest: no UMAP compile in the background of every test


def open_page(page: str, state: dict | None = None, timeout: float = 60, query: dict | None = None):
    """An AppTest of `page` ("app.py" or "pages/x.py") run as the server runs it: app.py is the entry point.

    `state` seeds st.session_state before the first run (e.g. {"state.runs": {...}, "state.current_run": id}).
    """
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.query_params.update(query or {})
    if page != "app.py":
        at.switch_page(page)
    return at.run()


def picker(at, prefix: str):
    """The run picker whose key starts with `prefix` ("recon.run.<id>"; its key also carries a hash of its labels)."""
    (box,) = [s for s in at.selectbox if (s.key or "").startswith(prefix + ".")]
    return box


def lesson_run_slugs() -> list[str]:
    """The workshop pack's runs the seven lessons use, and ae-32: the plain AE their checks compare with."""
    from aeviz.lessons import LESSONS

    return sorted({lesson.pack for lesson in LESSONS} | {"ae-32"})


@pytest.fixture(scope="session")
def lesson_pack(tmp_path_factory) -> Path:
    """Those runs as `aeviz pack --quick` trains them, once per session (~25 s on 2 cores), in a folder: the lesson
    checks load them (tests/test_lesson_checks.py), the browser walk of the lessons serves them."""
    from aeviz import pack

    out = tmp_path_factory.mktemp("lesson-pack")
    pack.make_pack(out, quick=True, only=lesson_run_slugs())
    return out


@pytest.fixture(scope="session")
def default_mnist_ae():
    """The MLP `ae` with its class defaults on the bundled MNIST (code 32, 20 epochs, ~15 s; the Train page's default
    before issue 12), trained once per session for the hints that name a plain ae. Read it; do not train it further."""
    from aeviz.data import load_dataset
    from aeviz.runs import Run
    from aeviz.training import train
    from aeviz.training_config import TrainConfig

    data = load_dataset("mnist")
    run = Run.create("ae", data.shape, data.source, data.params, TrainConfig(threads=TEST_THREADS))
    assert train(run, data).status == "finished"
    return run


@pytest.fixture(scope="session")
def default_mnist_run():
    """The run the Train page starts on the bundled MNIST with every default (`defaults.default_model`: conv, code 32,
    batches of 64, 20 epochs; ~30 s on 2 cores), trained once per session for the tests of what it reaches
    (test_quality, test_hints). Read it; do not train it further."""
    from aeviz.config import build_config
    from aeviz.data import load_dataset
    from aeviz.defaults import default_model, suggested
    from aeviz.runs import Run
    from aeviz.training import train
    from aeviz.training_config import TrainConfig

    data = load_dataset("mnist")
    variant = default_model(data)
    tips = suggested(variant, data)
    run = Run.create(variant, data.shape, data.source, data.params,
                     build_config(TrainConfig, {**tips.train, "threads": TEST_THREADS}), **tips.model)
    assert train(run, data).status == "finished"
    return run


VISITOR = "0123456789abcdef" * 2  # a visitor's secret token, as their cookie would hold it
ADMIN_TOKEN = "teacher-token-123"


def as_visitor(state: dict | None = None, token: str = VISITOR) -> dict:
    """Session state of a browser whose cookie holds `token` (AppTest sends no cookies)."""
    return {**(state or {}), "access.token": token}


def mine(token: str = VISITOR) -> str:
    """The owner id that runs of the visitor with this token store."""
    from aeviz.catalog import owner_id

    return owner_id(token)
