"""What watching costs a training job: its epoch rate with the live view open in headless Chromium against the same
job with the tab on another page, in one run on one server.

Target: watched >= 0.8x of unwatched. The job is the Train page's default (MLP autoencoder on the bundled MNIST),
started from the browser and left running; the owner's tab then alternates between the Data page ("away") and the
live view ("watching"), each phase measured over whole epochs (the first epoch after a switch is skipped), repeated
so a noisy neighbour hits both alike. The figure is the ratio of the phases' median epoch rates. A second set of
phases has a visitor (another browser context, so the watcher's slower refresh) watching instead of the owner.
Run: python benchmarks/bench_watching.py [--window 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser_kit import CHROMIUM, CHROMIUM_ARGS, key, serve


def _epoch_times(folder: Path) -> list[float]:
    try:
        return [float(h["time_s"]) for h in json.loads((folder / "history.json").read_text())]
    except (OSError, ValueError, KeyError):  # not saved yet, or caught mid-save
        return []


def _wait_epochs(folder: Path, n: int, limit_s: float = 300) -> list[float]:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        times = _epoch_times(folder)
        if len(times) >= n:
            return times
        time.sleep(0.2)  # polling the trainer's saves
    raise SystemExit(f"fewer than {n} epochs within {limit_s} s")


def _phase_rate(folder: Path, window_s: float) -> float:
    """Epochs per second of training time over the next whole epochs spanning at least `window_s` seconds."""
    first = len(_wait_epochs(folder, len(_epoch_times(folder)) + 1))  # skip the epoch the switch fell into
    time.sleep(window_s)
    times = _wait_epochs(folder, first + 2)
    return (len(times) - first) / (times[-1] - times[first - 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--window", type=float, default=20.0, help="seconds per phase")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="aeviz-bench-watch-"))
    (scratch / "runs").mkdir()
    with serve(scratch / "runs", scratch) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        owner = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        owner.set_default_timeout(90_000)
        owner.goto(f"{url}/train?model=ae&fit.epochs=5000&title=Watched")  # the figures below: the MLP ae
        owner.get_by_role("button", name="Start training").first.click()
        owner.wait_for_selector(key("train.live.pause"))
        run_id = owner.evaluate("new URLSearchParams(location.search).get('run')")
        folder = scratch / "runs" / run_id
        _wait_epochs(folder, 2)  # the first epoch includes start-up
        visitor = browser.new_context(viewport={"width": 1024, "height": 768}).new_page()
        visitor.set_default_timeout(90_000)
        rates: dict[str, list[float]] = {"away": [], "owner watching": [], "visitor watching": []}
        for _ in range(args.repeats):
            for phase in rates:
                if phase == "away":
                    owner.goto(f"{url}/data")
                    visitor.goto(f"{url}/data")
                else:
                    page, other = (owner, visitor) if phase == "owner watching" else (visitor, owner)
                    other.goto(f"{url}/data")
                    page.goto(f"{url}/train?run={run_id}")
                    page.locator(key("train.live.loss")).first.wait_for()
                rates[phase].append(_phase_rate(folder, args.window))
                print(f"{phase}: {rates[phase][-1]:.3f} epochs/s", flush=True)
        owner.goto(f"{url}/train?run={run_id}")
        owner.locator(key("train.live.stop")).locator("button").first.click()
        browser.close()
    away = statistics.median(rates["away"])
    out = {"away_epochs_per_s": round(away, 3), "target": ">= 0.80"}
    for phase in ("owner watching", "visitor watching"):
        out[phase.replace(" ", "_") + "_ratio"] = round(statistics.median(rates[phase]) / away, 3)
    out["ok"] = min(out["owner_watching_ratio"], out["visitor_watching_ratio"]) >= 0.8
    print(json.dumps(out))


if __name__ == "__main__":
    main()
