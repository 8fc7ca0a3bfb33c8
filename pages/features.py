"""Placeholder: features (being built)."""

from aeviz.ui.layout import page_header

page_header("features", "This page is being built.", "come back soon")
