"""Steering a run while it trains: stepping while paused, slow motion, live knob changes recorded and kept."""

import math

import numpy as np
import pytest
import torch

from aeviz import runs, steering
from aeviz.child import fit_in_child
from aeviz.errors import InputError
from aeviz.runs import Run
from aeviz.steering import Control, Steer
from aeviz.training import EndEvent, EpochEvent, StepEvent, fit
from aeviz.training_config import TrainConfig
from tests.helpers import toy_images

MODEL = {"hidden": (32,), "latent_dim": 3}


def make_run(data, name="ae", epochs=3, **model):
    cfg = TrainConfig(epochs=epochs, batch_size=32, lr=3e-3, log_every=100)
    return Run.create(name, data.shape, data.source, train_config=cfg, **{**MODEL, **model})


def weights(run):
    return {k: v.clone() for k, v in run.model.state_dict().items()}


def finish(events, control):
    """Stop a generator that would otherwise wait (paused) and drain it."""
    control.stop()
    return list(events)


def test_step_one_batch_moves_the_counter_by_one_and_changes_the_weights():
    data = toy_images()  # 192 training rows / 32: 6 steps an epoch
    run = make_run(data)
    control = Control()
    control.pause()
    control.step("batch")
    events = fit(run, data, control)
    before = weights(run)
    event = next(events)  # a granted step reports at once, whatever log_every says
    assert isinstance(event, StepEvent) and event.fresh and (event.epoch, event.step) == (1, 1)
    assert run.step == 1 and run.epoch == 0
    assert any(not torch.equal(v, run.model.state_dict()[k]) for k, v in before.items())
    control.step("batch")
    event = next(events)
    assert (event.step, run.step) == (2, 2)
    finish(events, control)
    assert run.step == 2  # nothing ran past the grants


def test_step_one_epoch_runs_to_the_end_of_the_epoch_then_waits():
    data = toy_images()
    run = make_run(data, epochs=3)
    control = Control()
    control.pause()
    control.step("batch")
    events = fit(run, data, control)
    next(events)  # one step in
    control.step("epoch")
    seen = []
    for event in events:
        seen.append(event)
        if isinstance(event, EpochEvent):
            break
    assert run.epoch == 1 and run.step == 6  # the rest of epoch 1, not a whole epoch more
    assert seen[-1].epoch == 1 and run.history[-1]["epoch"] == 1
    control.step("epoch")  # at an epoch boundary: one whole epoch
    assert next(e for e in events if isinstance(e, EpochEvent)).epoch == 2 and run.step == 12
    finish(events, control)


def test_live_lr_change_applies_at_the_next_step_is_recorded_and_survives_save_load_resume(tmp_path):
    data = toy_images()
    run = make_run(data, epochs=2)
    control = Control()
    events = fit(run, data, control)
    first = next(events)  # after step 6 (the epoch's last: log_every is 100)
    control.change("lr", 1e-2)
    rest = list(events)
    assert isinstance(rest[-1], EndEvent) and rest[-1].status == "finished"
    assert run.changes == [{"epoch": 2, "step": 0, "steps": 6, "name": "lr", "old": 3e-3, "new": 1e-2}]
    assert first.epoch == 1 and run.train_config.lr == 1e-2
    assert [g["lr"] for g in run.optimizer_state["param_groups"]] == [1e-2]
    assert steering.label(run.changes[0]) == "lr 0.003 → 0.01 (epoch 2, step 0)"
    assert steering.mark_x(run.changes[0]) == 1.0
    runs.save(run, tmp_path / "r")
    back = runs.load(tmp_path / "r")
    assert back.changes == run.changes and back.train_config.lr == 1e-2 and back.step == run.step == 12
    back.optimizer_state["param_groups"][0]["lr"] = 3e-3  # even a stale optimizer record: the run's lr wins
    events = fit(back, data, Control(), until=3)
    next(events)
    group_lr = None
    for event in events:
        if isinstance(event, EpochEvent):
            group_lr = back.optimizer_state["param_groups"][0]["lr"]
    assert group_lr == 1e-2 and back.epoch == 3 and back.step == 18


def test_a_change_mid_epoch_is_marked_at_its_step():
    data = toy_images()
    run = make_run(data, epochs=1)
    control = Control()
    control.pause()
    control.step("batch")
    events = fit(run, data, control)
    next(events)
    control.change("lr", 5e-4)
    control.step("batch")
    event = next(events)
    assert event.fresh and run.changes[-1]["step"] == 1 and run.changes[-1]["epoch"] == 1
    assert math.isclose(steering.mark_x(run.changes[-1]), 1 / 6)
    finish(events, control)


