"""Latent replay: the codes of a fixed probe of validation samples, kept at every epoch, and their 2-D frames.

The training loop captures `PROBE` codes after each epoch (epoch 0: before training) into a `Replay`; the run folder
keeps them in `replay.safetensors` ("probe_idx" (P,) int64, "epochs" (E,) int64, "codes" (E, P, D) float16: 500
codes of 32 dimensions cost 32 kB an epoch). Loading never unpickles and validates every shape, dtype and size.
`frames` turns the snapshots into 2-D views aligned so that scrubbing or animating them does not jump, at one
spread, so they show the codes' shape.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file
from scipy.linalg import orthogonal_procrustes

from aeviz.errors import InputError
from aeviz.evaluation import encode_all
from aeviz.projections import aligned_pca

PROBE = 500  # validation samples whose codes are kept at every epoch
FILE = "replay.safetensors"
MAX_EPOCHS, MAX_DIM = 100_000, 4096  # a file claiming more is not ours
F16_MAX = float(np.finfo(np.float16).max)
FRAME_METHODS = ("pca", "raw")


def probe_indices(data: Any) -> np.ndarray:
    """Indices into data.x of the probe: the first PROBE validation rows (fewer if the split is smaller)."""
    return np.asarray(data.val_idx[:PROBE], np.int64)


def capture(model: Any, x: np.ndarray) -> np.ndarray:
    """(P, *shape) -> (P, D) float16 codes, in eval mode without gradients (encode_all restores the mode)."""
    codes = encode_all(model, x)
    # float16 overflows to inf past 65504: clip so a snapshot of a wild epoch stays finite (and loadable)
    return np.clip(np.nan_to_num(codes), -F16_MAX, F16_MAX).astype(np.float16)


@dataclass(eq=False)
class Replay:
    """Snapshots of the probe's codes, ordered by epoch."""

    probe_idx: np.ndarray  # (P,) int64
    epochs: list[int] = field(default_factory=list)  # epoch numbers captured, 0 = before training
    codes: list[np.ndarray] = field(default_factory=list)  # one (P, D) float16 per epoch

    def add(self, epoch: int, codes: np.ndarray) -> None:
        """Keep `codes` for `epoch`, replacing a snapshot of the same epoch (an epoch run again after a resume)."""
        codes = np.asarray(codes, np.float16)
        assert codes.shape[0] == len(self.probe_idx), f"codes {codes.shape} for a probe of {len(self.probe_idx)}"
        assert not self.codes or codes.shape == self.codes[0].shape, "every snapshot has the same code size"
        i = bisect.bisect_left(self.epochs, epoch)
        if i < len(self.epochs) and self.epochs[i] == epoch:
            self.codes[i] = codes
        else:
            self.epochs.insert(i, int(epoch))
            self.codes.insert(i, codes)

    def truncate(self, epoch: int) -> None:
        """Drop the snapshots after `epoch` (the run went back to that epoch's weights)."""
        keep = bisect.bisect_right(self.epochs, epoch)
        del self.epochs[keep:], self.codes[keep:]

    def to_dict(self) -> dict[str, np.ndarray]:
        """Numpy arrays only: picklable across processes, and what `save` writes."""
        dim = self.codes[0].shape[1] if self.codes else 0
        stacked = np.stack(self.codes) if self.codes else np.zeros((0, len(self.probe_idx), dim), np.float16)
        return {"probe_idx": np.asarray(self.probe_idx, np.int64), "epochs": np.asarray(self.epochs, np.int64),
                "codes": stacked}

    @classmethod
    def from_dict(cls, d: dict[str, np.ndarray]) -> Replay:
        _check(d)
        return cls(np.asarray(d["probe_idx"], np.int64), [int(e) for e in d["epochs"]], list(d["codes"]))


def _check(d: dict[str, Any], where: str = "replay") -> None:
    """Refuse anything but the layout `to_dict` makes, with one line naming what is wrong."""
    def bad(problem: str) -> InputError:
        return InputError(f"{where}: {problem}; the replay cannot be read (delete the file to record a new one).")

    kinds = {"probe_idx": (np.int64, 1), "epochs": (np.int64, 1), "codes": (np.float16, 3)}
    for key, (dtype, ndim) in kinds.items():
        value = d.get(key)
        if not isinstance(value, np.ndarray) or value.dtype != dtype or value.ndim != ndim:
            raise bad(f"{key!r} must be a {ndim}-D {np.dtype(dtype).name} array")
    (p,), (e,), shape = d["probe_idx"].shape, d["epochs"].shape, d["codes"].shape
    if not 0 < p <= PROBE or e > MAX_EPOCHS or shape[2] > MAX_DIM or (e and shape[2] < 1):
        raise bad(f"sizes out of range: {p} probe samples (1..{PROBE}), {e} epochs (<= {MAX_EPOCHS}), "
                  f"{shape[2]} code dimensions (1..{MAX_DIM})")
    if shape[:2] != (e, p):
        raise bad(f"codes of shape {shape} do not match {e} epochs x {p} probe samples")
    if (d["probe_idx"] < 0).any() or (d["epochs"] < 0).any() or (np.diff(d["epochs"]) <= 0).any():
        raise bad("indices must be >= 0 and epochs increasing")
    if not np.isfinite(d["codes"]).all():
        raise bad("codes must be finite")


