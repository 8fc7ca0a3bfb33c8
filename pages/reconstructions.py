"""Stub page: reconstructions."""

from aeviz.ui.layout import page_header

page_header("reconstructions", "Concept text.", "try this")
