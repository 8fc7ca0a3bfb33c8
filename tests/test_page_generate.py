"""The Generate page: interpolation pairs, traversal rows, the manifold grid's range and the samples, by widget key."""

import re

import pytest

from aeviz.analysis import codespace, generation
from aeviz.data import load_dataset
from aeviz.evaluation import encode_all
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig
from tests.conftest import open_page

DATA = ("mnist", {"limit": 400})


def trained(model: str, latent_dim: int) -> dict:
    data = load_dataset(DATA[0], **DATA[1])
    run = Run.create(model, data.shape, *DATA, TrainConfig(epochs=2, batch_size=64, lr=3e-3), hidden=(32,),
                     latent_dim=latent_dim)
    train(run, data)
    return {"state.runs": {run.id: run}, "state.current_run": run.id, "state.data": DATA, "_run": run, "_data": data}


@pytest.fixture(scope="module")
def ae2():
    return trained("ae", 2)


@pytest.fixture(scope="module")
def vae8():
    return trained("vae", 8)


def page(st):
    return open_page("pages/generate.py", {k: v for k, v in st.items() if not k.startswith("_")})


def pair_shown(at) -> tuple[int, int]:
    text = next(m.value for m in at.markdown if m.value.startswith("From #"))
    a, b = re.findall(r"#(\d+)", text)
    return int(a), int(b)


def test_without_a_run_the_page_explains_and_links_to_train():
    at = open_page("pages/generate.py")
    assert not at.exception
    assert "needs a trained model" in at.warning[0].value


def test_random_pairs_are_of_different_classes_and_change_on_request(ae2):
    at = page(ae2)
    assert not at.exception and not at.error
    x_val, y_val = ae2["_data"].split("val")
    a, b = pair_shown(at)
    assert (a, b) == codespace.random_pair(y_val, len(x_val), 0) and y_val[a] != y_val[b]
    at.button(key="generate.new_pair").click().run()
    assert pair_shown(at) == codespace.random_pair(y_val, len(x_val), 1)


def test_pairs_by_index_and_the_same_index_twice_is_refused(ae2):
    at = page(ae2)
    at.radio(key="generate.pair_mode").set_value("index").run()
    at.number_input(key="generate.a").set_value(5).run()
    at.number_input(key="generate.b").set_value(5).run()
    assert not at.exception
    assert "same image" in at.error[0].value
    at.number_input(key="generate.b").set_value(17).run()
    assert not at.error and pair_shown(at) == (5, 17)


def test_manifold_caption_states_the_grids_range(ae2):
    at = page(ae2)
    at.slider(key="generate.grid").set_value(10).run()
    run, data = ae2["_run"], ae2["_data"]
    _, xs, ys = generation.manifold_grid(run.model, encode_all(run.model, data.split("val")[0]), (0, 1), 10)
    caption = next(c.value for c in at.caption if c.value.startswith("Left to right"))
    assert f"z1 from {xs[0]:.2f} to {xs[-1]:.2f}" in caption and f"z2 from {ys[0]:.2f} to {ys[-1]:.2f}" in caption
    assert any("covers the whole latent space" in c.value for c in at.caption)


def test_a_plain_autoencoder_says_why_the_prior_is_not_meaningful(ae2):
    at = page(ae2)
    assert any("never asked to put its codes" in m.value for m in at.markdown)
    assert any(c.value.startswith("Seed 0. 32 draws from N(mean, covariance") for c in at.caption)
    at.checkbox(key="generate.show_prior").check().run()
    assert not at.exception


def test_vae_traversal_slice_and_prior_samples(vae8):
    at = page(vae8)
    assert not at.exception and not at.error
    z = encode_all(vae8["_run"].model, vae8["_data"].split("val")[0])
    assert at.multiselect(key="generate.dims").value == codespace.top_dims(z, 6)  # the 6 most varied dims
    top = codespace.top_dims(z, 2)
    assert (at.selectbox(key="generate.mx").value, at.selectbox(key="generate.my").value) == tuple(top)
    assert any("2-D slice of the 8-D code space" in c.value for c in at.caption)
    assert any("From the prior" in m.value for m in at.markdown)
    at.button(key="generate.new_samples").click().run()
    assert any(c.value.startswith("Seed 1.") for c in at.caption)
    at.selectbox(key="generate.my").set_value(top[0]).run()
    assert "same dimension" in at.error[0].value and not at.exception
    at.multiselect(key="generate.dims").set_value([]).run()
    assert any("at least one dimension" in i.value for i in at.info)


def test_point_data_is_explained_not_drawn():
    data = load_dataset("moons", n=200)
    run = Run.create("ae", data.shape, "moons", {"n": 200}, TrainConfig(epochs=1), hidden=(8,), latent_dim=2)
    at = open_page("pages/generate.py", {"state.runs": {run.id: run}, "state.current_run": run.id})
    assert not at.exception
    assert "draws pictures" in at.info[-1].value
