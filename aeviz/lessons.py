"""The Lessons: seven short walks through one idea each, with a live check computed from the learner's run.

`LESSONS` is the registry, in teaching order. Each lesson: the idea in three plain sentences and a formula; the pack
run that shows it (`aeviz pack`) and, when the server has no pack, the Train page's settings to make one; two or
three views worth looking at (a page and its widget values, opened as a link); a question for the room with its
answer; and the check (`aeviz.lesson_checks.CHECKS`) that turns green on a run showing the effect. Nothing here
imports Streamlit: the page (`pages/lessons.py`) draws it, and the tests walk every link and every check.

Progress is kept per browser (`load_progress`/`mark_done`): a small JSON file per visitor id in the runs folder's
`.lessons/`, holding only lesson slugs and run ids, validated on read.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aeviz.data_ref import encode_data
from aeviz.lesson_checks import CHECKS
from aeviz.pack import PACK


@dataclass(frozen=True)
class Look:
    """A view worth opening: the text of the link, the page and the widget values it opens with."""

    text: str
    page: str  # a page of pages/ (without .py)
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Lesson:
    slug: str  # also the key of its check
    title: str
    idea: str  # three plain sentences
    formula: str  # LaTeX
    pack: str  # the PACK run that shows the effect
    looks: tuple[Look, ...]
    question: str
    answer: str

    @property
    def train(self) -> dict[str, str]:
        """The Train page's query that pre-fills a run like the pack's (for a server without the pack)."""
        return train_query(self.pack)


def train_query(slug: str) -> dict[str, str]:
    """Train page parameters (model, its knobs, epochs, lr, data) that reproduce pack run `slug`'s settings."""
    spec = PACK[slug]
    data_params, cfg = spec.settings()
    query = {"model": spec.model, "fit.epochs": str(cfg.epochs), "fit.lr": f"{cfg.lr:g}", "title": spec.title}
    for name, value in spec.model_params.items():
        query[f"{spec.model}.{name}"] = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
    query["data"] = encode_data(spec.data, data_params)
    return query


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "linear-pca", "A linear autoencoder is PCA",
        "An autoencoder with no non-linearity can only squeeze the data onto a flat subspace. The best flat subspace "
        "for squared error is the one PCA finds, and gradient descent gets there too. So a linear AE learns PCA's "
        "subspace: not its axes one by one, but the same span and the same error.",
        r"\min_{W_e, W_d} \; \lVert X - X W_e W_d \rVert_F^2 \;\Rightarrow\; "
        r"\operatorname{span}(W_d^\top) = \operatorname{span}(\text{top-}k \text{ principal components})",
        "linear-32",
        (Look("Features (last section): principal angles to PCA", "features"),
         Look("Train: its validation MSE meets PCA's line", "train")),
        "Are the linear AE's 32 code units the 32 principal components?",
        "No: they span the same subspace (the angles are near 0), but any rotation of that subspace reconstructs "
        "equally well, so each unit is a mix of components. Only the span is unique."),
    Lesson(
        "beats-pca", "Non-linear beats PCA at the same size",
        "Give the encoder and decoder hidden layers with non-linear activations, and keep the code at the same size. "
        "Now the code can describe a curved surface through the data, not only a flat one. On digits that is "
        "worth a clearly lower reconstruction error than PCA's with as many numbers.",
        r"\text{MSE}_{\text{AE}}(k) \;<\; \text{MSE}_{\text{PCA}}(k) \quad\text{with}\quad z = f(x) \in \mathbb{R}^k",
        "ae-2d",
        (Look("Train: validation MSE below PCA's line", "train"),
         Look("Reconstructions: digits rebuilt from 2 numbers", "reconstructions",
              {"noise": "gaussian", "level.gaussian": "0"})),
        "Why can PCA never win this race on a training set it fitted, yet sometimes does on new data?",
        "Because the non-linear AE contains the linear one as a special case, it can always match PCA in principle; "
        "on held-out data a large network can overfit, and PCA's few parameters do not."),
    Lesson(
        "sparse-codes", "Sparse codes: most units stay quiet",
        "A sparse autoencoder pays for every active code unit: an L1 penalty on the code, or a KL term that pulls "
        "each unit's mean activation towards a small rho. It may have more units than a plain AE, yet each input "
        "switches on only a few. The units become detectors of parts: strokes, loops, corners.",
        r"\mathcal{L} = \lVert x - \hat x \rVert^2 + \lambda \sum_j |z_j| \quad\text{or}\quad "
        r"+\; \beta \sum_j \mathrm{KL}\big(\rho \,\Vert\, \hat\rho_j\big)",
        "sparse-64",
        (Look("Features: each unit's variance (many near 0)", "features", {"column": "variance"}),
         Look("Features (further down): first-layer filters", "features")),
        "If most units are zero for each digit, where did the information go?",
        "Into which units are on: with 64 units and ~20 active the pattern of active units itself says a lot, and "
        "each active unit's value says how much of its part the digit has."),
    Lesson(
        "denoising-robust", "Denoising: trained on corrupted inputs",
        "A denoising AE is fed a corrupted input and asked for the clean one. It cannot copy, so it must learn what "
        "digits look like and project noisy inputs back onto them. As the noise grows, its reconstructions stay "
        "better than a plain AE's, which faithfully copies the noise.",
        r"\mathcal{L} = \mathbb{E}_{\tilde x \sim q(\tilde x \mid x)} \lVert x - g(f(\tilde x)) \rVert^2",
        "denoising-32",
        (Look("Reconstructions: noisy inputs at gaussian 0.5", "reconstructions",
              {"noise": "gaussian", "level.gaussian": "0.5"}),
         Look("Reconstructions (bottom): robustness vs the plain AE", "reconstructions",
              {"noise": "gaussian", "level.gaussian": "0.5"})),
        "Why does the denoising AE do slightly worse than the plain AE on perfectly clean inputs?",
        "It never saw clean inputs in training and spent capacity on removing noise; on clean digits it still "
        "'cleans', smoothing away a little real detail."),
    Lesson(
        "insensitive-code", "Contractive and denoising: codes that ignore small changes",
        "A contractive AE penalises the encoder's Jacobian: how much the code moves when the input moves a little. "
        "A denoising AE gets the same effect without a formula, by seeing perturbed inputs. Both codes move less "
        "under small perturbations than a plain AE's, relative to how spread out the codes are.",
        r"\mathcal{L} = \lVert x - \hat x \rVert^2 + \lambda \left\lVert \frac{\partial f(x)}{\partial x} "
        r"\right\rVert_F^2",
        "contractive-16",
        (Look("Train: the loss split into its two parts", "train"),
         Look("Reconstructions (bottom): robustness at high noise", "reconstructions",
              {"noise": "gaussian", "level.gaussian": "0.8"})),
        "If the code ignores small changes, how can it still tell a 3 from an 8?",
        "It is insensitive only in directions the data does not vary in; along the data's own directions (the "
        "manifold), the reconstruction term keeps the code sensitive."),
    Lesson(
        "vae-prior", "The VAE: a code you can sample",
        "A VAE encodes each input as a small Gaussian cloud and pulls those clouds towards a standard normal with a "
        "KL term. So random draws from N(0, I) land where codes of real digits live, and decode to digit-like "
        "images. The weight beta trades sharp reconstructions (low beta) against a smooth, fully covered latent "
        "space (high beta).",
        r"\mathcal{L} = \mathbb{E}_{q(z|x)}\lVert x - g(z)\rVert^2 + \beta\, \mathrm{KL}\big(q(z \mid x) \,\Vert\, "
        r"\mathcal{N}(0, I)\big)",
        "vae-2d",
        (Look("Generate (scroll down): the manifold and prior samples", "generate"),
         Look("Latent space: the codes as one round cloud", "latent", {"method": "pca"})),
        "Train the same VAE with beta = 4: what happens to the samples and to the reconstructions?",
        "The codes are pulled harder to N(0, I): the latent map is rounder and samples are more often valid "
        "digits, but reconstructions get blurrier, because the code carries less about each input."),
    Lesson(
        "incompressible", "What cannot be compressed",
        "An autoencoder compresses by finding structure: pixels that go together. Pure noise has none: every pixel "
        "is independent. Trained on uniform random images, an AE barely lowers its loss and does no better than "
        "PCA, while the same network on digits does far better.",
        r"H(X_{\text{noise}}) = \sum_i H(X_i) \quad\Rightarrow\quad \text{no } k \ll d \text{ numbers can describe } x",
        "noise-32",
        (Look("Train: a loss that hardly falls after epoch 1", "train"),
         Look("Reconstructions: noise in, grey mush out", "reconstructions",
              {"noise": "gaussian", "level.gaussian": "0"})),
        "The AE on noise outputs nearly the same grey image for every input. Why is that the best it can do?",
        "With nothing shared between images, the code cannot say much about any one of them; the output that "
        "minimises the expected squared error is then close to the mean image, which is flat grey."),
)
BY_SLUG = {lesson.slug: lesson for lesson in LESSONS}
assert set(BY_SLUG) == set(CHECKS), "every lesson has its check and every check its lesson"
assert all(lesson.pack in PACK for lesson in LESSONS), "every lesson's run is in the pack"


