"""Stub page: train."""

from aeviz.ui.layout import page_header

page_header("train", "Concept text.", "try this")
