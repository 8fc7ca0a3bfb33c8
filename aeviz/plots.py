"""Pure figure builders: arrays in, Plotly figures (or uint8 image tiles) out. Testable without Streamlit.

Scatter plots are one WebGL trace coloured through `marker.color`; each point carries its data row in `customdata`, so
a scatter of a sample (a million points are never all sent to a browser) still selects rows.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.colors as pc
import plotly.graph_objects as go
import plotly.io as pio

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#393b79", "#ad494a", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d",
           "#31a354", "#756bb1"]
# Class colours as numbers on a stepped scale: plotly checks a list of colour strings one by one (~20 ms for 1,000
# points), a number array at once.
CLASS_SCALE = dict(colorscale=[[edge, PALETTE[i]] for i in range(len(PALETTE))
                               for edge in (i / len(PALETTE), (i + 1) / len(PALETTE))],
                   cmin=-0.5, cmax=len(PALETTE) - 0.5)
PART_COLOURS = {"loss": "#111111", "recon": "#1f77b4", "kl": "#d62728", "sparsity": "#2ca02c",
                "contractive": "#9467bd", "prediction": "#e377c2"}  # not orange: the validation loss's colour
# Every figure's template: Plotly's white theme, the title in a row of its own under the mode bar (which Plotly draws
# over the figure's top-right corner, where a long title would run under it), and a mode bar without the buttons that
# crowd it onto two rows in a narrow column (zoom in/out and autoscale: the zoom box and reset do the same).
TITLE_BELOW_TOOLBAR = 34  # px from the figure's top: the mode bar is 28 px tall, a title's box reaches above its text
TEMPLATE = go.layout.Template(pio.templates["plotly_white"])
TEMPLATE.layout.title.update(yref="container", y=1, yanchor="top", pad=dict(t=TITLE_BELOW_TOOLBAR))
TEMPLATE.layout.modebar.remove = ["zoomin", "zoomout", "autoscale"]
LAYOUT = dict(template=TEMPLATE, margin=dict(l=10, r=10, t=TITLE_BELOW_TOOLBAR + 30, b=10), height=320)
# A horizontal legend above the plot's top-right corner: below the plot it can collide with rotated tick labels.
LEGEND_TOP = dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1)
# A horizontal legend at the figure's bottom edge, under the axis title: Plotly grows the bottom margin to fit it, so it
# meets neither the tick labels, the axis title nor the chart's title, at any size of text (LEGEND_TOP meets a long
# title in a narrow column; `y=-0.25` meets the axis title when the text is large).
LEGEND_BELOW = dict(orientation="h", yref="container", yanchor="bottom", y=0, xanchor="left", x=0)
# Plotly's own "download as PNG" button, for every chart the app draws: a 3x image (about 2000 px wide) with a
# name, the size a slide needs (a chart is ~700 px on screen). The chart itself stays interactive; no server work.
CHART_CONFIG = {"displaylogo": False,
                "toImageButtonOptions": {"format": "png", "scale": 3, "filename": "aeviz-chart"}}


def to_uint8(images: np.ndarray) -> np.ndarray:
    """(N, C, H, W) in [0, 1] -> (N, H, W) or (N, H, W, 3) uint8 for display."""
    imgs = np.clip(np.asarray(images, np.float32), 0.0, 1.0)
    if imgs.ndim == 3:
        imgs = imgs[:, None]
    if imgs.shape[1] == 1:
        out = imgs[:, 0]
    else:
        out = np.moveaxis(imgs[:, :3], 1, -1)
        if out.shape[-1] == 2:
            out = np.concatenate([out, np.zeros_like(out[..., :1])], -1)
    return (out * 255 + 0.5).astype(np.uint8)


def tile(images: np.ndarray, cols: int = 10, pad: int = 1, scale: int = 1) -> np.ndarray:
    """A grid of images (N, C, H, W) -> one uint8 picture, white gaps between cells, upscaled by `scale`."""
    imgs = to_uint8(images)
    n = len(imgs)
    if n == 0:
        return np.full((8, 8), 255, np.uint8)
    cols = max(1, min(cols, n))
    rows = (n + cols - 1) // cols
    h, w = imgs.shape[1:3]
    shape = (rows * (h + pad) + pad, cols * (w + pad) + pad) + imgs.shape[3:]
    grid = np.full(shape, 255, np.uint8)
    for i, img in enumerate(imgs):
        r, c = divmod(i, cols)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = img
    if scale > 1:
        grid = grid.repeat(scale, 0).repeat(scale, 1)
    return grid


def loss_curves(points: Sequence[dict[str, float]], history: Sequence[dict] = (), log_y: bool = True,
                marks: Sequence[tuple[float, str]] = ()) -> go.Figure:
    """Training loss (total and parts) per step against fractional epoch, validation loss per epoch as markers;
    a dashed line where the history's phase changes ("fine-tune starts") and at each of `marks` (epoch_x, text)."""
    fig = go.Figure()
    keys = [k for k in PART_COLOURS if any(k in p for p in points)]
    xs = [p["epoch"] for p in points]
    for key in keys:
        fig.add_trace(go.Scatter(x=xs, y=[p.get(key) for p in points], mode="lines", name=f"train {key}",
                                 line=dict(color=PART_COLOURS[key], width=2 if key == "loss" else 1.3)))
    if history:
        fig.add_trace(go.Scatter(x=[h["epoch"] for h in history], y=[h.get("val_loss") for h in history],
                                 mode="markers+lines", name="validation loss",
                                 line=dict(color="#ff7f0e", dash="dot"), marker=dict(size=7)))
    fig.update_layout(title="Loss (per image)", xaxis_title="epoch", legend=dict(orientation="h", y=-0.25),
                      **LAYOUT)
    _whole_epochs(fig, max(xs + [h["epoch"] for h in history], default=0))
    if log_y:
        fig.update_yaxes(type="log")
    add_marks(fig, phase_marks(history))
    add_marks(fig, marks, upright=True)
    return fig


