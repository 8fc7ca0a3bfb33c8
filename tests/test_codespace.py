"""Operations on codes behind the Generate and Anomalies pages, checked against numpy and known answers."""

import numpy as np
import pytest

from aeviz.analysis import codespace
from aeviz.errors import InputError
from aeviz.models import build


def test_random_pair_is_seeded_and_of_different_classes():
    y = np.arange(50) % 5
    pairs = {codespace.random_pair(y, 50, seed) for seed in range(20)}
    assert all(a != b and y[a] != y[b] for a, b in pairs) and len(pairs) > 10
    assert codespace.random_pair(y, 50, 3) == codespace.random_pair(y, 50, 3)
    a, b = codespace.random_pair(None, 2, 0)  # no labels: any two different rows
    assert {a, b} == {0, 1}
    assert codespace.random_pair(np.zeros(4, np.int64), 4, 0)[0] != codespace.random_pair(np.zeros(4), 4, 0)[1]
    with pytest.raises(InputError, match="needs two inputs"):
        codespace.random_pair(None, 1, 0)


def test_top_dims_are_ordered_by_variance():
    z = np.random.default_rng(0).normal(size=(500, 4)) * np.array([1.0, 5.0, 0.1, 2.0])
    assert codespace.top_dims(z, 3) == [1, 3, 0]


def test_fitted_gaussian_matches_numpy_and_recovers_the_source():
    rng = np.random.default_rng(0)
    cov = np.array([[2.0, 0.8], [0.8, 1.0]])
    z = rng.multivariate_normal([1.0, -3.0], cov, size=20_000)
    mean, fitted = codespace.fitted_gaussian(z)
    assert np.allclose(fitted, np.cov(z, rowvar=False), atol=1e-5)
    assert np.allclose(mean, [1.0, -3.0], atol=0.05) and np.allclose(fitted, cov, atol=0.06)
    with pytest.raises(InputError, match="at least two codes"):
        codespace.fitted_gaussian(z[:1])


def test_gaussian_samples_decode_seeded_draws():
    model = build("ae", (1, 6, 6), hidden=(8,), latent_dim=3)
    z = np.random.default_rng(0).normal(size=(100, 3)).astype(np.float32)
    a, b = (codespace.gaussian_samples(model, z, 5, seed) for seed in (0, 0))
    assert a.shape == (5, 1, 6, 6) and np.array_equal(a, b)
    assert not np.array_equal(a, codespace.gaussian_samples(model, z, 5, 1))
    z[:, 2] = 1.0  # a collapsed dimension: the ridge keeps the covariance sampleable
    assert np.isfinite(codespace.gaussian_samples(model, z, 5, 0)).all()


def test_shared_plane_projects_others_with_the_references_pca():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(300, 5)) * np.array([4.0, 2.0, 0.1, 0.1, 0.1])
    xy, again, titles = codespace.shared_plane(z, z)
    assert np.allclose(xy, again) and titles[0].startswith("PC1")
    far = z.mean(0) + np.array([[40.0, 0, 0, 0, 0]])
    _, xy_far, _ = codespace.shared_plane(z, far)
    assert abs(xy_far[0, 0]) == pytest.approx(40.0, rel=0.02) and abs(xy_far[0, 1]) < 1.0
    two = z[:, :2]
    raw, raw_other, titles = codespace.shared_plane(two, two[:3] + 1)
    assert np.array_equal(raw, two) and np.array_equal(raw_other, two[:3] + 1) and titles == ("z1", "z2")
    with pytest.raises(InputError, match="cannot share a plane"):
        codespace.shared_plane(z, z[:, :3])


def test_check_same_shape_names_both_shapes():
    codespace.check_same_shape((1, 28, 28), (1, 28, 28), "x")
    with pytest.raises(InputError, match=r"moons has samples of shape \(2,\) but this run's model takes \(1, 28, 28\)"):
        codespace.check_same_shape((2,), (1, 28, 28), "moons")
