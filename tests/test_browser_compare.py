"""Compare runs in a real browser: two runs on the same data opened from a link, a box selection in the first map
highlights the same samples in the second, and the page photographed at 1400x1000 and 1024x768."""

from __future__ import annotations

import pytest

from aeviz import runs
from aeviz.analysis.compare import HIGHLIGHT
from aeviz.data import load_dataset
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig
from tests.browser_kit import browser, key, no_exception, server, shots  # noqa: F401  (fixtures)
from tests.test_browser_present import layout_problems, photograph, photograph_at_both_sizes

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def saved(server):  # noqa: F811
    """Three small runs on the same 500 MNIST digits, saved in the server's runs folder (the admin's: listed to all)."""
    data = load_dataset("mnist", limit=500)
    made = []
    for title, latent in (("Wide code", 8), ("Two numbers", 2), ("Plain AE: the robustness baseline, sixteen", 16)):
        run = Run.create("ae", data.shape, "mnist", {"limit": 500}, TrainConfig(epochs=10, batch_size=32),
                         hidden=(64,), latent_dim=latent)
        run.title = title
        train(run, data)
        runs.save(run, server[1] / run.id)
        made.append(run)
    return made


def _highlighted(pg, chart: str) -> int:
    """How many points the chart's highlight trace holds (0 without one), read from Plotly's decoded data."""
    return pg.evaluate("""([k, name]) => {
        const gd = document.querySelector('.st-key-' + k.replaceAll('.', '-') + ' .js-plotly-plot');
        const t = gd && gd._fullData ? gd._fullData.find(t => t.name === name) : null;
        return t ? Array.from(t.x).length : 0;
    }""", [chart, HIGHLIGHT])


def _open(pg, url: str) -> None:
    pg.goto(url)
    pg.get_by_role("heading", name="Compare runs").first.wait_for()
    pg.wait_for_function("""() => document.querySelectorAll('[class*="st-key-compare-map"] .js-plotly-plot')
        .length === 2
        && [...document.querySelectorAll('.js-plotly-plot')].every(gd => gd._fullLayout)
        && document.querySelector('[data-testid="stApp"]').dataset.testScriptState === 'notRunning'""")
    pg.wait_for_timeout(500)  # Plotly sizes a new chart to its column once more after its first draw


def test_a_box_in_one_map_highlights_the_same_samples_in_the_other(browser, server, saved, shots):  # noqa: F811
    wide, two, _ = saved
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    pg.set_default_timeout(90_000)
    _open(pg, f"{server[0]}/compare?run={wide.id}&runs={wide.id},{two.id}")
    first, second = f"compare.map.0.{wide.id}", f"compare.map.1.{two.id}"
    assert _highlighted(pg, second) == 0
    pg.screenshot(path=str(shots / "c1-compare-1400.png"), full_page=True)
    count = _box(pg, first, (0.2, 0.2, 0.8, 0.8))
    assert count > 5
    _wait_highlighted(pg, second, count)
    assert _highlighted(pg, second) == count, "the same samples, all of them, in the other map"
    assert _highlighted(pg, first) == count, "and in the map it was made in"
    pg.wait_for_function("""() => [...document.querySelectorAll('.st-key-compare-grid img')]
        .filter(i => i.complete && i.naturalWidth > 0).length === 3""")  # inputs, then one row per run
    photograph_at_both_sizes(pg, shots, "compare-selected")
    no_exception(pg)

    pg.set_viewport_size({"width": 1400, "height": 1000})
    again = _box(pg, second, (0.05, 0.05, 0.5, 0.95), before=count)  # now the other way round
    _wait_highlighted(pg, first, again)
    assert _highlighted(pg, second) == again
    pg.locator(key("compare.clear")).locator("button").click()
    _wait_highlighted(pg, first, 0)
    _wait_highlighted(pg, second, 0)
    pg.wait_for_timeout(1500)
    assert _highlighted(pg, first) == _highlighted(pg, second) == 0, "cleared for good, not re-selected"
    assert pg.locator("text=points selected").count() == 0
    no_exception(pg)
    pg.close()


def _box(pg, chart: str, frac: tuple[float, float, float, float], before: int | None = None) -> int:
    """Drag the box tool over `frac` (x0, y0, x1, y1 of the plot area) in `chart`; the page's selected count."""
    el = pg.locator(key(chart))
    el.scroll_into_view_if_needed()
    el.hover()
    el.locator('.modebar-btn[data-val="select"]').first.click()
    box = el.locator(".nsewdrag").first.bounding_box()
    pg.mouse.move(box["x"] + frac[0] * box["width"], box["y"] + frac[1] * box["height"])
    pg.mouse.down()
    pg.mouse.move(box["x"] + frac[2] * box["width"], box["y"] + frac[3] * box["height"], steps=10)
    pg.mouse.up()
    line = pg.locator("text=points selected >> visible=true").first
    if before is not None:  # the count of the selection before this one may still be shown
        pg.wait_for_function("""n => [...document.querySelectorAll('strong')].some(
            e => e.textContent.endsWith('points selected') && e.textContent !== n + ' points selected')""",
                             arg=before)
    line.wait_for()
    return int(line.inner_text().split()[0].replace(",", ""))


def _wait_highlighted(pg, chart: str, n: int) -> None:
    pg.wait_for_function("""([k, name, n]) => {
        const gd = document.querySelector('.st-key-' + k.replaceAll('.', '-') + ' .js-plotly-plot');
        const t = gd && gd._fullData ? gd._fullData.find(t => t.name === name) : null;
        return gd && gd._fullData && (t ? Array.from(t.x).length : 0) === n;
    }""", arg=[chart, HIGHLIGHT, n])


def test_three_runs_fit_side_by_side_at_1024(browser, server, saved, shots):  # noqa: F811
    ids = ",".join(r.id for r in saved)
    pg = browser.new_page(viewport={"width": 1024, "height": 768})
    pg.set_default_timeout(90_000)
    pg.goto(f"{server[0]}/compare?run={saved[0].id}&runs={ids}")
    pg.get_by_role("heading", name="Compare runs").first.wait_for()
    pg.wait_for_function("""() => document.querySelectorAll('[class*="st-key-compare-map"] .js-plotly-plot')
        .length === 3
        && [...document.querySelectorAll('.js-plotly-plot')].every(gd => gd._fullLayout)
        && [...document.querySelectorAll('.st-key-compare-grid img')].filter(i => i.complete).length === 4""")
    pg.wait_for_timeout(1000)
    photograph(pg, shots, "compare-three-1024")
    assert layout_problems(pg) == []
    no_exception(pg)
    pg.close()
