"""Runs on disk: bit-for-bit round trips, atomic saves, and refusal of anything corrupt or foreign."""

import json
import pickle

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from aeviz import catalog, run_files, runs
from aeviz.errors import InputError
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig
from tests.helpers import toy_images


@pytest.fixture(scope="module")
def trained():
    data = toy_images()
    run = Run.create("vae", data.shape, "toy", {"n": 240}, TrainConfig(epochs=2, batch_size=32), hidden=(16,),
                     latent_dim=2, beta=2.0)
    train(run, data)
    return run, data


def test_round_trip_is_bit_for_bit(trained, tmp_path):
    run, _ = trained
    path = runs.save(run, tmp_path / "r1")
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "history.json", "model.safetensors",
                                                      "optimizer.safetensors", "replay.safetensors"]
    back = runs.load(path)
    assert back.replay.epochs == run.replay.epochs == [0, 1, 2] and back.step == run.step > 0
    assert all(np.array_equal(a, b) for a, b in zip(back.replay.codes, run.replay.codes))
    assert back.id == run.id and back.model_name == "vae" and back.epoch == 2 and back.best_epoch == run.best_epoch
    assert back.model.config == run.model.config and back.train_config == run.train_config
    assert back.data_source == "toy" and back.data_params == {"n": 240}
    assert back.history == run.history
    for k, v in run.model.state_dict().items():
        assert torch.equal(back.model.state_dict()[k], v), k
    for pid, slots in run.optimizer_state["state"].items():
        for name, value in slots.items():
            assert torch.equal(back.optimizer_state["state"][pid][name].float(), value.float())
    config = json.loads((path / "config.json").read_text())
    assert set(config["versions"]) == {"aeviz", "torch", "numpy", "python"}


def test_resume_after_load_trains_on(trained, tmp_path):
    run, data = trained
    back = runs.load(runs.save(run, tmp_path / "r"))
    end = train(back, data, until=3)
    assert end.status == "finished" and back.epoch == 3 and len(back.history) == 3


def test_a_crash_mid_save_keeps_the_previous_run(trained, tmp_path, monkeypatch):
    run, _ = trained
    path = runs.save(run, tmp_path / "r")
    before = (path / "model.safetensors").read_bytes()

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runs, "save_file", boom)
    with pytest.raises(OSError):
        runs.save(run, path)
    assert (path / "model.safetensors").read_bytes() == before
    assert runs.load(path).epoch == 2
    assert [p.name for p in tmp_path.iterdir()] == ["r"]  # no temp folder left behind


def test_a_crash_between_the_renames_is_recovered(trained, tmp_path):
    run, _ = trained
    path = runs.save(run, tmp_path / "r")
    path.rename(tmp_path / ".r.old-deadbeef")  # what a crash after the first rename leaves
    assert runs.load(path).epoch == 2 and path.is_dir()


def _saved(trained, tmp_path):
    return runs.save(trained[0], tmp_path / "r")


