"""The URL is the view: widget values mirrored in the query string, so a reload, a bookmark or a shared link shows
the same view.

Pages draw their widgets through these wrappers, which take Streamlit's own arguments plus `where` (st, a column or
the sidebar). Before a widget is drawn it takes its value from, in order:
1. the URL, when the URL's value is not the one this session wrote there (a reload, a bookmark, a link);
2. its live state (the user's last choice on this page);
3. the value it had when the user last left the page (Streamlit forgets widgets that were not drawn).
A value from the URL or from memory is checked against the widget's own options and bounds first; a bad URL value
is ignored with a small note above the widget (shown in code style, never as HTML) and the default is kept. After
drawing, the value is written to the URL under the key without its page prefix ("latent.method" -> `?method=`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from aeviz.data import DATASETS
from aeviz.data_ref import encode_data, uploads_dir
from aeviz.errors import InputError
from aeviz.ui import present, state

WRITTEN = "url.written"  # full key -> the text this session last put in the URL for it
KEPT = "url.kept"  # full key -> its last value, for when the page is drawn again after a visit elsewhere
MAX_TEXT = 200


class Bad(ValueError):
    """A value that does not fit the widget: its message says what would."""


def param_name(key: str) -> str:
    """The query-string name of a widget key: 'latent.method' -> 'method', 'train.vae.beta' -> 'vae.beta'."""
    return key.split(".", 1)[1] if "." in key else key


def _show(raw: str) -> str:
    clean = "".join(c for c in raw if c.isprintable() and c != "`")
    return clean[:40] + ("…" if len(clean) > 40 else "")


def _restore(where: Any, key: str, parse: Callable[[Any], Any]) -> bool:
    """Put the value the widget should start from into session state; True if one was put there (the widget must
    then be drawn without a default of its own)."""
    state, name = st.session_state, param_name(key)
    written = state.setdefault(WRITTEN, {})
    raw = st.query_params.get(name)
    if raw is not None and raw != written.get(key):
        written[key] = raw  # considered once: a bad value is not reported again on every rerun
        try:
            state[key] = parse(raw)
            return True
        except (Bad, ValueError, TypeError) as exc:
            where.caption(f":material/link_off: Ignored `{name}={_show(raw)}` from the link: {exc}")
    if key in state:
        return False  # alive: the user's choice
    kept = state.get(KEPT, {})
    if key in kept:
        try:
            state[key] = parse(kept[key])
            return True
        except (Bad, ValueError, TypeError):
            pass  # the options changed since (another run): the default applies
    return False


def forget(key: str) -> None:
    """Forget a widget's value (live and remembered): it is drawn with its default next time."""
    st.session_state.pop(key, None)
    st.session_state.get(KEPT, {}).pop(key, None)


def _publish(key: str, value: Any, text: str) -> None:
    st.session_state.setdefault(KEPT, {})[key] = value
    st.session_state.setdefault(WRITTEN, {})[key] = text
    if st.query_params.get(param_name(key)) != text:
        st.query_params[param_name(key)] = text


# -- parsers ---------------------------------------------------------------------------------------------------------
def _option(options: Sequence[Any]) -> Callable[[Any], Any]:
    by_text = {str(o): o for o in options}

    def parse(raw: Any) -> Any:
        if raw in options and not isinstance(raw, str):
            return raw
        if str(raw) in by_text:
            return by_text[str(raw)]
        few = ", ".join(list(by_text)[:8]) + (", …" if len(by_text) > 8 else "")
        raise Bad(f"not one of the choices ({few}).")
    return parse


def _options(options: Sequence[Any]) -> Callable[[Any], list[Any]]:
    one = _option(options)

    def parse(raw: Any) -> list[Any]:
        items = raw if isinstance(raw, list) else [p for p in str(raw).split(",") if p]
        return list(dict.fromkeys(one(p) for p in items))
    return parse


def _number(lo: Any, hi: Any, integer: bool) -> Callable[[Any], float | int]:
    def parse(raw: Any) -> float | int:
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise Bad("not a number.") from None
        if not math.isfinite(value) or (integer and value != int(value)):
            raise Bad("not a whole number." if integer else "not a finite number.")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise Bad(f"outside {lo:g} to {hi:g}." if lo is not None and hi is not None else "out of range.")
        return int(value) if integer else value
    return parse


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if str(raw).lower() in {"1", "true", "yes", "on"}:
        return True
    if str(raw).lower() in {"0", "false", "no", "off"}:
        return False
    raise Bad("not 1 or 0.")


