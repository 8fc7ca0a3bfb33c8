"""Semantic hashing (issue 11, section 5): the `hashing` variant, retrieval by Hamming distance on hand-made codes
with known answers, and the issue's known answer on MNIST: the trained hash's precision@10 beats random-projection
LSH with the same number of bits; and the Theory lab view (AppTest) shows what the core computes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from aeviz.analysis import hashing
from aeviz.data import load_dataset
from aeviz.errors import InputError
from aeviz.models import build, make_config
from aeviz.tasks import Task
from aeviz.ui import hashing_view


@pytest.fixture(scope="module")
def lab() -> hashing.Retrieval:
    """The Theory lab's pair, as the view trains it by default: 16 bits on 4,000 bundled MNIST digits (about 11 s)."""
    return hashing.train_pair(load_dataset("mnist", limit=hashing.LAB_LIMIT), 16)


def test_the_variant_trains_and_its_bits_are_0_or_1_and_deterministic_in_eval():
    torch.manual_seed(0)
    model = build("hashing", (1, 8, 8), hidden=(24,), latent_dim=8)
    x = torch.rand(16, 1, 8, 8)
    before = model.encode(x).detach()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        opt.zero_grad()
        model(x).losses["loss"].backward()
        opt.step()
    assert not torch.equal(before, model.encode(x))  # the straight-through gradient reached the encoder
    model.eval()
    bits = hashing.model_bits(model, x.numpy())
    assert bits.shape == (16, 8) and bits.dtype == np.uint8 and set(np.unique(bits)) <= {0, 1}
    assert np.array_equal(bits, hashing.model_bits(model, x.numpy()))
    assert np.array_equal(bits, (model.encode(x) > 0.5).numpy())
    # Straight-through: the decoder reads the rounded code, so a code and its bits decode alike.
    assert torch.equal(model.decode(model.encode(x)), model.decode(model.bits(x).float()))


def test_noise_binarizes_only_in_training_and_the_metrics_say_how_binary_the_code_is():
    torch.manual_seed(0)
    model = build("hashing", (1, 8, 8), hidden=(24,), latent_dim=8, binarize="noise", noise_std=4.0)
    x = torch.rand(4, 1, 8, 8)
    assert not torch.equal(model(x).z, model(x).z)  # noisy logits while training
    model.eval()
    assert torch.equal(model(x).z, model.encode(x))
    metrics = model.extra_metrics(torch.cat([x, x]))
    assert 0.0 <= metrics["binariness"] <= 1.0 and 0.0 <= metrics["ones_fraction"] <= 1.0
    assert metrics["ones_fraction"] == pytest.approx(float((model.encode(x) > 0.5).float().mean()))


@pytest.mark.parametrize("params, fragment", [
    ({"latent_dim": 4}, r"The 'latent_dim' parameter of HashingConfig must be an int in \[8, 64\]. Got 4 instead."),
    ({"latent_dim": 65}, r"'latent_dim' parameter of HashingConfig .* Got 65"),
    ({"binarize": "sign"}, "'binarize'"),
    ({"noise_std": -1.0}, "'noise_std'"),
])
def test_bad_settings_are_refused_in_one_line(params, fragment):
    with pytest.raises(InputError, match=fragment):
        make_config("hashing", **params)


def test_a_model_without_bits_is_refused():
    with pytest.raises(InputError, match="AutoEncoder has no binary code; train a 'hashing' model"):
        hashing.model_bits(build("ae", (4,), hidden=(), latent_dim=2), np.zeros((2, 4), np.float32))


def test_lsh_bits_have_the_shape_asked_for_and_depend_only_on_the_seed():
    x = np.random.default_rng(0).random((50, 1, 6, 6), dtype=np.float32)
    a, b, c = hashing.lsh_bits(x, 16, seed=3), hashing.lsh_bits(x, 16, seed=3), hashing.lsh_bits(x, 16, seed=4)
    assert a.shape == (50, 16) and a.dtype == np.uint8 and set(np.unique(a)) == {0, 1}
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    # Centred on the data, each random plane cuts it roughly in half.
    assert 0.2 < a.mean() < 0.8
    with pytest.raises(InputError, match="'n_bits' parameter of lsh_bits"):
        hashing.lsh_bits(x, 0)