@pytest.mark.parametrize("name, knob, value, extra", [
    ("vae", "beta", 4.0, {}),
    ("contractive", "weight", 0.5, {}),
    ("denoising", "noise_level", 0.7, {}),
    ("sparse", "weight", 2.0, {"penalty": "l1"}),
    ("sparse", "beta", 3.0, {"penalty": "kl"}),
])
def test_each_regulariser_weight_changes_live_and_the_loss_uses_it(name, knob, value, extra):
    data = toy_images()
    run = make_run(data, name=name, epochs=1, **extra)
    assert set(steering.live_knobs(run)) == {"lr", knob}
    control = Control()
    control.change(knob, value)
    list(fit(run, data, control))
    assert getattr(run.model.config, knob) == value
    assert run.changes[0]["name"] == knob and run.changes[0]["new"] == value


def test_bad_changes_are_refused_with_one_line():
    data = toy_images()
    run = make_run(data)
    with pytest.raises(InputError, match="cannot change while ae trains; choose one of \\['lr'\\]"):
        steering.check_change(run, "beta", 1.0)
    with pytest.raises(InputError, match="lr"):
        steering.check_change(run, "lr", -1)
    with pytest.raises(InputError, match="finite"):
        steering.check_change(run, "lr", float("nan"))
    with pytest.raises(InputError, match="number"):
        steering.check_change(run, "lr", "fast")
    with pytest.raises(InputError):
        Control().set_speed(0)
    with pytest.raises(InputError):
        Control().step("week")
    assert steering.check_change(run, "lr", "0.01") == 0.01


def test_slow_motion_stretches_each_step_by_one_over_speed():
    control = Control()
    asked = []
    control._stop.wait = lambda timeout=None: asked.append(timeout)  # noqa: SLF001 - record, never sleep
    steer = Steer(control, None, None)
    steer.after_step(0.01)
    assert asked == []  # full speed: no wait
    control.set_speed(1 / 16)
    steer.before_step(1, 0, 6)
    steer.after_step(0.01)
    assert asked == [pytest.approx(0.15)]


def test_the_replay_keeps_every_epoch_including_the_start():
    data = toy_images()
    run = make_run(data, epochs=3)
    list(fit(run, data))
    assert run.replay.epochs == [0, 1, 2, 3]
    assert all(c.shape == (len(run.replay.probe_idx), 3) for c in run.replay.codes)
    assert not np.array_equal(run.replay.codes[0], run.replay.codes[3])


def test_steering_reaches_a_run_training_in_a_child_process():
    data = toy_images()
    run = make_run(data, epochs=2)
    control = Control()
    control.pause()
    control.step("batch")
    events = fit_in_child(run, data, control, 2)
    before = weights(run)
    event = next(events)
    assert event.fresh and run.step == 1  # the parent's run mirrors the step at once
    assert any(not torch.equal(v, run.model.state_dict()[k]) for k, v in before.items())
    control.change("lr", 1e-2)
    control.resume()
    list(events)
    assert run.train_config.lr == 1e-2 and run.changes[0]["name"] == "lr" and run.changes[0]["epoch"] == 1
    assert run.epoch == 2 and run.step == 12 and run.replay.epochs == [0, 1, 2]


def test_holding_says_when_a_pause_has_landed():
    import threading

    data = toy_images()
    run = make_run(data, epochs=2)
    control = Control()
    control.pause()
    assert not control.holding  # asked for, not yet landed: the view must not offer a step yet
    worker = threading.Thread(target=lambda: list(fit(run, data, control)))
    worker.start()
    assert control._held.wait(30) and control.holding and run.step == 0  # noqa: SLF001
    control.stop()
    worker.join(30)
    assert not control.holding and not worker.is_alive()


def test_a_child_comes_from_the_fork_server_and_reads_the_settings_of_now(monkeypatch):
    """Children are forked from a server that imported torch once (a run starts in milliseconds, not the ~1.6 s of
    a fresh interpreter); the AEVIZ_* settings a child reads are the parent's as they are when it starts, not the
    fork server's from its own start: a budget set afterwards still refuses a run that does not fit."""
    import multiprocessing as mp

    from aeviz import child
    from aeviz.errors import InputError

    data = toy_images()
    list(fit_in_child(make_run(data, epochs=1), data, Control(), 1))  # the fork server is up after this
    assert child._context().get_start_method() == ("forkserver" if "forkserver" in mp.get_all_start_methods()
                                                   else "spawn")
    monkeypatch.setenv("AEVIZ_MEMORY_BUDGET", "100KB")  # the model fits (69 KB), training (261 KB) does not
    with pytest.raises(InputError, match="Training needs .* over the memory budget of 100 KB"):
        list(fit_in_child(make_run(data, epochs=1), data, Control(), 1))
    monkeypatch.delenv("AEVIZ_MEMORY_BUDGET")
    run = make_run(data, epochs=1)
    list(fit_in_child(run, data, Control(), 1))
    assert run.epoch == 1 and run.status == "finished"
