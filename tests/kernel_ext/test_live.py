"""Snapshot files written by a real kernel: place, permissions, content, atomicity, cleanup."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

from tensorviews.live.files import SNAPSHOT_SCHEMA, read_snapshot, snapshot_path
from tests.kernel_ext.live_kernel import live_kernel


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_snapshot_file_is_private_describes_names_and_goes_away(tmp_path: Path) -> None:
    folder = tmp_path / "tensorviews"
    with live_kernel(tmp_path, JPY_SESSION_NAME="work/demo.ipynb") as kernel:
        path = snapshot_path(folder, kernel.kernel_id)
        kernel.run("%load_ext tensorviews")
        kernel.run(
            "import torch\na = torch.zeros(2, 2)\nb = a.view(-1)[2:]\nxs = [1, 2]\n"
            "d = {'k': 1}\nclass Thing: pass\nthing = Thing()"
        )
        assert mode(folder) == 0o700 and mode(path) == 0o600
        snap = read_snapshot(path)
        assert snap is not None
        assert (snap.kernel_id, snap.pid) == (kernel.kernel_id, kernel.pid)
        assert snap.notebook_path == "work/demo.ipynb"
        assert snap.names["a"] == {
            "kind": "torch", "type": "Tensor", "library": "torch", "shape": [2, 2], "ndim": 2,
            "dtype": "float32", "device": "cpu", "storage": snap.names["b"]["storage"],
            "offset": 0, "tensor": snap.names["a"]["tensor"],
        }
        assert (snap.names["b"]["shape"], snap.names["b"]["offset"]) == ([2], 2)
        assert snap.names["xs"] == {"kind": "list", "type": "list"}
        assert snap.names["d"]["kind"] == "other"
        assert snap.names["thing"] == {"kind": "unknown", "type": "Thing"}
        assert "torch" not in snap.names and "Thing" not in snap.names  # modules, classes
        assert snap.graph["schema"] == "tensorviews.graph/1"
        text = path.read_text()  # one JSON document, as json.dumps writes it, graph last
        assert text == json.dumps(json.loads(text)) and list(json.loads(text))[-1] == "graph"
        assert {n for t in snap.graph["tensors"] for n in t["names"]} == {"a", "b"}
        first_seq = snap.seq

        kernel.run("1 + 1")  # nothing changed: no write
        unchanged = read_snapshot(path)
        assert unchanged is not None and unchanged.seq == first_seq
        kernel.run("xs = 'now a string'")  # no tensor changed, but a kind did
        kind_changed = read_snapshot(path)
        assert kind_changed is not None and kind_changed.seq == first_seq + 1
        assert kind_changed.names["xs"]["kind"] == "other"
        kernel.run("__vsc_ipynb_file__ = '/home/u/nb.ipynb'\nc = a.t()")
        vscode = read_snapshot(path)
        assert vscode is not None and vscode.notebook_path == "/home/u/nb.ipynb"
        assert vscode.seq == first_seq + 2 and vscode.time >= snap.time

        assert "live: on" in kernel.run("%tensorviews live status")
        kernel.run("%tensorviews live off")
        assert not path.exists()
        kernel.run("%tensorviews live on")
        assert path.exists()
        kernel.run("%unload_ext tensorviews")
        assert not path.exists()
        kernel.run("%load_ext tensorviews")
        assert path.exists()
    # The kernel's exit (atexit) removed its own file.
    assert not path.exists()
    assert [p.name for p in folder.iterdir()] == []


def test_readers_never_see_a_torn_file_and_dead_kernels_are_cleaned(tmp_path: Path) -> None:
    folder = tmp_path / "tensorviews"
    folder.mkdir(mode=0o700)
    dead = folder / "kernel-dead.json"
    alive = folder / "kernel-alive.json"
    foreign = folder / "kernel-foreign.json"
    for path, pid in ((dead, dead_pid()), (alive, os.getpid())):
        path.write_text(json.dumps({
            "schema": SNAPSHOT_SCHEMA, "kernelId": path.stem, "pid": pid, "notebookPath": None,
            "time": 0.0, "seq": 1, "names": {}, "graph": {},
        }))
    foreign.write_text('{"schema": "something-else/9"}')

    with live_kernel(tmp_path) as kernel:
        path = snapshot_path(folder, kernel.kernel_id)
        kernel.run("%load_ext tensorviews")
        assert path.exists() and not dead.exists()
        assert alive.exists() and foreign.exists()

        stop = threading.Event()
        reads: list[int] = []
        torn: list[str] = []

        def hammer() -> None:
            while not stop.is_set():
                try:
                    text = path.read_text()
                except FileNotFoundError:
                    continue
                try:
                    reads.append(json.loads(text)["seq"])
                except ValueError:
                    torn.append(text[-80:])

        reader = threading.Thread(target=hammer)
        reader.start()
        try:
            kernel.run("import numpy as np\nxs = []")
            for i in range(40):
                # Each cell changes the graph: a bigger namespace makes each write longer.
                kernel.run(f"xs.append(np.zeros({i + 1}))\nv{i} = xs[-1][:1]")
        finally:
            stop.set()
            reader.join()
        assert torn == []
        assert len(reads) > 40 and reads == sorted(reads)
        final = read_snapshot(path)
        assert final is not None and final.seq >= 41
        assert {f"v{i}" for i in range(40)} <= set(final.names)
    # Only the foreign-schema file and the live process's file remain.
    assert sorted(p.name for p in folder.iterdir()) == ["kernel-alive.json", "kernel-foreign.json"]


REDRAW_CELLS = [
    "import torch\nfirst = torch.rand(4, 4)\na = torch.rand(8, 8)\nrow = a[1]\nrows = list(a[:3])",
    "del first",  # every id after it is renumbered
    "alias = a\nrow = a[5]\nb = torch.rand(3)\nbv = b[1:]",  # a name more, a view moves
    "row = a[5:7]\ndel a, alias\narr = b.numpy()[:2]",  # a view grows, an owner goes away
    "many = [torch.rand(2) for _ in range(60)]",  # past the whole-drawing size
    "many = [torch.rand(2) for _ in range(60)]\nrows[0] = rows[0].clone()",
]


def test_the_drawing_in_the_file_after_each_cell_is_the_drawing_made_from_nothing(
    tmp_path: Path,
) -> None:
    """Two real kernels run the same cells; one draws every label anew after each cell: their
    files carry the same DOT, cell after cell (labels remembered across cells change
    nothing that is drawn)."""
    drawings: dict[str, list[str]] = {"remembered": [], "fresh": []}
    for kind in drawings:
        runtime = tmp_path / kind
        runtime.mkdir()
        with live_kernel(runtime) as kernel:
            if kind == "fresh":  # runs before the extension's own hook: nothing is remembered
                kernel.run(
                    "from tensorviews.render.dot import forget_drawn_labels\n"
                    "get_ipython().events.register("
                    "'post_run_cell', lambda result: forget_drawn_labels())"
                )
            kernel.run("%load_ext tensorviews")
            path = snapshot_path(runtime / "tensorviews", kernel.kernel_id)
            for cell in REDRAW_CELLS:
                kernel.run(cell)
                snap = read_snapshot(path)
                assert snap is not None
                drawings[kind].append(snap.graph["dot"])
    assert drawings["remembered"] == drawings["fresh"]
    assert len(set(drawings["fresh"])) == len(REDRAW_CELLS)  # every cell changed the drawing
    assert "storage of row" in drawings["fresh"][3]


def test_a_cell_that_changes_nothing_drawn_leaves_the_file_alone_and_the_next_change_writes(
    tmp_path: Path,
) -> None:
    """Rebinding a lone tensor beside a hundred others draws the same: nothing to redraw, so
    ``seq`` stays; a new name, a view, or the folder removed under the kernel writes again."""
    folder = tmp_path / "tensorviews"
    with live_kernel(tmp_path) as kernel:
        path = snapshot_path(folder, kernel.kernel_id)
        kernel.run("%load_ext tensorviews")
        kernel.run("import torch\nts = [torch.rand(3) for _ in range(100)]\nx = torch.rand(3)")
        kernel.run("x = torch.rand(3)")  # the first rebinding says "1 new storage: x"
        first = read_snapshot(path)
        assert first is not None
        for _ in range(3):
            kernel.run("x = torch.rand(3)")
            again = read_snapshot(path)
            assert again is not None and (again.seq, again.time) == (first.seq, first.time)
        kernel.run("y = x[1:]")
        shared = read_snapshot(path)
        assert shared is not None and shared.seq == first.seq + 1
        assert {"x", "y"} <= set(shared.names)
        assert any("y" in t["names"] for t in shared.graph["tensors"])
        path.unlink()
        folder.rmdir()
        kernel.run("z = torch.rand(2)")
        rewritten = read_snapshot(path)
        assert rewritten is not None and rewritten.seq == shared.seq + 1
        assert mode(folder) == 0o700 and "z" in rewritten.names
