"""The Lessons page's live checks: one per lesson, each computed from the learner's run, green when the effect shows.

`CHECKS[slug](run, data, reference) -> Verdict`. `data` is the run's dataset; `reference(model_name, data_source=None)`
returns a finished run of that model on the same data (or on `data_source`), or None. A check on the wrong kind of run
says which run it needs. Every check reads a probe of the validation split (a few thousand rows at most, one to three
seconds on two cores) in eval mode without gradients: it never changes the run. The thresholds were measured on the
workshop pack's runs (`aeviz.pack`), full and --quick; tests/test_lesson_checks.py holds the --quick ones to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from aeviz import denoising_lab
from aeviz.analysis import effects
from aeviz.analysis.generation import prior_samples
from aeviz.analysis.importance import linear_vs_pca
from aeviz.data import Dataset
from aeviz.evaluation import encode_all, evaluate
from aeviz.models.contractive import ContractiveAE
from aeviz.models.linear import LinearAE
from aeviz.runs import Run

Reference = Callable[..., "Run | None"]  # (model_name, data_source=None) -> a finished run, or None

# Thresholds, with what they measured on the pack's runs (--quick / full, 2026-11) and on runs without the effect.
PROBE = 2000  # validation rows for errors against PCA: MSE steady to ~1% on MNIST
MAX_ANGLE = 10.0  # median principal angle, degrees: linear-32 1.3 / 1.7; after one step 81
MSE_SLACK = 1.05  # linear AE's MSE / PCA's: 1.02 / 1.01; after one step 8.2
QUIET = 0.5  # median share of quiet code units: sparse-64 0.80 / 0.73, KL (beta 10) 0.73; plain ae-32 0.19
JACOBIAN_PROBE = 200
SENSITIVITY_RATIO = 0.8  # vs ae-32: contractive-16 0.68 / 0.59, denoising-32 0.59 / 0.43; a second plain AE (seed 1)
#                          0.99-1.02, a denoising AE trained without noise 1.00, contractive-16's layers unpenalised 0.82
#                          (layers matter too: against the 2-D plain AE contractive-16 reads 0.80 / 0.88)
SAMPLES = 500  # prior draws, compared with as many held-out images, against a pool of training images
POOL = 2000
REALISM = 1.5  # distance ratio: vae-2d 0.93 / 0.86; one training step 2.4, uniform noise 2.9
VARIETY = 0.35  # spread ratio: vae-2d 0.47 / 0.61; one step 0.08, one epoch 0.10, three epochs 0.25
NOISE_DROP = 0.05  # validation MSE's fall after epoch 1: noise-32 0.1% / 0.3%; ae-32 on digits 71% / 79%
NOISE_VS_PCA = 0.95  # MSE / PCA's: noise-32 1.04 / 1.04


@dataclass(frozen=True)
class Verdict:
    ok: bool
    summary: str  # one line with the measured numbers
    missing: str = ""  # when not ok: what is missing and what to do, one line
    numbers: dict[str, float] = field(default_factory=dict)  # the measured values, for tests and charts


def _needs(what: str, do: str) -> Verdict:
    return Verdict(False, f"This check needs {what}.", f"This lesson needs {what}: {do}")


def _probe(data: Dataset, n: int = PROBE) -> np.ndarray:
    return data.x[data.val_idx[:n]]  # val_idx is a random sample already (seeded split): its head is one too


def _vs_pca(run: Run, data: Dataset) -> dict[str, float]:
    """Held-out MSE of the run and of PCA with as many components (fitted on the training split, clipped to [0, 1])."""
    found = evaluate(run.model, data.split("train")[0], _probe(data), with_kmeans=False)
    ratio = found["mse"] / found["pca_mse"] if found["pca_mse"] > 0 else float("inf")  # PCA keeping every value
    return {"mse": found["mse"], "pca_mse": found["pca_mse"], "ratio": ratio,
            "k": float(found["pca_components"])}


def check_linear_pca(run: Run, data: Dataset, reference: Reference) -> Verdict:
    """A linear AE spans PCA's top-k subspace and rebuilds as well as PCA (Baldi & Hornik 1989)."""
    if not isinstance(run.model, LinearAE):
        return _needs("a linear AE", "open 'Linear AE: PCA by gradient descent' or train a linear model.")
    found = linear_vs_pca(run.model, data.split("train")[0], _probe(data))
    # The median, not the largest angle: PCA's last kept and first dropped components carry almost the same
    # variance, so which of them a linear AE spans is a coin toss that gradient descent settles slowly.
    angles = found["angles"]
    nums = {"median_angle": float(np.median(angles)), "max_angle": float(angles.max()),
            "mse": found["ae_mse"], "pca_mse": found["pca_mse"], "ratio": found["ae_mse"] / found["pca_mse"]}
    ok = nums["median_angle"] < MAX_ANGLE and nums["ratio"] <= MSE_SLACK
    summary = (f"Median principal angle to PCA's {len(angles)}-D subspace {nums['median_angle']:.1f}° "
               f"(needs < {MAX_ANGLE:g}°; largest {nums['max_angle']:.1f}°); MSE {nums['mse']:.4f} vs PCA "
               f"{nums['pca_mse']:.4f} ({nums['ratio']:.2f}x, needs <= {MSE_SLACK:g}x).")
    return Verdict(ok, summary, "" if ok else "Not there yet: train it longer (or with a higher learning rate) until "
                   "its subspace and error match PCA's.", nums)


