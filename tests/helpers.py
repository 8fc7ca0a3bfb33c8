"""Small in-memory datasets for fast tests (no files, no network)."""

from __future__ import annotations

import io

import numpy as np

from aeviz.data import Dataset


def toy_images(n: int = 240, side: int = 8, seed: int = 0, classes: int = 3) -> Dataset:
    """n images of `classes` blurred bars in [0, 1], labelled, with a seeded 80/20 split."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    x = np.zeros((n, 1, side, side), np.float32)
    for i, c in enumerate(y):
        x[i, 0, :, (c * side) // classes:((c + 1) * side) // classes] = 1.0
    x = np.clip(x * rng.uniform(0.6, 1.0, (n, 1, 1, 1)) + rng.normal(0, 0.05, x.shape), 0, 1).astype(np.float32)
    perm = rng.permutation(n)
    cut = n // 5
    return Dataset(name="toy", x=x, y=y.astype(np.int64), shape=(1, side, side),
                   classes=tuple(str(c) for c in range(classes)), train_idx=np.sort(perm[cut:]),
                   val_idx=np.sort(perm[:cut]), source="toy", params={})


def npy_bytes(array: np.ndarray) -> bytes:
    """What a browser uploads for an array saved with np.save."""
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def trained_moons_run(n: int = 300, latent_dim: int = 2, hidden: tuple[int, ...] = (16,), batch_size: int = 32):
    """An ae trained for one epoch on `n` 2-D moons: vector data for pages that also draw images."""
    from aeviz.data import load_dataset
    from aeviz.runs import Run
    from aeviz.training import train
    from aeviz.training_config import TrainConfig

    data = load_dataset("moons", n=n)
    run = Run.create("ae", data.shape, "moons", data.params, TrainConfig(epochs=1, batch_size=batch_size),
                     hidden=hidden, latent_dim=latent_dim)
    train(run, data)
    return run


def trained_mnist_run(limit: int = 400, epochs: int = 2, hidden: tuple[int, ...] = (32,), latent_dim: int = 4):
    """(run, data): a small ae trained for `epochs` on `limit` bundled MNIST digits, for pages that need a real run."""
    from aeviz.data import load_dataset
    from aeviz.runs import Run
    from aeviz.training import train
    from aeviz.training_config import TrainConfig

    data = load_dataset("mnist", limit=limit)
    run = Run.create("ae", data.shape, "mnist", data.params, TrainConfig(epochs=epochs, batch_size=32, lr=3e-3),
                     hidden=hidden, latent_dim=latent_dim)
    train(run, data)
    return run, data
