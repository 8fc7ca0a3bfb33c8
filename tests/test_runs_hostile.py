"""Tampered, damaged and half-saved run folders: one line naming the field everywhere, the good runs unharmed.

One good run is trained once (2-D moons, a few hundred weights); each case copies it, tampers with one thing and
checks the four ways in: `aeviz runs` (exit 0, the good run listed, the bad one marked with its reason),
`aeviz evaluate` and `aeviz train --resume` (exit 2, one line, no traceback) and `runs.load` (InputError).
Then what a killed save leaves behind, a full disk, and an empty --out folder.
"""

from __future__ import annotations

import errno
import io
import json
import os
import pickle
import re
import shutil
import zipfile
from pathlib import Path

import pytest
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from aeviz import archive, catalog, runs
from aeviz.data import load_dataset
from aeviz.data_ref import uploads_dir
from aeviz.errors import InputError
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig
from tests.test_cli import cli

DEAD_PID = 4_194_304 + 4321  # above Linux's largest pid: no such process




@pytest.fixture(scope="module")
def template(tmp_path_factory):
    data = load_dataset("moons", n=200)
    run = Run.create("ae", data.shape, "moons", data.params, TrainConfig(epochs=1, batch_size=32), hidden=(8,),
                     latent_dim=2)
    train(run, data)
    return runs.save(run, tmp_path_factory.mktemp("template") / "good")


@pytest.fixture
def root(template, tmp_path):
    shutil.copytree(template, tmp_path / "runs" / "good")
    shutil.copytree(template, tmp_path / "runs" / "bad")
    return tmp_path / "runs"


def edit(change):
    def apply(folder: Path) -> None:
        config = json.loads((folder / "config.json").read_text())
        change(config)
        (folder / "config.json").write_text(json.dumps(config))
    return apply


def tensors(file: str, change):
    def apply(folder: Path) -> None:
        weights = load_file(str(folder / file))
        change(weights)
        save_file(weights, str(folder / file))
    return apply


def first(weights: dict) -> torch.Tensor:
    return weights[min(weights)]


