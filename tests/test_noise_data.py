"""The `noise` dataset: seeded uniform images with nothing to compress, and its parameters."""

import numpy as np
import pytest

from aeviz.data import DATASETS, load_dataset
from aeviz.errors import InputError


def test_defaults_shape_range_and_no_labels():
    ds = load_dataset("noise")
    assert ds.x.shape == (10_000, 1, 28, 28) and ds.shape == DATASETS["noise"].shape == (1, 28, 28)
    assert ds.x.dtype == np.float32 and ds.x.flags.c_contiguous
    assert 0.0 <= ds.x.min() < 0.01 and 0.99 < ds.x.max() <= 1.0
    assert abs(float(ds.x.mean()) - 0.5) < 0.01 and abs(float(ds.x.var()) - 1 / 12) < 0.002  # uniform on [0, 1]
    assert ds.y is None and ds.classes is None and ds.n_classes == 0
    assert ds.params == {"n": 10_000, "seed": 0, "val_fraction": 0.2}
    assert (len(ds.train_idx), len(ds.val_idx)) == (8000, 2000)


def test_same_seed_same_images_other_seed_other_images():
    a, b = load_dataset("noise", n=100, seed=4), load_dataset("noise", n=100, seed=4)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.val_idx, b.val_idx)
    assert not np.array_equal(a.x, load_dataset("noise", n=100, seed=5).x)
    assert np.array_equal(load_dataset(a.source, **a.params).x, a.x)  # its params load it again


def test_pixels_are_independent():
    flat = load_dataset("noise", n=2000).x.reshape(2000, -1)
    corr = np.corrcoef(flat[:, :50], rowvar=False)
    assert np.abs(corr[~np.eye(50, dtype=bool)]).max() < 0.1  # digits' neighbouring pixels correlate at ~0.9


@pytest.mark.parametrize("params, message", [
    ({"n": 5}, "The 'n' parameter of noise must be an int in [10, 70000]. Got 5 instead."),
    ({"n": 2.5}, "The 'n' parameter of noise must be an int in [10, 70000]. Got 2.5 instead."),
    ({"n": 100_000}, "The 'n' parameter of noise must be an int in [10, 70000]. Got 100000 instead."),
    ({"noise": 0.1}, "Unknown parameter 'noise' for noise. Choose one of ['n']."),
])
def test_bad_params_are_refused(params, message):
    with pytest.raises(InputError) as exc:
        load_dataset("noise", **params)
    assert str(exc.value) == message
