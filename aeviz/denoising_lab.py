"""The reconstruction and denoising lab, without Streamlit: which samples to show, how robust a model is to noise,
where its errors are, and how to turn a drawn or uploaded picture into one input the model understands.

Arrays are numpy, images (N, C, H, W) in [0, 1]. Nothing here changes a model's weights.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from aeviz import metrics, noise
from aeviz.errors import InputError
from aeviz.evaluation import corrupt, encode_all, reconstruct_all
from aeviz.loaders import images as image_limits
from aeviz.loaders import one_line
from aeviz.projections import pca_2d

SAMPLE_MODES: dict[str, str] = {  # mode -> label for the picker
    "random": "random (seeded)",
    "class": "one class",
    "worst": "worst reconstructed first",
}
UPLOAD_FORMATS = ("PNG", "JPEG")
MNIST_BOX = 20  # MNIST digits are scaled to fit 20x20, then centred by centre of mass in 28x28 (LeCun et al.)
INK = 0.1  # a pixel brighter than this (on a black background) is part of the drawing


# -- which samples --------------------------------------------------------------------------------------------------
def choose_samples(mode: str, count: int, n: int, *, seed: int = 0, labels: np.ndarray | None = None,
                   label: int | None = None, errors: np.ndarray | None = None) -> np.ndarray:
    """Row indices into a set of `n` samples: seeded random, random within class `label`, or largest error first."""
    count = max(0, min(int(count), n))
    rng = np.random.default_rng(seed)
    if mode == "random":
        return np.sort(rng.choice(n, count, replace=False)).astype(np.int64)
    if mode == "class":
        if labels is None or label is None:
            raise InputError("Showing one class needs labels, and this dataset has none; choose 'random' instead.")
        rows = np.flatnonzero(np.asarray(labels) == label)
        return np.sort(rng.choice(rows, min(count, len(rows)), replace=False)).astype(np.int64)
    if mode == "worst":
        assert errors is not None and len(errors) == n, "worst-first needs one error per sample"
        return np.argsort(-np.asarray(errors, np.float64), kind="stable")[:count].astype(np.int64)
    raise InputError(f"Unknown sample mode {mode!r}. Choose one of {sorted(SAMPLE_MODES)}.")


# -- scores ---------------------------------------------------------------------------------------------------------
def scores(clean: np.ndarray, noisy: np.ndarray, rec: np.ndarray) -> dict[str, float | None]:
    """PSNR (dB) and SSIM of the noisy input and of the reconstruction, both against the clean images."""
    is_image = clean.ndim == 4
    return {
        "psnr_noisy": metrics.psnr(clean, noisy),
        "psnr_rec": metrics.psnr(clean, rec),
        "ssim_noisy": metrics.ssim(clean, noisy) if is_image else None,
        "ssim_rec": metrics.ssim(clean, rec) if is_image else None,
    }


def error_map(clean: np.ndarray, rec: np.ndarray) -> np.ndarray:
    """Per-pixel squared error of one image, averaged over channels: (C, H, W) x 2 -> (H, W)."""
    assert clean.ndim == 3 and clean.shape == rec.shape, f"error_map needs two (C, H, W) images, got {clean.shape}"
    return ((np.asarray(clean, np.float64) - np.asarray(rec, np.float64)) ** 2).mean(0)


def noise_levels(kind: str, n: int = 8) -> list[float]:
    """n evenly spaced levels from 0 to the noise's widest sensible level."""
    noise.check(kind, 0.0)
    return [round(float(v), 6) for v in np.linspace(0.0, noise.NOISES[kind].max_level, n)]


@dataclass(frozen=True)
class Curve:
    """Reconstruction PSNR against noise level, with the PSNR of the noisy input itself as the no-model reference."""

    kind: str
    levels: list[float]
    recon_psnr: list[float]
    noisy_psnr: list[float]


