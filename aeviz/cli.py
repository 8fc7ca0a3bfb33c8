"""The `aeviz` command line: train, pack, evaluate, export, screen, list datasets/models/runs, start the app.

A contract scripts and teachers rely on: bad input of any kind prints one line on stderr and exits 2, never a
traceback. `train` saves the run folder after every epoch, so an interrupted run keeps its last finished epoch.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
from pathlib import Path
from typing import Any, NoReturn, Sequence

from tqdm import tqdm

from aeviz import bundle, memory, noise, run_folders, runs
from aeviz.cli_export import add_export
from aeviz.cli_runs import add_runs
from aeviz.cli_screen import add_screen
from aeviz.cli_workshop import cmd_app, cmd_pack
from aeviz.config import build_config, fields_of, offered, parse_value, to_dict
from aeviz.data import DATASETS, load_dataset
from aeviz.defaults import IMAGE_TRAIN, default_model, overcomplete_note, suggested
from aeviz.errors import InputError
from aeviz.evaluation import evaluate
from aeviz.models import MODELS, model_class
from aeviz.training import Control, EndEvent, EpochEvent, StepEvent, check_trainable, fit
from aeviz.training_config import TrainConfig


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not usage + error
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _key_values(pairs: Sequence[str], flag: str) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"{flag} {pair!r} must look like KEY=VALUE, e.g. {flag} beta=4.")
        out[key.strip().replace("-", "_")] = value
    return out


def _typed(cls: type, raw: dict[str, str]) -> dict[str, Any]:
    """Parse KEY=VALUE strings by the config's field types; unknown keys are refused by name."""
    specs = {f.name: f for f in fields_of(cls)}
    unknown = sorted(set(raw) - set(specs))
    if unknown:
        raise InputError(f"{cls.__name__} has no parameter {unknown[0]!r}. Its parameters are {sorted(specs)}.")
    return {k: parse_value(cls.__name__, specs[k], v) for k, v in raw.items()}


def _guess(value: str) -> Any:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def _model_params(args: argparse.Namespace) -> dict[str, Any]:
    cls = model_class(args.model).Config
    raw = _key_values(args.set, "--set")
    if args.latent_dim is not None:
        raw["latent_dim"] = str(args.latent_dim)
    if args.hidden is not None:
        raw["hidden"] = args.hidden
    if args.loss is not None:
        raw["loss"] = args.loss
    if args.noise is not None:
        if "noise" not in {f.name for f in fields_of(cls)}:
            raise InputError(f"--noise trains on corrupted inputs, which is the 'denoising' model; "
                             f"use --model denoising (got --model {args.model}).")
        raw["noise"], raw["noise_level"] = (str(p) for p in noise.parse(args.noise))
    train_names = {f.name for f in fields_of(TrainConfig)}
    model_raw = {k: v for k, v in raw.items() if k not in train_names}
    return _typed(cls, model_raw)


def _train_config(args: argparse.Namespace, base: TrainConfig | None) -> TrainConfig:
    values = to_dict(base) if base else {}
    for name in ("epochs", "batch_size", "lr", "device", "seed"):
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    train_names = {f.name for f in fields_of(TrainConfig)}
    values.update(_typed(TrainConfig, {k: v for k, v in _key_values(args.set, "--set").items() if k in train_names}))
    return build_config(TrainConfig, values)


# A resumed run keeps its data and its model (the saved weights have that shape): flags that would change them are
# refused, not ignored. Training settings (--lr, --batch-size, --set lr=...) may change.
# Their parser defaults are None (or []), so "given" is simply "not None".
MODEL_FLAGS = ("data", "data_param", "model", "latent_dim", "hidden", "loss", "noise")
DEFAULT_DATA = "mnist"


