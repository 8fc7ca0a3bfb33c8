"""A real browser against a real server: deep link first, live training, pause/resume/stop, lasso on the latent page.

Debian's chromium driven by Playwright (`playwright install` cannot download here). CI installs chromium in
.ci/run; elsewhere, without it, this module is skipped with the reason. Screenshots go to $AEVIZ_SCREENSHOTS (or a
temp folder) so a person can look at what the app showed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest


from tests.browser_kit import (CHROMIUM, browser, chart_prints, click_until, key, no_exception,  # noqa: F401
                               page, server, set_epochs, shots)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_deep_link_first_shows_the_page_and_the_shared_sidebar(page, server, shots):
    page.goto(f"{server[0]}/train?model=ae")  # the MLP: these tests need quick epochs, not the image default
    page.get_by_role("heading", name="Train").first.wait_for()
    sidebar = page.locator('[data-testid="stSidebar"]')
    for label in ("Start here", "Data", "Train", "Latent space", "Clusters", "Anomalies"):
        sidebar.get_by_text(label, exact=True).first.wait_for()
    assert "Data:" in sidebar.inner_text() and "mnist" in sidebar.inner_text()
    page.screenshot(path=str(shots / "01-train-deep-link.png"), full_page=True)
    no_exception(page)


def test_live_training_updates_and_obeys_pause_resume_stop(page, server, shots):
    set_epochs(page, 60)  # long enough that it is still running when we stop it
    page.locator(key("train.start")).locator("button").first.click()
    keys = ["train.live.loss", "train.live.latent"]
    seen: dict[str, list[str]] = {k: [] for k in keys}
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline and min(len(v) for v in seen.values()) < 3:
        for k, fingerprint in chart_prints(page, keys).items():
            if fingerprint is not None and (not seen[k] or seen[k][-1] != fingerprint):
                seen[k].append(fingerprint)
        page.wait_for_timeout(500)  # the page refreshes itself every second; we sample it twice as often
    assert len(seen["train.live.loss"]) >= 3, "the loss chart was drawn and then updated at least twice"
    assert len(seen["train.live.latent"]) >= 3, "the latent chart was drawn and then updated at least twice"
    page.screenshot(path=str(shots / "02-training-live.png"), full_page=True)
    no_exception(page)

    status = key("train.live.status")
    click_until(page, "train.live.pause", f"{status} >> text=paused >> visible=true")
    page.screenshot(path=str(shots / "03-paused.png"), full_page=True)
    click_until(page, "train.live.resume", f"{status} >> text=training >> visible=true")
    try:
        click_until(page, "train.live.stop", "text=Stopped by the user >> visible=true")
    finally:
        page.screenshot(path=str(shots / "04-stopped.png"), full_page=True)
    no_exception(page)


def test_lasso_on_the_latent_page_shows_the_selected_images(page, server, shots):
    page.locator('[data-testid="stSidebar"]').get_by_text("Latent space", exact=True).click()
    page.get_by_role("heading", name="Latent space").first.wait_for()
    plot = page.locator(key("latent.chart.pca")).locator(".js-plotly-plot")
    plot.wait_for()
    chart = page.locator(key("latent.chart.pca"))
    chart.hover()
    chart.locator('.modebar-btn[data-val="lasso"]').first.click()  # the lasso tool, not the box
    box = chart.locator(".nsewdrag").first.bounding_box()
    cx, cy, w, h = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["width"], box["height"]
    path = [(cx - 0.3 * w, cy - 0.3 * h), (cx + 0.3 * w, cy - 0.2 * h), (cx + 0.25 * w, cy + 0.3 * h),
            (cx - 0.2 * w, cy + 0.25 * h), (cx - 0.3 * w, cy - 0.3 * h)]
    page.mouse.move(*path[0])
    page.mouse.down()
    for x, y in path[1:]:
        page.mouse.move(x, y, steps=8)
    page.mouse.up()
    selected = page.locator("text=points selected >> visible=true").first
    selected.wait_for()
    text = selected.inner_text()
    assert int(text.split()[0].replace(",", "")) > 10
    # The count and the image grid arrive in the same script run but render one after the other: wait for it.
    page.get_by_text("reconstructions", exact=True).first.wait_for()
    page.wait_for_function("""() => {  // both grids (inputs, reconstructions) are images that loaded
        const grids = [...document.querySelectorAll('[data-testid="stImage"]')]
            .filter(e => ['inputs', 'reconstructions'].includes(e.innerText.trim()))
            .map(e => e.querySelector('img'));
        return grids.length === 2 && grids.every(i => i && i.complete && i.naturalWidth > 0);
    }""")
    page.locator(key("latent.csv")).wait_for()
    page.screenshot(path=str(shots / "05-latent-lasso.png"), full_page=True)
    selected.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "06-latent-selection.png"), full_page=True)
    no_exception(page)


def test_clicking_one_point_shows_its_nearest_neighbours(page, server, shots):
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Data", exact=True).click()  # leaving the page forgets the lasso selection
    page.get_by_role("heading", name="Data").first.wait_for()
    sidebar.get_by_text("Latent space", exact=True).click()
    chart = page.locator(key("latent.chart.pca"))
    chart.locator(".js-plotly-plot").wait_for()
    chart.hover()
    chart.locator('.modebar-btn[data-val="pan"]').first.click()  # in lasso mode a click does not select
    # Where point 0 is drawn, from Plotly's own axis mapping, relative to the page.
    where = page.wait_for_function("""() => {
        const gd = document.querySelector('.st-key-latent-chart-pca .js-plotly-plot');
        if (!gd || !gd._fullLayout || !gd._fullLayout.xaxis || !gd._fullData) return null;
        const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
        const fl = gd._fullLayout, t = gd._fullData[0];  // decoded arrays (data holds base64 "bdata")
        const x = box.left + fl.xaxis.l2p(t.x[0]), y = box.top + fl.yaxis.l2p(t.y[0]);
        return Number.isFinite(x) && Number.isFinite(y) ? [x, y] : null;
    }""")
    x, y = where.json_value()
    page.mouse.click(x, y)
    found = page.locator("text=and its 8 nearest neighbours >> visible=true").first
    found.wait_for()
    assert "Point #" in found.inner_text()
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"stImage\"] img')].length >= 9 && "
                           "[...document.querySelectorAll('[data-testid=\"stImage\"] img')].every(i => i.complete)")
    found.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "07-latent-neighbours.png"), full_page=True)
    no_exception(page)


def _new_run_config(runs_dir: Path, before: set[str]) -> dict:
    """config.json of the one run created since `before` ({} while there is none). Hidden folders are a save in
    progress (runs.save writes `.name.tmp-*` and renames it), so they are not runs yet."""
    for p in runs_dir.iterdir():
        if p.name not in before and not p.name.startswith("."):
            try:
                return json.loads((p / "config.json").read_text())
            except (ValueError, OSError):  # caught between a save's two renames: read again on the next poll
                return {}
    return {}


def _start_long_job(browser, url: str):
    """A new browser (visitor) whose Train page starts a 500-epoch run; returns its tab, showing the live view."""
    tab = browser.new_context().new_page()
    tab.set_default_timeout(60_000)
    tab.goto(f"{url}/train?model=ae")
    set_epochs(tab, 500)
    tab.locator(key("train.start")).locator("button").first.click()
    tab.locator(key("train.live.pause")).wait_for()
    return tab


def test_closing_the_tab_stops_its_job_after_the_grace_period(browser, server):
    url, runs_dir = server
    before = {p.name for p in runs_dir.iterdir()}
    tab = _start_long_job(browser, url)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and _new_run_config(runs_dir, before).get("epoch", 0) < 1:
        time.sleep(0.25)  # polling the run folder until an epoch is on disk, so the tab closes mid-training
    assert _new_run_config(runs_dir, before).get("epoch", 0) >= 1, "the job saved no epoch within 90 s"
    tab.context.close()  # the tab goes away mid-training
    deadline = time.monotonic() + 90
    saved: dict = {}
    while time.monotonic() < deadline and "browser tab was closed" not in saved.get("message", ""):
        saved = _new_run_config(runs_dir, before)
        time.sleep(0.5)  # polling the run folder the server writes; the assertion is on its content
    assert "Stopped after its browser tab was closed" in saved.get("message", ""), saved
    assert 1 <= saved["epoch"] < 500


def test_a_job_keeps_training_while_its_owner_reloads_another_page(browser, server):
    """Only a visitor with no tab left loses their job: one reloading the Data page (a new session that shows no
    run) still has a tab open, so the job trains on past the grace period."""
    url, runs_dir = server
    before = {p.name for p in runs_dir.iterdir()}
    tab = _start_long_job(browser, url)
    run_id = tab.evaluate("new URLSearchParams(location.search).get('run')")
    tab.goto(f"{url}/data")  # a new session: the Train page's session closes (TTL 2 s, grace 1 s in these tests)
    tab.get_by_role("heading", name="Data").first.wait_for()
    left_at = time.monotonic()
    saved: dict = {}
    while time.monotonic() - left_at < 8:  # well past the TTL and the grace period
        saved = _new_run_config(runs_dir, before) or saved
        time.sleep(0.5)  # polling the run folder the server writes; the assertion is on its content
    first = saved.get("epoch", 0)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and saved.get("epoch", 0) <= first + 1:
        saved = _new_run_config(runs_dir, before) or saved
        time.sleep(0.5)
    assert saved.get("epoch", 0) > first + 1, f"the job stopped training while its owner was on the Data page: {saved}"
    assert "closed" not in saved.get("message", ""), saved
    tab.goto(f"{url}/train?run={run_id}")
    tab.locator(key("train.live.stop")).locator("button").first.click()
    tab.locator(key("train.live.stop")).wait_for(state="detached")
    tab.context.close()