def check_beats_pca(run: Run, data: Dataset, reference: Reference) -> Verdict:
    """A non-linear AE with a code smaller than its input rebuilds held-out data better than PCA at that size."""
    if isinstance(run.model, LinearAE) or run.model.config.latent_dim >= run.model.n_in:
        return _needs("a non-linear AE with a code smaller than its input",
                      "open '2-D AE: the same map without a prior' or train an ae with a small latent_dim.")
    nums = _vs_pca(run, data)
    ok = nums["ratio"] < 1.0
    summary = (f"Held-out MSE {nums['mse']:.4f} vs PCA with {nums['k']:.0f} components {nums['pca_mse']:.4f} "
               f"({nums['ratio']:.2f}x, needs < 1).")
    return Verdict(ok, summary, "" if ok else "Not yet below PCA: train longer, or try a smaller code, where a "
                   "curved code has the most to gain over a flat one.", nums)


def check_sparse_codes(run: Run, data: Dataset, reference: Reference) -> Verdict:
    """For a typical input most code units are quiet (an L1 penalty on ReLU codes, or KL(rho) on sigmoid codes)."""
    ceiling = _code_ceiling(run)
    quiet = effects.quiet_fraction(encode_all(run.model, _probe(data)), ceiling)
    nums = {"median_quiet": float(np.median(quiet)), "mean_quiet": float(quiet.mean())}
    ok = nums["median_quiet"] > QUIET
    summary = (f"For the median input {nums['median_quiet']:.0%} of the {run.model.config.latent_dim} code units are "
               f"quiet, at most {'0.1, a tenth of the sigmoid code' if ceiling else 'a tenth of its strongest unit'} "
               f"(needs > {QUIET:.0%}).")
    return Verdict(ok, summary, "" if ok else "The code is dense: open 'Sparse AE: few active units' or train a "
                   "sparse AE (raise its weight or beta, or lower rho).", nums)