def _refuse_with_resume(args: argparse.Namespace) -> None:
    changed = [name for name in MODEL_FLAGS if getattr(args, name) not in (None, [])]
    model_sets = set(_key_values(args.set, "--set")) - {f.name for f in fields_of(TrainConfig)}
    if changed or model_sets:
        flag = f"--{changed[0].replace('_', '-')}" if changed else f"--set {sorted(model_sets)[0]}=..."
        raise InputError(f"{flag} cannot change a resumed run: it keeps the data and model it was trained with. "
                         "Drop it, or train a new run with another --out.")


def cmd_train(args: argparse.Namespace) -> int:
    out = Path(args.out)
    data_params = {k: _guess(v) for k, v in _key_values(args.data_param, "--data-param").items()}
    if args.resume:
        _refuse_with_resume(args)
        run = runs.load(out)
        if args.epochs is not None and args.epochs < 1:
            raise InputError(f"--epochs with --resume is the number of extra epochs, at least 1. Got {args.epochs}.")
        more = args.epochs or run.train_config.epochs
        until = run.epoch + more
        args.epochs = until  # the run's target grows with it, so "epoch 25 of 20" never shows
        run.train_config = _train_config(args, run.train_config)
        data = load_dataset(run.data_source, **run.data_params)
        runs.check_data_shape(run, data.shape)
    else:
        args.data = args.data or DEFAULT_DATA
        run_folders.tidy(out)  # a run hidden by a save killed between its renames comes back: never train over it
        if (out / "config.json").exists():
            raise InputError(f"{out} already holds a run; pick another --out, or add --resume to train it further.")
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise InputError(f"{out} exists and is not an empty folder; --out needs a new or empty folder.")
        _check_writable(out)
        data = load_dataset(args.data, **data_params)
        args.model = args.model or default_model(data)
        fit_data = suggested(args.model, data)  # knobs that fit this data, where no flag gave one
        run = runs.Run.create(args.model, data.shape, data.source, data.params,
                              _train_config(args, build_config(TrainConfig, fit_data.train)),
                              **{**fit_data.model, **_model_params(args)})
        until = run.train_config.epochs
    for name, limit in (("title", runs.MAX_TITLE), ("note", runs.MAX_NOTE)):
        if getattr(args, name) is not None:
            setattr(run, name, runs.text_field(vars(args), name, limit))
    for note in data.notes:
        print(f"note: {note}", file=sys.stderr)
    values = math.prod(data.shape)
    if run.model.config.latent_dim >= values:
        print(f"warning: {overcomplete_note(run.model.config.latent_dim, values).replace('*', '')}", file=sys.stderr)
    return _train_loop(run, data, out, until)


def _check_writable(out: Path) -> None:
    """Before training, not after the first epoch: --out's folder must be one we can create and write in."""
    parent = next((p for p in (out, *out.parents) if p.exists()), Path("."))
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"--out {out}: cannot write in {parent}; pick a folder you can write to.")


def _train_loop(run: runs.Run, data, out: Path, until: int) -> int:
    check_trainable(data)
    print(f"training {run.model_name} on {data.name} ({len(data.train_idx)} train / {len(data.val_idx)} val, "
          f"shape {data.shape}) for epochs {run.epoch + 1}..{until} -> {out}", file=sys.stderr)
    control = Control()
    bar = None
    end = None
    try:
        for event in fit(run, data, control, until):
            if isinstance(event, StepEvent):
                if bar is None or bar.desc != f"epoch {event.epoch}":
                    bar = _new_bar(bar, event)
                bar.n = event.step
                bar.set_postfix(loss=f"{event.losses['loss']:.4g}", rate=f"{event.samples_per_s:,.0f}/s")
            elif isinstance(event, EpochEvent):
                runs.save(run, out)
                m = event.metrics
                line = (f"epoch {event.epoch}/{until}  loss {m['train_loss']:.4g}  val_loss {m['val_loss']:.4g}  "
                        f"val_mse {m['val_mse']:.5f}  val_psnr {m['val_psnr']:.2f} dB  "
                        f"{m['samples_per_s']:,.0f} samples/s" + (f"  [{event.note}]" if event.note else ""))
                (bar.write if bar else print)(line, file=sys.stderr)
            elif isinstance(event, EndEvent):
                end = event
    except KeyboardInterrupt:
        control.stop()
        print("interrupted: the run keeps its last finished epoch", file=sys.stderr)
        return 130
    finally:
        if bar is not None:
            bar.close()
    assert end is not None
    runs.save(run, out)
    print(f"{end.status}: {end.message} Saved to {out}", file=sys.stderr)
    return 0 if end.status == "finished" else 1


