"""The Reconstructions & denoising page under AppTest: no run, a saved run, a trained run's numbers, the sample
modes, comparable runs, pictures (good and bad) and vector data."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from aeviz import denoising_lab as lab
from aeviz import metrics, runs
from aeviz.data import load_dataset
from aeviz.evaluation import corrupt, reconstruct_all
from aeviz.training import train
from aeviz.training_config import TrainConfig
from aeviz.ui.denoise_view import CURVE_MAX
from tests.conftest import open_page, picker

MNIST = ("mnist", {"limit": 300})


def _trained(model: str = "ae", source=MNIST, **params) -> runs.Run:
    data = load_dataset(source[0], **source[1])
    run = runs.Run.create(model, data.shape, data.source, data.params, TrainConfig(epochs=2, batch_size=32),
                          **{"latent_dim": 8, "hidden": (64,), **params})
    assert train(run, data).status == "finished"
    return run


@pytest.fixture(scope="module")
def run() -> runs.Run:
    return _trained()


def _open(*session_runs: runs.Run, data=MNIST):
    state = {"state.runs": {r.id: r for r in session_runs}, "state.current_run": session_runs[0].id,
             "state.data": data}
    return open_page("pages/reconstructions.py", state)


def _scores(at) -> list[tuple[str, str, str]]:
    return [(m.label, m.value, m.delta) for m in at.metric]


def _array(value) -> np.ndarray:
    """A Plotly array from a chart spec: a list, or base64 'bdata' with its dtype."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value, dtype=float)


