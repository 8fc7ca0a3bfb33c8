"""Starting a server for a test, shared by the browser tests (`tests/browser_kit.py`), the server-fault tests and the
wheel check (`.ci/check_wheel.py`, which runs outside pytest): a free port, and waiting until Streamlit answers."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request


class NotHealthy(AssertionError):
    """The server exited, or did not answer, while it was starting (an AssertionError: pytest reports it as a
    failed check)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, limit_s: float = 90) -> None:
    """Until `url`'s Streamlit health check answers "ok"; NotHealthy if `proc` exits first or `limit_s` passes."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise NotHealthy(f"the server exited during start-up ({proc.returncode})")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.25)  # polling a server that is starting; nothing asserted depends on this pause
    raise NotHealthy(f"the server did not answer at {url} within {limit_s} s")
