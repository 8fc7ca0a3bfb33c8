"""A real browser against a real server: deep link first, live training, pause/resume/stop, lasso on the latent page.

Debian's chromium driven by Playwright (`playwright install` cannot download here). CI installs chromium in
.ci/run; elsewhere, without it, this module is skipped with the reason. Screenshots go to $AEVIZ_SCREENSHOTS (or a
temp folder) so a person can look at what the app showed.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium")
if CHROMIUM is None and os.environ.get("CI") != "true":
    pytest.skip("Debian's chromium is not installed (apt-get install chromium); CI installs it", allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, limit_s: float = 90) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the streamlit server exited during start-up"
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.25)  # polling a server that is starting; nothing asserted depends on this pause
    raise AssertionError(f"streamlit did not answer at {url} within {limit_s} s")


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("AEVIZ_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A fresh server: the first URL it sees is the test's deep link."""
    port = _free_port()
    runs_dir = tmp_path_factory.mktemp("runs")
    env = {**os.environ, "AEVIZ_RUNS": str(runs_dir), "AEVIZ_CACHE": str(tmp_path_factory.mktemp("cache")),
           "AEVIZ_GRACE_S": "1"}
    log = open(tmp_path_factory.mktemp("log") / "streamlit.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.headless", "true", "--server.address", "127.0.0.1",
                             "--server.disconnectedSessionTTL", "2"],  # a closed tab is released quickly
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url, runs_dir
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def page(browser):
    pg = browser.new_page(viewport={"width": 1440, "height": 1000})
    pg.set_default_timeout(60_000)
    return pg


def key(k: str) -> str:
    """CSS selector of the element Streamlit renders for widget/element key `k` (dots become dashes)."""
    return f".st-key-{k.replace('.', '-')}"


def chart_prints(pg, keys: list[str]) -> dict[str, str | None]:
    """Element key -> a fingerprint of that Plotly chart's title and data (None while it is not drawn)."""
    return pg.evaluate("""keys => Object.fromEntries(keys.map(k => {
        const el = document.querySelector('.st-key-' + k.replaceAll('.', '-') + ' .js-plotly-plot');
        if (!el || !el._fullData) return [k, null];  // _fullData: decoded arrays (data may hold base64 "bdata")
        const title = el.layout && el.layout.title ? JSON.stringify(el.layout.title.text || el.layout.title) : '';
        return [k, title + JSON.stringify(el._fullData.map(t => [t.x ? Array.from(t.x).slice(-50) : null,
                                                                 t.y ? Array.from(t.y).slice(-50) : null]))];
    }))""", keys)


def no_exception(pg) -> None:
    assert pg.locator('[data-testid="stException"]').count() == 0, pg.locator('[data-testid="stException"]').first.inner_text()


def test_deep_link_first_shows_the_page_and_the_shared_sidebar(page, server, shots):
    page.goto(f"{server[0]}/train")
    page.get_by_role("heading", name="Train").first.wait_for()
    sidebar = page.locator('[data-testid="stSidebar"]')
    for label in ("Start here", "Data", "Train", "Latent space", "Clusters", "Anomalies"):
        sidebar.get_by_text(label, exact=True).first.wait_for()
    assert "Data:" in sidebar.inner_text() and "mnist" in sidebar.inner_text()
    page.screenshot(path=str(shots / "01-train-deep-link.png"), full_page=True)
    no_exception(page)


def click_until(pg, k: str, done_selector: str, tries: int = 5) -> None:
    """Click the button with key `k` until `done_selector` is visible, as a person clicks again when a click is
    lost (the live view redraws every second, and a click can land on a button that is being replaced)."""
    target = pg.locator(done_selector).first
    for _ in range(tries):
        button = pg.locator(key(k)).locator("button").first
        if button.is_visible():
            button.click()
        try:
            target.wait_for(timeout=6_000)
            return
        except Exception:  # playwright's TimeoutError: try the click again
            continue
    target.wait_for(timeout=1_000)


def set_epochs(pg, n: int) -> None:
    """Type the number of epochs into the training settings (open in a fresh session; opened if closed)."""
    epochs = pg.locator(key("train.fit.epochs")).locator("input")
    try:
        epochs.wait_for(timeout=15_000)  # the page may still be drawing: do not toggle the expander too early
    except Exception:  # playwright's TimeoutError: the settings expander is closed
        pg.get_by_text("Settings: the model and its training").first.click()
    epochs.fill(str(n))
    epochs.press("Enter")
    pg.wait_for_function(f"() => document.querySelector('.st-key-train-fit-epochs input').value === '{n}'")


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


def test_closing_the_tab_stops_its_job_after_the_grace_period(browser, server):
    url, runs_dir = server
    before = {p.name for p in runs_dir.iterdir()}
    tab = browser.new_context().new_page()
    tab.set_default_timeout(60_000)
    tab.goto(f"{url}/train")
    set_epochs(tab, 500)
    tab.locator(key("train.start")).locator("button").first.click()
    tab.locator(key("train.live.pause")).wait_for()
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