def _text(max_chars: int | None) -> Callable[[Any], str]:
    top = min(max_chars or MAX_TEXT, MAX_TEXT)

    def parse(raw: Any) -> str:
        text = str(raw)
        if len(text) > top or not all(c.isprintable() for c in text):
            raise Bad(f"not a line of at most {top} printable characters.")
        return text
    return parse


# -- widgets ---------------------------------------------------------------------------------------------------------
def _draw(widget: Callable[..., Any], key: str, parse: Callable[[Any], Any], default: dict[str, Any],
          text: Callable[[Any], str], *args: Any, **kw: Any) -> Any:
    """Draw `widget(*args, **kw)` from the URL's or the remembered value if one fits, else from `default`; then
    write its value (as `text` of it) to the URL."""
    where = getattr(widget, "__self__", st)
    out = widget(*args, key=key, **kw) if _restore(where, key, parse) else widget(*args, key=key, **default, **kw)
    _publish(key, out, text(out))
    return out


def _number_text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _bool_text(value: bool) -> str:
    return "1" if value else "0"


def selectbox(where: Any, label: str, options: Sequence[Any], *, key: str, index: int = 0, **kw: Any) -> Any:
    options = list(options)
    return _draw(where.selectbox, key, _option(options), {"index": index}, str, label, options, **kw)


def radio(where: Any, label: str, options: Sequence[Any], *, key: str, index: int = 0, **kw: Any) -> Any:
    options = list(options)
    return _draw(where.radio, key, _option(options), {"index": index}, str, label, options, **kw)


def multiselect(where: Any, label: str, options: Sequence[Any], *, key: str, default: Sequence[Any] | None = None,
                **kw: Any) -> list[Any]:
    options = list(options)
    return _draw(where.multiselect, key, _options(options), {"default": default}, lambda v: ",".join(map(str, v)),
                 label, options, **kw)


def _numeric(kind: str, where: Any, label: str, min_value: Any, max_value: Any, value: Any, step: Any, key: str,
             **kw: Any) -> Any:
    integer = all(isinstance(v, int) and not isinstance(v, bool) for v in (min_value, max_value, value, step)
                  if v is not None)
    return _draw(getattr(where, kind), key, _number(min_value, max_value, integer), {"value": value}, _number_text,
                 label, min_value=min_value, max_value=max_value, step=step, **kw)


def slider(where: Any, label: str, min_value: Any, max_value: Any, value: Any = None, step: Any = None, *,
           key: str, **kw: Any) -> Any:
    return _numeric("slider", where, label, min_value, max_value, min_value if value is None else value, step,
                    key, **kw)


def number_input(where: Any, label: str, min_value: Any = None, max_value: Any = None, value: Any = None,
                 step: Any = None, *, key: str, **kw: Any) -> Any:
    return _numeric("number_input", where, label, min_value, max_value, value, step, key, **kw)


def toggle(where: Any, label: str, *, key: str, value: bool = False, **kw: Any) -> bool:
    return _draw(where.toggle, key, _bool, {"value": value}, _bool_text, label, **kw)


def checkbox(where: Any, label: str, *, key: str, value: bool = False, **kw: Any) -> bool:
    return _draw(where.checkbox, key, _bool, {"value": value}, _bool_text, label, **kw)


def text_input(where: Any, label: str, *, key: str, value: str = "", max_chars: int | None = None,
               **kw: Any) -> str:
    return _draw(where.text_input, key, _text(max_chars), {"value": value}, str, label, max_chars=max_chars, **kw)


# -- what every page carries: the run it looks at and the data for new runs ---------------------------------------
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}")
UPLOAD = re.compile(r"upload:([0-9a-f]{8,64})/([A-Za-z0-9._ -]{1,120})")


