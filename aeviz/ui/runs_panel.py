"""The saved-runs panel: every run folder under `state.runs_dir()`, read from disk so a server restart loses nothing.

Pick one to open it (it becomes the current run), download it as a zip, delete it (after a confirmation), or import
a zip someone shared (`aeviz.archive` refuses hostile archives). A run still training in this server is shown with
its live state and cannot be deleted until it is stopped.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import streamlit as st

from aeviz import archive, catalog, runs
from aeviz.errors import InputError
from aeviz.ui import access, state
from aeviz.ui.text import plain

FLASH = "train.runs.flash"  # (kind, message) to show once after a rerun
CONFIRM = "train.runs.confirm"  # the path waiting for "Yes, delete"
IMPORTED = "train.runs.imported"  # (upload file id, kind, message): each upload is imported once


def _when(created: str) -> str:
    return created[:16].replace("T", " ") + (" UTC" if created.endswith("+00:00") else "")


def runs_panel() -> None:
    """The list, the actions on the picked run, and the import box."""
    flash = st.session_state.pop(FLASH, None)
    if flash:
        getattr(st, flash[0])(plain(flash[1]))
    rows = state.visible_runs()
    if not rows:
        st.caption("No saved runs yet. A run is saved after every epoch.")
    else:
        st.dataframe([{**catalog.parts(r, f"broken: {catalog.reason(r)}" if r["error"] else r["status"]),
                       "created": _when(r["created"])} for r in rows],
                     hide_index=True, key="train.runs.table")
        by_id = {r["id"]: r for r in rows}
        picked = st.selectbox("Run", list(by_id), format_func=lambda i: catalog.label(by_id[i], by_id[i]["status"]),
                              key="train.runs.pick")
        _actions(by_id[picked])
    _import_box()


def _actions(row: dict[str, Any]) -> None:
    path: Path = row["path"]
    mine = access.may_change(row["owner"])
    if row["error"]:
        st.warning(plain(row["error"]), icon=":material/warning:")
    c1, c2, c3 = st.columns(3)
    if c1.button("Show this run", icon=":material/open_in_browser:", key="train.runs.open", width="stretch",
                 disabled=bool(row["error"]), help="make this the run shown above and on every page"):
        _open(path)
    c2.download_button("Download .zip", data=functools.partial(archive.export_zip, path),
                       file_name=f"{row['id']}.zip", mime="application/zip", on_click="ignore",
                       icon=":material/download:", key="train.runs.download", width="stretch",
                       disabled=bool(row["error"]),
                       help="config.json, model.safetensors and history.json in one file")
    if c3.button("Delete", icon=":material/delete:", key="train.runs.delete", width="stretch", disabled=not mine,
                 help=None if mine else "only the person who trained it (or the admin) can delete it"):
        st.session_state[CONFIRM] = str(path)
    if mine and not row["error"]:
        _rename(row)
    if st.session_state.get(CONFIRM) == str(path):
        _confirm_delete(row)


def _rename(row: dict[str, Any]) -> None:
    """Title and note, editable by whoever may change the run (kept in its config.json)."""
    with st.form(key=f"train.runs.meta.{row['id']}", border=False):
        c1, c2, c3 = st.columns([2, 3, 1], vertical_alignment="bottom")
        title = c1.text_input("Title", value=row["title"], max_chars=runs.MAX_TITLE, key="train.runs.title")
        note = c2.text_input("Note: what to show with it", value=row["note"], max_chars=runs.MAX_NOTE,
                             key="train.runs.note")
        if c3.form_submit_button("Save", icon=":material/edit:", width="stretch", key="train.runs.rename"):
            try:
                state.retitle(row["id"], title, note)
            except (InputError, OSError) as exc:
                st.session_state[FLASH] = ("error", f"Could not rename {row['id']}: {exc}")
            else:
                st.session_state[FLASH] = ("success", f"Saved the title and note of {row['id']}.")
            st.rerun()


def _open(path: Path) -> None:
    try:
        run = state.load_saved_run(path)
    except (InputError, OSError) as exc:
        st.session_state[FLASH] = ("error", str(exc))
    else:
        st.session_state[FLASH] = ("success", f"Showing {run.title or run.id} (epoch {run.epoch}).")
    st.rerun()


def _confirm_delete(row: dict[str, Any]) -> None:
    if row["active"]:
        st.error(f"{row['id']} is training right now. Stop it first, then delete it.", icon=":material/error:")
        st.session_state.pop(CONFIRM, None)
        return
    st.warning(f"Delete **{plain(row['id'])}** from disk? This cannot be undone.", icon=":material/delete_forever:")
    yes, no, _ = st.columns([1, 1, 2])
    if yes.button("Yes, delete", type="primary", key="train.runs.delete_yes", width="stretch"):
        st.session_state.pop(CONFIRM, None)
        try:
            runs.delete(row["path"])
        except (InputError, OSError) as exc:
            st.session_state[FLASH] = ("error", f"Could not delete {row['id']}: {exc}")
        else:
            _forget(row["id"])
            st.session_state[FLASH] = ("success", f"Deleted {row['id']}.")
        st.rerun()
    if no.button("Cancel", key="train.runs.delete_no", width="stretch"):
        st.session_state.pop(CONFIRM, None)
        st.rerun()


def _forget(run_id: str) -> None:
    """Drop a deleted run from this session too, so nothing re-saves it by accident."""
    state.session_runs().pop(run_id, None)
    if st.session_state.get("state.current_run") == run_id:
        st.session_state.pop("state.current_run")


def _import_box() -> None:
    upload = st.file_uploader("Import a run (.zip)", type=["zip"], key="train.runs.upload",
                              help="a zip downloaded from this panel; checked before anything is written")
    if upload is None:
        return
    seen = st.session_state.get(IMPORTED)
    if seen is None or seen[0] != upload.file_id:
        try:
            path = archive.import_zip(upload.getvalue(), state.runs_dir())
            run = state.adopt(path)
        except (InputError, OSError) as exc:  # OSError: a full disk while saving the imported copy
            seen = (upload.file_id, "error", f"{upload.name}: {exc}")
        else:
            seen = (upload.file_id, "success", f"Imported {run.id} (epoch {run.epoch}); it is now the current run.")
        st.session_state[IMPORTED] = seen
        if seen[1] == "success":
            st.rerun()  # redraw the list, the sidebar and the run view with the new run
    getattr(st, seen[1])(plain(seen[2]))