DB = np.array([[0, 0, 0, 0],   # 0: distance 0 from the query 0000
               [1, 0, 0, 0],   # 1: 1
               [1, 1, 0, 0],   # 2: 2
               [0, 0, 0, 0],   # 3: 0
               [1, 1, 1, 1],   # 4: 4
               [0, 0, 1, 0]], np.uint8)  # 5: 1


def test_hamming_distances_and_buckets_on_a_hand_made_database():
    assert hashing.hamming(np.zeros(4, np.uint8), DB).tolist() == [0, 1, 2, 0, 4, 1]
    assert hashing.hamming(DB[[4]], DB).tolist() == [[4, 3, 2, 4, 0, 3]]
    zero, one, two = hashing.buckets(np.zeros(4, np.uint8), DB)
    assert (zero.tolist(), one.tolist(), two.tolist()) == ([0, 3], [1, 5], [2])
    assert [b.tolist() for b in hashing.buckets(np.array([0, 1, 1, 0]), DB)] == [[], [5], [0, 2, 3, 4]]  # none at 0
    with pytest.raises(InputError, match="The query has 3 bits and the database 4"):
        hashing.hamming(np.zeros(3, np.uint8), DB)
    with pytest.raises(InputError, match="of 0s and 1s"):
        hashing.hamming(np.full(4, 2), DB)


def test_precision_at_k_on_a_hand_made_example_with_ties_broken_by_index():
    labels = np.array([0, 0, 1, 0, 1, 1])
    # Query 0000 (label 0): nearest are 0, 3 (distance 0), then 1, 5 (distance 1; by index): labels 0, 0, 0, 1.
    assert hashing.neighbours(np.zeros((1, 4), np.uint8), DB, 4).tolist() == [[0, 3, 1, 5]]
    assert hashing.precision_at_k(np.zeros((1, 4), np.uint8), [0], DB, labels, k=4) == pytest.approx(0.75)
    # The database querying itself, each row excluded from its own list: row 0 finds 3 (0, label 0); row 4 finds
    # 2 (distance 2, label 1); row 2 finds 1 (distance 1, label 0).
    assert hashing.neighbours(DB, DB, 1, exclude_self=True)[[0, 4, 2], 0].tolist() == [3, 2, 1]
    expected = np.mean([1, 1, 0, 1, 1, 0])  # rows 0..5 find 3, 0, 1, 0, 2, 0: the same label as row 0, 1, 3, 4
    assert hashing.precision_at_k(DB, labels, DB, labels, k=1, exclude_self=True) == pytest.approx(expected)
    # Euclidean on real codes: the nearest of 0.0 among [0.9, 0.1, 0.5] is row 1.
    real = np.array([[0.9], [0.1], [0.5]])
    assert hashing.neighbours(np.zeros((1, 1)), real, 2, metric="euclidean").tolist() == [[1, 2]]
    with pytest.raises(InputError, match=r"k must be an int in \[1, 6\]"):
        hashing.neighbours(DB, DB, 7)
    with pytest.raises(InputError, match="Unknown metric 'cosine'"):
        hashing.neighbours(DB, DB, 1, metric="cosine")


def test_on_mnist_the_trained_hash_beats_random_projection_lsh_with_as_many_bits(lab):
    p = lab.precision
    print(f"\nprecision@10, 16 bits, 3,200 digits searched by 800: {p}")
    assert set(p) == set(hashing.METHODS)
    assert p["hash"] > p["lsh"] + 0.1, p  # measured 0.66 against 0.45 (32 bits: 0.73 against 0.59)
    assert p["pixels"] > 0.8 and p["ae"] > p["hash"], p  # the real-valued references stay ahead of 16 bits
    assert lab.database_bits.shape == (3200, 16) and lab.query_bits.shape == (800, 16)
    # The bits are used: far more than a handful of the 65,536 addresses hold digits.
    assert len(np.unique(lab.database_bits, axis=0)) > 600  # measured 1,150