def phase_marks(history: Sequence[dict]) -> list[tuple[float, str]]:
    """(epoch_x, "<phase> starts") where the recorded phase changes: epoch e's points lie in (e - 1, e]."""
    marks, before = [], None
    for h in history:
        phase = h.get("phase")
        if phase is not None and before is not None and phase != before:
            marks.append((float(h["epoch"]) - 1.0, f"{phase} starts"))
        before = phase if phase is not None else before
    return marks


def add_marks(fig: go.Figure, marks: Sequence[tuple[float, str]], upright: bool = False) -> go.Figure:
    """A vertical dashed line at each epoch_x, its text written up along it (marks one epoch apart never collide);
    `upright`: the text level at the top, left of the line on a white ground (a few marks a teacher points at)."""
    for i, (x, text) in enumerate(marks):
        fig.add_vline(x=x, line_dash="dash", line_color="#7f7f7f", line_width=1, annotation_text=text,
                      annotation_yshift=-20 * (i % 3) if upright else 0,  # upright texts in a row: stacked
                      annotation_position="top left", annotation_textangle=0 if upright else -90,
                      annotation_font=dict(size=12 if upright else 10, color="#333333" if upright else "#555555"),
                      annotation_bgcolor="rgba(255,255,255,0.85)" if upright else None)
    return fig


def metric_curve(history: Sequence[dict], key: str, title: str, baseline: float | None = None,
                 baseline_name: str = "PCA") -> go.Figure:
    fig = go.Figure(go.Scatter(x=[h["epoch"] for h in history], y=[h.get(key) for h in history],
                               mode="lines+markers", name=key))
    if baseline is not None:
        fig.add_hline(y=baseline, line_dash="dash", line_color="#d62728", annotation_text=baseline_name)
    fig.update_layout(title=title, xaxis_title="epoch", showlegend=False, **LAYOUT)
    _whole_epochs(fig, max((h["epoch"] for h in history), default=0))
    return fig


