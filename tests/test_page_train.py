"""The Train page under AppTest: forms from configs, validation, a real tiny run to the end, the job controls,
the queue, and the saved-runs panel (open, delete, download, import). Jobs are awaited with their `done` event."""

import re

import numpy as np
import pytest

from aeviz import archive, catalog, metrics, runs
from aeviz.config import fields_of, offered
from aeviz.data import load_dataset
from aeviz.devices import available
from aeviz.evaluation import reconstruct_all
from aeviz.errors import InputError
from aeviz.models import MODELS
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig
from aeviz.ui import forms, state
from tests.conftest import ADMIN_TOKEN, as_visitor, mine, open_page
from tests.helpers import trained_moons_run

SMALL = {"state.data": ("mnist", {"limit": 300})}  # 240 training and 60 validation digits
AE = {"model": "ae"}  # the MLP's form: most tests here were written against it (images start from conv)
PAGE = "pages/train.py"


@pytest.fixture(autouse=True)
def _stop_leftover_jobs():
    """The job manager is one per process (st.cache_resource): never leave a job holding its only slot."""
    yield
    for job in state.job_manager().active_jobs():
        job.stop()
        assert job.done.wait(60)


def small_data():
    return load_dataset("mnist", limit=300)


def trained_run(epochs=2):
    data = small_data()
    run = Run.create("ae", data.shape, data.source, data.params, TrainConfig(epochs=epochs, batch_size=64),
                     hidden=(16,), latent_dim=2)
    train(run, data)
    return run


def configure(at, model="ae", epochs=1, hidden="16", latent=2):
    if model != "ae":
        at.selectbox(key="train.model").set_value(model).run()
    at.number_input(key="train.fit.epochs").set_value(epochs)
    at.number_input(key="train.fit.batch_size").set_value(64)
    at.number_input(key=f"train.{model}.latent_dim").set_value(latent)
    at.text_input(key=f"train.{model}.hidden").set_value(hidden)
    return at.run()


def current_job(at):
    return state.job_manager().get(at.session_state["state.current_run"])


def texts(elements):
    return " | ".join(str(e.value) for e in elements)


# -- opening ---------------------------------------------------------------------------------------------------
def test_a_fresh_session_opens_ready_to_train():
    at = open_page(PAGE, SMALL)
    assert not at.exception
    # images start from the conv model with batches of 64: its time to quality (benchmarks/bench_time_to_quality.py)
    assert at.selectbox(key="train.model").value == "conv" and at.number_input(key="train.fit.batch_size").value == 64
    at.selectbox(key="train.model").set_value("ae").run()  # a batch size suggested for conv only goes with it
    assert at.number_input(key="train.fit.batch_size").value == 128
    assert at.title[0].value == "Train an autoencoder"
    assert "undercomplete" in texts(at.markdown) and at.latex and "Try this" in texts(at.info)
    assert "Ready to train on **mnist**" in texts(at.markdown)
    assert not at.button(key="train.start").disabled and not at.error
    assert at.selectbox(key="train.model").options == [f"{n}: {cls.summary}" for n, cls in MODELS.items()]


def test_the_page_opens_with_a_trained_run_in_state():
    run = trained_run()
    at = open_page(PAGE, {**SMALL, "state.runs": {run.id: run}, "state.current_run": run.id})
    assert not at.exception
    assert "Trained to epoch 2." in texts(at.success)
    best = run.history[run.best_epoch - 1]
    mse = at.metric[0]
    assert mse.label == f"validation MSE (epoch {best['epoch']})" and mse.value == f"{best['val_mse']:.5f}"


# -- forms -------------------------------------------------------------------------------------------------------
def test_every_models_form_renders_a_widget_per_field_and_builds_its_default_config():
    at = open_page(PAGE, SMALL, query=AE)
    for name, cls in MODELS.items():
        at.selectbox(key="train.model").set_value(name).run()
        assert not at.exception and not at.error, name
        for spec in offered(cls.Config):  # every knob the variant uses (the linear AE has no activation)
            shown = at.get_by_key(f"train.{name}.{spec.name}").value
            if spec.kind == "ints":
                assert shown == ",".join(map(str, spec.default)), (name, spec.name)
            else:
                assert shown == spec.default, (name, spec.name)
        assert not at.button(key="train.start").disabled, name
        raw = {spec.name: at.get_by_key(f"train.{name}.{spec.name}").value for spec in offered(cls.Config)}
        assert forms.build(cls.Config, raw) == cls.Config()
    assert at.selectbox(key="train.fit.device").options == ["auto", *available()]
    raw = {spec.name: at.get_by_key(f"train.fit.{spec.name}").value for spec in fields_of(TrainConfig)}
    assert forms.build(TrainConfig, raw) == TrainConfig()  # the "More settings" popover's fields included


