"""Text that came from a run's files (title, note, message, a data source, an error quoting a tampered field) shown
as typed: Streamlit renders Markdown (links, images, icons, colours, formulas) in st.markdown, st.caption, alerts and
help tooltips, and Plotly renders a little HTML (<a href>) in figure titles. An imported run is anyone's text.
"""

from __future__ import annotations

import html
import re

# What Markdown (CommonMark + GFM + Streamlit's :material/icon: and $formula$) gives a meaning to mid-line.
# Parentheses, colons and full stops need no escape on their own: a link needs "[", an autolink "://", "www." or
# "@", an icon ":material/", a colour ":red[" (its "[" is escaped).
_MARKUP = re.compile(r"([\\`*_\[\]<>!$~|&#@{}]|:(?=//|material/))")
_WWW = re.compile(r"(?i)\b(www)\.")


def plain(text: object) -> str:
    """`text` on one line, escaped so that Markdown shows it literally: no link, image, HTML, icon or formula."""
    escaped = _MARKUP.sub(r"\\\1", " ".join(str(text).split()))
    return _WWW.sub(r"\1\\.", escaped)


def plotly_plain(text: object) -> str:
    """`text` for a Plotly title or legend: its HTML tags (a link, a line break) shown as typed."""
    return html.escape(" ".join(str(text).split()), quote=False)
