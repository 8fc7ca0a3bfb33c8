"""The workshop pack: `aeviz pack OUT_DIR` trains a curated set of runs, one per idea worth showing.

`PACK` is the registry: one `Spec` per run, keyed by the run's folder name, each with a title, a one-line note on
what to show with it (the page and what to look at), the model, the data and the training settings, plus the
smaller epochs/data of `--quick`. `make_pack` trains them in turn into OUT_DIR/<slug>; a folder that already holds a
finished run is kept, so running the same command again resumes an interrupted pack, and a folder that is not an
aeviz run is never touched (the pack refuses before training anything).

Measured on 2 busy cores (load 4-6, 2026-11): the full pack in 4 minutes (187 s of CPU), --quick in 45 s, before
noise-32 joined (19 s more, 3 s with --quick) and hashing-32 (11 s more, 4 s with --quick). Every check of
`aeviz.lesson_checks` is green on a run of the pack, full and --quick (tests/test_lesson_checks.py trains the
--quick ones).

No trained weights ship inside the package. A starter run would fit the 5 MB budget (the 2-D VAE is 1.9 MB in
fp16), but it would be a binary that every later change to a model's layers or to the run format must keep
loadable, it would show one idea where the workshop needs ten, and `pip install .` does not yet ship the app or the
bundled data it would be shown with. `aeviz pack --quick` makes the whole set, from the bundled MNIST sample, in
under a minute on two cores.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from aeviz import catalog, runs
from aeviz.config import fields_of
from aeviz.data import load_dataset
from aeviz.errors import InputError
from aeviz.training import EndEvent, EpochEvent, fit
from aeviz.training_config import TrainConfig


@dataclass(frozen=True)
class Spec:
    """One run of the pack: what it is, what to show with it, and how to train it."""

    title: str
    note: str  # what to show with it: the page, then what to look at
    model: str
    data: str
    model_params: dict[str, Any] = field(default_factory=dict)
    data_params: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields
    quick: dict[str, Any] = field(default_factory=dict)  # --quick overrides: TrainConfig fields, else data params

    def settings(self, quick: bool = False) -> tuple[dict[str, Any], TrainConfig]:
        """(data params, training config), with the --quick overrides applied when `quick`."""
        names = {f.name for f in fields_of(TrainConfig)}
        over = self.quick if quick else {}
        data = {**self.data_params, **{k: v for k, v in over.items() if k not in names}}
        train = {**self.train, **{k: v for k, v in over.items() if k in names}}
        return data, TrainConfig(**train)


MNIST_QUICK = {"limit": 4000}  # 3,200 digits to train on, 800 to validate
MLP = (512, 128)  # the plain AE's default, shared by the runs compared with it

PACK: dict[str, Spec] = {
    "vae-2d": Spec(
        "2-D VAE: digits on a map",
        "Generate: the manifold grid decodes a sweep of the 2-D code into digits that morph smoothly; Latent "
        "space: each digit is a region of one plane.",
        "vae", "mnist", {"latent_dim": 2, "hidden": MLP}, {}, {"epochs": 25}, {"epochs": 15, **MNIST_QUICK}),
    "ae-2d": Spec(
        "2-D AE: the same map without a prior",
        "Latent space: beside the 2-D VAE's round cloud, its codes crowd into thin overlapping arms with "
        "stragglers far out; Clusters: K-Means on them finds the digits less well than on the VAE's.",
        "ae", "mnist", {"latent_dim": 2, "hidden": MLP}, {}, {"epochs": 25}, {"epochs": 15, **MNIST_QUICK}),
    "linear-32": Spec(
        "Linear AE: PCA by gradient descent",
        "Features: the principal angles between its 32-D subspace and PCA's are small, and its MSE matches PCA's "
        "at 32 components.",
        "linear", "mnist", {"latent_dim": 32}, {}, {"epochs": 40, "lr": 3e-3}, {"epochs": 25, **MNIST_QUICK}),
    "ae-32": Spec(
        "Plain AE: the robustness baseline",
        "Reconstructions: set gaussian noise 0.5 and compare its robustness curve with the denoising AE's; "
        "Clusters: K-Means on its codes beats raw pixels.",
        "ae", "mnist", {"latent_dim": 32, "hidden": MLP}, {}, {"epochs": 20}, {"epochs": 15, **MNIST_QUICK}),
    "denoising-32": Spec(
        "Denoising AE: clean digits from noisy ones",
        "Reconstructions: at gaussian 0.5 its PSNR is far above the plain AE's (same layers, same data): it "
        "rebuilds clean digits where the plain AE copies the noise.",
        "denoising", "mnist", {"latent_dim": 32, "hidden": MLP, "noise": "gaussian", "noise_level": 0.5}, {},
        {"epochs": 20}, {"epochs": 15, **MNIST_QUICK}),
    "sparse-64": Spec(
        "Sparse AE: few active units",
        "Features: about a third of the 64 code units are non-zero for any one digit, the rest exactly 0; with "
        "one layer (Ng's sparse AE) the first-layer filters are the code units themselves.",
        # Explicit, not the defaults: an L1 weight of 1 on the BCE loss is what makes the code visibly sparse.
        "sparse", "mnist", {"latent_dim": 64, "hidden": (), "loss": "bce", "penalty": "l1", "weight": 1.0}, {},
        {"epochs": 20}, {"epochs": 15, **MNIST_QUICK}),
    "psd-64": Spec(
        "PSD: sparse coding with a fast encoder",
        "Train: the loss splits into reconstruction, sparsity and prediction, and the prediction part falls as the "
        "encoder learns to guess the codes ISTA infers; Features: the dictionary's atoms are pen strokes.",
        "psd", "mnist", {"latent_dim": 64}, {}, {"epochs": 15}, {"epochs": 8, **MNIST_QUICK}),
    "contractive-16": Spec(
        "Contractive AE: a code that ignores small changes",
        "Train: the loss splits into reconstruction and the penalty, the squared norm of the encoder's Jacobian; "
        "Reconstructions: its robustness curve stays above the plain AE's at high gaussian levels.",
        "contractive", "mnist", {"latent_dim": 16, "hidden": (256,), "weight": 0.01}, {}, {"epochs": 15},
        {"epochs": 8, **MNIST_QUICK}),
    "conv-32": Spec(
        "Conv AE: sharper digits from shared filters",
        "Reconstructions: sharper strokes than the plain AE at the same code size, with far fewer weights; "
        "Anomalies: its worst-rebuilt digits.",
        "conv", "mnist", {"latent_dim": 32, "channels": (16, 32)}, {}, {"epochs": 15}, {"epochs": 10, **MNIST_QUICK}),
    "stacked-32": Spec(
        "Stacked AE: one layer at a time",
        "Train: the epochs are noted 'pre-training layer 1 of 4' to 4 of 4, then 'fine-tuning the whole stack'; "
        "the validation MSE falls as each layer joins, then again while fine-tuning.",
        "stacked", "mnist", {"latent_dim": 32, "hidden": (512, 256, 128), "pretrain_epochs": 1}, {},
        {"epochs": 20}, {"epochs": 15, **MNIST_QUICK}),
    "hashing-32": Spec(
        "Semantic hashing: 32-bit codes",
        "Theory lab: in Semantic hashing, a digit's neighbours at Hamming distance 0, 1 and 2 are mostly the same "
        "digit, and retrieval by its bits beats random-projection LSH with as many bits (precision@10).",
        "hashing", "mnist", {"latent_dim": 32, "hidden": MLP}, {}, {"epochs": 15, "batch_size": 64},
        {"epochs": 10, **MNIST_QUICK}),
    "noise-32": Spec(
        "Plain AE on pure noise: nothing to compress",
        "Train: beside the plain AE on digits, its validation loss hardly falls after the first epoch and ends no "
        "lower than PCA's at 32 components: with every pixel independent there is no structure to learn.",
        "ae", "noise", {"latent_dim": 32, "hidden": MLP}, {}, {"epochs": 20}, {"epochs": 15, "n": 4000}),
    "swiss-roll-2d": Spec(
        "Swiss roll in a 2-D code",
        "Latent space: colour by label: the AE pulls apart the layers of the roll that PCA lays on top of each "
        "other, but folds the sheet instead of laying it flat: it keeps only what reconstruction needs.",
        "ae", "swiss-roll", {"latent_dim": 2, "hidden": (256, 256, 256)},
        {"n": 3000, "noise": 0.02}, {"epochs": 150, "lr": 1e-3, "batch_size": 64},
        {"epochs": 40}),
    "moons-2d": Spec(
        "Two moons in a 2-D code",
        "Latent space: the two half circles come out as two separate curves; Clusters: compare K-Means with "
        "the true moons.",
        "ae", "moons", {"latent_dim": 2, "hidden": (64, 64)}, {"n": 2000, "noise": 0.05},
        {"epochs": 40, "batch_size": 64}, {"epochs": 15, "n": 1000}),
}


@dataclass(frozen=True)
class PackEvent:
    kind: str  # start | epoch | done
    index: int  # 0-based position in this pack
    total: int
    slug: str
    spec: Spec
    epoch: int = 0  # epochs done (epoch events)
    epochs: int = 0  # epochs to do
    status: str = ""  # done: trained | kept | failed | stopped
    seconds: float = 0.0  # done: training time of this call (0 when kept)
    val_mse: float | None = None  # done: validation MSE of the kept weights
    path: Path | None = None


def folder_state(folder: Path) -> str:
    """'missing', 'empty', 'finished' (a finished run: kept), 'run' (any other run: retrained) or 'foreign'."""
    if not folder.exists():
        return "missing"
    if (folder / "config.json").is_file():
        return "finished" if catalog.row_of(folder)["status"] == "finished" else "run"
    return "empty" if folder.is_dir() and not any(folder.iterdir()) else "foreign"


def check_out_dir(out: Path, slugs: Sequence[str]) -> None:
    """Refuse, before training anything, an OUT_DIR that is a file or holds a non-run folder under a pack name."""
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is a file; OUT_DIR must be a folder (new, or holding a pack to resume).")
    for slug in slugs:
        if folder_state(out / slug) == "foreign":
            raise InputError(f"{out / slug} exists and is not an aeviz run; move it away or pick another OUT_DIR.")


def _val_mse(run: runs.Run) -> float | None:
    """Validation MSE of the weights the run keeps (its best epoch's)."""
    epoch = run.best_epoch or run.epoch
    return run.history[epoch - 1].get("val_mse") if 0 < epoch <= len(run.history) else None


def make_pack(out_dir: str | Path, quick: bool = False, on_event: Callable[[PackEvent], None] | None = None,
              only: Sequence[str] | None = None) -> list[PackEvent]:
    """Train the pack's runs (all, or the slugs in `only`) into out_dir/<slug>; returns one 'done' event each."""
    out = Path(out_dir)
    slugs = list(PACK) if only is None else list(only)
    unknown = [s for s in slugs if s not in PACK]
    if unknown:
        raise InputError(f"Unknown pack run {unknown[0]!r}. Choose from {list(PACK)}.")
    check_out_dir(out, slugs)
    emit = on_event or (lambda event: None)
    cache: dict[tuple, Any] = {}
    done = []
    for i, slug in enumerate(slugs):
        spec, folder = PACK[slug], out / slug
        emit(PackEvent("start", i, len(slugs), slug, spec, path=folder))
        if folder_state(folder) == "finished":
            event = PackEvent("done", i, len(slugs), slug, spec, status="kept",
                              val_mse=_val_mse(runs.load(folder)), path=folder)
        else:
            event = _train_one(i, len(slugs), slug, spec, folder, quick, cache, emit)
        emit(event)
        done.append(event)
    return done


def _train_one(i: int, total: int, slug: str, spec: Spec, folder: Path, quick: bool, cache: dict,
               emit: Callable[[PackEvent], None]) -> PackEvent:
    data_params, cfg = spec.settings(quick)
    key = (spec.data, tuple(sorted(data_params.items())))
    if key not in cache:
        cache[key] = load_dataset(spec.data, **data_params)
    data = cache[key]
    run = runs.Run.create(spec.model, data.shape, data.source, data.params, cfg, **spec.model_params)
    run.title, run.note = spec.title, spec.note  # owner stays "": the server's admin owns the pack
    start, status = time.perf_counter(), "failed"
    for event in fit(run, data):
        if isinstance(event, EpochEvent):
            emit(PackEvent("epoch", i, total, slug, spec, epoch=event.epoch, epochs=cfg.epochs, path=folder))
        elif isinstance(event, EndEvent):
            status = "trained" if event.status == "finished" else event.status
    seconds = time.perf_counter() - start
    runs.save(run, folder)
    return PackEvent("done", i, total, slug, spec, status=status, seconds=seconds, val_mse=_val_mse(run),
                     path=folder)