def test_forms_parse_widths_and_refuse_bad_ones_in_one_line():
    cls = MODELS["ae"].Config
    raw = {"latent_dim": 8, "hidden": " 64, 32 ", "activation": "tanh", "loss": "bce"}
    assert forms.build(cls, raw) == cls(latent_dim=8, hidden=(64, 32), activation="tanh", loss="bce")
    assert forms.build(MODELS["linear"].Config, {**raw, "hidden": ""}).hidden == ()
    with pytest.raises(InputError, match=r"Hidden widths: 'a,b' is not a list of whole numbers.*512,128"):
        forms.build(cls, {**raw, "hidden": "a,b"})
    with pytest.raises(InputError, match=r"'hidden' parameter of AEConfig must be an int in \[1, 8192\]"):
        forms.build(cls, {**raw, "hidden": "64,0"})


def test_an_invalid_value_shows_an_error_and_starts_nothing():
    at = open_page(PAGE, SMALL, query=AE)
    at.text_input(key="train.ae.hidden").set_value("a,b").run()
    assert not at.exception
    assert len(at.error) == 1 and "'a,b' is not a list of whole numbers" in at.error[0].value
    assert at.button(key="train.start").disabled
    assert "state.current_run" not in at.session_state and state.job_manager().active_jobs() == []
    at.selectbox(key="train.model").set_value("denoising").run()
    assert "**gaussian**: additive Gaussian noise; level = standard deviation (up to 1)." in texts(at.caption)
    level = lambda: at.slider(key="train.denoising.noise_level")  # noqa: E731 (re-read after every run)
    assert level().max == 1.0, "the slider offers only the levels the chosen noise accepts"
    at.selectbox(key="train.denoising.noise").set_value("speckle").run()  # speckle goes up to 2
    assert level().max == 2.0 and "**speckle**: multiplicative Gaussian noise" in texts(at.caption)
    level().set_value(1.5).run()
    assert not at.error and not at.button(key="train.start").disabled
    at.selectbox(key="train.denoising.noise").set_value("gaussian").run()  # back to a noise that stops at 1
    assert not at.exception and not at.error
    assert level().max == 1.0 and level().value == 1.0, "the level is clipped to the new noise's range"


def test_a_model_over_the_memory_budget_is_refused_on_the_form(monkeypatch):
    monkeypatch.setenv("AEVIZ_MEMORY_BUDGET", "200MB")
    at = open_page(PAGE, SMALL, query=AE)
    at.text_input(key="train.ae.hidden").set_value("8192,8192").run()
    assert not at.exception and len(at.error) == 1
    assert "weights and Adam state" in at.error[0].value and "memory budget of 200 MB" in at.error[0].value
    assert at.button(key="train.start").disabled and state.job_manager().active_jobs() == []


def test_continuing_over_the_memory_budget_is_refused_on_the_page(monkeypatch):
    run = trained_run()
    at = open_page(PAGE, {**SMALL, "state.runs": {run.id: run}, "state.current_run": run.id})
    monkeypatch.setenv("AEVIZ_MEMORY_BUDGET", "10KB")
    at.button(key="train.continue").click().run()
    assert not at.exception and "memory budget of 10 KB" in texts(at.error)
    assert state.job_manager().active_jobs() == [] and run.epoch == 2


def test_the_conv_model_on_vector_data_says_why_and_starts_nothing():
    at = open_page(PAGE, {"state.data": ("moons", {"n": 200})})
    at.selectbox(key="train.model").set_value("conv").run()
    assert not at.exception  # said on the form (the memory check sizes the model), so Start stays off
    assert "The conv model needs images (C, H, W); this data has shape (2,)" in texts(at.error)
    assert at.button(key="train.start").disabled
    assert "state.current_run" not in at.session_state and state.job_manager().active_jobs() == []
    assert not any(state.runs_dir().glob("*"))


