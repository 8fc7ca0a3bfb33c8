"""The latent page in a real browser: a run's inputs drawn at their points (all 2,000 of the validation split; a grid's
subset of the 10,000 of both splits), one class highlighted over the rest, the time each took to draw, and the page
photographed at 1400x1000 and 1024x768."""

from __future__ import annotations

import time

import numpy as np
import pytest

from aeviz import plots_thumbs, runs
from aeviz.data import load_dataset
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig
from tests.browser_kit import browser, key, no_exception, server, shots  # noqa: F401  (fixtures)
from tests.test_browser_present import layout_problems, photograph, photograph_at_both_sizes

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHART = "latent.chart.pca"


@pytest.fixture(scope="module")
def saved(server):  # noqa: F811
    """A small run on the bundled 10,000 MNIST digits, saved in the server's runs folder (the admin's: listed to all)."""
    data = load_dataset("mnist")
    run = Run.create("ae", data.shape, "mnist", {}, TrainConfig(epochs=1, batch_size=128), hidden=(64,),
                     latent_dim=8)
    train(run, data)
    runs.save(run, server[1] / run.id)
    return run, data


def _images(pg) -> int:
    """How many layout images the latent chart draws (Plotly puts them in its layer above the plot)."""
    return pg.evaluate("""k => {
        const gd = document.querySelector('.st-key-' + k.replaceAll('.', '-') + ' .js-plotly-plot');
        return gd ? gd.querySelectorAll('.layer-above .imagelayer image').length : -1;
    }""", CHART)


def _open(pg, url: str, images: int) -> None:
    """Open `url` and wait until the chart draws `images` thumbnails and the script is done."""
    pg.goto(url)
    _wait_images(pg, images)


def _wait_images(pg, images: int) -> None:
    pg.wait_for_function("""([k, n]) => {
        const gd = document.querySelector('.st-key-' + k.replaceAll('.', '-') + ' .js-plotly-plot');
        return gd && gd._fullLayout && gd.querySelectorAll('.layer-above .imagelayer image').length === n
            && document.querySelector('[data-testid="stApp"]').dataset.testScriptState === 'notRunning';
    }""", arg=[CHART, images])
    pg.wait_for_timeout(500)  # Plotly sizes a new chart to its column once more after its first draw


def _highlight(pg, label: str, count: int) -> None:
    """Pick one class in the Classes box and wait for the count line."""
    pg.locator(key("latent.find.labels")).locator("input").click()
    pg.get_by_role("option", name=label, exact=True).click()
    pg.keyboard.press("Escape")
    pg.get_by_text(f"{count:,} points highlighted").wait_for()


def test_thumbnails_and_a_highlighted_class(browser, server, saved, shots):  # noqa: F811
    run, data = saved
    y = data.split("val")[1]
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    pg.set_default_timeout(120_000)
    _open(pg, f"{server[0]}/latent?run={run.id}", 0)
    start = time.perf_counter()
    pg.locator(key("latent.thumbs")).get_by_text("Images at their points").click()  # turn them on
    _wait_images(pg, len(y))
    print(f"\n2,000 thumbnails drawn {time.perf_counter() - start:.1f} s after the toggle was turned on")
    assert _images(pg) == 2000
    assert pg.get_by_text("each point shows its input's image", exact=False).count() == 1
    photograph(pg, shots, "latent-thumbs-1400")
    no_exception(pg)

    # the images do not stop a click: in zoom mode, click the rightmost point (alone at the map's edge)
    el = pg.locator(key(CHART))
    el.hover()
    el.locator('.modebar-btn[data-val="zoom"]').first.click()
    row, px, py = pg.evaluate("""k => {
        const gd = document.querySelector('.st-key-' + k.replaceAll('.', '-') + ' .js-plotly-plot');
        const t = gd._fullData[0], xs = Array.from(t.x), ys = Array.from(t.y);
        const i = xs.indexOf(Math.max(...xs)), xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        const box = gd.getBoundingClientRect();
        return [i, box.left + xa._offset + xa.l2p(xs[i]), box.top + ya._offset + ya.l2p(ys[i])];
    }""", CHART)
    pg.mouse.click(px, py)
    pg.get_by_text(f"#{row} rebuilt").wait_for()
    assert pg.get_by_text(f"#{row} input").count() == 1
    photograph(pg, shots, "latent-clicked-1400")

    n = int((y == 3).sum())
    _highlight(pg, "3", n)
    pg.wait_for_function("""([k, n]) => {
        const gd = document.querySelector('.st-key-' + k.replaceAll('.', '-') + ' .js-plotly-plot');
        const t = gd && gd._fullData ? gd._fullData.find(t => t.name === 'selected') : null;
        return t && Array.from(t.x).length === n;
    }""", arg=[CHART, n])
    assert _images(pg) == 2000, "every image stays; the other classes' faint"
    photograph_at_both_sizes(pg, shots, "latent-highlight")
    no_exception(pg)
    pg.close()