def _new_bar(old: tqdm | None, event: StepEvent) -> tqdm:
    if old is not None:
        old.n = old.total
        old.close()
    return tqdm(total=event.steps, desc=f"epoch {event.epoch}", unit="step", file=sys.stderr, leave=False,
                dynamic_ncols=True, mininterval=0.5)


def cmd_evaluate(args: argparse.Namespace) -> int:
    run = runs.load(args.run_dir)
    train_data = load_dataset(run.data_source, **run.data_params)
    runs.check_data_shape(run, train_data.shape)
    if args.data:
        eval_data = load_dataset(args.data)
        if tuple(eval_data.shape) != tuple(run.input_shape):
            raise InputError(f"--data {args.data} has shape {eval_data.shape}, but the run was trained on "
                             f"{run.input_shape}; evaluate it on data of the same shape.")
        x, y = eval_data.x, eval_data.y
    else:
        eval_data = train_data
        x, y = train_data.split("val")
    noise_spec = noise.parse(args.noise) if args.noise else None
    train_x, _ = train_data.split("train")
    result = {"run": run.id, "model": run.model_name, "epoch": run.epoch, "data": eval_data.source,
              "split": "all" if args.data else "val"}
    result.update(evaluate(run.model, train_x, x, y, noise_spec, seed=run.train_config.seed))
    print(json.dumps(result))
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    for name, spec in DATASETS.items():
        print(f"{name:14s} {spec.kind:9s} {spec.description}")
        for p in getattr(spec, "params", ()):
            print(f"{'':24s}{p.name}={p.default!r}  {p.help}")
    print("\nOr give a path: .npy, .npz, .csv, .zip of images, or an image folder.")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    for name, cls in MODELS.items():
        print(f"{name:12s} {cls.summary}  ({cls.paper})")
        for f in offered(cls.Config):
            bounds = f" choices {list(f.choices)}" if f.choices else (
                f" [{f.min:g}, {f.max:g}]" if f.min is not None and f.max is not None else "")
            bounds += f", at most {f.max_len}" if f.max_len else ""
            print(f"{'':14s}{f.name}={to_cli(f.default)}{bounds}  {f.help}")
    return 0


def to_cli(value: Any) -> str:
    return ",".join(str(v) for v in value) if isinstance(value, tuple) else str(value)


TRAIN_DEFAULTS = TrainConfig()


