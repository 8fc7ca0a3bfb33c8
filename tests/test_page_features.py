"""The Features page under AppTest: the guard, the per-dimension table against the analysis core, the dimension
and column pickers, saliency, filters, the VAE's KL column and the linear model against PCA."""

from __future__ import annotations

import numpy as np
import pytest

from aeviz.analysis import importance
from aeviz.data import load_dataset
from aeviz.evaluation import encode_all
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig
from tests.conftest import open_page
from tests.helpers import trained_moons_run

PAGE = "pages/features.py"


@pytest.fixture(scope="module")
def data():
    return load_dataset("mnist", limit=400)


def tiny_run(data, model: str, epochs: int = 2, **params) -> Run:
    run = Run.create(model, data.shape, "mnist", data.params, TrainConfig(epochs=epochs, batch_size=32, lr=3e-3),
                     latent_dim=4, **params)
    train(run, data)
    return run


@pytest.fixture(scope="module")
def ae(data):
    return tiny_run(data, "ae", hidden=(32,))


def seeded(run: Run) -> dict:
    return {"state.runs": {run.id: run}, "state.current_run": run.id}


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


def test_without_a_run_the_page_explains_and_links_to_train():
    at = open_page(PAGE)
    assert not at.exception
    assert any("no run to look at" in w.value for w in at.warning)
    assert not at.dataframe


def test_the_table_matches_the_analysis_core(ae, data):
    x, y = data.split("val")
    at = open_page(PAGE, seeded(ae))
    assert not at.exception
    frame = at.dataframe[0].value
    expected = importance.latent_table(ae.model, x, y)
    assert list(frame.index) == ["z1", "z2", "z3", "z4"]
    assert list(frame.columns) == ["variance", "ablation ΔMSE", "ANOVA F", "mutual info (nats)"]  # no KL: not a VAE
    np.testing.assert_allclose(frame["ablation ΔMSE"], expected["ablation_mse"], rtol=1e-5)
    np.testing.assert_allclose(frame["mutual info (nats)"], expected["mutual_info"], rtol=1e-6)
    # the dimension picker starts on the dimension whose ablation hurts most, and the bar caption names it
    top = int(np.argmax(expected["ablation_mse"]))
    assert at.selectbox(key="features.dim").value == top
    assert f"Largest ablation ΔMSE: **z{top + 1}**" in captions(at)
    # its class means, as the core computes them
    means = importance.label_correlation(encode_all(ae.model, x), y, top, 10)
    assert f"highest for **{int(np.nanargmax(means))}** ({means[np.nanargmax(means)]:+.3g})" in captions(at)
    # the filters of the first layer (32 hidden units) and a pointer to the linear model
    assert "first 32 of 32 units" in captions(at)
    assert any("needs the **linear** model" in i.value for i in at.info)


def test_column_dimension_and_saliency_pickers(ae, data):
    x, y = data.split("val")
    at = open_page(PAGE, seeded(ae))
    at.selectbox(key="features.column").set_value("variance")
    at.selectbox(key="features.dim").set_value(1)
    at.radio(key="features.saliency_target").set_value("dim")
    at.selectbox(key="features.saliency_set").set_value("class 3").run()
    assert not at.exception
    variance = encode_all(ae.model, x).var(0)
    assert f"Largest variance: **z{int(np.argmax(variance)) + 1}**" in captions(at)
    assert "What z2 draws" in "\n".join(m.value for m in at.markdown)
    effect = importance.ablation(ae.model, x)
    rank = int(np.sum(effect > effect[1])) + 1
    assert any(f"ranks **#{rank}** of 4" in m.value for m in at.markdown)
    assert f"moves z2 most, averaged over {int(np.sum(y == 3))} images" in captions(at)


def test_vae_shows_its_kl_per_dimension(data):
    vae = tiny_run(data, "vae", epochs=1, hidden=(32,))
    at = open_page(PAGE, seeded(vae))
    assert not at.exception
    frame = at.dataframe[0].value
    x = data.split("val")[0]
    expected = importance.latent_table(vae.model, x, None)["kl"]
    np.testing.assert_allclose(frame["KL (nats)"], expected, rtol=1e-4)


def test_linear_model_against_pca(data):
    linear = tiny_run(data, "linear", epochs=3)
    at = open_page(PAGE, seeded(linear))
    assert not at.exception
    out = importance.linear_vs_pca(linear.model, data.split("train")[0], data.split("val")[0])
    assert metric(at, "Linear AE MSE (validation)") == f"{out['ae_mse']:.5f}"
    assert metric(at, "PCA MSE, 4 components") == f"{out['pca_mse']:.5f}"
    assert metric(at, "Largest principal angle") == f"{out['angles'].max():.1f}°"
    close = int(np.sum(out["angles"] < 10))
    assert any(f"{close} of 4 directions lie within 10° of PCA's" in m.value for m in at.markdown)
    assert out["pca_mse"] <= out["ae_mse"] + 1e-6  # PCA is the optimum for a linear code of that size
    assert not any("needs the **linear** model" in i.value for i in at.info)


def test_vector_data_has_a_table_but_no_filter_images():
    run = trained_moons_run()
    at = open_page(PAGE, seeded(run))
    assert not at.exception
    assert list(at.dataframe[0].value.index) == ["z1", "z2"]
    assert any("needs image data" in i.value for i in at.info)
    assert not at.get("image")


def test_unlabelled_data_has_no_label_columns(tmp_path):
    x = np.clip(np.random.default_rng(0).normal(0.5, 0.2, (120, 6, 6)), 0, 1).astype(np.float32)
    np.save(tmp_path / "unlabelled.npy", x)
    plain = load_dataset(str(tmp_path / "unlabelled.npy"))
    run = Run.create("ae", plain.shape, plain.source, plain.params, TrainConfig(epochs=1, batch_size=32),
                     hidden=(16,), latent_dim=3)
    train(run, plain)
    at = open_page(PAGE, seeded(run))
    assert not at.exception
    assert list(at.dataframe[0].value.columns) == ["variance", "ablation ΔMSE"]
    assert any("no labels" in i.value for i in at.info)
    assert at.selectbox(key="features.saliency_set").options == ["the first 24 validation images"]
