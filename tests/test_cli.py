"""The `aeviz` command line as scripts use it: exit codes, one-line errors, JSON from evaluate."""

import json
import subprocess
import sys

import numpy as np
import pytest

from aeviz import runs
from aeviz.cli import main
from aeviz.data import DATASETS
from aeviz.models import MODELS


def cli(capsys, *argv):
    """Run `aeviz *argv` in-process (paths may be Path objects): (exit code, stdout, stderr)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's own exits
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "tiny"
    code = main(["train", "--data", "mnist", "--data-param", "limit=600", "--model", "ae", "--latent-dim", "8",
                 "--hidden", "64", "--epochs", "2", "--out", str(out)])
    assert code == 0
    return out


def test_models_and_datasets_list_everything(capsys):
    code, out, _ = cli(capsys, "models")
    assert code == 0 and all(name in out for name in MODELS) and "beta=1.0" in out
    code, out, _ = cli(capsys, "datasets")
    assert code == 0 and all(name in out for name in DATASETS)


def test_train_saves_a_loadable_run(trained_run):
    run = runs.load(trained_run)
    assert run.epoch == 2 and run.model.config.latent_dim == 8 and run.model.config.hidden == (64,)
    assert run.data_source == "mnist" and run.data_params.get("limit") == 600


def test_train_prints_progress_and_epoch_lines(tmp_path, capsys):
    code, _, err = cli(capsys, "train", "--data", "moons", "--data-param", "n=300", "--model", "vae",
                       "--latent-dim", "2", "--hidden", "16", "--epochs", "2", "--set", "beta=0.5",
                       "--out", str(tmp_path / "v"))
    assert code == 0
    assert "epoch 1/2" in err and "epoch 2/2" in err and "val_mse" in err and "samples/s" in err
    assert runs.load(tmp_path / "v").model.config.beta == 0.5


def test_train_starts_from_the_settings_that_fit_the_data_and_flags_win(tmp_path, capsys):
    code, _, _ = cli(capsys, "train", "--data", "moons", "--data-param", "n=100", "--epochs", "1",
                     "--out", str(tmp_path / "m"))
    run = runs.load(tmp_path / "m")
    assert code == 0 and run.model.config.latent_dim == 1 and run.model.config.hidden == (256, 256, 256)
    assert run.train_config.lr == 5e-3 and run.train_config.batch_size == 64 and run.train_config.epochs == 1
    code, _, err = cli(capsys, "train", "--data", "moons", "--data-param", "n=100", "--epochs", "1", "--latent-dim",
                       "2", "--lr", "0.01", "--set", "hidden=8", "--out", str(tmp_path / "g"))
    run = runs.load(tmp_path / "g")
    assert code == 0 and run.model.config.latent_dim == 2 and run.model.config.hidden == (8,)
    assert run.train_config.lr == 0.01 and run.train_config.batch_size == 64
    # as the app does: a code as wide as the input is said, once, before training
    assert err.count("warning: The code has 2 numbers for inputs of 2 values, so it is not smaller than the input "
                     "(not undercomplete)") == 1


def test_train_on_images_starts_from_the_conv_model_with_a_code_an_eighth_of_the_pixels(tmp_path, capsys):
    code, _, err = cli(capsys, "train", "--data", "digits", "--epochs", "1", "--out", str(tmp_path / "d"))
    run = runs.load(tmp_path / "d")
    assert code == 0 and "training conv on digits" in err and "warning" not in err
    assert run.model.config.latent_dim == 8 and run.train_config.batch_size == 64  # 8x8 digits: 64 values


def test_evaluate_prints_one_json_object(trained_run, capsys):
    code, out, _ = cli(capsys, "evaluate", str(trained_run))
    assert code == 0 and len(out.strip().splitlines()) == 1
    result = json.loads(out)
    for key in ("mse", "psnr", "n", "pca_mse", "kmeans_acc", "kmeans_nmi", "kmeans_acc_pixels"):
        assert key in result
    assert result["n"] == 120 and result["split"] == "val"
    assert 0 < result["mse"] < 0.2 and result["psnr"] == pytest.approx(10 * __import__("math").log10(1 / result["mse"]), abs=1e-3)
    assert 0 < result["kmeans_acc"] <= 1


def test_evaluate_with_data_and_noise(trained_run, capsys, tmp_path):
    code, out, _ = cli(capsys, "evaluate", str(trained_run), "--data", "digits", "--noise", "gaussian:0.5")
    assert code == 2 and "shape" in _  # digits are 8x8, the run is 28x28
    code, out, _ = cli(capsys, "evaluate", str(trained_run), "--noise", "gaussian:0.5")
    result = json.loads(out)
    assert code == 0 and result["noise"] == "gaussian:0.5" and 8 < result["psnr_noisy"] < 11  # sigma 0.5, clipped


def test_refuses_to_overwrite_a_run_but_resumes(trained_run, capsys):
    code, _, err = cli(capsys, "train", "--out", str(trained_run), "--epochs", "1")
    assert code == 2 and "already holds a run" in err and "--resume" in err
    code, _, err = cli(capsys, "train", "--out", str(trained_run), "--epochs", "1", "--resume")
    resumed = runs.load(trained_run)
    assert code == 0 and resumed.epoch == 3
    assert resumed.train_config.epochs == 3, "the run's target grows with it: never 'epoch 3 of 2'"


@pytest.mark.parametrize("flags, named", [
    (["--latent-dim", "4"], "--latent-dim"), (["--hidden", "8"], "--hidden"), (["--model", "vae"], "--model"),
    (["--data", "digits"], "--data"), (["--set", "activation=tanh"], "--set activation"),
])
def test_resume_refuses_flags_that_would_change_the_model_or_data(trained_run, capsys, flags, named):
    before = runs.load(trained_run).epoch
    code, _, err = cli(capsys, "train", "--out", str(trained_run), "--resume", "--epochs", "1", *flags)
    assert code == 2 and err.startswith(f"aeviz train: error: {named}") and "cannot change a resumed run" in err
    assert len(err.strip().splitlines()) == 1 and runs.load(trained_run).epoch == before


def test_runs_lists_a_folder_and_says_when_there_is_nothing(trained_run, capsys, tmp_path, monkeypatch):
    code, out, _ = cli(capsys, "runs", str(trained_run.parent))
    assert code == 0 and str(trained_run) in out and "ae on mnist" in out
    code, out, err = cli(capsys, "runs", str(tmp_path))
    assert code == 0 and out == "" and "no runs in" in err
    for bad in (tmp_path / "missing", trained_run / "config.json"):
        code, _, err = cli(capsys, "runs", str(bad))
        assert code == 2 and "is not a folder" in err and len(err.strip().splitlines()) == 1
    monkeypatch.setenv("AEVIZ_RUNS", str(trained_run.parent))  # no argument: the app's runs folder
    code, out, _ = cli(capsys, "runs")
    assert code == 0 and str(trained_run) in out


@pytest.mark.parametrize("argv, fragment", [
    (["train", "--model", "gan"], "Unknown model 'gan'"),
    (["train", "--data", "imagenet"], "Unknown dataset 'imagenet'"),
    (["train", "--epochs", "0"], "'epochs' parameter of TrainConfig must be an int in [1, 10000]. Got 0"),
    (["train", "--epochs", "ten"], "invalid int value"),
    (["train", "--lr", "-1"], "'lr' parameter"),
    (["train", "--latent-dim", "0"], "'latent_dim'"),
    (["train", "--hidden", "a,b"], "'hidden'"),
    (["train", "--hidden", "512,,128"], "must be whole numbers separated by commas"),
    (["train", "--set", "beta=2"], "has no parameter 'beta'"),
    (["train", "--model", "vae", "--set", "beta=big"], "'beta'"),
    (["train", "--set", "nokey"], "must look like KEY=VALUE"),
    (["train", "--noise", "gaussian:0.3"], "use --model denoising"),
    (["train", "--model", "denoising", "--noise", "fog:0.3"], "Unknown noise 'fog'"),
    (["train", "--model", "denoising", "--noise", "gaussian"], "needs a level"),
    (["train", "--model", "conv", "--data", "moons"], "needs images"),
    (["train", "--data", "moons", "--data-param", "n=0"], "'n' parameter"),
    (["train", "--loss", "l1"], "invalid choice"),
    (["evaluate", "/no/such/run"], "no such run folder"),
    (["evaluate"], "the following arguments are required"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, argv, fragment):
    if argv[0] == "train":
        argv = [*argv, "--out", str(tmp_path / "r"), "--data-param", "limit=200"] if "--data" not in argv else [
            *argv, "--out", str(tmp_path / "r")]
    code, _, err = cli(capsys, *argv)
    assert code == 2
    assert fragment in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert not (tmp_path / "r" / "config.json").exists()


def test_unavailable_device(tmp_path, capsys):
    code, _, err = cli(capsys, "train", "--device", "cuda", "--data-param", "limit=100", "--out", str(tmp_path / "r"))
    assert code == 2 and "not available on this machine" in err


def test_installed_entry_point_runs(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "aeviz.cli", "evaluate", str(tmp_path / "missing")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "no such run folder" in proc.stderr


def test_app_passes_streamlit_options_and_starts_beside_app_py(monkeypatch, tmp_path, capsys):
    import aeviz.cli_workshop as cli_module
    calls = {}

    class FakeServer:
        def __init__(self, cmd, cwd, env):
            calls.update(cmd=cmd, cwd=cwd, env=env)

        def wait(self):
            return 0

    monkeypatch.setattr(cli_module.subprocess, "Popen", FakeServer)
    monkeypatch.setattr(cli_module.embedding, "start_warm_up_process", lambda: None)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AEVIZ_RUNS", raising=False)
    assert main(["app", "--server.port", "8502"]) == 0
    assert calls["cmd"][-4:] == ["run", str(cli_module.bundle.APP), "--server.port", "8502"]
    assert (calls["cwd"] / ".streamlit" / "config.toml").is_file()  # so the app's settings apply
    assert calls["env"]["AEVIZ_RUNS"] == str(tmp_path / "runs")
    token = calls["env"]["AEVIZ_ADMIN_TOKEN"]  # made once, kept in the cache: the same admin link next time
    assert len(token) >= 8 and f"http://localhost:8502/?admin={token}" in capsys.readouterr().err
    assert main(["app", "--runs", str(tmp_path / "pack"), "--admin-token", "teacher-123"]) == 0
    assert calls["env"]["AEVIZ_RUNS"] == str(tmp_path / "pack") and calls["env"]["AEVIZ_ADMIN_TOKEN"] == "teacher-123"
    assert main(["app"]) == 0 and calls["env"]["AEVIZ_ADMIN_TOKEN"] == token
    assert main(["app", "--admin-token", "a b"]) == 2, "a token that cannot travel in a link is refused"


def test_app_starts_umaps_compile_before_the_server_and_stops_it_after(monkeypatch, tmp_path):
    """The warm-up compile gets a head start (the server is told not to start a second one), and whatever is left
    of it is stopped when the server ends; a SIGTERM to `aeviz app` reaches the server."""
    import signal

    import aeviz.cli_workshop as cli_module
    events = []

    class FakeWarmUp:
        def poll(self):
            return None

        def kill(self):
            events.append("warm-up stopped")

    class FakeServer:
        def __init__(self, cmd, cwd, env):
            events.append(("server", env.get("AEVIZ_WARM_UP")))

        def wait(self):
            signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)  # a stop from outside, while it serves
            return 0

        def terminate(self):
            events.append("server terminated")

    monkeypatch.setattr(cli_module.embedding, "start_warm_up_process", lambda: events.append("warm-up") or FakeWarmUp())
    monkeypatch.setattr(cli_module.subprocess, "Popen", FakeServer)
    monkeypatch.chdir(tmp_path)
    before = signal.getsignal(signal.SIGTERM)
    assert main(["app"]) == 0
    assert events == ["warm-up", ("server", "0"), "server terminated", "warm-up stopped"]
    assert signal.getsignal(signal.SIGTERM) is before


def test_unknown_options_outside_app_are_refused(capsys):
    code, _, err = cli(capsys, "models", "--colour")
    assert code == 2 and "unrecognized arguments: --colour" in err and len(err.strip().splitlines()) == 1


def test_out_must_be_new_or_empty_and_nothing_there_is_deleted(tmp_path, capsys):
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.txt").write_text("years of work")
    code, _, err = cli(capsys, "train", "--data", "moons", "--data-param", "n=200", "--epochs", "1", "--out", str(out))
    assert code == 2 and "not an empty folder" in err
    assert (out / "chapter1.txt").read_text() == "years of work"


def test_a_run_whose_data_changed_shape_is_refused(tmp_path, capsys):
    data = tmp_path / "d.npy"
    np.save(data, np.random.default_rng(0).random((200, 6)).astype(np.float32))
    code, _, _ = cli(capsys, "train", "--data", str(data), "--hidden", "8", "--latent-dim", "2", "--epochs", "1",
                     "--out", str(tmp_path / "r"))
    assert code == 0
    np.save(data, np.random.default_rng(0).random((200, 5)).astype(np.float32))
    for argv in (["evaluate", str(tmp_path / "r")], ["train", "--out", str(tmp_path / "r"), "--resume"]):
        code, _, err = cli(capsys, *argv)
        assert code == 2 and "has shape (5,), but its model takes (6,)" in err and "Traceback" not in err


def test_resume_needs_at_least_one_more_epoch(trained_run, capsys):
    code, _, err = cli(capsys, "train", "--out", str(trained_run), "--resume", "--epochs", "-3")
    assert code == 2 and "at least 1" in err


@pytest.mark.parametrize("limit", [1, 9])
def test_too_few_samples_to_train_is_one_line(tmp_path, capsys, limit):
    code, _, err = cli(capsys, "train", "--data", "mnist", "--data-param", f"limit={limit}",
                       "--out", str(tmp_path / "r"))
    assert code == 2 and "at least 10" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()
