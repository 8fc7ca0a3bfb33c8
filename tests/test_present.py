"""Presenter mode and lesson links: `?present=` and `?hide=` parsed safely, and what a page draws for them."""

from __future__ import annotations

import pytest

from aeviz.ui.present import HIDE, HIDE_CSS, SHOWN_CHARS, Presentation, carried, parse, shown
from tests.conftest import ROOT


def test_no_parameters_means_the_normal_view():
    assert parse([], []) == Presentation(False, frozenset(), ())


@pytest.mark.parametrize("value, on", [("1", True), ("true", True), (" TRUE ", True), ("0", False), ("false", False)])
def test_present_takes_1_true_0_false(value, on):
    assert parse([value], []) == Presentation(on, frozenset(), ())


@pytest.mark.parametrize("value", ["yes\x00", "2", "", "<b>1</b>", "1; drop", "∞", "x" * 5000])
def test_a_bad_present_value_is_ignored_and_reported(value):
    p = parse([value], [])
    assert not p.present
    assert p.ignored == (f"present={value}",)


def test_the_last_valid_present_value_wins():
    assert parse(["1", "0"], []).present is False
    assert parse(["0", "nope", "1"], []).present is True


def test_hide_takes_comma_separated_names_in_any_case_across_parameters():
    p = parse([], ["settings, Runs", ",,toolbar,"])
    assert p.hide == {"settings", "runs", "toolbar"} and p.ignored == ()


@pytest.mark.parametrize("value", ["<script>alert(1)</script>", "settings<img src=x onerror=alert(1)>", "__class__",
                                   "hide\x00", "ｓｅｔｔｉｎｇｓ"])
def test_unknown_hide_names_are_ignored_and_reported(value):
    p = parse([], [f"{value},sidebar"])
    assert p.hide == {"sidebar"}
    assert len(p.ignored) == 1 and p.ignored[0].startswith("hide=")


def test_an_ignored_value_is_shown_short_and_inert():
    assert shown("a`b\x00c\n") == "a?b?c?"  # a backtick would end the code span it is shown in
    long = shown("<script>" + "x" * 100)
    assert len(long) == SHOWN_CHARS and long.endswith("…")


def test_explanations_hides_the_formula_and_the_hint_too():
    p = parse([], ["explanations"])
    assert not p.shows("explanations") and not p.shows("formula") and not p.shows("hints")
    assert parse([], ["formula"]).shows("hints")


def test_every_hide_name_is_handled_by_css_or_by_the_page_header():
    assert set(HIDE_CSS) | {"explanations", "formula", "hints"} == set(HIDE)
    assert all(text and text[0].islower() for text in HIDE.values()), "each name says what it hides"


def test_links_to_other_pages_carry_presenter_mode_and_hidden_parts():
    assert carried(Presentation(True, frozenset({"settings", "runs"}))) == {"present": "1", "hide": "runs,settings"}
    assert carried(Presentation()) == {}


# -- the page header under AppTest ------------------------------------------------------------------------------------
def open_with(page: str, query: dict[str, str]):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update(query)
    if page != "app.py":
        at.switch_page(page)
    return at.run()


def hints(at) -> list[str]:
    return [i.value for i in at.info if "Try this" in i.value]


def test_presenter_mode_folds_the_explanations_under_notes():
    at = open_with("pages/data.py", {"present": "1"})
    assert not at.exception, at.exception
    notes = [e for e in at.expander if e.label == "Notes"]
    assert len(notes) == 1 and any("Try this" in i.value for i in notes[0].info)
    assert any("html { font-size: 20px; }" in h.value for h in at.html)


def test_the_normal_view_shows_the_explanations_without_notes():
    at = open_with("pages/data.py", {})
    assert not at.exception, at.exception
    assert hints(at) and not [e for e in at.expander if e.label == "Notes"]
    assert not any("html { font-size: 20px; }" in h.value for h in at.html)


@pytest.mark.parametrize("hide, drawn", [("explanations", 0), ("hints", 0), ("formula", 1), ("settings,runs", 1)])
def test_hide_leaves_out_the_parts_it_names(hide, drawn):
    at = open_with("pages/train.py", {"hide": hide})
    assert not at.exception, at.exception
    assert at.title and len(hints(at)) == drawn
    assert len(at.latex) == (0 if hide in ("explanations", "formula") else 1)
    css = "".join(h.value for h in at.html)
    for name in hide.split(","):
        assert HIDE_CSS.get(name, "") in css


def test_hostile_values_are_named_as_code_and_never_reach_html():
    at = open_with("pages/data.py", {"hide": "<script>alert(1)</script>,sidebar", "present": "yes\x00"})
    assert not at.exception, at.exception
    note = [c.value for c in at.caption if "Ignored in the link" in c.value]
    assert len(note) == 1 and "`hide=<script>alert(1)</script>`" in note[0] and "`present=yes?`" in note[0]
    assert not any("alert(1)" in h.value for h in at.html) and not any("alert(1)" in m.value for m in at.markdown)
    assert hints(at), "a bad value changes nothing else"
