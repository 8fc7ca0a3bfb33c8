"""`aeviz screen RUN_DIR --drop 5% --out clean.npz`: drop the samples a run reconstructs worst and save the rest.

Split from `aeviz.cli`, which registers it with `add_screen(sub)`. The run's data is loaded again from the run's own
`data_source` / `data_params`, and every sample of it (train and validation) is scored by the run's model; the
choice and the file are `aeviz.analysis.screening`'s. Bad input raises InputError: one line on stderr, exit 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from aeviz import runs
from aeviz.data import load_dataset


def cmd_screen(args: argparse.Namespace) -> int:
    # imported here: `analysis.anomaly` loads scikit-learn, which `aeviz train` never needs
    from aeviz.analysis import anomaly, screening

    fraction = screening.parse_drop(args.drop)  # flags first: a typo costs no model load
    out = Path(args.out)
    screening.check_out(out, args.force)
    run = runs.load(args.run_dir)
    data = load_dataset(run.data_source, **run.data_params)
    runs.check_data_shape(run, data.shape)
    with run.lock:
        errors = anomaly.errors(run.model, data.x)  # (N,) per-sample MSE over train + validation
    result = screening.screen(errors, fraction=fraction)
    kept = result.kept
    y = None if data.y is None else data.y[kept]
    screening.write_npz(out, screening.npz_bytes(data.x[kept], y, kept))
    per_class = screening.most_dropped(data.y, result.dropped, data.classes)
    cutoff = "nothing dropped" if result.cutoff is None else f"dropped errors >= {result.cutoff:.4g}"
    print(f"kept {len(kept):,} of {len(errors):,} samples of {data.name} ({cutoff}"
          + (f"; dropped most: {per_class}" if per_class else "") + f") -> {out}")
    return 0


def add_screen(sub: argparse._SubParsersAction) -> None:
    """The `screen` subcommand, for `aeviz.cli.build_parser`."""
    s = sub.add_parser("screen", help="drop the worst-reconstructed samples of a run's data; save the rest as .npz")
    s.add_argument("run_dir", metavar="RUN_DIR", help="a saved run folder (`aeviz runs` lists them)")
    s.add_argument("--drop", required=True, metavar="P",
                   help="the share of all samples (train + validation) to drop, worst first: 5%% or 5 (percent)")
    s.add_argument("--out", required=True, metavar="FILE.npz",
                   help="the screened data: x, y (with labels) and kept (row indices into the run's data)")
    s.add_argument("--force", action="store_true", help="replace --out if it exists")
    s.set_defaults(fn=cmd_screen)
