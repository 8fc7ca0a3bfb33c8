"""The workshop commands: `aeviz pack` (a folder of ready runs) and `aeviz app` (serve a runs folder, with an admin).

Split from `aeviz.cli` along the line between working with one run (train, evaluate) and serving a room. Bad input
raises InputError: `aeviz.cli.main` prints it on one line and exits 2.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from tqdm import tqdm

from aeviz import bundle, catalog, embedding, pack
from aeviz.errors import InputError


def cmd_pack(args: argparse.Namespace) -> int:
    pack.check_out_dir(Path(args.out_dir), list(pack.PACK))  # a bad OUT_DIR gets its one line before any bar
    bar = tqdm(total=len(pack.PACK), unit="run", file=sys.stderr, dynamic_ncols=True)
    start = time.perf_counter()

    def show(event: pack.PackEvent) -> None:
        if event.kind == "start":
            bar.set_description(event.slug)
        elif event.kind == "epoch":
            bar.set_postfix_str(f"epoch {event.epoch}/{event.epochs}")
        else:
            took = " (already there)" if event.status == "kept" else f" in {event.seconds:.0f}s"
            mse = f"val_mse {event.val_mse:.5f}" if event.val_mse is not None else "no val_mse"
            bar.write(f"{event.spec.title}: {event.status}{took}, {mse} -> {event.path}", file=sys.stderr)
            bar.update(1)

    try:
        done = pack.make_pack(args.out_dir, quick=args.quick, on_event=show)
    except KeyboardInterrupt:
        print("interrupted: finished runs are kept; run the same command again to resume", file=sys.stderr)
        return 130
    finally:
        bar.close()
    print(f"{len(done)} runs in {args.out_dir} ({time.perf_counter() - start:.0f}s); open them with "
          f"aeviz app --runs {args.out_dir}", file=sys.stderr)
    return 0 if all(e.status in ("trained", "kept") for e in done) else 1


def cmd_app(args: argparse.Namespace) -> int:
    app = bundle.APP
    if not app.is_file():
        raise InputError(f"{app} is missing: this aeviz was installed without its app; reinstall it "
                         "from its wheel, or with pip install . in a clone.")
    runs_dir = Path(args.runs or os.environ.get("AEVIZ_RUNS", "runs")).resolve()
    if runs_dir.exists() and not runs_dir.is_dir():
        raise InputError(f"--runs {runs_dir} is a file; give a folder of runs (it is created if missing).")
    token = admin_token(args.admin_token)
    port = next((a.split("=", 1)[1] for a in args.streamlit_args if a.startswith("--server.port=")), None)
    if "--server.port" in args.streamlit_args[:-1]:
        port = args.streamlit_args[args.streamlit_args.index("--server.port") + 1]
    print(f"aeviz: runs in {runs_dir}; admin link (keep it to yourself): "
          f"http://localhost:{port or 8501}/?admin={token}", file=sys.stderr)
    # UMAP's compile starts now, not at the first page: by a visitor's first UMAP it is cached (or well on its way).
    warm = embedding.start_warm_up_process()
    # Streamlit reads .streamlit/config.toml from its working folder: start it beside app.py.
    env = {**os.environ, "AEVIZ_RUNS": str(runs_dir), "AEVIZ_ADMIN_TOKEN": token,
           **({"AEVIZ_WARM_UP": "0"} if warm is not None else {})}
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(app), *args.streamlit_args],
                              cwd=app.parent, env=env)
    previous = signal.signal(signal.SIGTERM, lambda *_: server.terminate())  # a service manager's stop: pass it on
    try:
        while True:
            try:
                return server.wait()
            except KeyboardInterrupt:  # Ctrl+C reached the server too (same terminal): wait for it to shut down
                continue
    finally:
        signal.signal(signal.SIGTERM, previous)
        if warm is not None and warm.poll() is None:
            warm.kill()


def admin_token(given: str | None) -> str:
    """--admin-token, else $AEVIZ_ADMIN_TOKEN, else one kept in the cache folder (the same link after a restart)."""
    from aeviz.loaders.download import cache_dir

    token = given or os.environ.get("AEVIZ_ADMIN_TOKEN")
    if token is None:
        path = cache_dir() / "admin-token"
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(18))
            path.chmod(0o600)
        token = path.read_text().strip()
    if not catalog.ADMIN_TOKEN.fullmatch(token):
        raise InputError("--admin-token must be 8 to 128 letters, digits or - _ . ~ (it goes into a link).")
    return token
