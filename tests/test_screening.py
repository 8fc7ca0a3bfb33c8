"""Data screening: which samples a share or a threshold drops (known answers, ties), per-class counts, the .npz round
trip through `load_dataset`, `aeviz screen` with its refusals, and the Anomalies page's section."""

from __future__ import annotations

import re

import numpy as np
import pytest

from aeviz import runs
from aeviz.analysis import anomaly, screening
from aeviz.data import load_dataset
from aeviz.errors import InputError
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig
from tests.conftest import open_page
from tests.helpers import trained_mnist_run
from tests.test_cli import cli

ERRORS = np.array([0.1, 0.9, 0.3, 0.9, 0.5, 0.2, 0.7, 0.4, 0.6, 0.8])  # rows 1 and 3 tie for the worst


def test_a_share_drops_the_floor_of_p_n_worst_first_ties_by_row():
    out = screening.screen(ERRORS, fraction=0.25)  # floor(2.5) = 2
    assert out.dropped.tolist() == [1, 3]  # the tie: the lower row first
    assert out.kept.tolist() == [0, 2, 4, 5, 6, 7, 8, 9] and out.cutoff == 0.9
    out = screening.screen(ERRORS, fraction=0.3)
    assert out.dropped.tolist() == [1, 3, 9] and out.cutoff == 0.8
    assert screening.screen(ERRORS, fraction=0.29).dropped.tolist() == [1, 3]  # 2.9 -> 2: "at most p%"
    nothing = screening.screen(ERRORS, fraction=0.0)
    assert len(nothing.dropped) == 0 and len(nothing.kept) == 10 and nothing.cutoff is None


@pytest.mark.parametrize(("n", "fraction", "count"), [(100, 0.07, 7), (100, 0.29, 29), (19, 0.05, 0), (20, 0.05, 1),
                                                       (10_000, 0.05, 500), (3, 0.99, 2), (1, 0.5, 0)])
def test_drop_count_is_the_floor_and_never_everything(n, fraction, count):
    assert screening.drop_count(n, fraction) == count  # 0.07 * 100 = 7.000000000000001 and 0.29 * 100 = 28.999...


def test_a_threshold_drops_what_is_strictly_above_it_worst_first():
    out = screening.screen(ERRORS, threshold=0.7)
    assert out.dropped.tolist() == [1, 3, 9] and out.cutoff == 0.8  # 0.7 itself is not above
    assert len(screening.screen(ERRORS, threshold=1.0).dropped) == 0
    with pytest.raises(InputError, match="finite"):
        screening.screen(ERRORS, threshold=float("nan"))
    with pytest.raises(InputError, match="not both"):
        screening.screen(ERRORS, fraction=0.1, threshold=0.5)


def test_per_class_counts_and_the_most_dropped():
    y = np.array([0, 1, 1, 2, 2, 2, 0, 1, 2, 0])
    dropped = screening.screen(ERRORS, fraction=0.4).dropped  # rows 1, 3, 9, 6
    assert sorted(dropped.tolist()) == [1, 3, 6, 9]
    lost, total = screening.class_counts(y, dropped, 4)
    assert lost.tolist() == [2, 1, 1, 0] and total.tolist() == [3, 3, 4, 0]
    assert screening.most_dropped(y, dropped, ("a", "b", "c", "d")) == "a: 2, b: 1, c: 1"
    assert screening.most_dropped(y, dropped, None) == ""


@pytest.mark.parametrize(("text", "fraction"), [("5%", 0.05), ("5", 0.05), (" 2.5 % ", 0.025), ("0", 0.0),
                                                ("99.5%", 0.995), (".5", 0.005)])
def test_drop_accepts_percentages(text, fraction):
    assert screening.parse_drop(text) == pytest.approx(fraction)


@pytest.mark.parametrize("text", ["150%", "-1", "abc", "100", "100%", "nan", "inf", "", "5%%", "1e2"])
def test_drop_refuses_the_rest_in_one_line(text):
    with pytest.raises(InputError, match=r"like 5% or 2\.5") as info:
        screening.parse_drop(text)
    assert "\n" not in str(info.value)


def test_the_npz_loads_again_with_the_same_x_and_y(tmp_path):
    data = load_dataset("mnist", limit=200)
    out = screening.screen(np.arange(200.0)[::-1], fraction=0.1)  # rows 0-19 are the worst
    assert out.dropped.tolist() == list(range(20))
    path = tmp_path / "clean.npz"
    screening.write_npz(path, screening.npz_bytes(data.x[out.kept], data.y[out.kept], out.kept))
    again = load_dataset(str(path))
    assert again.shape == data.shape and again.classes == data.classes and not again.notes
    np.testing.assert_array_equal(again.x, data.x[20:])
    np.testing.assert_array_equal(again.y, data.y[20:])
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["kept", "x", "y"] and npz["kept"].tolist() == list(range(20, 200))


