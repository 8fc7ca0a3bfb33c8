"""Workshop behaviour in a real browser: a reload during training shows the running job at once; a link copied on
the latent page opens the same projection and colouring in another browser; that browser cannot stop the run."""

from __future__ import annotations

import time

import pytest

from tests.browser_kit import browser, chart_prints, key, no_exception, server, shots  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def teacher(browser):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000},
                              permissions=["clipboard-read", "clipboard-write"])
    page = ctx.new_page()
    page.set_default_timeout(90_000)
    yield page
    ctx.close()


def _run_in_url(page) -> str | None:
    return page.evaluate("new URLSearchParams(location.search).get('run')")


def test_a_reload_during_training_shows_the_running_job(teacher, server, shots):  # noqa: F811
    url, runs_dir = server
    teacher.goto(f"{url}/train?model=ae&fit.epochs=300&ae.hidden=64&title=Reload%20demo")  # still training after the reload
    teacher.get_by_role("button", name="Start training").first.click()
    teacher.locator(key("train.live.pause")).first.wait_for()
    teacher.locator(key("train.live.loss")).locator(".js-plotly-plot").first.wait_for()  # it has begun training
    run_id = _run_in_url(teacher)
    assert run_id and run_id.startswith("ae-")
    teacher.reload()
    teacher.locator(key("train.live.pause")).first.wait_for(timeout=30_000)  # its controls, at once
    teacher.locator(key("train.live.loss")).locator(".js-plotly-plot").first.wait_for()
    assert _run_in_url(teacher) == run_id
    assert teacher.locator(key("train.start")).locator("button").first.is_disabled(), "no second job by accident"
    assert "Reload demo" in teacher.locator('[data-testid="stSidebar"]').inner_text()
    teacher.screenshot(path=str(shots / "w1-after-reload.png"), full_page=True)
    no_exception(teacher)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not (runs_dir / run_id / "config.json").is_file():
        teacher.wait_for_timeout(500)  # its first epoch is being trained and saved
    teacher.locator(key("train.live.stop")).locator("button").first.click()
    teacher.get_by_text("Stopped by the user").first.wait_for(timeout=120_000)


def test_a_copied_latent_link_opens_the_same_view_elsewhere(teacher, server, browser, shots):  # noqa: F811
    url, _ = server
    run_id = _run_in_url(teacher)
    teacher.locator('[data-testid="stSidebar"]').get_by_text("Latent space", exact=True).click()
    teacher.get_by_role("heading", name="Latent space").first.wait_for()
    teacher.locator(key("latent.colour")).click()
    teacher.get_by_role("option", name="reconstruction error").click()
    try:  # each change reaches the URL before the next one is made, as a person waits for the page to redraw
        teacher.wait_for_function("() => new URLSearchParams(location.search).get('colour') === 'reconstruction error'")
        teacher.locator(key("latent.split")).get_by_text("training", exact=False).click()
        teacher.wait_for_function("() => new URLSearchParams(location.search).get('split') === 'train'")
    finally:
        teacher.screenshot(path=str(shots / "w2-teacher-latent.png"), full_page=True)
    chart = "latent.chart.pca"
    teacher.locator(key(chart)).locator(".js-plotly-plot").first.wait_for()
    teacher.wait_for_timeout(1500)  # let the redrawn chart settle before fingerprinting it
    teacher.locator("button.aeviz-copy").first.click()
    teacher.get_by_text("Link copied").first.wait_for()
    link = teacher.evaluate("navigator.clipboard.readText()")
    assert f"run={run_id}" in link and "colour=reconstruction+error" in link and "split=train" in link
    mine = chart_prints(teacher, [chart])[chart]

    student = browser.new_context(viewport={"width": 1024, "height": 768})  # another browser: no cookie, no state
    page = student.new_page()
    page.set_default_timeout(90_000)
    page.goto(link)
    page.locator(key(chart)).locator(".js-plotly-plot").first.wait_for()
    page.wait_for_timeout(1500)
    assert chart_prints(page, [chart])[chart] == mine, "the same projection, points and colouring"
    assert "read-only for you" in page.locator('[data-testid="stSidebar"]').inner_text()
    page.screenshot(path=str(shots / "w2-student-latent.png"), full_page=True)
    no_exception(page)
    page.goto(f"{url}/train?run={run_id}")
    page.get_by_text("Continue as my copy").first.wait_for()
    assert page.locator(key("train.runs.delete")).count() == 0, "a teacher's run cannot be deleted by a student"
    student.close()
