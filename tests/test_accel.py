"""The GPU path's opt-ins, checked on a CPU (no GPU on the machines that test aeviz): bf16 refused off CUDA in one
line, the autocast context, torch.compile's fallback when compiling fails, and the training slots a GPU's memory
gives."""

from __future__ import annotations

import pytest
import torch

from aeviz import accel
from aeviz.errors import InputError
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig
from tests.helpers import toy_images

CPU = torch.device("cpu")


def test_bf16_is_refused_off_cuda_and_fp32_works_everywhere():
    accel.check("fp32", CPU)
    with pytest.raises(InputError, match="bf16 needs a CUDA GPU.*Set precision to fp32"):
        accel.check("bf16", CPU)
    with pytest.raises(InputError, match="precision must be one of"):
        accel.check("fp16", CPU)


def test_a_bf16_run_on_the_cpu_is_refused_before_it_trains():
    data = toy_images()
    run = Run.create("ae", data.shape, "toy", train_config=TrainConfig(epochs=1, device="cpu", precision="bf16"))
    with pytest.raises(InputError, match="bf16 needs a CUDA GPU"):
        train(run, data)
    assert run.epoch == 0 and run.history == []


def test_autocast_runs_matmuls_in_bf16_and_fp32_changes_nothing():
    layer = torch.nn.Linear(4, 3)
    x = torch.randn(2, 4)
    with accel.autocast("fp32", CPU):
        assert layer(x).dtype == torch.float32
    with accel.autocast("bf16", CPU):  # the CPU has an autocast too: the same context a CUDA run gets
        assert layer(x).dtype == torch.bfloat16


def test_a_compile_that_fails_falls_back_to_the_plain_model_with_a_note(monkeypatch):
    model = torch.nn.Linear(4, 2)
    calls = []

    def broken(m):
        def call(x):
            calls.append("compiled")
            raise RuntimeError("no C++ compiler found\nmore detail")
        return call

    monkeypatch.setattr(torch, "compile", broken)
    forward = accel.Forward(model, compile=True)
    x = torch.randn(3, 4)
    assert torch.equal(forward(x), model(x)) and calls == ["compiled"]
    assert forward.note == "torch.compile failed (no C++ compiler found); trained without it."
    forward(x)
    assert calls == ["compiled"], "after a failed compile, never tried again"
    assert accel.Forward(model, compile=False).note == ""


def test_errors_after_a_successful_compile_are_the_models_own(monkeypatch):
    model = torch.nn.Linear(4, 2)
    state = {"n": 0}

    def compiled(m):
        def call(x):
            state["n"] += 1
            if state["n"] > 1:
                raise MemoryError("out of memory")
            return m(x)
        return call

    monkeypatch.setattr(torch, "compile", compiled)
    forward = accel.Forward(model, compile=True)
    forward(torch.randn(2, 4))
    with pytest.raises(MemoryError):
        forward(torch.randn(2, 4))
    assert forward.note == ""


def test_a_run_whose_compile_fails_trains_and_says_so(monkeypatch):
    def broken(m):
        def call(x):
            raise RuntimeError("inductor backend unavailable")
        return call

    monkeypatch.setattr(torch, "compile", broken)
    data = toy_images()
    run = Run.create("ae", data.shape, "toy", train_config=TrainConfig(epochs=2, device="cpu", compile=True))
    train(run, data)
    assert run.epoch == 2 and run.status == "finished"
    assert "torch.compile failed (inductor backend unavailable); trained without it." in run.message


@pytest.mark.parametrize("devices, gib, env, slots", [
    (["cpu"], 0, None, 1),
    (["cuda", "cpu"], 141, None, 4),  # an H200
    (["cuda", "cpu"], 16, None, 2),
    (["cuda", "cpu"], 6, None, 1),
    (["cuda", "cpu"], 141, "3", 3),
    (["cpu"], 0, "2", 2),
])
def test_training_slots_follow_the_gpus_memory_unless_set(devices, gib, env, slots):
    assert accel.slots_for(devices, gib * accel.GIB, env) == slots


@pytest.mark.parametrize("env", ["0", "17", "two", "-1"])
def test_a_bad_slot_count_is_refused_in_one_line(env):
    with pytest.raises(InputError, match="AEVIZ_SLOTS must be a whole number from 1 to 16"):
        accel.slots_for(["cpu"], 0, env)
