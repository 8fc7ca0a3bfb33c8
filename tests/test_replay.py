"""Latent replay: capture, add/truncate, the file on disk (round trip, hostile files refused) and aligned frames."""

import pickle

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file
from scipy.stats import ortho_group

from aeviz import replay
from aeviz.errors import InputError
from aeviz.evaluation import encode_all
from aeviz.models import build
from aeviz.replay import PROBE, Replay
from helpers import toy_images


def _replay(epochs=(0, 1, 2), p=20, d=4, seed=0) -> Replay:
    rng = np.random.default_rng(seed)
    r = Replay(np.arange(p, dtype=np.int64) * 3)
    for e in epochs:
        r.add(e, rng.normal(size=(p, d)))
    return r


def test_probe_is_the_first_validation_rows():
    data = toy_images(n=3000)
    idx = replay.probe_indices(data)
    assert idx.dtype == np.int64 and len(idx) == PROBE and (idx == data.val_idx[:PROBE]).all()
    small = toy_images(n=100)
    assert (replay.probe_indices(small) == small.val_idx).all()


def test_capture_is_float16_eval_mode_codes_and_keeps_the_mode():
    torch.manual_seed(0)
    model = build("vae", (1, 8, 8), latent_dim=3, hidden=(16,))
    x = toy_images(n=40).x
    model.train()
    codes = replay.capture(model, x)
    assert codes.shape == (40, 3) and codes.dtype == np.float16 and model.training
    np.testing.assert_allclose(codes, encode_all(model, x), atol=2e-3)  # the mean, not a sample
    np.testing.assert_array_equal(replay.capture(model, x), codes)


def test_add_keeps_epochs_ordered_and_replaces_a_repeated_epoch():
    r = _replay((0, 2))
    r.add(1, np.ones((20, 4)))
    assert r.epochs == [0, 1, 2] and all(c.dtype == np.float16 for c in r.codes)
    r.add(2, np.full((20, 4), 7.0))  # an epoch trained again after a resume
    assert r.epochs == [0, 1, 2] and (r.codes[2] == 7).all() and len(r.codes) == 3
    with pytest.raises(AssertionError):
        r.add(3, np.ones((20, 5)))  # another code size


def test_truncate_drops_the_snapshots_after_an_epoch():
    r = _replay((0, 1, 2, 3))
    r.truncate(1)
    assert r.epochs == [0, 1] and len(r.codes) == 2
    r.truncate(5)
    assert r.epochs == [0, 1]
    r.truncate(-1)
    assert r.epochs == [] and r.codes == []


def test_to_dict_is_numpy_only_and_survives_pickling():
    r = _replay()
    d = pickle.loads(pickle.dumps(r.to_dict()))
    assert all(isinstance(v, np.ndarray) for v in d.values()) and d["codes"].shape == (3, 20, 4)
    back = Replay.from_dict(d)
    assert back.epochs == r.epochs and all((a == b).all() for a, b in zip(back.codes, r.codes))
    assert Replay.from_dict(Replay(np.arange(5)).to_dict()).epochs == []


def test_save_load_round_trip(tmp_path):
    assert replay.load(tmp_path) is None
    r = _replay((0, 1, 5))
    replay.save(r, tmp_path)
    back = replay.load(tmp_path)
    assert back.epochs == [0, 1, 5] and (back.probe_idx == r.probe_idx).all()
    assert back.probe_idx.dtype == np.int64 and back.codes[0].dtype == np.float16
    assert all((a == b).all() for a, b in zip(back.codes, r.codes))
    assert [p.name for p in tmp_path.iterdir()] == [replay.FILE]  # no temp file left behind


def _file(tmp_path, **over):
    d = {**_replay().to_dict(), **over}
    save_file({k: v for k, v in d.items() if v is not None}, str(tmp_path / replay.FILE))
    return tmp_path


