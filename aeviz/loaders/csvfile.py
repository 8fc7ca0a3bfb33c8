"""CSV tables: numeric columns, an optional header, an optional label column.

The label column is one named label/y/target/class (any case), else a last column with non-numeric values.
Parsed with the csv module (no eval, no pandas); numbers are converted by numpy in one vectorised step.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from aeviz.errors import InputError

LABEL_COLUMNS = ("label", "y", "target", "class")


def read_csv(path: Path, name: str) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    rows = _rows(_text(path.read_bytes(), name), name)
    header, rows = _split_header(rows)
    if not rows:
        raise InputError(f"{name} has a header but zero data rows; add rows of numbers.")
    label_col = _label_column(header, rows)
    columns = [j for j in range(len(rows[0])) if j != label_col]
    if not columns:
        raise InputError(f"{name} has only a label column; add numeric feature columns.")
    titles = [header[j] if header else None for j in columns]
    x = _numbers([[r[j] for j in columns] for r in rows], titles, header, name)
    notes = []
    y = None
    if label_col is not None:
        values = [r[label_col].strip() for r in rows]
        title = f"the {header[label_col]!r} column" if header else f"column {label_col + 1}"
        if "" in values:
            row = values.index("") + 1 + (header is not None)
            raise InputError(f"{name}: row {row} has an empty label in {title}; give every row a label.")
        y = _label_values(values)
        notes.append(f"labels from {title}")
    return x, y, notes


def _text(data: bytes, name: str) -> str:
    try:
        text = data.decode("utf-8-sig")  # -sig: Excel writes a byte-order mark
    except UnicodeDecodeError:
        raise InputError(f"{name} is not UTF-8 text; export the CSV as UTF-8.") from None
    if "\x00" in text:
        raise InputError(f"{name} contains NUL bytes, so it is a binary file, not CSV text; export it as plain CSV.")
    return text


def _rows(text: str, name: str) -> list[list[str]]:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # one column, or too little text to guess: plain commas
    try:
        rows = [r for r in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in r)]
    except csv.Error as exc:  # NUL bytes, a field over csv's size limit, an unclosed quote
        raise InputError(f"{name} is not a valid CSV file ({exc}); export it again as plain CSV.") from None
    if not rows:
        raise InputError(f"{name} has zero rows; add rows of numbers.")
    width = len(rows[0])
    for i, r in enumerate(rows):
        if len(r) != width:
            raise InputError(
                f"{name} is ragged: row {i + 1} has {len(r)} column(s) but row 1 has {width}; fix that row."
            )
    return rows


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _split_header(rows: list[list[str]]) -> tuple[list[str] | None, list[list[str]]]:
    """The first row is a header if one of its cells is text where the second row has a number (or, in a
    one-row file, if it has no number at all)."""
    first = rows[0]
    if len(rows) == 1:
        return ([c.strip() for c in first], []) if not any(_is_number(c) for c in first) else (None, rows)
    second = rows[1]
    if any(a.strip() and not _is_number(a) and _is_number(b) for a, b in zip(first, second)):
        return [c.strip() for c in first], rows[1:]
    return None, rows


def _label_column(header: list[str] | None, rows: list[list[str]]) -> int | None:
    if header:
        named = [j for j, h in enumerate(header) if h.lower() in LABEL_COLUMNS]
        if named:
            return named[0]
    last = len(rows[0]) - 1
    if last >= 1 and any(not _is_number(r[last]) for r in rows):
        return last
    return None


def _numbers(cells: list[list[str]], titles: list[str | None], header: list[str] | None, name: str) -> np.ndarray:
    try:
        return np.array(cells, dtype=np.str_).astype(np.float64)
    except ValueError:
        pass  # find the first bad cell for the message (slow path, only on error)
    for i, row in enumerate(cells):
        for j, cell in enumerate(row):
            if not _is_number(cell):
                where = f"column {titles[j]!r}" if titles[j] else f"column {j + 1}"
                line = i + 1 + (header is not None)
                problem = "is empty" if not cell.strip() else f"is not a number ({cell.strip()[:30]!r})"
                raise InputError(f"{name}: row {line}, {where} {problem}; every feature column must be numeric.")
    raise InputError(f"{name} has values numpy cannot read as numbers; check the file.")


def _label_values(values: list[str]) -> np.ndarray:
    """Numeric labels stay numbers (so '10' sorts after '9'); anything else is a string class name."""
    if all(_is_number(v) for v in values):
        return np.array(values, dtype=np.float64)
    return np.array(values, dtype=np.str_)
