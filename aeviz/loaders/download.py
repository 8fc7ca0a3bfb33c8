"""Cached, checksummed downloads of the MNIST-family IDX files.

Files land in `cache_dir()/<dataset>/` (`~/.cache/aeviz`, or `$AEVIZ_CACHE`). Each file streams into a temp file
beside its target and is renamed only after its SHA-256 matches, so an interrupted or tampered download never
poisons the cache. Mirrors are tried in turn with a short timeout; `MIRRORS` and `SHA256` are plain dicts so
tests (and users behind a local mirror) can point them elsewhere.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from aeviz.loaders import one_line
from aeviz.loaders.idx import sha256_of

Progress = Callable[[int, int], None]  # (bytes_done, bytes_total) of the file being downloaded; total 0 = unknown

TIMEOUT_S = 10.0
MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024  # the largest real file is 26 MB; a mirror sending more is misbehaving
CHUNK = 1 << 16

MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist-full": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    "fashion-mnist": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    "kmnist": ("http://codh.rois.ac.jp/kmnist/dataset/kmnist/", "https://codh.rois.ac.jp/kmnist/dataset/kmnist/"),
}

# Published SHA-256 of the original gz files. MNIST's are from the brief (and torchvision); Fashion-MNIST's and
# KMNIST's are the ones torchvision's dataset registry and several independent projects pin (they match the
# publishers' md5s 8d4fb7e6... and bdb82020...). Order: train images, train labels, test images, test labels.
SHA256: dict[str, dict[str, str]] = {
    "mnist-full": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
    "kmnist": {
        "train-images-idx3-ubyte.gz": "51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4",
        "train-labels-idx1-ubyte.gz": "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",
        "t10k-images-idx3-ubyte.gz": "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",
        "t10k-labels-idx1-ubyte.gz": "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c",
    },
}

# Folders whose files were hash-checked in this process; re-hashing 30 MB on every load would be wasted work.
_VERIFIED: set[tuple[str, str]] = set()
_LOCK = threading.Lock()  # one download at a time per process: two app sessions asking at once share the work


class DownloadError(OSError):
    """Every mirror failed for a file; the message is one line naming the dataset and the reasons."""


class _BadMirror(Exception):
    """This mirror served something we must not keep (wrong hash, too large): try the next."""


def cache_dir() -> Path:
    """The download cache: $AEVIZ_CACHE, else ~/.cache/aeviz (read at call time so tests can redirect it)."""
    env = os.environ.get("AEVIZ_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "aeviz"


def fetch(name: str, *, progress: Progress | None = None, timeout: float = TIMEOUT_S) -> Path:
    """Make sure every file of dataset `name` is in the cache with the right hash; return its folder.

    Raises DownloadError when a missing file cannot be fetched from any mirror.
    """
    folder = cache_dir() / name
    key = (name, str(folder))
    with _LOCK:
        if key in _VERIFIED:
            return folder
        for filename, sha in SHA256[name].items():
            target = folder / filename
            try:
                if target.is_file() and sha256_of(target) == sha:
                    continue
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # an unreadable or read-only cache: report it like a failed download
                raise DownloadError(f"cannot use the cache folder {folder} ({_reason(exc)})") from None
            # A missing file, or a wrong one (partial copy by hand, older release): replace it atomically.
            _download_file(name, filename, sha, target, progress, timeout)
        _VERIFIED.add(key)
    return folder


def forget_verified() -> None:
    """Forget which cache folders were checked, so the next fetch re-hashes them (tests, the app's reload)."""
    _VERIFIED.clear()


def _download_file(name: str, filename: str, sha: str, target: Path, progress: Progress | None, timeout: float) -> None:
    reasons = []
    for mirror in MIRRORS[name]:
        url = mirror + filename
        try:
            _fetch_one(url, sha, target, progress, timeout)
            return
        except (OSError, http.client.HTTPException, ValueError, _BadMirror) as exc:  # ValueError: a malformed URL
            reasons.append(f"{urllib.parse.urlsplit(url).netloc}: {_reason(exc)}")
    raise DownloadError(f"{filename} from " + "; ".join(reasons))


def _fetch_one(url: str, sha: str, target: Path, progress: Progress | None, timeout: float) -> None:
    """Stream `url` into a temp file beside `target`, check its SHA-256, then rename it into place."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            total = int(resp.headers.get("Content-Length") or 0)
            if total > MAX_DOWNLOAD_BYTES:
                raise _BadMirror(f"file is {total:,} bytes, more than the {MAX_DOWNLOAD_BYTES:,} expected")
            digest = _stream(resp, out, total, target.name, progress)
        if digest != sha:
            raise _BadMirror(f"SHA-256 mismatch (got {digest[:12]}..., expected {sha[:12]}...)")
        os.replace(tmp, target)  # atomic on one filesystem: readers see the old file or the complete new one
    finally:
        tmp.unlink(missing_ok=True)


def _stream(resp, out, total: int, label: str, progress: Progress | None) -> str:
    from tqdm import tqdm  # lazy: only needed when something is actually downloaded

    digest, done = hashlib.sha256(), 0
    # disable=None: a bar in a terminal, silence in logs and under the app's server.
    bar = tqdm(total=total or None, unit="B", unit_scale=True, desc=label, file=sys.stderr, disable=None, leave=False)
    with bar:
        while chunk := resp.read(CHUNK):
            done += len(chunk)
            if done > MAX_DOWNLOAD_BYTES:
                raise _BadMirror(f"more than {MAX_DOWNLOAD_BYTES:,} bytes")
            digest.update(chunk)
            out.write(chunk)
            bar.update(len(chunk))
            if progress is not None:
                progress(done, total or done)
    if total and done != total:
        raise _BadMirror(f"connection closed after {done:,} of {total:,} bytes")
    if progress is not None:
        progress(done, done)  # always end on done == total, even when the size was not announced
    return digest.hexdigest()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        return one_line(exc.reason, 80)
    return one_line(exc, 80) or type(exc).__name__
