"""Attacks on the snapshot folder, against a real kernel and the readers the language server and
the jupyter-server extension use: FIFOs, symlinks (folder and files), foreign owners, open
modes and oversized files are never read, never followed, never deleted, never repaired."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from tensorviews.live.files import (
    MAX_SNAPSHOT_BYTES,
    SNAPSHOT_SCHEMA,
    read_snapshot,
    snapshot_files,
    snapshot_path,
)
from tests.kernel_ext.live_kernel import live_kernel

OTHER_UID = 12345  # any uid but ours: the tests run as root, which may chown
T = TypeVar("T")

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")


def snapshot_text(kernel_id: str, pid: int, names: dict[str, object] | None = None) -> str:
    return json.dumps({
        "schema": SNAPSHOT_SCHEMA, "kernelId": kernel_id, "pid": pid, "notebookPath": None,
        "time": 0.0, "seq": 1, "names": names or {}, "graph": {},
    })


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def within(seconds: float, call: Callable[[], T]) -> T:
    """``call()`` in a thread: a read that blocks fails the test instead of hanging it."""
    result: list[T] = []
    worker = threading.Thread(target=lambda: result.append(call()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "the read blocked"
    return result[0]


@needs_root
def test_hostile_files_are_neither_read_nor_deleted_and_do_not_hang_the_kernel(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "tensorviews"
    folder.mkdir(mode=0o700)
    outside = tmp_path / "victim.json"
    outside.write_text(snapshot_text("victim", dead_pid()))
    fifo = folder / "kernel-fifo.json"
    os.mkfifo(fifo)
    link = folder / "kernel-link.json"
    link.symlink_to(outside)
    foreign = folder / "kernel-foreign.json"
    foreign.write_text(snapshot_text("foreign", dead_pid()))
    os.chown(foreign, OTHER_UID, OTHER_UID)
    big = folder / "kernel-big.json"
    big.write_text(snapshot_text("big", dead_pid()))
    os.truncate(big, MAX_SNAPSHOT_BYTES + 1)
    dead = folder / "kernel-dead.json"
    dead.write_text(snapshot_text("dead", dead_pid()))

    # The readers: nothing blocks, only the kernel's own kind of file is believed.
    listed = within(10, lambda: {p.name for p in snapshot_files(folder)})
    assert listed == {"kernel-foreign.json", "kernel-big.json", "kernel-dead.json"}
    for refused in (fifo, link, foreign, big):
        assert within(10, lambda path=refused: read_snapshot(path)) is None
    assert within(10, lambda: read_snapshot(dead)) is not None

    # The kernel's cleanup of dead kernels' files runs on its first write.
    with live_kernel(tmp_path) as kernel:
        kernel.run("%load_ext tensorviews", timeout=60)
        kernel.run("import torch\na = torch.zeros(3)\nb = a[1:]", timeout=60)
        own = snapshot_path(folder, kernel.kernel_id)
        snapshot = read_snapshot(own)
        assert snapshot is not None and {"a", "b"} <= set(snapshot.names)
    assert not dead.exists()  # an ordinary dead kernel's file: removed
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert link.is_symlink() and outside.exists()
    assert foreign.exists() and big.exists()


@needs_root
def test_an_unsafe_folder_is_refused_with_one_line_and_never_repaired(tmp_path: Path) -> None:
    folder = tmp_path / "tensorviews"
    victim = tmp_path / "victim"
    victim.mkdir(mode=0o755)
    victim.chmod(0o755)
    look_alike = victim / "kernel-old.json"
    look_alike.write_text(snapshot_text("old", dead_pid()))
    folder.symlink_to(victim)

    with live_kernel(tmp_path) as kernel:
        own = snapshot_path(folder, kernel.kernel_id)
        out = kernel.run("%load_ext tensorviews\nimport torch\nx0 = torch.zeros(2)")
        out += kernel.run("x1 = torch.zeros(2)")
        lines = [line for line in out.splitlines() if "snapshot folder" in line]
        assert lines == [
            f"tensorviews: live file not written: snapshot folder {folder} is a symlink;"
            " refusing it (remove the link)"
        ]
        assert "is a symlink" in kernel.run("%tensorviews live status")
        # Nothing was written, chmod'ed or deleted through the link.
        assert mode(victim) == 0o755
        assert sorted(p.name for p in victim.iterdir()) == ["kernel-old.json"]

        # Another user's folder, planted with a file that claims to be this kernel's.
        folder.unlink()
        folder.mkdir(mode=0o700)
        own.write_text(snapshot_text(kernel.kernel_id, kernel.pid, {"planted": {"kind": "list"}}))
        os.chown(folder, OTHER_UID, OTHER_UID)
        out = kernel.run("x2 = torch.zeros(2)")
        assert f"snapshot folder {folder} belongs to uid {OTHER_UID}" in out
        assert read_snapshot(own) is None and snapshot_files(folder) == []
        assert json.loads(own.read_text())["names"] == {"planted": {"kind": "list"}}

        # This user's folder, open to others: refused, not chmod'ed.
        os.chown(folder, os.geteuid(), os.getegid())
        folder.chmod(0o755)
        out = kernel.run("x3 = torch.zeros(2)")
        assert f"snapshot folder {folder} has mode 0755, not 0700" in out
        assert mode(folder) == 0o755 and read_snapshot(own) is None

        # Fixed by the user: the next change is written.
        folder.chmod(0o700)
        assert kernel.run("x4 = torch.zeros(2)") == ""
        snapshot = read_snapshot(own)
        assert snapshot is not None and "x4" in snapshot.names and "planted" not in snapshot.names
        assert "snapshot folder" not in kernel.run("%tensorviews live status")


def test_the_writer_stays_under_what_readers_accept(tmp_path: Path) -> None:
    folder = tmp_path / "tensorviews"
    with live_kernel(tmp_path) as kernel:
        own = snapshot_path(folder, kernel.kernel_id)
        kernel.run("%load_ext tensorviews")
        # 25,000 top-level names: the summary keeps 20,000, arrays first, and counts the rest.
        kernel.run(
            "import torch\nkeep = torch.zeros(2)\n"
            "for i in range(25_000):\n    globals()[f'n{i}'] = i"
        )
        snapshot = read_snapshot(own)
        assert snapshot is not None and len(snapshot.names) == 20_000
        assert snapshot.names["keep"]["kind"] == "torch"
        # keep, n0..n24999 and the loop variable i
        assert json.loads(own.read_text())["namesOmitted"] == 25_002 - 20_000
        seq = snapshot.seq

        # A 17 MB name: the document would pass the cap; nothing is written, one line says so.
        out = kernel.run("globals()['x' * 17_000_000] = torch.zeros(1)")
        out += kernel.run("more = torch.zeros(3)")
        assert out.count("live file not written: over the 16 MiB readers accept") == 1, out
        after = read_snapshot(own)
        assert after is not None and after.seq == seq  # the last good file stays
        assert "MiB is too big" in kernel.run("%tensorviews live status")
