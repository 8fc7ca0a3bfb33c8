"""Placeholder: latent (being built)."""

from aeviz.ui.layout import page_header

page_header("latent", "This page is being built.", "come back soon")
