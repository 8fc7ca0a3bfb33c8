"""Decode encoded images (bytes) into one (N, C, H, W) float32 array, with pixel and memory limits checked first.

Two passes: headers only (sizes, so bombs are refused before any pixel is decoded, and the common size is known),
then decode + resize into a uint8 staging array. C is 3 if any image has colour, else 1.
"""

from __future__ import annotations

import io
import warnings
from collections import Counter

import numpy as np
from PIL import Image

from aeviz import memory
from aeviz.errors import InputError
from aeviz.loaders import images as limits  # limits and formats live beside the readers; read at call time
from aeviz.loaders import human_bytes, one_line

_HIGH_DEPTH = {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


def decode_images(
    items: list[tuple[tuple[str, ...], bytes]], name: str, size: tuple[int, int] | None
) -> tuple[np.ndarray, list[str]]:
    """(path parts, encoded bytes) -> x (N, C, H, W) float32 in [0, 1] and notes."""
    opened, decoded_bytes = [], 0
    for parts, data in items:
        member = "/".join(parts)
        im = _open(data, member, name)
        w, h = im.size
        if w * h > limits.MAX_IMAGE_PIXELS:
            raise _bomb(member, name, f"{w}x{h} = {w * h / 1e6:,.1f} M pixels")
        decoded_bytes += w * h * max(len(im.getbands()), 1)
        opened.append((member, im))
    h, w = size or _most_common([im.size for _, im in opened])
    notes: list[str] = []
    # staging is N*H*W*3 bytes and the result N*C*H*W*4: refuse before allocating either
    decoded_bytes += len(opened) * h * w * (3 + 3 * 4)
    budget = memory.budget()
    if decoded_bytes > min(limits.MAX_TOTAL_BYTES, budget):
        over = (memory.budget_text() if budget < limits.MAX_TOTAL_BYTES
                else f"the limit of {human_bytes(limits.MAX_TOTAL_BYTES)}")
        raise InputError(
            f"{name} would decode to {human_bytes(decoded_bytes)}, over {over}; use fewer or smaller images "
            "(or a smaller size)."
        )
    staging = np.empty((len(opened), h, w, 3), dtype=np.uint8)
    resized = 0
    for i, (member, im) in enumerate(opened):
        rgb = _to_rgb(_load(im, member, name))
        if rgb.size != (w, h):
            rgb = rgb.resize((w, h), Image.Resampling.BILINEAR)
            resized += 1
        staging[i] = np.asarray(rgb, dtype=np.uint8)
        im.close()  # free the decoded pixels now: only the staging array should grow with N
    if resized:
        why = "the size asked for" if size else "the most common size"
        notes.append(f"resized {resized} of {len(opened)} images to {h}x{w} ({why})")
    colour = bool(np.any(staging[..., 0] != staging[..., 1]) or np.any(staging[..., 0] != staging[..., 2]))
    chw = staging.transpose(0, 3, 1, 2) if colour else staging[:, None, :, :, 0]  # (N, H, W, 3) -> (N, C, H, W)
    x = np.multiply(chw, np.float32(1 / 255), dtype=np.float32)
    return np.ascontiguousarray(x), notes


def _open(data: bytes, member: str, name: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=limits.FORMATS)  # lazy: reads the header only
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb(member, name, one_line(exc, 100)) from None
    except Image.UnidentifiedImageError:  # its text names a BytesIO object: useless to the user
        raise InputError(f"{name}: {member} is not a valid image (not PNG/JPEG/GIF/BMP); remove or replace it.") \
            from None
    except Exception as exc:  # SyntaxError (PIL's "broken PNG"), struct.error, OSError...
        raise InputError(f"{name}: {member} is not a valid image ({one_line(exc, 100)}); remove or replace it.") \
            from None


def _bomb(member: str, name: str, detail: str) -> InputError:
    return InputError(
        f"{name}: {member} is a possible decompression bomb ({detail}); the limit is "
        f"{limits.MAX_IMAGE_PIXELS / 1e6:g} M pixels per image: shrink it or leave it out."
    )


def _load(im: Image.Image, member: str, name: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im.load()
        return im
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb(member, name, one_line(exc, 100)) from None
    except Exception as exc:  # truncated data, bad CRC, decoder errors
        raise InputError(f"{name}: {member} is a damaged image ({one_line(exc, 100)}); remove or replace it.") from None


def _to_rgb(im: Image.Image) -> Image.Image:
    """Any mode -> 8-bit RGB. 16-bit and float greyscale are rescaled first (PIL's convert would clip them)."""
    if im.mode in _HIGH_DEPTH:
        arr = np.asarray(im, dtype=np.float64)
        top = 1.0 if im.mode == "F" and arr.max() <= 1.0 else 65535.0 if arr.max() > 255 else 255.0
        grey = np.clip(arr / top * 255.0, 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    return im.convert("RGB")  # palette, greyscale, CMYK, RGBA (alpha dropped) all end as RGB


def _most_common(sizes: list[tuple[int, int]]) -> tuple[int, int]:
    """(H, W) of the most common PIL (W, H) size; the first seen wins a tie (inputs are sorted, so deterministic)."""
    (h, w), _ = Counter((h, w) for w, h in sizes).most_common(1)[0]
    return h, w