def robustness_curve(model: Any, x: np.ndarray, kind: str, levels: list[float] | None = None,
                     seed: int = 0) -> Curve:
    """How well `model` rebuilds the clean `x` from inputs corrupted at each level (the same noise for every run)."""
    levels = noise_levels(kind) if levels is None else list(levels)
    rec_psnr, noisy_psnr = [], []
    for level in levels:
        noisy = corrupt(x, kind, level, seed)
        rec_psnr.append(metrics.psnr(x, reconstruct_all(model, noisy)))
        noisy_psnr.append(metrics.psnr(x, noisy))
    return Curve(kind, levels, rec_psnr, noisy_psnr)


def same_data(a: Any, b: Any) -> bool:
    """Two runs trained on the same dataset (source and params) with the same input shape: comparable curves."""
    return (a.data_source, a.data_params, tuple(a.input_shape)) == (b.data_source, b.data_params,
                                                                     tuple(b.input_shape))


# -- latent position of a new input ---------------------------------------------------------------------------------
def place_in_latent(model: Any, reference: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple]:
    """2-D positions of `reference` codes and of `new` inputs: raw codes when they are 2-D, else the PCA of the
    reference codes (the new points projected on it). Returns (ref_xy (N, 2), new_xy (M, 2), axis titles)."""
    z_ref = encode_all(model, reference).astype(np.float64)
    z_new = encode_all(model, new).astype(np.float64)
    if z_ref.shape[1] == 2:
        return z_ref, z_new, ("z1", "z2")
    ref_xy, comps, ratio = pca_2d(z_ref)
    new_xy = (z_new - z_ref.mean(0)) @ comps.T  # the same centring and axes as the reference
    return ref_xy, new_xy, (f"PC1 ({ratio[0]:.0%})", f"PC2 ({ratio[1]:.0%})")


# -- a drawn or uploaded picture -> one model input ---------------------------------------------------------------
def decode_upload(data: bytes, name: str) -> np.ndarray:
    """PNG/JPEG bytes -> (H, W, 3 or 4) uint8, or (H, W, 1) float for 16-bit greyscale; InputError if unusable."""
    if not data:
        raise InputError(f"{name} is empty (0 bytes); upload a PNG or JPEG picture.")
    if len(data) > image_limits.MAX_IMAGE_FILE_BYTES:
        raise InputError(f"{name} is larger than {image_limits.MAX_IMAGE_FILE_BYTES // 1024**2} MB; "
                         "upload a smaller picture.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=UPLOAD_FORMATS)  # header only: size is known before decoding
            if im.width * im.height > image_limits.MAX_IMAGE_PIXELS:
                raise InputError(f"{name} is {im.width}x{im.height} pixels, too large to decode; upload a smaller "
                                 "picture.")
            im.load()
    except InputError:
        raise
    except Exception as exc:  # UnidentifiedImageError, truncated data, bomb warnings, decoder errors
        detail = "not a PNG or JPEG" if isinstance(exc, Image.UnidentifiedImageError) else one_line(exc, 100)
        raise InputError(f"{name} is not a readable picture ({detail}); upload a .png or .jpg file.") from None
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # high bit depth: PIL's convert would clip it
        arr = np.asarray(im, np.float64)
        return (arr / (65535.0 if arr.max() > 255 else 255.0)).clip(0, 1)[..., None]
    rgba = np.asarray(im.convert("RGBA"))
    return rgba if (rgba[..., 3] < 255).any() else np.ascontiguousarray(rgba[..., :3])


def prepare_image(image: np.ndarray, shape: tuple[int, ...], background: float = 0.0) -> np.ndarray:
    """A picture (H, W), (H, W, 1|3|4), uint8 or float -> one input of `shape` (C, H, W), float32 in [0, 1].

    Transparency is flattened, a background opposite to the data's (`background`, 0 = black as in MNIST) is
    inverted, colour is made grey for 1-channel models, and 28x28 greyscale targets get MNIST's preprocessing.
    """
    if len(shape) != 3:
        raise InputError(f"Pictures can only be fed to image models; this run's inputs have shape {shape}.")
    rgb = _float_rgb(image)  # (h, w, 3)
    grey = rgb @ np.array([0.299, 0.587, 0.114])
    if abs(_border_level(grey) - background) > 0.5:  # e.g. dark ink on white paper for a black-background dataset
        rgb, grey = 1.0 - rgb, 1.0 - grey
    c, h, w = shape
    if (c, h, w) == (1, 28, 28) and background < 0.5:
        out = mnist_centre(grey)[None]
    elif c == 3:
        out = np.stack([_resize(rgb[..., i], h, w) for i in range(3)])
    else:
        out = np.repeat(_resize(grey, h, w)[None], c, axis=0)  # 1 channel (or any other count): grey in each
    return np.ascontiguousarray(np.clip(out, 0.0, 1.0), dtype=np.float32)


def mnist_centre(grey: np.ndarray) -> np.ndarray:
    """Bright ink on black (h, w) -> (28, 28): crop to the ink, fit into 20x20 keeping the aspect ratio, then place
    so the centre of mass sits at the centre, as MNIST's digits were made."""
    out = np.zeros((28, 28))
    rows, cols = np.flatnonzero((grey > INK).any(1)), np.flatnonzero((grey > INK).any(0))
    if len(rows) == 0:
        return out
    crop = grey[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    scale = MNIST_BOX / max(crop.shape)
    ph, pw = max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale))
    patch = np.clip(_resize(crop, ph, pw), 0, 1)
    mass = patch.sum()
    cy, cx = ((np.arange(ph) @ patch.sum(1)) / mass, (np.arange(pw) @ patch.sum(0)) / mass) if mass > 0 else \
        ((ph - 1) / 2, (pw - 1) / 2)
    top = int(np.clip(round(13.5 - cy), 0, 28 - ph))  # 13.5: the centre of a 28-pixel axis in index coordinates
    left = int(np.clip(round(13.5 - cx), 0, 28 - pw))
    out[top:top + ph, left:left + pw] = patch
    return out


