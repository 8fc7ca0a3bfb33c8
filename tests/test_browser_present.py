"""Presenter mode and small screens in a real browser: computed font sizes, `?hide=`, and every page at 1024x768.

The server, browser and screenshot folder are `tests/test_browser.py`'s fixtures (one server per module). Each page
is photographed at 1024x768, fresh and in presenter mode, top to bottom, into the shots folder ($AEVIZ_SCREENSHOTS)
for a person to look at; the checks below are the parts a script can see: nothing wider than the window, no label
cut off with "...", chart titles inside their charts and clear of the toolbar and legend, and the live view's
progress, loss and latent map on one screen.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from aeviz.ui.layout import NAV
from tests.browser_kit import (browser, key, no_exception, server, set_epochs,  # noqa: F401 (fixtures)
                                shots)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SCREEN = {"width": 1024, "height": 768}
PATHS = ["" if script == "app.py" else Path(script).stem for script, _, _ in NAV]  # URL path of every page


@pytest.fixture(scope="module")
def small(browser):  # noqa: F811 (the fixture imported above)
    """One 1024x768 tab for the whole module: its session keeps the run trained on the Train page."""
    pg = browser.new_page(viewport=SCREEN)
    pg.set_default_timeout(60_000)
    return pg


def open_page(pg, url: str) -> None:
    pg.goto(url)
    pg.locator("h1").first.wait_for()
    settle(pg)


def settle(pg) -> None:
    """Wait until the page is drawn: the script ended, no placeholders left, charts and images loaded."""
    pg.wait_for_function("""() => {
        const app = document.querySelector('[data-testid="stApp"]');
        return app && app.dataset.testScriptState === 'notRunning'
            && !document.querySelector('[data-testid="stSkeleton"]')
            && [...document.querySelectorAll('.js-plotly-plot')].every(gd => gd._fullLayout)
            && [...document.querySelectorAll('[data-testid="stMain"] img')].every(i => i.complete);
    }""")
    pg.wait_for_timeout(500)  # Plotly sizes a new chart to its column once more after its first draw


def font_sizes(pg, selector: str) -> list[float]:
    """Computed font sizes (px) of the visible elements matching `selector` that hold text."""
    return pg.evaluate("""sel => [...document.querySelectorAll(sel)]
        .filter(e => e.getClientRects().length && e.textContent.trim())
        .map(e => parseFloat(getComputedStyle(e).fontSize))""", selector)


PARAGRAPH = '[data-testid="stMarkdownContainer"] > p'  # markdown text: not captions, widget labels or metrics
BODY_TEXT = f'[data-testid="stMain"] {PARAGRAPH}'
CHART_TEXT = ".js-plotly-plot .main-svg text"


def photograph(pg, shots: Path, name: str) -> None:  # noqa: F811
    """Screens of the page from top to bottom, as a person scrolls it (the main area scrolls, not the window)."""
    main = '[data-testid="stMain"]'
    height, view = pg.evaluate(f"() => [document.querySelector('{main}').scrollHeight, "
                               f"document.querySelector('{main}').clientHeight]")
    for i in range(min(8, -(-(height - 100) // (view - 100)))):
        pg.evaluate(f"() => document.querySelector('{main}').scrollTop = {i * (view - 100)}")
        pg.screenshot(path=str(shots / f"small-{name}-{i}.png"))
    pg.evaluate(f"() => document.querySelector('{main}').scrollTop = 0")


SIZES = ({"width": 1400, "height": 1000}, {"width": 1024, "height": 768})  # a laptop, a projector


def photograph_at_both_sizes(pg, shots: Path, name: str) -> None:
    """Screens of the page at a laptop's and a projector's size, each with no layout problem."""
    for size in SIZES:
        pg.set_viewport_size(size)
        pg.wait_for_timeout(1000)  # Plotly resizes its charts to the new columns
        photograph(pg, shots, f"{name}-{size['width']}")
        assert layout_problems(pg) == [], size


def layout_problems(pg) -> list[str]:
    """What a script can see of a cut-off or covered page: content wider than the window, a formula wider than its
    column, text shortened with an ellipsis (an input's own value aside), a chart title wider than its chart or
    under Plotly's toolbar or the legend."""
    return pg.evaluate("""() => {
        const out = [], main = document.querySelector('[data-testid="stMain"]');
        const box = e => { const b = e.getBoundingClientRect();
                            return [b.left, b.top, b.right, b.bottom].map(Math.round); };
        const meet = (a, b) => a[2] > b[0] && a[0] < b[2] && a[3] > b[1] && a[1] < b[3];
        if (main.scrollWidth > main.clientWidth + 1)
            out.push(`page ${main.scrollWidth} px wide in ${main.clientWidth}`);
        for (const e of main.querySelectorAll('.katex-display'))
            if (e.scrollWidth > e.clientWidth + 1 || box(e)[2] > box(e.closest('.stMarkdown'))[2] + 1)
                out.push(`formula ${e.scrollWidth} px wide in ${e.clientWidth}`);
        for (const e of main.querySelectorAll('p, span, div, label'))
            if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).textOverflow === 'ellipsis'
                && !e.closest('[data-baseweb="select"], [data-testid="stDataFrame"]'))
                out.push(`cut off: ${e.textContent.slice(0, 60)}`);
        for (const gd of main.querySelectorAll('.js-plotly-plot')) {
            const title = gd.querySelector('.gtitle');
            if (!title) continue;
            const name = title.textContent, t = box(title), g = box(gd);
            if (t[0] < g[0] - 1 || t[2] > g[2] + 1) out.push(`the title ${name} is wider than its chart`);
            for (const [what, sel] of [['toolbar', '.modebar'], ['legend', '.legend .bg']]) {
                const other = gd.querySelector(sel);
                if (other && meet(t, box(other))) out.push(`the ${what} covers the title ${name}`);
            }
        }
        return out;
    }""")


def report(problems: dict[str, list[str]]) -> str:
    return "at 1024x768:\n" + "\n".join(f"  {page}: {p}" for page, found in problems.items() for p in found)


def test_presenter_mode_text_is_projector_sized(small, server, shots):  # noqa: F811
    open_page(small, f"{server[0]}/data?present=1")
    small.locator(key("data.bars")).locator(CHART_TEXT).first.wait_for()
    body, chart = font_sizes(small, BODY_TEXT), font_sizes(small, f"{key('data.bars')} {CHART_TEXT}")
    assert body and min(body) >= 20, body
    assert chart and min(chart) >= 16, chart
    assert small.locator('[data-testid="stSidebar"]').get_attribute("data-collapsed") == "true"
    notes = small.locator(key("explain")).locator("summary").first
    assert "Try this" not in small.locator(key("explain")).inner_text()  # folded
    notes.click()
    small.get_by_text("Try this:").first.wait_for()
    concept = font_sizes(small, f"{key('explain')} {PARAGRAPH}")
    assert concept and min(concept) >= 20, concept
    photograph(small, shots, "present-data")
    no_exception(small)


def test_a_lesson_link_hides_the_parts_it_names(small, server):  # noqa: F811
    open_page(small, f"{server[0]}/data?hide=explanations,toolbar")
    small.locator(key("data.bars")).locator(CHART_TEXT).first.wait_for()
    assert small.locator(key("explain")).count() == 0
    assert small.get_by_text("Try this:").count() == 0
    small.locator(key("data.bars")).hover()
    assert not small.locator(".modebar-container").first.is_visible()
    open_page(small, f"{server[0]}/train?hide=settings,runs")
    assert small.locator(key("train.start")).is_visible()
    assert not small.locator(key("train.settings")).is_visible() and not small.locator(key("train.runs")).is_visible()
    open_page(small, f"{server[0]}/data?hide=<script>window.hit=1</script>,sidebar&present=yes%00")
    note = small.get_by_text("Ignored in the link").first
    note.wait_for()
    assert "<script>" in note.inner_text() and small.evaluate("() => window.hit") is None
    assert not small.locator('[data-testid="stSidebar"]').is_visible()
    no_exception(small)


@pytest.mark.parametrize("query", ["", "?present=1"])
def test_every_page_fits_1024x768_before_any_run(small, server, shots, query):  # noqa: F811
    walk_every_page(small, shots, lambda path: f"{server[0]}/{path}{query}", "present" if query else "fresh")


def walk_every_page(pg, shots, url_of, prefix: str) -> None:
    """Open every page, photograph it, and check nothing is cut off, covered or wider than the window."""
    problems = {}
    for path in PATHS:
        open_page(pg, url_of(path))
        problems[path or "home"] = layout_problems(pg)
        photograph(pg, shots, f"{prefix}-{path or 'home'}")
        no_exception(pg)
    assert not any(problems.values()), report(problems)


@pytest.fixture(scope="module")
def live_run(small, server) -> str:  # noqa: F811
    """Start a long run on the Train page and return its id once its live charts are drawn (it trains in its own
    process, fast: it must still be running when both live-view tests look; the next test stops it)."""
    open_page(small, f"{server[0]}/train?model=ae")  # quick epochs: the MLP, not the image default
    set_epochs(small, 500)
    small.locator(key("train.start")).locator("button").first.click()
    for k in ("train.live.loss", "train.live.latent"):
        small.locator(key(k)).locator(".js-plotly-plot").first.wait_for()
    return parse_qs(urlparse(small.url).query)["run"][0]


@pytest.mark.parametrize("query", ["", "&present=1"])
def test_live_view_shows_progress_loss_and_latent_map_together(small, server, live_run, shots, query):  # noqa: F811
    """Progress, loss and latent map fit in one screen, whatever is above them."""
    if query:
        open_page(small, f"{server[0]}/train?run={live_run}{query}")
    charts = [small.locator(key(k)).locator(".js-plotly-plot").first for k in ("train.live.loss", "train.live.latent")]
    parts = [small.locator('[data-testid="stProgress"]').first, *charts]
    for attempt in range(3):  # the live view redraws every second: a measure taken mid-redraw is taken again
        for part in parts:
            part.wait_for()
        parts[0].scroll_into_view_if_needed()
        boxes = [p.bounding_box() for p in parts]
        if None in boxes:
            problems = ["a part of the live view was being redrawn"]
        else:
            top, bottom = min(b["y"] for b in boxes), max(b["y"] + b["height"] for b in boxes)
            problems = layout_problems(small) + ([f"the live view needs {bottom - top:.0f} px of height"]
                                                 if bottom - top > SCREEN["height"] else [])
        if not problems:
            break
        small.wait_for_timeout(1500)
    photograph(small, shots, f"live{'-present' if query else ''}")
    assert problems == [], report({"train": problems})


@pytest.mark.parametrize("query", ["", "&present=1"])
def test_every_page_fits_1024x768_with_a_run(small, server, shots, live_run, query):  # noqa: F811
    open_page(small, f"{server[0]}/train?run={live_run}")
    stop = small.locator(key("train.live.stop")).locator("button").first
    if stop.is_visible():
        stop.click()
    small.get_by_text("Continue training").first.wait_for(timeout=180_000)  # the run has ended
    walk_every_page(small, shots, lambda path: f"{server[0]}/{path}?run={live_run}{query}",
                    f"run{'-present' if query else ''}")
