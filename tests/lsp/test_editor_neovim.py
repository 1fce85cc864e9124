"""Through a real editor: headless Neovim starts the server, shows the diagnostic and the hover."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tensorviews.rules import find_swap_hazards
from tests.lsp.conftest import SERVER_ENV

DRIVER = Path(__file__).with_name("nvim") / "drive.lua"
SEED = "import torch\n\na = torch.zeros(3)\nb = torch.ones(3)\na[0], b[0] = b[0], a[0]\n"
NVIM = shutil.which("nvim")


@pytest.mark.editor
@pytest.mark.skipif(NVIM is None, reason="Neovim (nvim) is not installed")
def test_neovim_shows_the_diagnostic_and_the_hover(tmp_path: Path) -> None:
    assert NVIM is not None
    source = tmp_path / "seed.py"
    source.write_text(SEED)
    out = tmp_path / "editor.json"
    env = {
        **SERVER_ENV,
        "TV_FILE": str(source),
        "TV_OUT": str(out),
        "TV_PYTHON": sys.executable,
        "TV_TIMEOUT_MS": "30000",
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    subprocess.run(
        [NVIM, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", f"luafile {DRIVER}"],
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    assert out.exists(), "Neovim wrote no result"
    seen = json.loads(out.read_text())
    assert seen["error"] is None, seen["error"]

    (finding,) = find_swap_hazards(SEED)
    (diagnostic,) = seen["diagnostics"]
    assert diagnostic["code"] == "TV001" and diagnostic["source"] == "tensorviews"
    assert diagnostic["range"] == {
        "start": {"line": 4, "character": 0},
        "end": {"line": 4, "character": 23},
    }
    (shown,) = seen["editor_diagnostics"]
    assert (shown["lnum"], shown["col"], shown["message"], shown["severity"]) == (
        4,
        0,
        finding.message,
        1,  # vim.diagnostic.severity.ERROR
    )
    assert seen["hover"]["contents"] == {"kind": "markdown", "value": finding.explanation}
    assert (
        os.path.basename(diagnostic.get("relatedInformation", [{}])[0]["location"]["uri"])
        == "seed.py"
    )