def test_without_labels_the_npz_has_no_y(tmp_path):
    x = np.random.default_rng(0).random((30, 5), dtype=np.float32)
    path = tmp_path / "points.npz"
    screening.write_npz(path, screening.npz_bytes(x[3:], None, np.arange(3, 30)))
    again = load_dataset(str(path))
    assert again.y is None and again.shape == (5,)
    np.testing.assert_array_equal(again.x, x[3:])


# -- aeviz screen ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    run, data = trained_mnist_run(limit=300, epochs=1, hidden=(16,), latent_dim=2)
    path = runs.save(run, tmp_path_factory.mktemp("runs") / "tiny")
    return {"path": path, "errors": anomaly.errors(run.model, data.x), "y": data.y}


def test_screen_writes_the_kept_samples_and_says_what_it_dropped(run_dir, tmp_path, capsys):
    out = tmp_path / "clean.npz"
    code, stdout, err = cli(capsys, "screen", run_dir["path"], "--drop", "5%", "--out", out)
    assert code == 0, err
    expected = screening.screen(run_dir["errors"], fraction=0.05)  # floor(0.05 * 300) = 15
    with np.load(out, allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["kept"], expected.kept)
        assert npz["x"].shape == (285, 1, 28, 28) and npz["y"].shape == (285,)
    top = screening.most_dropped(run_dir["y"], expected.dropped, tuple(str(c) for c in range(10)))
    assert stdout.strip().splitlines() == [
        f"kept 285 of 300 samples of mnist (dropped errors >= {expected.cutoff:.4g}; dropped most: {top}) -> {out}"]
    assert len(load_dataset(str(out)).x) == 285


@pytest.mark.parametrize("drop", ["150%", "-1", "abc"])
def test_screen_refuses_a_bad_drop_in_one_line(run_dir, tmp_path, capsys, drop):
    code, _, err = cli(capsys, "screen", run_dir["path"], f"--drop={drop}", "--out", tmp_path / "c.npz")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "like 5% or 2.5" in err
    assert not (tmp_path / "c.npz").exists()


def test_screen_refuses_an_existing_out_or_another_suffix_unless_forced(run_dir, tmp_path, capsys):
    out = tmp_path / "clean.npz"
    out.write_bytes(b"mine")
    code, _, err = cli(capsys, "screen", run_dir["path"], "--drop", "5", "--out", out)
    assert code == 2 and "exists; pick another name, or add --force" in err and out.read_bytes() == b"mine"
    code, _, err = cli(capsys, "screen", run_dir["path"], "--drop", "5", "--out", tmp_path / "clean.csv")
    assert code == 2 and "ending in .npz" in err
    code, stdout, _ = cli(capsys, "screen", run_dir["path"], "--drop", "0", "--out", out, "--force")
    assert code == 0 and stdout.startswith("kept 300 of 300 samples of mnist (nothing dropped)")
    assert len(load_dataset(str(out)).x) == 300


# -- the Anomalies page -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def page_run():
    data = load_dataset("mnist", limit=400)
    run = Run.create("ae", data.shape, "mnist", {"limit": 400}, TrainConfig(epochs=2, batch_size=64, lr=3e-3),
                     hidden=(32,), latent_dim=2)
    train(run, data)
    return {"state": {"state.runs": {run.id: run}, "state.current_run": run.id, "state.data": ("mnist", {"limit": 400})},
            "data": data, "errors": anomaly.errors(run.model, data.x)}


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_the_section_counts_what_a_share_drops_per_class_and_offers_the_file(page_run):
    at = open_page("pages/anomalies.py", page_run["state"])
    at.slider(key="anomalies.screen.drop").set_value(7.5).run()
    assert not at.exception and not at.error
    expected = screening.screen(page_run["errors"], fraction=0.075)  # floor(0.075 * 400) = 30, of all 400 samples
    assert metric(at, "Dropped") == "30 of 400" and metric(at, "Kept") == "370"
    assert metric(at, "Error cut-off") == f"{expected.cutoff:.4f}"
    frame = next(f.value for f in at.dataframe if "dropped" in f.value.columns)
    lost, total = screening.class_counts(page_run["data"].y, expected.dropped, 10)
    assert frame["dropped"].tolist() == lost.tolist() and frame["of all"].tolist() == total.tolist()
    worst_first = [c.value for c in at.caption if c.value.startswith("Worst first")]  # the page's worst, then ours
    assert [int(i) for i in re.findall(r"#(\d+)", worst_first[1])] == expected.dropped.tolist()  # 30: all shown
    assert [d.proto.label for d in at.get("download_button")] == ["Download the 370 kept samples (.npz)"]


def test_the_section_can_drop_what_is_above_the_page_s_threshold(page_run):
    at = open_page("pages/anomalies.py", page_run["state"])
    at.slider(key="anomalies.quantile").set_value(0.9).run()
    at.radio(key="anomalies.screen.by").set_value("threshold").run()
    assert not at.exception and not at.error
    data, errors = page_run["data"], page_run["errors"]
    threshold = anomaly.threshold_at(errors[data.val_idx], 0.9)  # the page's threshold: a quantile of validation
    above = int((errors > threshold).sum())
    assert metric(at, "Dropped") == f"{above} of 400" and above > 0  # training samples count too
