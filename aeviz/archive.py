"""Zip export and import of a saved run folder: share a trained model as one file, never trust one received.

`export_zip(run_dir)` packs config.json, model.safetensors, history.json (optimizer and replay files when present)
under the run's folder name. `import_zip(data, runs_root)` accepts only exactly such a folder and refuses, with a
one-line InputError: absolute or `..` names, links, unexpected, nested or duplicate files, encrypted members,
members or a total over the size caps, and members that compress suspiciously well (zip bombs). Sizes are counted
while extracting, so a header that lies cannot get past the caps. The extracted folder must then load with
`runs.load` (JSON + safetensors, never unpickled, every field checked) and name a registered dataset or a file in
this server's uploads folder, or it is removed again; a run already saved is never overwritten.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import zipfile
import zlib
from pathlib import Path

from aeviz import catalog, run_folders, runs
from aeviz.data import DATASETS
from aeviz.data_ref import is_upload
from aeviz.errors import InputError
from aeviz.run_schema import SAFE_ID

REQUIRED = runs.FILES  # config.json, model.safetensors, history.json
OPTIONAL = ("optimizer.safetensors", "replay.safetensors")
MAX_MEMBER_BYTES = 1 << 30  # 1 GiB: an MLP with two 8192-wide layers has ~0.3 GB of weights
MAX_TOTAL_BYTES = 2 << 30  # weights + Adam's two moments of the largest model, with room to spare
MAX_RATIO = 100  # weights barely compress (~1.1x) and JSON ~5x; a zip bomb is 1000x and more
RATIO_FLOOR_BYTES = 1 << 20  # tiny members may compress well without harm; judge the ratio above 1 MiB only
MAX_MEMBERS = 16
IGNORED = ("__MACOSX/", ".DS_Store")  # what macOS's "Compress" adds; skipped, never extracted
SAFE_NAME = SAFE_ID  # a zip's folder name is a run id (checked by aeviz.run_schema)
CHUNK = 1 << 20


def export_zip(run_dir: str | Path) -> bytes:
    """The run folder as zip bytes: `<folder name>/config.json`, `/model.safetensors`, `/history.json` [...]."""
    folder = Path(run_dir)
    if not (folder / "config.json").is_file():
        raise InputError(f"{folder}: not an aeviz run folder (no config.json); nothing to export.")
    blobs = _read_consistent(folder)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name, blob in blobs.items():
            zf.writestr(f"{folder.name}/{name}", blob)
    return buf.getvalue()


def _read_consistent(folder: Path, tries: int = 5) -> dict[str, bytes]:
    """Read the run's files from one save: `runs.save` swaps the folder in by renames, which changes its inode."""
    for _ in range(tries):
        try:
            before = folder.stat().st_ino
            blobs = {name: (folder / name).read_bytes() for name in (*REQUIRED, *OPTIONAL)
                     if name in REQUIRED or (folder / name).is_file()}
            if folder.stat().st_ino == before:
                return blobs
        except FileNotFoundError:  # caught between the two renames of a save
            continue
    raise InputError(f"{folder}: the run was being saved while it was read; try the download again.")


def import_zip(data: bytes, runs_root: str | Path) -> Path:
    """Unpack an exported run into `runs_root/<run id>` after checking every member; returns the new folder."""
    root = Path(runs_root)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError):
        raise InputError("The upload is not a zip file. Upload a .zip downloaded from aeviz's runs panel.") from None
    with archive:
        members = _check_members(archive.infolist())
        root.mkdir(parents=True, exist_ok=True)
        tmp = run_folders.unpacking(root)  # hidden: list_runs skips it while it is checked, and removes it if killed
        try:
            tmp.mkdir()
            for info, name in members:
                _extract(archive, info, tmp / name)
            return _adopt(tmp, root)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            run_folders.done(tmp)


