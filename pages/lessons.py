"""Lessons: seven short walks through one idea each, with a check computed from the learner's own run."""

import streamlit as st

from aeviz.ui import lessons_view, run_picker, state
from aeviz.ui.layout import page_header

page_header(
    "Lessons",
    "Each lesson is one idea about autoencoders: read it, open the run that shows it (one click), look at the views "
    "it points to, discuss the question, and watch the **live check**: it is computed from your current run and "
    "turns green when the effect is there. Teachers: `?lesson=N` in a link opens lesson N.",
    "open lesson 1 and press **Open “Linear AE: PCA by gradient descent”** (on a server started with the workshop "
    "pack): the check measures the angles between its subspace and PCA's and turns green.",
)

done = lessons_view.progress()
lesson = lessons_view.pick_lesson(done)
st.subheader(lesson.title)
lessons_view.idea(lesson)
run = run_picker.run_picker("lessons", label="Your current run")
lessons_view.setup(lesson, state.current_run())
lessons_view.looks(lesson)
left, right = st.columns([2, 3], gap="large")
with left:
    lessons_view.question(lesson)
with right:
    lessons_view.live_check(lesson, run)
