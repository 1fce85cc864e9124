"""jupyter-lsp finds the Tensor Views language server through the ``jupyter_lsp_spec_v1`` entry
point, and the command it would run starts a working server (``--version`` answers)."""

from __future__ import annotations

import subprocess
import sys

import pytest

jupyter_lsp = pytest.importorskip("jupyter_lsp")


def test_jupyter_lsp_finds_the_spec_and_its_command_runs() -> None:
    manager = jupyter_lsp.LanguageServerManager()
    manager.initialize()
    spec = manager.language_servers.get("tensorviews")
    assert spec is not None, f"found: {sorted(manager.language_servers)}"
    assert spec["argv"] == [sys.executable, "-m", "lsp_server"]
    assert spec["languages"] == ["python"]
    assert set(spec["mime_types"]) == {"text/python", "text/x-ipython"}
    done = subprocess.run(
        [*spec["argv"], "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("tensorviews ")
