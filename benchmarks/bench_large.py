"""Large data: every page with a run on 1,000,000 points, first visit and second visit, in a real browser, beside the
same page with a run on 2,000 points; and the server's memory after all of them.

Run: PYTHONPATH=. python benchmarks/bench_large.py [--pages latent,anomalies] [--points 1000000]
Each visit is a new session (a reload); "again" is the second visit, when the page's views are cached. The run is an
ae on the moons trained one epoch (the views are measured, not the model). Uses Debian's chromium, like the tests.
Never part of the test suite's pass/fail (tests/test_browser_large.py checks ratios to the small run).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

import tests.test_browser_large as large
from tests.browser_kit import CHROMIUM, CHROMIUM_ARGS, SERVERS, serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", default=",".join(large.ALL_PAGES))
    parser.add_argument("--points", type=int, default=large.BIG)
    args = parser.parse_args()
    large.BIG = args.points
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        big, small = large.two_runs(folder / "runs")
        with serve(folder / "runs", folder, grace_s=600) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pg = browser.new_page(viewport={"width": 1400, "height": 1000})
            rows = large.page_times(pg, url, big, small, args.pages.split(","))
            memory = large.rss_mb(SERVERS[url].pid)
            browser.close()
    print(f"| page | first visit | again ({args.points:,} points) | {large.SMALL:,} points |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['page']} | {r['first_s']:.1f} s | {r['again_s']:.1f} s | {r['small_s']:.1f} s |")
    print(json.dumps({"server_mb": round(memory), "slowest_again_s": round(max(r["again_s"] for r in rows), 2)}))


if __name__ == "__main__":
    main()
