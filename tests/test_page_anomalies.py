"""The Anomalies page: the count above the threshold, the worst samples, and the out-of-distribution AUC against
noise, another dataset (offline: MNIST standing in, said so), an upload, and refusals, by widget key."""

import re

import numpy as np
import pytest

from aeviz.analysis import anomaly
from aeviz.data import load_dataset
from aeviz.loaders import download
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig
from tests.conftest import open_page
from tests.helpers import npy_bytes

DATA = ("mnist", {"limit": 400})


@pytest.fixture(scope="module")
def ae2():
    data = load_dataset(DATA[0], **DATA[1])
    run = Run.create("ae", data.shape, *DATA, TrainConfig(epochs=3, batch_size=64, lr=3e-3), hidden=(32,),
                     latent_dim=2)
    train(run, data)
    x_val = data.split("val")[0]
    return {"state": {"state.runs": {run.id: run}, "state.current_run": run.id, "state.data": DATA},
            "run": run, "x_val": x_val, "errors": anomaly.errors(run.model, x_val)}


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_without_a_run_the_page_explains_and_links_to_train():
    at = open_page("pages/anomalies.py")
    assert not at.exception
    assert "needs a trained model" in at.warning[0].value


@pytest.mark.parametrize("quantile", [0.95, 0.8])
def test_count_above_the_threshold_is_the_direct_count(ae2, quantile):
    at = open_page("pages/anomalies.py", ae2["state"])
    at.slider(key="anomalies.quantile").set_value(quantile).run()
    assert not at.exception
    errs = ae2["errors"]
    thr = np.quantile(errs, quantile)
    assert metric(at, "Above the threshold") == f"{int((errs > thr).sum())} of {len(errs)}"
    assert metric(at, "Threshold (MSE)") == f"{thr:.4f}"


def test_the_worst_are_listed_worst_first(ae2):
    at = open_page("pages/anomalies.py", ae2["state"])
    at.slider(key="anomalies.worst").set_value(5).run()
    caption = next(c.value for c in at.caption if c.value.startswith("Worst first"))
    assert [int(i) for i in re.findall(r"#(\d+)", caption)] == list(anomaly.worst(ae2["errors"], 5))


def test_uniform_noise_is_told_apart(ae2):
    at = open_page("pages/anomalies.py", ae2["state"])  # uniform noise is the first choice
    assert not at.exception and not at.error
    x_val = ae2["x_val"]
    noise_errors = anomaly.errors(ae2["run"].model, anomaly.uniform_noise_like(x_val, len(x_val)))
    auc = anomaly.ood_auc(ae2["errors"], noise_errors)
    assert metric(at, "ROC AUC") == f"{auc:.3f}" and auc > 0.9


def test_offline_the_stand_in_is_named_mnist_vs_mnist(ae2, monkeypatch):
    def offline(name, **_):
        raise download.DownloadError(f"{name}: no network (test)")

    monkeypatch.setattr(download, "fetch", offline)
    at = open_page("pages/anomalies.py", ae2["state"])
    at.selectbox(key="anomalies.ood").set_value("kmnist").run()
    assert not at.exception and not at.error
    assert any("MNIST vs MNIST" in w.value for w in at.warning)
    other = load_dataset("mnist", limit=2000).x
    auc = anomaly.ood_auc(ae2["errors"], anomaly.errors(ae2["run"].model, other))
    assert metric(at, "ROC AUC") == f"{auc:.3f}" and 0.3 < auc < 0.7  # the same kind of data: no separation


def test_only_datasets_of_the_runs_shape_are_offered(ae2):
    at = open_page("pages/anomalies.py", ae2["state"])
    options = at.selectbox(key="anomalies.ood").options
    offered = [o.split(":")[0] for o in options]
    assert {"mnist-full", "fashion-mnist", "kmnist"} <= set(offered), "28x28 images fit an MNIST run"
    assert not {"moons", "digits", "swiss-roll", "mnist"} & set(offered), "other shapes, and the run's own data, do not"


def test_uploads_good_bad_and_misshapen(ae2):
    at = open_page("pages/anomalies.py", ae2["state"])
    at.selectbox(key="anomalies.ood").set_value("upload").run()
    assert "Upload samples shaped like this run's" in at.info[-1].value
    at.file_uploader(key="anomalies.upload").set_value(("junk.npy", b"not an array", "application/octet-stream"))
    at.run()
    assert not at.exception and "junk.npy is not a .npy file" in at.error[0].value
    inverted = 1.0 - ae2["x_val"]  # white digits on black: same shape, another distribution
    at.file_uploader(key="anomalies.upload").set_value(("inverted.npy", npy_bytes(inverted), "application/octet-stream"))
    at.run()
    assert not at.exception and not at.error
    auc = anomaly.ood_auc(ae2["errors"], anomaly.errors(ae2["run"].model, inverted))
    assert metric(at, "ROC AUC") == f"{auc:.3f}" and auc > 0.9
    assert metric(at, "Median error, inverted.npy")
    at.file_uploader(key="anomalies.upload").set_value(("small.npy", npy_bytes(np.zeros((5, 8, 8), np.float32)),
                                                        "application/octet-stream"))
    at.run()
    assert not at.exception
    assert "small.npy has samples of shape (1, 8, 8) but this run's model takes (1, 28, 28)" in at.error[0].value


def test_point_data_lists_the_worst_and_compares_with_another_toy():
    data = load_dataset("moons", n=400)
    run = Run.create("ae", data.shape, "moons", {"n": 400}, TrainConfig(epochs=5, batch_size=64, lr=3e-3),
                     hidden=(16,), latent_dim=1)
    train(run, data)
    at = open_page("pages/anomalies.py", {"state.runs": {run.id: run}, "state.current_run": run.id})
    assert not at.exception and not at.error
    assert len(at.dataframe[0].value) == 10  # a table, not images, for points
    assert len(at.dataframe) == 3  # then the screening section's: per class, and the dropped rows (a table too)
    assert len(at.dataframe[2].value) == 20  # floor(5% of all 400 points)
    at.selectbox(key="anomalies.ood").set_value("circles").run()
    assert not at.exception and not at.error
    circles = load_dataset("circles", n=2000).x
    auc = anomaly.ood_auc(anomaly.errors(run.model, data.split("val")[0]), anomaly.errors(run.model, circles))
    assert metric(at, "ROC AUC") == f"{auc:.3f}"
