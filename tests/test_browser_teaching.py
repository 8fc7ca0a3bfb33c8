"""Teaching tools in a real browser: stepping a paused run moves its step counter by one and redraws its codes, slow
motion redraws the codes within an epoch (at full speed they change once an epoch), a live learning-rate change is
marked on the loss chart, and the seven lessons walked on a (quick) workshop pack all turn green and stay green
after a reload."""

from __future__ import annotations

import re

import pytest

from aeviz import pack
from aeviz.lessons import LESSONS
from tests.browser_kit import browser, chart_prints, key, no_exception, serve, server, shots  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]
LATENT, LOSS = "train.live.latent", "train.live.loss"


@pytest.fixture(scope="module")
def teacher(browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(90_000)
    yield page
    page.close()


def _progress(page) -> tuple[int, int, int]:
    """(epoch, step, steps per epoch) from 'epoch 3/300 · step 40/63 · ...'."""
    text = page.locator('[data-testid="stProgress"]').first.inner_text()
    epoch, step, steps = re.search(r"epoch (\d+)/\d+ · step (\d+)/(\d+)", text).groups()
    return int(epoch), int(step), int(steps)


def _done(page) -> int:
    epoch, step, steps = _progress(page)
    return (epoch - 1) * steps + step


def _wait_done(page, target: int, timeout: float = 30_000) -> None:
    page.wait_for_function("""target => {
        const el = document.querySelector('[data-testid="stProgress"]');
        const m = el && el.innerText.match(/epoch (\\d+)\\/\\d+ · step (\\d+)\\/(\\d+)/);
        return m && (m[1] - 1) * m[3] + Number(m[2]) === target;
    }""", arg=target, timeout=timeout)


def _step_once(page, target: int) -> None:
    """Click "Step 1 batch" and wait for the counter to reach `target`; a click lost while the live panel redrew
    (the counter has not moved at all) is clicked again, as a person would."""
    for _ in range(3):
        page.get_by_role("button", name="Step 1 batch").click()
        try:
            _wait_done(page, target, timeout=8_000)
            return
        except Exception:  # playwright's TimeoutError
            assert _done(page) == target - 1, f"one click moved the counter to {_done(page)}, not {target}"
    _wait_done(page, target)


def test_stepping_a_paused_run_moves_the_counter_by_one_and_redraws_the_codes(teacher, server, shots):  # noqa: F811
    url, _ = server
    teacher.goto(f"{url}/train?model=ae&fit.epochs=300&ae.hidden=64")
    teacher.get_by_role("button", name="Start training").first.click()
    teacher.locator(key(LOSS)).locator(".js-plotly-plot").first.wait_for()
    teacher.locator(key("train.live.pause")).locator("button").first.click()
    teacher.get_by_role("button", name="Step 1 batch").wait_for()
    teacher.locator(key("train.live.status")).get_by_text("paused").wait_for()
    teacher.wait_for_function("() => !document.querySelector('.st-key-train-live-step_batch button').disabled")
    teacher.locator(key(LATENT)).locator(".js-plotly-plot").first.wait_for()
    before, codes = _done(teacher), chart_prints(teacher, [LATENT])[LATENT]
    for n in (1, 2):
        _step_once(teacher, before + n)  # exactly one step per click
    teacher.wait_for_function("""() => {
        const el = document.querySelector('.st-key-train-live-latent .js-plotly-plot');
        return el && el.layout && JSON.stringify(el.layout.title).includes('step');
    }""")
    assert chart_prints(teacher, [LATENT])[LATENT] != codes, "the codes are redrawn after a step"
    teacher.screenshot(path=str(shots / "t1-stepped.png"), full_page=True)
    no_exception(teacher)


def test_a_live_lr_change_is_marked_on_the_loss_chart(teacher, shots):
    teacher.get_by_role("button", name="Change live").click()
    teacher.locator(key("train.live.knob.lr")).locator("input").fill("0.01")
    teacher.get_by_role("button", name="Apply from the next step").click()
    teacher.get_by_text("lr 0.002 → 0.01 from the next step").first.wait_for()
    teacher.keyboard.press("Escape")
    teacher.get_by_role("button", name="Step 1 batch").click()  # paused: the change applies with this step
    teacher.wait_for_function("""() => {
        const el = document.querySelector('.st-key-train-live-loss .js-plotly-plot');
        return el && el.layout && (el.layout.annotations || []).some(a => /lr 0.002 → 0.01 \\(epoch \\d+, step \\d+\\)/.test(a.text));
    }""", timeout=30_000)
    teacher.screenshot(path=str(shots / "t2-lr-mark.png"), full_page=True)


def test_slow_motion_redraws_the_codes_within_an_epoch(teacher, shots):
    teacher.locator('[class*="st-key-train-live-speed"]').get_by_text("1/64").click()
    teacher.locator(key("train.live.resume")).locator("button").first.click()
    teacher.locator(key("train.live.status")).get_by_text("training").wait_for()
    seen, titles = set(), set()
    for _ in range(40):  # a person watching for a few seconds
        teacher.wait_for_timeout(400)
        prints = chart_prints(teacher, [LATENT])[LATENT]
        title = teacher.evaluate("() => JSON.stringify(document.querySelector("
                                 "'.st-key-train-live-latent .js-plotly-plot').layout.title)")
        seen.add(prints)
        titles.add(title)
        if len({t for t in titles if "step" in t}) >= 3:
            break
    mid_epoch = {t for t in titles if "step" in t}
    assert len(mid_epoch) >= 3 and len(seen) >= 3, titles  # codes at 3+ moments inside epochs, not once an epoch
    teacher.screenshot(path=str(shots / "t3-slow-motion.png"), full_page=True)
    teacher.locator(key("train.live.stop")).locator("button").first.click()
    teacher.get_by_text("Stopped by the user").first.wait_for(timeout=120_000)
    no_exception(teacher)


@pytest.fixture(scope="module")
def pack_server(lesson_pack, tmp_path_factory):
    with serve(lesson_pack, tmp_path_factory.mktemp("scratch")) as url:  # the session's --quick lesson runs
        yield url


@pytest.mark.parametrize("size", [(1400, 1000), (1024, 768)])
def test_the_seven_lessons_turn_green_on_the_pack_and_stay_green(browser, pack_server, shots, size):  # noqa: F811
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    page.set_default_timeout(120_000)
    verdicts = "[data-testid='stAlertContentSuccess'], [data-testid='stAlertContentWarning']"
    for n, lesson in enumerate(LESSONS, start=1):
        page.goto(f"{pack_server}/lessons?lesson={n}")
        page.get_by_role("heading", name=lesson.title).wait_for()
        title = pack.PACK[lesson.pack].title
        button = page.locator(key(f"lessons.open.{lesson.slug}")).get_by_role("button")
        if button.is_enabled():
            button.click()
        # The verdict about this run: while the page reruns, the previous run's verdict may still be on screen.
        verdict = page.locator(verdicts).filter(has_text=f"on “{title}”").last
        verdict.wait_for()
        verdict = verdict.inner_text()
        assert "The effect is there" in verdict, (lesson.slug, verdict)
        links = page.locator("[data-testid='stPageLink'] a").evaluate_all("els => els.map(e => e.href)")
        looks = [h for h in links if "/lessons" not in h and f"run=" in h]
        assert len(looks) >= len(lesson.looks), links  # every look opens with this run
        page.screenshot(path=str(shots / f"lesson{n}-{size[0]}.png"), full_page=True)
        no_exception(page)
    page.reload()
    page.get_by_text("7 of 7 checks green in this browser").wait_for()
    page.close()
