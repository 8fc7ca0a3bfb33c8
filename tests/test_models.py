"""Every registered model against its contract, and each penalty against an independent oracle."""

import math

import numpy as np
import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence

from aeviz.errors import InputError
from aeviz.evaluation import encode_all, reconstruct_all
from aeviz.models import MODELS, build, make_config
from aeviz.models.contractive import encode_with_jacobian_norm
from aeviz.models.sparse import kl_sparsity
from aeviz.models.vae import kl_per_dim

SMALL = {"hidden": (24, 12), "latent_dim": 4}


def small(name, shape=(1, 8, 8), **kw):
    params = {} if name == "conv" else dict(SMALL)
    if name == "conv":
        params = {"channels": (4, 8), "latent_dim": 4}
    if name == "hashing":
        params["latent_dim"] = 8  # its fewest bits
    params.update(kw)
    torch.manual_seed(0)
    return build(name, shape, **params)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_forward_contract(name):
    model = small(name)
    x = torch.rand(5, 1, 8, 8)
    out = model(x)
    assert out.x_hat.shape == x.shape
    assert out.z.shape == (5, model.config.latent_dim)
    assert "loss" in out.losses and "recon" in out.losses
    assert all(v.dim() == 0 and math.isfinite(v.item()) for v in out.losses.values())
    parts = sum(v for k, v in out.losses.items() if k not in {"loss", "kl"})
    if name == "vae":
        parts = out.losses["recon"] + model.config.beta * out.losses["kl"]
    assert out.losses["loss"].item() == pytest.approx(parts.item(), rel=1e-5)
    assert model.decode(model.encode(x)).min().item() >= 0.0 or not model.bounded_output


@pytest.mark.parametrize("name", sorted(MODELS))
def test_encode_is_deterministic_in_eval(name):
    model = small(name).eval()
    x = torch.rand(5, 1, 8, 8)
    assert torch.equal(model.encode(x), model.encode(x))
    assert torch.equal(model.reconstruct(x), model.decode(model.encode(x)))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_training_moves_weights_and_evaluation_does_not(name):
    model = small(name)
    x = np.random.default_rng(0).random((32, 1, 8, 8), dtype=np.float32)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    encode_all(model, x)
    reconstruct_all(model, x)
    with torch.no_grad():
        model.eval()(torch.from_numpy(x))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    model.train()
    model.start_epoch(0, 1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    out = model(torch.from_numpy(x))
    out.losses["loss"].backward()
    opt.step()
    moved = [k for k, v in model.state_dict().items() if not torch.equal(before[k], v)]
    assert moved, f"{name}: no weight moved after a training step"


@pytest.mark.parametrize("loss", ["mse", "bce"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_both_losses_run(name, loss):
    model = small(name, loss=loss)
    out = model(torch.rand(3, 1, 8, 8))
    assert out.losses["recon"].item() > 0


def test_vae_kl_matches_torch_distributions():
    mu, logvar = torch.randn(6, 4), torch.randn(6, 4)
    ours = kl_per_dim(mu, logvar)
    theirs = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(torch.zeros(4), torch.ones(4)))
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)


def test_vae_loss_uses_the_kl_and_reports_per_dim():
    model = small("vae", beta=3.0).eval()
    x = torch.rand(7, 1, 8, 8)
    mu, logvar = model.posterior(x)
    expected = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1).mean()
    out = model(x)
    torch.testing.assert_close(out.losses["kl"], expected)
    assert torch.equal(out.z, mu)  # eval: the mean, no sampling
    per_dim = model.extra_metrics(x)["kl_per_dim"]
    assert len(per_dim) == 4 and sum(per_dim) == pytest.approx(expected.detach().item(), rel=1e-3)
    assert model.sample(5).shape == (5, 1, 8, 8)


def test_vae_samples_in_training():
    model = small("vae").train()
    x = torch.rand(4, 1, 8, 8)
    assert not torch.equal(model(x).z, model(x).z)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "elu"])
