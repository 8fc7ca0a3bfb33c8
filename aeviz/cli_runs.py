"""`aeviz runs [DIR]`: the runs saved under a folder, the good ones and each broken one marked with its reason.

Split from `aeviz.cli`, which registers it with `add_runs(sub)`. Listing first recovers or removes what a killed save
left behind (`aeviz.run_folders`); what it did is printed as `note:` lines on stderr by `aeviz.cli.main`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from aeviz import catalog
from aeviz.errors import InputError


def cmd_runs(args: argparse.Namespace) -> int:
    folder = Path(args.dir or os.environ.get("AEVIZ_RUNS") or "runs")
    if not folder.is_dir():
        if args.dir is None and not folder.exists():
            print(f"no runs yet: {folder} does not exist (train one with `aeviz train` or in the app)",
                  file=sys.stderr)
            return 0
        raise InputError(f"{folder} is not a folder; give the folder that holds your runs (the app's is $AEVIZ_RUNS, "
                         "else ./runs).")
    rows = catalog.list_runs(folder)
    if not rows:
        print(f"no runs in {folder}", file=sys.stderr)
    for row in rows:  # the good runs, and each broken one marked with its reason
        desc = f"BROKEN: {catalog.reason(row)}" if row["error"] else (
            f"{row['model']} on {row['dataset']}, epoch {row['epoch']}, {row['status']}")
        print(f"{row['path']}  {desc}")
    return 0


def add_runs(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("runs", help="list the runs saved under a folder")
    r.add_argument("dir", nargs="?", default=None, help="default: $AEVIZ_RUNS, else ./runs (where the app saves)")
    r.set_defaults(fn=cmd_runs)
