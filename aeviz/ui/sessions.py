"""Closed tabs' sessions, really ended once Streamlit stops keeping them for a reconnect.

Streamlit keeps a closed tab's session for `server.disconnectedSessionTTL` seconds (120 by default) so that a
reconnect can resume it. It keeps them in a TTL cache that drops expired entries only when another session is stored
there, without shutting them down: after the last tabs of a room close, nothing is stored again, and their sessions
(widget states, uploaded files, the media of their last page) stay in memory until the next visitor leaves; and the
runtime's loop holds on to the last session it served. Measured on a room of 30 (tests/test_room.py): about 50 MB
of a 577 MB server; one closed tab's 40 MB upload stayed for good.
`end_later()`, called when a tab closes, runs Streamlit's own shutdown of every expired session once that tab's
time is up, empties its state, then gives the memory back.

This reads a few private attributes of Streamlit's runtime (checked on 1.67); where a version lacks them, closed
sessions are left to Streamlit, as before, and the server's log says so once.
"""

from __future__ import annotations

import threading

import streamlit as st
from streamlit.logger import get_logger

from aeviz import memory

_LOG = get_logger("aeviz.sessions")  # in the server's log, formatted as Streamlit's own lines
SLACK_S = 1.0  # after the TTL: the session's entry has expired by then
_warned = threading.Event()


def end_later() -> None:
    """A tab closed: once Streamlit's reconnect window is over, end the sessions whose window it was."""
    ttl = float(st.get_option("server.disconnectedSessionTTL") or 0)
    timer = threading.Timer(ttl + SLACK_S, _on_event_loop)
    timer.daemon = True
    timer.start()


def _on_event_loop() -> None:
    """Session storage belongs to the runtime's event loop: the expiry runs there, the memory is given back here."""
    try:
        from streamlit import runtime

        loop = runtime.get_instance()._get_async_objs().eventloop  # private: see the module's note
    except (AttributeError, RuntimeError) as exc:
        _unsupported(exc)
        return
    ended = threading.Event()
    count: list[int] = []
    try:
        loop.call_soon_threadsafe(lambda: (count.append(end_expired()), ended.set()))
    except RuntimeError:  # the loop is closed: the server is stopping
        return
    if ended.wait(30) and count and count[0]:
        _LOG.info("aeviz: ended %d closed tabs' sessions (their uploads and media freed)", count[0])
        memory.give_back()


def end_expired() -> int:
    """Shut down every stored session whose reconnect window is over (on the event loop); how many."""
    try:
        from streamlit import runtime

        manager = runtime.get_instance()._session_mgr  # private: see the module's note
        lock, cache = manager._storage_lock, manager._session_storage._cache  # private
        with lock:
            expired = cache.expire()
    except (AttributeError, RuntimeError) as exc:
        _unsupported(exc)
        return 0
    for _, info in expired:
        info.session.shutdown()
        # The runtime's loop keeps a reference to the last session it served until it serves another: with nobody
        # left, that ended session (its widget values hold the uploaded files) would stay. Its state is emptied.
        info.session.session_state.clear()
    return len(expired)


def _unsupported(exc: Exception) -> None:
    if not _warned.is_set():
        _warned.set()
        _LOG.warning("aeviz: cannot end closed tabs' sessions on this Streamlit version (%s); Streamlit keeps them "
                     "until another tab closes", exc)
