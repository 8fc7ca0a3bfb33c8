"""Exports for slides: the replay GIF, PNG and SVG figures at presentation size, `aeviz export`, the replay figure."""

import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from aeviz import export, replay, runs
from tests.test_cli import cli  # the one way tests call the CLI
from aeviz.data import load_dataset
from aeviz.errors import InputError
from aeviz.plots_replay import replay_figure
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig

EPOCHS = 3
SUFFIX = {"latent-gif": "gif", "latent": "png", "loss": "svg", "recon": "png", "samples": "png"}


def _run(model: str, data, folder, epochs: int = EPOCHS, **params) -> Run:
    """A trained run saved in `folder`; the trainer captures its replay (epoch 0 before the first step)."""
    run = Run.create(model, data.shape, data.source, data.params, TrainConfig(epochs=epochs, batch_size=64),
                     **params)
    train(run, data)
    assert run.replay.epochs == list(range(epochs + 1))
    runs.save(run, folder)
    assert (folder / replay.FILE).is_file()
    return run


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def vae_dir(tmp_path_factory, digits):
    folder = tmp_path_factory.mktemp("runs") / "vae"
    _run("vae", digits, folder, latent_dim=4, hidden=(32,))
    return folder


@pytest.fixture(scope="module")
def vae(vae_dir):
    return runs.load(vae_dir)


def test_the_gif_has_one_frame_per_captured_epoch(vae, digits):
    gif = Image.open(io.BytesIO(export.export_bytes(vae, digits, "latent-gif", "gif")))
    assert gif.format == "GIF" and gif.n_frames == EPOCHS + 1 and gif.size == (1920, 1080)
    assert gif.info["loop"] == 0 and gif.info["duration"] == export.FRAME_MS
    gif.seek(gif.n_frames - 1)
    gif.convert("RGB").load()  # every frame decodes


def test_the_gif_reads_the_replay_in_memory_before_the_file(vae, digits):
    run = runs.load(vae.path)
    run.replay = replay.Replay(run.replay.probe_idx, run.replay.epochs[:2], run.replay.codes[:2])
    assert Image.open(io.BytesIO(export.export_bytes(run, digits, "latent-gif", "gif"))).n_frames == 2
    run.replay = None  # e.g. a Run object without one in memory: the folder's file
    assert Image.open(io.BytesIO(export.export_bytes(run, digits, "latent-gif", "gif"))).n_frames == EPOCHS + 1


@pytest.mark.parametrize("what", ["latent", "loss", "recon", "samples"])
def test_pngs_are_1920_pixels_wide_and_svgs_parse(vae, digits, what):
    png = Image.open(io.BytesIO(export.export_bytes(vae, digits, what, "png")))
    png.load()
    assert png.format == "PNG" and png.size == (1920, 1080)
    svg = export.export_bytes(vae, digits, what, "svg")
    assert ET.fromstring(svg).tag.endswith("svg") and b"<svg" in svg


def test_loss_marks_phases_and_live_changes(vae, digits):
    run = runs.load(vae.path)
    run.history = [{**h, "phase": "pretrain" if h["epoch"] < 2 else "fine-tune"} for h in run.history]
    run.changes = [{"epoch": 2, "step": 3, "steps": 6, "name": "lr", "old": 0.001, "new": 0.01}]
    svg = export.export_bytes(run, digits, "loss", "svg").decode()
    assert "lr 0.001 → 0.01" in svg and "fine-tune starts" in svg and "validation kl" in svg


def test_vector_data_gets_scatters_and_a_model_without_prior_no_samples(tmp_path):
    moons = load_dataset("moons", n=300)
    run = _run("ae", moons, tmp_path / "ae", epochs=1, latent_dim=2, hidden=(16,))
    for what in ("recon", "latent"):
        assert Image.open(io.BytesIO(export.export_bytes(run, moons, what, "png"))).size == (1920, 1080)
    with pytest.raises(InputError, match="no prior"):
        export.export_bytes(run, moons, "samples", "png")


