"""The Lessons page's checks: each green on the workshop pack's --quick run that shows its effect, red on a run that
does not (with the numbers that say why), and red with the run it needs on the wrong kind of run."""

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import torch

from aeviz import lesson_checks as lc
from aeviz import pack
from aeviz.analysis import effects
from aeviz.data import load_dataset
from aeviz.runs import Run
from aeviz.runs import load as load_run
from aeviz.training import train
from tests.conftest import lesson_run_slugs

_DATA: dict[str, object] = {}  # run id -> the dataset it was trained on
_LOADED: dict[tuple, object] = {}


def _train(slug: str, *, model: dict | None = None, **train_changes) -> Run:
    """The pack's run `slug` as `aeviz pack --quick` trains it, with optional changes to its model or training."""
    spec = pack.PACK[slug]
    data_params, cfg = spec.settings(quick=True)
    key = (spec.data, tuple(sorted(data_params.items())))
    if key not in _LOADED:
        _LOADED[key] = load_dataset(spec.data, **data_params)
    data = _LOADED[key]
    run = Run.create(spec.model, data.shape, data.source, data.params, dataclasses.replace(cfg, **train_changes),
                     **{**spec.model_params, **(model or {})})
    train(run, data)
    _DATA[run.id] = data
    return run


def data_of(run: Run):
    return _DATA[run.id]


def _load(folder, slug: str) -> Run:
    """The pack's run `slug` as the session's `lesson_pack` fixture trained and saved it (`aeviz pack --quick`)."""
    spec = pack.PACK[slug]
    data_params, _ = spec.settings(quick=True)
    key = (spec.data, tuple(sorted(data_params.items())))
    if key not in _LOADED:
        _LOADED[key] = load_dataset(spec.data, **data_params)
    run = load_run(folder / slug)
    _DATA[run.id] = _LOADED[key]
    return run


@pytest.fixture(scope="module")
def runs(lesson_pack) -> dict[str, Run]:
    """The pack's --quick runs the lessons use (trained once per session), and runs that lack each effect."""
    out = {slug: _load(lesson_pack, slug) for slug in lesson_run_slugs()}
    one_step = {"epochs": 1, "batch_size": 4096}  # 3,200 training digits: one optimisation step
    out["linear-1step"] = _train("linear-32", **one_step)
    out["ae-1step"] = _train("ae-32", **one_step)
    out["vae-1step"] = _train("vae-2d", **one_step)
    out["sparse-kl"] = _train("sparse-64", model={"penalty": "kl", "beta": 10.0}, epochs=5)
    # A denoising AE that sees no noise: the plain AE's layers and training, so no robustness and no insensitivity.
    out["denoising-0"] = _train("denoising-32", model={"noise_level": 0.0})
    return out


def reference_from(runs: dict[str, Run], plain: str = "ae-32"):
    def reference(model_name: str, data_source: str | None = None) -> Run | None:
        return runs[plain] if model_name == "ae" and data_source in (None, "mnist") else None
    return reference


def check(slug: str, runs: dict[str, Run], name: str, plain: str = "ae-32") -> lc.Verdict:
    run = runs[name]
    verdict = lc.CHECKS[slug](run, data_of(run), reference_from(runs, plain))
    assert verdict.summary and "\n" not in verdict.summary and (verdict.ok or verdict.missing), verdict
    return verdict


def test_registry_has_one_check_per_lesson():
    assert list(lc.CHECKS) == ["linear-pca", "beats-pca", "sparse-codes", "denoising-robust", "insensitive-code",
                               "vae-prior", "incompressible"]


def test_linear_ae_learns_pca_subspace_only_when_trained(runs):
    good, early = check("linear-pca", runs, "linear-32"), check("linear-pca", runs, "linear-1step")
    assert good.ok and good.numbers["median_angle"] < 3 and good.numbers["ratio"] < 1.03, good  # measured 1.3°, 1.02
    assert not early.ok and early.numbers["median_angle"] > 30 and early.numbers["ratio"] > 2, early
    assert "train it longer" in early.missing


def test_a_nonlinear_ae_beats_pca_at_its_code_size(runs):
    good, early = check("beats-pca", runs, "ae-2d"), check("beats-pca", runs, "ae-1step")
    assert good.ok and good.numbers["k"] == 2 and good.numbers["ratio"] < 0.9, good  # measured 0.81
    assert not early.ok and early.numbers["ratio"] > 1.5, early


def test_sparse_codes_for_both_penalties_not_for_a_plain_ae(runs):
    l1, kl, plain = (check("sparse-codes", runs, n) for n in ("sparse-64", "sparse-kl", "ae-32"))
    assert l1.ok and l1.numbers["median_quiet"] > 0.7, l1  # measured 0.80
    assert kl.ok and kl.numbers["median_quiet"] > 0.6 and "sigmoid" in kl.summary, kl  # sigmoid code: 0.73
    assert not plain.ok and plain.numbers["median_quiet"] < 0.3 and "Sparse AE" in plain.missing, plain  # 0.19


def test_quiet_fraction_reads_each_input_on_its_own_scale():
    z = np.array([[5.0, 0.4, 0.0, 0.0], [0.05, 0.04, 0.03, 0.9], [-2.0, 2.0, 1.9, -0.1]])
    np.testing.assert_allclose(effects.quiet_fraction(z), [0.75, 0.75, 0.25])
    np.testing.assert_allclose(effects.quiet_fraction(z[1:2], ceiling=1.0), [0.75])


