"""The compare page: runs on the same data side by side, runs on other data not offered, a linked selection drawn
over the other maps, and the reconstruction grid; plus the pure parts in aeviz.analysis.compare."""

import numpy as np
import pytest

from aeviz import plots, runs
from aeviz.analysis import compare
from aeviz.data import load_dataset
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig
from aeviz.ui import state
from tests.conftest import as_visitor, open_page

DATA = ("mnist", {"limit": 300})


def _trained(latent_dim: int, title: str, source=DATA) -> Run:
    data = load_dataset(source[0], **source[1])
    run = Run.create("ae", data.shape, source[0], source[1], TrainConfig(epochs=1, batch_size=64), hidden=(32,),
                     latent_dim=latent_dim)
    run.title = title
    train(run, data)
    return run


@pytest.fixture(scope="module")
def made():
    return [_trained(4, "Four"), _trained(2, "Two"), _trained(4, "Other data", ("mnist", {"limit": 200}))]


@pytest.fixture
def saved(made):
    for run in made:
        runs.save(run, state.runs_dir() / run.id)
    return made


def _maps(at):
    return [c for c in at.get("plotly_chart") if "compare.map" in (c.proto.id or "")]


def test_without_runs_the_page_says_what_to_do():
    at = open_page("pages/compare.py", as_visitor())
    assert not at.exception
    assert "no trained runs to compare" in at.warning[0].value


def test_two_runs_on_the_same_data_draw_two_maps_and_the_grid(saved):
    four, two, other = saved
    at = open_page("pages/compare.py", as_visitor({"state.current_run": four.id, "state.data": DATA}))
    assert not at.exception, at.exception
    picker = at.multiselect(key="compare.runs")
    assert len(picker.options) == 2 and not any("Other data" in o for o in picker.options), "not on other data"
    assert picker.options[0].startswith("Four · ae · z=4") and picker.options[1].startswith("Two · ae · z=2")
    assert picker.value == [four.id, two.id]
    assert any("1 run(s) on other data are not offered" in c.value for c in at.caption)
    assert len(_maps(at)) == 2
    assert len(at.get("image")) == 3, "the reconstruction grid: a row of inputs, then one row per run"
    assert at.query_params["runs"] == [f"{four.id},{two.id}"] or at.query_params["runs"] == f"{four.id},{two.id}"


def test_a_selection_in_one_map_is_drawn_over_the_other(saved):
    four, two, _ = saved
    at = open_page("pages/compare.py", as_visitor({"state.current_run": four.id, "state.data": DATA,
                                                   "compare.selected": [1, 5, 7],
                                                   "compare.source": f"compare.map.0.{four.id}"}))
    assert not at.exception, at.exception
    assert any("3 points selected" in m.value for m in at.markdown)
    first, second = [_figure(c) for c in _maps(at)]
    assert [t.get("name") for t in first["data"]].count(compare.HIGHLIGHT) == 1, "its own map shows it too"
    top = [t for t in second["data"] if t.get("name") == compare.HIGHLIGHT]
    assert len(top) == 1 and top[0] is second["data"][-1], "drawn over the rest"
    codes_xy = second["data"][0]
    assert len(_values(top[0]["x"])) == 3
    assert np.allclose(_values(top[0]["x"]), _values(codes_xy["x"])[[1, 5, 7]])
    assert second["data"][0]["marker"]["opacity"] < 0.5, "the other points are dimmed"
    at.button(key="compare.clear").click().run()
    assert not any(compare.HIGHLIGHT == t.get("name") for c in _maps(at) for t in _figure(c)["data"])


def _figure(chart) -> dict:
    import json
    return json.loads(chart.proto.spec)


def _values(v) -> np.ndarray:
    """A figure's array: a plain list, or plotly's typed-array form {"dtype", "bdata"}."""
    if isinstance(v, dict):
        import base64
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.asarray(v, np.float64)


