"""`aeviz pack`: the workshop's runs: the registry, training a quick subset, resuming, refusing, the CLI."""

import shutil

import numpy as np
import pytest

from aeviz import catalog, pack, runs
from aeviz.analysis.importance import linear_vs_pca
from aeviz.data import load_dataset
from aeviz.errors import InputError
from aeviz.evaluation import encode_all, evaluate
from aeviz.models import MODELS
from tests.test_cli import cli

SUBSET = ["linear-32", "sparse-64", "moons-2d"]  # the quickest MNIST runs and a toy one: seconds, not a minute




@pytest.fixture(scope="module")
def quick_pack(tmp_path_factory):
    out = tmp_path_factory.mktemp("pack")
    events = []
    done = pack.make_pack(out, quick=True, only=SUBSET, on_event=events.append)
    return out, done, events


def test_registry_covers_every_variant_with_titles_notes_and_distinct_labels():
    assert len(pack.PACK) >= 10
    assert {s.model for s in pack.PACK.values()} == set(MODELS)
    assert {"mnist", "swiss-roll", "moons", "noise"} <= {s.data for s in pack.PACK.values()}
    labels = set()
    for slug, spec in pack.PACK.items():
        assert 0 < len(spec.title) <= runs.MAX_TITLE and 0 < len(spec.note) <= runs.MAX_NOTE, slug
        assert ":" in spec.note, f"{slug}: the note names the page first ('Generate: ...')"
        for quick in (False, True):
            data_params, cfg = spec.settings(quick)
            shape = load_dataset(spec.data, **data_params).shape
            run = runs.Run.create(spec.model, shape, spec.data, data_params, cfg, **spec.model_params)
            run.title = spec.title
            labels.add(catalog.label(catalog.row_of_run(run)))
        assert spec.settings(True)[1].epochs < spec.settings(False)[1].epochs, slug
    assert len(labels) == 2 * len(pack.PACK)


def test_quick_runs_load_evaluate_and_carry_title_and_note(quick_pack):
    out, done, events = quick_pack
    assert [e.slug for e in done] == SUBSET and all(e.status == "trained" for e in done)
    assert [e.kind for e in events if e.slug == "moons-2d"][:2] == ["start", "epoch"]
    rows = {r["path"].name: r for r in catalog.list_runs(out)}
    assert len({catalog.label(r) for r in rows.values()}) == len(SUBSET)
    for event in done:
        spec = pack.PACK[event.slug]
        run = runs.load(out / event.slug)
        data_params, cfg = spec.settings(quick=True)
        assert (run.title, run.note, run.owner, run.status) == (spec.title, spec.note, "", "finished")
        assert run.epoch == cfg.epochs and all(run.data_params[k] == v for k, v in data_params.items())
        data = load_dataset(run.data_source, **run.data_params)
        x_val, y_val = data.split("val")
        result = evaluate(run.model, data.split("train")[0], x_val, y_val)
        assert result["mse"] == pytest.approx(event.val_mse, rel=1e-3, abs=1e-6)  # evaluate rounds to 6 places
        mean_image = float(((x_val - data.split("train")[0].mean(0)) ** 2).mean())  # what knowing nothing scores
        assert result["mse"] < 0.6 * mean_image, (event.slug, result, mean_image)
        if spec.data == "moons":
            assert result["mse"] < 1e-3, result  # a 2-D code of 2-D points: nearly lossless


def test_quick_linear_run_learns_pca_subspace(quick_pack):
    run = runs.load(quick_pack[0] / "linear-32")
    data = load_dataset(run.data_source, **run.data_params)
    found = linear_vs_pca(run.model, data.split("train")[0], data.split("val")[0])
    assert found["ae_mse"] < 1.1 * found["pca_mse"], found  # PCA unclipped, as a linear decoder is
    assert np.median(found["angles"]) < 5.0, found["angles"]  # degrees; the last components converge slowest


def test_quick_sparse_code_has_few_active_units(quick_pack):
    out, _, _ = quick_pack
    run = runs.load(out / "sparse-64")
    data = load_dataset(run.data_source, **run.data_params)
    z = np.abs(encode_all(run.model, data.split("val")[0]))  # (N, 64)
    active = (z > 0.1 * z.max(1, keepdims=True)).mean()
    assert active < 0.45, active  # the default weight (0.1) leaves about 0.7 of them on


def test_rerun_keeps_finished_runs_and_trains_only_the_missing(quick_pack, tmp_path):
    out = tmp_path / "pack"
    shutil.copytree(quick_pack[0], out)
    before = (out / "linear-32" / "model.safetensors").read_bytes()
    shutil.rmtree(out / "moons-2d")
    done = pack.make_pack(out, quick=True, only=SUBSET)
    assert [e.status for e in done] == ["kept", "kept", "trained"]
    assert done[0].seconds == 0 and done[0].val_mse == quick_pack[1][0].val_mse
    assert (out / "linear-32" / "model.safetensors").read_bytes() == before
    assert runs.load(out / "moons-2d").status == "finished"


def test_refuses_a_foreign_folder_before_training_anything(tmp_path):
    (tmp_path / "moons-2d").mkdir()
    (tmp_path / "moons-2d" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not an aeviz run"):
        pack.make_pack(tmp_path, quick=True, only=["linear-32", "moons-2d"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["moons-2d"]
    assert (tmp_path / "moons-2d" / "notes.txt").read_text() == "mine"
    with pytest.raises(InputError, match="Unknown pack run"):
        pack.make_pack(tmp_path, only=["nope"])


def test_cli_pack_prints_a_line_per_run_and_resumes(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(pack, "PACK", {"moons-2d": pack.PACK["moons-2d"]})
    code, _, err = cli(capsys, "pack", str(tmp_path / "p"), "--quick")
    assert code == 0 and "Two moons in a 2-D code: trained in " in err and "val_mse 0.0" in err
    assert "1 runs in" in err
    code, _, err = cli(capsys, "pack", str(tmp_path / "p"), "--quick")
    assert code == 0 and "Two moons in a 2-D code: kept (already there)" in err


def test_cli_pack_refuses_a_file_with_one_line(tmp_path, capsys):
    target = tmp_path / "file.txt"
    target.write_text("x")
    code, out, err = cli(capsys, "pack", str(target))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "is a file" in err


def test_train_title_and_note_are_saved(tmp_path, capsys):
    code, _, _ = cli(capsys, "train", "--data", "moons", "--data-param", "n=200", "--hidden", "8", "--latent-dim", "2",
                     "--epochs", "1", "--title", "  My   moons ", "--note", "Latent space: two curves",
                     "--out", str(tmp_path / "r"))
    run = runs.load(tmp_path / "r")
    assert code == 0 and (run.title, run.note) == ("My moons", "Latent space: two curves")
    assert catalog.label(catalog.row_of(tmp_path / "r")).startswith("My moons · ae · z=2")