def test_ten_thousand_points_draw_a_grid_of_them(browser, server, saved, shots):  # noqa: F811
    run, data = saved
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    pg.set_default_timeout(120_000)
    _open(pg, f"{server[0]}/latent?run={run.id}&split=all", 0)
    start = time.perf_counter()
    pg.locator(key("latent.thumbs")).get_by_text("Images at their points").click()
    pg.wait_for_function("""k => {
        const gd = document.querySelector('.st-key-' + k.replaceAll('.', '-') + ' .js-plotly-plot');
        return gd && gd._fullLayout && gd.querySelectorAll('.layer-above .imagelayer image').length > 0
            && document.querySelector('[data-testid="stApp"]').dataset.testScriptState === 'notRunning';
    }""", arg=CHART)
    print(f"\n10,000 points: thumbnails drawn {time.perf_counter() - start:.1f} s after the toggle was turned on")
    pg.wait_for_timeout(500)
    drawn = _images(pg)
    assert 100 < drawn <= np.prod(plots_thumbs.GRID)
    assert pg.get_by_text(f"the images of {drawn:,} of the 10,000 points are drawn", exact=False).count() == 1
    photograph(pg, shots, "latent-thumbs-10000-1400")
    _highlight(pg, "3", int((data.split("all")[1] == 3).sum()))
    pg.wait_for_timeout(1000)
    photograph(pg, shots, "latent-highlight-10000-1400")
    assert layout_problems(pg) == []
    no_exception(pg)
    pg.close()


def _progress(pg) -> tuple[float, str] | None:
    """The projection's progress bar: (its value 0..100, its text), or None while there is none."""
    return pg.evaluate("""() => {
        const bar = document.querySelector('[data-testid="stProgress"] [role="progressbar"]');
        if (!bar) return null;
        const text = bar.closest('[data-testid="stProgress"]').innerText;
        return [parseFloat(bar.getAttribute('aria-valuenow') || '0'), text];
    }""")


def test_a_umap_request_shows_moving_progress_and_can_be_cancelled(browser, server, saved, shots):  # noqa: F811
    """UMAP of all 10,000 codes on a server whose numba cache is empty (its warm-up is off in tests): the PCA map
    stays on screen while the bar moves through UMAP's stages and epochs; Cancel ends it within seconds, says so,
    and keeps the PCA map."""
    run, _ = saved
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    pg.set_default_timeout(180_000)
    pg.goto(f"{server[0]}/latent?run={run.id}&split=all&method=umap")
    pg.get_by_text("PCA, shown until UMAP is ready", exact=False).first.wait_for()
    seen: list[tuple[float, str]] = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:  # polling the bar as a person would watch it, until UMAP's epochs move
        now = _progress(pg)
        if now and (not seen or now != seen[-1]):
            seen.append(now)
        epochs = [v for v, text in seen if "epoch" in text]
        if len(epochs) >= 2 and epochs[-1] > epochs[0]:
            break
        pg.wait_for_timeout(100)
    values = [v for v, _ in seen]
    assert len({text.split(":")[1].split("·")[0].strip() for _, text in seen}) >= 2, f"one stage only: {seen}"
    assert values == sorted(values) and values[-1] > values[0], f"the bar did not move forward: {seen}"
    assert any("epoch" in text for _, text in seen), seen
    photograph(pg, shots, "latent-umap-progress-1400")
    started = time.monotonic()
    pg.locator(key("latent.cancel")).locator("button").click()
    pg.get_by_text("UMAP of 10,000 points was cancelled", exact=False).first.wait_for(timeout=15_000)
    cancelled_s = time.monotonic() - started
    pg.get_by_text("PCA, shown because UMAP was cancelled", exact=False).first.wait_for(timeout=15_000)  # the map's title
    assert pg.get_by_role("button", name="Run UMAP again").count() == 1
    assert _progress(pg) is None
    photograph(pg, shots, "latent-umap-cancelled-1400")
    print(f"\nUMAP progress seen: {[f'{v:.0f}% {t}' for v, t in seen]}; cancelled on screen after {cancelled_s:.1f} s")
    no_exception(pg)
    pg.close()
