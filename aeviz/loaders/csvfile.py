"""CSV tables: numeric columns, an optional header, an optional label column.

The label column is one named label/y/target/class (any case), else a last column with non-numeric values.
Parsed with the csv module (no eval, no pandas), streamed: rows are read from the file in blocks of about
BLOCK_CELLS cells and each block becomes float64 in one vectorised numpy step, so only one block's Python strings
exist at a time. The float64 blocks are handed to `to_float01` as a list, which turns them into float32 one by one:
the peak stays near twice the final float32 array, and a file whose values would not fit is refused while it is read.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import Iterator, TextIO

import numpy as np

from aeviz import memory
from aeviz.errors import InputError
from aeviz.loaders import human_bytes

LABEL_COLUMNS = ("label", "y", "target", "class")
BLOCK_CELLS = 1 << 15  # cells per parsed block: ~2 MB of Python strings, the only overhead besides the numbers


def read_csv(path: Path, name: str) -> tuple[list[np.ndarray], np.ndarray | None, list[str]]:
    """(x as float64 row blocks, labels or None, notes)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:  # -sig: Excel writes a byte-order mark
            return _parse(fh, name)
    except UnicodeDecodeError:
        raise InputError(f"{name} is not UTF-8 text; export the CSV as UTF-8.") from None
    except csv.Error as exc:  # a field over csv's size limit, an unclosed quote
        raise InputError(f"{name} is not a valid CSV file ({exc}); export it again as plain CSV.") from None


def _parse(fh: TextIO, name: str) -> tuple[list[np.ndarray], np.ndarray | None, list[str]]:
    rows = _rows(fh, name)
    head = list(islice(rows, 2))  # the header is told from the first two rows
    if not head:
        raise InputError(f"{name} has zero rows; add rows of numbers.")
    header, head = _split_header(head)
    data = chain(head, rows)
    first = next(data, None)
    if first is None:
        raise InputError(f"{name} has a header but zero data rows; add rows of numbers.")
    width = len(first)
    named = _named_label(header)
    maybe_last = named is None and width >= 2  # a last column is the label if any of its cells is text
    columns = [j for j in range(width) if j != named and not (maybe_last and j == width - 1)]
    if not columns and named is not None:
        raise InputError(f"{name} has only a label column; add numeric feature columns.")
    side_col = named if named is not None else (width - 1 if maybe_last else None)
    table = _Table(name, header, columns, side_col, memory.budget())
    block: list[list[str]] = []
    for row in chain([first], data):
        block.append(row)
        if len(block) * width >= BLOCK_CELLS:
            table.add(block)
            block = []
    if block:
        table.add(block)
    blocks, side = table.blocks, table.side
    label_col = named
    if maybe_last:
        if any(not _is_number(c) for c in side):
            label_col = width - 1
        else:  # the last column is numbers after all: a feature like the others
            values = np.array(side, dtype=np.str_).astype(np.float64)
            at = 0
            for i, b in enumerate(blocks):
                blocks[i] = np.column_stack([b, values[at:at + len(b)]])
                at += len(b)
    notes = []
    y = None
    if label_col is not None:
        title = f"the {header[label_col]!r} column" if header else f"column {label_col + 1}"
        if "" in side:
            row = side.index("") + 1 + (header is not None)
            raise InputError(f"{name}: row {row} has an empty label in {title}; give every row a label.")
        y = _label_values(side)
        notes.append(f"labels from {title}")
    return blocks, y, notes


@dataclass
class _Table:
    """The parsed part of a CSV: float64 blocks of the feature `columns`, and the cells of `side_col` (the label,
    or a last column that may be one) as text."""

    name: str
    header: list[str] | None
    columns: list[int]
    side_col: int | None
    limit: int  # bytes the blocks may take (the memory budget)
    blocks: list[np.ndarray] = field(default_factory=list)
    side: list[str] = field(default_factory=list)
    done: int = 0  # data rows parsed

    def add(self, rows: list[list[str]]) -> None:
        if self.side_col is not None:
            self.side.extend(r[self.side_col].strip() for r in rows)
        titles = [self.header[j] if self.header else None for j in self.columns]
        self.blocks.append(_numbers([[r[j] for j in self.columns] for r in rows], titles, self.header, self.name,
                                    self.done))
        self.done += len(rows)
        held = sum(b.nbytes for b in self.blocks)  # float64 now; float32 later, while these are released in turn
        if held > self.limit:
            raise InputError(f"{self.name} is too big to load: by row {self.done:,} its values take "
                             f"{human_bytes(held)}, over {memory.budget_text()}; use fewer rows or columns.")


def _rows(fh: TextIO, name: str) -> Iterator[list[str]]:
    """Non-blank rows, each checked to have the first row's width."""
    sample = fh.read(4096)
    fh.seek(0)
    if "\x00" in sample:
        raise _nul(name)
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # one column, or too little text to guess: plain commas
    width = None
    for i, r in enumerate(r for r in csv.reader(_no_nul(fh, name), dialect) if any(c.strip() for c in r)):
        width = len(r) if width is None else width
        if len(r) != width:
            raise InputError(
                f"{name} is ragged: row {i + 1} has {len(r)} column(s) but row 1 has {width}; fix that row."
            )
        yield r


def _no_nul(fh: TextIO, name: str) -> Iterator[str]:
    for line in fh:
        if "\x00" in line:
            raise _nul(name)
        yield line


def _nul(name: str) -> InputError:
    return InputError(f"{name} contains NUL bytes, so it is a binary file, not CSV text; export it as plain CSV.")


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


def _named_label(header: list[str] | None) -> int | None:
    """The first header cell named label/y/target/class, if any."""
    if header:
        named = [j for j, h in enumerate(header) if h.lower() in LABEL_COLUMNS]
        if named:
            return named[0]
    return None


def _numbers(cells: list[list[str]], titles: list[str | None], header: list[str] | None, name: str,
             offset: int = 0) -> np.ndarray:
    try:
        return np.array(cells, dtype=np.str_).astype(np.float64)
    except ValueError:
        pass  # find the first bad cell for the message (slow path, only on error)
    for i, row in enumerate(cells):
        for j, cell in enumerate(row):
            if not _is_number(cell):
                where = f"column {titles[j]!r}" if titles[j] else f"column {j + 1}"
                line = offset + i + 1 + (header is not None)
                problem = "is empty" if not cell.strip() else f"is not a number ({cell.strip()[:30]!r})"
                raise InputError(f"{name}: row {line}, {where} {problem}; every feature column must be numeric.")
    raise InputError(f"{name} has values numpy cannot read as numbers; check the file.")


def _label_values(values: list[str]) -> np.ndarray:
    """Numeric labels stay numbers (so '10' sorts after '9'); anything else is a string class name."""
    if all(_is_number(v) for v in values):
        return np.array(values, dtype=np.float64)
    return np.array(values, dtype=np.str_)


def header(path: Path) -> list[str] | None:
    """A CSV's header row (every column, the label's too), or None when it has none or cannot be read: for naming
    its columns (the Features page's feature list). Reads the first two rows only."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            head = list(islice(_rows(fh, str(path)), 2))
    except (OSError, UnicodeDecodeError, csv.Error, InputError):
        return None
    return _split_header(head)[0] if head else None
