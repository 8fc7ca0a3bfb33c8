"""Presenter mode and lesson links: `?present=1` for a projector, `?hide=name,name` to hide parts of every page.

Both are read from the URL (`st.query_params`), so a teacher can share a link that opens the app the way the lesson
needs it. The CSS injected here is this module's own constant text: nothing from the URL ever reaches HTML. A bad
value is ignored and named in one small caption (as code, shortened), never raised.

The base CSS (always on) keeps a 1024x768 screen readable: metric labels and button labels wrap instead of ending in
"...", a page's formula shrinks to fit its column (and scrolls if it still cannot), and the page starts higher.
Chart titles clear of Plotly's mode bar are `aeviz.plots.TEMPLATE`'s work, for every figure.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

# Every name `?hide=` accepts, with what it hides (the sidebar toggle's help and the README list these).
HIDE = {
    "settings": "the Train page's settings (the variant's knobs and the training knobs)",
    "explanations": "each page's concept text, formula and 'Try this' hint",
    "formula": "each page's formula only",
    "hints": "each page's 'Try this' hint only",
    "sidebar": "the sidebar with the navigation (and the button that opens it)",
    "toolbar": "the chart toolbars (Plotly's mode bar and the full-screen buttons)",
    "runs": "the Train page's saved-runs panel",
}
TRUE, FALSE = ("1", "true"), ("0", "false")
SHOWN_CHARS = 40  # an ignored value is shown this long at most


@dataclasses.dataclass(frozen=True)
class Presentation:
    """What the URL asks for: presenter mode, the parts to hide, and the values that were ignored."""

    present: bool = False
    hide: frozenset[str] = frozenset()
    ignored: tuple[str, ...] = ()

    def shows(self, part: str) -> bool:
        assert part in HIDE, f"{part!r} is not in present.HIDE"
        return part not in self.hide and not (part in ("formula", "hints") and "explanations" in self.hide)


def parse(present: list[str], hide: list[str]) -> Presentation:
    """The query parameters' values (every `present=` and `hide=` in the URL) -> Presentation. Never raises."""
    ignored: list[str] = []
    on = False
    for value in present:  # the last valid value wins, as a person reads a URL
        word = value.strip().lower()
        if word in TRUE or word in FALSE:
            on = word in TRUE
        else:
            ignored.append(f"present={value}")
    names = set()
    for value in hide:
        for name in value.split(","):
            name = name.strip().lower()
            if name in HIDE:
                names.add(name)
            elif name:
                ignored.append(f"hide={name}")
    return Presentation(on, frozenset(names), tuple(ignored))


def settings() -> Presentation:
    """This page's Presentation, read from `st.query_params`."""
    return parse(st.query_params.get_all("present"), st.query_params.get_all("hide"))


def carried(p: Presentation | None = None) -> dict[str, str]:
    """The query parameters a link to another page keeps, so presenter mode and hidden parts stay on."""
    p = settings() if p is None else p
    out = {"present": "1"} if p.present else {}
    if p.hide:
        out["hide"] = ",".join(sorted(p.hide))
    return out


def shown(value: str) -> str:
    """A URL value made safe to show inside a markdown code span: printable, no backticks, at most 40 chars."""
    clean = "".join(c if c.isprintable() and c != "`" else "?" for c in value)
    return clean if len(clean) <= SHOWN_CHARS else clean[:SHOWN_CHARS - 1] + "…"


def apply(p: Presentation) -> None:
    """Inject the CSS for `p` (constants only) and say once which link values were ignored."""
    css = BASE_CSS + (PRESENT_CSS if p.present else "") + "".join(HIDE_CSS.get(n, "") for n in sorted(p.hide))
    st.html(f"<style>{css}</style>")
    if p.ignored:
        values = ", ".join(f"`{shown(v)}`" for v in p.ignored[:3]) + (" …" if len(p.ignored) > 3 else "")
        st.caption(f"Ignored in the link: {values}. `present` takes 1 or 0; `hide` takes "
                   f"{', '.join(HIDE)}.")


# -- CSS (constants) -------------------------------------------------------------------------------------------------
BASE_CSS = """
[data-testid="stMainBlockContainer"] { padding-top: 2.5rem; padding-bottom: 3rem; }
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] *, [data-testid="stMetricValue"],
[data-testid="stMetricValue"] * { white-space: normal !important; overflow: visible !important;
  text-overflow: clip !important; overflow-wrap: normal; word-break: normal; }
button [data-testid="stMarkdownContainer"] p { white-space: normal; overflow: visible; text-overflow: clip; }
[class*="st-key-formula"] { container-type: inline-size; }
[class*="st-key-formula"] .katex-display > .katex { font-size: clamp(0.8em, 2.4cqi, 1.21em); }
.katex-display { overflow-x: auto; overflow-y: hidden; padding: 0.1em 0.3em; }
"""
# Presenter mode: everything sized in rem grows with the root (body text 16 -> 20 px); Plotly draws its text in px,
# so its text is set here and in Plotly's own measuring box (#js-plotly-tester), which lays out titles and margins.
PRESENT_CSS = """
html { font-size: 20px; }
[data-testid="stMarkdownContainer"] :is(p, li) { font-size: max(20px, 1em); }
[data-testid="stMetricValue"] { font-size: 1.6rem; }
[data-testid="stVerticalBlock"] { gap: 0.6rem; }  /* the root grew 25 %: keep the live view on one screen */
.js-plotly-plot .main-svg text, #js-plotly-tester text { font-size: 16px !important; }
.js-plotly-plot .main-svg text.gtitle, #js-plotly-tester text.gtitle { font-size: 19px !important; }
.js-plotly-plot .modebar { font-size: 16px; }  /* its height follows the font: keep it clear of the title */
[data-testid="stImage"] img { width: 100% !important; height: auto !important; max-height: 50vh; object-fit: contain;
  image-rendering: pixelated; }
"""
HIDE_CSS = {
    "settings": ".st-key-train-settings { display: none !important; }",
    "runs": ".st-key-train-runs { display: none !important; }",
    "sidebar": '[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], '
               '[data-testid="stExpandSidebarButton"] { display: none !important; }',
    "toolbar": '.modebar-container, [data-testid="stElementToolbar"] { display: none !important; }',
}
