"""Every page launches without an exception: from a fresh session, and with a trained run as the current run."""


import pytest

from aeviz.data import load_dataset
from aeviz.runs import Run
from aeviz.training import MIN_SAMPLES, train
from aeviz.training_config import TrainConfig
from aeviz.ui.layout import NAV
from tests.conftest import ROOT, open_page

PAGES = [script for script, _, _ in NAV]


@pytest.fixture(scope="module")
def trained_state():
    data = load_dataset("mnist", limit=300)
    run = Run.create("ae", data.shape, "mnist", {"limit": 300}, TrainConfig(epochs=2, batch_size=64),
                     hidden=(32,), latent_dim=4)
    train(run, data)
    return {"state.runs": {run.id: run}, "state.current_run": run.id, "state.data": ("mnist", {"limit": 300})}


def test_every_page_file_is_in_the_navigation():
    on_disk = {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")}
    assert on_disk == set(PAGES) - {"app.py"}


@pytest.mark.parametrize("page", PAGES)
def test_page_launches_fresh(page):
    at = open_page(page)
    assert not at.exception, at.exception
    assert at.title, "every page has a title"
    assert any("Try this" in i.value for i in at.info), "every page gives a 'try this' hint"
    assert any("Data:" in m.value for m in at.sidebar.markdown), "the shared sidebar is drawn"


@pytest.mark.parametrize("page", PAGES)
def test_page_launches_with_a_trained_run(page, trained_state):
    at = open_page(page, trained_state)
    assert not at.exception, at.exception
    run = trained_state["state.runs"][trained_state["state.current_run"]]
    assert any(f"`ae` on mnist · {run.epoch} of {run.train_config.epochs} epochs done" in m.value
               for m in at.sidebar.markdown)


@pytest.fixture(scope="module")
def smallest_state():
    """A run on the smallest dataset that can be trained: 8 training and 2 validation images, 10 classes."""
    data = load_dataset("mnist", limit=MIN_SAMPLES)
    run = Run.create("ae", data.shape, "mnist", {"limit": MIN_SAMPLES}, TrainConfig(epochs=1, batch_size=4),
                     hidden=(16,), latent_dim=3)
    train(run, data)
    return {"state.runs": {run.id: run}, "state.current_run": run.id, "state.data": ("mnist", {"limit": MIN_SAMPLES})}


@pytest.mark.parametrize("page", PAGES)
def test_page_launches_with_a_run_on_the_smallest_trainable_data(page, smallest_state):
    at = open_page(page, smallest_state)
    assert not at.exception, at.exception
