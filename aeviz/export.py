"""Figures for slides, drawn on the server: the EXPORTS registry, `export` to a file and `export_bytes` for the app.

matplotlib through its Agg canvas (no GUI backend, no pyplot state, so it is safe in the app's threads) for PNG and
SVG at presentation size, 1920 x 1080 px; Pillow for the replay GIF. Plotly's own static export would need kaleido
and a browser download, which a workshop machine may not have.
"""

from __future__ import annotations

import io
import textwrap
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image

from aeviz import replay as replays
from aeviz import steering
from aeviz.analysis.generation import prior_samples
from aeviz.errors import InputError
from aeviz.evaluation import encode_all, reconstruct_all
from aeviz.plots import PALETTE, PART_COLOURS, phase_marks, tile
from aeviz.projections import aligned_pca, pca_2d

SIZE = (12.8, 7.2)  # inches, 16:9 like a slide
DPI = 150  # -> 1920 x 1080 px
FRAME_MS, LAST_FRAME_MS = 400, 1600  # the loop rests on the trained map before it starts again
MAX_FRAMES = 200  # one frame per epoch up to here; a longer run's GIF shows 200 evenly spaced epochs
MAX_POINTS, N_RECON, N_SAMPLES = 2000, 8, 32
STYLE = {"font.size": 16, "axes.titlesize": 22, "axes.labelsize": 18, "legend.fontsize": 14,
         "axes.spines.top": False, "axes.spines.right": False, "svg.fonttype": "none"}  # SVG text stays text
NO_REPLAY = ("This run has no replay (trained before replays were saved); continue training it for a few epochs "
             "to record one.")
_DRAW = threading.Lock()  # rcParams are process-wide: style one figure at a time


def _figure() -> Figure:
    fig = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _labels(data: Any, rows: np.ndarray) -> np.ndarray | None:
    return None if data.y is None else data.y[rows]


def _scatter(ax: Any, xy: np.ndarray, labels: np.ndarray | None, classes: Any, size: float = 14) -> list:
    """One collection per class in the app's class colours, legend beside the axes; returns the collections."""
    if labels is None:
        return [ax.scatter(xy[:, 0], xy[:, 1], s=size, color=PALETTE[0], alpha=0.8, linewidths=0)]
    out = []
    for c in np.unique(labels):
        rows = labels == c
        name = classes[int(c)] if classes else str(int(c))
        out.append(ax.scatter(xy[rows, 0], xy[rows, 1], s=size, color=PALETTE[int(c) % len(PALETTE)], alpha=0.8,
                              linewidths=0, label=name))
    if len(out) <= 20:  # a legend of more classes would not fit the height of a slide
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, markerscale=2.5)
    return out


def _axis_names(dim: int) -> tuple[str, str]:
    return ("z1", "z2") if dim == 2 else ("PC 1", "PC 2")


# -- the exporters: (run, data, out, fmt) -> writes `out` ---------------------------------------------------------
def latent_gif(run: Any, data: Any, out: IO[bytes], fmt: str) -> None:
    """The replay as an animated GIF: one frame per captured epoch, fixed axes, coloured by class."""
    replay = replays.of_run(run)
    if replay is None or not replay.epochs:
        raise InputError(NO_REPLAY)
    if replay.probe_idx.max() >= len(data.x):
        raise InputError(f"The run's replay indexes {replay.probe_idx.max() + 1} samples but its data has "
                         f"{len(data.x)}; the data changed since training.")
    epochs, xy = replays.frames(replay)
    keep = replays.spaced(len(epochs), MAX_FRAMES)
    pictures = _gif_frames([epochs[i] for i in keep], xy[keep], _labels(data, replay.probe_idx), data.classes,
                           replay.codes[0].shape[1])
    _write_gif(pictures, out)


def _gif_frames(epochs: list[int], xy: np.ndarray, labels: np.ndarray | None, classes: Any,
                dim: int) -> list[Image.Image]:
    """One figure, its points moved frame by frame (set_offsets), each drawn to an RGB picture."""
    fig = _figure()  # full HD too: 21 frames of 500 points are ~650 kB (~350 kB at 1280 x 720)
    canvas = fig.canvas
    ax = fig.add_subplot()
    groups = [labels == c for c in np.unique(labels)] if labels is not None else [slice(None)]
    dots = _scatter(ax, xy[-1], labels, classes, size=20)
    _fixed_limits(ax, xy)
    ax.set(xlabel=_axis_names(dim)[0], ylabel=_axis_names(dim)[1])
    fig.supxlabel(textwrap.fill(replays.describe(dim), 110), fontsize=12, color="#555555")  # a line fits 12.8 in
    pictures = []
    for epoch, frame in zip(epochs, xy):
        for dot, rows in zip(dots, groups):
            dot.set_offsets(frame[rows])
        ax.set_title(f"epoch {epoch}")
        canvas.draw()
        fig.set_layout_engine("none")  # laid out once: a title that grows a digit must not move the axes
        pictures.append(Image.fromarray(np.ascontiguousarray(np.asarray(canvas.buffer_rgba())[..., :3])))
    return pictures


