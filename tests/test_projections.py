"""The PROJECTIONS registry with known answers, and the one background Task: progress, cancel, its thread ending."""

import threading

import numpy as np
import pytest

from aeviz import projections
from aeviz.analysis import clustering
from aeviz.config import offered
from aeviz.errors import InputError
from aeviz.projections import PROJECTIONS, project
from aeviz.tasks import Task


def blobs(n=300, d=6, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    return (rng.normal(size=(3, d)) * 8)[y] + rng.normal(size=(n, d)), y


def test_every_entry_is_described():
    for name, entry in PROJECTIONS.items():
        assert entry.label and isinstance(entry.slow, bool), name
        for spec in offered(entry.params):
            assert spec.help and spec.min is not None and spec.max is not None, (name, spec.name)
    assert [n for n, e in PROJECTIONS.items() if e.slow] == ["tsne", "umap"]


def test_pca_recovers_known_axes():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=500) * 5, rng.normal(size=500)  # variance 25 along axis 2, 1 along axis 0
    z = np.zeros((500, 4))
    z[:, 2], z[:, 0] = a, b
    z += rng.normal(size=z.shape) * 0.01
    xy = project("pca", z)
    assert xy.shape == (500, 2)
    assert abs(np.corrcoef(xy[:, 0], a)[0, 1]) > 0.999 and abs(np.corrcoef(xy[:, 1], b)[0, 1]) > 0.999


def test_raw_draws_a_1d_code_along_x_with_a_meaningless_seeded_height():
    z = np.linspace(-1, 1, 500)[:, None]
    xy = project("raw", z)
    assert np.allclose(xy[:, 0], z[:, 0]) and np.all(np.abs(xy[:, 1]) <= 0.5) and xy[:, 1].std() > 0.2
    assert np.array_equal(project("raw", z), xy)


def test_raw_is_the_codes_and_refuses_wider_ones():
    z = np.arange(10.0).reshape(5, 2)
    assert np.array_equal(project("raw", z), z)
    with pytest.raises(InputError, match="2-D codes only"):
        project("raw", np.zeros((5, 3)))


def test_tsne_shape_seed_and_separation():
    x, y = blobs()
    first, again = project("tsne", x, seed=1, perplexity=10), project("tsne", x, seed=1, perplexity=10)
    assert first.shape == (300, 2) and np.isfinite(first).all()
    assert np.allclose(first, again), "same seed, same layout"
    assert clustering.run(first, y, 3).scores["acc"] == 1.0


@pytest.mark.parametrize("name, params, match", [
    ("tsne", {"perplexity": 500}, "perplexity"),  # above the field's maximum
    ("tsne", {"perplexity": 1}, "perplexity"),
    ("tsne", {"perplexity": 60}, "below 49 for 50 points"),  # the neighbourhood must be smaller than the data
    ("umap", {"min_dist": 2.0}, "min_dist"),
    ("umap", {"n_neighbors": 1}, "n_neighbors"),
    ("umap", {"n_neighbors": 49}, "below 49"),
    ("umap", {"spread": 1.0}, "no parameter 'spread'"),
    ("isomap", {}, "Unknown projection"),
])
def test_bad_parameters_are_refused(name, params, match):
    with pytest.raises(InputError, match=match):
        project(name, np.zeros((50, 4)), **params)


def _started_on(stage_prefix: str):
    """A report wrapper that sets an Event once the work reaches a stage (e.g. the optimisation loop)."""
    reached = threading.Event()

    def wrap(report):
        def inner(stage, fraction=None):
            report(stage, fraction)
            if stage.startswith(stage_prefix):
                reached.set()
        return inner
    return reached, wrap


def _cancel_promptly(name: str, stage: str, n: int) -> Task:
    x, _ = blobs(n, d=16)
    reached, wrap = _started_on(stage)
    task = Task(lambda report: project(name, x, report=wrap(report)), name)
    assert reached.wait(300), task.status()
    assert 0 < task.fraction < 1 and task.running
    task.cancel()
    assert task.done.wait(1.0), "stopped within a second"
    task.thread.join(1.0)
    assert not task.thread.is_alive() and task.cancelled and task.result is None and task.error is None
    assert "cancelled" in task.status()
    return task


def test_cancel_stops_tsne_within_a_second():
    _cancel_promptly("tsne", "iteration", 4000)


@pytest.mark.slow
def test_umap_separates_blobs_reports_epochs_and_cancels():
    x, y = blobs()
    task = Task(lambda report: project("umap", x, report=report, n_neighbors=10), "umap")
    assert task.done.wait(300) and task.error is None, task.status()
    assert task.fraction == 1.0 and clustering.run(task.result, y, 3).scores["acc"] == 1.0
    _cancel_promptly("umap", "layout epoch", 4000)
    after = Task(lambda report: project("umap", x, report=report, n_neighbors=10), "umap")  # nothing left locked
    assert after.done.wait(120) and after.result.shape == (300, 2), after.status()


def test_task_reports_errors_and_waits_for_its_slot_cancellably():
    failing = Task(lambda report: 1 / 0, "division")
    assert failing.done.wait(5) and "ZeroDivisionError" in failing.error
    slot = threading.Lock()
    slot.acquire()  # someone else holds it
    waiting = Task(lambda report: "ran", "baseline", slot=slot)
    assert not waiting.done.wait(0.3) and waiting.stage.startswith("waiting")
    assert "%" not in waiting.status(), "no share claimed for a step that reports none"
    waiting.cancel()
    assert waiting.done.wait(1.0) and waiting.cancelled
    slot.release()
    ok = Task(lambda report: "ran", "baseline", slot=slot)
    assert ok.done.wait(5) and ok.result == "ran" and not slot.locked()


def test_a_task_nobody_polls_cancels_itself():
    release = threading.Event()

    def work(report):
        release.wait(5)
        report("after the wait")  # the first checkpoint after nobody looked for orphan_after seconds
        return "unwanted"
    task = Task(work, "orphan", orphan_after=0.0)
    release.set()
    assert task.done.wait(5) and task.cancelled and task.result is None


def test_embed_keeps_its_old_name():
    from aeviz.embedding import embed
    x, _ = blobs(50)
    assert np.allclose(embed(x, "pca"), projections.pca_2d(x)[0])


@pytest.mark.slow
def test_umap_gives_as_many_dimensions_as_asked_and_refuses_too_many():
    from aeviz.embedding import UMAPParams, umap_2d

    x, y = blobs(n=200, d=12)
    out = umap_2d(x.astype(np.float32), UMAPParams(n_neighbors=20, min_dist=0.0), n_components=10)
    assert out.shape == (200, 10)
    assert clustering.run(out, y, k=3, method="gmm").scores["acc"] == 1.0
    with pytest.raises(InputError, match="UMAP can give 1 to 12 output dimensions for 200 points of 12 values. Got 13"):
        umap_2d(x, UMAPParams(), n_components=13)
    with pytest.raises(InputError, match="1 to 12 output dimensions .* Got 0 instead"):
        umap_2d(x, UMAPParams(), n_components=0)
    assert project("umap", x, n_neighbors=10).shape == (200, 2), "the registry's entry stays 2-D"