# -- training through the page -------------------------------------------------------------------------------
def test_a_tiny_run_trains_to_the_end_and_shows_its_numbers_beside_pca():
    at = configure(open_page(PAGE, SMALL, query=AE), epochs=2)
    at.button(key="train.start").click().run()
    assert not at.exception
    job = current_job(at)
    assert job is not None and job.until == 2
    assert at.button(key="train.start").disabled  # the running job cannot be started twice
    assert job.done.wait(120), "the job did not finish"
    at.run()
    assert not at.exception and job.state == "finished"
    assert "Trained to epoch 2." in texts(at.success)
    run = job.run
    best = run.history[run.best_epoch - 1]
    data = small_data()
    x_train, x_val = data.split("train")[0], data.split("val")[0]
    # the number shown is the real MSE of the weights kept (the best epoch's), and PCA is fitted independently
    assert metrics.mse(x_val, reconstruct_all(run.model, x_val)) == pytest.approx(best["val_mse"], rel=1e-4)
    pca = metrics.pca_baseline(x_train, x_val, 2)[0]
    by_label = {m.label: m for m in at.metric}
    shown = by_label[f"validation MSE (epoch {best['epoch']})"]
    assert shown.value == f"{best['val_mse']:.5f}" and shown.delta == f"{best['val_mse'] - pca:+.5f} vs PCA"
    assert by_label["PCA, 2 components"].value == f"{pca:.5f}"
    assert runs.load(state.runs_dir() / run.id).epoch == 2  # saved on disk
    assert not at.button(key="train.start").disabled

    at.number_input(key="train.more").set_value(1)
    at.button(key="train.continue").click().run()
    again = current_job(at)
    assert again is not job and again.until == 3
    assert again.done.wait(120)
    at.run()
    assert "Trained to epoch 3." in texts(at.success) and run.train_config.epochs == 3
    assert runs.load(state.runs_dir() / run.id).epoch == 3 and len(run.history) == 3


def test_pause_resume_and_stop_drive_the_job_and_widgets_never_restart_it():
    at = configure(open_page(PAGE, SMALL, query=AE), epochs=10_000)  # tiny epochs: still running when Stop arrives
    at.button(key="train.start").click().run()
    job = current_job(at)
    at.button(key="train.live.pause").click().run()
    assert job.control.paused and job.state in {"paused", "queued"}
    assert at.button(key="train.live.resume") is not None and "paused" in texts(at.markdown)
    # moving a knob reruns the page; the same job keeps going, nothing restarts
    at.number_input(key="train.ae.latent_dim").set_value(5).run()
    assert current_job(at) is job and state.job_manager().get(job.run.id) is job and job.active
    at.button(key="train.live.resume").click().run()
    assert not job.control.paused
    at.button(key="train.live.stop").click().run()
    assert job.control.stopped
    assert job.done.wait(60), (job.state, job.run.epoch, job.control.stopped, job.message)
    assert job.state == "stopped" and job.run.epoch < 10_000
    at.run()
    assert not at.exception
    assert "Stopped by the user" in texts(at.warning) or "Removed from the queue" in texts(at.warning)
    assert not at.button(key="train.start").disabled


def test_a_queued_run_shows_its_place_in_line():
    blocker = trained_run(epochs=1)
    blocker.train_config = TrainConfig(epochs=50, batch_size=64)
    held = state.job_manager().submit(blocker, small_data(), 50, owner="someone-else", save_path=None)
    held.pause()  # holds the only training slot
    at = configure(open_page(PAGE, SMALL, query=AE))
    at.button(key="train.start").click().run()
    job = current_job(at)
    assert job.state == "queued"
    assert "Queued: position 1." in texts(at.info)
    at.button(key="train.live.stop").click().run()  # leave the queue
    assert job.done.wait(10) and job.state == "stopped" and job.run.epoch == 0


