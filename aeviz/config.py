"""Frozen dataclass configs that validate themselves and describe their own fields.

Each field carries `metadata={"help": ..., "min": ..., "max": ..., "choices": ...}` via `param(...)`. The UI form,
the CLI's `--set KEY=VALUE` and `aeviz models` all read the same metadata, so a new variant needs no UI code. A class
lists the inherited fields it ignores in `unused: ClassVar[tuple[str, ...]]`; `offered` leaves them out of forms.
Every message has scikit-learn's shape: "The 'beta' parameter of VAEConfig must be a float >= 0. Got -1.0 instead."
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field
from typing import Any

from aeviz.errors import InputError, bad_param


def param(default: Any, help: str, *, min: float | None = None, max: float | None = None,
          choices: tuple | None = None, max_len: int | None = None) -> Any:
    """A dataclass field with its help text and bounds (tuples are stored as-is: they are immutable); `max_len`
    bounds the length of a tuple (a model's depth)."""
    return field(default=default, metadata={"help": help, "min": min, "max": max, "choices": choices,
                                            "max_len": max_len})


@dataclass(frozen=True)
class Field:
    """What a form or a CLI needs to know about one config field."""

    name: str
    kind: str  # "int" | "float" | "str" | "bool" | "ints" (a tuple of ints)
    default: Any
    help: str
    min: float | None
    max: float | None
    choices: tuple | None
    max_len: int | None = None  # the most items of an "ints" field


def _kind(cls: type, f: dataclasses.Field) -> str:
    hint = typing.get_type_hints(cls)[f.name]
    if hint is bool:
        return "bool"
    if hint is int:
        return "int"
    if hint is float:
        return "float"
    if hint is str:
        return "str"
    if typing.get_origin(hint) is tuple:
        return "ints"
    raise AssertionError(f"unsupported config field type {hint!r} for {cls.__name__}.{f.name}")


def fields_of(cls: type) -> list[Field]:
    """The described fields of a config class, in declaration order."""
    return [
        Field(f.name, _kind(cls, f), f.default, f.metadata.get("help", ""), f.metadata.get("min"),
              f.metadata.get("max"), f.metadata.get("choices"), f.metadata.get("max_len"))
        for f in dataclasses.fields(cls)
    ]


def offered(cls: type) -> list[Field]:
    """The fields a form, a listing or a help text offers: all but those the class declares in `unused` (a knob it
    inherits and ignores, such as the linear AE's activation). `fields_of` keeps them, so saved configs still load."""
    unused = getattr(cls, "unused", ())
    return [f for f in fields_of(cls) if f.name not in unused]


def _bounds_text(spec: Field) -> str:
    lo, hi = spec.min, spec.max
    if lo is not None and hi is not None:
        return f" in [{lo:g}, {hi:g}]"
    if lo is not None:
        return f" >= {lo:g}"
    if hi is not None:
        return f" <= {hi:g}"
    return ""


def _check_number(owner: str, spec: Field, value: Any) -> None:
    kind = spec.kind if spec.kind != "ints" else "int"
    ok_type = isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        ok_type = ok_type or (isinstance(value, float) and math.isfinite(value))
    in_range = ok_type and (spec.min is None or value >= spec.min) and (spec.max is None or value <= spec.max)
    if not in_range:
        article = "an" if kind == "int" else "a"
        raise bad_param(owner, spec.name, f"{article} {kind}{_bounds_text(spec)}", value)


def validate(config: Any) -> None:
    """Check every field against its type, bounds and choices; raise InputError on the first bad one."""
    owner = type(config).__name__
    for spec in fields_of(type(config)):
        value = getattr(config, spec.name)
        if spec.kind == "ints":
            if not isinstance(value, tuple):
                raise bad_param(owner, spec.name, "a tuple of ints, e.g. (512, 128)", value)
            if spec.max_len is not None and len(value) > spec.max_len:
                raise InputError(f"The {spec.name!r} parameter of {owner} must be at most {spec.max_len} widths "
                                 f"(layers). Got {len(value)} widths instead.")
            for item in value:
                _check_number(owner, spec, item)
        elif spec.kind == "bool":
            if not isinstance(value, bool):
                raise bad_param(owner, spec.name, "a bool", value)
        elif spec.kind == "str":
            if not isinstance(value, str) or (spec.choices and value not in spec.choices):
                raise bad_param(owner, spec.name, f"one of {list(spec.choices or [])}", value)
        else:
            _check_number(owner, spec, value)


KIND_WORDS = {"int": "a whole number", "float": "a number", "bool": "true or false",
              "ints": "whole numbers separated by commas, e.g. 512,128 (empty for none)"}


def parse_value(owner: str, spec: Field, text: str) -> Any:
    """Turn a CLI/form string into the field's type: '512,128' -> (512, 128); 'true' -> True."""
    text = text.strip()
    try:
        if spec.kind == "int":
            return int(text)
        if spec.kind == "float":
            return float(text)
        if spec.kind == "bool":
            if text.lower() in {"1", "true", "yes", "on"}:
                return True
            if text.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError(text)
        if spec.kind == "ints":
            compact = text.replace(" ", "")
            return tuple(int(part) for part in compact.split(",")) if compact else ()  # '512,,128' is refused
        return text
    except ValueError:
        raise bad_param(owner, spec.name, KIND_WORDS.get(spec.kind, f"a {spec.kind}"), text) from None


def build_config(cls: type, values: dict[str, Any]) -> Any:
    """`cls(**values)` with unknown keys refused by name and list values turned into tuples."""
    known = {f.name: f for f in fields_of(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise InputError(f"{cls.__name__} has no parameter {unknown[0]!r}. Its parameters are {sorted(known)}.")
    clean = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return cls(**clean)


def to_dict(config: Any) -> dict[str, Any]:
    """JSON-ready dict of a config (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}
