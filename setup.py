"""The wheel carries the app: setuptools builds aeviz/ as usual (pyproject.toml), then this copies the top-level
app files into the package as aeviz/_app/ (where `aeviz.bundle` finds them). The clone's files stay the source of
truth; an editable install (`pip install -e .`) serves them from the clone and copies nothing. MANIFEST.in puts the
same files in the sdist, so a wheel built from it (`python -m build`) has them too.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
APP_FILES = ("app.py", "pages", "assets/mnist", ".streamlit/config.toml")  # relative paths kept under aeviz/_app/


class build_py_with_app(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "aeviz" / "_app"
        shutil.rmtree(target, ignore_errors=True)  # a page deleted since the last build must not linger in build/
        for name in APP_FILES:
            source, dest = ROOT / name, target / name
            if source.is_dir():
                shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, dest)


setup(cmdclass={"build_py": build_py_with_app})