def _budget_flag(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--memory-budget", metavar="SIZE", help="the most memory a model, dataset or training run may "
                     f"take, e.g. 2GB (default ${memory.BUDGET_ENV}, else half of the memory available)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="aeviz", description="An interactive laboratory for autoencoders.")
    parser.add_argument("--version", action="version", version=f"aeviz {bundle.version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    t = sub.add_parser("train", help="train a model and save the run folder")
    t.add_argument("--data", help=f"dataset name (see `aeviz datasets`) or a file/folder path (default {DEFAULT_DATA})")
    t.add_argument("--data-param", action="append", default=[], metavar="KEY=VALUE", help="dataset parameter")
    t.add_argument("--model", help="model name (see `aeviz models`; default conv for images, ae for other data)")
    t.add_argument("--latent-dim", type=int, help="size of the code z (default 32; less for small images and "
                   "toy data, see `aeviz.defaults`)")
    t.add_argument("--hidden", help="hidden widths, e.g. 512,128")
    t.add_argument("--epochs", type=int, help="passes over the training split "
                   f"(default {TRAIN_DEFAULTS.epochs}; with --resume: how many more)")
    t.add_argument("--batch-size", type=int, help=f"samples per step (default {TRAIN_DEFAULTS.batch_size}; "
                   f"{IMAGE_TRAIN['batch_size']} for the conv model on images)")
    t.add_argument("--lr", type=float, help=f"Adam learning rate (default {TRAIN_DEFAULTS.lr:g})")
    t.add_argument("--loss", choices=["mse", "bce"], help="reconstruction loss (default: the model's)")
    t.add_argument("--noise", metavar="KIND:LEVEL", help="training corruption of the denoising model")
    t.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="default auto: CUDA, then MPS, then CPU")
    t.add_argument("--seed", type=int,
                   help=f"seed of the weights, split order and noise (default {TRAIN_DEFAULTS.seed})")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any model/training parameter")
    t.add_argument("--out", required=True, metavar="RUN_DIR")
    t.add_argument("--resume", action="store_true", help="train the run in --out for --epochs more epochs")
    t.add_argument("--title", help="a short name for the run, shown in pickers and lists")
    t.add_argument("--note", help="one line: what to show with the run")
    _budget_flag(t)
    t.set_defaults(fn=cmd_train)
    e = sub.add_parser("evaluate", help="print one JSON object of scores")
    e.add_argument("run_dir")
    e.add_argument("--data", help="evaluate on every sample of this dataset instead of the validation split")
    e.add_argument("--noise", metavar="KIND:LEVEL")
    e.set_defaults(fn=cmd_evaluate)
    k = sub.add_parser("pack", help="train the workshop's set of runs (every variant, toy manifolds) into a folder")
    k.add_argument("out_dir", metavar="OUT_DIR", help="new folder, or one holding a pack to resume")
    k.add_argument("--quick", action="store_true", help="fewer epochs and less data: about a minute in all")
    _budget_flag(k)
    k.set_defaults(fn=cmd_pack)
    add_export(sub)
    add_screen(sub)
    sub.add_parser("datasets", help="list datasets and their parameters").set_defaults(fn=cmd_datasets)
    sub.add_parser("models", help="list models and their parameters").set_defaults(fn=cmd_models)
    add_runs(sub)
    a = sub.add_parser("app", help="start the Streamlit app (other options go to streamlit, e.g. --server.port 8502)")
    a.add_argument("--runs", metavar="DIR", help="the folder of runs to serve and save into (default $AEVIZ_RUNS, "
                   "else ./runs); runs in it without an owner (a pack) are read-only to visitors")
    a.add_argument("--admin-token", metavar="TOKEN", help="who holds it (open any page with ?admin=TOKEN) may "
                   "change every run (default $AEVIZ_ADMIN_TOKEN, else a token kept in the cache folder)")
    _budget_flag(a)
    a.set_defaults(fn=cmd_app)
    return parser


class _Notes(logging.Handler):
    """aeviz's own notices (a run recovered from an interrupted save) on stderr, one line each."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"note: {record.getMessage()}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    notes = logging.getLogger("aeviz")
    if not any(isinstance(h, _Notes) for h in notes.handlers):
        notes.addHandler(_Notes())
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "app":
        args.streamlit_args = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        if getattr(args, "memory_budget", None) is not None:  # the env var reaches the app's server and children
            memory.parse_bytes(args.memory_budget, "--memory-budget")
            os.environ[memory.BUDGET_ENV] = args.memory_budget
        return args.fn(args)
    except memory.MEMORY_ERRORS:  # past the estimate (it is one): still one line, never a traceback
        print(f"aeviz {args.command}: error: out of memory; lower --hidden or --batch-size, or use less data "
              "(the estimate before training said it would fit).", file=sys.stderr)
        return 2
    except InputError as exc:
        print(f"aeviz {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # an unwritable --out, a full disk: the user's environment, not a bug
        print(f"aeviz {args.command}: error: {exc.strerror or exc} ({exc.filename or ''})", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
