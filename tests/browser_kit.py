"""What every browser test shares: Debian's chromium driven by Playwright, a fresh Streamlit server per test module,
the screenshot folder, and small helpers to find Streamlit elements and read Plotly charts.

`playwright install` cannot download here, so the browser is Debian's `chromium` (CI installs it in .ci/run);
elsewhere, without it, every browser module is skipped with the reason. Screenshots go to $AEVIZ_SCREENSHOTS (or a
temp folder) so a person can look at what the app showed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.server_kit import free_port, wait_healthy

CHROMIUM = shutil.which("chromium")
if CHROMIUM is None and os.environ.get("CI") != "true":
    pytest.skip("Debian's chromium is not installed (apt-get install chromium); CI installs it", allow_module_level=True)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("AEVIZ_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


SERVERS: dict[str, subprocess.Popen] = {}  # URL -> its server process, for tests that measure the server itself
LOGS: dict[str, Path] = {}  # URL -> its server's log, for a test's failure message


def low_priority(folder: Path) -> Path:
    """A launcher for Chromium at the lowest CPU priority: a session of its own (Linux groups CPU time by session,
    so nice alone does nothing against another session), given the lowest weight, every process in it at nice 19.
    On a test machine the room's browsers share the server's cores; in a classroom each runs on its own laptop."""
    wrapper = folder / "chromium-low-priority"
    wrapper.write_text("#!/bin/sh\nexec setsid sh -c 'echo 19 > /proc/self/autogroup 2>/dev/null; "
                       f"exec nice -n 19 \"$0\" \"$@\"' \"{CHROMIUM}\" \"$@\"\n")
    wrapper.chmod(0o755)
    return wrapper


@contextlib.contextmanager
def serve(runs_dir: Path, scratch: Path, grace_s: float = 1):
    """A Streamlit server of the app on a free port over `runs_dir`; yields its URL (its process: `SERVERS[url]`).
    `scratch`: cache and log. `grace_s`: how long the views stay cached once the last tab is closed (the app's
    default is 60 s; most tests want a room that empties at once)."""
    port = free_port()
    env = {**os.environ, "AEVIZ_RUNS": str(runs_dir), "AEVIZ_CACHE": str(scratch / "cache"), "AEVIZ_GRACE_S": str(grace_s),
           "AEVIZ_WARM_UP": "0"}  # no UMAP compile competing with the training speeds these tests measure
    log = open(scratch / "streamlit.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.headless", "true", "--server.address", "127.0.0.1",
                             "--server.disconnectedSessionTTL", "2"],  # a closed tab is released quickly
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    SERVERS[url], LOGS[url] = proc, scratch / "streamlit.log"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        SERVERS.pop(url, None)
        LOGS.pop(url, None)
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A fresh server: the first URL it sees is the test's deep link."""
    runs_dir = tmp_path_factory.mktemp("runs")
    with serve(runs_dir, tmp_path_factory.mktemp("scratch")) as url:
        yield url, runs_dir


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def browsers(tmp_path_factory):
    """(a room's Chromium at the lowest CPU priority (`low_priority`), a newcomer's at normal priority)."""
    from playwright.sync_api import sync_playwright

    wrapper = low_priority(tmp_path_factory.mktemp("bin"))
    with sync_playwright() as p:
        low = p.chromium.launch(executable_path=str(wrapper), args=CHROMIUM_ARGS)
        normal = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield low, normal
        low.close()
        normal.close()


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




READY_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const state = app ? app.getAttribute('data-test-script-state') : null;
    const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
    return state === 'notRunning' && document.querySelector('[data-testid="stMain"] h1') !== null
        && !document.querySelector('[data-testid="stSpinner"]') && charts.every(c => c.querySelector('.main-svg'));
}"""


def render_s(pg, url: str, limit_s: float = 300) -> float:
    """Seconds from opening `url` (a new session) until its script has run to the end, with no spinner, and every
    Plotly chart on it drawn, held for 0.5 s (a page that reruns itself is not done yet)."""
    start = time.monotonic()
    pg.goto(url)
    ready = None
    while time.monotonic() - start < limit_s:
        if pg.evaluate(READY_JS):
            ready = ready or time.monotonic()
            if time.monotonic() - ready >= 0.5:
                return ready - start
        else:
            ready = None
        pg.wait_for_timeout(50)
    raise AssertionError(f"{url} was not drawn within {limit_s:.0f} s")
