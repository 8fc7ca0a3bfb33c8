"""The Clusters page under AppTest: the guard, the numbers it shows against the analysis core, the UMAP and N2D
options with their like-for-like baselines, and unlabelled data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aeviz.analysis import clustering, n2d
from aeviz.data import load_dataset
from aeviz.evaluation import encode_all
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig
from aeviz.ui import clusters_view
from tests.conftest import open_page
from tests.helpers import trained_mnist_run, trained_moons_run

PAGE = "pages/clusters.py"


@pytest.fixture(scope="module")
def trained():
    return trained_mnist_run()


def seeded(run: Run) -> dict:
    return {"state.runs": {run.id: run}, "state.current_run": run.id}


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _params(data) -> str:
    """The baseline tasks' key for a dataset's parameters, as the page makes it."""
    return json.dumps(data.params, sort_keys=True, default=str)


def finish_tasks(at, data, split: str, k: int, method: str, z_dim: int, x, y) -> None:
    task = clusters_view._baseline_task(data.source, _params(data), split, k, method, z_dim, x, y)
    assert task.done.wait(60), "the baseline task did not finish"
    at.run()


def test_without_a_run_the_page_explains_and_links_to_train():
    at = open_page(PAGE)
    assert not at.exception
    assert any("no run to look at" in w.value for w in at.warning)
    assert not at.metric


def test_scores_match_the_analysis_core(trained):
    run, data = trained
    x, y = data.split("val")
    z = encode_all(run.model, x)
    at = open_page(PAGE, seeded(run))
    assert not at.exception
    assert at.slider(key="clusters.k").value == 10  # defaults to the number of classes
    expected = clustering.run(z, y, 10, "kmeans").scores
    assert metric(at, "Accuracy") == f"{expected['acc']:.3f}"
    assert metric(at, "NMI") == f"{expected['nmi']:.3f}"
    assert metric(at, "Silhouette") == f"{expected['silhouette']:.3f}"
    # the baselines arrive from a thread; then the table has three columns and the metrics a delta vs pixels
    finish_tasks(at, data, "val", 10, "kmeans", 4, x, y)
    pixels = clustering.baselines(x, y, 10, 4, "kmeans")["pixels"]
    acc = next(m for m in at.metric if m.label == "Accuracy")
    assert acc.delta == f"{expected['acc'] - pixels['acc']:+.3f} vs pixels"
    said = n2d.verdict(expected["acc"], pixels["acc"], "latent", "pixels", run.model_name)
    assert any(m.value == said for m in at.markdown) and f"({expected['acc']:.3f} against" in said
    table = at.dataframe[0].value
    assert list(table.columns) == ["codes", "raw pixels", "PCA (4 dims)"]
    assert table.loc["Accuracy", "raw pixels"] == pytest.approx(pixels["acc"])
    # one row of samples per non-empty cluster, and together the rows hold every point once
    rows = [m.value for m in at.markdown if m.value.startswith("**cluster ")]
    assert len(rows) == len(np.unique(clustering.run(z, y, 10, "kmeans").assign))
    assert sum(int(r.split("  \n")[1].split()[0].replace(",", "")) for r in rows) == len(y)
    assert len(at.get("image")) == 2 * len(rows)  # a decoded centroid per cluster, then one tile per row


def test_k_method_and_split_drive_the_clustering(trained):
    run, data = trained
    at = open_page(PAGE, seeded(run))
    at.slider(key="clusters.k").set_value(5)
    at.radio(key="clusters.method").set_value("gmm")
    at.radio(key="clusters.split").set_value("all").run()
    assert not at.exception
    x, y = data.split("all")
    expected = clustering.run(encode_all(run.model, x), y, 5, "gmm").scores
    assert metric(at, "Accuracy") == f"{expected['acc']:.3f}"
    assert metric(at, "ARI") == f"{expected['ari']:.3f}"


def test_umap_option_shows_progress_then_its_result(trained):
    run, data = trained
    at = open_page(PAGE, seeded(run))
    at.radio(key="clusters.space").set_value("umap").run()
    assert not at.exception
    tasks = at.session_state["clusters.umap_tasks"]
    (task,) = tasks.values()
    if not task.done.is_set():  # the page says what it is doing instead of freezing, and offers to cancel
        (bar,) = at.get("progress")
        assert f"UMAP of {len(data.split('val')[0])} codes" in bar.proto.text and "s so far" in bar.proto.text
        assert at.button(key="clusters.cancel_umap").label == "Cancel"
        assert not at.metric
    assert task.done.wait(180) and task.error is None
    at.run()
    assert not at.exception
    _, y = data.split("val")
    expected = clustering.run(task.result, y, 10, "kmeans").scores
    assert metric(at, "Accuracy") == f"{expected['acc']:.3f}"


def test_unlabelled_data_shows_silhouette_only(tmp_path):
    rng = np.random.default_rng(0)
    x = np.clip(rng.normal(0.5, 0.2, (120, 6, 6)), 0, 1).astype(np.float32)
    path = tmp_path / "unlabelled.npy"
    np.save(path, x)
    data = load_dataset(str(path))
    assert data.y is None
    run = Run.create("ae", data.shape, data.source, data.params, TrainConfig(epochs=1, batch_size=32),
                     hidden=(16,), latent_dim=3)
    train(run, data)
    at = open_page(PAGE, seeded(run))
    assert not at.exception
    assert [m.label for m in at.metric] == ["Silhouette"]
    assert any("no labels" in i.value for i in at.info)
    z = encode_all(run.model, data.split("val")[0])
    assert metric(at, "Silhouette") == f"{clustering.run(z, None, 10).scores['silhouette']:.3f}"


def test_vector_data_compares_with_raw_inputs_and_draws_no_images():
    run, data = trained_moons_run(), load_dataset("moons", n=300)  # the same seeded split the run trained on
    at = open_page(PAGE, seeded(run))
    assert at.slider(key="clusters.k").value == 2  # two moons, two clusters
    x, y = data.split("val")
    finish_tasks(at, data, "val", 2, "kmeans", 2, x, y)
    assert not at.exception
    assert list(at.dataframe[0].value.columns) == ["codes", "raw inputs", "PCA (2 dims)"]
    assert next(m for m in at.metric if m.label == "Accuracy").delta.endswith(" vs inputs")
    assert not at.get("image")  # decoded centroids are a table of values instead
    assert at.dataframe[1].value.shape == (2, 2)


@pytest.mark.parametrize("ours, pixels, model, says, advice", [
    (0.70, 0.55, "ae", "**better than** raw pixels (0.700 against 0.550 accuracy)", "similar inputs close together"),
    (0.880, 0.880, "ae", "**about as well as** raw pixels", "adds little separation"),
    (0.40, 0.55, "ae", "**worse than** raw pixels", "compare a **vae**"),
    (0.40, 0.55, "vae", "**worse than** raw pixels", "a lower β"),
])
def test_the_verdict_says_what_the_numbers_say(ours, pixels, model, says, advice):
    text = n2d.verdict(ours, pixels, "latent", "pixels", model)
    assert says in text and advice in text
    if model == "vae":
        assert "compare a **vae**" not in text, "no advice to try the model that is already open"


def test_n2d_clusters_a_10d_umap_and_compares_with_the_same_pipeline_on_pixels(trained):
    run, data = trained
    at = open_page(PAGE, seeded(run))
    at.radio(key="clusters.space").set_value("n2d").run()
    assert not at.exception
    assert not any(r.key == "clusters.method" for r in at.radio), "N2D prescribes its clusterer"
    assert any("Gaussian mixture, as N2D prescribes" in m.value for m in at.markdown)
    (task,) = at.session_state["clusters.umap_tasks"].values()
    assert task.title == f"4-D UMAP of {len(data.split('val')[0])} codes"  # 10 dims asked, the code has 4
    assert task.done.wait(180) and task.error is None and task.result.shape[1] == 4
    at.run()
    x, y = data.split("val")
    base = clusters_view._embedding_task(data.source, _params(data), "val", "n2d", 4, x)
    assert base.done.wait(180) and base.error is None
    at.run()
    assert not at.exception
    expected = clustering.run(task.result, y, 10, "gmm").scores
    assert metric(at, "Accuracy") == f"{expected['acc']:.3f}"
    pixels = clustering.run(base.result["pixels"], y, 10, "gmm").scores
    table = at.dataframe[0].value
    assert list(table.columns) == ["N2D of codes", "N2D of raw pixels", "N2D of PCA (4 dims)"]
    assert table.loc["Accuracy", "N2D of raw pixels"] == pytest.approx(pixels["acc"])
    said = n2d.verdict(expected["acc"], pixels["acc"], "n2d", "pixels", run.model_name)
    assert any(m.value == said for m in at.markdown) and "the same pipeline on raw pixels" in said


def test_umap_baseline_is_computed_once_per_dataset_whatever_k(trained):
    run, data = trained
    at = open_page(PAGE, seeded(run))
    at.radio(key="clusters.space").set_value("umap").run()
    (task,) = at.session_state["clusters.umap_tasks"].values()
    x, _ = data.split("val")
    base = clusters_view._embedding_task(data.source, _params(data), "val", "umap", 4, x)
    assert task.done.wait(180) and base.done.wait(180)
    at.run()
    assert list(at.dataframe[0].value.columns)[1] == "UMAP-2 of raw pixels"
    at.slider(key="clusters.k").set_value(5).run()
    assert not at.exception
    assert clusters_view._embedding_task(data.source, _params(data), "val", "umap", 4, x) is base
    assert at.dataframe[0].value.shape[1] == 3, "the new k is scored on the same embedding, without waiting"


@pytest.mark.parametrize("ours, pixels, says, meaning", [
    (0.79, 0.79, "**about as well as** the same pipeline on raw pixels", "the autoencoder adds nothing beyond it"),
    (0.90, 0.79, "**better than** the same pipeline on raw pixels", "beyond what UMAP alone gives"),
    (0.60, 0.79, "**worse than** the same pipeline on raw pixels", "UMAP alone does better"),
])
@pytest.mark.parametrize("space", ["umap", "n2d"])
def test_the_umap_verdict_credits_umap_not_the_autoencoder(space, ours, pixels, says, meaning):
    text = n2d.verdict(ours, pixels, space)
    assert says in text and meaning in text and f"({ours:.3f} against {pixels:.3f} accuracy)" in text
