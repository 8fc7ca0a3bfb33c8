"""Contractive codes follow the manifold's tangent (issue 11, section 2): the true tangents of the toy manifolds, the
encoder Jacobian against autograd's, the angle measure on hand-made directions, and the known answer on the ring:
a trained (tied) CAE's most sensitive direction is within 20 degrees of the circle's tangent at most points."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aeviz.analysis import tangents
from aeviz.data import load_dataset
from aeviz.loaders import toy
from aeviz.models import build


@pytest.mark.parametrize("name", ["ring", "swiss-roll", "s-curve"])
def test_true_tangents_are_orthonormal_and_follow_the_clean_manifold(name):
    basis = toy.tangents(name, 400, 0.0, seed=3)
    m = 1 if name == "ring" else 2
    assert basis.shape == (400, 2 if name == "ring" else 3, m)
    gram = np.einsum("ndm,ndp->nmp", basis, basis)
    assert np.allclose(gram, np.eye(m), atol=1e-5)
    x = toy.TOYS[name](400, 0.0, 3)[0]
    if name == "ring":  # the tangent is perpendicular to the radius (the clean ring fills [0, 1]^2 around 0.5)
        radial = (x - 0.5) / np.linalg.norm(x - 0.5, axis=1, keepdims=True)
        assert np.abs(np.einsum("nd,nd->n", radial, basis[:, :, 0])).max() < 0.01
    else:  # a short step along the sheet's parameters stays on the sheet: its nearest clean neighbours span it
        near = np.linalg.norm(x[:, None] - x[None], axis=2).argsort(axis=1)[:, 1:9]
        offsets = x[near] - x[:, None]  # (N, 8, 3)
        off_sheet = offsets - np.einsum("nkd,ndm,nem->nke", offsets, basis, basis)
        assert np.median(np.linalg.norm(off_sheet, axis=2) / np.linalg.norm(offsets, axis=2)) < 0.15


def test_ring_data_is_a_labelled_noisy_circle():
    data = load_dataset("ring", n=500, noise=0.0)
    radius = np.linalg.norm(data.x - 0.5, axis=1)
    assert np.allclose(radius, 0.5, atol=0.01) and data.classes[0] == "quarter 1" and set(data.y) == {0, 1, 2, 3}
    noisy = load_dataset("ring", n=500, noise=0.1)
    assert np.linalg.norm(noisy.x - 0.5, axis=1).std() > 0.02


def test_jacobians_match_autograd_and_a_linear_encoder_is_its_weight():
    model = build("ae", (3,), hidden=(5,), latent_dim=2, activation="tanh")
    x = np.random.default_rng(0).random((4, 3), dtype=np.float32)
    jac = tangents.jacobians(model, x)
    for i in range(4):
        oracle = torch.autograd.functional.jacobian(lambda v: model.encode(v[None])[0], torch.from_numpy(x[i]))
        assert np.allclose(jac[i], oracle.numpy(), atol=1e-6)
    linear = build("linear", (3,), latent_dim=2)
    assert np.allclose(tangents.jacobians(linear, x), linear.encoder[0].weight.detach().numpy()[None], atol=1e-6)


def test_lead_angle_of_hand_made_directions():
    tangent = np.array([[[1.0], [0.0]]] * 3)  # the x axis, (3, 2, 1)
    c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    directions = np.array([[[1.0, 0.0]], [[-c, s]], [[0.0, 1.0]]])  # along it, 30 degrees off (sign flipped), across
    assert np.allclose(tangents.lead_angles(directions, tangent), [0.0, 30.0, 90.0], atol=1e-6)
    plane = np.array([[[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]])  # the xy plane in 3-D: a direction in it is at 0
    assert tangents.lead_angles(np.array([[[0.6, 0.8, 0.0]]]), plane)[0] == pytest.approx(0.0, abs=1e-6)


def test_on_the_ring_the_tied_cae_follows_the_tangent():
    from aeviz.ui import tangent_view

    data = load_dataset("ring")
    task = tangent_view._lab_task("ring")  # the page's own four models (`tangents.train_lab`), shared with its AppTest
    assert task.done.wait(120) and task.error is None
    lab = task.result
    idx = np.arange(0, len(data.x), 10)
    tangent = toy.tangents("ring", len(data.x), data.params["noise"], 0)[idx]
    figures = {label: tangents.summary(run.model, data.x[idx], tangent) for label, run in lab.items()}
    for label, f in figures.items():
        print(f"{label}: mean angle {f['mean_angle']:.1f} deg, within 20 deg {f['within']:.0%}, "
              f"spectrum {np.round(f['spectrum'], 2)}")
    cae = figures["CAE (tied)"]
    assert cae["within"] > 0.8 and cae["mean_angle"] < 15  # measured: 92%, 10.4 degrees
    assert cae["mean_angle"] < figures["CAE (untied)"]["mean_angle"] - 5  # measured: 24.3 (the scaling dodge)
    assert cae["mean_angle"] < figures["Plain AE"]["mean_angle"]  # measured: 20.8
    assert cae["spectrum"][1] < 0.5  # across the circle the tied CAE's code barely moves (measured 0.3)
