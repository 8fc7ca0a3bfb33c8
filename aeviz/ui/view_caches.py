"""Caches of what pages show (figures, pictures, numbers derived from a run), as opposed to the server's shared
state (jobs, datasets, open tabs).

Every one of them can be rebuilt from the runs on disk, so when the last visitor's session ends they are dropped
and the memory goes back to the OS (`state`'s release of an empty room): a day-long workshop's server returns to its
morning level between sessions instead of keeping the figures of every run anyone looked at. A view cache is an
`st.cache_data` (all of those are views) or an `st.cache_resource` declared with `view_resource`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

_VIEWS: list[Any] = []


def view_resource(**kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """`st.cache_resource(**kwargs)` for a view: shared by every tab while anyone looks, dropped when nobody does."""
    def wrap(fn: Callable[..., Any]) -> Any:
        cached = st.cache_resource(**kwargs)(fn)
        _VIEWS.append(cached)
        return cached
    return wrap


def release() -> None:
    """Drop every view cache (no script context needed: called when the last session has ended)."""
    st.cache_data.clear()
    for cached in _VIEWS:
        cached.clear()