@pytest.mark.parametrize("hidden", [(), (9,), (9, 7)])
def test_contractive_penalty_matches_autograd_jacobian(activation, hidden):
    torch.manual_seed(1)
    model = build("contractive", (6,), hidden=hidden, latent_dim=3, activation=activation).double()
    x = torch.randn(5, 6, dtype=torch.double)
    z, frob = encode_with_jacobian_norm(model.encoder, x)
    torch.testing.assert_close(z, model.encode(x))
    for i in range(len(x)):
        jac = torch.autograd.functional.jacobian(lambda v: model.encoder(v[None])[0], x[i])  # (3, 6)
        assert frob[i].detach().item() == pytest.approx(float(jac.square().sum()), rel=1e-9)


def test_contractive_loss_is_weight_times_mean_frobenius():
    model = build("contractive", (1, 8, 8), hidden=(10,), latent_dim=3, weight=0.5)
    x = torch.rand(4, 1, 8, 8)
    _, frob = encode_with_jacobian_norm(model.encoder, x.flatten(1))
    torch.testing.assert_close(model(x).losses["contractive"], 0.5 * frob.mean())


def test_sparse_kl_matches_bernoulli_kl():
    rho_hat = torch.tensor([0.01, 0.05, 0.3, 0.9])
    expected = kl_divergence(Bernoulli(torch.tensor(0.05)), Bernoulli(rho_hat)).sum()
    torch.testing.assert_close(kl_sparsity(0.05, rho_hat), expected)


def test_sparse_l1_penalty_and_codes():
    model = small("sparse", penalty="l1", weight=2.0)
    x = torch.rand(6, 1, 8, 8)
    out = model(x)
    assert float(out.z.detach().min()) >= 0  # ReLU code: exact zeros possible
    torch.testing.assert_close(out.losses["sparsity"], 2.0 * out.z.abs().sum(1).mean())
    kl_model = small("sparse", penalty="kl", rho=0.1)
    z = kl_model(x).z.detach()
    assert 0 < float(z.min()) and float(z.max()) < 1  # sigmoid code for the KL penalty


def test_sparse_reports_how_sparse_its_code_is():
    model = small("sparse", penalty="l1")
    model.eval()
    x = torch.rand(6, 1, 8, 8)
    z = model.encode(x).detach()
    extra = model.extra_metrics(x)
    expected = (z > 0.1 * z.amax(1, keepdim=True)).float().mean()
    assert extra["active_fraction"] == pytest.approx(float(expected))
    assert extra["mean_activation"] == pytest.approx(float(z.mean()))


def test_sparse_kl_decoder_reads_the_code_at_a_dense_scale():
    model = small("sparse", penalty="kl", rho=0.1)
    z = torch.full((2, 4), 0.1)
    torch.testing.assert_close(model.decode(z), super(type(model), model).decode(z / 0.1))
    torch.testing.assert_close(model.encode(torch.zeros(1, 1, 8, 8)).mean(), torch.tensor(0.1), atol=0.05, rtol=0)


def test_linear_ae_does_not_offer_an_activation():
    from aeviz.config import fields_of, offered

    linear = MODELS["linear"].Config
    assert "activation" not in {f.name for f in offered(linear)}
    assert "activation" in {f.name for f in fields_of(linear)}  # saved configs that carry it still load
    assert make_config("linear", activation="tanh").latent_dim == 32
    for name in set(MODELS) - {"linear", "vae", "conv", "stacked", "psd"}:
        assert offered(MODELS[name].Config) == fields_of(MODELS[name].Config), name
    for name in ("vae", "conv", "stacked", "psd"):  # their decoders do not mirror an MLP encoder: no tied weights
        assert {f.name for f in fields_of(MODELS[name].Config)} - {f.name for f in offered(MODELS[name].Config)} == {
            "tied"}


