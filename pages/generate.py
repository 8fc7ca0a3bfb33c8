"""Placeholder: generate (being built)."""

from aeviz.ui.layout import page_header

page_header("generate", "This page is being built.", "come back soon")
