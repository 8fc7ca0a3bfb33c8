"""The latent space page: projections, colourings and the t-SNE background task, driven by widget keys."""

import json

import numpy as np
import pytest

from aeviz.analysis import compare
from aeviz.data import load_dataset
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig
from aeviz.ui import latent_view
from tests.conftest import open_page
from tests.test_page_compare import _values


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


def _figure(at) -> dict:
    (chart,) = [c for c in at.get("plotly_chart") if c.key.startswith("latent.chart.")]
    return json.loads(chart.proto.spec)


def test_thumbnails_draw_every_input_at_its_point(state4):
    at = open_page("pages/latent.py", state4)
    assert not at.toggle(key="latent.thumbs").value and "images" not in _figure(at)["layout"]
    at.toggle(key="latent.thumbs").set_value(True).run()
    assert not at.exception
    images = _figure(at)["layout"]["images"]
    xy = _figure(at)["data"][0]
    assert len(images) == 60 and all(im["source"].startswith("data:image/png;base64,") for im in images)
    assert images[0]["xref"] == "x" and images[0]["x"] == pytest.approx(_values(xy["x"])[0])
    assert any("each point shows its input's image" in c.value for c in at.caption)
    assert at.query_params["thumbs"] in ("1", ["1"])  # in the shareable link
    at.multiselect(key="latent.find.labels").set_value([3]).run()  # the found ones on top, the rest faint
    n = int((load_dataset("mnist", limit=300).split("val")[1] == 3).sum())
    images = _figure(at)["layout"]["images"]
    assert len(images) == 60 and [im.get("opacity", 1) for im in images] == [0.15] * (60 - n) + [1] * n


def test_thumbnails_are_off_with_a_reason_for_data_that_are_not_images():
    data = load_dataset("moons")
    run = Run.create("ae", data.shape, "moons", {}, TrainConfig(epochs=1, batch_size=64), hidden=(8,), latent_dim=2)
    train(run, data)
    at = open_page("pages/latent.py", {"state.runs": {run.id: run}, "state.current_run": run.id,
                                       "state.data": ("moons", {})}, query={"thumbs": "1"})  # a link turns it on
    assert not at.exception
    toggle = at.toggle(key="latent.thumbs")
    assert toggle.disabled and "Only for image data" in toggle.help
    assert "images" not in _figure(at)["layout"]


def test_highlighting_a_class_draws_its_points_over_the_rest(state4):
    at = open_page("pages/latent.py", state4)
    y = load_dataset("mnist", limit=300).split("val")[1]
    at.multiselect(key="latent.find.labels").set_value([3]).run()
    assert not at.exception
    n = int((y == 3).sum())
    assert n > 0 and any(f"**{n} points highlighted**" in m.value for m in at.markdown)
    top = [t for t in _figure(at)["data"] if t.get("name") == compare.HIGHLIGHT]
    assert len(top) == 1 and len(_values(top[0]["x"])) == n
    at.slider(key="latent.find.error").set_value((90, 100)).run()  # and the worst tenth of them
    errors = at.session_state["latent.find.error"]
    assert errors == (90, 100) and any("points highlighted** (MSE" in m.value for m in at.markdown)


def test_rows_are_highlighted_and_a_bad_row_text_is_one_error(state4):
    at = open_page("pages/latent.py", state4, query={"find.rows": "3, 10-12"})
    assert not at.exception
    assert any("**4 points highlighted**" in m.value for m in at.markdown)
    at.text_input(key="latent.find.rows").set_value("3, abc").run()
    assert not at.exception
    assert [e.value for e in at.error] == ["'abc' is not an index: use numbers and ranges like 3, 10-20 (0-59)."]
    assert not any("points highlighted" in m.value for m in at.markdown)


def test_clicking_one_point_shows_its_input_reconstruction_and_neighbours(state4):
    at = open_page("pages/latent.py", state4, query={"find.rows": "5-9"})
    # a click on the highlight trace (after the scatter and its ten legend entries): its point 2 is row 7
    top = next(i for i, t in enumerate(_figure(at)["data"]) if t.get("name") == compare.HIGHLIGHT)
    at.session_state["latent.chart.pca"] = {"selection": {"points": [{"curve_number": top, "point_index": 2}],
                                                          "point_indices": [2], "box": [], "lasso": []}}
    at.run()
    assert not at.exception
    assert any(m.value.startswith("**Point #7 (") and "its reconstruction (MSE" in m.value for m in at.markdown)
    captions = [i.proto.imgs[0].caption for i in at.get("image")]
    assert len(captions) == 10 and captions[:2] == ["#7 input", "#7 rebuilt"]  # then the eight neighbours


def test_a_split_of_more_points_than_a_browser_should_draw_offers_a_stated_sample():
    data = load_dataset("moons", n=110_000)  # 22,000 validation points
    run = Run.create("ae", data.shape, "moons", data.params, TrainConfig(epochs=1, batch_size=4096),
                     hidden=(16,), latent_dim=1)
    train(run, data)
    at = open_page("pages/latent.py", {"state.runs": {run.id: run}, "state.current_run": run.id,
                                        "state.data": ("moons", data.params)})
    assert not at.exception
    assert at.radio(key="latent.method").value == "raw", "a 1-D code is drawn as it is, along x"
    drawn = at.selectbox(key="latent.drawn")
    assert drawn.options == ["5,000", "20,000", "all 22,000"] and drawn.value == 20_000
    assert any("20,000 of the 22,000 points of the validation split are drawn (a seeded random sample)" in c.value
               for c in at.caption)
    drawn.set_value(22_000).run()
    assert any("All 22,000 points of the validation split are drawn" in c.value for c in at.caption)
    at.radio(key="latent.split").set_value("all").run()  # 110,000 points: 100,000 at most can be drawn
    assert at.selectbox(key="latent.drawn").options == ["5,000", "20,000", "50,000", "100,000"]
