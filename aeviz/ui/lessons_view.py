"""The Lessons page's parts: the lesson picker with progress, one lesson's set-up, links, question and live check.

The check runs on the learner's current run (cached per run, weights revision and lesson) against reference runs
found among the runs this visitor may see (the pack's plain AE, say). A green check is remembered for this browser
(`aeviz.lessons.mark_done`, keyed by the visitor cookie), so a reload keeps the progress.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from aeviz import lessons
from aeviz.errors import InputError
from aeviz.lesson_checks import CHECKS, Verdict
from aeviz.pack import PACK
from aeviz.runs import Run
from aeviz.ui import access, state, url
from aeviz.ui.text import plain

PAGE = "lessons"


def progress() -> dict[str, str]:
    return lessons.load_progress(state.runs_dir(), access.me() or "admin")


def pick_lesson(done: dict[str, str]) -> lessons.Lesson:
    """The lesson picker (`?lesson=N` opens lesson N) and the class's progress."""
    numbers = list(range(1, len(lessons.LESSONS) + 1))

    def name(n: int) -> str:
        lesson = lessons.LESSONS[n - 1]
        return f"{n}. {lesson.title}" + ("  ✓" if lesson.slug in done else "")

    left, right = st.columns([3, 1], vertical_alignment="bottom")
    n = url.selectbox(left, "Lesson", numbers, key=f"{PAGE}.lesson", format_func=name,
                      help="a link with ?lesson=N opens lesson N: send it to the class")
    right.progress(len(done) / len(numbers), text=f"{len(done)} of {len(numbers)} checks green in this browser")
    return lessons.LESSONS[n - 1]


def idea(lesson: lessons.Lesson) -> None:
    st.markdown(lesson.idea)
    st.container(key="formula.lesson").latex(lesson.formula)  # shrinks to fit a narrow column, as every formula


def setup(lesson: lessons.Lesson, run: Run | None) -> None:
    """One click to the run that shows the effect: the pack's, when this server has it; else a pre-filled Train."""
    spec = PACK[lesson.pack]
    row = next((r for r in state.visible_runs() if r["title"] == spec.title and r["epoch"] > 0), None)
    st.markdown(f"**Set-up.** {spec.note}")
    c1, c2 = st.columns([3, 2], vertical_alignment="center")
    if row is not None:
        current = run is not None and run.id == row["id"]
        c1.button(f"Using “{spec.title}”" if current else f"Open “{spec.title}”",
                  icon=":material/check:" if current else ":material/play_circle:", key=f"{PAGE}.open.{lesson.slug}",
                  disabled=current, on_click=state.select_run, args=(row["id"],), width="stretch",
                  help="make the pack's run the current one: the links below and the check use it")
    else:
        c1.caption("This server has no workshop pack run for this lesson (`aeviz pack OUT_DIR`, then "
                   "`aeviz app --runs OUT_DIR`); train one with the same settings instead:")
    c2.page_link("pages/train.py", label="Or train one yourself", icon=":material/model_training:",
                 query_params={**url.links(), **lesson.train})


def looks(lesson: lessons.Lesson) -> None:
    st.markdown("**Look at this**")
    carried = url.links()
    for look in lesson.looks:
        st.page_link(f"pages/{look.page}.py", label=look.text, icon=":material/visibility:",
                     query_params={**carried, **look.params})


def question(lesson: lessons.Lesson) -> None:
    st.markdown(f"**Question for the room.** {lesson.question}")
    with st.expander("Answer", icon=":material/lightbulb:"):
        st.markdown(lesson.answer)


def live_check(lesson: lessons.Lesson, run: Run | None) -> None:
    """The lesson's check on the current run: green with its numbers, or what is missing."""
    st.markdown("**Live check on your run**")
    if run is None:
        st.info("No run yet: open the lesson's run above, or train one.", icon=":material/info:")
        return
    if run.epoch == 0:
        name = plain(run.title or run.model_name)
        st.info(f"“{name}” has not finished an epoch yet; the check runs once it has.",
                icon=":material/hourglass_top:")
        return
    try:
        seen = tuple((r["id"], r["epoch"]) for r in state.visible_runs())  # a new reference run: check again
        verdict = _verdict(lesson.slug, run.id, run.revision, seen, run)
    except InputError as exc:
        st.error(plain(exc), icon=":material/error:")
        return
    except Exception as exc:  # noqa: BLE001 - a check that breaks on an odd run must not break the lesson
        st.error(f"The check could not be computed on this run ({type(exc).__name__}: {exc}). Open the lesson's "
                 "run above and try again.", icon=":material/error:")
        return
    label = f"on “{plain(run.title or run.model_name)}”, epoch {run.epoch}"
    if verdict.ok:
        st.success(f"**The effect is there** ({label}). {verdict.summary}", icon=":material/check_circle:")
        before = progress()
        if lessons.mark_done(state.runs_dir(), access.me() or "admin", lesson.slug, run.id) != before:
            st.rerun()  # the picker's ✓ and the count above were drawn before this check turned green
    else:
        measured = verdict.missing and not verdict.summary.startswith("This check needs")
        st.warning(f"**Not yet** ({label}). {verdict.missing or verdict.summary}"
                   + (f" Measured: {verdict.summary}" if measured else ""), icon=":material/pending:")


@st.cache_data(show_spinner="Checking your run...", max_entries=64)
def _verdict(slug: str, run_id: str, revision: int, seen: tuple, _run: Run) -> Verdict:
    """A check, once per lesson, run and weights, and per state of the runs it may compare with (`seen`)."""
    data = state.run_data(_run)
    return CHECKS[slug](_run, data, _finder(_run))


def _finder(run: Run) -> Any:
    """`reference(model_name, data_source=None)`: a run this visitor may see of that model, trained on the same
    data as `run` (or on `data_source`), at least one epoch in. Of several: a code at least as wide as `run`'s, the
    nearest in size, then the newest (a 16-D contractive AE is compared with the 32-D plain AE, not a 2-D one, whose
    squeezed code is insensitive for another reason)."""
    def reference(model_name: str, data_source: str | None = None) -> Run | None:
        source, k = data_source or run.data_source, run.model.config.latent_dim
        rows = [r for r in state.visible_runs() if r["model"] == model_name and r["dataset"] == source
                and r["epoch"] >= 1 and r["id"] != run.id and not r["error"]]
        rows.sort(key=lambda r: ((r["latent_dim"] or 0) < k, abs((r["latent_dim"] or 0) - k)))  # stable: newest first
        for row in rows:
            try:
                other = state.open_run(row["id"])
            except InputError:
                continue
            if other is not None and (data_source is not None or other.data_params == run.data_params):
                return other
        return None
    return reference
