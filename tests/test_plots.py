"""Figure builders and projections: pure functions, checked on their numbers."""

import subprocess
import sys

import numpy as np
import pytest

from aeviz import plots
from aeviz.analysis import compare
from aeviz.projections import aligned_pca, pca_2d, project
from aeviz.errors import InputError


def test_tile_places_every_image():
    imgs = np.zeros((5, 1, 4, 3), np.float32)
    imgs[3] = 1.0
    grid = plots.tile(imgs, cols=2, pad=1)
    assert grid.shape == (3 * 5 + 1, 2 * 4 + 1) and grid.dtype == np.uint8
    r, c = divmod(3, 2)
    assert (grid[1 + r * 5: 1 + r * 5 + 4, 1 + c * 4: 1 + c * 4 + 3] == 255).all()
    assert (grid[1:5, 1:4] == 0).all()
    assert plots.tile(imgs, cols=2, scale=3).shape == (48, 27)


def test_tile_colour_images():
    grid = plots.tile(np.random.default_rng(0).random((4, 3, 5, 5), dtype=np.float32), cols=4)
    assert grid.shape == (7, 25, 3)


def test_latent_scatter_is_one_data_trace_with_legend_only_extras():
    xy = np.random.default_rng(0).normal(size=(30, 2))
    labels = np.arange(30) % 3
    fig = plots.latent_scatter(xy, labels, ("a", "b", "c"))
    data_traces = [t for t in fig.data if t.x is not None and len(t.x) and t.x[0] is not None]
    assert len(data_traces) == 1 and len(data_traces[0].x) == 30
    assert [t.name for t in fig.data[1:]] == ["a", "b", "c"]
    marker = fig.data[0].marker  # point 4 is class 1: its number lands on the palette's second colour step
    at = (marker.color[4] - marker.cmin) / (marker.cmax - marker.cmin)
    assert [c for lo_hi, c in zip(zip(marker.colorscale[::2], marker.colorscale[1::2]), marker.colorscale[::2])
            if lo_hi[0][0] <= at <= lo_hi[1][0]][0][1] == plots.PALETTE[1]


def test_a_scatter_of_many_points_draws_a_stated_seeded_sample_that_still_selects_rows():
    n = plots.MAX_DRAWN * 5
    xy = np.random.default_rng(0).normal(size=(n, 2))
    labels = np.arange(n) % 4
    fig = plots.latent_scatter(xy, labels, ("a", "b", "c", "d"), title="codes")
    rows = np.asarray(fig.data[0].customdata)
    assert len(fig.data[0].x) == len(rows) == plots.MAX_DRAWN and np.all(np.diff(rows) > 0)
    assert fig.layout.title.text == f"codes · 20,000 of {n:,} drawn"
    assert np.array_equal(rows, plots.drawn_rows(n)), "the same rows on every visit"
    i = 123
    assert np.allclose([fig.data[0].x[i], fig.data[0].y[i]], xy[rows[i]])
    assert fig.data[0].text[i] == f"#{rows[i]} · {'abcd'[rows[i] % 4]}"
    assert plots.point_rows(fig, [0, i]) == [int(rows[0]), int(rows[i])]
    small = plots.latent_scatter(xy[:50], labels[:50])
    assert small.layout.title.text == "Latent space" and plots.point_rows(small, [7]) == [7]
    # A highlight of more rows than a browser should draw is a sample too, its points carrying their rows.
    found = np.flatnonzero(labels == 2)
    top = compare.highlight(plots.latent_scatter(xy, labels), xy, found, labels).data[-1]
    assert len(top.x) == plots.MAX_DRAWN and np.all(labels[np.asarray(top.customdata)] == 2)
    assert plots.drawn_words(20_000, n, "points") == f"20,000 of the {n:,} points are drawn (a seeded random sample)"


def test_histograms_are_binned_before_they_are_sent():
    values = np.random.default_rng(0).exponential(size=200_000)
    edges = np.histogram_bin_edges(values, 60)
    bar = plots.histogram(values, edges, name="errors")
    assert len(bar.x) == len(bar.y) == 60 and int(np.sum(bar.y)) == 200_000
    assert np.allclose(bar.width, np.diff(edges)) and np.allclose(bar.x, (edges[:-1] + edges[1:]) / 2)


def test_loss_curves_draw_every_part():
    points = [{"epoch": 0.5, "loss": 3.0, "recon": 2.0, "kl": 1.0}, {"epoch": 1.0, "loss": 2.0, "recon": 1.5, "kl": 0.5}]
    fig = plots.loss_curves(points, [{"epoch": 1, "val_loss": 2.2}])
    assert [t.name for t in fig.data] == ["train loss", "train recon", "train kl", "validation loss"]