# -- the pure parts ------------------------------------------------------------------------------------------------
def test_map_is_raw_for_two_dimensional_codes_else_pca():
    z = np.random.default_rng(0).normal(size=(50, 2))
    assert np.allclose(compare.map_2d(z)[0], z) and compare.map_2d(z)[2] == "raw code"
    xy, axes, method = compare.map_2d(np.random.default_rng(0).normal(size=(50, 5)))
    assert xy.shape == (50, 2) and method == "PCA" and axes[0].startswith("PC1")


def test_agree_flips_axes_that_run_against_the_reference():
    ref = np.random.default_rng(1).normal(size=(40, 2))
    assert np.allclose(compare.agree(ref * [-1, 1], ref), ref)


def test_grid_rows_prefer_the_selection_and_drop_stale_rows():
    assert compare.grid_rows([3, 99, 1], n=10).tolist() == [3, 1]
    assert compare.grid_rows([], n=30).tolist() == list(range(10))
    assert compare.clean_rows([5, 5, -1, 2, 40], 10) == [2, 5]


def test_highlight_dims_the_rest_and_keeps_class_colours():
    xy = np.arange(20.0).reshape(10, 2)
    labels = np.arange(10) % 3
    fig = compare.highlight(plots.latent_scatter(xy, labels, ("a", "b", "c")), xy, [2, 4], labels)
    top = fig.data[-1]
    assert top.name == compare.HIGHLIGHT and list(top.x) == [4.0, 8.0] and list(top.marker.color) == [2, 1]
    assert fig.data[0].marker.opacity < 0.5


def test_a_lasso_in_the_first_chart_becomes_the_linked_selection(saved):
    four, two, _ = saved
    at = open_page("pages/compare.py", as_visitor({"state.current_run": four.id, "state.data": DATA}))
    first = f"compare.map.0.{four.id}"
    points = [{"curve_number": 0, "point_index": i, "point_number": i} for i in (2, 3, 9)]
    at.session_state[first] = {"selection": {"points": points, "point_indices": [2, 3, 9], "box": [], "lasso": []}}
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["compare.selected"] == [2, 3, 9] and at.session_state["compare.source"] == first
    top = [t for t in _figure(_maps(at)[1])["data"] if t.get("name") == compare.HIGHLIGHT]
    assert len(top) == 1 and len(_values(top[0]["x"])) == 3


def test_a_lasso_over_the_highlight_counts_each_sample_once(saved):
    four, two, _ = saved
    at = open_page("pages/compare.py", as_visitor({"state.current_run": four.id, "state.data": DATA,
                                                   "compare.selected": [1, 5],
                                                   "compare.source": f"compare.map.0.{four.id}"}))
    second = f"compare.map.1.{two.id}"
    # the second map holds the highlight trace (its last): a lasso there reports its points twice
    points = [{"curve_number": 0, "point_index": i} for i in (5, 8)] + [{"curve_number": 11, "point_index": 1}]
    at.session_state[second] = {"selection": {"points": points, "point_indices": [5, 8, 1], "box": [], "lasso": []}}
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["compare.selected"] == [5, 8] and at.session_state["compare.source"] == second
    first = _figure(_maps(at)[0])
    top = [t for t in first["data"] if t.get("name") == compare.HIGHLIGHT]
    assert len(top) == 1 and len(_values(top[0]["x"])) == 2, "now drawn over the first map"


def test_vector_data_draws_the_maps_and_skips_the_grid_in_one_line():
    from tests.helpers import trained_moons_run

    a, b = trained_moons_run(), trained_moons_run(latent_dim=3)
    at = open_page("pages/compare.py", {"state.runs": {a.id: a, b.id: b}, "state.current_run": a.id})
    assert not at.exception, at.exception
    assert len(_maps(at)) == 2 and not at.get("image")
    assert any("vectors, not images" in c.value for c in at.caption)
