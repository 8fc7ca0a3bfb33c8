"""The latent page's core, without Streamlit: which inputs are drawn at their points (all when few; one per grid cell,
nearest its centre, when many), the thumbnails' pictures and sizes, and the search's parsing and matching."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from aeviz import plots, plots_thumbs
from aeviz.analysis import selection
from aeviz.errors import InputError


def _pixels(src: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))))


def test_every_point_is_kept_when_there_are_few():
    xy = np.random.default_rng(0).normal(size=(50, 2))
    assert plots_thumbs.pick(xy, limit=50).tolist() == list(range(50))


def test_one_point_per_cell_the_one_nearest_its_centre():
    # a 2x2 grid over [0, 4] x [0, 4]: cell centres (1, 1), (3, 1), (1, 3), (3, 3)
    xy = np.array([[0, 0], [4, 4], [0.9, 1.2], [1.0, 1.0], [3.5, 0.5], [1, 3.9], [0.2, 3.1]], float)
    assert plots_thumbs.pick(xy, limit=3, grid=(2, 2)).tolist() == [1, 3, 4, 6]
    # row 3 sits on its cell's centre; rows 1 and 4 are alone in theirs; row 6 is nearer its centre than row 5
    tie = np.array([[0, 0], [1, 1], [0.75, 0.5], [0.25, 0.5]])  # one cell; rows 2 and 3 both 0.25 from its centre
    assert plots_thumbs.pick(tie, limit=1, grid=(1, 1)).tolist() == [2]  # a tie: the lower row


def test_many_points_give_at_most_one_per_cell_deterministically():
    rng = np.random.default_rng(1)
    xy = np.concatenate([rng.normal(0, 0.1, (9000, 2)), rng.uniform(-5, 5, (1000, 2))])  # a dense blob, sparse rest
    rows = plots_thumbs.pick(xy)
    assert len(rows) <= 28 * 22 and len(set(rows.tolist())) == len(rows)
    lo, hi = xy.min(0), xy.max(0)
    cells = np.minimum(((xy[rows] - lo) / (hi - lo) * [28, 22]).astype(int), [27, 21])
    assert len({tuple(c) for c in cells}) == len(rows), "at most one per cell"
    assert (rows >= 9000).mean() > 0.8, "the sparse points are not drowned by the dense blob"
    assert np.array_equal(rows, plots_thumbs.pick(xy.copy())), "deterministic"


def test_grayscale_thumbnails_are_the_class_colour_with_the_ink_as_alpha():
    x = np.zeros((2, 1, 4, 4), np.float32)
    x[:, 0, 1:3, 1:3] = 1.0  # a white square on black
    srcs = plots_thumbs.sources(x, np.array([0, 3]))
    first, second = _pixels(srcs[0]), _pixels(srcs[1])
    assert first.shape == (4, 4, 4)
    assert tuple(first[1, 1]) == (31, 119, 180, 255) and first[0, 0, 3] == 0  # PALETTE[0] where ink, clear elsewhere
    assert tuple(second[2, 2, :3]) == (214, 39, 40)  # PALETTE[3]
    inverted = _pixels(plots_thumbs.sources(1.0 - x)[0])  # a black square on white: the dark part is the ink
    assert inverted[1, 1, 3] == 255 and inverted[0, 0, 3] == 0 and tuple(inverted[1, 1, :3]) == (34, 34, 34)


def test_colour_thumbnails_are_framed_and_large_ones_shrunk():
    x = np.full((1, 3, 64, 64), 0.5, np.float32)
    px = _pixels(plots_thumbs.sources(x, np.array([1]))[0])
    assert px.shape == (34, 34, 3)  # 64 -> 32 by 2x2 means, then a one-pixel frame
    assert tuple(px[0, 0]) == (255, 127, 14) and tuple(px[5, 5]) == (128, 128, 128)


def test_layout_images_sit_on_their_points_in_data_units():
    xy = np.array([[0.0, 0.0], [28.0, 22.0], [10.0, 5.0]])
    images = plots_thumbs.layout_images(xy, np.array([0, 2]), ["a", "b"])
    assert [(im["x"], im["y"], im["source"]) for im in images] == [(0.0, 0.0, "a"), (10.0, 5.0, "b")]
    assert images[0]["xref"] == "x" and images[0]["yref"] == "y" and images[0]["xanchor"] == "center"
    assert images[0]["sizex"] == pytest.approx(2.5) and images[0]["sizey"] == pytest.approx(2.5)  # few: 2.5 cells
    assert plots_thumbs.size(xy, 5000) == pytest.approx((1.0, 1.0))  # many: one cell of the 28x22 grid


def test_figure_json_stays_small_for_many_mnist_sized_points():
    rng = np.random.default_rng(0)
    x = (rng.random((2000, 1, 28, 28)) > 0.8).astype(np.float32) * (rng.random((2000, 1, 28, 28)) > 0.5)
    labels, xy = rng.integers(0, 10, 2000), rng.normal(size=(2000, 2))
    rows = plots_thumbs.pick(xy)
    fig = plots_thumbs.add(plots.latent_scatter(xy, labels), plots_thumbs.layout_images(
        xy, rows, plots_thumbs.sources(x[rows], labels[rows])))
    assert len(fig.layout.images) == 2000
    assert len(fig.to_json()) < 4e6  # noise compresses worse than digits (measured 1.8 MB for MNIST)


# -- search ----------------------------------------------------------------------------------------------------------
def test_rows_parse_numbers_and_inclusive_ranges():
    assert selection.parse_rows("3, 10-12; 5 ,3", 100) == [3, 5, 10, 11, 12]
    assert selection.parse_rows("  ", 100) == [] and selection.parse_rows("0-99", 100) == list(range(100))


@pytest.mark.parametrize("text, message", [
    ("abc", "'abc' is not an index: use numbers and ranges like 3, 10-20 (0-9999)."),
    ("3, -4", "'-4' is not an index"),
    ("1.5", "'1.5' is not an index"),
    ("20-10", "'20-10' runs backwards: write the smaller row first, like 10-20."),
    ("9990-10000", "'9990-10000' goes past the last row, 9999"),
])
def test_bad_rows_are_refused_with_the_fix(text, message):
    with pytest.raises(InputError, match="^" + message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        selection.parse_rows(text, 10_000)


def test_find_keeps_rows_passing_every_filter_set():
    labels = np.array([0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2])
    errors = np.arange(11.0)  # percentile p of 0..10 is p / 10
    assert selection.find(11, labels) is None  # nothing set: nothing to highlight
    assert selection.find(11, labels, wanted=[1]).tolist() == [1, 3, 5, 7, 9]
    assert selection.find(11, labels, wanted=[1], rows=[0, 1, 2, 3]).tolist() == [1, 3]
    assert selection.find(11, labels, errors=errors, percentiles=(70, 100)).tolist() == [7, 8, 9, 10]
    assert selection.find(11, labels, wanted=[2], errors=errors, percentiles=(50, 100)).tolist() == [6, 10]
    assert selection.find(11, None, wanted=[1], rows=[4]).tolist() == [4]  # no labels: the class filter is off
    assert selection.find(11, labels, wanted=[1], rows=[0]).tolist() == []  # set, and nothing passes