def test_loss_curves_mark_where_the_phase_changes_and_any_given_mark():
    history = [{"epoch": 1, "val_loss": 3.0, "phase": "pre-train layer 1"},
               {"epoch": 2, "val_loss": 2.0, "phase": "fine-tune"}, {"epoch": 3, "val_loss": 1.5, "phase": "fine-tune"}]
    points = [{"epoch": e / 2, "loss": 4.0 - e / 2} for e in range(1, 7)]
    fig = plots.loss_curves(points, history, marks=[(2.0, "lr 1e-3 -> 1e-2")])
    lines = [(s.x0, s.line.dash) for s in fig.layout.shapes if s.type == "line"]
    assert lines == [(1.0, "dash"), (2.0, "dash")]  # epoch 2's points lie in (1, 2]: fine-tuning starts at x = 1
    assert [a.text for a in fig.layout.annotations] == ["fine-tune starts", "lr 1e-3 -> 1e-2"]
    assert plots.phase_marks([{"epoch": 1, "val_loss": 1.0}, {"epoch": 2, "val_loss": 0.5}]) == []


def test_pca_2d_matches_sklearn_variance():
    from sklearn.decomposition import PCA
    z = np.random.default_rng(0).normal(size=(200, 5)) * [5, 3, 1, 0.5, 0.1]
    xy, comps, ratio = pca_2d(z)
    ref = PCA(2).fit(z)
    np.testing.assert_allclose(ratio, ref.explained_variance_ratio_, rtol=1e-6)
    np.testing.assert_allclose(np.abs(xy), np.abs(ref.transform(z)), atol=1e-8)


def test_aligned_pca_keeps_orientation_between_frames():
    z = np.random.default_rng(0).normal(size=(100, 4)) * [4, 2, 1, 1]
    xy1, comps = aligned_pca(z, None)
    xy2, _ = aligned_pca(z, -comps)  # the previous frame had both axes flipped
    np.testing.assert_allclose(xy2, -xy1, atol=1e-10)
    raw, none = aligned_pca(z[:, :2], None)
    assert none is None and np.array_equal(raw, z[:, :2])


def test_project_registry():
    with pytest.raises(InputError, match="Unknown projection"):
        project("tsne3d", np.zeros((3, 2)))
    with pytest.raises(InputError, match="2-D codes only"):
        project("raw", np.zeros((3, 5)))


def test_core_never_imports_streamlit():
    code = ("import sys, aeviz, aeviz.cli, aeviz.data, aeviz.jobs, aeviz.plots, aeviz.training, aeviz.runs, "
            "aeviz.evaluation, aeviz.projections, aeviz.metrics, aeviz.models, aeviz.noise; "
            "import pkgutil; [__import__(m.name) for m in pkgutil.walk_packages(aeviz.__path__, 'aeviz.') "
            "if not m.name.startswith('aeviz.ui')]; print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_log_ticks_label_plain_values_and_thin_out_over_wide_ranges():
    vals, text = plots.log_ticks(np.log10(0.0015), np.log10(0.06))  # under two decades: 1, 2, 5 per decade
    assert text == ["0.002", "0.005", "0.01", "0.02", "0.05"]
    np.testing.assert_allclose(vals, np.log10([0.002, 0.005, 0.01, 0.02, 0.05]))
    vals, text = plots.log_ticks(-8, -2)  # six decades: powers of ten only, short labels
    assert text == ["1e-8", "1e-7", "1e-6", "1e-5", "0.0001", "0.001", "0.01"]
    assert vals == [-8.0, -7.0, -6.0, -5.0, -4.0, -3.0, -2.0]


def test_short_runs_tick_whole_epochs_only():
    history = [{"epoch": e, "val_loss": 1.0 / e, "val_mse": 0.1 / e} for e in (1, 2, 3)]
    points = [{"epoch": e / 4, "loss": 1.0} for e in range(1, 13)]
    for fig in (plots.loss_curves(points, history), plots.metric_curve(history, "val_mse", "MSE")):
        assert fig.layout.xaxis.dtick == 1 and fig.layout.xaxis.tick0 == 0
    long = [{"epoch": e, "val_mse": 0.1} for e in range(1, 41)]
    assert plots.metric_curve(long, "val_mse", "MSE").layout.xaxis.dtick is None, "a long run: automatic ticks"
