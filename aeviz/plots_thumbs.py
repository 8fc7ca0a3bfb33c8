"""Thumbnails on a 2-D map: which inputs to draw at their points, and the Plotly layout images that draw them.

Each thumbnail is a Plotly layout image in data coordinates (xref="x", sizex in data units), so it grows when the
user zooms in, holding a small PNG data URI. Grayscale inputs are drawn in their class colour with the pixel's ink as
alpha (coloured strokes on the white plot: the classes stay visible); colour inputs keep their colours inside a frame
of the class colour. Beyond `ALL_UP_TO` points a grid over the map keeps one input per occupied cell, the one nearest
the cell's centre, so sparse regions show as well as dense ones.
Measured (2026-11, MNIST 28x28, a 1-epoch AE's PCA map): about 840 bytes of figure JSON per thumbnail; the figure is
1.8 MB with all 2,000 validation digits (0.1 MB without them) and 0.8 MB with 404 of 10,000 (0.44 MB without); the
thumbnails take 0.33 s and 0.09 s to build, and appear 3.3 s and 2.0 s after the toggle in chromium.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import plotly.colors as pc
import plotly.graph_objects as go
from PIL import Image

from aeviz.plots import PALETTE, to_uint8

ALL_UP_TO = 2000  # every input is drawn up to this many points
GRID = (28, 22)  # cells across and down beyond that: at most 616 thumbnails, about 18 px each in a 520x400 plot
MAX_SIDE = 32  # larger inputs are shrunk (block means) to at most this many pixels a side: the JSON stays small
INK = "#222222"  # the colour of grayscale inputs that have no class


def pick(xy: np.ndarray, limit: int = ALL_UP_TO, grid: tuple[int, int] = GRID) -> np.ndarray:
    """Sorted rows to draw: all of them when there are at most `limit`; else one per occupied cell of a `grid` over
    the points' extent, the one nearest the cell's centre (a tie: the lower row)."""
    xy = np.asarray(xy, np.float64)
    n = len(xy)
    if n <= limit:
        return np.arange(n)
    g = np.asarray(grid)
    lo, hi = xy.min(0), xy.max(0)
    rel = (xy - lo) / np.where(hi > lo, hi - lo, 1.0) * g  # (N, 2) in cell units
    cell = np.minimum(rel.astype(np.int64), g - 1)
    off_centre = ((rel - cell - 0.5) ** 2).sum(1)
    flat = cell[:, 1] * g[0] + cell[:, 0]
    order = np.lexsort((np.arange(n), off_centre, flat))  # by cell, then distance to its centre, then row
    firsts = order[np.r_[True, flat[order][1:] != flat[order][:-1]]]
    return np.sort(firsts)


def size(xy: np.ndarray, shown: int, grid: tuple[int, int] = GRID) -> tuple[float, float]:
    """A thumbnail's width and height in data units: one grid cell, larger (up to 2.5 cells) when few are shown."""
    xy = np.asarray(xy, np.float64)
    span = np.ptp(xy, 0) if len(xy) else np.ones(2)
    span = np.where(span > 0, span, 1.0)
    grow = 1.0 / np.clip(np.sqrt(max(shown, 1) / (grid[0] * grid[1])), 0.4, 1.0)
    return float(span[0] / grid[0] * grow), float(span[1] / grid[1] * grow)


def _shrink(imgs: np.ndarray) -> np.ndarray:
    """(N, H, W[, 3]) uint8 -> the same with sides <= MAX_SIDE, by means over f x f blocks."""
    f = int(np.ceil(max(imgs.shape[1:3]) / MAX_SIDE))
    if f <= 1:
        return imgs
    h, w = imgs.shape[1] // f * f, imgs.shape[2] // f * f
    blocks = imgs[:, :h, :w].reshape(len(imgs), h // f, f, w // f, f, *imgs.shape[3:])
    return blocks.mean((2, 4)).round().astype(np.uint8)


def _png(pixels: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG", compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _rgb(colour: str) -> np.ndarray:
    return np.asarray(pc.hex_to_rgb(colour), np.uint8)


def sources(images: np.ndarray, labels: np.ndarray | None = None) -> list[str]:
    """Inputs (N, C, H, W) in [0, 1] -> PNG data URIs: grayscale as their class colour (INK without labels) with the
    ink as alpha, the background judged from the border pixels; colour ones framed in their class colour."""
    imgs = _shrink(to_uint8(images))
    colours = [_rgb(PALETTE[int(c) % len(PALETTE)] if labels is not None else INK)
               for c in (labels if labels is not None else np.zeros(len(imgs)))]
    out = []
    if imgs.ndim == 3:  # grayscale (N, H, W)
        border = np.concatenate([imgs[:, 0], imgs[:, -1], imgs[:, :, 0], imgs[:, :, -1]], axis=None)
        ink = 255 - imgs if len(border) and np.median(border) > 127 else imgs  # dark strokes on a light ground
        for alpha, rgb in zip(ink, colours):
            rgba = np.empty((*alpha.shape, 4), np.uint8)
            rgba[..., :3], rgba[..., 3] = rgb, alpha
            out.append(_png(rgba))
        return out
    for img, rgb in zip(imgs, colours):  # colour (N, H, W, 3): a one-pixel frame
        framed = np.empty((img.shape[0] + 2, img.shape[1] + 2, 3), np.uint8)
        framed[:], framed[1:-1, 1:-1] = rgb, img
        out.append(_png(framed))
    return out


def layout_images(xy: np.ndarray, rows: np.ndarray, srcs: list[str], grid: tuple[int, int] = GRID) -> list[dict]:
    """Plotly layout images of `srcs` (one per row in `rows`) centred on their points, sized in data units."""
    sx, sy = size(xy, len(rows), grid)
    return [{"source": s, "xref": "x", "yref": "y", "x": float(xy[i, 0]), "y": float(xy[i, 1]), "sizex": sx,
             "sizey": sy, "xanchor": "center", "yanchor": "middle", "layer": "above"} for i, s in zip(rows, srcs)]


def add(fig: go.Figure, images: list[dict]) -> go.Figure:
    """`fig` with the thumbnails drawn over its points (the points stay, for hover and selection)."""
    fig.update_layout(images=images)
    return fig
