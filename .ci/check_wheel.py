"""CI: aeviz works as a user installs it, from a wheel, outside the checkout.

Builds the wheel, installs it into a fresh virtual environment in a temp folder, and from another folder runs
`aeviz --version`, a one-epoch `aeviz train` on part of the bundled MNIST, `aeviz evaluate`, and `aeviz app`, whose
every page (with the trained run, from the installed package's own app files) must render in Chromium without an
exception box and with the app's own settings (the built-in page list hidden).

The fresh environment sees this interpreter's packages through a .pth line (the README's install command has just
put them there, torch pin included), so nothing is downloaded twice. Python runs no .pth file of a folder added that
way, so this checkout's editable install stays out: the script checks that `aeviz` there is the wheel's.
Run after the test command: `python .ci/check_wheel.py` (about a minute on 2 cores).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for the checkout's tests/server_kit.py (the tests start their servers with it too)
from tests.server_kit import NotHealthy, free_port, wait_healthy  # noqa: E402
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]


TIMES: dict[str, float] = {}  # step -> seconds, printed on one line at the end (pytest's summary stays near the end)


def step(name: str, cmd: list[str], **kw) -> str:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)
    TIMES[name] = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"ci wheel: {name} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


def install(tmp: Path) -> tuple[Path, Path]:
    """The wheel, built from the checkout and installed into a new venv; returns (the venv's bin folder, wheel)."""
    step("build the wheel", [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(ROOT)])
    wheel = next((tmp / "dist").glob("aeviz-*.whl"))
    venv = tmp / "venv"
    step("create a fresh venv", [sys.executable, "-m", "venv", str(venv)])
    bin_dir = venv / "bin"
    site = Path(step("find its site-packages", [str(bin_dir / "python"), "-c",
                                                "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())
    ours = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    (site / "_aeviz_ci_deps.pth").write_text("".join(f"{p}\n" for p in sorted(ours)))
    step("install the wheel", [str(bin_dir / "pip"), "install", "-q", "--no-deps", str(wheel)], cwd=tmp)
    return bin_dir, wheel


# Drawn: an exception box, or the page's 'Try this' hint with no script running for 1.5 s (Streamlit shows its
# status widget only a moment after a run starts; pages whose fragments poll run again later, we look between runs).
DRAWN = """() => {
    const now = performance.now();
    if (document.querySelector('[data-testid="stException"]')) return true;
    window.aevizBusy ??= now;
    if (document.querySelector('[data-testid="stStatusWidget"]') || !document.body.innerText.includes('Try this')) {
        window.aevizBusy = now;
        return false;
    }
    return now - window.aevizBusy > 1500;
}"""


def check_pages(url: str, paths: list[str], shots: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(60_000)
        for path in paths:
            start = time.perf_counter()
            page.goto(url + path)
            page.wait_for_function(DRAWN)
            page.screenshot(path=str(shots / f"{path.strip('/').split('?')[0] or 'home'}.png"))
            boxes = page.locator('[data-testid="stException"]')
            if boxes.count():
                sys.exit(f"ci wheel: {path} shows an exception: {boxes.first.inner_text()[:2000]}")
            if page.locator('[data-testid="stSidebarNav"]').count():
                sys.exit(f"ci wheel: {path} shows Streamlit's own page list: .streamlit/config.toml was not applied")
            TIMES[path.split("?")[0]] = time.perf_counter() - start
        browser.close()


def main() -> None:
    started = time.perf_counter()
    os.environ.pop("PYTHONPATH", None)  # a user's shell points at no clone (nor would the venv's pip skip the wheel)
    tmp = Path(tempfile.mkdtemp(prefix="aeviz-wheel-"))
    bin_dir, wheel = install(tmp)
    size_mb = wheel.stat().st_size / 1e6
    work = tmp / "elsewhere"  # not the checkout: nothing may come from the current folder
    (work / "runs").mkdir(parents=True)
    env = {**os.environ, "AEVIZ_CACHE": str(tmp / "cache"), "AEVIZ_RUNS": str(work / "runs"), "AEVIZ_WARM_UP": "0"}
    aeviz = str(bin_dir / "aeviz")
    where = step("import aeviz in the venv", [str(bin_dir / "python"), "-c", "import aeviz.bundle as b; "
                 "print(b.__file__); print(b.APP_DIR); print(' '.join(sorted(p.stem for p in b.PAGES.glob('*.py'))))"],
                 cwd=work, env=env).splitlines()
    if not where[0].startswith(str(tmp)) or not where[1].startswith(str(tmp)):
        sys.exit(f"ci wheel: the venv imports aeviz from {where[0]} and its app from {where[1]}, not the wheel")
    version = wheel.name.split("-")[1]
    said = step("aeviz --version", [aeviz, "--version"], cwd=work, env=env).strip()
    if said != f"aeviz {version}":
        sys.exit(f"ci wheel: `aeviz --version` printed {said!r}, expected 'aeviz {version}'")
    step("aeviz train", [aeviz, "train", "--epochs", "1", "--data-param", "limit=1000", "--hidden", "64",
                         "--latent-dim", "8", "--out", "runs/r"], cwd=work, env=env)
    scores = json.loads(step("aeviz evaluate", [aeviz, "evaluate", "runs/r"], cwd=work, env=env))
    assert scores["mse"] > 0, scores
    port = free_port()
    log = open(tmp / "app.log", "w")
    server = subprocess.Popen([aeviz, "app", "--admin-token", "ci-wheel-token", "--server.port", str(port),
                               "--server.address", "127.0.0.1", "--server.headless", "true"],
                              cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        start = time.perf_counter()
        try:
            wait_healthy(url, server)
        except NotHealthy as exc:
            sys.exit(f"ci wheel: `aeviz app`: {exc}")
        TIMES["aeviz app healthy"] = time.perf_counter() - start
        run_id = scores["run"]
        check_pages(url, [f"/?run={run_id}"] + [f"/{name}?run={run_id}" for name in where[2].split()], tmp)
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # `aeviz app` and the streamlit server it started
        server.wait(timeout=30)
        log.close()
        if sys.exc_info()[0] is not None:  # failing: keep the folder (screenshots, app.log) and show the log's end
            print((tmp / "app.log").read_text()[-3000:] + f"\n(screenshots and app.log in {tmp})", file=sys.stderr)
    shutil.rmtree(tmp, ignore_errors=True)
    pages = len(where[2].split()) + 1
    print(f"ci wheel: {wheel.name} ({size_mb:.1f} MB) in a fresh venv: --version, train, evaluate "
          f"and {pages} pages of `aeviz app` work ({time.perf_counter() - started:.0f} s; "
          + ", ".join(f"{k} {v:.1f}" for k, v in TIMES.items()) + ")", flush=True)


if __name__ == "__main__":
    main()
