"""Downloads: cached, hash-checked, mirror fallback, offline fallback. Mirrors are a local http.server only."""

from __future__ import annotations

import http.server
import socket
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from aeviz import data
from aeviz.loaders import download, idx

FILES = (
    "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"
)
NAMES = ("mnist-full", "fashion-mnist", "kmnist")


def write_tiny_set(folder: Path, n_train: int = 6, n_test: int = 4) -> dict[str, str]:
    """Four valid IDX gz files (train + test) in `folder`; returns their SHA-256 sums."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        idx.write_idx_gz(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        idx.write_idx_gz(folder / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n, dtype=np.uint8) % 10)
    return {f: idx.sha256_of(folder / f) for f in FILES}


def closed_port_url() -> str:
    with socket.socket() as s:  # bind, read the port, close: connecting to it is then refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    """Cache in tmp_path, no proxies, every mirror on a closed local port unless a test says otherwise."""
    monkeypatch.setenv("AEVIZ_CACHE", str(tmp_path / "cache"))
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    for name in NAMES:
        monkeypatch.setitem(download.MIRRORS, name, (closed_port_url(),))
    data.clear_cache()
    yield tmp_path / "cache"
    data.clear_cache()


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A local mirror: good/ has valid files, bad/ has same-named garbage, missing/ answers 404."""
    root = tmp_path / "www"
    sums = write_tiny_set(root / "good")
    (root / "bad").mkdir()
    for f in FILES:
        (root / "bad" / f).write_bytes(b"not the file you want")
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    for name in NAMES:
        monkeypatch.setitem(download.SHA256, name, sums)
    url = f"http://127.0.0.1:{httpd.server_port}/"
    yield SimpleNamespace(url=url, requests=requests, root=root)
    httpd.shutdown()
    httpd.server_close()


def leftovers(cache: Path) -> list[Path]:
    return [p for p in cache.rglob("*") if p.name.endswith(".part")]


@pytest.mark.parametrize("name", NAMES)
def test_download_succeeds_and_is_cached(name, server, offline, monkeypatch):
    monkeypatch.setitem(download.MIRRORS, name, (server.url + "good/",))
    ds = data.load_dataset(name)
    assert ds.name == name and ds.notes == ()
    assert ds.x.shape == (10, 1, 28, 28) and ds.x.dtype == np.float32 and ds.classes == data.CLASSES[name]
    assert len(server.requests) == 4
    assert sorted(p.name for p in (offline / name).iterdir()) == sorted(FILES)
    data.clear_cache()  # forget everything in-process: the second load must come from the disk cache
    again = data.load_dataset(name)
    assert len(server.requests) == 4
    np.testing.assert_array_equal(again.x, ds.x)
    assert leftovers(offline) == []


def test_progress_callback_reaches_total(server, monkeypatch):
    monkeypatch.setitem(download.MIRRORS, "fashion-mnist", (server.url + "good/",))
    calls: list[tuple[int, int]] = []
    data.load_dataset("fashion-mnist", progress=lambda done, total: calls.append((done, total)))
    sizes = sorted((server.root / "good" / f).stat().st_size for f in FILES)
    finals = sorted(done for done, total in calls if done == total)
    assert set(sizes) <= set(finals)
    assert all(0 < done <= total for done, total in calls)


def test_wrong_hash_on_first_mirror_falls_to_second(server, offline, monkeypatch):
    monkeypatch.setitem(download.MIRRORS, "kmnist", (server.url + "bad/", server.url + "good/"))
    ds = data.load_dataset("kmnist")
    assert ds.name == "kmnist" and len(ds.x) == 10
    assert sum(r.startswith("/bad/") for r in server.requests) == 4
    assert leftovers(offline) == []


@pytest.mark.parametrize("mirror", ["missing/", "closed"])
def test_unreachable_mirrors_fall_back_to_bundled_mnist(mirror, server, offline, monkeypatch):
    url = closed_port_url() if mirror == "closed" else server.url + mirror
    monkeypatch.setitem(download.MIRRORS, "fashion-mnist", (url,))
    ds = data.load_dataset("fashion-mnist", limit=50)
    assert ds.name == "mnist" and ds.source == "mnist" and ds.x.shape == (50, 1, 28, 28)
    assert ds.classes == data.DIGIT_CLASSES and ds.params["limit"] == 50
    (note,) = ds.notes
    assert note.startswith("Could not download fashion-mnist (no network: ")
    assert "bundled MNIST sample" in note and str(offline / "fashion-mnist") in note and "\n" not in note
    assert ("HTTP 404" in note) if mirror == "missing/" else ("refused" in note.lower())
    assert leftovers(offline) == []


def test_every_mirror_with_a_bad_hash_falls_back_and_caches_nothing(server, offline, monkeypatch):
    monkeypatch.setitem(download.MIRRORS, "mnist-full", (server.url + "bad/",))
    ds = data.load_dataset("mnist-full", limit=20_000)
    assert ds.name == "mnist" and len(ds.x) == 10_000  # the limit is clamped to the bundled sample's size
    assert "SHA-256 mismatch" in ds.notes[0]
    assert not any(p.is_file() for p in offline.rglob("*"))


def test_corrupt_cached_file_is_downloaded_again(server, offline, monkeypatch):
    monkeypatch.setitem(download.MIRRORS, "kmnist", (server.url + "good/",))
    (offline / "kmnist").mkdir(parents=True)
    for f in FILES:
        (offline / "kmnist" / f).write_bytes((server.root / "good" / f).read_bytes())
    (offline / "kmnist" / FILES[0]).write_bytes(b"half a file")
    ds = data.load_dataset("kmnist")
    assert len(ds.x) == 10 and server.requests == ["/good/" + FILES[0]]


def test_files_placed_by_hand_load_without_network(offline, monkeypatch):
    sums = write_tiny_set(offline / "fashion-mnist", n_train=3, n_test=2)
    monkeypatch.setitem(download.SHA256, "fashion-mnist", sums)
    ds = data.load_dataset("fashion-mnist")
    assert ds.notes == () and len(ds.x) == 5 and ds.y.tolist() == [0, 1, 2, 0, 1]


def test_fetch_raises_download_error_naming_the_mirrors(offline):
    with pytest.raises(download.DownloadError, match="127.0.0.1"):
        download.fetch("kmnist", timeout=2)
    assert leftovers(offline) == []


def test_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIZ_CACHE", str(tmp_path / "elsewhere"))
    assert download.cache_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv("AEVIZ_CACHE")
    assert download.cache_dir() == Path.home() / ".cache" / "aeviz"


def test_published_hashes_are_complete():
    for name in NAMES:
        assert set(download.SHA256[name]) == set(FILES)
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in download.SHA256[name].values())
        assert download.MIRRORS[name]