@pytest.mark.parametrize("over, words", [
    (dict(codes=np.zeros((3, 20, 4), np.float32)), "float16"),  # wrong dtype
    (dict(probe_idx=np.arange(20, dtype=np.int32)), "int64"),
    (dict(codes=np.zeros((2, 20, 4), np.float16)), "do not match"),  # E != len(epochs)
    (dict(codes=np.zeros((3, 19, 4), np.float16)), "do not match"),  # P != len(probe_idx)
    (dict(codes=np.zeros((3, 20), np.float16)), "3-D"),
    (dict(probe_idx=np.arange(PROBE + 1), codes=np.zeros((3, PROBE + 1, 4), np.float16)), "out of range"),
    (dict(codes=np.zeros((3, 20, 4097), np.float16)), "out of range"),  # D > 4096
    (dict(epochs=np.arange(100_001)), "out of range"),
    (dict(probe_idx=-np.arange(20)), ">= 0"),
    (dict(epochs=np.array([0, 2, 1])), "increasing"),
    (dict(codes=np.full((3, 20, 4), np.inf, np.float16)), "finite"),
    (dict(codes=None), "not a replay"),  # a key missing
    (dict(extra=np.zeros(3)), "not a replay"),
])
def test_inconsistent_files_are_refused_in_one_line(tmp_path, over, words):
    with pytest.raises(InputError, match=words) as info:
        replay.load(_file(tmp_path, **over))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("content", [b"", b"not a safetensors file at all", b"\xff" * 8 + b"{}",
                                     pickle.dumps({"codes": np.zeros(3)})])
def test_foreign_files_are_refused_never_unpickled(tmp_path, content):
    (tmp_path / replay.FILE).write_bytes(content)
    with pytest.raises(InputError, match="not a valid safetensors file"):
        replay.load(tmp_path)


def test_frames_have_one_2d_view_per_epoch():
    epochs, xy = replay.frames(_replay((0, 1, 4), p=30, d=6))
    assert epochs == [0, 1, 4] and xy.shape == (3, 30, 2) and np.isfinite(xy).all()
    assert replay.frames(Replay(np.arange(7)))[1].shape == (0, 7, 2)
    with pytest.raises(InputError, match="Choose one of"):
        replay.frames(_replay(), "tsne")
    with pytest.raises(InputError, match="2-D codes only"):
        replay.frames(_replay(), "raw")


def test_a_rotated_scaled_copy_of_the_codes_gives_the_same_frame():
    rng = np.random.default_rng(1)
    codes = rng.normal(size=(200, 8)) * np.array([3, 2, 1, 1, 0.5, 0.5, 0.2, 0.1])
    turn = ortho_group.rvs(8, random_state=2)  # a rotation or reflection of the whole code space
    r = Replay(np.arange(200))
    r.add(0, 0.05 * codes @ turn + 3.0)  # early: small, turned and shifted
    r.add(1, -codes)
    r.add(2, codes)
    _, xy = replay.frames(r)
    for frame in xy[:2]:  # float16 codes: equal to about 1e-3 of the spread
        np.testing.assert_allclose(frame, xy[2], atol=0.02 * np.abs(xy[2]).max())


def test_slowly_changing_codes_never_jump_between_frames():
    rng = np.random.default_rng(3)
    codes = rng.normal(size=(300, 6)) * np.array([2.0, 1.9, 0.5, 0.3, 0.2, 0.1])  # two near-equal variances
    r = Replay(np.arange(300))
    for e in range(8):  # each epoch drifts a little, and its PCA axes may turn, swap or flip
        codes = codes + 0.03 * rng.normal(size=codes.shape)
        r.add(e, codes @ ortho_group.rvs(6, random_state=e))
    _, xy = replay.frames(r)
    steps = np.sqrt(((xy[1:] - xy[:-1]) ** 2).sum(-1).mean(-1))  # RMS move of a point between frames
    spread = np.sqrt((xy[-1] ** 2).sum(-1).mean())
    assert steps.max() < 0.05 * spread


def test_2d_codes_keep_their_axes_at_one_spread():
    rng = np.random.default_rng(4)
    codes = rng.normal(size=(50, 2)) * [2.0, 0.5] + [1.0, -1.0]
    r = Replay(np.arange(50))
    r.add(0, 0.01 * codes)
    r.add(1, codes)
    _, xy = replay.frames(r)
    np.testing.assert_allclose(xy[1], r.codes[1].astype(np.float64))  # the last frame: the codes as they are
    np.testing.assert_allclose(xy[0], xy[1], atol=0.02)  # the early one: same shape, same place, no rotation
    _, raw = replay.frames(r, "raw")
    np.testing.assert_allclose(raw[0], r.codes[0].astype(np.float64))


def test_spaced_keeps_first_and_last():
    assert list(replay.spaced(5, 10)) == [0, 1, 2, 3, 4]
    picked = replay.spaced(1000, 120)
    assert len(picked) == 120 and picked[0] == 0 and picked[-1] == 999