def save(replay: Replay, folder: Path) -> None:
    """Write `folder/replay.safetensors` (through a temp file and a rename, so a reader never sees half a file)."""
    folder = Path(folder)
    tmp = folder / f".{FILE}.tmp"
    save_file(replay.to_dict(), str(tmp), metadata={"format": "aeviz-replay"})
    tmp.replace(folder / FILE)


def load(folder: Path) -> Replay | None:
    """The replay saved in a run folder; None when there is none; InputError when it is corrupt or foreign."""
    path = Path(folder) / FILE
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="np") as f:
            d = {key: f.get_tensor(key) for key in f.keys()}
    except (SafetensorError, OSError, ValueError, TypeError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise InputError(f"{path}: not a valid safetensors file ({first}); delete it to record a new one.") from None
    if set(d) != {"probe_idx", "epochs", "codes"}:
        raise InputError(f"{path}: holds {sorted(d)}, not a replay; delete it to record a new one.")
    _check(d, str(path))
    return Replay.from_dict(d)


def of_run(run: Any) -> Replay | None:
    """The run's replay: the one in memory (a training run's), else the one saved in its folder, else None."""
    replay = getattr(run, "replay", None)
    if replay is None and getattr(run, "path", None) is not None:
        replay = load(run.path)
    return replay


def frames(replay: Replay, method: str = "pca") -> tuple[list[int], np.ndarray]:
    """(epochs, xy (E, P, 2)): a 2-D view of every snapshot, aligned so that a replay does not jump.

    'pca' (the default) shows shape: codes grow (or, in a VAE, shrink) by orders of magnitude while training, and at
    one scale the early or late epochs would be a dot, so every frame is scaled to the last one's spread (RMS distance
    from the centre). 2-D codes keep their axes (z1 and z2 mean something) and are centred on the last epoch's centre;
    the last frame is the codes as they are. Other codes get each epoch's own PCA (one basis for every epoch would
    show early epochs, whose variance lies elsewhere, as a blob); PCA's axes are arbitrary up to a rotation or
    reflection (and swap when two variances cross), so each frame is turned onto the frame after it by orthogonal
    Procrustes, from the last epoch backwards: consecutive frames are what the eye compares, and the last frame
    stays the plain PCA of the final codes, the view of the latent map. 'raw': 2-D codes exactly as they are.
    """
    if method not in FRAME_METHODS:
        raise InputError(f"Unknown replay view {method!r}. Choose one of {list(FRAME_METHODS)}.")
    if not replay.epochs:
        return [], np.zeros((0, len(replay.probe_idx), 2))
    codes = [np.asarray(c, np.float64) for c in replay.codes]
    dim = codes[0].shape[1]
    if method == "raw" and dim != 2:
        raise InputError(f"'raw' shows 2-D codes only; these codes have {dim} dimensions. Use 'pca'.")
    if method == "raw":
        return list(replay.epochs), np.stack(codes)
    views = [c - c.mean(0) if dim == 2 else aligned_pca(c, None)[0] for c in codes]  # centred (P, 2) each
    target = _spread(views[-1]) or 1.0
    out = [views[-1]]
    for view in reversed(views[:-1]):
        spread = _spread(view)
        scaled = view * (target / spread) if spread > 0 else view
        if dim != 2:
            scaled = scaled @ orthogonal_procrustes(scaled, out[-1])[0]
        out.append(scaled)
    xy = np.stack(out[::-1])
    return list(replay.epochs), xy + (codes[-1].mean(0) if dim == 2 else 0.0)


def spaced(n: int, most: int) -> np.ndarray:
    """Indices of at most `most` of n frames, evenly spaced, first and last kept (a long run's replay stays light)."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, most).round().astype(np.int64))


def describe(dim: int) -> str:
    """What a frame of `frames(..., 'pca')` shows, for a caption under the replay."""
    if dim == 2:
        return "Earlier epochs are centred and scaled to the last epoch's spread, so the replay shows shape."
    return ("Each epoch's codes through their own PCA, turned and scaled onto the last epoch's view (orthogonal "
            "Procrustes), so the replay shows shape, not spin or scale.")


def _spread(xy: np.ndarray) -> float:
    """RMS distance of centred points from their centre."""
    return float(np.sqrt(np.mean(np.sum(xy ** 2, axis=1))))