def test_denoising_ae_stays_above_the_plain_ae_as_noise_grows(runs):
    good, blind = check("denoising-robust", runs, "denoising-32"), check("denoising-robust", runs, "denoising-0")
    assert good.ok and good.numbers["min_gain_upper_db"] > 0.5, good  # measured +1.5 dB (full pack: +4.9)
    assert good.numbers["gain_at_0_db"] < 0, good  # the price on clean inputs: why only the upper half must win
    assert not blind.ok and abs(blind.numbers["min_gain_upper_db"]) < 0.5, blind


def test_contractive_and_denoising_codes_move_less_than_a_plain_aes(runs):
    cae, dae, blind = (check("insensitive-code", runs, n) for n in ("contractive-16", "denoising-32", "denoising-0"))
    assert cae.ok and cae.numbers["ratio"] < 0.75, cae  # measured 0.68 (full pack: 0.59)
    assert dae.ok and dae.numbers["ratio"] < 0.7, dae  # 0.59 (full: 0.43)
    assert not blind.ok and 0.9 < blind.numbers["ratio"] < 1.1, blind


def test_relative_sensitivity_ignores_a_code_merely_scaled_down(runs):
    plain = runs["ae-32"]
    shrunk = Run.create("ae", plain.input_shape, plain.data_source, plain.data_params, plain.train_config,
                        **pack.PACK["ae-32"].model_params)
    shrunk.model.load_state_dict(plain.model.state_dict())
    with torch.no_grad():
        last = [m for m in shrunk.model.encoder if isinstance(m, torch.nn.Linear)][-1]
        last.weight.mul_(0.1)
        last.bias.mul_(0.1)
    x = data_of(plain).x[:100]
    a, b = effects.relative_sensitivity(plain.model, x), effects.relative_sensitivity(shrunk.model, x)
    assert b["jacobian"] == pytest.approx(0.1 * a["jacobian"], rel=1e-4)
    assert b["sensitivity"] == pytest.approx(a["sensitivity"], rel=1e-4)


def test_vae_prior_samples_look_like_data_only_when_trained(runs):
    good, early = check("vae-prior", runs, "vae-2d"), check("vae-prior", runs, "vae-1step")
    assert good.ok and good.numbers["distance_ratio"] < 1.1 and good.numbers["variety"] > 0.4, good  # 0.93, 0.47
    assert good.numbers["kl"] > 1 and 0 < good.numbers["mse"] < 0.06, good  # reported for the beta lesson
    assert not early.ok and early.numbers["distance_ratio"] > 2, early


def test_realism_refuses_noise_and_a_repeated_mean_image(runs):
    data = data_of(runs["vae-2d"])
    pool, real = data.x[data.train_idx[:1000]], data.x[data.val_idx[:300]]
    noise = np.random.default_rng(0).random(real.shape, dtype=np.float32)
    assert effects.realism(noise, real, pool)["distance_ratio"] > 2.5  # measured 2.9
    assert effects.realism(np.repeat(pool.mean(0, keepdims=True), 300, 0), real, pool)["variety"] == 0
    other = effects.realism(data.x[data.val_idx[300:600]], real, pool)  # new real images: the unit of both
    assert other["distance_ratio"] == pytest.approx(1, abs=0.1) and other["variety"] == pytest.approx(1, abs=0.1)


def test_noise_is_incompressible_digits_are_not(runs):
    noise, digits = check("incompressible", runs, "noise-32"), check("incompressible", runs, "ae-32")
    assert noise.ok and noise.numbers["drop"] < 0.02 and noise.numbers["ratio"] > 1.0, noise  # 0.1%, 1.04x
    assert noise.numbers["digits_drop"] > 0.5 and "On digits" in noise.summary, noise  # the same AE on digits: 71%
    assert not digits.ok and digits.numbers["drop"] > 0.5, digits
    assert "noise" in digits.missing


@pytest.mark.parametrize("slug, name, needs", [
    ("linear-pca", "ae-32", "a linear AE"),
    ("beats-pca", "linear-32", "a non-linear AE"),
    ("denoising-robust", "ae-32", "a denoising AE"),
    ("insensitive-code", "ae-32", "a contractive or denoising AE"),
    ("vae-prior", "ae-2d", "a VAE"),
    ("incompressible", "ae-1step", "two epochs"),
])
def test_the_wrong_kind_of_run_is_told_which_run_it_needs(runs, slug, name, needs):
    verdict = check(slug, runs, name)
    assert not verdict.ok and needs in verdict.missing and verdict.numbers == {}, verdict


@pytest.mark.parametrize("slug", ["denoising-robust", "insensitive-code"])
def test_a_comparison_without_a_plain_ae_on_the_same_data_asks_for_one(runs, slug):
    run = runs["denoising-32"]
    alone = lc.CHECKS[slug](run, data_of(run), lambda model_name, data_source=None: None)
    elsewhere = check(slug, runs, "denoising-32", plain="noise-32")  # a plain AE, but on other data
    for verdict in (alone, elsewhere):
        assert not verdict.ok and "a plain AE on the same data" in verdict.missing, verdict


def test_checks_change_nothing_in_the_run(runs):
    for name in ("linear-32", "vae-2d", "contractive-16"):
        run = runs[name]
        before = {k: v.clone() for k, v in run.model.state_dict().items()}
        revision, history = run.revision, [dict(h) for h in run.history]
        run.model.train()  # a run mid-training is in train mode: a check must leave it so
        for check_fn in lc.CHECKS.values():
            check_fn(run, data_of(run), reference_from(runs))
        assert run.model.training and run.revision == revision and run.history == history
        assert all(torch.equal(v, run.model.state_dict()[k]) for k, v in before.items())
        run.model.eval()


def test_the_checks_never_import_streamlit():
    code = "import sys, aeviz.lesson_checks; assert 'streamlit' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