def _fixed_limits(ax: Any, xy: np.ndarray) -> None:
    """Axes that hold every frame's points, with a margin, at one scale on both axes."""
    lo, hi = xy.reshape(-1, 2).min(0), xy.reshape(-1, 2).max(0)
    pad = 0.05 * np.maximum(hi - lo, 1e-6)
    ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0]), ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
    ax.set_aspect("equal", adjustable="box")  # the box shrinks to fit, the limits stay fixed


def _write_gif(pictures: list[Image.Image], out: IO[bytes]) -> None:
    """One palette for every frame (taken from the last, which holds every colour), so colours never flicker."""
    palette = pictures[-1].quantize(colors=128)
    frames = [p.quantize(palette=palette, dither=Image.Dither.NONE) for p in pictures]
    durations = [FRAME_MS] * (len(frames) - 1) + [LAST_FRAME_MS]
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0)


def latent(run: Any, data: Any, out: IO[bytes], fmt: str) -> None:
    """The current model's codes of the validation set (up to MAX_POINTS), 2-D by PCA unless they are 2-D."""
    rows = data.val_idx[:MAX_POINTS]
    with run.lock:  # a trainer in this process must not step the weights mid-way
        z = encode_all(run.model, data.x[rows])
    fig = _figure()
    ax = fig.add_subplot()
    _scatter(ax, aligned_pca(z, None)[0], _labels(data, rows), data.classes)
    ax.set_aspect("equal", adjustable="datalim")
    names = _axis_names(z.shape[1])
    ax.set(title=f"Latent space after epoch {run.epoch} ({len(rows):,} validation samples)", xlabel=names[0],
           ylabel=names[1])
    fig.savefig(out, format=fmt)


def loss(run: Any, data: Any, out: IO[bytes], fmt: str) -> None:
    """Loss per epoch (training, validation and the validation loss's parts), marks at phases and live changes."""
    history = list(run.history)
    if not history:
        raise InputError("This run has no finished epoch yet, so no loss to draw; train it for an epoch first.")
    fig = _figure()
    ax = fig.add_subplot()
    x = [h["epoch"] for h in history]
    series = {"training loss": ("train_loss", "#111111", "-"), "validation loss": ("val_loss", "#ff7f0e", "--")}
    parts = [k for k in PART_COLOURS if k != "loss" and any(f"val_{k}" in h for h in history)]
    if len(parts) > 1:  # one part is the loss itself: drawing it again adds nothing
        series.update({f"validation {k}": (f"val_{k}", PART_COLOURS[k], ":") for k in parts})
    values = []
    for name, (key, colour, style) in series.items():
        ys = [h.get(key, np.nan) for h in history]
        values += [v for v in ys if v == v]
        ax.plot(x, ys, style, color=colour, marker="o", markersize=4, lw=2, label=name)
    if values and min(values) > 0 and max(values) / min(values) > 20:
        ax.set_yscale("log")
    _marks(ax, phase_marks(history) + [(steering.mark_x(c), _change_text(c)) for c in getattr(run, "changes", [])])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(title="Loss per image", xlabel="epoch")
    ax.legend(frameon=False)
    fig.savefig(out, format=fmt)


def _marks(ax: Any, marks: list[tuple[float, str]]) -> None:
    """A dashed vertical line at each epoch_x, its text written up along it (like `plots.add_marks`)."""
    for x, text in marks:
        ax.axvline(x, ls="--", lw=1, color="#7f7f7f")
        ax.text(x, 0.98, text, rotation=90, va="top", ha="right", fontsize=12, color="#555555",
                transform=ax.get_xaxis_transform(), bbox=dict(facecolor="white", edgecolor="none", alpha=0.8))


def _change_text(change: dict) -> str:
    """'lr 0.001 → 0.01': the mark's place on the axis already says when."""
    return f"{change['name']} {change['old']:.3g} → {change['new']:.3g}"


def recon(run: Any, data: Any, out: IO[bytes], fmt: str) -> None:
    """Images: 8 validation inputs over their reconstructions. Vectors: inputs (grey) and reconstructions."""
    rows = data.val_idx[:N_RECON if data.is_image else MAX_POINTS]
    with run.lock:
        rec = reconstruct_all(run.model, data.x[rows])
    fig = _figure()
    ax = fig.add_subplot()
    if data.is_image:
        _image_grid(ax, np.concatenate([data.x[rows], rec]), len(rows), ("input", "reconstruction"))
    else:
        _over_data(ax, data.x[rows], rec, _labels(data, rows), data.classes)
    ax.set_title(f"Reconstructions after epoch {run.epoch}")
    fig.savefig(out, format=fmt)