def _check_members(infos: list[zipfile.ZipInfo]) -> list[tuple[zipfile.ZipInfo, str]]:
    """The (member, file name) pairs to extract, or InputError naming the first thing that is wrong."""
    infos = [i for i in infos if not any(part in i.filename for part in IGNORED)]
    if len(infos) > MAX_MEMBERS:
        raise InputError(f"The zip holds {len(infos)} entries; an aeviz run has at most {MAX_MEMBERS}. "
                         "Upload the .zip downloaded from the runs panel.")
    picked: dict[str, zipfile.ZipInfo] = {}
    prefixes: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
            raise InputError(f"The zip member {name!r} has an absolute path; refused.")
        parts = name.split("/")
        if "\\" in name or any(p in ("..", ".") for p in parts):
            raise InputError(f"The zip member {name!r} points outside its folder; refused.")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise InputError(f"The zip member {name!r} is a symbolic link; refused.")
        if info.flag_bits & 0x1:
            raise InputError(f"The zip member {name!r} is encrypted; upload an unencrypted run.")
        if info.is_dir():
            if len(parts) != 2 or not SAFE_NAME.fullmatch(parts[0]):
                raise InputError(f"The zip holds an unexpected folder {name!r}; an aeviz run is one flat folder.")
            prefixes.add(parts[0])
            continue
        if len(parts) > 2 or parts[-1] not in (*REQUIRED, *OPTIONAL):
            raise InputError(f"The zip holds an unexpected file {name!r}; a run has only "
                             f"{', '.join((*REQUIRED, *OPTIONAL))}.")
        if len(parts) == 2:
            prefixes.add(parts[0])
        if parts[-1] in picked:
            raise InputError(f"The zip holds {parts[-1]!r} twice; refused.")
        if info.file_size > MAX_MEMBER_BYTES:
            raise InputError(f"The zip member {name!r} unpacks to {info.file_size:,} bytes; the limit is "
                             f"{MAX_MEMBER_BYTES:,}.")
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise InputError(f"The zip member {name!r} compresses {info.file_size / max(info.compress_size, 1):,.0f}"
                             f" times (over {MAX_RATIO}): it looks like a zip bomb; refused.")
        total += info.file_size
        picked[parts[-1]] = info
    if len(prefixes) > 1 or (prefixes and any("/" not in i.filename for i in picked.values())):
        raise InputError("The zip holds more than one folder; upload one run at a time.")
    if total > MAX_TOTAL_BYTES:
        raise InputError(f"The zip unpacks to {total:,} bytes; the limit is {MAX_TOTAL_BYTES:,}.")
    missing = [n for n in REQUIRED if n not in picked]
    if missing:
        raise InputError(f"The zip has no {missing[0]}; it is not an aeviz run. Upload a .zip from the runs panel.")
    return [(info, name) for name, info in picked.items()]


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    """Copy one member out, counting the bytes actually produced (a lying header is caught here)."""
    written = 0
    try:
        with archive.open(info) as src, open(target, "xb") as dst:
            while chunk := src.read(CHUNK):
                written += len(chunk)
                if written > min(info.file_size, MAX_MEMBER_BYTES):
                    raise InputError(f"The zip member {info.filename!r} unpacks to more than it declares; refused.")
                dst.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise InputError(f"The zip member {info.filename!r} cannot be unpacked ({type(exc).__name__}); "
                         "the file is damaged.") from None


def _adopt(tmp: Path, root: Path) -> Path:
    """Check the unpacked folder loads as a run, then move it to `root/<run id>` (never over an existing run)."""
    try:
        run = runs.load(tmp)
    except InputError as exc:
        reason = str(exc).replace(f"{tmp}/", "").replace(f"{tmp}: ", "")
        raise InputError(f"The uploaded run cannot be loaded: {reason}") from None
    if run.data_source not in DATASETS and not is_upload(run.data_source):
        # any other path (even a bare 'secret.npy', read from the server's working folder) would make this server
        # read wherever the zip says
        raise InputError(f"The uploaded run was trained on a file ({run.data_source[:80]!r}), which this server "
                         "cannot see; only runs on built-in datasets or this server's uploads can be imported. "
                         "Retrain it here on your upload.")
    target = root / run.id
    taken = {row["id"] for row in catalog.list_runs(root)}
    if target.exists() or run.id in taken:
        raise InputError(f"A run named {run.id!r} is already saved here; delete it first to import this copy.")
    try:
        os.rename(tmp, target)
    except OSError as exc:  # e.g. created by someone else a moment ago: refuse rather than overwrite
        raise InputError(f"Could not save the uploaded run as {target.name!r} ({exc.strerror}).") from None
    return target
