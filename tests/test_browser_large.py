"""A run on a million points (issue 12): once a page has been visited, it opens within a small factor of the same
page with a run on 2,000 points, and the server stays under 1.5 GB.

Scatters draw a stated seeded sample (`plots.MAX_DRAWN`), histograms are binned on the server, and what a page
computes from the run is cached per run and epoch (kept while anyone is connected, and through a reload: the server
here keeps its views 600 s after the last tab, as the app's default keeps them 60 s). Times on 2 shared cores with
Chromium on them move with the load, so the test compares each page with itself on the small run (a ratio and a
margin), and prints the figures; `benchmarks/bench_large.py` prints the same table on its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aeviz import runs
from tests.browser_kit import (SERVERS, browser, no_exception, render_s, serve, shots)  # noqa: F401
from tests.helpers import trained_moons_run

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Every page that draws from the run's data. Start here, Compare (one run: a picker), Generate (a 1-D code: a note),
# Data, Lessons and the Theory lab draw nothing that grows with it (benchmarks/bench_large.py times them all).
PAGES = ["train", "reconstructions", "latent", "clusters", "features", "anomalies"]
ALL_PAGES = ["", "train", "reconstructions", "latent", "compare", "clusters", "features", "generate", "anomalies"]
BIG, SMALL = 1_000_000, 2_000
MEMORY_MB = 1536
# A page of the big run may take twice the small run's time plus 0.75 s: its Latent page draws 20,000 points where the
# small run's draws 400 (measured 1.0-1.3 s against 0.5 s; one full-suite run had 1.26 against 0.50). Before issue 12
# the same page took 8-11 s on every visit.
SLOWER, MARGIN_S = 2.0, 0.75


def rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * 4096 / 2**20


def page_times(pg, url: str, big: str, small: str, pages: list[str] = PAGES, shots: Path | None = None) -> list[dict]:
    """Per page: the big run's first and second visit, and a visit with the small run (each a new session)."""
    rows = []
    for slug in pages:
        first = render_s(pg, f"{url}/{slug}?run={big}")
        again = render_s(pg, f"{url}/{slug}?run={big}")
        if shots is not None and slug in ("latent", "anomalies"):
            pg.screenshot(path=str(shots / f"large-{slug}.png"))
        no_exception(pg)
        # the small run's first visit: its views cost next to nothing to compute, and the page's code is warm
        rows.append({"page": slug or "home", "first_s": first, "again_s": again,
                     "small_s": render_s(pg, f"{url}/{slug}?run={small}")})
    return rows


def two_runs(folder: Path) -> tuple[str, str]:
    """An ae on 1,000,000 and one on 2,000 moons (one epoch each: the views are tested, not the model), saved."""
    big = trained_moons_run(BIG, latent_dim=1, hidden=(64, 64), batch_size=16_384)
    small = trained_moons_run(SMALL, latent_dim=1, hidden=(64, 64), batch_size=64)
    for run in (big, small):
        runs.save(run, folder / run.id)
    return big.id, small.id


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    big, small = two_runs(folder)
    with serve(folder, tmp_path_factory.mktemp("scratch"), grace_s=600) as url:
        yield url, big, small


def test_every_page_of_a_million_point_run_is_quick_once_visited_and_the_server_stays_small(large, browser, shots):
    url, big, small = large
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    rows = page_times(pg, url, big, small, shots=shots)
    memory = rss_mb(SERVERS[url].pid)
    print("\npage: first visit / again (1,000,000 points) / 2,000 points, seconds")
    for r in rows:
        print(f"  {r['page']:16s} {r['first_s']:5.1f} / {r['again_s']:4.1f} / {r['small_s']:4.1f}")
    print(f"server: {memory:.0f} MB")
    assert memory < MEMORY_MB, f"the server holds {memory:.0f} MB"
    slow = [r for r in rows if r["again_s"] > SLOWER * r["small_s"] + MARGIN_S]
    assert not slow, slow
    # The latent page says what it draws of the 200,000 validation points.
    pg.goto(f"{url}/latent?run={big}")
    pg.get_by_text("20,000 of the 200,000 points of the validation split are drawn (a seeded random sample)").wait_for()
