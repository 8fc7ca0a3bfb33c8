"""Who is looking: a visitor's stable identity, the admin, and what each may do with a run.

A visitor is a browser: a random secret kept in a cookie (`aeviz_visitor`), so a reload or a new tab of the same
browser is the same visitor; runs store only a hash of it (`catalog.owner_id`). The admin is whoever holds the
server's admin token (`aeviz app --admin-token ...`, or `$AEVIZ_ADMIN_TOKEN`): opening any page with `?admin=TOKEN`
once makes that browser the admin (the token moves from the URL into a cookie, so a copied link never carries it).
The admin may change every run and their jobs never wait behind visitors'; a visitor may change only their own runs.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets

import streamlit as st

from aeviz import catalog

COOKIE, ADMIN_COOKIE = "aeviz_visitor", "aeviz_admin"
MAX_AGE_S = 180 * 24 * 3600  # a workshop series: half a year
_TOKEN = re.compile(r"[0-9a-f]{32}")
ADMIN_TOKEN = catalog.ADMIN_TOKEN


def admin_token() -> str | None:
    """The server's admin token ($AEVIZ_ADMIN_TOKEN: 8 or more letters, digits or -_.~), or None: nobody is admin."""
    token = os.environ.get("AEVIZ_ADMIN_TOKEN", "").strip()
    return token if ADMIN_TOKEN.fullmatch(token) else None


def _cookie(name: str) -> str | None:
    try:
        value = st.context.cookies.get(name)
    except Exception:  # no browser behind this session (AppTest, bare mode)
        return None
    return value if isinstance(value, str) else None


def visitor_token() -> str:
    """This browser's secret, from its cookie, or a new one (written to the cookie by `write_cookies`)."""
    state = st.session_state
    if "access.token" not in state:
        token = _cookie(COOKIE)
        if token is None or not _TOKEN.fullmatch(token):
            token = secrets.token_hex(16)
            state["access.write"] = {**state.get("access.write", {}), COOKIE: token}
        state["access.token"] = token
    return state["access.token"]


def me() -> str:
    """This visitor's owner id (what their runs store), or the admin's ("") for the admin."""
    return catalog.ADMIN if is_admin() else catalog.owner_id(visitor_token())


def is_admin() -> bool:
    """True once this browser has shown the admin token (in the URL once, then from its cookie)."""
    state = st.session_state
    given = st.query_params.get("admin")
    if given is not None:
        del st.query_params["admin"]  # never left in a link someone might copy
        token = admin_token()
        ok = token is not None and hmac.compare_digest(given.encode(), token.encode())
        state["access.admin"] = ok
        if ok:
            state["access.write"] = {**state.get("access.write", {}), ADMIN_COOKIE: token}
        else:
            state["access.note"] = "That admin link is not this server's: you are a visitor here."
    if "access.admin" not in state:
        token, cookie = admin_token(), _cookie(ADMIN_COOKIE)
        state["access.admin"] = bool(token and cookie and hmac.compare_digest(cookie.encode(), token.encode()))
    return bool(state["access.admin"])


def may_change(run_owner: str) -> bool:
    return catalog.may_change(run_owner, me(), is_admin())


def write_cookies() -> None:
    """Send pending cookies to the browser (once). Values are our own hex tokens or the admin's token, which was
    checked to equal the server's; quotes and semicolons cannot occur in either."""
    visitor_token()  # a first visit makes its token now, so the cookie goes out with this page
    note = st.session_state.pop("access.note", None)
    if note:
        st.caption(note)
    pending = st.session_state.pop("access.write", None)
    if pending:
        lines = "".join(f'document.cookie="{name}={value}; path=/; max-age={MAX_AGE_S}; SameSite=Strict";'
                        for name, value in pending.items() if ADMIN_TOKEN.fullmatch(value))
        st.html(f"<script>{lines}</script>", unsafe_allow_javascript=True, width=1)
