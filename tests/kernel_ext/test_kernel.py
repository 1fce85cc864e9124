"""The extension in a real kernel (nbclient + ipykernel), used as a notebook user would."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from tensorviews.graph.model import MIME_TYPE, SCHEMA
from tests.kernel_ext.notebook_runner import display_bundles, run_cells, stream_text


def test_load_ext_tensorgraph_bundle_and_unload() -> None:
    nb = run_cells(
        [
            "import sys\nbefore = len(get_ipython().events.callbacks['post_run_cell'])",
            "%load_ext tensorviews",
            "import torch\ntorch.manual_seed(0)\na = torch.rand(2, 2)\nb = torch.rand(2, 2)\n"
            "row = a[0]\ncache = {'<b>k</b>': [b[1]]}",
            "%tensorgraph",
            "%tensorgraph row --format json",
            "%tensorgraph --format text",
            "%unload_ext tensorviews\nline_magics = get_ipython().magics_manager.magics['line']\n"
            "print(len(get_ipython().events.callbacks['post_run_cell']) == before,"
            " 'tensorgraph' in line_magics, 'tensorviews' in line_magics)",
        ]
    )
    (full,) = display_bundles(nb.cells[3])
    assert {"text/plain", MIME_TYPE} <= set(full)
    if shutil.which("dot"):
        assert full["image/svg+xml"].lstrip().startswith("<svg")
        assert "&lt;b&gt;k&lt;/b&gt;" in full["image/svg+xml"]
    graph = full[MIME_TYPE]
    assert graph["schema"] == SCHEMA
    names = {n for t in graph["tensors"] for n in t["names"]}
    assert names == {"a", "b", "row", "cache['<b>k</b>'][0]"}
    assert len(graph["storages"]) == 2

    (focused,) = display_bundles(nb.cells[4])
    focused_graph = json.loads(focused["text/plain"])
    assert {n for t in focused_graph["tensors"] for n in t["names"]} == {"a", "row"}

    (text,) = display_bundles(nb.cells[5])
    assert set(text) == {"text/plain"}
    assert text["text/plain"].startswith("Storage graph: 2 storages, 4 tensors/arrays")
    assert stream_text(nb.cells[6]).split() == ["True", "False", "False"]


def test_kernel_ext_name_loads_too_and_double_load_registers_once() -> None:
    nb = run_cells(
        [
            "n0 = len(get_ipython().events.callbacks['post_run_cell'])",
            "%load_ext kernel_ext",
            "%load_ext tensorviews",
            "print(len(get_ipython().events.callbacks['post_run_cell']) - n0)",
            "import numpy as np\nx = np.zeros((3, 3))\ncol = x[:, 1]\nimport sys\n"
            "print('torch' in sys.modules)",
            "%tensorgraph --format text",
        ]
    )
    assert stream_text(nb.cells[3]).strip() == "1"
    assert stream_text(nb.cells[4]).strip() == "False"  # numpy users never import torch
    text = display_bundles(nb.cells[5])[0]["text/plain"]
    assert "col" in text and "numpy float64" in text


HOSTILE_SETUP = """
import torch, numpy as np
class Hostile:
    @property
    def __class__(self):
        raise RuntimeError("no class")
    def __getattr__(self, name):
        return torch.rand(3)
h = Hostile()
loop = []
loop.append(loop)
sparse = torch.eye(2).to_sparse()
nested = torch.nested.nested_tensor([torch.rand(2), torch.rand(3)])
empty = torch.empty(0)
floats = [0.1] * 1_000_000
40 + 2
"""


def test_hostile_namespace_never_breaks_a_cell_and_problems_are_reported_once() -> None:
    nb = run_cells(
        [
            "%load_ext tensorviews",
            "import warnings\nwarnings.simplefilter('ignore')\n" + HOSTILE_SETUP,
            "41 + 1",
            "%tensorgraph --all --format text",
            "'still fine'",
        ]
    )
    assert display_bundles(nb.cells[1]) == [{"text/plain": "42"}]
    assert display_bundles(nb.cells[2]) == [{"text/plain": "42"}]
    assert display_bundles(nb.cells[4]) == [{"text/plain": "'still fine'"}]
    errors = [o for c in nb.cells for o in c.outputs if o.output_type == "error"]
    assert errors == []
    reports = [
        line
        for c in nb.cells
        for line in stream_text(c, "stderr").splitlines()
        if line.startswith("tensorviews:")
    ]
    assert len(reports) == len(set(reports))  # each problem once
    assert all("Traceback" not in line for line in reports)
    text = display_bundles(nb.cells[3])[0]["text/plain"]
    assert "sparse" in text and "empty" in text


def test_deleted_tensor_is_freed_after_the_hook_has_seen_it() -> None:
    nb = run_cells(
        [
            "%load_ext tensorviews",
            "import gc, weakref, torch, numpy as np\n"
            "x = torch.rand(1000)\nv = x[10:]\na = np.zeros(100)\n"
            "rx, ra = weakref.ref(x), weakref.ref(a)",
            "%tensorgraph --format json",
            "del x, v, a\ngc.collect()\nprint(rx() is None, ra() is None)",
        ]
    )
    assert stream_text(nb.cells[3]).split() == ["True", "True"]


@pytest.mark.skipif(shutil.which("dot") is None, reason="checks behaviour with dot present")
def test_missing_dot_says_so_once_and_still_shows_text_and_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent-for-tensorviews-test")
    nb = run_cells(
        [
            "%load_ext tensorviews",
            "import torch\nt = torch.zeros(3)\nv = t[1:]",
            "%tensorgraph",
            "%tensorgraph",
        ]
    )
    bundle = display_bundles(nb.cells[2])[0]
    assert "image/svg+xml" not in bundle and {"text/plain", MIME_TYPE} <= set(bundle)
    first = stream_text(nb.cells[2], "stderr").strip().splitlines()
    assert len(first) == 1 and "graphviz" in first[0]
    assert "graphviz" not in stream_text(nb.cells[3], "stderr")
    assert os.environ["PATH"].startswith("/nonexistent")


def test_bad_magic_arguments_are_one_line_usage_errors() -> None:
    nb = run_cells(
        ["%load_ext tensorviews", "%tensorgraph --format png", "%tensorgraph nothing_here"],
        allow_errors=True,
    )
    messages = [stream_text(cell, "stderr") for cell in nb.cells[1:]]
    assert messages[0].startswith("UsageError: argument --format: invalid choice: 'png'")
    assert messages[0].count("\n") == 1
    assert messages[1] == "UsageError: no tensor or array named nothing_here\n"
