"""Swapping a run folder in atomically, and cleaning up after a save that was killed half-way.

`runs.save` writes `.<name>.tmp-<pid>-<hex>` beside the run, then renames the run to `.<name>.old-<pid>-<hex>` and
the temp folder to `<name>`. A SIGKILL can leave either one behind; between the two renames it leaves no `<name>` at
all. `tidy(target)` (called by every save, load and listing) finds such leftovers whose save is over (its process
is gone, or it is this process's and not in flight, or it is older than STALE_S), puts the newest *complete* copy
back when the run itself is missing (complete: it passes `run_schema.check_files`), deletes the rest, and returns
one line per thing it did. A leftover is never listed or loaded as a run, and nothing is deleted while a run is
missing and no copy of it is complete. A zip import unpacks into `.import-<pid>-<hex>` (`unpacking`); a stale one
is removed by the next listing.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import time
import uuid
from pathlib import Path

from aeviz import run_schema
from aeviz.errors import InputError

log = logging.getLogger(__name__)
SWAP_LOCK = threading.RLock()  # process-wide: one swap or tidy at a time (a rename of the title while a trainer saves)
STALE_S = 600  # a save takes seconds; a leftover this old is stale even if its process id is alive again
LEFTOVER = re.compile(r"\.(?P<name>.+)\.(?:tmp|old)-(?:(?P<pid>\d+)-)?[0-9a-f]{4,32}")
UNPACKING = re.compile(r"\.import-(?:(?P<pid>\d+)-)?[0-9a-f]{4,32}")  # a zip import being checked (aeviz.archive)
_IN_FLIGHT: set[Path] = set()  # this process's temp and old folders while their save runs
_SAID: set[str] = set()  # what has been logged already


def sibling(target: Path, kind: str) -> Path:
    """A fresh `.<name>.<kind>-<pid>-<hex>` path beside `target`, registered as in flight until `done`."""
    path = target.parent / f".{target.name}.{kind}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    _IN_FLIGHT.add(path)
    return path


def unpacking(root: Path) -> Path:
    """A fresh hidden folder under `root` for a zip import to unpack into, in flight until `done`."""
    path = root / f".import-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    _IN_FLIGHT.add(path)
    return path


def done(*paths: Path) -> None:
    for path in paths:
        _IN_FLIGHT.discard(path)


def swap_in(tmp: Path, target: Path) -> None:
    """Replace `target` by `tmp` with renames; `tidy` finishes the job if we die between the two."""
    with SWAP_LOCK:
        if target.exists() and target.is_dir() and not any(target.iterdir()):
            target.rmdir()  # an empty folder named with --out (or made by hand) is a new run's place
        if not target.exists():
            os.rename(tmp, target)
            return
        if not (target / "config.json").is_file():  # never replace (and delete) a folder that is not a run
            raise InputError(f"{target} exists and is not an aeviz run; save the run to a new or empty folder.")
        old = sibling(target, "old")
        try:
            os.rename(target, old)
            os.rename(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            done(old)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) would terminate it there; fall back on the age
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: someone else's live process
        return True
    return True


def _stale(path: Path, pid: str | None) -> bool:
    if path in _IN_FLIGHT:
        return False
    try:
        age = time.time() - path.stat().st_mtime
    except OSError:
        return False
    if pid is None or age > STALE_S:  # a legacy name (no pid) or an old one
        return True
    return int(pid) == os.getpid() or not _alive(int(pid))  # ours and not in flight: its save died


def leftovers(root: Path) -> dict[str, list[Path]]:
    """Stale leftovers under `root`, by the run folder name they belong to."""
    found: dict[str, list[Path]] = {}
    for path in root.iterdir() if root.is_dir() else ():
        match = LEFTOVER.fullmatch(path.name)
        if match and path.is_dir() and _stale(path, match["pid"]):
            found.setdefault(match["name"], []).append(path)
    return found


def _complete(path: Path) -> tuple[int, float] | None:
    """(epoch, mtime) of a leftover that holds a whole run, else None."""
    try:
        config = run_schema.check_files(path)
        return config["epoch"], (path / "config.json").stat().st_mtime
    except (InputError, OSError):
        return None


def tidy(target: Path, found: list[Path] | None = None) -> list[str]:
    """Recover or remove the stale leftovers of `target`'s interrupted saves; one line per thing done."""
    target = Path(target)
    with SWAP_LOCK:
        found = leftovers(target.parent).get(target.name, []) if found is None else found
        if not found:
            return []
        said = []
        if not target.exists():
            ranked = sorted((c, p) for p in found if (c := _complete(p)) is not None)
            if not ranked:
                said.append(f"{target}: an interrupted save left {len(found)} incomplete "
                            f"{'copy' if len(found) == 1 else 'copies'} and no run; kept them, as nothing complete "
                            f"could be recovered ({', '.join(sorted(p.name for p in found))}).")
                found = []
            else:
                best = ranked[-1][1]
                os.rename(best, target)
                found.remove(best)
                said.append(f"{target}: recovered the run from an interrupted save (epoch {ranked[-1][0][0]}).")
        elif _complete(target) is None:
            return []  # the run itself is damaged: leave every copy for a person to look at
        for path in found:
            shutil.rmtree(path, ignore_errors=True)
        if found:
            said.append(f"{target}: removed {len(found)} leftover {'copy' if len(found) == 1 else 'copies'} of an "
                        "interrupted save.")
    for line in said:
        if line not in _SAID:  # a listing every few seconds says "kept them" once, not every time
            _SAID.add(line)
            log.warning(line)
    return said


def tidy_root(root: Path) -> list[str]:
    """`tidy` every run under `root` that has stale leftovers, and remove imports that were killed half-way."""
    said: list[str] = []
    for name, paths in leftovers(root).items():
        said += tidy(root / name, paths)
    for path in root.iterdir() if root.is_dir() else ():
        match = UNPACKING.fullmatch(path.name)
        if match and path.is_dir() and _stale(path, match["pid"]):
            shutil.rmtree(path, ignore_errors=True)
            said.append(f"{root}: removed {path.name}, a zip import that was interrupted.")
            log.warning(said[-1])
    return said