# -- progress, per browser -----------------------------------------------------------------------------------------
WHO = re.compile(r"[0-9a-f]{16,64}|admin")
MAX_BYTES = 20_000


def _progress_file(root: Path, who: str) -> Path | None:
    return Path(root) / ".lessons" / f"{who}.json" if WHO.fullmatch(who) else None


def load_progress(root: Path, who: str) -> dict[str, str]:
    """{lesson slug: the run id its check passed on}; anything malformed in the file is ignored."""
    path = _progress_file(root, who)
    try:
        if path is None or path.stat().st_size > MAX_BYTES:
            return {}
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # RecursionError: a file of thousands of nested brackets
        return {}
    if not isinstance(raw, dict):
        return {}
    return {k: v for k, v in raw.items() if k in BY_SLUG and isinstance(v, str) and len(v) <= 120}


def mark_done(root: Path, who: str, slug: str, run_id: str) -> dict[str, str]:
    """Record that lesson `slug`'s check passed on `run_id` (written atomically); returns the progress."""
    assert slug in BY_SLUG, f"unknown lesson {slug!r}"
    progress = load_progress(root, who)
    path = _progress_file(root, who)
    if path is None or progress.get(slug) == run_id:
        return progress
    progress[slug] = run_id[:120]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(progress))
    tmp.replace(path)
    return progress
