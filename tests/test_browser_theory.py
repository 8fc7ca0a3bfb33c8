"""The Theory lab in a real browser: the two vector fields are drawn once their models have trained (a progress bar
meanwhile), the share of arrows pointing at the data in each chart's title and how far they go under it; a link with
`?field.steps=10` draws the flow of random points onto the data; Cancel stops a training and a reload starts it
again. Screenshots at 1400x1000 and 1024x768 go to the shots folder."""

from __future__ import annotations

import re

import pytest

from tests.browser_kit import browser, key, no_exception, server, shots  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHARTS = ["theory.field.chart.denoising", "theory.field.chart.ae"]


def _titles(pg) -> list[str]:
    return pg.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
        .map(el => el.layout && el.layout.title ? (el.layout.title.text || '') : '')""")


def test_the_theory_lab_draws_both_fields_and_the_flow(browser, server, shots):  # noqa: F811
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    pg.set_default_timeout(120_000)
    pg.goto(f"{server[0]}/theory")
    pg.wait_for_function("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
        .filter(el => el.layout && String((el.layout.title || {}).text || '').includes('point to the data')).length == 2""")
    shares = [int(m.group(1)) for t in _titles(pg) if (m := re.search(r"(\d+)% point to the data", t))]
    assert len(shares) == 2 and all(0 <= s <= 100 for s in shares), _titles(pg)
    reach = [int(m.group(1)) for m in re.finditer(r"its arrows go (\d+)% of the way", pg.locator("body").inner_text())]
    assert len(reach) == 2 and reach[0] > 85 and reach[1] < 65, reach  # the DAE's all the way, the plain AE's half
    no_exception(pg)
    pg.screenshot(path=str(shots / "theory-field-1400.png"), full_page=True)

    pg.goto(f"{server[0]}/theory?field.steps=10")
    pg.get_by_text("After 10 steps the 60 points are on average").first.wait_for()
    caption = pg.get_by_text("After 10 steps the 60 points are on average").first.inner_text()
    now, was = map(float, re.findall(r"(\d\.\d{3})", caption)[:2])
    assert now < was / 2, caption
    pg.wait_for_function("""keys => keys.every(k => {  // both charts drawn with the paths: data, arrows, tracks, points
        const el = document.querySelector('.st-key-' + k.replaceAll('.', '-') + ' .js-plotly-plot');
        return el && el._fullData && el._fullData.length === 4; })""", arg=CHARTS)
    no_exception(pg)
    pg.set_viewport_size({"width": 1024, "height": 768})
    pg.screenshot(path=str(shots / "theory-field-1024.png"), full_page=True)

    # Another corruption trains a new pair: Cancel stops it and says so; a reload trains it again.
    pg.goto(f"{server[0]}/theory?field.noise=0.3")
    pg.locator(key("theory.field.cancel")).locator("button").click()
    pg.get_by_text("was cancelled after", exact=False).first.wait_for(timeout=15_000)
    assert pg.get_by_text("Reload the page to train them again").count() == 1
    pg.reload()
    pg.get_by_text("of the way there", exact=False).first.wait_for()
    no_exception(pg)
    pg.close()


def test_the_tangent_and_hashing_sections_draw_what_they_trained(browser, server, shots):  # noqa: F811
    """The section switch keeps the session: Contractive tangents draws four charts, each titled with its mean angle,
    the tied CAE's the smallest of the two CAEs'; Semantic hashing shows the query's three buckets with digits in
    them (16 bits by default) and the precision table."""
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    pg.set_default_timeout(120_000)
    pg.goto(f"{server[0]}/theory?section=Contractive+tangents")
    pg.wait_for_function("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
        .filter(el => String(((el.layout || {}).title || {}).text || '').includes('off the tangent')).length == 4""")
    angles = {m.group(1): int(m.group(2)) for t in _titles(pg)
              if (m := re.match(r"(?:<b>)*(.+?): (\d+)° off the tangent", t))}
    assert set(angles) == {"CAE (tied)", "CAE (untied)", "Plain AE", "DAE"}, _titles(pg)
    assert angles["CAE (tied)"] < angles["CAE (untied)"], angles  # measured 10 against 24
    no_exception(pg)
    pg.screenshot(path=str(shots / "theory-tangents-1400.png"))

    pg.locator(key("theory.section")).get_by_text("Semantic hashing").click()  # the same session; the URL follows
    pg.get_by_text("Distance 0:", exact=False).first.wait_for()
    assert "section=Semantic+hashing" in pg.url or "section=Semantic%20hashing" in pg.url, pg.url
    counts = [int(v) for v in pg.locator('[data-testid="stMetricValue"]').all_inner_texts()]
    assert len(counts) == 3 and counts[0] > 0, counts  # the default query's own address holds digits
    assert pg.locator('[data-testid="stImage"] img').count() >= 4  # the query and its three buckets
    no_exception(pg)
    pg.set_viewport_size({"width": 1024, "height": 768})
    pg.screenshot(path=str(shots / "theory-hashing-1024.png"))
    pg.close()