def decode_data(raw: str) -> tuple[str, dict[str, Any]]:
    """The inverse of `encode_data`, checking every part: a registry name with its own parameters within their
    bounds, or a file in this server's uploads folder. Raises Bad with what would fit."""
    name, _, rest = raw.partition(":") if not raw.startswith("upload:") else (raw, "", "")
    match = UPLOAD.fullmatch(name)
    if match:
        path = uploads_dir() / match[1] / match[2]
        if not path.is_file():
            raise Bad("that uploaded file is not on this server (upload it again on the Data page).")
        return str(path), {}
    if name not in DATASETS:
        raise Bad(f"no dataset of that name (one of {', '.join(DATASETS)}).")
    specs = {p.name: p for p in DATASETS[name].params}
    params: dict[str, Any] = {}
    for part in filter(None, rest.split(",")):
        key, _, value = part.partition("=")
        if key not in specs:
            raise Bad(f"{name} has no parameter {_show(key)!r}.")
        spec = specs[key]
        params[key] = _number(spec.min, spec.max, isinstance(spec.default, int))(value)
    return name, params


def _external(name: str) -> str | None:
    """The URL's value for a carried name when it did not come from this session (a reload or a link)."""
    raw = st.query_params.get(name)
    written = st.session_state.setdefault(WRITTEN, {})
    if raw is None or raw == written.get(f"@{name}"):
        return None
    written[f"@{name}"] = raw
    return raw


def sync_run_and_data() -> None:
    """Apply a link's `run` and `data` (a bad one: a note, and the session's own stay), then write the session's
    current run and data back, so the URL of every page names what it shows."""
    raw = _external("run")
    if raw is not None:
        try:
            found = RUN_ID.fullmatch(raw) is not None and state.select_run(raw) is not None
        except InputError as exc:
            found, why = False, str(exc)
        else:
            why = "there is no run with that id on this server."
        if not found:
            st.caption(f":material/link_off: Ignored `run={_show(raw)}` from the link: {why}")
            del st.query_params["run"]
    if st.session_state.get("state.current_run") is None:  # a fresh browser: the newest run it may see
        newest = state.newest_trained_id()
        if newest is not None:
            state.select_run(newest)
            st.session_state["state.auto_run"] = newest
    raw = _external("data")
    if raw is not None:
        try:
            state.set_dataset(*decode_data(raw))
        except (Bad, InputError) as exc:
            st.caption(f":material/link_off: Ignored `data={_show(raw)}` from the link: {exc}")
    publish_carried()


def publish_carried() -> None:
    """Write the session's current run and data into the URL (after a page changes either)."""
    written = st.session_state.setdefault(WRITTEN, {})
    for name, text in carried().items():
        written[f"@{name}"] = text
        if st.query_params.get(name) != text:
            st.query_params[name] = text


def carried() -> dict[str, str]:
    """The query parameters every link to another page keeps: the current run and the data for new runs."""
    out = {"data": encode_data(*st.session_state.get("state.data", state.DEFAULT_DATA))}
    run_id = st.session_state.get("state.current_run")
    if run_id:
        out["run"] = run_id
    return out


def links() -> dict[str, str]:
    """What a link to another page of the app keeps: the run, the data, presenter mode and the hidden parts."""
    return {**carried(), **present.carried()}


_COPY = """<button class="aeviz-copy" title="Copy the address of this view: a reload, a bookmark or another browser
opens the same view">Copy link to this view</button>
<style>.aeviz-copy { width: 100%; padding: 0.4rem 0.75rem; border: 1px solid rgba(49, 51, 63, 0.2);
border-radius: 0.5rem; background: white; font: inherit; cursor: pointer; }
.aeviz-copy:hover { border-color: #1f77b4; color: #1f77b4; }</style>
<script>
if (!window.aevizCopy) {  // one listener for every rerun's button
  window.aevizCopy = true;
  document.addEventListener("click", (event) => {
    const button = event.target.closest(".aeviz-copy");
    if (!button) return;
    const link = window.location.href;
    const done = () => { button.textContent = "Link copied"; setTimeout(() => {
      button.textContent = "Copy link to this view"; }, 2000); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(link).then(done, () => window.prompt("Copy this link:", link));
    } else {
      window.prompt("Copy this link:", link);  // plain http on a classroom network: no clipboard API
    }
  });
}
</script>"""


def copy_link_button() -> None:
    """A button that copies the page's current address (every widget, the run and the data are in it). Without a
    clipboard (a plain-http classroom server), it shows the link to copy by hand."""
    st.html(_COPY, unsafe_allow_javascript=True)
