"""Stub page: data."""

from aeviz.ui.layout import page_header

page_header("data", "Concept text.", "try this")
