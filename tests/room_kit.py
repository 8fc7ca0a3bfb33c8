"""A lightweight visitor for load tests: Streamlit's own websocket protocol driven by a script, no browser.

A `ScriptedVisitor` does what a browser tab does on the wire: it connects to `/_stcore/stream` with its own
`aeviz_visitor` cookie (so it is one visitor, as a browser is), asks for a page by name, reads the elements the
server sends back (widgets by their key, text, errors, exceptions), sets widget values and presses buttons by
sending the widget states a browser would, and uploads a file the way `st.file_uploader` does (ask for an upload
URL, PUT the file with the XSRF token, then send the uploader's state). It never draws anything, so twenty of them
cost the test machine almost nothing; what they cost the server is what twenty tabs cost it.
"""

from __future__ import annotations

import secrets
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.sync.client import connect

DONE = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR}
TEXT_KINDS = ("markdown", "alert", "text", "heading", "exception", "metric")


@dataclass
class Page:
    """What one script run of a page sent: widgets by key, and every piece of text in order."""

    widgets: dict[str, tuple[str, Any]] = field(default_factory=dict)  # user key -> (element kind, proto)
    texts: list[tuple[str, str]] = field(default_factory=list)  # (element kind, text)
    exceptions: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "\n".join(t for _, t in self.texts)

    def errors(self) -> list[str]:
        return [t for kind, t in self.texts if kind == "alert:error"]


def _text_of(kind: str, el: Any) -> tuple[str, str]:
    if kind == "alert":
        return f"alert:{ {1: 'error', 2: 'warning', 3: 'info', 4: 'success'}.get(el.format, 'other')}", el.body
    if kind == "exception":
        return kind, f"{el.type}: {el.message}"
    if kind == "metric":
        return kind, f"{el.label}: {el.body}"
    return kind, getattr(el, "body", "")


class ScriptedVisitor:
    """One visitor on one websocket; `open(page)` and `press(key)` return the `Page` the server drew."""

    def __init__(self, url: str, token: str | None = None, timeout_s: float = 120) -> None:
        self.url, self.timeout_s = url, timeout_s
        self.token = token or secrets.token_hex(16)
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=30) as r:  # sets the XSRF cookie
            jar = SimpleCookie(r.headers.get("Set-Cookie", ""))
        self.xsrf = jar["_streamlit_xsrf"].value if "_streamlit_xsrf" in jar else ""
        self.cookie = f"aeviz_visitor={self.token}" + (f"; _streamlit_xsrf={self.xsrf}" if self.xsrf else "")
        self.ws = connect(url.replace("http", "ws", 1) + "/_stcore/stream", open_timeout=30, max_size=None,
                          subprotocols=["streamlit", self.xsrf or "x"],
                          additional_headers={"Cookie": self.cookie, "Origin": url})
        self.ws.__enter__()  # used directly, not in a with-block (websockets >= 17.1 warns otherwise)
        self.session_id = ""
        self.page_name, self.query = "", ""
        self.states: dict[str, WidgetState] = {}  # widget id -> the value this visitor has set
        self.last = Page()

    def close(self) -> None:
        self.ws.close()

    # -- the protocol ------------------------------------------------------------------------------------------
    def _send(self, msg: BackMsg) -> None:
        self.ws.send(msg.SerializeToString())

    def _receive(self) -> ForwardMsg:
        msg = ForwardMsg()
        msg.ParseFromString(self.ws.recv(timeout=self.timeout_s))
        if msg.WhichOneof("type") == "new_session":
            self.session_id = msg.new_session.initialize.session_id or self.session_id
        elif msg.WhichOneof("type") == "page_info_changed":  # the app wrote to st.query_params: the URL a tab shows
            self.query = msg.page_info_changed.query_string
        return msg

    def _rerun(self, triggers: tuple[WidgetState, ...] = ()) -> Page:
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string, cs.page_name = self.query, self.page_name
        cs.widget_states.widgets.extend([*self.states.values(), *triggers])
        self._send(msg)
        page = Page()
        while True:
            fwd = self._receive()
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                el_kind = fwd.delta.new_element.WhichOneof("type")
                el = getattr(fwd.delta.new_element, el_kind) if el_kind else None
                if el is not None and getattr(el, "id", "").startswith("$$ID-"):
                    page.widgets[el.id.split("-", 2)[2]] = (el_kind, el)
                if el_kind in ("selectbox", "multiselect", "radio"):  # a run picker's runs, a dataset list...
                    page.texts.append(("options", " | ".join(el.options)))
                if el_kind in TEXT_KINDS:
                    page.texts.append(_text_of(el_kind, el))
                    if el_kind == "exception":
                        page.exceptions.append(page.texts[-1][1])
            elif kind == "script_finished" and fwd.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                page = Page()  # st.rerun(): what counts is the run that follows
            elif kind == "script_finished" and fwd.script_finished in DONE:
                self.last = page
                return page

    # -- what a person does ----------------------------------------------------------------------------------------
    def open(self, page_name: str = "", query: str = "") -> Page:
        """Go to a page ('' is the home page, else its URL name: 'data', 'train', ...)."""
        self.page_name, self.query = page_name, query
        return self._rerun()

    def _id(self, key: str) -> str:
        kind, el = self.last.widgets[key]
        return el.id

    def set(self, key: str, value: Any) -> None:
        """Give the widget `key` (on the page last drawn) a value, as typing or picking would; sent with the next
        rerun."""
        kind, el = self.last.widgets[key]
        state = WidgetState(id=el.id)
        if kind == "number_input":
            if el.data_type == el.INT:
                state.int_value = int(value)
            else:
                state.double_value = float(value)
        elif kind == "selectbox":
            state.string_value = str(value)
        elif kind == "text_input":
            state.string_value = str(value)
        elif kind == "checkbox":
            state.bool_value = bool(value)
        else:
            raise ValueError(f"setting a {kind} is not scripted here")
        self.states[el.id] = state

    def press(self, key: str) -> Page:
        """Click the button `key` (the server decides what a click on a disabled button does: a hostile script
        can always send one)."""
        return self.trigger(self._id(key))

    def trigger(self, widget_id: str) -> Page:
        """Send a click for any widget id, drawn on this visitor's page or not (what a hostile script can do)."""
        return self._rerun((WidgetState(id=widget_id, trigger_value=True),))

    def refresh(self) -> Page:
        return self._rerun()

    def upload(self, key: str, name: str, content: bytes) -> None:
        """Put `content` into the file uploader `key` as the browser would (sent with the next rerun)."""
        request = BackMsg()
        request.file_urls_request.request_id = rid = uuid.uuid4().hex
        request.file_urls_request.file_names.append(name)
        request.file_urls_request.session_id = self.session_id
        self._send(request)
        while True:
            fwd = self._receive()
            if fwd.WhichOneof("type") == "file_urls_response" and fwd.file_urls_response.response_id == rid:
                break
        assert not fwd.file_urls_response.error_msg, fwd.file_urls_response.error_msg
        urls = fwd.file_urls_response.file_urls[0]
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
        put = urllib.request.Request(self.url + urls.upload_url, data=body, method="PUT", headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}", "X-Xsrftoken": self.xsrf,
            "Cookie": self.cookie})
        with urllib.request.urlopen(put, timeout=60) as r:
            assert r.status in (200, 204), r.status
        state = WidgetState(id=self._id(key))
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.name, info.size, info.file_id = name, len(content), urls.file_id
        info.file_urls.CopyFrom(urls)
        self.states[state.id] = state