# -- saved runs ------------------------------------------------------------------------------------------------
def test_the_runs_panel_lists_opens_and_deletes_a_saved_run():
    run = trained_run()
    run.owner = mine()
    folder = runs.save(run, state.runs_dir() / run.id)
    (state.runs_dir() / "junk").mkdir()  # a broken folder is listed to the admin only, and is never fatal
    at = open_page(PAGE, as_visitor(SMALL))
    picker = at.selectbox(key="train.runs.pick")
    assert picker.options == ["ae · z=2 · mnist · 2/2 epochs · finished"]
    assert picker.value == run.id
    at.button(key="train.runs.open").click().run()
    assert not at.exception and at.session_state["state.current_run"] == run.id
    assert f"Showing {run.id} (epoch 2)." in texts(at.success) and "Trained to epoch 2." in texts(at.success)
    assert at.metric[0].value == f"{run.history[run.best_epoch - 1]['val_mse']:.5f}"
    assert at.get_by_key("train.runs.download") is not None

    at.button(key="train.runs.delete").click().run()
    assert "cannot be undone" in texts(at.warning) and folder.is_dir()  # asks first
    at.button(key="train.runs.delete_no").click().run()
    assert folder.is_dir()
    at.button(key="train.runs.delete").click().run()
    at.button(key="train.runs.delete_yes").click().run()
    assert not at.exception and not folder.exists()
    assert f"Deleted {run.id}." in texts(at.success) and "state.current_run" not in at.session_state
    assert [r["id"] for r in catalog.list_runs(state.runs_dir())] == ["junk"]


def test_the_admin_sees_broken_folders_to_clean_up(monkeypatch):
    monkeypatch.setenv("AEVIZ_ADMIN_TOKEN", ADMIN_TOKEN)
    (state.runs_dir() / "junk").mkdir()
    at = open_page(PAGE, SMALL, query={"admin": ADMIN_TOKEN})
    assert not at.exception and at.selectbox(key="train.runs.pick").options == ["junk (broken)"]
    assert "admin" not in at.query_params, "the token leaves the URL at once"


def test_uploads_import_a_run_or_say_what_is_wrong(tmp_path):
    run = trained_run()
    blob = archive.export_zip(runs.save(run, tmp_path / run.id))
    at = open_page(PAGE, SMALL, query=AE)
    at.file_uploader(key="train.runs.upload").set_value(("evil.zip", b"PK not really a zip", "application/zip"))
    at.run()
    assert not at.exception and "evil.zip: The upload is not a zip file." in texts(at.error)
    assert catalog.list_runs(state.runs_dir()) == []
    at.file_uploader(key="train.runs.upload").set_value((f"{run.id}.zip", blob, "application/zip"))
    at.run()
    assert not at.exception and at.session_state["state.current_run"] == run.id
    assert f"Imported {run.id} (epoch 2)" in texts(at.success)
    assert [r["id"] for r in catalog.list_runs(state.runs_dir())] == [run.id]
    np.testing.assert_allclose(at.session_state["state.runs"][run.id].history[-1]["val_mse"],
                               run.history[-1]["val_mse"])


def test_a_code_as_wide_as_the_data_is_called_out_and_pca_is_not_compared():
    """Moons are 2-D: their default code is 1 number; a 32-number code is not undercomplete and is called out, and
    PCA keeps only 2 components."""
    moons = ("moons", {"n": 200})
    at = open_page(PAGE, {"state.data": moons})
    assert at.number_input(key="train.ae.latent_dim").value == 1
    assert not any("not smaller than the input" in w.value for w in at.warning)
    at.number_input(key="train.ae.latent_dim").set_value(32).run()
    assert any("The code has 32 numbers for inputs of 2 values" in w.value for w in at.warning)

    run = trained_moons_run(n=200, latent_dim=4, hidden=(8,))
    at = open_page(PAGE, {"state.data": moons, "state.runs": {run.id: run}, "state.current_run": run.id})
    assert not at.exception
    by_label = {m.label: m for m in at.metric}
    assert "PCA, 2 components" in by_label, "PCA cannot keep more components than the data has values"
    assert all(not (m.delta or "").endswith("vs PCA") for m in at.metric), "exact PCA is not a baseline"
    assert any("inputs of 2 values" in i.value for i in at.info)


# -- text from a run file is shown as typed -------------------------------------------------------------------------
EVIL = "[x](http://e.com) ![i](http://e.com/a.png) <img src=x>"
MARKDOWN_ELEMENTS = ("markdown", "caption", "success", "info", "warning", "error", "title", "subheader")


def rendered(at) -> list[str]:
    """The source of every element Streamlit renders as Markdown."""
    return [str(e.value) for kind in MARKDOWN_ELEMENTS for e in getattr(at, kind)]


@pytest.mark.parametrize("text", [EVIL, "<a href='http://e.com'>x</a>", "see www.e.com or a@b.co", ":material/home:",
                                  ":red[loud] **bold** `code` $x^2$ ~~gone~~ | a | b |", "\\[x](http://e.com)"])