def _whole_epochs(fig: go.Figure, last: float) -> None:
    """A short run's axis ticks every whole epoch (Plotly would mark 1.5, 2.5); a long one keeps automatic ticks."""
    if last <= 12:
        fig.update_xaxes(tick0=0, dtick=1)


def class_colours(labels: np.ndarray | None, n: int) -> list[str]:
    if labels is None:
        return ["#1f77b4"] * n
    return [PALETTE[int(c) % len(PALETTE)] for c in labels]


MAX_DRAWN = 20_000  # points a scatter draws unless told otherwise: ~1 MB to send, drawn at once by any browser


def drawn_rows(n: int, cap: int = MAX_DRAWN, seed: int = 0) -> np.ndarray:
    """The rows a scatter of n points draws: all of them up to `cap`, else a seeded random `cap` of them (sorted,
    so the same rows on every visit and in every chart of the same points)."""
    if n <= cap:
        return np.arange(n)
    return np.sort(np.random.default_rng([seed, n]).choice(n, cap, replace=False))


def drawn_words(shown: int, n: int, what: str = "points") -> str:
    """'All 2,000 points are drawn' or '20,000 of the 200,000 points are drawn (a seeded random sample)'."""
    if shown >= n:
        return f"All {n:,} {what} are drawn"
    return f"{shown:,} of the {n:,} {what} are drawn (a seeded random sample)"


def point_rows(fig: go.Figure, indices: Sequence[int]) -> list[int]:
    """The data rows of points of the scatter's first trace (their `customdata`; plain indices for other figures)."""
    rows = fig.data[0].customdata if fig.data else None
    if rows is None:
        return [int(i) for i in indices]
    return [int(rows[int(i)]) for i in indices if 0 <= int(i) < len(rows)]


def hover_text(rows: np.ndarray, labels: np.ndarray | None, classes: Sequence[str] | None) -> np.ndarray:
    """"#row · class" per point, as a numpy string array (plotly checks a list item by item: ~1 s per 100,000)."""
    if labels is None:
        return np.array([f"#{r}" for r in rows])
    return np.array([f"#{r} · {classes[int(c)] if classes else int(c)}" for r, c in zip(rows, labels[rows])])


def histogram(values: np.ndarray, edges: np.ndarray, **trace: object) -> go.Bar:
    """A histogram binned here, not in the browser: a bar per bin, so 200,000 values cost as little to send and
    draw as 200. `edges` (bins + 1,) from e.g. `np.histogram_bin_edges`."""
    counts, edges = np.histogram(np.asarray(values), bins=edges)
    return go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=counts, width=np.diff(edges), **trace)


def latent_scatter(xy: np.ndarray, labels: np.ndarray | None = None, classes: Sequence[str] | None = None,
                   title: str = "Latent space", axis_titles: tuple[str, str] = ("z1", "z2"),
                   values: np.ndarray | None = None, value_name: str = "", rows: np.ndarray | None = None
                   ) -> go.Figure:
    """One Scattergl trace of 2-D points: coloured by class (with a legend made of empty traces) or by a value.
    It draws the points in `rows` (default `drawn_rows`: all, or a sample of MAX_DRAWN, which the title then states);
    each point's row is its `customdata` (`point_rows` maps a selection back)."""
    xy = np.asarray(xy)
    if rows is None:
        rows = drawn_rows(len(xy))
        if len(rows) < len(xy):
            title = f"{title} · {len(rows):,} of {len(xy):,} drawn"
    rows = np.asarray(rows, np.int64)
    labels = None if labels is None else np.asarray(labels)
    if values is not None:
        marker = dict(color=np.asarray(values)[rows], colorscale="Viridis", showscale=True, size=5,
                      colorbar=dict(title=value_name))
    elif labels is not None:  # class numbers on CLASS_SCALE's steps
        marker = dict(color=labels[rows].astype(int) % len(PALETTE), **CLASS_SCALE, size=5, opacity=0.8)
    else:
        marker = dict(color=PALETTE[0], size=5, opacity=0.8)
    traces = [go.Scattergl(x=xy[rows, 0], y=xy[rows, 1], mode="markers", marker=marker,
                           text=hover_text(rows, labels, classes), hoverinfo="text", customdata=rows, showlegend=False,
                           name="codes")]
    if labels is not None and values is None:
        for c in np.unique(labels):  # legend entries only: they hold no points
            name = classes[int(c)] if classes else str(int(c))
            traces.append(go.Scattergl(x=[None], y=[None], mode="markers", name=name,
                                       marker=dict(color=PALETTE[int(c) % len(PALETTE)], size=8)))
    fig = go.Figure(traces)
    # Lasso by default; in zoom or pan mode Streamlit lets a click select one point.
    fig.update_layout(title=title, xaxis_title=axis_titles[0], yaxis_title=axis_titles[1], dragmode="lasso",
                      **{**LAYOUT, "height": 420})
    return fig