def nested(depth: int):
    def apply(folder: Path) -> None:
        text = (folder / "config.json").read_text().rstrip()
        (folder / "config.json").write_text(text[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}")
    return apply


def history(value):
    return lambda folder: (folder / "history.json").write_text(value if isinstance(value, str) else json.dumps(value))


def group(**values):
    return edit(lambda c: c["optimizer"]["param_groups"][0].update(values))


CASES = {
    "best_epoch abc": (edit(lambda c: c.update(best_epoch="abc")), "'best_epoch' must be an int"),
    "best_epoch null": (edit(lambda c: c.update(best_epoch=None)), "'best_epoch' must be an int"),
    "best_epoch list": (edit(lambda c: c.update(best_epoch=[1])), "'best_epoch' must be an int"),
    "best_epoch past the end": (edit(lambda c: c.update(best_epoch=7)), "'best_epoch' must be an int"),
    "epoch negative": (edit(lambda c: c.update(epoch=-1)), "'epoch' must be an int"),
    "status unknown": (edit(lambda c: c.update(status="hacked")), "'status' must be one of"),
    "title an object": (edit(lambda c: c.update(title={"a": 1})), "'title' must be a string"),
    "message a list": (edit(lambda c: c.update(message=[1])), "'message' must be a string"),
    "owner a number": (edit(lambda c: c.update(owner=5)), "'owner' must be a string"),
    "id a path": (edit(lambda c: c.update(id="../x")), "'id' must be a safe folder name"),
    "params a string": (edit(lambda c: c["dataset"].update(params="n=5")), "'dataset.params' must be"),
    "params a list": (edit(lambda c: c["dataset"].update(params=[1, 2])), "'dataset.params' must be"),
    "params value a list": (edit(lambda c: c["dataset"].update(params={"limit": [1, 2]})),
                            "'dataset.params.limit' must be"),
    "source a number": (edit(lambda c: c["dataset"].update(source=5)), "'dataset.source' must be"),
    "input_shape negative": (edit(lambda c: c["model"].update(input_shape=[-1])), "'model.input_shape' must be"),
    "input_shape huge": (edit(lambda c: c["model"].update(input_shape=[65536, 65536, 3])),
                         "'model.input_shape' must be a sample of at most"),
    "input_shape a string": (edit(lambda c: c["model"].update(input_shape="2")), "'model.input_shape' must be"),
    "input_shape other": (edit(lambda c: c["model"].update(input_shape=[3])), "does not match the model"),
    "model knob": (edit(lambda c: c["model"]["config"].update(latent_dim="abc")), "'latent_dim' parameter"),
    "train knob": (edit(lambda c: c["train"].update(lr="fast")), "'lr' parameter"),
    "optimizer a string": (edit(lambda c: c.update(optimizer="broken")), "optimizer section must be"),
    "optimizer no groups": (edit(lambda c: c["optimizer"].update(param_groups=[])), "'param_groups' must be"),
    "optimizer lr": (group(lr="fast"), "param_groups[0].lr must be"),
    "optimizer betas": (group(betas=[2, "x"]), "param_groups[0].betas must be"),
    "optimizer params": (group(params=[0]), "param_groups[0].params must be"),
    "optimizer odd key": (group(foreach={"x": 1}), "param_groups[0].foreach must be"),
    "optimizer state key": (edit(lambda c: c["optimizer"]["state"].update({"x.y": 1})), "state 'x.y' must be"),
    "optimizer tensor NaN": (tensors("optimizer.safetensors", lambda w: first(w).fill_(float("nan"))),
                             "finite floating-point values"),
    "optimizer tensor shape": (tensors("optimizer.safetensors", lambda w: w.update({"0.exp_avg": torch.zeros(3)})),
                               "of its parameter's shape"),
    "optimizer file missing": (lambda f: (f / "optimizer.safetensors").unlink(), "optimizer.safetensors is missing"),
    "config nested 10,000 deep": (nested(10_000), "nested"),
    "config nested 50 deep": (nested(50), "nested more than"),
    "history of ints": (history([1]), "'[0]' must be an object"),
    "history without metrics": (history([{"epoch": 1}]), "'[0].train_loss' must be a finite number"),
    "history NaN": (history('[{"epoch": 1, "train_loss": NaN, "val_loss": 1, "val_mse": 1, "val_psnr": 1}]'),
                    "'[0].train_loss' must be a finite number"),
    "history time a string": (history([{"epoch": 1, "train_loss": 1, "val_loss": 1, "val_mse": 1, "val_psnr": 1,
                                         "time_s": "abc"}]), "'[0].time_s' must be a finite number"),
    "history phase a list": (history([{"epoch": 1, "train_loss": 1, "val_loss": 1, "val_mse": 1, "val_psnr": 1,
                                        "phase": [1]}]), "'[0].phase' must be a short phase name"),
    "history too long": (history([{"epoch": 1, "train_loss": 1, "val_loss": 1, "val_mse": 1, "val_psnr": 1}] * 2),
                         "has 2 epochs, but config.json says 1"),
    "history nested": (history("[" * 10_000 + "]" * 10_000), "nested"),
    "weights NaN": (tensors("model.safetensors", lambda w: first(w).fill_(float("nan"))), "NaN or infinite"),
    "weights inf": (tensors("model.safetensors", lambda w: first(w).fill_(float("inf"))), "NaN or infinite"),
    "weights ints": (tensors("model.safetensors", lambda w: w.update({k: v.to(torch.int32) for k, v in w.items()})),
                     "not floating point"),
    "weights pickle": (lambda f: (f / "model.safetensors").write_bytes(pickle.dumps({"w": [1.0]})),
                       "not a valid safetensors file"),
    "weights missing": (lambda f: (f / "model.safetensors").unlink(), "model.safetensors is missing"),
    "weights other shape": (tensors("model.safetensors", lambda w: w.update({k: torch.zeros(3) for k in w})),
                            "does not match the model"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_tampered_run_is_refused_in_one_line_everywhere(root, capsys, case):
    damage, fragment = CASES[case]
    damage(root / "bad")
    code, out, err = cli(capsys, "runs", root)
    lines = dict(line.split("  ", 1) for line in out.splitlines())
    assert code == 0 and "Traceback" not in err, err
    assert lines[str((root / "good").resolve())].startswith("ae on moons, epoch 1")
    bad = lines[str((root / "bad").resolve())]
    assert bad.startswith("BROKEN: ") and fragment in bad
    for argv in (["evaluate", root / "bad"], ["train", "--out", root / "bad", "--resume", "--epochs", "1"]):
        code, out, err = cli(capsys, *argv)
        assert code == 2 and out == "" and fragment in err, (argv[0], err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    with pytest.raises(InputError, match=re.escape(fragment)) as info:
        runs.load(root / "bad")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("case", list(CASES))
def test_a_tampered_run_zip_is_refused_on_import_and_nothing_is_written(root, tmp_path, case):
    damage, fragment = CASES[case]
    damage(root / "bad")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in (root / "bad").iterdir():
            zf.write(path, f"bad/{path.name}")
    with pytest.raises(InputError) as info:
        archive.import_zip(buf.getvalue(), tmp_path / "imported")
    message = str(info.value)
    assert "\n" not in message
    assert fragment in message or (case == "weights missing" and "has no model.safetensors" in message), message
    assert not (tmp_path / "imported").exists() or not any((tmp_path / "imported").iterdir())


@pytest.mark.parametrize("source", ["secret.npy", "./secret.npy", "../secret.npy", "/etc/passwd", "~/x.npy",
                                    "uploads/abc/x.npy"])
def test_an_imported_run_reads_only_registered_data_or_uploads(root, tmp_path, source, monkeypatch):
    monkeypatch.setenv("AEVIZ_CACHE", str(tmp_path / "cache"))
    edit(lambda c: c["dataset"].update(source=source))(root / "bad")
    blob = archive.export_zip(root / "bad")
    with pytest.raises(InputError, match="trained on a file"):
        archive.import_zip(blob, tmp_path / "imported")
    assert not any((tmp_path / "imported").iterdir())


def test_an_imported_run_on_an_upload_of_this_server_is_accepted(root, tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIZ_CACHE", str(tmp_path / "cache"))
    upload = uploads_dir() / "0123456789abcdef" / "points.npy"
    edit(lambda c: c["dataset"].update(source=str(upload)))(root / "bad")
    folder = archive.import_zip(archive.export_zip(root / "bad"), tmp_path / "imported")
    assert runs.load(folder).data_source == str(upload)


def test_a_change_record_with_nan_is_dropped_and_the_run_saves_again(root, tmp_path):
    good = {"epoch": 1, "step": 3, "steps": 5, "name": "lr", "old": 0.001, "new": 0.01}
    config = json.loads((root / "good" / "config.json").read_text())
    text = json.dumps({**config, "changes": [good, {**good, "new": 0}]})
    (root / "good" / "config.json").write_text(text.replace('"new": 0}', '"new": NaN}'))
    run = runs.load(root / "good")
    assert run.changes == [good]
    runs.save(run, tmp_path / "again")  # strict JSON: a NaN kept would fail here


def test_the_good_run_still_evaluates_and_resumes(root, capsys):
    code, out, _ = cli(capsys, "evaluate", root / "good")
    assert code == 0 and json.loads(out)["epoch"] == 1
    code, _, err = cli(capsys, "train", "--out", root / "good", "--resume", "--epochs", "1")
    assert code == 0, err
    assert runs.load(root / "good").epoch == 2


# -- what a killed save leaves behind ---------------------------------------------------------------------------------
def _leftover(root: Path, kind: str, pid: int | None = DEAD_PID, complete: bool = True, epoch: int = 1) -> Path:
    """A copy of the good run named as a save's temp or old folder; incomplete: its weights are not written yet."""
    path = root / f".good.{kind}-{'' if pid is None else f'{pid}-'}deadbeef"
    shutil.copytree(root / "good", path)
    if epoch != 1:
        edit(lambda c: c.update(epoch=epoch))(path)
        metrics = {"train_loss": 1, "val_loss": 1, "val_mse": 1, "val_psnr": 1}
        history([{"epoch": i + 1, **metrics} for i in range(epoch)])(path)
    if not complete:
        (path / "model.safetensors").unlink()
    return path


def _hidden_run(root: Path) -> None:
    """Kill between the two renames: the run is gone from its place, only its copies remain."""
    shutil.rmtree(root / "good")


@pytest.mark.parametrize("complete_kind", ["old", "tmp"])
def test_a_kill_between_the_renames_is_recovered_from_the_complete_copy(root, capsys, complete_kind):
    other = "tmp" if complete_kind == "old" else "old"
    good = _leftover(root, complete_kind)
    broken = _leftover(root, other, complete=False)
    _hidden_run(root)
    code, out, err = cli(capsys, "runs", root)
    assert code == 0 and str((root / "good").resolve()) in out and "ae on moons" in out
    assert "note:" in err and "recovered the run from an interrupted save" in err and "removed 1 leftover" in err
    assert not good.exists() and not broken.exists()
    assert runs.load(root / "good").epoch == 1


def test_the_newer_complete_copy_wins(root):
    _leftover(root, "old")
    _leftover(root, "tmp", epoch=3)
    _hidden_run(root)
    assert runs.load(root / "good").epoch == 3
    assert sorted(p.name for p in root.iterdir()) == ["bad", "good"]


def test_leftovers_beside_a_good_run_are_removed_and_never_listed(root):
    _leftover(root, "old", pid=None)  # a legacy name, no process id
    _leftover(root, "tmp", complete=False)
    rows = catalog.list_runs(root)
    assert sorted(r["path"].name for r in rows) == ["bad", "good"] and all(r["error"] is None for r in rows)
    assert sorted(p.name for p in root.iterdir()) == ["bad", "good"]


def test_nothing_is_deleted_when_no_copy_is_complete(root, capsys):
    broken = _leftover(root, "tmp", complete=False)
    _hidden_run(root)
    with pytest.raises(InputError, match="no such run folder"):
        runs.load(root / "good")
    assert broken.exists()
    code, _, err = cli(capsys, "runs", root)
    assert code == 0 and "kept them" in err and broken.exists()


def test_a_save_in_flight_in_another_process_is_left_alone(root):
    live = _leftover(root, "tmp", pid=os.getppid(), complete=False)  # a live process, saving right now
    catalog.list_runs(root)
    runs.load(root / "good")
    assert live.exists()


def test_an_import_killed_half_way_is_removed_by_the_next_listing(root, capsys):
    dead = root / f".import-{DEAD_PID}-beef0001"
    live = root / f".import-{os.getppid()}-beef0002"
    for path in (dead, live):
        shutil.copytree(root / "good", path)
    code, out, err = cli(capsys, "runs", root)
    assert code == 0 and ".import-" not in out and "a zip import that was interrupted" in err
    assert not dead.exists() and live.exists()


def test_a_new_run_never_overwrites_one_hidden_by_a_kill(root, capsys):
    _leftover(root, "old")
    _hidden_run(root)
    code, _, err = cli(capsys, "train", "--data", "moons", "--data-param", "n=200", "--epochs", "1",
                       "--out", root / "good")
    assert code == 2 and "already holds a run" in err and runs.load(root / "good").epoch == 1


# -- writing ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"),
                                     SafetensorError("Error while serializing: IoError(Os { code: 28 })")])
def test_a_full_disk_is_one_line_and_keeps_the_previous_save(root, capsys, monkeypatch, failure):
    before = {p.name: p.read_bytes() for p in (root / "good").iterdir()}

    def full(*args, **kwargs):
        raise failure

    monkeypatch.setattr(runs, "save_file", full)
    code, _, err = cli(capsys, "train", "--out", root / "good", "--resume", "--epochs", "1")
    lines = [line for line in err.strip().splitlines() if line.startswith("aeviz")]
    assert code == 2 and "Traceback" not in err and len(lines) == 1, err
    assert "could not save the run" in lines[0] and "its previous save is kept" in lines[0]
    assert {p.name: p.read_bytes() for p in (root / "good").iterdir()} == before
    assert sorted(p.name for p in root.iterdir()) == ["bad", "good"]  # no temp folder left


def test_an_existing_empty_out_folder_is_used(tmp_path, capsys):
    out = tmp_path / "empty"
    out.mkdir()
    code, _, err = cli(capsys, "train", "--data", "moons", "--data-param", "n=200", "--hidden", "8", "--latent-dim",
                       "2", "--epochs", "1", "--out", out)
    assert code == 0, err
    assert runs.load(out).epoch == 1


def test_an_unwritable_out_is_refused_before_training(tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    code, _, err = cli(capsys, "train", "--data", "moons", "--data-param", "n=200", "--epochs", "1",
                       "--out", tmp_path / "file" / "run")
    assert code == 2 and "cannot write in" in err and "epoch 1" not in err
