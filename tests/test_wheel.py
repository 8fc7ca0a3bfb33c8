"""The package carries the app: a wheel holds app.py, every page, the bundled MNIST and the app's settings under
aeviz/_app/ (setup.py puts them there, `aeviz.bundle` finds them), so `pip install aeviz` or pipx gives a working
`aeviz app` and `aeviz train`; `aeviz --version` prints the installed version.

The wheel is built from a copy of the checkout without build isolation (nothing to download): about 2 s in all.
`.ci/check_wheel.py` installs one into a fresh venv and opens every page in a browser.
"""

import shutil
import subprocess
import sys
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

import aeviz
from aeviz import bundle
from aeviz.cli import main
from tests.conftest import ROOT

LEFT_OUT = {".git", "build", "dist", "runs", "tests", "benchmarks", ".venv", ".pytest_cache", "screenshots-tmp"}


def _expected_app_files() -> set[str]:
    """What the installed package must hold under aeviz/_app/: the clone's app, pages, sample data and settings."""
    files = {"app.py", ".streamlit/config.toml"}
    files |= {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")}
    files |= {f"assets/mnist/{p.name}" for p in (ROOT / "assets" / "mnist").iterdir() if p.is_file()}
    return files


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A copy of the checkout (an in-tree build would leave build/ and egg-info behind in it)."""
    copy = tmp_path_factory.mktemp("src") / "aeviz"

    def ignore(folder, names):
        skip = {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}
        return skip | (set(names) & LEFT_OUT if Path(folder) == ROOT else set())

    shutil.copytree(ROOT, copy, ignore=ignore)
    return copy


@pytest.fixture(scope="module")
def wheel(source, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(out), str(source)], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (whl,) = out.glob("aeviz-*.whl")
    return whl


def test_the_wheel_holds_the_app_its_pages_and_the_bundled_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    app = {n.removeprefix("aeviz/_app/") for n in names if n.startswith("aeviz/_app/")}
    assert app == _expected_app_files(), "aeviz/_app/ holds exactly the app, its pages, the MNIST sample, the settings"
    library = {p.relative_to(ROOT).as_posix() for p in (ROOT / "aeviz").rglob("*.py") if "__pycache__" not in p.parts}
    assert library <= names, f"library modules missing from the wheel: {sorted(library - names)}"
    assert wheel.stat().st_size < 4e6, "no screenshots or runs in the wheel"


def test_the_wheel_declares_its_version_and_command(wheel):
    with zipfile.ZipFile(wheel) as z:
        meta = z.read(f"aeviz-{aeviz.__version__}.dist-info/METADATA").decode()
        entry = z.read(f"aeviz-{aeviz.__version__}.dist-info/entry_points.txt").decode()
    assert f"\nVersion: {aeviz.__version__}\n" in meta, "the version's one home is aeviz.__version__"
    assert "aeviz = aeviz.cli:main" in entry


def test_the_installed_package_finds_its_app_and_data_outside_the_checkout(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = ("import aeviz.bundle as b, aeviz.data as d; x = d.load_dataset('mnist', limit=20); "
             "print(b.__file__, b.APP, b.APP.is_file(), (b.PAGES / 'train.py').is_file(), x.shape)")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site), "AEVIZ_CACHE": str(tmp_path / "c")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    module, app, has_app, has_page, shape = proc.stdout.split(" ", 4)
    assert module.startswith(str(site)) and app == str(site / "aeviz" / "_app" / "app.py")
    assert has_app == has_page == "True" and shape.strip() == "(1, 28, 28)"


def test_the_sdist_carries_what_the_wheel_build_copies(source, tmp_path):
    """`python -m build` makes the wheel from the sdist: MANIFEST.in must bring the app files along."""
    code = f"from setuptools import build_meta as b; print(b.build_sdist({str(tmp_path)!r}))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=source, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with tarfile.open(tmp_path / proc.stdout.strip().splitlines()[-1]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert _expected_app_files() | {"setup.py", "MANIFEST.in"} <= names


def test_a_clone_serves_its_own_files():
    assert bundle.APP_DIR == ROOT and bundle.MNIST == ROOT / "assets" / "mnist" and bundle.APP.is_file()


def test_the_installed_copy_wins_when_there(tmp_path, monkeypatch):
    (tmp_path / "_app").mkdir()
    (tmp_path / "_app" / "app.py").write_text("")
    monkeypatch.setattr(bundle, "INSTALLED", tmp_path / "_app")
    assert bundle.app_dir() == tmp_path / "_app"


def test_version_prints_the_installed_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == f"aeviz {metadata.version('aeviz')}\n"
