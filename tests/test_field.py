"""The denoising autoencoder's vector field (issue 11, section 1), with known answers on a ring: off the circle, a
DAE's reconstruction minus its input points back to it (inwards from outside, outwards from inside) and goes all
the way there, and iterating the reconstruction walks points onto it. A plain autoencoder of the same shape points
back too on this ring (measured: its decoder only learned to draw the circle) but goes only part of the way."""

from __future__ import annotations

import numpy as np
import pytest

from aeviz.analysis import field
from aeviz.data import Dataset
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig

CENTRE, RADIUS = 0.5, 0.3


def ring(n: int = 2000, seed: int = 0) -> Dataset:
    """Points on a circle of radius 0.3 around (0.5, 0.5), a little noise across it."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi, n)
    r = RADIUS + rng.normal(0, 0.01, n)
    x = np.stack([CENTRE + r * np.cos(angle), CENTRE + r * np.sin(angle)], axis=1).astype(np.float32)
    perm = rng.permutation(n)
    return Dataset(name="ring", x=x, y=None, shape=(2,), classes=None, train_idx=np.sort(perm[n // 5:]),
                   val_idx=np.sort(perm[:n // 5]), source="ring", params={})


def trained(name: str, data: Dataset, **config) -> Run:
    run = Run.create(name, data.shape, data.source, data.params, TrainConfig(epochs=40, batch_size=64, lr=3e-3),
                     hidden=(64, 64), latent_dim=2, **config)
    train(run, data)
    return run


@pytest.fixture(scope="module")
def runs():
    data = ring()
    return data, trained("denoising", data, noise="gaussian", noise_level=0.1), trained("ae", data)


def radial_agreement(points: np.ndarray, vectors: np.ndarray) -> float:
    """Of the grid points off the circle (more than 0.05 from it), the fraction whose vector points towards it."""
    out = points - CENTRE
    dist = np.linalg.norm(out, axis=1)
    off = np.abs(dist - RADIUS) > 0.05
    towards = np.sign(np.sum(vectors * out, axis=1)) == -np.sign(dist - RADIUS)
    return float(towards[off].mean())


def test_the_dae_field_points_back_to_the_circle_all_the_way_and_the_plain_aes_part_of_it(runs):
    data, dae, ae = runs
    points = field.grid(data.x)
    dae_field, ae_field = field.field(dae.model, points), field.field(ae.model, points)
    dae_share, ae_share = radial_agreement(points, dae_field), radial_agreement(points, ae_field)
    dae_reach, ae_reach = field.reach(points, dae_field, data.x), field.reach(points, ae_field, data.x)
    print(f"\nfield towards the circle: DAE {dae_share:.1%}, plain AE {ae_share:.1%} of {len(points)} grid points; "
          f"reach DAE {dae_reach:.2f}, plain AE {ae_reach:.2f}")
    assert dae_share > 0.9, dae_share  # the criterion
    assert 0.8 < dae_reach < 1.3 and ae_reach < dae_reach - 0.3, (dae_reach, ae_reach)
    # The general measure (direction to the nearest data point) agrees with the radial one on a circle.
    assert abs(field.towards_data(points, field.field(dae.model, points), data.x) - dae_share) < 0.1


def test_iterating_the_dae_walks_random_points_onto_the_circle(runs):
    data, dae, _ = runs
    start = np.random.default_rng(1).uniform(0.05, 0.95, (200, 2)).astype(np.float32)
    path = field.flow(dae.model, start, 30)
    before = field.distance_to_data(path[0], data.x).mean()
    after = field.distance_to_data(path[-1], data.x).mean()
    assert path.shape == (31, 200, 2) and np.array_equal(path[0], start)
    assert after < before / 3 and after < 0.03, (before, after)


def test_the_grid_covers_the_data_within_the_inputs_range_and_bad_shapes_are_refused():
    x = np.array([[0.2, 0.4], [0.8, 0.6]], np.float32)
    points = field.grid(x, n=5)
    assert points.shape == (25, 2)
    assert points.min() >= 0 and points.max() <= 1  # inputs live in [0, 1]: the field is drawn where it was trained
    assert points[:, 0].min() < 0.2 and points[:, 0].max() > 0.8
    with pytest.raises(ValueError, match=r"expected an array \(N, 2\). Got \(2, 3\)"):
        field.grid(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="'steps' parameter of flow"):
        field.flow(None, x, -1)


def test_the_field_leaves_the_model_in_the_mode_it_found_it(runs):
    _, dae, _ = runs
    dae.model.train()
    a = field.field(dae.model, np.full((4, 2), 0.5, np.float32))
    assert dae.model.training
    b = field.field(dae.model, np.full((4, 2), 0.5, np.float32))
    assert np.array_equal(a, b)  # deterministic: no training noise while the field is read
