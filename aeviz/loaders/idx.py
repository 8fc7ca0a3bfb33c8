"""IDX files (the MNIST family's format), gzip-compressed, parsed by hand with every header field checked.

Layout (http://yann.lecun.com/exdb/mnist/): two zero bytes, a type code (0x08 = unsigned byte), the number of
dimensions, one big-endian uint32 per dimension, then the data in C order.
"""

from __future__ import annotations

import gzip
import hashlib
import struct
import zlib
from pathlib import Path

import numpy as np

from aeviz.errors import InputError
from aeviz.loaders import one_line

UBYTE = 0x08
# 70,000 28x28 images are 55 MB; anything far beyond that is not an MNIST-style file (or is a gzip bomb).
MAX_IDX_BYTES = 512 * 1024 * 1024


def parse_idx(raw: bytes, name: str) -> np.ndarray:
    """Parse one decompressed IDX file into a read-only uint8 array of the shape its header declares."""
    if len(raw) < 4 or raw[:2] != b"\x00\x00":
        raise InputError(f"{name} is not an IDX file (bad magic number); re-download it or restore the original.")
    code, ndim = raw[2], raw[3]
    if code != UBYTE:
        raise InputError(f"{name} has IDX type 0x{code:02X}; aeviz reads only unsigned-byte IDX files (0x08).")
    if not 1 <= ndim <= 4:
        raise InputError(f"{name} declares {ndim} dimensions; an IDX image or label file has 1 to 4.")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise InputError(f"{name} is truncated inside its header; re-download it or restore the original.")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(raw) != expected:
        raise InputError(
            f"{name} is corrupt: it has {len(raw):,} bytes but its header {dims} says {expected:,}; "
            "re-download it or restore the original."
        )
    arr = np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)
    return arr  # frombuffer over bytes is read-only, so a cached copy cannot be modified by a caller


def read_idx_gz(path: Path, name: str | None = None) -> np.ndarray:
    """Decompress (with a size cap) and parse one .gz IDX file."""
    name = name or path.name
    try:
        with gzip.open(path, "rb") as fh:
            raw = fh.read(MAX_IDX_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise InputError(f"{name} is not a valid gzip file ({one_line(exc)}); re-download it.") from None
    if len(raw) > MAX_IDX_BYTES:
        raise InputError(f"{name} decompresses to more than {MAX_IDX_BYTES // 2**20} MB; it is not an IDX file.")
    return parse_idx(raw, name)


def read_idx_pair(images: Path, labels: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, H, W) and labels (N,) as uint8, checked against each other."""
    x, y = read_idx_gz(images), read_idx_gz(labels)
    if x.ndim != 3 or y.ndim != 1:
        raise InputError(
            f"{images.name} / {labels.name}: expected (N, H, W) images and (N,) labels, got {x.shape} and {y.shape}."
        )
    if len(x) != len(y):
        raise InputError(f"{images.name} has {len(x)} images but {labels.name} has {len(y)} labels; re-download both.")
    return x, y


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_idx_gz(path: Path, arr: np.ndarray) -> None:
    """Write a uint8 array as a .gz IDX file (used by tests and to build small fixtures)."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = bytes([0, 0, UBYTE, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + arr.tobytes())
