"""A room on one server: six more browsers queue their own runs or watch the running one, and the running job keeps
most of its throughput while a new visitor's page still renders quickly.

Measured as ratios in one run (the same machine, the same job): the job's epoch rate before and while the room is
there. Headless Chromium shares the 2 cores with the server, so the numbers include the browsers' own rendering.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.browser_kit import browser, key, server, shots  # noqa: F401  (fixtures; skips without chromium)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOM = 6
EPOCHS = 200  # more than the test waits for: the job runs throughout


def _epoch_times(folder) -> list[float]:
    try:
        history = json.loads((folder / "history.json").read_text())
    except (OSError, ValueError):  # not saved yet, or caught mid-save
        return []
    return [float(h["time_s"]) for h in history]


def _wait_epochs(folder, n: int, limit_s: float = 240) -> list[float]:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        times = _epoch_times(folder)
        if len(times) >= n:
            return times
        time.sleep(0.5)  # polling the disk for the trainer's saves; no assertion depends on the pause itself
    raise AssertionError(f"fewer than {n} epochs within {limit_s} s")


def _rate(times: list[float], first: int, last: int) -> float:
    """Epochs per second of training time between two finished epochs (1-based, inclusive of the later)."""
    return (last - first) / (times[last - 1] - times[first - 1])


def test_a_room_of_six_costs_the_running_job_little_and_a_newcomer_gets_a_page(server, browser, shots):
    url, runs_dir = server
    owner = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = owner.new_page()
    page.set_default_timeout(90_000)
    page.goto(f"{url}/train?fit.epochs={EPOCHS}&ae.hidden=256&title=Load%20test")
    page.get_by_role("button", name="Start training").first.click()
    page.wait_for_selector(key("train.live.pause"))
    run_id = page.evaluate("new URLSearchParams(location.search).get('run')")
    folder = runs_dir / run_id
    before = _wait_epochs(folder, 5)
    alone = _rate(before, 2, 5)  # epoch 1 includes start-up

    room = []
    for i in range(ROOM):
        ctx = browser.new_context(viewport={"width": 1024, "height": 768})
        pg = ctx.new_page()
        pg.set_default_timeout(90_000)
        if i % 2 == 0:  # a student who starts their own run: it waits in the queue
            pg.goto(f"{url}/train?fit.epochs=5")
            pg.get_by_role("button", name="Start training").first.click()
        else:  # a student watching the running job from its link
            pg.goto(f"{url}/train?run={run_id}")
        room.append(ctx)
    for ctx in room[::2]:
        ctx.pages[0].wait_for_selector("text=Queued: position")
    start = len(_epoch_times(folder))
    during = _wait_epochs(folder, start + 4)
    crowded = _rate(during, start + 1, start + 4)

    newcomer = browser.new_context(viewport={"width": 1024, "height": 768})
    pg = newcomer.new_page()
    t0 = time.monotonic()
    pg.goto(f"{url}/train")
    pg.wait_for_selector(key("train.start"), timeout=60_000)
    render_s = time.monotonic() - t0
    pg.screenshot(path=str(shots / "load-newcomer.png"))
    page.screenshot(path=str(shots / "load-owner.png"))
    print(f"\nload: alone {alone:.3f} epochs/s, with {ROOM} browsers {crowded:.3f} ({crowded / alone:.2f}x); "
          f"a newcomer's page rendered in {render_s:.1f} s")
    page.locator(key("train.live.stop")).first.click()
    for ctx in [*room, newcomer, owner]:
        ctx.close()
    assert crowded / alone >= 0.7, f"the job fell to {crowded / alone:.2f}x of its throughput alone"
    assert render_s <= 5.0, f"a new visitor waited {render_s:.1f} s for the page"
