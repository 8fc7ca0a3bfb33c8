"""N2D and the spaces the Clusters page clusters in, with known answers: separated blobs are found exactly, bad
input is refused in one line before any slow work, and the baselines go through the same UMAP as the codes."""

import numpy as np
import pytest

from aeviz.analysis import clustering, n2d
from aeviz.errors import InputError


def blobs(n=400, k=4, d=20, seed=0):
    """k well-separated Gaussian blobs in d dimensions, with their labels."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    return (rng.normal(size=(k, d)) * 6)[y] + rng.normal(size=(n, d)), y


@pytest.mark.slow
def test_n2d_finds_separated_blobs():
    x, y = blobs()
    result = n2d.run(x, y, 4)
    assert result.scores["acc"] == 1.0 and result.scores["nmi"] == pytest.approx(1.0)
    assert result.centres.shape == (4, 10), "a Gaussian mixture in the 10-D UMAP space"


@pytest.mark.parametrize("k", [1, 0, 401])
def test_bad_k_is_refused_in_one_line_before_the_embedding(monkeypatch, k):
    monkeypatch.setattr(n2d, "umap_2d", lambda *a, **kw: pytest.fail("UMAP ran for an impossible k"))
    x, y = blobs()
    with pytest.raises(InputError, match="number of clusters must be between 2 and the number of points") as err:
        n2d.run(x, y, k)
    assert "\n" not in str(err.value) and f"Got {k} instead" in str(err.value)


def test_spaces_and_their_input_checks(monkeypatch):
    x, _ = blobs(n=30, d=3)
    assert np.array_equal(n2d.features(x, "latent"), x.astype(np.float32))  # the values themselves
    with pytest.raises(InputError, match="Unknown clustering space 'tsne'"):
        n2d.features(x, "tsne")
    with pytest.raises(InputError, match="'n_neighbors' parameter of UMAPParams must be below 20 for 21 points"):
        n2d.features(x[:21], "n2d")  # N2D keeps 20 neighbours: it needs more points than that
    asked = {}
    monkeypatch.setattr(n2d, "umap_2d", lambda z, params, seed, report, n_components: asked.update(
        dims=n_components, neighbours=params.n_neighbors, min_dist=params.min_dist) or z[:, :n_components])
    n2d.features(x, "n2d")
    assert asked == {"dims": 3, "neighbours": 20, "min_dist": 0.0}, "never more axes than the code has"
    n2d.features(np.hstack([x] * 5), "n2d")
    assert asked["dims"] == 10
    n2d.features(np.hstack([x] * 5), "umap")
    assert asked == {"dims": 2, "neighbours": 15, "min_dist": 0.1}, "the Latent space page's UMAP"


def test_baselines_go_through_the_same_space_with_progress(monkeypatch):
    calls, seen = [], []
    monkeypatch.setattr(n2d, "umap_2d", lambda z, params, seed, report, n_components: (
        calls.append((z.shape, n_components)), report("layout", 0.5), z[:, :n_components])[-1])
    pixels = np.random.default_rng(0).random((50, 1, 6, 6))
    out = n2d.baseline_features(pixels, "n2d", 4, report=lambda stage, fraction=None: seen.append((stage, fraction)))
    assert calls == [((50, 36), 10), ((50, 4), 4)], "raw pixels, then their 4 PCA codes, each through N2D's UMAP"
    assert {name: f.shape for name, f in out.items()} == {"pixels": (50, 10), "pca": (50, 4)}
    assert seen == [("pixels: layout", 0.25), ("pca: layout", 0.75)]
    inputs = clustering.baseline_inputs(pixels, 4)
    assert np.allclose(out["pca"], inputs["pca"]), "the same PCA codes as the latent-space baseline"


def test_the_codes_decoded_per_cluster():
    z = np.array([[0.0, 0], [2, 0], [10, 10], [12, 10]])
    result = clustering.Clustering(np.array([1, 1, 0, 0]), np.array([[-1.0, -1], [5, 5]]), {})
    assert np.array_equal(n2d.centre_codes(result, z, "latent", [1, 0]), [[5, 5], [-1, -1]])  # the centres
    assert np.array_equal(n2d.centre_codes(result, z, "n2d", [1, 0]), [[1, 0], [11, 10]])  # members' mean codes
