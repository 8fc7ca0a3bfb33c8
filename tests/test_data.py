"""The registry, the Dataset contract, the split, params and the bundled MNIST sample. No network."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time

import numpy as np
import pytest

from aeviz import data
from aeviz.data import DATASETS, Dataset, load_dataset
from aeviz.errors import InputError
from aeviz.loaders import download, idx

DIGITS = tuple(str(i) for i in range(10))
SEGMENTS = tuple(f"segment {i}" for i in range(1, 7))
# name -> (rows, shape, classes) with default params
EXPECTED = {
    "mnist": (10_000, (1, 28, 28), DIGITS),
    "digits": (1797, (1, 8, 8), DIGITS),
    "moons": (2000, (2,), ("upper moon", "lower moon")),
    "circles": (2000, (2,), ("outer circle", "inner circle")),
    "spiral": (2000, (2,), ("arm 1", "arm 2", "arm 3")),
    "ring": (2000, (2,), ("quarter 1", "quarter 2", "quarter 3", "quarter 4")),
    "swiss-roll": (2000, (3,), SEGMENTS),
    "s-curve": (2000, (3,), SEGMENTS),
}
DOWNLOADED = {
    "mnist-full": DIGITS,
    "fashion-mnist": (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"
    ),
    "kmnist": ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
}
UNLABELLED = {"noise"}  # tests/test_noise_data.py
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(autouse=True)
def no_network(tmp_path, monkeypatch):
    """Downloads would hit a closed local port; the cache lives in tmp_path."""
    monkeypatch.setenv("AEVIZ_CACHE", str(tmp_path / "cache"))
    for name in DOWNLOADED:
        monkeypatch.setitem(download.MIRRORS, name, ("http://127.0.0.1:9/",))
    yield
    data.clear_cache()


def check_contract(ds: Dataset) -> None:
    assert ds.x.dtype == np.float32 and ds.x.flags.c_contiguous
    assert ds.x.shape[1:] == ds.shape and 0.0 <= ds.x.min() and ds.x.max() <= 1.0
    assert ds.is_image == (len(ds.shape) == 3)
    if ds.y is not None:
        assert ds.y.dtype == np.int64 and ds.y.shape == (len(ds.x),)
        assert 0 <= ds.y.min() and ds.y.max() < ds.n_classes
    assert ds.train_idx.dtype == np.int64 and ds.val_idx.dtype == np.int64
    json.dumps(ds.params)
    assert all("\n" not in note for note in ds.notes)


def test_registry_lists_every_dataset_with_its_params():
    assert data.dataset_names() == list(DATASETS) and data.dataset_names()[0] == "mnist"
    assert set(DATASETS) == set(EXPECTED) | set(DOWNLOADED) | UNLABELLED
    for name, spec in DATASETS.items():
        assert spec.kind in ("bundled", "download", "toy", "builtin", "synthetic")
        assert spec.description and "\n" not in spec.description
        for p in spec.params:
            assert p.min <= p.default <= p.max and p.help, (name, p)
    assert {p.name for p in DATASETS["moons"].params} == {"n", "noise"}
    assert DATASETS["moons"].defaults() == {"n": 2000, "noise": 0.05}


@pytest.mark.parametrize("name", EXPECTED)
def test_registry_dataset_loads_as_documented(name):
    rows, shape, classes = EXPECTED[name]
    ds = load_dataset(name)
    check_contract(ds)
    assert (len(ds.x), ds.shape, ds.classes, ds.name, ds.source, ds.notes) == (rows, shape, classes, name, name, ())
    assert ds.n_classes == len(classes) and set(np.unique(ds.y)) == set(range(len(classes)))
    if not ds.is_image:  # toy data are min-max scaled per feature, so each feature spans [0, 1]
        np.testing.assert_allclose(ds.x.min(axis=0), 0, atol=1e-6)
        np.testing.assert_allclose(ds.x.max(axis=0), 1, atol=1e-6)


@pytest.mark.parametrize("name", DOWNLOADED)
def test_downloaded_datasets_load_from_the_cache_with_their_class_names(name, tmp_path, monkeypatch):
    folder = tmp_path / "cache" / name
    folder.mkdir(parents=True)
    sums = {}
    for prefix, n in (("train", 3), ("t10k", 2)):
        arrays = (("images-idx3", np.full((n, 28, 28), 255, np.uint8)), ("labels-idx1", np.arange(n, dtype=np.uint8)))
        for kind, arr in arrays:
            path = folder / f"{prefix}-{kind}-ubyte.gz"
            idx.write_idx_gz(path, arr)
            sums[path.name] = idx.sha256_of(path)
    monkeypatch.setitem(download.SHA256, name, sums)
    ds = load_dataset(name)
    check_contract(ds)
    assert (ds.x.shape, ds.classes, ds.notes, ds.y.tolist()) == ((5, 1, 28, 28), DOWNLOADED[name], (), [0, 1, 2, 0, 1])
    assert ds.x.max() == 1.0


def test_bundled_mnist_matches_its_checksums_and_the_real_class_counts():
    sums = dict(line.split()[::-1] for line in (data.ASSETS / "SHA256SUMS").read_text().splitlines())
    assert len(sums) == 2
    for filename, sha in sums.items():
        assert hashlib.sha256((data.ASSETS / filename).read_bytes()).hexdigest() == sha
    ds = load_dataset("mnist")
    assert np.bincount(ds.y).tolist() == MNIST_TEST_COUNTS
    assert ds.y[:5].tolist() == [7, 2, 1, 0, 4]  # the first labels of the MNIST test set


def test_bundled_mnist_loads_fast():
    data.clear_cache()
    start = time.perf_counter()
    load_dataset("mnist")
    cold = time.perf_counter() - start
    start = time.perf_counter()
    load_dataset("mnist")
    warm = time.perf_counter() - start
    assert cold < 2.0 and warm < 0.5, (cold, warm)


@pytest.mark.parametrize("name", ["mnist", "moons"])
def test_split_is_deterministic_disjoint_and_complete(name):
    a, b = load_dataset(name, seed=3), load_dataset(name, seed=3)
    np.testing.assert_array_equal(a.train_idx, b.train_idx)
    np.testing.assert_array_equal(a.val_idx, b.val_idx)
    n = len(a.x)
    assert len(a.val_idx) == round(data.VAL_FRACTION * n)
    assert np.intersect1d(a.train_idx, a.val_idx).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([a.train_idx, a.val_idx])), np.arange(n))
    assert not np.array_equal(a.val_idx, load_dataset(name, seed=4).val_idx)
    assert len(load_dataset(name, val_fraction=0.25).val_idx) == round(0.25 * n)


@pytest.mark.parametrize("n, n_train, n_val", [(1, 1, 0), (2, 1, 1), (3, 2, 1), (10, 9, 1), (100, 90, 10)])
def test_split_keeps_a_row_in_each_part(n, n_train, n_val):
    train, val = data.split_indices(n, 0.1, 0)
    assert (len(train), len(val)) == (n_train, n_val)


def test_dataset_split_returns_the_rows():
    ds = load_dataset("moons", n=100)
    x, y = ds.split("train")
    np.testing.assert_array_equal(x, ds.x[ds.train_idx])
    np.testing.assert_array_equal(y, ds.y[ds.train_idx])
    assert ds.split("val")[0].shape == (20, 2) and ds.split("all")[0] is ds.x
    with pytest.raises(InputError, match="Unknown split 'test'"):
        ds.split("test")


def test_limit_takes_a_seeded_subset_of_mnist():
    full = load_dataset("mnist")
    a, b = load_dataset("mnist", limit=100), load_dataset("mnist", limit=100)
    c = load_dataset("mnist", limit=100, seed=1)
    assert a.x.shape == (100, 1, 28, 28) and a.params["limit"] == 100 and len(a.val_idx) == 20
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)
    rows = {r.tobytes() for r in full.x}
    assert all(r.tobytes() in rows for r in a.x)
    assert len(load_dataset("mnist", limit=0).x) == 10_000
    with pytest.raises(InputError, match=r"The 'limit' parameter of mnist must be an int in \[0, 10000\]. Got 10001"):
        load_dataset("mnist", limit=10_001)


def test_params_reload_the_same_dataset():
    ds = load_dataset("spiral", n=300, noise=0.2, seed=5, val_fraction=0.2)
    assert ds.params == {"n": 300, "noise": 0.2, "seed": 5, "val_fraction": 0.2}
    again = load_dataset(ds.source, **json.loads(json.dumps(ds.params)))
    np.testing.assert_array_equal(again.x, ds.x)
    np.testing.assert_array_equal(again.val_idx, ds.val_idx)
    assert not np.array_equal(load_dataset("spiral", n=300, noise=0.2, seed=6).x, ds.x)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n": 0}, "The 'n' parameter of moons must be an int in [10, 1000000]. Got 0 instead."),
        ({"n": 1_000_001}, "The 'n' parameter of moons must be an int in [10, 1000000]. Got 1000001 instead."),
        ({"n": 2.5}, "The 'n' parameter of moons must be an int in [10, 1000000]. Got 2.5 instead."),
        ({"n": True}, "The 'n' parameter of moons must be an int in [10, 1000000]. Got True instead."),
        ({"noise": -1}, "The 'noise' parameter of moons must be a float in [0, 1]. Got -1 instead."),
        ({"noise": float("nan")}, "The 'noise' parameter of moons must be a float in [0, 1]. Got nan instead."),
        ({"noise": "lots"}, "The 'noise' parameter of moons must be a float in [0, 1]. Got 'lots' instead."),
        ({"colour": 1}, "Unknown parameter 'colour' for moons. Choose one of ['n', 'noise']."),
        ({"val_fraction": 0},
         "The 'val_fraction' parameter of load_dataset must be a float in (0, 0.9]. Got 0 instead."),
        ({"seed": -1}, "The 'seed' parameter of load_dataset must be an int in [0, 4294967295]. Got -1 instead."),
    ],
)
def test_bad_params_are_refused_with_one_message_shape(params, message):
    with pytest.raises(InputError) as err:
        load_dataset("moons", **params)
    assert str(err.value) == message


def test_params_given_as_text_are_converted():
    assert load_dataset("moons", n="50", noise="0.1").params["n"] == 50  # the CLI passes strings


def test_unknown_dataset_lists_the_choices():
    with pytest.raises(InputError) as err:
        load_dataset("cifar")
    msg = str(err.value)
    assert msg.startswith("Unknown dataset 'cifar'. Choose one of ['mnist', ") and "'s-curve'" in msg
    assert msg.endswith("or give a path to a .npy/.npz/.csv/.zip file or an image folder.") and "\n" not in msg


def test_a_missing_path_says_so(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        load_dataset(str(tmp_path / "nope.npy"))


def test_names_are_case_insensitive():
    assert load_dataset("MNIST", limit=10).name == "mnist"


def test_dataset_takes_no_unknown_params():
    with pytest.raises(InputError, match=r"Unknown parameter 'n' for digits. Choose one of \[\]"):
        load_dataset("digits", n=5)


def test_the_core_never_imports_streamlit():
    code = "import sys, aeviz.data, aeviz.loaders.files, aeviz.loaders.decode; assert 'streamlit' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("name", [n for n in DATASETS if DATASETS[n].kind != "download"])
def test_each_registry_entry_states_the_shape_it_loads(name):
    params = {"limit": 50} if name == "mnist" else {"n": 50} if DATASETS[name].kind in ("toy", "synthetic") else {}
    assert tuple(load_dataset(name, **params).shape) == DATASETS[name].shape
