"""`aeviz export RUN_DIR --what WHAT --out FILE`: a figure of a saved run for slides (see `aeviz.export`).

Split from `aeviz.cli`, which registers it with `add_export(sub)`. Bad input (no run, a suffix the export cannot be
written as, a run without a replay) raises InputError: `aeviz.cli.main` prints it on one line and exits 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aeviz import export, runs
from aeviz.data import load_dataset


def cmd_export(args: argparse.Namespace) -> int:
    run = runs.load(args.run_dir)
    export.check_target(args.what, Path(args.out))  # a wrong suffix gets its line before the data is loaded
    data = load_dataset(run.data_source, **run.data_params)
    runs.check_data_shape(run, data.shape)
    path = export.export(run, data, args.what, Path(args.out))
    print(f"{args.what} of {run.id} (epoch {run.epoch}) -> {path} ({path.stat().st_size:,} bytes)", file=sys.stderr)
    print(path)
    return 0


def add_export(sub: argparse._SubParsersAction) -> None:
    """The `export` subcommand, for `aeviz.cli.build_parser`."""
    choices = ", ".join(f"{name} ({'/'.join(e.formats)}: {e.help})" for name, e in export.EXPORTS.items())
    x = sub.add_parser("export", help="draw a figure of a saved run for slides (PNG, SVG or an animated GIF)")
    x.add_argument("run_dir", metavar="RUN_DIR", help="a saved run folder (`aeviz runs` lists them)")
    x.add_argument("--what", required=True, choices=list(export.EXPORTS), metavar="WHAT",
                   help=f"one of: {choices}")
    x.add_argument("--out", required=True, metavar="FILE", help="the file to write; its suffix picks the format")
    x.set_defaults(fn=cmd_export)
