"""Synthetic data: 2-D moons, circles and spirals, 3-D swiss roll and S-curve, and images of pure noise.

Every maker takes (n, noise, seed) and returns x (n, D) float32 min-max scaled per feature to [0, 1], integer labels
(n,) and class names. `noise` is the standard deviation of Gaussian noise relative to a shape about 2 units
across (scikit-learn's convention for moons and circles), so the same value looks alike on every manifold.
`sheet` gives the 3-D sheets' true 2-D coordinates, what a 2-D code should recover when it unrolls them.
`uniform_images` is the opposite of a manifold: every pixel independent, so no code smaller than the image can keep
more than its share of the variance (the control for "an autoencoder compresses structure, not data").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

ToyData = tuple[np.ndarray, np.ndarray, tuple[str, ...]]

N_SEGMENTS = 6  # swiss roll / S-curve labels: the position along the sheet in equal-count bins


def moons(n: int, noise: float, seed: int) -> ToyData:
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=n, noise=noise, random_state=seed)
    return _scale(x), y.astype(np.int64), ("upper moon", "lower moon")


def circles(n: int, noise: float, seed: int) -> ToyData:
    from sklearn.datasets import make_circles

    x, y = make_circles(n_samples=n, noise=noise, factor=0.5, random_state=seed)
    return _scale(x), y.astype(np.int64), ("outer circle", "inner circle")


def spiral(n: int, noise: float, seed: int) -> ToyData:
    """Three interleaved arms, label = arm; radius grows from 0.1 to 1 over 1.5 turns."""
    rng = np.random.default_rng(seed)
    arm = np.arange(n) % 3
    t = rng.uniform(0.0, 1.0, n)
    angle = 3 * np.pi * t + 2 * np.pi * arm / 3
    radius = 0.1 + 0.9 * t
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    x += rng.normal(0.0, noise, x.shape)
    return _scale(x), arm.astype(np.int64), ("arm 1", "arm 2", "arm 3")


def swiss_roll(n: int, noise: float, seed: int) -> ToyData:
    from sklearn.datasets import make_swiss_roll

    # The roll spans about 20 units, ten times the other shapes: scale the noise so 0.05 means the same blur.
    x, t = make_swiss_roll(n_samples=n, noise=noise * 10, random_state=seed)
    return _scale(x), _segments(t), _SEGMENT_NAMES


def s_curve(n: int, noise: float, seed: int) -> ToyData:
    from sklearn.datasets import make_s_curve

    x, t = make_s_curve(n_samples=n, noise=noise, random_state=seed)
    return _scale(x), _segments(t), _SEGMENT_NAMES


def sheet(name: str, n: int, seed: int) -> np.ndarray:
    """The true 2-D coordinates (n, 2) of the points `TOYS[name](n, noise, seed)` made, before noise: distance along
    the sheet and height across it, so a code's neighbourhoods can be checked against the unrolled sheet (e.g. with
    sklearn's `trustworthiness`). For swiss-roll and s-curve, the 3-D sheets."""
    from sklearn.datasets import make_s_curve, make_swiss_roll

    if name == "swiss-roll":
        x, t = make_swiss_roll(n_samples=n, noise=0.0, random_state=seed)  # the same draws as with noise
        along = 0.5 * (t * np.sqrt(1 + t * t) + np.arcsinh(t))  # arc length of the spiral r = t
    elif name == "s-curve":
        x, t = make_s_curve(n_samples=n, noise=0.0, random_state=seed)
        along = t  # the S is two unit half-circles: arc length is the angle
    else:
        raise ValueError(f"{name!r} is not a sheet. Choose one of ['s-curve', 'swiss-roll'].")
    return np.column_stack([along, x[:, 1]])


def uniform_images(n: int, seed: int) -> np.ndarray:
    """n images (n, 1, 28, 28) float32 of independent uniform pixels in [0, 1); no labels (there is nothing to tell
    apart). Its own stream of the seed: the train/val split draws from [seed, 0], so the two stay independent."""
    return np.random.default_rng([seed, 2]).random((n, 1, 28, 28), dtype=np.float32)


TOYS: dict[str, Callable[[int, float, int], ToyData]] = {
    "moons": moons,
    "circles": circles,
    "spiral": spiral,
    "swiss-roll": swiss_roll,
    "s-curve": s_curve,
}

_SEGMENT_NAMES = tuple(f"segment {i + 1}" for i in range(N_SEGMENTS))


def _segments(t: np.ndarray) -> np.ndarray:
    """Bin the position t into N_SEGMENTS equal-count segments by rank (ties cannot unbalance the bins)."""
    rank = np.argsort(np.argsort(t, kind="stable"), kind="stable")
    return (rank * N_SEGMENTS // len(t)).astype(np.int64)


def _scale(x: np.ndarray) -> np.ndarray:
    """Min-max each feature to [0, 1]; a constant feature (impossible here, but cheap to guard) becomes 0."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return np.clip((x - lo) / span, 0.0, 1.0).astype(np.float32)