def _image_grid(ax: Any, images: np.ndarray, cols: int, row_names: tuple[str, ...] = ()) -> None:
    grid = tile(images, cols=cols, pad=1)
    ax.imshow(grid, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    ax.set_xticks([])
    rows = len(row_names)
    ax.set_yticks([(i + 0.5) * grid.shape[0] / rows for i in range(rows)], row_names)
    ax.tick_params(left=False)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)


def _over_data(ax: Any, inputs: np.ndarray, points: np.ndarray, labels: np.ndarray | None, classes: Any) -> None:
    """Vector data: the inputs in grey and `points` (same space) coloured, both through the inputs' 2-D view."""
    inputs, points = inputs.reshape(len(inputs), -1), points.reshape(len(points), -1)
    if inputs.shape[1] == 2:
        view, other, names = inputs, points, ("x1", "x2")
    else:  # the inputs' PCA, applied to the points too, so both are seen through the same plane
        view, comps, _ = pca_2d(inputs)
        other, names = (points - inputs.mean(0)) @ comps.T, ("PC 1 of the data", "PC 2 of the data")
    ax.scatter(view[:, 0], view[:, 1], s=10, color="#c7c7c7", linewidths=0, label="data")
    _scatter(ax, other, labels, classes)
    ax.set(xlabel=names[0], ylabel=names[1])
    ax.set_aspect("equal", adjustable="datalim")


def samples(run: Any, data: Any, out: IO[bytes], fmt: str) -> None:
    """Decodes of draws from the prior N(0, I), for a model that has one (a VAE)."""
    if not run.model.has_prior:
        raise InputError(f"This {run.model_name} model has no prior to sample from; 'samples' needs a VAE. Export "
                         "'recon' or 'latent' instead.")
    with run.lock:
        drawn = prior_samples(run.model, N_SAMPLES if data.is_image else 500, seed=0)
    fig = _figure()
    ax = fig.add_subplot()
    if data.is_image:
        _image_grid(ax, drawn, N_SAMPLES // 4)
        ax.set_yticks([])
    else:
        _over_data(ax, data.x[data.val_idx[:MAX_POINTS]], drawn, None, None)
    ax.set_title(f"Samples from the prior N(0, I), decoded (epoch {run.epoch})")
    fig.savefig(out, format=fmt)



@dataclass(frozen=True)
class Exporter:
    draw: Callable[[Any, Any, IO[bytes], str], None]
    formats: tuple[str, ...]
    help: str


FIGURE = ("png", "svg")
EXPORTS: dict[str, Exporter] = {
    "latent-gif": Exporter(latent_gif, ("gif",), "the latent replay, one frame per epoch"),
    "latent": Exporter(latent, FIGURE, "the latent map of the validation set after the last epoch"),
    "loss": Exporter(loss, FIGURE, "loss per epoch, with phase changes and live changes marked"),
    "recon": Exporter(recon, FIGURE, "validation inputs over their reconstructions"),
    "samples": Exporter(samples, FIGURE, "decoded samples from the prior (VAE only)"),
}


def check_target(what: str, out: Path) -> str:
    """The format `out`'s suffix asks for, if `what` can be written in it and `out`'s folder exists; else InputError
    naming the choices (a mistyped folder is refused, not created)."""
    if what not in EXPORTS:
        raise InputError(f"Unknown export {what!r}. Choose one of {sorted(EXPORTS)}.")
    fmt = Path(out).suffix.lower().lstrip(".")
    allowed = EXPORTS[what].formats
    if fmt not in allowed:
        raise InputError(f"{what!r} is written as {' or '.join(allowed)}; give a file name ending in "
                         f"{' or '.join('.' + f for f in allowed)} (got {Path(out).name!r}).")
    if not Path(out).parent.is_dir():
        raise InputError(f"{Path(out).parent} is not a folder; create it first or write the file elsewhere.")
    return fmt


def export_bytes(run: Any, data: Any, what: str, fmt: str) -> bytes:
    """The file's contents, for a download button."""
    check_target(what, Path(f"x.{fmt}"))
    buffer = io.BytesIO()
    with _DRAW, matplotlib.rc_context(STYLE):
        EXPORTS[what].draw(run, data, buffer, fmt)
    return buffer.getvalue()


def export(run: Any, data: Any, what: str, out: Path) -> Path:
    """Write the export `what` to `out` (its format from the suffix); drawn whole before the file is opened."""
    out = Path(out)
    content = export_bytes(run, data, what, check_target(what, out))
    out.write_bytes(content)
    return out