def _png(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def test_without_a_run_the_page_explains_and_links_to_train():
    at = open_page("pages/reconstructions.py")
    assert not at.exception
    assert "no run to look at yet" in at.warning[0].value
    assert ("Train a model first", "train") in [(link.proto.label, link.proto.page) for link in at.get("page_link")]
    assert not at.selectbox, "no saved runs on disk: nothing to offer"


def test_a_fresh_session_is_shown_the_newest_saved_run(run, tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIZ_RUNS", str(tmp_path))
    runs.save(run, tmp_path / "saved")
    at = open_page("pages/reconstructions.py")
    assert not at.exception
    assert at.session_state["state.current_run"] == run.id
    assert any("Showing the newest saved run" in c.value for c in at.caption)
    assert picker(at, f"recon.run.{run.id}").value == run.id
    assert len(at.metric) == 8


def test_the_scores_are_those_of_the_run_on_the_validation_split(run):
    at = _open(run)
    assert not at.exception and not at.error
    assert at.selectbox(key="recon.noise").value == "gaussian" and at.slider(key="recon.level.gaussian").value == 0.3
    x_val = load_dataset(*MNIST[:1], **MNIST[1]).split("val")[0]
    noisy = corrupt(x_val, "gaussian", 0.3, seed=0)
    rec = reconstruct_all(run.model, noisy)
    whole = _scores(at)[4:]
    assert whole[0] == ("noisy PSNR", f"{metrics.psnr(x_val, noisy):.1f} dB", "")
    assert whole[1][1] == f"{metrics.psnr(x_val, rec):.1f} dB"
    assert whole[3][1] == f"{metrics.ssim(x_val, rec):.3f}"
    assert [im for im in at.get("image")], "three rows of pictures and the close-up"


def test_noise_level_0_gives_a_perfect_noisy_input_and_masking_changes_the_numbers(run):
    at = _open(run)
    at.slider(key="recon.level.gaussian").set_value(0.0).run()
    assert _scores(at)[0][1] == "100.0 dB" and _scores(at)[2][1] == "1.000"
    at.selectbox(key="recon.noise").set_value("masking").run()
    assert not at.exception
    assert at.slider(key="recon.level.masking").value == 0.3
    assert float(_scores(at)[0][1].split()[0]) < 20.0


def test_worst_first_shows_the_largest_errors_in_order(run):
    at = _open(run)
    at.radio(key="recon.mode").set_value("worst").run()
    x_val = load_dataset(*MNIST[:1], **MNIST[1]).split("val")[0]
    errors = metrics.per_sample_mse(x_val, reconstruct_all(run.model, corrupt(x_val, "gaussian", 0.3, seed=0)))
    options = at.selectbox(key="recon.pick").options
    shown = [int(o.split("#")[1].split(" ")[0]) for o in options]
    assert shown == list(np.argsort(-errors, kind="stable")[:10])


def test_one_class_shows_only_that_class(run):
    at = _open(run)
    at.radio(key="recon.mode").set_value("class").run()
    at.selectbox(key="recon.class").set_value(3).run()
    assert not at.exception
    options = at.selectbox(key="recon.pick").options
    assert options and all("(3)" in o for o in options)


def test_the_robustness_curve_compares_runs_on_the_same_data_only(run):
    twin = _trained("denoising", noise="gaussian", noise_level=0.5)
    stranger = _trained(source=("mnist", {"limit": 200}))
    at = _open(run, twin, stranger)
    assert not at.exception
    assert at.multiselect(key="recon.compare").options == [f"{twin.model_name} · epoch 2 · {twin.id[-4:]}"]
    curve = {c.key: json.loads(c.proto.spec) for c in at.get("plotly_chart")}["recon.curve"]
    lines = {t["name"]: t["y"] for t in curve["data"]}  # lists here: the page passes Python lists
    assert len(lines) == 3
    x_val = load_dataset(*MNIST[:1], **MNIST[1]).split("val")[0][:CURVE_MAX]
    expected = lab.robustness_curve(twin.model, x_val, "gaussian").recon_psnr
    assert np.allclose([y for name, y in lines.items() if name.startswith("denoising")][0], expected)
    assert lines["noisy input, no model"][0] is None, "level 0 (100 dB) is left out of the reference line"


def test_a_denoising_run_starts_on_its_training_noise():
    dae = _trained("denoising", noise="masking", noise_level=0.4)
    at = _open(dae)
    assert at.selectbox(key="recon.noise").value == "masking"
    assert at.slider(key="recon.level.masking").value == pytest.approx(0.4)


def test_an_uploaded_picture_is_reconstructed_and_placed(run):
    img = np.full((100, 100), 255, np.uint8)
    img[15:85, 45:55] = 0  # a dark "1" on white paper
    at = _open(run)
    at.radio(key="recon.draw_source").set_value("upload").run()
    at.file_uploader(key="recon.upload").set_value(("one.png", _png(img), "image/png")).run()
    assert not at.exception and not at.error
    assert "recon.latent" in [c.key for c in at.get("plotly_chart")]
    latent = json.loads(next(c for c in at.get("plotly_chart") if c.key == "recon.latent").proto.spec)
    star = latent["data"][-1]
    assert star["name"] == "your picture" and len(_array(star["x"])) == 1 and np.isfinite(_array(star["y"])).all()
    assert _scores(at)[-1][0] == "PSNR"


@pytest.mark.parametrize("name, content, message", [
    ("fake.png", b"GIF89a? no, just text", "fake.png is not a readable picture"),
    ("empty.png", b"", "empty.png is empty"),
])
def test_a_bad_picture_shows_one_line_and_no_exception(run, name, content, message):
    at = _open(run)
    at.radio(key="recon.draw_source").set_value("upload").run()
    at.file_uploader(key="recon.upload").set_value((name, content, "image/png")).run()
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value
    assert len(at.metric) == 8, "the rest of the page is still there"


def test_a_run_on_points_shows_points_and_no_canvas():
    moons = _trained(source=("moons", {"n": 200, "noise": 0.05}), latent_dim=1, hidden=(16,))
    at = _open(moons, data=("moons", {"n": 200, "noise": 0.05}))
    assert not at.exception
    assert not at.get("image") and "recon.points" in [c.key for c in at.get("plotly_chart")]
    assert len(at.metric) == 4, "PSNR only: SSIM is for images"
    assert any("needs an image dataset" in c.value for c in at.caption)


def test_a_run_whose_data_is_gone_shows_an_error(run):
    lost = runs.Run.create("ae", (1, 28, 28), "/nowhere/gone.npy", {}, TrainConfig(epochs=1))
    at = _open(lost)
    assert not at.exception
    assert "cannot be loaded" in at.error[0].value


def test_a_run_still_training_is_read_between_its_steps(monkeypatch):
    from aeviz.jobs import JobManager
    from aeviz.ui import state

    data = load_dataset("mnist", limit=300)
    live = runs.Run.create("ae", data.shape, data.source, data.params, TrainConfig(epochs=10_000, batch_size=8),
                           latent_dim=8, hidden=(64,))
    manager = JobManager(slots=1)
    monkeypatch.setattr(state, "job_manager", lambda: manager)  # a private manager: nothing leaks to other tests
    job = manager.submit(live, data, until=10_000, owner="test", save_path=None)
    try:
        at = _open(live)
        assert not at.exception and not at.error
        assert any("still training: these views show epoch" in c.value for c in at.caption)
        assert len(at.metric) == 8 and "recon.curve" in [c.key for c in at.get("plotly_chart")]
    finally:
        job.stop()
        assert job.done.wait(30), "the job stops at the next step"
    assert job.state == "stopped"


def test_the_run_picker_is_a_new_widget_when_a_label_changes(run, tmp_path, monkeypatch):
    """Streamlit 1.67 keeps showing a keyed select box's old text when only its labels change (seen after a Stop:
    "in training" on a stopped run), so the picker's key carries a hash of its labels."""
    monkeypatch.setenv("AEVIZ_RUNS", str(tmp_path))
    at = open_page("pages/reconstructions.py", {"state.runs": {run.id: run}, "state.current_run": run.id})
    before = picker(at, f"recon.run.{run.id}")
    monkeypatch.setattr(run, "title", "Renamed for the room")
    at.run()
    after = picker(at, f"recon.run.{run.id}")
    assert after.key != before.key and after.value == run.id
    assert after.options[0].startswith("Renamed for the room · ") and not before.options[0].startswith("Renamed")
