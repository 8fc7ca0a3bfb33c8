"""Quality floors on the real MNIST sample, with the defaults a newcomer gets (about a minute on 2 cores).

These are the README's claims: the default model (conv) beats PCA at the same code size by far and clusters better than
raw pixels;
the denoising AE lifts PSNR far above the noisy input's.
"""

import pytest

from aeviz.data import load_dataset
from aeviz.evaluation import evaluate
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig
from tests.conftest import TEST_THREADS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mnist():
    return load_dataset("mnist")


def test_the_default_model_beats_pca_and_pixels(mnist, default_mnist_run):
    run = default_mnist_run  # conv, latent 32, batches of 64, 20 epochs, trained once per session (tests/conftest.py)
    x_val, y_val = mnist.split("val")
    result = evaluate(run.model, mnist.split("train")[0], x_val, y_val)
    assert result["mse"] < 0.5 * result["pca_mse"], result  # measured 0.34x
    assert result["kmeans_acc"] > result["kmeans_acc_pixels"] + 0.03, result  # measured 0.63 against 0.56


def test_denoising_ae_beats_the_noisy_input_by_a_wide_margin(mnist):
    run = Run.create("denoising", mnist.shape, "mnist", train_config=TrainConfig(epochs=10, threads=TEST_THREADS),
                     noise="gaussian", noise_level=0.5)
    train(run, mnist)
    x_val, y_val = mnist.split("val")
    result = evaluate(run.model, mnist.split("train")[0], x_val, y_val, ("gaussian", 0.5), with_kmeans=False)
    assert result["psnr"] > result["psnr_noisy"] + 5.0, result  # dB
    assert result["mse"] < result["pca_mse"], result
