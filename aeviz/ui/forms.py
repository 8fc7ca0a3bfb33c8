"""Widgets generated from a config class's described fields, so a new variant needs no UI code.

int/float -> a number input (a slider for a 0-based strength such as a noise level), str with choices -> a select
box, bool -> a toggle, a tuple of ints -> a text input ("512,128"). Each widget carries the field's bounds, and its
help is shown under it: what this knob does. Keys are "<prefix>.<field>" ("train.vae.beta"), so every variant keeps
its own values. `config_form` draws the widgets in a grid and returns their raw values; `build` parses and
validates them into the config, raising InputError with one line naming the field and the fix.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import streamlit as st

from aeviz import noise
from aeviz.config import Field, build_config, fields_of, offered, parse_value
from aeviz.errors import InputError
from aeviz.models import MODELS
from aeviz.ui import url

LABELS = {  # friendlier names for common fields; any other field is labelled from its name
    "latent_dim": "Latent size",
    "hidden": "Hidden widths",
    "lr": "Learning rate",
    "batch_size": "Batch size",
    "noise_level": "Noise level",
    "weight_decay": "Weight decay",
    "log_every": "Log every (steps)",
}


def label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


def _float_step(spec: Field) -> float:
    """One click changes the leading digit of the default: 0.002 steps by 0.001, 0.5 by 0.1."""
    if spec.default and spec.default > 0:
        return 10.0 ** math.floor(math.log10(spec.default))
    return 1e-4 if spec.max is not None and spec.max <= 1 else 0.01


def field_widget(spec: Field, key: str, choices: Sequence[Any] | None = None, disabled: bool = False,
                 tooltip: bool = True, top: float | None = None) -> Any:
    """One widget for one config field; returns its raw value (text for a tuple of ints). `top` lowers the
    field's maximum (a noise level's range depends on the noise chosen beside it)."""
    name, common = label(spec.name), dict(key=key, help=spec.help if tooltip else None, disabled=disabled)
    if top is not None and spec.max is not None and top < spec.max:
        spec = dataclasses.replace(spec, max=top, default=min(spec.default, top))
        if isinstance(st.session_state.get(key), (int, float)) and st.session_state[key] > top:
            st.session_state[key] = top  # the noise changed to one with a narrower range: clip, keep the rest
    if spec.kind == "bool":
        return url.toggle(st, name, value=bool(spec.default), **common)
    if spec.kind == "str":
        options = list(choices or spec.choices or ())
        if not options:
            return url.text_input(st, name, value=spec.default, **common)
        return url.selectbox(st, name, options, index=options.index(spec.default) if spec.default in options else 0,
                             **common)
    if spec.kind == "ints":
        return url.text_input(st, name, value=",".join(str(v) for v in spec.default), max_chars=120,
                              placeholder="comma-separated, e.g. 512,128 (empty: none)", **common)
    lo, hi = spec.min, spec.max
    if spec.kind == "int":
        return url.number_input(st, name, None if lo is None else int(lo), None if hi is None else int(hi),
                                int(spec.default), 1, **common)
    if lo == 0 and hi is not None and hi <= 2 and spec.default > 0:  # a strength in [0, 1] or [0, 2]
        return url.slider(st, name, float(lo), float(hi), float(spec.default), 0.05, **common)
    return url.number_input(st, name, None if lo is None else float(lo), None if hi is None else float(hi),
                            float(spec.default), _float_step(spec), format="%g", **common)


def _caption(spec: Field, value: Any) -> str:
    """The field's help; a choice of noise also says what the chosen noise does and what its level means."""
    if spec.choices == tuple(noise.NOISES) and value in noise.NOISES:
        return f"{spec.help}. **{value}**: {noise.NOISES[value].help} (up to {noise.NOISES[value].max_level:g})."
    return spec.help


def _noise_top(spec: Field, raw: dict[str, Any]) -> float | None:
    """The widest level of the noise already chosen in this form, for a field named like `noise_level`."""
    if not spec.name.endswith("level"):
        return None
    chosen = [v for k, v in raw.items() if v in noise.NOISES and k == spec.name.removesuffix("_level")]
    return noise.NOISES[chosen[0]].max_level if chosen else None


def config_form(cls: type, prefix: str, *, choices: dict[str, Sequence[Any]] | None = None,
                advanced: Sequence[str] = (), columns: int = 2, captions: bool = True,
                disabled: bool = False, defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """Draw a widget for every field of `cls` in a grid of `columns`, each with its help as a caption; fields
    named in `advanced` go into a "More settings" popover; `defaults` replace the class's own defaults (settings
    that fit the data). Returns the raw values by field name."""
    raw: dict[str, Any] = {}
    specs = [dataclasses.replace(s, default=(defaults or {}).get(s.name, s.default)) for s in offered(cls)]
    main = [s for s in specs if s.name not in advanced]
    for row in range(0, len(main), columns):
        for col, spec in zip(st.columns(columns), main[row:row + columns]):
            with col:
                raw[spec.name] = field_widget(spec, f"{prefix}.{spec.name}", (choices or {}).get(spec.name),
                                              disabled, tooltip=not captions, top=_noise_top(spec, raw))
                if captions and spec.help:
                    st.caption(_caption(spec, raw[spec.name]))
    rest = [s for s in specs if s.name in advanced]
    if rest:
        with st.popover("More settings", icon=":material/tune:"):
            for spec in rest:
                raw[spec.name] = field_widget(spec, f"{prefix}.{spec.name}", (choices or {}).get(spec.name),
                                              disabled)
    return raw


def forget(prefix: str, names: Sequence[str]) -> None:
    """Drop the form's values for these fields (live and remembered), so their defaults apply again: the data
    changed, and defaults that fit it replace the old choices."""
    for name in names:
        url.forget(f"{prefix}.{name}")


def forget_suggestions(suggest: Any, datasets: Sequence[Any]) -> None:
    """Forget every Train-form value that `suggest(variant, data)` sets for any of `datasets`, in every variant's
    form and the training form, so the new data's defaults apply when each form is drawn next."""
    for data in datasets:
        for variant in MODELS:
            tips = suggest(variant, data)
            forget(f"train.{variant}", list(tips.model))
            forget("train.fit", list(tips.train))


def build(cls: type, raw: dict[str, Any]) -> Any:
    """The validated config from a form's raw values; InputError (one line, naming field and fix) if one is bad."""
    owner = cls.__name__
    values = dict(raw)
    for spec in fields_of(cls):
        if spec.kind == "ints" and isinstance(values.get(spec.name), str):
            try:
                values[spec.name] = parse_value(owner, spec, values[spec.name])
            except InputError:
                raise InputError(f"{label(spec.name)}: {values[spec.name]!r} is not a list of whole numbers. Write "
                                 "them separated by commas, e.g. 512,128 (or leave it empty for none).") from None
    return build_config(cls, values)
