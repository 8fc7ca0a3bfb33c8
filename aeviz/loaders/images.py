"""Image datasets from a folder or a .zip: PNG/JPEG/GIF/BMP, labels from sub-folder names, one common size.

Hostile input is expected (uploads): zip members are read in memory (never extracted), sizes are checked from
headers before anything is decoded, decompression bombs and zip bombs are refused with the limit in the
message, path-traversal names make the whole archive refused, symlinks and special files are skipped.
"""

from __future__ import annotations

import os
import stat
import zipfile
from collections import Counter
from pathlib import Path, PurePosixPath

import numpy as np

from aeviz.errors import InputError
from aeviz.loaders import human_bytes, one_line

# Limits are module constants so a deployment (or a test) can change them.
MAX_IMAGE_PIXELS = 50_000_000  # decoded pixels per image (PIL's own bomb threshold is ~89 M)
MAX_TOTAL_BYTES = 2 * 1024**3  # decoded bytes of the whole dataset, and the declared uncompressed size of a zip
MAX_IMAGE_FILE_BYTES = 100 * 1024**2  # one encoded image file
MAX_IMAGES = 500_000
MAX_COMPRESSION_RATIO = 100  # PNG/JPEG barely compress; a member inflating 100x (and past 1 MiB) is a zip bomb
RATIO_MIN_BYTES = 1024**2

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp")
FORMATS = ("PNG", "JPEG", "GIF", "BMP")  # only these decoders may run, whatever the file claims to be

Images = tuple[np.ndarray, np.ndarray | None, tuple[str, ...] | None, list[str]]  # x (N,C,H,W), y, classes, notes
_Item = tuple[tuple[str, ...], bytes]  # (relative path parts, encoded bytes)


def read_image_folder(root: Path, name: str, size: tuple[int, int] | None = None) -> Images:
    items, notes, total = [], [], 0
    skipped_links = ignored = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        skipped_links += len(links)  # os.walk would not follow them anyway; count them so the user is told
        dirnames[:] = sorted(d for d in dirnames if not _hidden(d) and d not in links)
        for fname in sorted(filenames):
            path = Path(dirpath, fname)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                skipped_links += 1  # never follow: a link could point at any file on the machine
                continue
            if _hidden(fname) or path.suffix.lower() not in IMAGE_SUFFIXES or not stat.S_ISREG(info.st_mode):
                ignored += not _hidden(fname)
                continue
            rel = path.relative_to(root).parts
            _check_member_size("/".join(rel), info.st_size, name)
            total += info.st_size
            if total > MAX_TOTAL_BYTES or len(items) >= MAX_IMAGES:
                raise InputError(f"{name} holds more than {_limits()} of images; use a smaller folder.")
            items.append((rel, path.read_bytes()))
    if skipped_links:
        notes.append(f"skipped {skipped_links} symbolic link(s); aeviz reads only regular files inside the folder")
    return _finish(items, notes, ignored, name, size)


def read_image_zip(path: Path, name: str, size: tuple[int, int] | None = None) -> Images:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise InputError(f"{name} is not a valid zip file ({one_line(exc)}); re-create it.") from None
    with zf:
        members, notes, ignored = [], [], 0
        links = 0
        for info in zf.infolist():
            parts = _safe_parts(info.filename, name)
            if info.is_dir() or not parts or any(_hidden(p) for p in parts):
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                links += 1
                continue
            if PurePosixPath(parts[-1]).suffix.lower() not in IMAGE_SUFFIXES:
                ignored += 1
                continue
            members.append((parts, info))
        if len(members) > MAX_IMAGES:
            raise InputError(f"{name} holds {len(members):,} images, more than the limit of {MAX_IMAGES:,}.")
        check_zip_sizes([info for _, info in members], name)
        items = [(parts, _read_member(zf, info, name)) for parts, info in sorted(members, key=lambda m: m[0])]
    if links:
        notes.append(f"skipped {links} symbolic link(s) in the zip")
    return _finish(items, notes, ignored, name, size)


