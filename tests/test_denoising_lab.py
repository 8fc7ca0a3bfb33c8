"""The denoising lab against known answers: a perfect model, a trained one, sorted errors, prepared pictures."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from aeviz import denoising_lab as lab
from aeviz import noise
from aeviz.errors import InputError
from aeviz.evaluation import encode_all
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig
from tests.helpers import toy_images


class Identity(torch.nn.Module):
    """A perfect autoencoder: rebuilds every input exactly; its code is the flattened input."""

    def __init__(self) -> None:
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))  # evaluation reads the device from a parameter

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return x.clone()


@pytest.fixture(scope="module")
def trained() -> tuple[Run, np.ndarray]:
    data = toy_images(n=300, side=8)
    run = Run.create("ae", data.shape, data.source, data.params, TrainConfig(epochs=25, batch_size=32, lr=5e-3),
                     latent_dim=4, hidden=(32,))
    assert train(run, data).status == "finished"
    return run, data.split("val")[0]


def test_a_perfect_model_scores_100_db_at_level_0_and_only_the_noisy_input_degrades():
    x = toy_images(n=40).x
    curve = lab.robustness_curve(Identity(), x, "gaussian")
    assert curve.levels == lab.noise_levels("gaussian") and len(curve.levels) == 8
    assert curve.levels[0] == 0.0 and curve.levels[-1] == noise.NOISES["gaussian"].max_level
    assert curve.recon_psnr[0] == 100.0 and curve.noisy_psnr[0] == 100.0
    assert curve.recon_psnr == pytest.approx(curve.noisy_psnr)  # the identity passes the noise through
    assert all(a > b for a, b in zip(curve.noisy_psnr, curve.noisy_psnr[1:]))
    s = lab.scores(x, x, x)
    assert s["psnr_noisy"] == s["psnr_rec"] == 100.0 and s["ssim_rec"] == pytest.approx(1.0)


def test_the_robustness_curve_of_a_trained_model_falls_with_noise(trained):
    run, x_val = trained
    curve = lab.robustness_curve(run.model, x_val, "gaussian")
    assert curve.recon_psnr[0] > 15.0, "the toy bars are easy: a trained model rebuilds them well"
    assert curve.recon_psnr[0] - curve.recon_psnr[-1] > 3.0
    assert all(b <= a + 0.3 for a, b in zip(curve.recon_psnr, curve.recon_psnr[1:]))  # falls, up to jitter
    assert curve.recon_psnr[-1] > curve.noisy_psnr[-1], "at heavy noise the model beats the noisy input"
    again = lab.robustness_curve(run.model, x_val, "gaussian")
    assert again == curve, "the same seed gives the same curve"


def test_worst_first_is_sorted_by_error_and_random_is_seeded():
    errors = np.random.default_rng(3).random(50)
    rows = lab.choose_samples("worst", 10, 50, errors=errors)
    assert rows[0] == errors.argmax() and np.all(np.diff(errors[rows]) <= 0)
    assert set(rows) == set(np.argsort(errors)[-10:])
    a, b = (lab.choose_samples("random", 10, 50, seed=s) for s in (1, 1))
    assert np.array_equal(a, b) and len(set(a)) == 10 and a.max() < 50
    assert not np.array_equal(a, lab.choose_samples("random", 10, 50, seed=2))
    assert len(lab.choose_samples("random", 99, 5)) == 5


def test_one_class_picks_only_that_class_and_needs_labels():
    labels = np.arange(60) % 3
    rows = lab.choose_samples("class", 8, 60, labels=labels, label=2, seed=0)
    assert len(rows) == 8 and np.all(labels[rows] == 2)
    with pytest.raises(InputError, match="labels"):
        lab.choose_samples("class", 8, 60, labels=None, label=2)
    with pytest.raises(InputError, match="Unknown sample mode"):
        lab.choose_samples("best", 8, 60)


def test_error_map_is_the_per_pixel_squared_error_averaged_over_channels():
    clean = np.zeros((3, 4, 5), np.float32)
    rec = clean.copy()
    rec[0, 1, 2] = 0.5
    err = lab.error_map(clean, rec)
    assert err.shape == (4, 5) and err[1, 2] == pytest.approx(0.25 / 3) and err.sum() == pytest.approx(0.25 / 3)


def _white_page_digit() -> np.ndarray:
    """A 200x200 white page with a black, off-centre vertical stroke (dark ink on paper)."""
    img = np.full((200, 200, 3), 255, np.uint8)
    img[30:150, 20:45] = 0
    return img


def test_a_drawing_on_white_paper_becomes_an_mnist_style_input():
    x = lab.prepare_image(_white_page_digit(), (1, 28, 28))
    assert x.shape == (1, 28, 28) and x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
    assert x[0, 0, 0] == 0.0 and x.max() > 0.9, "the white background is inverted to black, the ink to white"
    rows, cols = np.flatnonzero(x[0].max(1) > lab.INK), np.flatnonzero(x[0].max(0) > lab.INK)
    assert rows[-1] - rows[0] + 1 <= 21 and cols[-1] - cols[0] + 1 <= 21, "the ink fits the 20-pixel box"
    ys, xs = np.mgrid[:28, :28]
    m = x[0]
    assert abs((ys * m).sum() / m.sum() - 13.5) <= 0.6 and abs((xs * m).sum() / m.sum() - 13.5) <= 0.6
    assert lab.has_ink(x) and not lab.has_ink(lab.prepare_image(np.zeros((50, 50), np.uint8), (1, 28, 28)))


def test_other_shapes_colour_transparency_and_white_datasets():
    colour = lab.prepare_image(_white_page_digit(), (3, 16, 12))
    assert colour.shape == (3, 16, 12) and np.allclose(colour[0], colour[1]), "grey ink stays grey in colour"
    rgba = np.zeros((64, 64, 4), np.uint8)  # black ink on a transparent page (a common PNG export)
    rgba[10:50, 30:34] = (0, 0, 0, 255)
    x = lab.prepare_image(rgba, (1, 8, 8))
    assert x.shape == (1, 8, 8) and x[0, 0, 0] == pytest.approx(0.0, abs=1e-6) and x.max() > 0.3
    kept = lab.prepare_image(_white_page_digit(), (1, 8, 8), background=1.0)
    assert kept[0, 0, 0] == pytest.approx(1.0), "for a white-background dataset the page stays white"
    with pytest.raises(InputError, match="image models"):
        lab.prepare_image(_white_page_digit(), (2,))
    assert lab.background_level(toy_images().x) < 0.1


def test_decode_upload_reads_png_and_refuses_junk():
    buf = io.BytesIO()
    Image.fromarray(_white_page_digit()).save(buf, format="PNG")
    pic = lab.decode_upload(buf.getvalue(), "digit.png")
    assert pic.shape == (200, 200, 3) and pic.dtype == np.uint8 and pic[0, 0, 0] == 255
    with pytest.raises(InputError, match="empty"):
        lab.decode_upload(b"", "empty.png")
    with pytest.raises(InputError, match="fake.png is not a readable picture"):
        lab.decode_upload(b"this is text, not a picture", "fake.png")
    with pytest.raises(InputError, match="not a readable picture"):
        lab.decode_upload(buf.getvalue()[:60], "cut.png")


def test_place_in_latent_projects_new_inputs_like_the_reference(trained):
    run, x_val = trained
    ref_xy, new_xy, axes = lab.place_in_latent(run.model, x_val, x_val[:3])
    assert ref_xy.shape == (len(x_val), 2) and axes[0].startswith("PC1")
    assert np.allclose(new_xy, ref_xy[:3], atol=1e-4), "a reference input lands on its own point"
    two = Run.create("ae", run.input_shape, "toy", {}, TrainConfig(epochs=1), latent_dim=2, hidden=(8,))
    ref2, new2, axes2 = lab.place_in_latent(two.model, x_val, x_val[:1])
    assert axes2 == ("z1", "z2") and np.allclose(ref2, encode_all(two.model, x_val), atol=1e-6)


def test_same_data_compares_source_params_and_shape(trained):
    run, _ = trained
    twin = Run.create("denoising", run.input_shape, run.data_source, dict(run.data_params), TrainConfig(epochs=1))
    other = Run.create("ae", run.input_shape, "mnist", {"limit": 300}, TrainConfig(epochs=1))
    assert lab.same_data(run, twin) and not lab.same_data(run, other)