def check_denoising_robust(run: Run, data: Dataset, reference: Reference) -> Verdict:
    """A denoising AE rebuilds clean inputs from noisy ones better than a plain AE, more so as the noise grows."""
    trained = run.model.training_noise()
    if trained is None:
        return _needs("a denoising AE", "open 'Denoising AE: clean digits from noisy ones' or train a denoising model.")
    plain = _same_data_reference(run, reference, "ae")
    if plain is None:
        return _needs("a plain AE on the same data to compare with",
                      "open 'Plain AE: the robustness baseline' or train an ae on this dataset.")
    x = _probe(data, 1000)
    mine = denoising_lab.robustness_curve(run.model, x, trained[0])
    base = denoising_lab.robustness_curve(plain.model, x, trained[0])
    gain = np.array(mine.recon_psnr) - np.array(base.recon_psnr)  # dB, one per level from 0 to the widest
    # From the middle level up: on clean or lightly noisy inputs a plain AE may rebuild a little better (it spent
    # all its training on them); the lesson is that the denoising AE degrades more slowly as the noise grows.
    upper = gain[len(gain) // 2:]
    nums = {"min_gain_upper_db": float(upper.min()), "gain_at_max_db": float(gain[-1]), "gain_at_0_db": float(gain[0])}
    ok = bool((upper > 0).all())
    summary = (f"{trained[0].capitalize()} noise {mine.levels[len(gain) // 2]:.2g} to {mine.levels[-1]:.2g}: PSNR "
               f"{nums['min_gain_upper_db']:+.1f} dB or more over the plain AE's at each level (needs > 0); on clean "
               f"inputs {nums['gain_at_0_db']:+.1f} dB (it never trained on clean inputs).")
    return Verdict(ok, summary, "" if ok else "Not above the plain AE at every level from the middle up: train it "
                   "longer, or with a higher noise_level.", nums)


def check_insensitive_code(run: Run, data: Dataset, reference: Reference) -> Verdict:
    """A contractive or denoising AE's code moves less with its input than a plain AE's, relative to its spread."""
    if not (isinstance(run.model, ContractiveAE) or run.model.training_noise() is not None):
        return _needs("a contractive or denoising AE",
                      "open 'Contractive AE: a code that ignores small changes' or train a contractive model.")
    plain = _same_data_reference(run, reference, "ae")
    if plain is None:
        return _needs("a plain AE on the same data to compare with",
                      "open 'Plain AE: the robustness baseline' or train an ae on this dataset.")
    x = _probe(data, JACOBIAN_PROBE)
    mine, base = effects.relative_sensitivity(run.model, x), effects.relative_sensitivity(plain.model, x)
    # Relative to the code's spread: a model that only scaled its code down would shrink ||dz/dx|| for nothing.
    ratio = mine["sensitivity"] / base["sensitivity"]
    nums = {"sensitivity": mine["sensitivity"], "plain_sensitivity": base["sensitivity"], "ratio": ratio,
            "jacobian": mine["jacobian"], "plain_jacobian": base["jacobian"]}
    ok = ratio < SENSITIVITY_RATIO
    summary = (f"||dz/dx|| per unit of code spread {mine['sensitivity']:.3f} vs the plain AE's "
               f"{base['sensitivity']:.3f} ({ratio:.2f}x, needs < {SENSITIVITY_RATIO:g}x).")
    return Verdict(ok, summary, "" if ok else "Not clearly less sensitive than the plain AE: raise the contractive "
                   "weight (or the denoising noise_level) and train again.", nums)


def check_vae_prior(run: Run, data: Dataset, reference: Reference) -> Verdict:
    """Draws from a VAE's prior decode to images about as close to the data as new real images are."""
    if not run.model.has_prior:
        return _needs("a VAE", "open '2-D VAE: digits on a map' or train a vae.")
    pool = data.x[data.train_idx[:POOL]]
    real = _probe(data, SAMPLES)
    nums = effects.realism(prior_samples(run.model, SAMPLES, seed=0), real, pool)
    kept = _kept_epoch(run)  # what the Train page plots for the weights the run keeps: beta trades one for the other
    nums.update(kl=float(kept.get("val_kl", np.nan)), mse=float(kept.get("val_mse", np.nan)))
    ok = nums["distance_ratio"] <= REALISM and nums["variety"] >= VARIETY
    summary = (f"Prior samples lie {nums['distance_ratio']:.2f}x as far from the data as new real images "
               f"(needs <= {REALISM:g}x) and differ from each other {nums['variety']:.2f}x as much as real images do "
               f"(needs >= {VARIETY:g}x); "
               f"KL {nums['kl']:.1f} nats, reconstruction MSE {nums['mse']:.4f}.")
    return Verdict(ok, summary, "" if ok else "Its prior samples do not look like data yet: train longer, or raise "
                   "beta (smoother latent space, blurrier reconstructions).", nums)


def check_incompressible(run: Run, data: Dataset, reference: Reference) -> Verdict:
    """On pure noise an AE barely lowers its loss and does no better than PCA; on digits the same AE does."""
    if len(run.history) < 2:
        return _needs("a run trained for two epochs or more", "open 'Plain AE on pure noise: nothing to compress'.")
    # From epoch 1 (which already learns the mean image) to the epoch whose weights the run keeps.
    nums = {"drop": 1 - _kept_epoch(run)["val_mse"] / run.history[0]["val_mse"], **_vs_pca(run, data)}
    ok = nums["drop"] < NOISE_DROP and nums["ratio"] >= NOISE_VS_PCA
    summary = (f"Validation MSE fell {nums['drop']:.1%} after epoch 1 (needs < {NOISE_DROP:.0%}: nothing learned); "
               f"MSE {nums['mse']:.4f} vs PCA {nums['pca_mse']:.4f} ({nums['ratio']:.2f}x, needs >= "
               f"{NOISE_VS_PCA:g}x).")
    # The contrast, when the same model was trained on digits: the same measure there, from its history (its error
    # against PCA is no contrast: the --quick pack's plain AE on digits ends at 1.4x PCA's MSE, yet learned plenty).
    digits = reference(run.model_name, "mnist") if run.data_source != "mnist" else None
    if digits is not None and len(digits.history) >= 2:
        nums["digits_drop"] = 1 - _kept_epoch(digits)["val_mse"] / digits.history[0]["val_mse"]
        summary += f" On digits the same model's fell {nums['digits_drop']:.0%}."
    return Verdict(ok, summary, "" if ok else "This run found structure to compress: train the same model on the "
                   "'noise' dataset ('Plain AE on pure noise: nothing to compress').", nums)


def _same_data_reference(run: Run, reference: Reference, model_name: str) -> Run | None:
    other = reference(model_name)
    return other if other is not None and denoising_lab.same_data(run, other) else None


def _code_ceiling(run: Run) -> float | None:
    """1 for a code squashed by a sigmoid (its top; the KL-sparse AE's), None for an unbounded one."""
    encoder = getattr(run.model, "encoder", None)
    last = list(encoder.modules())[-1] if isinstance(encoder, torch.nn.Module) else None
    return 1.0 if isinstance(last, torch.nn.Sigmoid) else None


def _kept_epoch(run: Run) -> dict:
    """The history entry of the epoch whose weights the run keeps (its best), or {} before any epoch."""
    epoch = run.best_epoch or run.epoch
    return run.history[epoch - 1] if 0 < epoch <= len(run.history) else {}


CHECKS: dict[str, Callable[[Run, Dataset, Reference], Verdict]] = {
    "linear-pca": check_linear_pca,
    "beats-pca": check_beats_pca,
    "sparse-codes": check_sparse_codes,
    "denoising-robust": check_denoising_robust,
    "insensitive-code": check_insensitive_code,
    "vae-prior": check_vae_prior,
    "incompressible": check_incompressible,
}
