"""A script run under torchrun writes its snapshot at exit (``TENSORVIEWS_SNAPSHOT_DIR``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import torch
import tensorviews
weights = torch.zeros(6, 4)
row = weights[2]
"""


def test_snapshot_dir_writes_the_rank_file_at_exit(tmp_path: Path) -> None:
    folder = tmp_path / "snaps"
    env = {**os.environ, "TENSORVIEWS_SNAPSHOT_DIR": str(folder), "RANK": "3"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    data = json.loads((folder / "rank3.json").read_text())
    assert data["schema"] == "tensorviews.rank-snapshot/1" and data["rank"] == 3
    assert data["world_size"] is None  # no process group was up
    names = {n: t for t in data["graph"]["tensors"] for n in t["names"]}
    assert names["row"]["storage"] == names["weights"]["storage"]
    assert names["row"]["offset"] == 8
    assert (folder / "rank3.json").stat().st_mode & 0o777 == 0o600
