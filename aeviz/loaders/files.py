"""User data from a path: .npy, .npz, .csv, .zip of images, or a folder of images.

Everything a user (or an upload) hands us is untrusted: files are size-checked before reading, arrays are never
unpickled, zips are never extracted, and any failure becomes a one-line InputError naming the file.
`aeviz.data.load_file` wraps `read_path` into a `Dataset`.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from aeviz import memory
from aeviz.errors import InputError, bad_param
from aeviz.loaders import human_bytes, images, one_line
from aeviz.loaders.arrays import encode_labels, to_float01, to_layout
from aeviz.loaders.csvfile import read_csv as _read_csv

MAX_FILE_BYTES = 1024**3  # one .npy/.npz/.csv/.zip file
MAX_NPZ_RATIO = 1000  # arrays of zeros compress far better than images, so .npz gets a looser bomb ratio
MAX_SIZE = 4096  # the `size` param: side of the resized images
SUFFIXES = (".npy", ".npz", ".csv", ".zip")
PICKLE_MESSAGE = (
    "contains Python objects (pickle), which aeviz never loads; "
    "save plain numeric arrays with np.save(..., allow_pickle=False)"
)


class Raw(NamedTuple):
    x: np.ndarray  # (N, *shape) float32 in [0, 1]
    y: np.ndarray | None  # (N,) int64
    shape: tuple[int, ...]
    classes: tuple[str, ...] | None
    notes: tuple[str, ...]
    params: dict


def read_path(path: Path, name: str | None = None, **params) -> Raw:
    """Read a user file or folder; `name` is what messages call it (an upload's original file name)."""
    path = Path(path)
    name = name or path.name or str(path)
    size = _size_param(params, name)
    try:
        return _read(path, name, size)
    except InputError:
        raise
    except MemoryError:
        raise InputError(f"{name} is too large to load into memory; use a smaller file.") from None
    except Exception as exc:  # the safety net: a parser we did not anticipate failing on hostile bytes
        raise InputError(f"Could not read {name}: {one_line(exc)}; check that the file is valid.") from None


def _read(path: Path, name: str, size: tuple[int, int] | None) -> Raw:
    if path.is_symlink():
        raise InputError(f"{name} is a symbolic link; aeviz reads only regular files and folders: pass the real path.")
    if not path.exists():
        raise InputError(f"{name}: no such file or folder; check the path.")
    params = {"size": list(size)} if size else {}
    if path.is_dir():
        return _assemble(*images.read_image_folder(path, name, size), params)
    if not path.is_file():
        raise InputError(f"{name} is not a regular file or folder; give a .npy/.npz/.csv/.zip file or a folder.")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        one_image = suffix in images.IMAGE_SUFFIXES
        hint = " (one image is not a dataset: put images in a folder or a .zip)" if one_image else ""
        raise InputError(
            f"{name}: unsupported file type {suffix or '(none)'!r}{hint}; use .npy/.npz/.csv/.zip or a folder."
        )
    nbytes = path.stat().st_size
    if nbytes == 0:
        raise InputError(f"{name} is empty (0 bytes); choose a file with data.")
    if nbytes > MAX_FILE_BYTES:
        limit = human_bytes(MAX_FILE_BYTES)
        raise InputError(f"{name} is {human_bytes(nbytes)}, over the {limit} limit; use a smaller file.")
    if suffix == ".zip":
        return _assemble(*images.read_image_zip(path, name, size), params)
    if size:
        raise InputError(f"{name}: the 'size' parameter applies only to image folders and .zip files; leave it out.")
    reader = {".npy": _read_npy, ".npz": _read_npz, ".csv": _read_csv}[suffix]
    x, y, notes = reader(path, name)
    return _from_arrays(x, y, notes, name, params)


def _from_arrays(x: np.ndarray, y: np.ndarray | None, notes: list[str], name: str, params: dict) -> Raw:
    x, scale_notes = to_float01(x, name)
    x, shape, layout_notes = to_layout(x, name)
    classes = None
    if y is not None:
        y, classes = encode_labels(y, len(x), name)
    return Raw(x, y, shape, classes, tuple(notes + layout_notes + scale_notes), params)


def _assemble(x: np.ndarray, y, classes, notes: list[str], params: dict) -> Raw:
    return Raw(x, y, tuple(x.shape[1:]), classes, tuple(notes), params)


def _read_npy(path: Path, name: str) -> tuple[np.ndarray, None, list[str]]:
    with open(path, "rb") as fh:
        head = fh.read(6)
        fh.seek(0)
        if head[:1] == b"\x80":  # a bare pickle renamed .npy
            raise InputError(f"{name} {PICKLE_MESSAGE}.")
        if head != b"\x93NUMPY":
            raise InputError(f"{name} is not a .npy file (bad header); save it with np.save.")
        shape, dtype = _header(fh, name)
        needed = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        start = fh.tell()
        if fh.seek(0, io.SEEK_END) - start < needed:  # a truncated file: refuse before np.load allocates
            raise InputError(f"{name} is truncated: its header declares {shape} {dtype} but the data is shorter.")
    memory.check_array(name, shape, dtype.itemsize)
    return _np_load(path, name), None, []


def _header(fh, name: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from a .npy header, without reading the data."""
    try:
        fmt = np.lib.format
        read_header = fmt.read_array_header_1_0 if fmt.read_magic(fh) == (1, 0) else fmt.read_array_header_2_0
        shape, _, dtype = read_header(fh)  # a Python literal parsed with ast.literal_eval: never executed
    except Exception as exc:  # ValueError, SyntaxError from a mangled header
        raise InputError(f"{name} is not a .npy file (bad header: {one_line(exc, 80)}); save it with np.save.") \
            from None
    if dtype.hasobject:
        raise InputError(f"{name} {PICKLE_MESSAGE}.")
    return shape, dtype


def _read_npz(path: Path, name: str) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    try:
        with zipfile.ZipFile(path) as zf:
            images.check_zip_sizes(zf.infolist(), name, max_ratio=MAX_NPZ_RATIO)
            _check_npz_members(zf, name)
    except zipfile.BadZipFile:
        raise InputError(f"{name} is not a valid .npz file (not a zip archive); save it with np.savez.") from None
    with _np_load(path, name) as npz:
        keys = list(npz.files)
        if not keys:
            raise InputError(f"{name} holds no arrays; save one with np.savez(path, x=..., y=...).")
        notes = []
        if "x" in keys:
            xkey = "x"
        else:
            xkey = next((k for k in keys if k != "y"), keys[0])
            notes.append(f"no array named 'x'; using the first array, {xkey!r}")
        x = _npz_array(npz, xkey, name)
        y = _npz_array(npz, "y", name) if "y" in keys and xkey != "y" else None
    return x, y, notes


def _check_npz_members(zf: zipfile.ZipFile, name: str) -> None:
    """Every array's declared shape and dtype, read from its header before a byte of its data is inflated: the
    data must be what the member's size says, at most MAX_FILE_BYTES, and fit in memory as float32 too."""
    for info in zf.infolist():
        if not info.filename.endswith(".npy"):
            continue
        where = f"{name} (array {info.filename[:-4]!r})"
        try:
            with zf.open(info) as fh:
                shape, dtype = _header(fh, where)
                header_bytes = fh.tell()
        except InputError:
            raise
        except Exception as exc:  # BadZipFile, zlib.error, EOFError from a damaged member
            raise InputError(f"{where} is damaged ({one_line(exc, 100)}); save it again.") from None
        declared = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if declared > MAX_FILE_BYTES:
            raise InputError(f"{where} declares {human_bytes(declared)} of data, over the "
                             f"{human_bytes(MAX_FILE_BYTES)} limit for one array; use a smaller file.")
        if declared + header_bytes != info.file_size:
            raise InputError(f"{where} declares {shape} {dtype} but holds {human_bytes(info.file_size)}: the "
                             "file is damaged; save it again.")
        memory.check_array(where, shape, dtype.itemsize)


def _np_load(path: Path, name: str):
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc) or "Object arrays" in str(exc):
            raise InputError(f"{name} {PICKLE_MESSAGE}.") from None
        raise InputError(f"{name} is damaged ({one_line(exc, 100)}); save it again with numpy.") from None


def _npz_array(npz, key: str, name: str) -> np.ndarray:
    try:
        return npz[key]
    except Exception as exc:  # ValueError from numpy; BadZipFile, zlib.error, EOFError from a damaged member
        if "pickle" in str(exc) or "Object arrays" in str(exc):
            raise InputError(f"{name} {PICKLE_MESSAGE} (array {key!r}).") from None
        raise InputError(f"{name}: array {key!r} is damaged ({one_line(exc, 100)}); save it again.") from None


def _size_param(params: dict, name: str) -> tuple[int, int] | None:
    unknown = sorted(set(params) - {"size"})
    if unknown:
        raise InputError(f"Unknown parameter {unknown[0]!r} for {name}. Choose one of ['size'].")
    size = params.get("size")
    if size is None or size == 0:
        return None
    hw = (size, size) if isinstance(size, int) else tuple(size) if isinstance(size, (list, tuple)) else ()
    if len(hw) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= MAX_SIZE for s in hw):
        raise bad_param(name, "size", f"an int or an [height, width] pair in [1, {MAX_SIZE}]", size)
    return hw  # type: ignore[return-value]

