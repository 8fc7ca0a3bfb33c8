"""The live view redraws only what changed, at a pace a browser on the training machine can afford: the owner's
panel every 2 s at full speed (1 s while paused, 0.5 s in slow motion), watchers every 5 s, and the latent map at
most every 4 s at full speed, shared by every tab, with its caption naming the moment it shows."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from aeviz.ui import live, run_charts, steer_view


def _job(speed: float = 1.0, paused: bool = False):
    return SimpleNamespace(control=SimpleNamespace(speed=speed, paused=paused))


def test_refresh_intervals_follow_speed_pause_and_role():
    every = lambda job, owner: steer_view.refresh_every(job, live.LIVE_EVERY_S, live.WATCH_EVERY_S, owner)
    assert every(_job(), owner=True) == 2.0
    assert every(_job(), owner=False) == 5.0
    assert every(_job(paused=True), owner=True) == 1.0
    assert every(_job(paused=True), owner=False) == 5.0
    assert every(_job(speed=1 / 16), owner=True) == 0.5
    assert every(_job(speed=1 / 16), owner=False) == 2.0


def test_a_new_probe_replaces_the_map_on_screen_at_most_every_few_seconds(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(run_charts.time, "monotonic", lambda: clock[0])
    shown: dict = {}
    probe = [np.full((3, 2), float(i)) for i in range(4)]
    first = run_charts._throttled(shown, 4.0, "p0", "epoch 1", probe[0], None)
    assert first[:2] == ("p0", "epoch 1")
    clock[0] += 1.0  # a second later epoch 2's probe arrives: the map (and its caption) still shows epoch 1
    assert run_charts._throttled(shown, 4.0, "p1", "epoch 2", probe[1], None)[:2] == ("p0", "epoch 1")
    clock[0] += 3.5  # 4.5 s after the last redraw: the newest probe is drawn
    got = run_charts._throttled(shown, 4.0, "p3", "epoch 5", probe[3], None)
    assert got[:2] == ("p3", "epoch 5") and np.array_equal(got[2], probe[3])
    clock[0] += 10.0  # the same probe again (a paused run): nothing to redraw, nothing moves
    assert run_charts._throttled(shown, 4.0, "p3", "epoch 5", probe[3], None)[:2] == ("p3", "epoch 5")
    assert shown["at"] == 104.5
