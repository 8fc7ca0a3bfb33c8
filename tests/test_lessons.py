"""The Lessons: content complete and consistent, set-up links that fill the Train form, progress kept per browser,
and the page under AppTest (?lesson=N, the live check's green and its 'not yet')."""

from __future__ import annotations

import json
import re

import pytest

from aeviz import lesson_checks, lessons, runs
from aeviz.data import load_dataset
from aeviz.lesson_checks import Verdict
from aeviz.pack import PACK
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig
from aeviz.ui import state
from tests.conftest import ROOT, as_visitor, mine, open_page


def test_seven_lessons_each_complete():
    assert len(lessons.LESSONS) >= 7
    assert [lesson.slug for lesson in lessons.LESSONS] == list(lesson_checks.CHECKS)
    for lesson in lessons.LESSONS:
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", lesson.idea.strip()) if s]
        assert len(sentences) == 3, (lesson.slug, sentences)
        assert lesson.formula and lesson.question.endswith("?") and len(lesson.answer) > 40
        assert 2 <= len(lesson.looks) <= 3
        for look in lesson.looks:
            assert (ROOT / "pages" / f"{look.page}.py").is_file(), look
            assert len(look.text) <= 60, look  # one line in a 1024-pixel page, not cut off
        assert lesson.pack in PACK


def test_the_train_link_fills_the_form_with_the_pack_runs_settings():
    lesson = lessons.BY_SLUG["denoising-robust"]
    at = open_page("pages/train.py", query=lesson.train)
    assert not at.exception
    values = {w.key: w.value for kind in ("selectbox", "number_input", "text_input", "slider")
              for w in getattr(at, kind)}
    assert values["train.model"] == "denoising"
    assert values["train.title"] == PACK["denoising-32"].title
    assert values["train.fit.epochs"] == 20 and values["train.denoising.latent_dim"] == 32
    assert values["train.denoising.noise_level"] == 0.5 and values["train.denoising.hidden"] == "512,128"


def test_progress_is_kept_per_browser_and_never_trusts_the_file(tmp_path):
    who = mine()
    assert lessons.load_progress(tmp_path, who) == {}
    lessons.mark_done(tmp_path, who, "linear-pca", "linear-1")
    assert lessons.mark_done(tmp_path, who, "vae-prior", "vae-2") == {"linear-pca": "linear-1", "vae-prior": "vae-2"}
    assert lessons.load_progress(tmp_path, mine("another-browser-token-0000")) == {}
    path = tmp_path / ".lessons" / f"{who}.json"
    path.write_text(json.dumps({"linear-pca": "x", "no-such-lesson": "y", "vae-prior": 3}))
    assert lessons.load_progress(tmp_path, who) == {"linear-pca": "x"}
    path.write_text("[not json")
    assert lessons.load_progress(tmp_path, who) == {}
    assert lessons.mark_done(tmp_path, "../../etc/passwd", "linear-pca", "r") == {}  # not a visitor id: no file
    assert not (tmp_path / "etc").exists()


@pytest.fixture(scope="module")
def linear_run():
    data = load_dataset("mnist", limit=300)
    run = Run.create("linear", data.shape, "mnist", {"limit": 300}, TrainConfig(epochs=1, batch_size=64),
                     latent_dim=4)
    run.title = "One-epoch linear AE"
    train(run, data)
    return run


def _texts(at) -> str:
    return " ".join(e.value for kind in ("markdown", "success", "warning", "info", "caption", "error")
                    for e in getattr(at, kind) if isinstance(e.value, str))


def test_a_link_opens_lesson_n_and_a_bad_one_is_ignored():
    at = open_page("pages/lessons.py", query={"lesson": "6"})
    assert not at.exception
    assert at.subheader[0].value == lessons.LESSONS[5].title
    assert "No run yet" in _texts(at)
    at = open_page("pages/lessons.py", query={"lesson": "99"})
    assert not at.exception and at.subheader[0].value == lessons.LESSONS[0].title
    assert "Ignored" in _texts(at)


def test_the_live_check_turns_green_and_the_progress_survives_a_new_session(linear_run, monkeypatch):
    runs.save(linear_run, state.runs_dir() / linear_run.id)
    seeded = as_visitor({"state.current_run": linear_run.id})
    at = open_page("pages/lessons.py", seeded, query={"lesson": "1"})
    assert not at.exception
    text = _texts(at)
    assert "Not yet" in text and "principal angle" in text.lower(), text  # one epoch: not PCA's subspace yet

    calls = []

    def green(run, data, reference):
        calls.append(run.id)
        return Verdict(True, "Largest principal angle 3.0° (< 10°).")
    monkeypatch.setitem(lesson_checks.CHECKS, "linear-pca", green)
    lessons_view_cache_clear()
    at = open_page("pages/lessons.py", seeded, query={"lesson": "1"})
    assert "The effect is there" in _texts(at) and calls == [linear_run.id]
    assert lessons.load_progress(state.runs_dir(), mine()) == {"linear-pca": linear_run.id}
    at = open_page("pages/lessons.py", as_visitor(), query={"lesson": "2"})  # a reload: a new session, same cookie
    labels = at.selectbox(key="lessons.lesson").options
    assert labels[0].endswith("✓") and not labels[1].endswith("✓")


def lessons_view_cache_clear() -> None:
    from aeviz.ui import lessons_view

    lessons_view._verdict.clear()


def test_the_open_button_makes_the_pack_run_current(linear_run):
    spec = PACK["linear-32"]
    run = Run.create("linear", linear_run.input_shape, "mnist", {"limit": 300}, TrainConfig(epochs=1), latent_dim=4)
    run.title, run.epoch, run.history = spec.title, 1, list(linear_run.history)
    runs.save(run, state.runs_dir() / run.id)
    runs.save(linear_run, state.runs_dir() / linear_run.id)
    at = open_page("pages/lessons.py", as_visitor({"state.current_run": linear_run.id}), query={"lesson": "1"})
    at.button(key="lessons.open.linear-pca").click().run()
    assert not at.exception and at.session_state["state.current_run"] == run.id


def test_every_lesson_page_draws_without_a_run_and_with_one(linear_run):
    runs.save(linear_run, state.runs_dir() / linear_run.id)
    for n in range(1, len(lessons.LESSONS) + 1):
        at = open_page("pages/lessons.py", as_visitor({"state.current_run": linear_run.id}), query={"lesson": str(n)})
        assert not at.exception, n
        text = _texts(at)
        assert "Live check on your run" in text and ("The effect is there" in text or "Not yet" in text), n


def test_every_look_link_opens_its_view_without_an_ignored_value(linear_run):
    """A link's widget values are the page's own: none is ignored with a note (any run will do for the widgets)."""
    runs.save(linear_run, state.runs_dir() / linear_run.id)
    for lesson in lessons.LESSONS:
        for look in lesson.looks:
            at = open_page(f"pages/{look.page}.py", as_visitor({"state.current_run": linear_run.id}),
                           query={"run": linear_run.id, **look.params})
            assert not at.exception, look
            assert "Ignored" not in _texts(at), (lesson.slug, look, _texts(at)[:300])
            for name, value in look.params.items():
                assert at.query_params.get(name) in (value, [value]), (look, name, at.query_params.get(name))
