"""The latent page's search: highlight points by class, by row and by reconstruction error, and draw them over the
rest. Parsing and matching live in `aeviz.analysis.selection`; the highlight trace in `aeviz.analysis.compare`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from aeviz.analysis import compare, selection
from aeviz.data import Dataset
from aeviz.errors import InputError
from aeviz.ui import url
from aeviz.ui.explore import Codes, class_name


@dataclass(frozen=True)
class Found:
    rows: np.ndarray | None  # sorted rows to highlight; None: no filter is set
    note: str  # the count line, "" when nothing is searched for


def controls(page: str, codes: Codes, data: Dataset) -> Found:
    """Three filters, all optional, combined with 'and'; returns the rows that pass them and a count line. A bad row
    text is refused in one st.error and ignored."""
    n = len(codes.z)
    st.markdown("**Find and highlight points**", help="Points that pass every filter you set are drawn on top, in "
                "their colours; the rest fade. Leave a filter empty (or the error range full) to not use it.")
    wanted: list = []
    if codes.y is not None:
        present = [int(c) for c in np.unique(codes.y)]
        wanted = url.multiselect(st, "Classes", present, key=f"{page}.find.labels", placeholder="any class",
                                 format_func=lambda c: class_name(data, c))
    text = url.text_input(st, "Rows", key=f"{page}.find.rows", max_chars=200, placeholder=f"e.g. 3, 10-20 (0-{n - 1})")
    try:
        rows = selection.parse_rows(text, n)
    except InputError as exc:
        st.error(str(exc), icon=":material/error:")
        rows = []
    pct = st.slider("Reconstruction error (percentiles)", 0, 100, (0, 100), key=f"{page}.find.error",
                    help="0-100 keeps every point; 90-100 keeps the tenth the model reconstructs worst.")
    found = selection.find(n, codes.y, wanted, rows, codes.errors, pct)
    if found is None:
        return Found(None, "")
    lo, hi = np.percentile(codes.errors, pct)
    extra = f" (MSE {lo:.3g} to {hi:.3g})" if tuple(pct) != (0, 100) else ""
    note = f"**{len(found):,} points highlighted**{extra}"
    st.markdown(note)
    return Found(found, note)


def draw(fig, xy: np.ndarray, found: Found, groups: np.ndarray | None, names: tuple[str, ...] | None = None):
    """The highlighted rows over the faded rest (a second trace), coloured by `groups` as the rest is (`names`: what
    the hover calls each group); `fig` unchanged when nothing is searched for."""
    if found.rows is None:
        return fig
    return compare.highlight(fig, xy, found.rows, groups, names)


def picked_rows(event, fig, n: int) -> list[int]:
    """A selection's rows, from any trace that carries rows (the scatter's and the highlight's `customdata`)."""
    points = ((event or {}).get("selection") or {}).get("points") or []  # a dict under AppTest, else PlotlyState
    rows = []
    for p in points:
        curve, i = p.get("curve_number", 0), int(p["point_index"])
        carried = fig.data[curve].customdata if curve < len(fig.data) else None
        if carried is not None and 0 <= i < len(carried):
            rows.append(int(carried[i]))
    return compare.clean_rows(rows, n)
