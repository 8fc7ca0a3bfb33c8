"""Placeholder: anomalies (being built)."""

from aeviz.ui.layout import page_header

page_header("anomalies", "This page is being built.", "come back soon")