def background_level(x: np.ndarray) -> float:
    """The typical paper colour of an image set (N, C, H, W): the median of its border pixels (0 for MNIST)."""
    x = np.asarray(x)
    assert x.ndim == 4, f"background_level needs images (N, C, H, W), got {x.shape}"
    edge = np.concatenate([x[..., 0, :].ravel(), x[..., -1, :].ravel(), x[..., :, 0].ravel(), x[..., :, -1].ravel()])
    return float(np.median(edge)) if edge.size else 0.0


def has_ink(image: np.ndarray) -> bool:
    """Whether a prepared input (C, H, W) holds anything (a blank canvas does not)."""
    return bool(np.asarray(image).max() > INK)


def _float_rgb(image: np.ndarray) -> np.ndarray:
    """Any picture array -> (h, w, 3) float64 in [0, 1], transparency composited onto the paper behind the ink."""
    arr = np.asarray(image)
    if arr.ndim not in (2, 3) or arr.size == 0 or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise InputError(f"A picture must be (H, W) or (H, W, 1|3|4); got shape {arr.shape}. Upload a PNG or JPEG.")
    arr = arr.astype(np.float64) / (255.0 if arr.dtype == np.uint8 else 1.0)
    arr = np.clip(np.nan_to_num(arr), 0.0, 1.0)
    if arr.ndim == 2:
        arr = arr[..., None]
    alpha = arr[..., 3:4] if arr.shape[2] == 4 else None
    rgb = np.repeat(arr, 3, axis=2) if arr.shape[2] == 1 else arr[..., :3]
    if alpha is not None:
        seen = alpha[..., 0] > 0.5
        ink = rgb[seen].mean() if seen.any() else 1.0
        paper = 1.0 if ink < 0.5 else 0.0  # dark ink goes on white paper, light ink on black
        rgb = rgb * alpha + paper * (1.0 - alpha)
    return rgb


def _border_level(grey: np.ndarray) -> float:
    """The median brightness of the outermost pixels: the paper's colour."""
    edge = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return float(np.median(edge))


def _resize(plane: np.ndarray, h: int, w: int) -> np.ndarray:
    """One float plane -> (h, w), antialiased when shrinking."""
    if plane.shape == (h, w):
        return plane.astype(np.float64)
    img = Image.fromarray(np.asarray(plane, np.float32))  # float32 -> mode "F"
    return np.asarray(img.resize((w, h), Image.Resampling.LANCZOS), np.float64)
