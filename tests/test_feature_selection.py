"""Feature selection: on data where 3 of 20 inputs carry the signal the importance ranking finds them and a probe fed
those beats one fed random inputs; the PCA arm has k components; names and the CSV; the Features page's section
with its background comparison."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from aeviz.analysis import feature_selection as fsel
from aeviz.data import Dataset, load_dataset
from aeviz.errors import InputError
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig
from tests.conftest import open_page
from tests.helpers import trained_mnist_run

INFORMATIVE = [4, 11, 17]


def signal_data(n: int = 600, d: int = 20, seed: int = 0) -> Dataset:
    """Inputs 4, 11 and 17 are three independent uniform signals; the other 17 are 0.5 plus small noise (std 0.05).
    Labels: which half each of the first two signals is in (4 classes)."""
    rng = np.random.default_rng(seed)
    s = rng.random((n, 3))
    x = np.clip(0.5 + rng.normal(0, 0.05, (n, d)), 0, 1)
    x[:, INFORMATIVE] = s
    y = (s[:, 0] > 0.5).astype(np.int64) + 2 * (s[:, 1] > 0.5)
    perm = rng.permutation(n)
    return Dataset("signal", x.astype(np.float32), y, (d,), ("0", "1", "2", "3"), np.sort(perm[n // 5:]),
                   np.sort(perm[:n // 5]), "signal", {})


@pytest.fixture(scope="module")
def signal():
    data = signal_data()
    run = Run.create("ae", data.shape, "signal", {}, TrainConfig(epochs=20, batch_size=32, lr=3e-3), hidden=(32,),
                     latent_dim=3)
    train(run, data)
    return run, data


@pytest.mark.parametrize("target", ["recon", "code"])
def test_the_top_three_are_the_informative_inputs(signal, target):
    run, data = signal
    importance = fsel.importance_of(run.model, data.split("train")[0], target)
    assert importance.shape == (20,)
    top = fsel.rank(importance)
    assert sorted(top[:3].tolist()) == INFORMATIVE
    assert importance[top[2]] > 3 * importance[top[3]]  # by a wide margin, not by luck


def test_retraining_on_them_beats_random_inputs_and_pca_has_k_components(signal):
    run, data = signal
    train_x, _ = data.split("train")
    val_x, val_y = data.split("val")
    top = fsel.rank(fsel.importance_of(run.model, train_x))
    assert not set(fsel.random_features(20, 3).tolist()) >= set(INFORMATIVE)  # the seeded draw misses some
    scores = fsel.compare(train_x, val_x, val_y, top, 3, code=3, epochs=20)
    assert list(scores) == ["top", "random", "pca"]
    assert scores["top"].mse < 0.5 * scores["random"].mse  # measured: 0.0024 against 0.0098
    assert scores["top"].mse < 0.004  # about the 17 noise inputs' variance (0.0025 x 17/20): the signals rebuilt
    assert scores["top"].acc > scores["random"].acc
    pca_train, pca_val = fsel.arm_inputs("pca", train_x, val_x, top, 3)
    assert pca_train.shape == (len(train_x), 3) and pca_val.shape == (len(val_x), 3)
    assert fsel.compare(train_x, val_x, None, top, 2, code=2, epochs=1)["pca"].acc is None  # no labels: no accuracy


def test_random_features_are_seeded_and_k_is_checked():
    np.testing.assert_array_equal(fsel.random_features(784, 50), fsel.random_features(784, 50))
    assert len(set(fsel.random_features(784, 50).tolist())) == 50
    for k in (0, 21):
        with pytest.raises(InputError, match="between 1 and 20"):
            fsel.check_k(k, 20, 480)
    with pytest.raises(InputError, match="importance target"):
        fsel.importance_of(None, np.zeros((2, 3), np.float32), "pixels")


def test_names_and_the_csv():
    assert fsel.feature_names((1, 28, 28))[30] == "pixel (1, 2)"
    assert fsel.feature_names((3, 2, 2))[5] == "pixel (0, 1), channel 1"
    assert fsel.feature_names((3,), ["a", "label", "b", "c"]) == ["a", "b", "c"]  # a named label column dropped
    assert fsel.feature_names((2,), ["a", "b", "kind"]) == ["a", "b"]  # else the last (a text label) column
    assert fsel.feature_names((2,), None) == ["x0", "x1"]
    rows = list(csv.reader(io.StringIO(fsel.ranking_csv(np.array([0.1, 0.5, 0.5, 0.2]), ["a", "b", "c", "d"], 3))))
    assert rows == [["rank", "feature", "name", "importance"], ["1", "1", "b", "0.5"], ["2", "2", "c", "0.5"],
                    ["3", "3", "d", "0.2"]]  # ties by index


def test_a_csv_s_column_titles_name_its_features(tmp_path):
    from aeviz.loaders import csvfile

    path = tmp_path / "t.csv"
    path.write_text("height,weight,label\n1,2,a\n3,4,b\n")
    assert fsel.feature_names(load_dataset(str(path)).shape, csvfile.header(path)) == ["height", "weight"]
    assert csvfile.header(tmp_path / "missing.csv") is None


# -- the Features page ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mnist_run():
    return trained_mnist_run()[0]


def test_the_section_ranks_offers_the_csv_and_compares_after_the_task(mnist_run):
    from aeviz.ui import selection_view

    run = mnist_run
    at = open_page("pages/features.py", {"state.runs": {run.id: run}, "state.current_run": run.id})
    assert not at.exception
    at.slider(key="features.select.k").set_value(20).run()
    assert not at.exception and at.button(key="features.select.go").label == "Retrain on these 20 and compare"
    assert [d.proto.label for d in at.get("download_button")] == ["Download the 20 chosen features (CSV)"]
    at.button(key="features.select.go").click().run()
    task = selection_view.tasks()[(run.id, run.revision, 20, "recon")]
    assert task.done.wait(60) and not task.error
    at.run()
    frame = next(f.value for f in at.dataframe if "validation MSE" in f.value.columns)
    assert list(frame.index) == ["top 20 by importance", "20 random features", "20 PCA components"]
    scores = task.result
    np.testing.assert_allclose(frame["validation MSE"], [scores[a].mse for a in ("top", "random", "pca")])
    np.testing.assert_allclose(frame["K-Means accuracy"], [scores[a].acc for a in ("top", "random", "pca")])
    assert 0.0 < scores["pca"].mse < scores["random"].mse  # PCA's 20 components beat 20 random pixels
    at.run()  # a rerun shows the kept result: no second task
    assert selection_view.tasks()[(run.id, run.revision, 20, "recon")] is task
