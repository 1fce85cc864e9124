"""The package's build backend: setuptools, after building the JupyterLab extension.

``pip install .`` (or a wheel build) from a source tree whose ``jupyterlab-ext/labextension/``
was never built runs ``npm ci`` and ``npm run build`` there first (Node.js 20.19 or newer,
``jupyter-builder`` from ``build-system.requires``), so the wheel's data files carry the
prebuilt extension and ``jupyter labextension list`` shows it with no ``jupyter lab build``.
A tree where it is built already (``scripts/setup.sh`` builds it when its sources change) is
packaged as it is. Without npm the package still builds, without the Lab extension, and says
so in one line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import (  # noqa: F401  (the rest of the PEP 517 hooks, unchanged)
    build_sdist,
    get_requires_for_build_editable,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
    prepare_metadata_for_build_editable,
    prepare_metadata_for_build_wheel,
)

EXTENSION = Path(__file__).resolve().parents[1] / "jupyterlab-ext"


def _build_labextension() -> None:
    if not (EXTENSION / "package.json").exists():  # an sdist without the extension's sources
        return
    if (EXTENSION / "labextension" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        print("tensorviews: npm not found: building without the JupyterLab extension "
              "(install Node.js 20.19 or newer and rebuild)", file=sys.stderr)
        return
    # jupyter-builder sits beside the Python running this build (build-system.requires).
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for step in (["ci", "--no-audit", "--no-fund", "--loglevel=error"], ["run", "build"]):
        subprocess.run([npm, *step], cwd=EXTENSION, env=env, check=True)


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    _build_labextension()
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    _build_labextension()
    return _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)