def points_3d(x: np.ndarray, labels: np.ndarray | None, title: str) -> go.Figure:
    fig = go.Figure(go.Scatter3d(x=x[:, 0], y=x[:, 1], z=x[:, 2], mode="markers",
                                 marker=dict(size=2.5, color=class_colours(labels, len(x)))))
    fig.update_layout(title=title, **{**LAYOUT, "height": 460})
    return fig


def bars(names: Sequence[str], values: Sequence[float], title: str, y_title: str = "") -> go.Figure:
    fig = go.Figure(go.Bar(x=list(names), y=list(values), marker_color="#1f77b4"))
    fig.update_layout(title=title, yaxis_title=y_title, **LAYOUT)
    fig.update_xaxes(type="category")
    return fig


# Inferno as rgb() strings: Streamlit's theming reads the hex "#000004" (Inferno's first stop) as a placeholder colour.
INFERNO = [[i / (len(pc.sequential.Inferno) - 1), "rgb({}, {}, {})".format(*pc.hex_to_rgb(c))]
           for i, c in enumerate(pc.sequential.Inferno)]


def dim_name(d: int) -> str:
    """Latent dimension d (0-based index) as people read it: z1, z2, ... like the scatter axes."""
    return f"z{d + 1}"


def log_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Ticks for an axis drawn in log10 units over [lo, hi], labelled with the plain values: 1, 2 and 5 times each
    power of ten over up to three decades, only the powers of ten beyond (so the labels never need rotating)."""
    steps = (1, 2, 5) if hi - lo <= 3 else (1,)
    values = [m * 10.0 ** e for e in range(int(np.floor(lo)), int(np.ceil(hi)) + 1) for m in steps]
    inside = [v for v in values if lo - 0.05 <= np.log10(v) <= hi + 0.05]
    return [float(np.log10(v)) for v in inside], [f"{v:g}".replace("e-0", "e-") for v in inside]


def heatmap(values: np.ndarray, title: str, colorscale: str | list = INFERNO, zmax: float | None = None) -> go.Figure:
    fig = go.Figure(go.Heatmap(z=np.asarray(values)[::-1], colorscale=colorscale, zmin=0, zmax=zmax))
    fig.update_layout(title=title, **{**LAYOUT, "height": 300})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x")
    return fig


def curves(x: Sequence[float], series: dict[str, Sequence[float]], title: str, x_title: str,
           y_title: str) -> go.Figure:
    """Several named lines on shared axes (e.g. PSNR against noise level, one line per run)."""
    fig = go.Figure()
    for i, (name, ys) in enumerate(series.items()):
        fig.add_trace(go.Scatter(x=list(x), y=list(ys), mode="lines+markers", name=name,
                                 line=dict(color=PALETTE[i % len(PALETTE)])))
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, legend=dict(orientation="h", y=-0.25),
                      **LAYOUT)
    return fig
