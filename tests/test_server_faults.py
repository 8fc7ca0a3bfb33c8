"""Faults around a running app. An uploads cache that cannot be written: one error line, the data in use stays.
Ctrl+C on `aeviz app` while a visitor's run trains: the terminal's SIGINT reaches the whole process group (the
CLI, the Streamlit server and the training child). The child leaves it to the server, the server stops the job
between two steps and saves it, and everything exits without a C++ abort or a traceback.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.browser_kit import LOGS, SERVERS, serve
from tests.server_kit import free_port, wait_healthy
from tests.room_kit import ScriptedVisitor

pytestmark = pytest.mark.slow


def _children(pid: int) -> list[int]:
    """Every live descendant of `pid` (from /proc)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        kids = [p for p, parent in parents.items() if parent in frontier]
        found += kids
        frontier = kids
    return found


def _history(runs_dir) -> list:
    for path in runs_dir.glob("*/history.json"):
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):  # caught mid-save
            return []
    return []


def test_ctrl_c_stops_training_jobs_cleanly_and_keeps_their_epochs(tmp_path):
    port, runs_dir = free_port(), tmp_path / "runs"
    env = {**os.environ, "AEVIZ_RUNS": str(runs_dir), "AEVIZ_CACHE": str(tmp_path / "cache"), "AEVIZ_WARM_UP": "0"}
    app = subprocess.Popen([sys.executable, "-m", "aeviz.cli", "app", "--server.port", str(port),
                            "--server.headless", "true", "--server.address", "127.0.0.1"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, app)
        visitor = ScriptedVisitor(url)
        visitor.open("data")
        buf = io.BytesIO()
        np.save(buf, np.random.default_rng(0).random((2000, 16)).astype(np.float32))
        visitor.upload("data.upload", "room.npy", buf.getvalue())
        assert not visitor.press("data.use_upload").exceptions
        visitor.open("train")
        visitor.set("train.fit.epochs", 1000)  # far more than it gets to
        assert not visitor.press("train.start").exceptions
        deadline = time.monotonic() + 120
        while len(_history(runs_dir)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)  # polling the trainer's saves; nothing asserted depends on the pause
        seen = len(_history(runs_dir))
        assert seen >= 2, "the run did not get two epochs in"
        training = _children(app.pid)
        os.killpg(app.pid, signal.SIGINT)  # what Ctrl+C in the terminal does
        output = app.communicate(timeout=90)[0].decode(errors="replace")
    finally:
        if app.poll() is None:
            os.killpg(app.pid, signal.SIGKILL)
    assert "terminate called" not in output and "Traceback" not in output, output[-3000:]
    assert app.returncode in (0, 130, -signal.SIGINT), output[-2000:]
    config = json.loads(next(runs_dir.glob("*/config.json")).read_text())
    assert config["status"] == "stopped", config
    assert "shut down" in config.get("message", ""), config
    assert config["epoch"] >= seen and len(_history(runs_dir)) == config["epoch"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and [p for p in training if os.path.exists(f"/proc/{p}")]:
        time.sleep(0.2)  # a child may take a moment to notice its parent is gone
    left = {p: open(f"/proc/{p}/cmdline").read().replace("\0", " ") for p in training if os.path.exists(f"/proc/{p}")}
    assert not left, f"outlived the server: {left}"


def test_an_unwritable_uploads_cache_is_one_error_line_and_the_data_in_use_stays(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "cache").write_text("a file where the cache folder should be")  # mkdir inside it fails
    with serve(tmp_path / "runs", scratch) as url:
        visitor = ScriptedVisitor(url)
        visitor.open("data")
        visitor.upload("data.upload", "mine.npy", io.BytesIO(np.zeros((50, 4), np.float32).tobytes()).getvalue())
        page = visitor.press("data.use_upload")
        visitor.close()
    assert not page.exceptions, page.exceptions
    assert len(page.errors()) == 1 and "Could not keep mine.npy in" in page.errors()[0], page.errors()
    assert "AEVIZ_CACHE" in page.errors()[0]
    assert "Current dataset: mnist" in page.text()


def test_a_closed_tabs_session_and_its_upload_leave_the_servers_memory(tmp_path):
    """Streamlit keeps a closed tab's session for its reconnect window (2 s on the test server), then drops it only
    when another session is stored: the last visitor's 40 MB upload would stay in memory for good. aeviz ends such
    sessions when their window closes (`aeviz/ui/sessions.py`) and the server gives the memory back."""
    with serve(tmp_path / "runs", tmp_path) as url:
        pid = SERVERS[url].pid
        visitor = ScriptedVisitor(url)
        visitor.open("data")
        before = _rss_mb(pid)
        buf = io.BytesIO()
        np.save(buf, np.random.default_rng(0).random((10_000, 1000), dtype=np.float32))  # 40 MB
        visitor.upload("data.upload", "big.npy", buf.getvalue())
        page = visitor.refresh()
        assert not page.exceptions, page.exceptions
        held = _rss_mb(pid)
        visitor.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _rss_mb(pid) > before + 10:
            time.sleep(0.5)  # polling the server's memory; the assertion is on the level it reaches
        after = _rss_mb(pid)
        # The upload's memory is gone the moment its session is emptied, a moment before the line saying so is
        # written (mmap'd buffers return at once): read the log until it has the line, or the deadline passes.
        while time.monotonic() < deadline and "closed tabs' sessions" not in LOGS[url].read_text():
            time.sleep(0.2)
        log = LOGS[url].read_text()
    assert held > before + 35, f"the upload did not reach the server ({before:.0f} -> {held:.0f} MB)"
    assert after < before + 10, f"{before:.0f} MB, {held:.0f} MB with the upload, {after:.0f} MB after the tab closed: {log[-1500:]}"
    assert "ended 1 closed tabs' sessions" in log, log[-2000:]


def _rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status").read().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")
