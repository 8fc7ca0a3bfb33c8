"""The compare page's parts: which runs it offers, their maps side by side with a linked selection, and their
reconstructions of the same inputs in one grid.

The selection lives in st.session_state: "compare.selected" (rows of the validation split) and "compare.source" (the
chart it was made in), and is drawn over every map. Each chart's last seen selection is kept in "compare.seen" (chart
key -> (the highlight it drew, its rows)), so a rerun tells which chart the user just selected in: the others still
report their old selections, and a chart whose highlight changed is new to Streamlit, its selection reset.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from aeviz import catalog, plots
from aeviz.analysis import compare
from aeviz.data import Dataset
from aeviz.errors import InputError
from aeviz.runs import Run
from aeviz.ui import explore, state, url
from aeviz.ui.text import plain, plotly_plain

SELECTED, SOURCE, SEEN = "compare.selected", "compare.source", "compare.seen"


def short_name(run: Run, limit: int = 34) -> str:
    """'Plain AE: the robustness baseline' or 'ae · z=4', cut to `limit` characters: a map title, a grid row."""
    parts = catalog.parts(catalog.row_of_run(run))
    name = parts["title"] or f"{parts['variant']} · {parts['code']}"
    return name if len(name) <= limit else name[:limit - 1] + "…"


def chip(run: Run) -> str:
    """A picked run as its chip in the picker says it: no data (the same for all) or status, at most 60 characters
    (a longer chip is cut off with '…' in half a 1024-px page)."""
    parts = catalog.parts(catalog.row_of_run(run))
    text = " · ".join(p for p in (parts["title"][:40], parts["variant"], parts["code"], parts["settings"],
                                  parts["epochs"]) if p)
    return text if len(text) <= 60 else text[:59] + "…"


def _candidates() -> tuple[Run | None, list[Run], int]:
    """The anchor (the current run, else the newest trained one), the trained runs on its data (it first, then
    newest first) and how many others there are. Runs from another data source are counted without being loaded."""
    rows = [r for r in state.visible_runs() if not r["error"] and r["epoch"] >= 1]
    session = [r for r in state.session_runs().values() if r.epoch >= 1]
    anchor = state.current_run()
    if anchor is None or anchor.epoch < 1:
        anchor = session[0] if session else (state.open_run(rows[0]["id"]) if rows else None)
    if anchor is None:
        return None, [], 0
    found, elsewhere = {anchor.id: anchor}, set()
    for row in rows:
        if row["id"] in found:
            continue
        if row["dataset"] != anchor.data_source:
            elsewhere.add(row["id"])
        elif (run := state.open_run(row["id"])) is not None:
            found[run.id] = run
    for run in session:
        found.setdefault(run.id, run)
    same, other = compare.split_comparable(anchor, list(found.values()))
    return anchor, same, len(other) + len(elsewhere - found.keys())


def pick_runs() -> tuple[list[Run], Dataset] | None:
    """The multiselect of runs on the current run's data (it and the newest other one preselected); None, with a
    note saying what to do, while fewer than two such runs exist."""
    anchor, same, other = _candidates()
    if anchor is None:
        st.warning("There are no trained runs to compare yet: train two models on the same data (say a plain and a "
                   "denoising autoencoder), then come back.", icon=":material/info:")
        st.page_link("pages/train.py", label="Train a model", icon=":material/model_training:")
        return None
    runs = {r.id: r for r in same}
    labels = {r.id: chip(r) for r in same}
    ids = list(labels)
    data_name = plain(catalog.parts(catalog.row_of_run(anchor))["data"])
    chosen = url.multiselect(st, f"Runs to compare (up to {compare.MAX_RUNS})", ids, key="compare.runs",
                             default=ids[:2], max_selections=compare.MAX_RUNS, format_func=labels.get,
                             help=f"only runs trained on {data_name}, the current run's data: their codes are of "
                                  "the same inputs, row by row")
    if other:
        st.caption(f":material/filter_alt: {other} run(s) on other data are not offered: they saw different "
                   "inputs. Make one of them the current run to compare runs on its data.")
    try:
        data = state.run_data(anchor)
    except InputError as exc:  # the data cannot be loaded (an upload gone after a restart)
        st.error(f"{exc} The runs' data cannot be loaded, so they cannot be compared.")
        return None
    if len(chosen) < 2:
        st.info("Pick at least two runs: " + ("train another model on this data first." if len(ids) < 2
                                               else "add one above."), icon=":material/compare:")
        return None
    return [runs[i] for i in chosen], data


@st.cache_data(max_entries=16, show_spinner=False)
def _map(run_id: str, revision: int, _z: np.ndarray) -> tuple[np.ndarray, tuple[str, str], str]:
    return compare.map_2d(_z)


def maps(runs: list[Run], data: Dataset) -> list[explore.Codes]:
    """The runs' maps side by side, a selection made in one drawn over all of them; returns the runs' codes."""
    codes = [explore.codes(r, data, "val") for r in runs]
    views = [_map(r.id, r.revision, c.z) for r, c in zip(runs, codes)]
    first = views[0][0]
    n = len(codes[0].z)
    keys = [f"compare.map.{i}.{r.id}" for i, r in enumerate(runs)]
    selected = compare.clean_rows(st.session_state.get(SELECTED, []), n)  # rows of another data set: none
    for col, run, c, (xy, axes, _), k in zip(st.columns(len(runs)), runs, codes, views, keys):
        xy = xy if xy is first else compare.agree(xy, first)
        # the title fits a half or a third of a 1024-px page; the axis titles say the method (PC1 or z1)
        name = plotly_plain(short_name(run, 40 if len(runs) < 3 else 22))
        fig = plots.latent_scatter(xy, c.y, data.classes, name, axes)
        fig.update_layout(legend=plots.LEGEND_BELOW)  # in every map: maps of one height, side by side
        if len(runs) > 2:  # a third of 1024 px: the full toolbar wraps onto a second row, over the title
            fig.update_layout(modebar_remove=[*plots.TEMPLATE.layout.modebar.remove, "pan", "toimage"])
        if selected:  # in every map: drawing a selection changes its chart, which clears Plotly's own marks
            compare.highlight(fig, xy, selected, c.y, data.classes)
        with col:
            event = st.plotly_chart(fig, key=k, on_select="rerun", selection_mode=("points", "box", "lasso"),
                                    config=plots.CHART_CONFIG)
        _note_selection(k, event, fig, n, tuple(selected))
    return codes


def _note_selection(k: str, event, fig, n: int, drawn: tuple[int, ...]) -> None:
    """If chart `k` reports a new non-empty selection, it becomes the linked one and the page is drawn again with it.
    A chart whose highlight changed (`drawn`) is a new chart to Streamlit, its selection reset: not a new one."""
    points = ((event or {}).get("selection") or {}).get("points") or []  # a dict under AppTest, else PlotlyState
    rows = compare.clean_rows(plots.point_rows(fig, [p["point_index"] for p in points if p.get("curve_number", 0) == 0]),
                              n)
    seen = st.session_state.setdefault(SEEN, {})
    before = seen.get(k, ((), []))
    seen[k] = (drawn, rows)
    if before[0] == drawn and rows and rows != before[1]:
        st.session_state[SELECTED], st.session_state[SOURCE] = rows, k
        st.rerun()


def selection_line(runs: list[Run]) -> None:
    selected, source = st.session_state.get(SELECTED, []), st.session_state.get(SOURCE)
    if not selected:
        st.caption("Lasso (or pick the box tool, top right of a map) a group of points in one map: the same inputs "
                   "light up in the others.")
        return
    where = next((plain(short_name(r)) for r in runs if source and source.endswith("." + r.id)), "one map")
    st.markdown(f"**{len(selected):,} points selected** in *{where}*, highlighted in every map. "
                "A new lasso replaces them.")
    if st.button("Clear the selection", key="compare.clear", icon=":material/close:"):
        st.session_state[SELECTED], st.session_state[SOURCE] = [], None
        st.rerun()


def grid(runs: list[Run], codes: list[explore.Codes], data: Dataset) -> None:
    """A row of inputs (the selected ones, else the first), then each run's reconstructions of them."""
    if not data.is_image:
        st.caption("These data are vectors, not images: there is no reconstruction grid; the maps compare the codes.")
        return
    rows = compare.grid_rows(st.session_state.get(SELECTED, []), len(codes[0].x))
    what = "the first selected" if st.session_state.get(SELECTED) else "the first validation"
    st.caption(f"{what.capitalize()} inputs ({len(rows)}), then each run's reconstruction of them; the number is "
               "its mean squared error over the whole validation split (lower is better).")
    with st.container(key="compare.grid"):
        for name, images in [("**inputs**", codes[0].x[rows])] + [
                (f"**{plain(short_name(r))}**  \nMSE {c.errors.mean():.4f}", c.x_hat[rows])
                for r, c in zip(runs, codes)]:
            left, right = st.columns([1, 4], vertical_alignment="center")
            left.markdown(name)
            right.image(plots.tile(images, cols=len(rows), scale=2), clamp=True)
