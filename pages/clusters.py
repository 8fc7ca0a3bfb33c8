"""Placeholder: clusters (being built)."""

from aeviz.ui.layout import page_header

page_header("clusters", "This page is being built.", "come back soon")
