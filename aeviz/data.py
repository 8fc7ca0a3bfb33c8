"""Datasets: the `DATASETS` registry, the `Dataset` every other module consumes, and `load_dataset`.

A Dataset is x (N, *shape) float32 in [0, 1] plus optional integer labels and a seeded train/val split. Sources:
the bundled MNIST test set (works offline), downloaded MNIST-family sets (cached, hash-checked, falling back to
the bundled sample when offline), scikit-learn's digits, synthetic manifolds, seeded uniform noise (the control: an
image set with nothing to compress) and user files (`loaders/files.py`).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aeviz import bundle
from aeviz.errors import InputError, bad_param
from aeviz.loaders import download, files, idx, toy
from aeviz.loaders.download import DownloadError, Progress

ASSETS = bundle.MNIST  # the clone's assets/mnist/, or the installed package's copy
VAL_FRACTION = 0.2  # 80/20: 2,000 validation digits keep K-Means scores on MNIST steady across seeds
IMAGES, LABELS = "images-idx3-ubyte.gz", "labels-idx1-ubyte.gz"  # prefixed by "train-" / "t10k-"


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value; identity is the useful equality
class Dataset:
    name: str  # registry name, or the file name for user data
    x: np.ndarray  # (N, *shape) float32, every value in [0, 1], C-contiguous
    y: np.ndarray | None  # (N,) int64 class indices
    shape: tuple[int, ...]  # (C, H, W) for images, (D,) for vectors
    classes: tuple[str, ...] | None  # class names indexed by y
    train_idx: np.ndarray  # int64, sorted
    val_idx: np.ndarray
    source: str  # a registry name or a path: load_dataset(source, **params) loads it again
    params: dict  # JSON-serialisable, including seed and val_fraction
    notes: tuple[str, ...] = ()  # one-line messages for the user

    def __post_init__(self) -> None:
        x, y = self.x, self.y
        assert x.dtype == np.float32 and x.flags.c_contiguous, f"{self.name}: x must be C-contiguous float32"
        assert x.shape[1:] == self.shape, f"{self.name}: x {x.shape} does not match shape {self.shape}"
        assert y is None or (y.dtype == np.int64 and y.shape == (len(x),)), f"{self.name}: y must be (N,) int64"
        assert (y is None) == (self.classes is None), f"{self.name}: y and classes go together"
        assert len(self.train_idx) + len(self.val_idx) == len(x), f"{self.name}: the split must cover every row"

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3

    @property
    def n_classes(self) -> int:
        return len(self.classes) if self.classes else 0

    def split(self, which: str) -> tuple[np.ndarray, np.ndarray | None]:
        """("train" | "val" | "all") -> (x, y) for those rows."""
        if which == "all":
            return self.x, self.y
        if which not in ("train", "val"):
            raise InputError(f"Unknown split {which!r}. Choose one of ['all', 'train', 'val'].")
        idx_ = self.train_idx if which == "train" else self.val_idx
        return self.x[idx_], None if self.y is None else self.y[idx_]


@dataclass(frozen=True)
class Param:
    """One dataset parameter, described for the CLI and the UI forms."""

    name: str
    default: int | float
    min: int | float
    max: int | float
    help: str

    def check(self, value: object, owner: str) -> int | float:
        """The value as the param's type, or InputError in scikit-learn's message shape."""
        kind = type(self.default)
        if isinstance(value, str):
            try:
                value = kind(value.strip())
            except ValueError:
                pass
        ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
        if ok and kind is int:
            ok = float(value).is_integer()
        if ok and self.min <= float(value) <= self.max:
            return kind(value)
        fmt = str if kind is int else "{:g}".format
        expected = f"{'an int' if kind is int else 'a float'} in [{fmt(self.min)}, {fmt(self.max)}]"
        raise bad_param(owner, self.name, expected, value)


@dataclass(frozen=True)
class DatasetSpec:
    description: str  # one line, for `aeviz datasets` and the dataset picker
    kind: str  # "bundled" | "download" | "toy" | "builtin" | "synthetic"
    params: tuple[Param, ...] = ()
    shape: tuple[int, ...] = ()  # one sample's shape, known before loading (pickers offer only what fits a run)

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}


_LIMIT_HELP = "use a seeded random subset of this many images (0 = all)"
_LIMIT = (Param("limit", 0, 0, 10_000, _LIMIT_HELP),)
_LIMIT_FULL = (Param("limit", 0, 0, 70_000, _LIMIT_HELP),)
_IMAGE_28 = (1, 28, 28)
_TOY = (
    Param("n", 2000, 10, 1_000_000, "number of points"),
    Param("noise", 0.05, 0.0, 1.0, "standard deviation of the Gaussian noise (the shapes are about 2 units across)"),
)
_NOISE = (Param("n", 10_000, 10, 70_000, "number of images"),)

DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec("MNIST test set: 10,000 handwritten digits, 28x28 (bundled, offline)", "bundled", _LIMIT,
                         _IMAGE_28),
    "mnist-full": DatasetSpec("MNIST: 70,000 handwritten digits, 28x28 (11 MB)", "download", _LIMIT_FULL, _IMAGE_28),
    "fashion-mnist": DatasetSpec("Fashion-MNIST: 70,000 clothing images, 28x28 (30 MB)", "download", _LIMIT_FULL,
                                 _IMAGE_28),
    "kmnist": DatasetSpec("Kuzushiji-MNIST: 70,000 cursive hiragana, 28x28 (20 MB)", "download", _LIMIT_FULL,
                          _IMAGE_28),
    "digits": DatasetSpec("scikit-learn digits: 1,797 handwritten digits, 8x8 (built in)", "builtin", (), (1, 8, 8)),
    "moons": DatasetSpec("two interleaving half circles, 2-D, 2 classes", "toy", _TOY, (2,)),
    "circles": DatasetSpec("a small circle inside a large one, 2-D, 2 classes", "toy", _TOY, (2,)),
    "spiral": DatasetSpec("three interleaved spiral arms, 2-D, 3 classes", "toy", _TOY, (2,)),
    "ring": DatasetSpec("one noisy circle, 2-D, labelled by quarter", "toy", _TOY, (2,)),
    "swiss-roll": DatasetSpec("a rolled-up 2-D sheet in 3-D, labelled by 6 segments along the roll", "toy", _TOY,
                              (3,)),
    "s-curve": DatasetSpec("an S-shaped 2-D sheet in 3-D, labelled by 6 segments along the curve", "toy", _TOY,
                           (3,)),
    "noise": DatasetSpec("uniform random pixels, 28x28, no labels: nothing an autoencoder can compress", "synthetic",
                         _NOISE, _IMAGE_28),
}

DIGIT_CLASSES = tuple(str(i) for i in range(10))
CLASSES = {
    "mnist-full": DIGIT_CLASSES,
    "fashion-mnist": (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"
    ),
    "kmnist": ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
}


def dataset_names() -> list[str]:
    return list(DATASETS)


def load_dataset(
    source: str, *, val_fraction: float = VAL_FRACTION, seed: int = 0, progress: Progress | None = None, **params
) -> Dataset:
    """Load a registry dataset by name, or a user file/folder by path. `progress(done, total)` reports downloads."""
    source = os.fspath(source)
    name = source.strip().lower()  # "MNIST" works too, unless a file of that name exists (exact names always win)
    if source not in DATASETS and (name not in DATASETS or os.path.lexists(source)):
        path = Path(source).expanduser()
        if os.path.lexists(path) or _looks_like_path(source):
            return load_file(path, None, val_fraction=val_fraction, seed=seed, **params)
        raise InputError(
            f"Unknown dataset {source!r}. Choose one of {dataset_names()} "
            "or give a path to a .npy/.npz/.csv/.zip file or an image folder."
        )
    name = source if source in DATASETS else name
    spec = DATASETS[name]
    values = _check_params(name, spec, params)
    split = _check_split(val_fraction, seed)
    if spec.kind == "toy":
        x, y, classes = toy.TOYS[name](values["n"], values["noise"], seed)
        return _build(name, x, y, classes, name, values, split)
    if spec.kind == "synthetic":
        return _build(name, toy.uniform_images(values["n"], seed), None, None, name, values, split)
    if spec.kind == "builtin":
        x8, y8 = _digits()
        return _build(name, _images(x8 / np.float32(16)), y8, DIGIT_CLASSES, name, values, split)
    if spec.kind == "download":
        try:
            folder = download.fetch(name, progress=progress)
        except DownloadError as exc:
            return _offline_fallback(name, exc, values, split)
        x8, y8 = _downloaded(name, str(folder))
        return _build(name, *_subset(x8, y8, values["limit"], seed), CLASSES[name], name, values, split)
    x8, y8 = _bundled_mnist()
    return _build(name, *_subset(x8, y8, values["limit"], seed), DIGIT_CLASSES, name, values, split)


def load_file(
    path: Path, name: str | None = None, *, val_fraction: float = VAL_FRACTION, seed: int = 0, **params
) -> Dataset:
    """A user's .npy/.npz/.csv/.zip or image folder; `name` is the display name (an upload's original name)."""
    raw = files.read_path(Path(path), name, **params)
    source = os.path.abspath(os.fspath(path))
    split = _check_split(val_fraction, seed)
    return _build(name or Path(path).name, raw.x, raw.y, raw.classes, source, raw.params, split, raw.notes)


def clear_cache() -> None:
    """Forget parsed arrays and verified downloads (for tests and the app's 'reload data')."""
    for cached in (_bundled_mnist, _downloaded, _digits):
        cached.cache_clear()
    download.forget_verified()


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded permutation: round(n * val_fraction) rows to val, at least one in each part when n >= 2."""
    n_val = min(max(round(n * val_fraction), 1), n - 1) if n >= 2 else 0
    perm = np.random.default_rng([seed, 0]).permutation(n)
    return np.sort(perm[n_val:]).astype(np.int64), np.sort(perm[:n_val]).astype(np.int64)


def _build(name, x, y, classes, source, values, split, notes=()) -> Dataset:
    val_fraction, seed = split
    train_idx, val_idx = split_indices(len(x), val_fraction, seed)
    params = {**values, "seed": seed, "val_fraction": val_fraction}
    y = None if y is None else np.asarray(y, dtype=np.int64)
    x = np.ascontiguousarray(x, dtype=np.float32)
    return Dataset(name, x, y, tuple(x.shape[1:]), classes, train_idx, val_idx, source, params, tuple(notes))


def _check_params(name: str, spec: DatasetSpec, params: dict) -> dict:
    known = {p.name: p for p in spec.params}
    for key in params:
        if key not in known:
            raise InputError(f"Unknown parameter {key!r} for {name}. Choose one of {sorted(known)}.")
    return {p.name: p.check(params.get(p.name, p.default), name) for p in spec.params}


def _check_split(val_fraction: float, seed: int) -> tuple[float, int]:
    vf = Param("val_fraction", VAL_FRACTION, 0.0, 0.9, "").check(val_fraction, "load_dataset")
    if vf <= 0:  # the contract promises a non-empty val part whenever N >= 2
        raise bad_param("load_dataset", "val_fraction", "a float in (0, 0.9]", val_fraction)
    return vf, Param("seed", 0, 0, 2**32 - 1, "").check(seed, "load_dataset")


def _looks_like_path(source: str) -> bool:
    return "/" in source or os.sep in source or source.startswith("~") or Path(source).suffix.lower() in files.SUFFIXES


def _images(x: np.ndarray) -> np.ndarray:
    """(N, H, W) uint8 or float -> (N, 1, H, W) float32 in [0, 1]."""
    scale = np.float32(1 / 255) if x.dtype == np.uint8 else np.float32(1)
    return np.multiply(x[:, None], scale, dtype=np.float32)


def _subset(x8: np.ndarray, y8: np.ndarray, limit: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The first `limit` rows of a seeded shuffle, kept in file order (limit 0 = all rows)."""
    if limit and limit < len(x8):
        rows = np.sort(np.random.default_rng([seed, 1]).permutation(len(x8))[:limit])
        x8, y8 = x8[rows], y8[rows]
    return _images(x8), y8


def _offline_fallback(name: str, exc: DownloadError, values: dict, split: tuple[float, int]) -> Dataset:
    folder = download.cache_dir() / name
    note = (
        f"Could not download {name} (no network: {exc}); using the bundled MNIST sample instead. "
        f"Connect to the internet, or place the files in {folder}/."
    )
    limit = min(values.get("limit", 0), DATASETS["mnist"].params[0].max)
    x8, y8 = _bundled_mnist()
    _, seed = split
    return _build("mnist", *_subset(x8, y8, limit, seed), DIGIT_CLASSES, "mnist", {"limit": limit}, split, (note,))


@functools.lru_cache(maxsize=1)
def _bundled_mnist() -> tuple[np.ndarray, np.ndarray]:
    """The bundled test set, hash-checked against assets/mnist/SHA256SUMS (parsed once per process)."""
    try:
        sums = dict(line.split()[::-1] for line in (ASSETS / "SHA256SUMS").read_text().splitlines() if line.strip())
        actual = {filename: idx.sha256_of(ASSETS / filename) for filename in sums}
    except OSError as exc:
        raise InputError(f"The bundled MNIST sample in {ASSETS} is unreadable ({exc.strerror}); reinstall aeviz.") \
            from None
    for filename, sha in sums.items():
        if actual[filename] != sha:
            raise InputError(f"{ASSETS / filename} does not match its SHA256SUMS; reinstall aeviz to restore it.")
    return idx.read_idx_pair(ASSETS / f"t10k-{IMAGES}", ASSETS / f"t10k-{LABELS}")


@functools.lru_cache(maxsize=3)
def _downloaded(name: str, folder: str) -> tuple[np.ndarray, np.ndarray]:
    """Train + test concatenated: (70000, 28, 28) uint8 and (70000,) uint8."""
    parts = [idx.read_idx_pair(Path(folder, f"{p}-{IMAGES}"), Path(folder, f"{p}-{LABELS}")) for p in ("train", "t10k")]
    x, y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    x.flags.writeable = y.flags.writeable = False  # shared by every load in this process
    return x, y


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits  # lazy: importing sklearn costs about a second

    bunch = load_digits()
    x, y = bunch.images.astype(np.float32), bunch.target.astype(np.int64)
    x.flags.writeable = y.flags.writeable = False
    return x, y
