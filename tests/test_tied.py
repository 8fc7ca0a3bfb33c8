"""Tied weights (W' = W^T) on the MLP variants: half the weights, the decoder stays the encoder's transpose through
training and a save/load, and the variants whose decoder is not a mirror refuse it."""

import pytest
import torch
from torch import nn

from aeviz import catalog, runs
from aeviz.data import load_dataset
from aeviz.errors import InputError
from aeviz.evaluation import reconstruct_all
from aeviz.models import build
from aeviz.models.base import decoder_weights
from aeviz.training import train
from aeviz.training_config import TrainConfig

TIEABLE = ("ae", "linear", "sparse", "denoising", "contractive")


def weight_count(model: nn.Module) -> int:
    return sum(p.numel() for name, p in model.named_parameters() if "weight" in name)


def encoder_weights(model: nn.Module) -> list[torch.Tensor]:
    return [m.weight for m in model.encoder if isinstance(m, nn.Linear)]


@pytest.mark.parametrize("name", TIEABLE)
def test_tying_halves_the_weights_and_keeps_decoder_biases(name):
    untied, tied = build(name, (1, 28, 28)), build(name, (1, 28, 28), tied=True)
    assert weight_count(tied) * 2 == weight_count(untied)
    decoder_biases = sum(b.numel() for b in tied.decoder.biases)
    assert sum(p.numel() for p in tied.parameters()) == weight_count(tied) + decoder_biases + sum(
        m.bias.numel() for m in tied.encoder if isinstance(m, nn.Linear))
    assert tied(torch.rand(3, 1, 28, 28)).x_hat.shape == (3, 1, 28, 28)


@pytest.mark.parametrize("name", ["ae", "linear"])
def test_after_training_and_a_reload_the_decoder_is_the_encoders_transpose(tmp_path, name):
    data = load_dataset("mnist", limit=300)
    run = runs.Run.create(name, data.shape, "mnist", {"limit": 300}, TrainConfig(epochs=2, batch_size=64, lr=3e-3),
                          hidden=(32,), latent_dim=4, tied=True)
    before = [w.detach().clone() for w in encoder_weights(run.model)]
    assert train(run, data).status == "finished"
    enc = encoder_weights(run.model)
    assert not torch.equal(before[0], enc[0]), "training moved the shared weights"
    for dec_w, enc_w in zip(decoder_weights(run.model.decoder), reversed(enc)):
        assert torch.equal(dec_w, enc_w.t())
    runs.save(run, tmp_path / "run")
    loaded = runs.load(tmp_path / "run")
    assert "decoder.biases.0" in loaded.model.state_dict() and not any(
        k.startswith("decoder.") and k.endswith("weight") for k in loaded.model.state_dict())
    for dec_w, enc_w in zip(decoder_weights(loaded.model.decoder), reversed(encoder_weights(loaded.model))):
        assert torch.equal(dec_w, enc_w.t())
    x = data.x[:16]
    assert (reconstruct_all(loaded.model, x) == reconstruct_all(run.model, x)).all()
    assert "tied" in catalog.label(catalog.row_of(tmp_path / "run")).split(" · ")[2]


def test_a_gradient_step_moves_encoder_and_decoder_together():
    model = build("ae", (1, 8, 8), hidden=(6,), latent_dim=2, tied=True)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    model(torch.rand(8, 1, 8, 8)).losses["loss"].backward()
    opt.step()
    assert torch.equal(decoder_weights(model.decoder)[-1], model.encoder[0].weight.t())


@pytest.mark.parametrize("name", ["vae", "conv", "stacked"])
def test_variants_without_a_mirrored_decoder_refuse_tied(name):
    with pytest.raises(InputError, match=r"^The 'tied' parameter of \w+Config must be false: .* ae, linear, sparse"):
        build(name, (1, 28, 28), tied=True)