def test_hint_the_first_querys_own_address_holds_only_its_digit(lab):
    """Theory lab's hint, on the defaults (16 bits, query 0, a 6): every training digit at Hamming distance 0 is a 6
    (measured 18 of 18), and there are some."""
    data = hashing_view._data()
    (_, y_val), (_, y_train) = data.split("val"), data.split("train")
    same_address = hashing.buckets(lab.query_bits[0], lab.database_bits)[0]
    assert len(same_address) >= 5 and y_val[0] == 6 and (y_train[same_address] == 6).all(), y_train[same_address]


def _script() -> None:
    from aeviz.ui import hashing_view

    hashing_view.section()


@pytest.fixture
def view(lab, monkeypatch) -> AppTest:
    """The section under AppTest with the module's trained pair as its finished task (no second training)."""
    done = Task(lambda report: lab, "Training the pair")
    done.done.wait(5)
    monkeypatch.setattr(hashing_view, "_lab_task", lambda n_bits: done)
    at = AppTest.from_function(_script, default_timeout=30)
    return at.run()


def test_the_view_shows_the_buckets_and_precisions_the_core_computes(lab, view):
    at = view
    assert not at.exception, at.exception
    data = hashing_view._data()
    for query in (0, 17):
        at.number_input(key="theory.hash.query").set_value(query).run()
        assert not at.exception
        counts = [len(rows) for rows in hashing.buckets(lab.query_bits[query], lab.database_bits)]
        assert [m.label for m in at.metric] == ["Distance 0", "Distance 1", "Distance 2"]
        assert [int(m.value) for m in at.metric] == counts, query
        assert at.query_params["hash.query"] in (str(query), [str(query)])  # bound to the URL
    table = at.dataframe[0].value
    assert list(table["method"]) == list(hashing.METHODS.values())
    assert list(table["precision@10"]) == [lab.precision[m] for m in hashing.METHODS]
    assert len(data.val_idx) == 800 and at.number_input(key="theory.hash.query").max == 799


def test_an_empty_bucket_is_said_in_words(lab, view):
    at = view
    empty = next(q for q in range(len(lab.query_bits))
                 if len(hashing.buckets(lab.query_bits[q], lab.database_bits)[0]) == 0)
    at.number_input(key="theory.hash.query").set_value(empty).run()
    assert int(at.metric[0].value) == 0
    assert any("Empty bucket: no training digit's code differs from the query's in exactly 0 bits" in c.value
               for c in at.caption)


def _patch_task(monkeypatch, task: Task) -> list[int]:
    """`_lab_task` returns `task`; the list collects the bit counts whose cached task the view clears."""
    cleared: list[int] = []

    def factory(n_bits: int) -> Task:
        return task

    factory.clear = cleared.append
    monkeypatch.setattr(hashing_view, "_lab_task", factory)
    return cleared


def test_while_training_the_view_shows_progress_and_a_failure_is_a_warning(monkeypatch):
    import threading

    gate = threading.Event()
    running = Task(lambda report: gate.wait(10), "Training the pair")
    _patch_task(monkeypatch, running)
    at = AppTest.from_function(_script, default_timeout=30).run()
    assert not at.exception and not at.metric and not at.dataframe  # no result yet
    assert at.button(key="theory.hash.cancel").label == "Cancel"
    gate.set()
    failed = Task(lambda report: 1 / 0, "Training the pair")
    failed.done.wait(5)
    cleared = _patch_task(monkeypatch, failed)
    at = AppTest.from_function(_script, default_timeout=30).run()
    assert not at.exception and cleared == [16]  # the default bits; the next visit trains again
    assert "Training the pair failed: ZeroDivisionError" in at.warning[0].value