def test_plain_leaves_no_markup_unescaped(text):
    from aeviz.ui.text import plain

    shown = plain(text)
    unescaped = re.compile(r"(?<!\\)((?:\\\\)*)[\[\]<>!`*_$~|@]")  # a markup character after an even run of \
    assert not unescaped.search(shown), shown
    assert not re.search(r"(?<!\\)(://|:material/)", shown) and "www." not in shown


def test_a_runs_title_and_message_never_render_links_images_or_html():
    run = trained_run(epochs=1)
    run.title, run.note, run.message, run.owner = EVIL, EVIL, EVIL, mine()
    runs.save(run, state.runs_dir() / run.id)
    at = open_page(PAGE, as_visitor(SMALL))
    at.button(key="train.runs.open").click().run()
    assert not at.exception and at.session_state["state.current_run"] == run.id
    shown = rendered(at)
    escaped = r"\[x\](http\://e.com) \!\[i\](http\://e.com/a.png) \<img src=x\>"
    assert sum(escaped in text for text in shown) >= 2, shown  # the run line's title and the status box's message
    raw = re.compile(r"(?<!\\)(\[x\]|!\[i\]|<img)")  # a link, an image or a tag not escaped
    assert not any(raw.search(text) for text in shown), [text for text in shown if raw.search(text)]


def test_a_broken_runs_reason_quoting_a_tampered_field_is_shown_as_typed(monkeypatch):
    import json

    monkeypatch.setenv("AEVIZ_ADMIN_TOKEN", ADMIN_TOKEN)
    run = trained_run(epochs=1)
    folder = runs.save(run, state.runs_dir() / run.id)
    config = json.loads((folder / "config.json").read_text())
    config["status"] = "![i](http://e.com/a.png)"
    (folder / "config.json").write_text(json.dumps(config))
    at = open_page(PAGE, SMALL, query={"admin": ADMIN_TOKEN})
    warning = texts(at.warning)
    assert not at.exception and "'status' must be one of" in warning
    assert r"\!\[i\](http\://e.com/a.png)" in warning and "![i]" not in warning


def test_one_deeply_nested_folder_hides_no_run():
    run = trained_run(epochs=1)
    run.owner = mine()
    runs.save(run, state.runs_dir() / run.id)
    (state.runs_dir() / "deep").mkdir()
    (state.runs_dir() / "deep" / "config.json").write_text("[" * 10_000 + "]" * 10_000)
    at = open_page(PAGE, as_visitor(SMALL))
    assert not at.exception
    assert at.selectbox(key="train.runs.pick").options == ["ae · z=2 · mnist · 1/1 epochs · finished"]


def test_a_current_run_damaged_on_disk_is_an_error_box_not_a_crash():
    import json

    run = trained_run(epochs=1)
    run.owner = mine()
    folder = runs.save(run, state.runs_dir() / run.id)
    at = open_page(PAGE, as_visitor({**SMALL, "state.current_run": run.id}))
    assert not at.exception and "Trained to epoch 1." in texts(at.success)
    config = json.loads((folder / "config.json").read_text())
    config["best_epoch"] = "abc"
    (folder / "config.json").write_text(json.dumps(config))  # in place: the run list's cache does not see it
    at.run()
    assert not at.exception
    errors = texts(at.error)
    assert f"The run {run.id} cannot be opened" in errors and "'best\\_epoch' must be an int" in errors


def test_a_visitor_sees_their_own_broken_run_and_why_but_not_anyone_elses():
    from safetensors.torch import load_file, save_file

    theirs, other = trained_run(epochs=1), trained_run(epochs=1)
    theirs.owner, other.owner = mine(), mine("someone-else-token")
    for run in (theirs, other):
        folder = runs.save(run, state.runs_dir() / run.id)
        weights = load_file(str(folder / "model.safetensors"))
        weights[min(weights)].fill_(float("nan"))
        save_file(weights, str(folder / "model.safetensors"))
    at = open_page(PAGE, as_visitor(SMALL))
    assert not at.exception
    assert at.selectbox(key="train.runs.pick").options == [f"{theirs.id} (broken)"]
    assert "holds NaN or infinite values" in texts(at.warning)
    assert not at.button(key="train.runs.delete").disabled  # theirs to clean up
