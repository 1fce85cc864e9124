"""The /tensorviews/ page in headless Chromium: the picture first, then the notes and the
storages with sizes in KiB/MiB; every user string (names, notes, notebook paths) kept as text;
it redraws when the kernel's graph changes."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import jupyter_server
from tests.server.jupyter import JupyterServer, run

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE.parents[1] / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
INJECTED = "<img src=x onerror=alert(1)>"
NOTEBOOK = "browser/<b class=injected>demo.ipynb"

__all__ = ["jupyter_server"]  # the session fixture, shared with the REST tests

pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    pytest.mark.skipif(
        not (HERE / "node_modules" / "playwright-core").is_dir(),
        reason="run scripts/setup-browser.sh (npm ci in tests/browser)",
    ),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="apt-get install -y chromium"),
]


def read_line(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        assert process.stderr is not None
        raise AssertionError(f"the browser driver stopped: {process.stderr.read()}")
    result: dict[str, Any] = json.loads(line)
    return result


@pytest.mark.slow
def test_page_draws_picture_first_sizes_in_units_escapes_names_and_follows_the_kernel(
    jupyter_server: JupyterServer, tmp_path: Path
) -> None:
    kernel_id = jupyter_server.start_session(NOTEBOOK)
    client = jupyter_server.kernel_client(kernel_id)
    ARTIFACTS.mkdir(exist_ok=True)
    url = f"{jupyter_server.url}/tensorviews/?token={jupyter_server.token}&kernel={kernel_id}"
    driver = subprocess.Popen(
        ["node", str(HERE / "page.mjs"), url, str(ARTIFACTS / "tensorviews-page"),
         str(tmp_path / "profile"), "3,4"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    watchdog = threading.Timer(180, driver.kill)  # a stuck browser must not hang the suite
    watchdog.start()
    try:
        run(client, "%load_ext tensorviews")
        run(
            client,
            "import torch\na = torch.zeros(512, 512)\nrow = a[1]\nc = torch.ones(3)\n"
            f"cache = {{{INJECTED!r}: a[0]}}\n"
            f"acts = torch.zeros(64, 1024, 256)\npinned = {{{INJECTED!r}: acts[:, -1]}}\n"
            "del acts",
        )
        first = read_line(driver)
        assert first["pictureFirst"] and first["pictureWidth"] > 100
        texts = sorted((s["text"] for s in first["storages"]), key=len)
        shared = next(text for text in texts if "row" in text)
        assert "· 1.0 MiB" in shared and "bytes" not in shared
        assert "a: torch.float32 [512, 512] offset 0" in shared
        assert "row: torch.float32 [512] offset 512" in shared
        assert f"cache['{INJECTED}']: torch.float32 [512] offset 0" in shared
        assert any("· 12 B" in text and "c: torch.float32 [3]" in text for text in texts)
        assert any("· 64.0 MiB" in text and f"pinned['{INJECTED}']" in text for text in texts)
        # The note, with the user's name in it, as text.
        assert any(
            note.startswith(f"pinned['{INJECTED}'] (64.0 KiB) keeps its storage")
            and "(64.0 MiB) alive" in note
            for note in first["notes"]
        ), first["notes"]
        assert first["injectedImages"] == 0 and first["dialogs"] == []
        assert any(NOTEBOOK in k for k in first["kernels"])

        # A new storage in the kernel: the page redraws by itself.
        run(client, "d = torch.zeros(2, dtype=torch.int64)")
        assert driver.stdin is not None
        driver.stdin.write("next\n")
        driver.stdin.close()
        second = read_line(driver)
        assert len(second["storages"]) == 4
        assert any("d: torch.int64 [2]" in s["text"] for s in second["storages"])
        assert second["dialogs"] == [] and second["injectedImages"] == 0
        assert driver.wait(timeout=30) == 0
        for step in (0, 1):
            assert (ARTIFACTS / f"tensorviews-page-{step}.png").stat().st_size > 1000
    finally:
        watchdog.cancel()
        if driver.poll() is None:
            driver.kill()
        client.stop_channels()
        jupyter_server.request("DELETE", f"/api/kernels/{kernel_id}")
