"""Synthetic data: 2-D moons, circles, spirals and a ring, 3-D swiss roll and S-curve, and images of pure noise.

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


def ring(n: int, noise: float, seed: int) -> ToyData:
    """One circle of radius 1 with Gaussian noise, labelled by quarter (angle from the +x axis): the simplest curved
    manifold, whose tangent at every point is known (`tangents`)."""
    angle = np.random.default_rng(seed).uniform(0.0, 2 * np.pi, n)
    x = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    x += np.random.default_rng([seed, 1]).normal(0.0, noise, x.shape)
    quarter = (angle // (np.pi / 2)).astype(np.int64).clip(0, 3)
    return _scale(x), quarter, ("quarter 1", "quarter 2", "quarter 3", "quarter 4")


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


def tangents(name: str, n: int, noise: float, seed: int) -> np.ndarray:
    """(n, D, m) orthonormal bases of the true tangent space at each of the points `TOYS[name](n, noise, seed)` made
    (at the clean point each came from), in the scaled [0, 1] coordinates those points are given in: m = 1 for the
    ring, 2 for the 3-D sheets. What an encoder's most sensitive directions should follow (Rifai et al. 2011)."""
    from sklearn.datasets import make_s_curve, make_swiss_roll

    if name == "ring":
        angle = np.random.default_rng(seed).uniform(0.0, 2 * np.pi, n)
        raw = np.stack([np.cos(angle), np.sin(angle)], axis=1)
        raw += np.random.default_rng([seed, 1]).normal(0.0, noise, raw.shape)
        basis = np.stack([-np.sin(angle), np.cos(angle)], axis=1)[:, :, None]  # (n, 2, 1): d/d angle
    elif name in ("swiss-roll", "s-curve"):
        make = make_swiss_roll if name == "swiss-roll" else make_s_curve
        raw, t = make(n_samples=n, noise=noise * 10 if name == "swiss-roll" else noise, random_state=seed)
        if name == "swiss-roll":  # x = t cos t, z = t sin t
            along = np.stack([np.cos(t) - t * np.sin(t), 0 * t, np.sin(t) + t * np.cos(t)], axis=1)
        else:  # x = sin t, z = sign(t) (cos t - 1)
            along = np.stack([np.cos(t), 0 * t, -np.sign(t) * np.sin(t)], axis=1)
        across = np.tile([0.0, 1.0, 0.0], (n, 1))  # the height y
        basis = np.stack([along, across], axis=2)  # (n, 3, 2)
    else:
        raise ValueError(f"{name!r} has no known tangents. Choose one of ['ring', 's-curve', 'swiss-roll'].")
    span = raw.max(axis=0) - raw.min(axis=0)  # `_scale` divides each feature by it: tangents stretch the same way
    q, _ = np.linalg.qr(basis / span[None, :, None])
    return q.astype(np.float32)


def uniform_images(n: int, seed: int) -> np.ndarray:
    """n images (n, 1, 28, 28) float32 of independent uniform pixels in [0, 1); no labels (there is nothing to tell
    apart). Its own stream of the seed: the train/val split draws from [seed, 0], so the two stay independent."""
    return np.random.default_rng([seed, 2]).random((n, 1, 28, 28), dtype=np.float32)


TOYS: dict[str, Callable[[int, float, int], ToyData]] = {
    "moons": moons,
    "circles": circles,
    "spiral": spiral,
    "ring": ring,
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
