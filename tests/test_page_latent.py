"""The latent space page: projections, colourings and the t-SNE background task, driven by widget keys."""

import numpy as np
import pytest

from aeviz.data import load_dataset
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig
from aeviz.ui import latent_view
from tests.conftest import open_page


def trained(latent_dim):
    data = load_dataset("mnist", limit=300)
    run = Run.create("ae", data.shape, "mnist", {"limit": 300}, TrainConfig(epochs=2, batch_size=64),
                     hidden=(32,), latent_dim=latent_dim)
    train(run, data)
    return {"state.runs": {run.id: run}, "state.current_run": run.id, "state.data": ("mnist", {"limit": 300})}


@pytest.fixture(scope="module")
def state4():
    return trained(4)


def test_without_a_run_the_page_explains_and_links_to_train():
    at = open_page("pages/latent.py")
    assert not at.exception
    assert "needs a trained model" in at.warning[0].value


def test_pca_view_states_the_number_of_points(state4):
    at = open_page("pages/latent.py", state4)
    assert not at.exception
    assert any("All 60 points of the validation split" in c.value for c in at.caption)
    assert at.radio(key="latent.method").options == ["PCA", "t-SNE", "UMAP"]
    at.radio(key="latent.split").set_value("all").run()
    assert any("All 300 points of both splits" in c.value for c in at.caption)


def test_two_dimensional_codes_are_drawn_raw():
    at = open_page("pages/latent.py", trained(2))
    assert at.radio(key="latent.method").value == "raw"
    assert any("the codes themselves" in c.value for c in at.caption)


@pytest.mark.parametrize("colour", ["K-Means cluster", "reconstruction error", "one latent dimension"])
def test_colourings(state4, colour):
    at = open_page("pages/latent.py", state4)
    at.selectbox(key="latent.colour").set_value(colour).run()
    assert not at.exception


def test_latent_dimensions_are_named_from_z1_as_on_every_page(state4):
    at = open_page("pages/latent.py", state4)
    at.selectbox(key="latent.colour").set_value("one latent dimension").run()
    dim = at.selectbox(key="latent.dim")
    assert dim.options == ["z1", "z2", "z3", "z4"] and dim.value == 0


def test_tsne_runs_in_the_background_with_progress_and_pca_meanwhile(state4):
    at = open_page("pages/latent.py", state4)
    at.radio(key="latent.method").set_value("tsne").run()
    assert not at.exception
    run = state4["state.runs"][state4["state.current_run"]]
    task = at.session_state["latent.tasks"][(run.id, run.revision, "val", "tsne", (("perplexity", 30.0),))]
    assert any("PCA, shown until t-SNE is ready" in c.value for c in at.caption)  # progressive: PCA at once
    assert task.done.wait(120)
    at.run()
    assert not at.exception
    assert any("t-SNE keeps neighbourhoods" in c.value for c in at.caption)
    assert task.result.shape == (60, 2) and np.isfinite(task.result).all()


def test_picking_pca_cancels_the_running_projection_and_the_store_stays_bounded(state4):
    at = open_page("pages/latent.py", state4)
    at.radio(key="latent.method").set_value("tsne").run()
    running = list(at.session_state["latent.tasks"].values())
    at.radio(key="latent.method").set_value("pca").run()
    assert not at.exception
    assert all(t.done.wait(5) for t in running)  # cancelled, or finished first on a fast machine
    assert all(t.cancelled or t.result is not None for t in running)
    assert all(not t.running for t in at.session_state["latent.tasks"].values())
    at.radio(key="latent.method").set_value("tsne").run()
    for perplexity in (5.0, 6.0, 7.0, 8.0, 9.0, 10.0):
        at.number_input(key="latent.tsne.perplexity").set_value(perplexity).run()
    assert len(at.session_state["latent.tasks"]) <= latent_view.MAX_TASKS


def test_cancelled_projection_shows_pca_and_offers_a_restart(state4):
    at = open_page("pages/latent.py", state4)
    at.radio(key="latent.method").set_value("umap").run()
    (task,) = at.session_state["latent.tasks"].values()
    task.cancel()
    assert task.done.wait(60) and (task.cancelled or task.result is not None)
    at.run()
    assert not at.exception
    if task.cancelled:
        assert any("was cancelled" in i.value for i in at.info)
        at.button(key="latent.again").click().run()
        (again,) = at.session_state["latent.tasks"].values()
        assert again is not task
        again.cancel()


def test_bad_perplexity_is_refused_in_one_line(state4):
    at = open_page("pages/latent.py", state4)
    at.radio(key="latent.method").set_value("tsne").run()
    at.number_input(key="latent.tsne.perplexity").set_value(100.0).run()  # 100 >= 60 points
    assert not at.exception
    assert any("perplexity" in e.value for e in at.error)