def test_denoising_corrupts_only_in_training():
    model = small("denoising", noise="masking", noise_level=0.9)
    x = torch.rand(8, 1, 8, 8)
    model.eval()
    assert torch.equal(model(x).z, model.encode(x))
    model.train()
    assert not torch.equal(model(x).z, model.encode(x))


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 17, 13), (3, 32, 32), (2, 5, 9), (1, 1, 1)])
def test_conv_any_size_and_channels(shape):
    model = build("conv", shape, channels=(4, 8, 8), latent_dim=3)
    out = model(torch.rand(2, *shape))
    assert out.x_hat.shape == (2, *shape)


def test_conv_refuses_vectors():
    with pytest.raises(InputError, match="needs images"):
        build("conv", (20,))


def test_stacked_trains_one_layer_at_a_time():
    model = small("stacked", pretrain_epochs=2)
    x = torch.rand(4, 1, 8, 8)
    notes = [model.start_epoch(e, 10) for e in range(8)]
    assert notes[:2] == ["pre-training layer 1 of 3"] * 2 and notes[4] == "pre-training layer 3 of 3"
    assert notes[6] == "fine-tuning the whole stack"
    model.start_epoch(2, 10)  # stage 1: only encoder layer 1 and decoder layer 1 learn
    model.train()
    model(x).losses["loss"].backward()
    grads = {n for n, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert grads and all(n.startswith(("enc_layers.1.", "dec_layers.1.")) for n in grads)


def test_linear_model_has_no_nonlinearity():
    model = small("linear")
    x1, x2 = torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8)
    a, b = 0.3, 0.7
    lhs = model.encode(a * x1 + b * x2) - model.encode(torch.zeros(1, 1, 8, 8))
    rhs = a * (model.encode(x1) - model.encode(torch.zeros(1, 1, 8, 8))) + b * (
        model.encode(x2) - model.encode(torch.zeros(1, 1, 8, 8)))
    torch.testing.assert_close(lhs, rhs, rtol=1e-4, atol=1e-5)


# -- one tiny test per invalid parameter -------------------------------------------------------------------------
@pytest.mark.parametrize("name, params, fragment", [
    ("ae", {"latent_dim": 0}, "'latent_dim' parameter of AEConfig must be an int in \\[1, 1024\\]. Got 0"),
    ("ae", {"latent_dim": 2.5}, "'latent_dim'"),
    ("ae", {"latent_dim": True}, "'latent_dim'"),
    ("ae", {"hidden": (0,)}, "'hidden'"),
    ("ae", {"hidden": "512"}, "'hidden'"),
    ("ae", {"activation": "swish"}, "'activation'"),
    ("ae", {"loss": "l2"}, "'loss'"),
    ("ae", {"depth": 3}, "has no parameter 'depth'"),
    ("vae", {"beta": -1.0}, "The 'beta' parameter of VAEConfig must be a float in \\[0, 1000\\]. Got -1.0 instead."),
    ("vae", {"beta": float("nan")}, "'beta'"),
    ("sparse", {"penalty": "l3"}, "'penalty'"),
    ("sparse", {"weight": -0.1}, "'weight'"),
    ("sparse", {"rho": 0.0}, "'rho'"),
    ("sparse", {"rho": 1.0}, "'rho'"),
    ("contractive", {"weight": -1}, "'weight'"),
    ("denoising", {"noise": "fog"}, "'noise'"),
    ("denoising", {"noise_level": -0.5}, "'noise_level'"),
    ("denoising", {"noise": "masking", "noise_level": 1.5}, "masking"),
    ("conv", {"channels": (0, 8)}, "'channels'"),
    ("stacked", {"pretrain_epochs": -1}, "'pretrain_epochs'"),
])
def test_invalid_parameters_are_refused(name, params, fragment):
    with pytest.raises(InputError, match=fragment):
        make_config(name, **params)


def test_unknown_model():
    with pytest.raises(InputError, match=r"Unknown model 'gan'. Choose one of \['ae', 'contractive'"):
        build("gan", (4,))
