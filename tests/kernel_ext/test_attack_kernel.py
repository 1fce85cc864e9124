"""Attack suite, the kernel's part: what a user sees in a real kernel (nbclient / jupyter_client)
with hostile or unusual objects in the namespace (issue 19; the core's part is in
test_attack_core.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tensorviews.live.files import read_snapshot, snapshot_path
from tests.kernel_ext.live_kernel import live_kernel
from tests.kernel_ext.notebook_runner import display_bundles, run_cells, stream_text

ODD = (
    "import torch\n"
    "t = torch.zeros(3)\n"
    "globals()[1] = t\n"
    "globals()['a\\udcff'] = t[1:]\n"
    "nt = torch.nested.nested_tensor([torch.zeros(2, 3), torch.zeros(4, 3)],"
    " layout=torch.jagged)\n"
    "first = nt.values()[:2]\n"
    "obj = [t] * 100_000\n"
)
FORMATS = ("text", "dot", "json", "svg")


@pytest.fixture(scope="module")
def odd_notebook() -> Any:
    cells = ["%load_ext tensorviews", ODD, *(f"%tensorgraph --format {f}" for f in FORMATS),
             "%tensorgraph"]
    return run_cells(cells, timeout=300)


def test_odd_names_jagged_tensors_and_many_names_draw_in_every_format(odd_notebook: Any) -> None:
    cells = odd_notebook.cells
    for cell in cells:
        assert stream_text(cell, "stderr") == ""  # no "tensorviews: ... failed" line
        assert not [o for o in cell.outputs if o.output_type == "error"]
    (text,) = display_bundles(cells[2])
    assert "globals()[1]" in text["text/plain"] and "a\\udcff" in text["text/plain"]
    assert "nt.values()" in text["text/plain"]
    (document,) = display_bundles(cells[4])
    names = [t["names"] for t in document["application/json"]["tensors"]]
    assert ["t", "globals()[1]", "obj[0]", "obj[1]", "… and 99,998 more names"] in names
    assert ["a\\udcff"] in names and ["nt.values()"] in names
    (svg,) = display_bundles(cells[5])
    assert "<svg" in svg["image/svg+xml"]
    (bundle,) = display_bundles(cells[6])
    assert "<svg" in bundle["image/svg+xml"] and "j1" not in str(bundle)


def test_the_live_file_keeps_up_after_odd_names_and_jagged_tensors(tmp_path: Path) -> None:
    with live_kernel(tmp_path) as kernel:
        path = snapshot_path(tmp_path / "tensorviews", kernel.kernel_id)
        kernel.run("%load_ext tensorviews")
        assert kernel.run(ODD) == ""
        assert kernel.run("later = torch.ones(2)") == ""
        snap = read_snapshot(path)
        assert snap is not None and snap.names["later"]["shape"] == [2]
        names = {n for t in snap.graph["tensors"] for n in t["names"]}
        assert {"globals()[1]", "a\\udcff", "nt.values()", "first"} <= names


HOSTILE = (
    "import torch\n"
    "calls = []\n"
    "class Box:\n"
    "    @property\n"
    "    def __class__(self):\n        calls.append('__class__')\n        return Box\n"
    "class Items(list):\n"
    "    def __len__(self):\n        calls.append('__len__')\n        return list.__len__(self)\n"
    "class Meta(type):\n"
    "    def __getattr__(cls, name):\n        calls.append('meta')\n"
    "        raise AttributeError(name)\n"
    "class Pair(tuple, metaclass=Meta):\n    pass\n"
    "class Net(torch.nn.Module):\n"
    "    def __init__(self):\n        super().__init__()\n        self.fc = torch.nn.Linear(2, 2)\n"
    "    def __getattr__(self, name):\n        calls.append('getattr')\n"
    "        return super().__getattr__(name)\n"
    "    def named_parameters(self, *a, **k):\n        calls.append('named_parameters')\n"
    "        return super().named_parameters(*a, **k)\n"
    "class Sub(torch.Tensor):\n"
    "    @classmethod\n"
    "    def __torch_function__(cls, func, types, args=(), kwargs=None):\n"
    "        calls.append('torch_function')\n"
    "        return super().__torch_function__(func, types, args, kwargs or {})\n"
    "box = Box()\n"
    "items = Items([torch.zeros(2), Box()])\n"
    "pair = Pair((torch.zeros(1), 2))\n"
    "net = Net()\n"
    "opt = torch.optim.SGD(net.fc.parameters(), lr=0.1)\n"
    "s = torch.arange(4.0).as_subclass(Sub)\n"
    "with torch._C.DisableTorchFunctionSubclass():\n"
    "    s_view = s[1:]\n"
    "calls.clear()\n"
)


@pytest.mark.parametrize("guard", ["warn", "off"])
def test_no_user_code_runs_in_the_hook_cell_after_cell(guard: str) -> None:
    cells = ["%load_ext tensorviews", f"%tensorviews guard {guard}", HOSTILE,
             "x = 1", "s_more = None", "%tensorgraph --format text", "print(calls)"]
    nb = run_cells(cells, timeout=180)
    assert stream_text(nb.cells[-1]) == "[]\n"
    (text,) = display_bundles(nb.cells[5])
    for name in ("net.fc.weight", "items[0]", "pair[0]", "s_view"):
        assert name in text["text/plain"]


def test_error_mode_stops_run_all_at_a_run_time_swap(tmp_path: Path) -> None:
    """"Run all" sends every cell at once; the kernel drops the queued ones after an error."""
    with live_kernel(tmp_path) as kernel:
        kernel.run("%load_ext tensorviews")
        kernel.run("%tensorviews guard error")
        kernel.run("import torch\ndef swap(x):\n    x[0], x[1] = x[1], x[0]\n")
        client = kernel.client
        first = client.execute("m = torch.arange(6).reshape(3, 2)\nswap(m[:, 0])\n"
                               "print('went on')")
        second = client.execute("print('second cell ran')")
        replies: dict[str, Any] = {}
        while len(replies) < 2:
            reply = client.get_shell_msg(timeout=60)
            replies[reply["parent_header"]["msg_id"]] = reply["content"]
        assert replies[first]["status"] == "error"
        assert replies[first]["ename"] == "SwapStopped"
        assert replies[second]["status"] == "aborted"
        out = kernel.run("print(m[:, 0].tolist())")
        assert out == "[0, 2, 4]\n"  # nothing was stored