@pytest.mark.parametrize("damage, fragment", [
    (lambda p: (p / "config.json").unlink(), "config.json is missing"),
    (lambda p: (p / "config.json").write_text("{not json"), "config.json is corrupt"),
    (lambda p: (p / "config.json").write_text('{"format": "other"}'), "not an aeviz run config"),
    (lambda p: (p / "config.json").write_bytes(b"\xff\xfe\x00garbage"), "corrupt"),
    (lambda p: (p / "model.safetensors").unlink(), "model.safetensors is missing"),
    (lambda p: (p / "model.safetensors").write_bytes(b"\x00" * 100), "not a valid safetensors file"),
    (lambda p: (p / "model.safetensors").write_bytes((p / "model.safetensors").read_bytes()[:200]),
     "not a valid safetensors file"),
    (lambda p: (p / "model.safetensors").write_bytes(pickle.dumps({"w": np.zeros(3)})), "not a valid safetensors"),
    (lambda p: save_file({"encoder.0.weight": torch.zeros(2, 2)}, str(p / "model.safetensors")),
     "does not match the model"),
    (lambda p: (p / "history.json").write_text("[1, 2"), "history.json is corrupt"),
    (lambda p: (p / "history.json").write_text('{"a": 1}'), "not a list of epochs"),
])
def test_damaged_runs_are_refused_in_one_line(trained, tmp_path, damage, fragment):
    path = _saved(trained, tmp_path)
    damage(path)
    with pytest.raises(InputError, match=fragment) as info:
        runs.load(path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("edit, fragment", [
    (lambda c: c["model"].update(name="gan"), "Unknown model 'gan'"),
    (lambda c: c["model"]["config"].update(latent_dim=-1), "'latent_dim' parameter"),
    (lambda c: c["model"]["config"].update(hidden="abc"), "'hidden' parameter"),
    (lambda c: c["model"]["config"].update(evil="__import__('os')"), "has no parameter 'evil'"),
    (lambda c: c["train"].update(lr="fast"), "'lr' parameter"),
    (lambda c: c.update(format_version=99), "format version 99 is not supported"),
    (lambda c: c.update(epoch="three"), "no valid 'epoch'"),
    (lambda c: c["model"].update(input_shape=[1, 9, 9]), "does not match the model"),
])
def test_tampered_configs_are_refused(trained, tmp_path, edit, fragment):
    path = _saved(trained, tmp_path)
    config = json.loads((path / "config.json").read_text())
    edit(config)
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(InputError, match=fragment):
        runs.load(path)


def test_missing_folder_and_oversized_json(tmp_path, trained):
    with pytest.raises(InputError, match="no such run folder"):
        runs.load(tmp_path / "nope")
    path = _saved(trained, tmp_path)
    with open(path / "history.json", "w") as f:
        f.write("[" + "0," * (run_files.MAX_JSON_BYTES // 2) + "0]")
    with pytest.raises(InputError, match="larger than"):
        runs.load(path)


def test_list_and_delete(trained, tmp_path):
    runs.save(trained[0], tmp_path / "good")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("nope")
    rows = {r["path"].name: r for r in catalog.list_runs(tmp_path)}
    assert rows["good"]["model"] == "vae" and rows["good"]["epoch"] == 2 and rows["good"]["error"] is None
    assert rows["broken"]["status"] == "broken" and "corrupt" in rows["broken"]["error"]
    runs.delete(tmp_path / "good")
    assert not (tmp_path / "good").exists()
    with pytest.raises(InputError, match="nothing was deleted"):
        runs.delete(tmp_path)


def test_saving_never_replaces_a_folder_that_is_not_a_run(trained, tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="not an aeviz run"):
        runs.save(trained[0], folder)
    assert (folder / "keep.txt").read_text() == "mine"


def test_list_runs_survives_a_foreign_created_field(trained, tmp_path):
    path = runs.save(trained[0], tmp_path / "r")
    config = json.loads((path / "config.json").read_text())
    config["created"] = 5
    (path / "config.json").write_text(json.dumps(config))
    runs.save(trained[0], tmp_path / "s")
    assert {r["path"].name for r in catalog.list_runs(tmp_path)} == {"r", "s"}


def test_revision_changes_when_weights_are_published():
    data = toy_images()
    run = Run.create("ae", data.shape, "toy", train_config=TrainConfig(epochs=2, batch_size=32), hidden=(8,),
                     latent_dim=2)
    other = Run.create("ae", data.shape, "toy", hidden=(8,), latent_dim=2)
    seen = [run.revision]
    for event in __import__("aeviz.training", fromlist=["fit"]).fit(run, data):
        seen.append(run.revision)
    assert len(set(seen)) >= 3 and run.revision != other.revision  # per epoch, at the end, unique per run


def test_a_damaged_replay_costs_the_replay_not_the_run(trained, tmp_path):
    run, _ = trained
    path = runs.save(run, tmp_path / "r")
    (path / "replay.safetensors").write_bytes(b"not a safetensors file")
    back = runs.load(path)
    assert back.replay is None and back.epoch == run.epoch


def test_malformed_change_records_are_dropped(trained, tmp_path):
    run, _ = trained
    path = runs.save(run, tmp_path / "r")
    config = json.loads((path / "config.json").read_text())
    good = {"epoch": 2, "step": 3, "steps": 6, "name": "lr", "old": 0.001, "new": 0.01}
    config["changes"] = [good, {"epoch": "x"}, "junk", {**good, "new": True}, {**good, "name": "beta" * 50}]
    config["step"] = -4
    (path / "config.json").write_text(json.dumps(config))
    back = runs.load(path)
    assert back.changes == [good, {**good, "name": ("beta" * 50)[:40]}] and back.step == 0
