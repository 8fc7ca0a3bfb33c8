"""Predictive sparse decomposition (issue 11, section 4): ISTA and FISTA against a brute-force solution, the inferred
code against the encoder's guess on the sparse-coding loss, a unit-length dictionary, and the prediction error
falling as the encoder learns, with the three loss parts in the run's history."""

from __future__ import annotations

import pytest
import torch

from aeviz.data import load_dataset
from aeviz.errors import InputError
from aeviz.models import build
from aeviz.models.psd import _shrink
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig


def sparse_coding_loss(model, x, h):
    """||x - g(h)||^2 + lambda |h|_1 per sample, (B,): what sparse coding minimises (no prediction term)."""
    recon = (model.decode(h) - x).square().flatten(1).sum(1)
    return recon + model.config.sparsity_weight * h.abs().sum(1)


def test_soft_thresholding_is_the_l1_prox():
    v = torch.tensor([-2.0, -0.5, 0.0, 0.3, 1.5])
    assert torch.equal(_shrink(v, 0.5), torch.tensor([-1.5, 0.0, 0.0, 0.0, 1.0]))


@pytest.mark.parametrize("inference", ["ista", "fista"])
def test_inferred_codes_beat_the_encoders_guess_and_approach_the_optimum(inference):
    torch.manual_seed(0)
    model = build("psd", (12,), latent_dim=6, sparsity_weight=0.2, prediction_weight=0.0, steps=100,
                  inference=inference)
    x = torch.rand(16, 12)
    guess = model.encode(x)
    h = model.infer(x, guess)
    before, after = sparse_coding_loss(model, x, guess), sparse_coding_loss(model, x, h)
    assert (after < before).all()
    # The lasso is convex: as many steps from zero reach the same minimum.
    optimum = sparse_coding_loss(model, x, model.infer(x, torch.zeros_like(guess)))
    assert torch.allclose(after, optimum, rtol=1e-3)
    assert (h == 0).float().mean() > 0.1  # the L1 term zeroes some units exactly


def test_a_few_steps_already_lower_the_sparse_coding_loss_with_the_prediction_term():
    torch.manual_seed(1)
    model = build("psd", (1, 8, 8), latent_dim=16, steps=3)  # the defaults' lambda and gamma, three FISTA steps
    x = torch.rand(32, 1, 8, 8)
    guess = model.encode(x)
    h = model.infer(x, guess)
    assert sparse_coding_loss(model, x, h).mean() < sparse_coding_loss(model, x, guess).mean()


def test_dictionary_columns_have_unit_length_and_it_refuses_tied_weights():
    model = build("psd", (1, 8, 8), latent_dim=10)
    assert torch.allclose(model.dictionary().norm(dim=0), torch.ones(10), atol=1e-5)
    with pytest.raises(InputError, match="'tied' parameter of PSDConfig must be false"):
        build("psd", (1, 8, 8), tied=True)
    with pytest.raises(InputError, match="'steps' parameter of PSDConfig must be an int in \\[1, 100\\]"):
        build("psd", (1, 8, 8), steps=0)


def test_on_mnist_the_prediction_error_falls_and_the_parts_are_recorded():
    data = load_dataset("mnist", limit=1500)
    run = Run.create("psd", data.shape, "mnist", {"limit": 1500}, TrainConfig(epochs=6, batch_size=64, lr=3e-3),
                     latent_dim=32)
    assert train(run, data).status == "finished"
    first, last = run.history[0], run.history[-1]
    assert {"train_recon", "train_sparsity", "train_prediction", "val_prediction"} <= set(last)
    # The codes grow as the dictionary learns (the sparsity part rises), so the encoder's error is read relative to
    # their size: it falls (measured 0.13 -> 0.06 on 1,500 digits, 6 epochs).
    errors = [h["relative_prediction_error"] for h in run.history]
    assert errors[-1] < 0.75 * errors[0], errors
    assert last["val_recon"] < first["val_recon"]
    assert last["train_loss"] == pytest.approx(last["train_recon"] + last["train_sparsity"] + last["train_prediction"],
                                               rel=1e-4)
    assert last["active_fraction"] < 0.9  # inferred codes are sparse


def test_the_live_loss_chart_draws_the_three_parts():
    """What the Train page's live chart draws from the step events of a PSD run: the total and its three parts."""
    from aeviz.plots import loss_curves
    from aeviz.training import StepEvent, fit

    data = load_dataset("mnist", limit=200)
    run = Run.create("psd", data.shape, "mnist", {"limit": 200}, TrainConfig(epochs=1, batch_size=32, log_every=1),
                     latent_dim=16)
    points = [{"epoch": e.epoch - 1 + e.step / e.steps, **e.losses} for e in fit(run, data) if isinstance(e, StepEvent)]
    names = [trace.name for trace in loss_curves(points, run.history).data]
    assert names == ["train loss", "train recon", "train sparsity", "train prediction", "validation loss"]


def test_the_train_page_shows_a_trained_psd_run_and_a_tied_one():
    from tests.conftest import open_page

    data = load_dataset("mnist", limit=300)
    trained = {}
    for name, params in (("psd", {"latent_dim": 16}), ("ae", {"hidden": (32,), "latent_dim": 4, "tied": True})):
        run = Run.create(name, data.shape, "mnist", {"limit": 300}, TrainConfig(epochs=1, batch_size=64), **params)
        train(run, data)
        trained[name] = run
    for name, run in trained.items():
        at = open_page("pages/train.py", {"state.runs": {r.id: r for r in trained.values()},
                                          "state.current_run": run.id, "state.data": ("mnist", {"limit": 300})})
        assert not at.exception, at.exception
        label = next(s for s in at.selectbox if (s.key or "").startswith(f"train.run.{run.id}.")).options
        assert any(("sparsity weight 0.5, prediction weight 1, steps 10" if name == "psd" else " · tied · ") in o
                   for o in label), label
        assert any(m.label.startswith("validation MSE") for m in at.metric)