def test_a_wrong_suffix_or_export_is_refused_naming_the_choices():
    with pytest.raises(InputError, match=r"\.png or \.svg"):
        export.check_target("loss", "slide.gif")
    with pytest.raises(InputError, match=r"\.gif"):
        export.check_target("latent-gif", "slide.png")
    with pytest.raises(InputError, match="Choose one of"):
        export.check_target("weights", "w.png")
    assert export.check_target("latent", "A.SVG") == "svg"


@pytest.mark.parametrize("what", list(export.EXPORTS))
def test_every_export_of_the_cli_writes_its_file(capsys, vae_dir, tmp_path, what):
    out = tmp_path / f"{what}.{SUFFIX[what]}"
    code, stdout, _ = cli(capsys, "export", str(vae_dir), "--what", what, "--out", str(out))
    assert code == 0 and stdout.strip() == str(out)
    assert out.stat().st_size > 1000
    if SUFFIX[what] != "svg":
        assert Image.open(out).size == (1920, 1080)


def _one_line_exit_2(code, err):
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err


def test_bad_cli_input_is_one_line_and_exit_2(capsys, vae_dir, tmp_path):
    code, _, err = cli(capsys, "export", str(vae_dir), "--what", "loss", "--out", str(tmp_path / "loss.jpg"))
    _one_line_exit_2(code, err)
    assert ".png or .svg" in err and not (tmp_path / "loss.jpg").exists()
    code, _, err = cli(capsys, "export", str(vae_dir), "--what", "weights", "--out", str(tmp_path / "w.png"))
    _one_line_exit_2(code, err)
    assert "invalid choice" in err
    code, _, err = cli(capsys, "export", str(tmp_path / "nothing"), "--what", "loss", "--out", str(tmp_path / "l.png"))
    _one_line_exit_2(code, err)


def test_a_run_without_replay_is_told_how_to_get_one(capsys, vae_dir, tmp_path):
    run = runs.load(vae_dir)
    run.replay = None
    runs.save(run, tmp_path / "old")
    (tmp_path / "old" / replay.FILE).unlink(missing_ok=True)  # as a run saved before replays
    code, _, err = cli(capsys, "export", str(tmp_path / "old"), "--what", "latent-gif", "--out",
                       str(tmp_path / "r.gif"))
    _one_line_exit_2(code, err)
    assert export.NO_REPLAY in err


def test_the_replay_figure_has_a_frame_and_a_slider_step_per_epoch():
    rng = np.random.default_rng(0)
    epochs, xy, labels = [0, 1, 2, 5], rng.normal(size=(4, 30, 2)), np.arange(30) % 3
    fig = replay_figure(epochs, xy, labels, ("a", "b", "c"))
    assert [f.name for f in fig.frames] == ["0", "1", "2", "5"]
    assert [s.label for s in fig.layout.sliders[0].steps] == ["0", "1", "2", "5"]
    assert all(len(f.data) == 3 for f in fig.frames) and [t.name for t in fig.data] == ["a", "b", "c"]
    assert fig.layout.xaxis.autorange is False and fig.layout.xaxis.range[0] <= xy[..., 0].min()
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["▶ Play", "❚❚ Pause"]
    np.testing.assert_allclose(fig.data[0].x, xy[-1][labels == 0, 0])  # it opens on the last epoch
    assert len(replay_figure(list(range(500)), rng.normal(size=(500, 5, 2))).frames) == 120


def test_a_mistyped_folder_is_refused_not_created(capsys, vae_dir, tmp_path):
    out = tmp_path / "sildes" / "loss.png"
    code, _, err = cli(capsys, "export", str(vae_dir), "--what", "loss", "--out", str(out))
    _one_line_exit_2(code, err)
    assert "is not a folder" in err and not out.parent.exists()
    code, _, err = cli(capsys, "export", str(vae_dir / "config.json"), "--what", "loss", "--out", str(tmp_path / "l.png"))
    _one_line_exit_2(code, err)
    assert "is a file, not a run folder" in err
