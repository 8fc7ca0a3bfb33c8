"""The Data page under AppTest: the default MNIST summary, switching datasets, toy scatters, uploads and offline."""

from __future__ import annotations

import base64

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest

from aeviz.loaders import download
from tests.conftest import open_page
from tests.helpers import npy_bytes


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _charts(at) -> dict[str, dict]:
    return {c.key: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def test_a_fresh_session_shows_the_bundled_mnist():
    at = open_page("pages/data.py")
    assert not at.exception
    assert at.selectbox(key="data.name").value == "mnist"
    assert _metrics(at) == {"Samples": "10,000", "One sample": "1 x 28 x 28", "Train / validation": "8,000 / 2,000",
                            "Classes": "10", "Value range": "0.00 to 1.00"}
    assert [im.proto.imgs[0].caption for im in at.get("image")] == [str(d) for d in range(10)]
    bars = _charts(at)["data.bars"]["data"][0]
    assert sum(bars["y"]) == 10_000 and bars["y"][1] == 1135  # the MNIST test set's count of ones
    assert at.number_input(key="data.mnist.limit").value == 0


def test_a_limit_and_use_this_dataset_make_it_current():
    at = open_page("pages/data.py")
    at.number_input(key="data.mnist.limit").set_value(500).run()
    at.button(key="data.use").click().run()
    assert not at.exception and not at.error
    assert at.session_state["state.data"] == ("mnist", {"limit": 500})
    assert _metrics(at)["Samples"] == "500" and _metrics(at)["Train / validation"] == "400 / 100"
    assert "Now using **mnist**" in at.success[0].value


@pytest.mark.parametrize("name, dims, chart", [("moons", 2, "scattergl"), ("swiss-roll", 3, "scatter3d")])
def test_toy_manifolds_are_drawn_as_points_coloured_by_label(name, dims, chart):
    at = open_page("pages/data.py")
    at.selectbox(key="data.name").set_value(name).run()
    at.number_input(key=f"data.{name}.n").set_value(300).run()
    at.button(key="data.use").click().run()
    assert not at.exception
    assert at.session_state["state.data"] == (name, {"n": 300, "noise": 0.05})
    assert _metrics(at)["One sample"] == f"{dims} values" and _metrics(at)["Samples"] == "300"
    assert not at.get("image"), "no image grid for points"
    points = _charts(at)["data.points"]["data"][0]
    colour = points["marker"]["color"]  # one class number per point, sent as a typed array (base64) or a list
    count = (len(base64.b64decode(colour["bdata"])) // np.dtype(colour["dtype"]).itemsize
             if isinstance(colour, dict) else len(colour))
    assert points["type"] == chart and count == 300


def test_an_offline_download_falls_back_with_a_warning(monkeypatch):
    monkeypatch.setitem(download.MIRRORS, "fashion-mnist", ("http://127.0.0.1:9/",))  # refused at once
    at = open_page("pages/data.py")
    at.selectbox(key="data.name").set_value("fashion-mnist").run()
    at.number_input(key="data.fashion-mnist.limit").set_value(200).run()
    at.button(key="data.use").click().run()
    assert not at.exception
    assert any("Could not download fashion-mnist" in w.value for w in at.warning)
    assert "instead of fashion-mnist" in at.success[0].value
    assert _metrics(at)["Samples"] == "200", "the bundled MNIST sample, with the same limit"


def test_a_good_upload_becomes_the_current_dataset():
    x = np.random.default_rng(0).random((30, 6, 6)).astype(np.float32)
    buf = io.BytesIO()
    np.savez(buf, x=x, y=np.arange(30) % 3)
    at = open_page("pages/data.py")
    at.file_uploader(key="data.upload").set_value(("my data.npz", buf.getvalue(), "application/octet-stream")).run()
    at.button(key="data.use_upload").click().run()
    assert not at.exception and not at.error
    source, params = at.session_state["state.data"]
    assert source.endswith("my_data.npz") and params == {}
    kept = Path(source)
    assert kept.parent.parent == Path(os.environ["AEVIZ_CACHE"]) / "uploads", "kept in the cache, not in /tmp"
    assert kept.read_bytes() == buf.getvalue()
    assert _metrics(at)["Samples"] == "30" and _metrics(at)["Classes"] == "3"
    assert at.subheader[0].value == "Current dataset: my_data.npz"


@pytest.mark.parametrize("name, content, message", [
    ("words.npy", npy_bytes(np.array(["a", "b"])), "words.npy holds text"),
    ("empty.npy", b"", "empty.npy is empty"),
    ("fake.npz", b"not a zip at all", "fake.npz is not a valid .npz"),
    ("three.npy", npy_bytes(np.random.default_rng(0).random((3, 5))), "training needs at least 10"),
])
def test_a_bad_upload_shows_one_line_and_keeps_the_current_data(name, content, message):
    at = open_page("pages/data.py")
    at.file_uploader(key="data.upload").set_value((name, content, "application/octet-stream")).run()
    at.button(key="data.use_upload").click().run()
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value and "\n" not in at.error[0].value
    assert "state.data" not in at.session_state, "nothing changed"
    assert _metrics(at)["Samples"] == "10,000", "the bundled MNIST is still current"