def check_zip_sizes(infos: list[zipfile.ZipInfo], name: str, max_ratio: float | None = None) -> None:
    """Refuse zip bombs from the central directory alone, before a single byte is inflated."""
    max_ratio = max_ratio or MAX_COMPRESSION_RATIO
    declared = sum(i.file_size for i in infos)
    if declared > MAX_TOTAL_BYTES:
        raise InputError(
            f"{name} would unpack to {human_bytes(declared)}, over the limit of {human_bytes(MAX_TOTAL_BYTES)} "
            "(a possible zip bomb); use a smaller archive."
        )
    for i in infos:
        if i.flag_bits & 0x1:
            raise InputError(f"{name}: {i.filename} is encrypted; re-create the zip without a password.")
        ratio = i.file_size / max(i.compress_size, 1)
        if i.file_size > RATIO_MIN_BYTES and ratio > max_ratio:
            raise InputError(
                f"{name}: {i.filename} inflates {ratio:,.0f}x (limit {max_ratio:g}x), a likely zip bomb; "
                "aeviz refuses it."
            )


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> bytes:
    _check_member_size(info.filename, info.file_size, name)
    try:
        with zf.open(info) as fh:  # zipfile stops at the declared size and checks the CRC: lying headers fail
            return fh.read(info.file_size + 1)
    except Exception as exc:  # BadZipFile, zlib.error, NotImplementedError (unknown compression), EOFError
        raise InputError(f"{name}: cannot read {info.filename} ({one_line(exc)}); re-create the zip.") from None


def _safe_parts(member: str, name: str) -> tuple[str, ...]:
    """Split a member name; absolute paths, drive letters and '..' refuse the whole archive."""
    norm = member.replace("\\", "/")
    parts = tuple(p for p in norm.split("/") if p not in ("", "."))
    if norm.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
        raise InputError(
            f"{name} contains an unsafe member name {member!r} (absolute path or '..'); aeviz refuses such "
            "archives: re-create the zip with relative paths."
        )
    return parts


def _check_member_size(member: str, nbytes: int, name: str) -> None:
    if nbytes > MAX_IMAGE_FILE_BYTES:
        raise InputError(
            f"{name}: {member} is {human_bytes(nbytes)}, over the {human_bytes(MAX_IMAGE_FILE_BYTES)} limit per image."
        )


def _hidden(part: str) -> bool:
    return part.startswith(".") or part == "__MACOSX"  # .DS_Store, ._x.png AppleDouble files, macOS zip forks


def _limits() -> str:
    return f"{human_bytes(MAX_TOTAL_BYTES)} or {MAX_IMAGES:,} files"


def _finish(items: list[_Item], notes: list[str], ignored: int, name: str, size: tuple[int, int] | None) -> Images:
    if not items:
        raise InputError(f"{name} contains no images ({'/'.join(FORMATS)}); add image files or choose another source.")
    if ignored:
        notes.append(f"ignored {ignored} file(s) that are not PNG/JPEG/GIF/BMP images")
    # imported here, not at the top: decode.py reads this module's limits, so the top-level import would be circular
    from aeviz.loaders.decode import decode_images

    x, decode_notes = decode_images(items, name, size)
    y, classes, label_notes = _labels([parts for parts, _ in items])
    return x, y, classes, notes + decode_notes + label_notes


def _labels(paths: list[tuple[str, ...]]) -> tuple[np.ndarray | None, tuple[str, ...] | None, list[str]]:
    """Class = first sub-folder under the deepest folder shared by every image ('zip/digits/3/a.png' -> '3')."""
    while all(len(p) > 1 for p in paths) and len({p[0] for p in paths}) == 1:
        paths = [p[1:] for p in paths]
    nested = [len(p) > 1 for p in paths]
    if not any(nested):
        return None, None, []
    if not all(nested):
        return None, None, ["some images are not inside a sub-folder, so no labels were taken from folder names"]
    counts = Counter(p[0] for p in paths)
    classes = tuple(sorted(counts))
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[p[0]] for p in paths], dtype=np.int64)
    return y, classes, [f"labels from {len(classes)} sub-folder names"]
