"""Pure parts of the live channel in the server: matching documents, names under the cursor,
hover facts and rule inputs from a kernel's summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lsp_server.live_state import describe, known_types, name_at, path_matches
from tensorviews.live.files import KernelSnapshot

GRAPH = {
    "tensors": [
        {"id": "t0", "names": ["a"], "library": "torch", "dtype": "float32", "shape": [2, 2],
         "device": "cuda:0", "storage": "s3", "offset": 0},
        {"id": "t1", "names": ["b", "model.w"], "library": "torch", "dtype": "float32",
         "shape": [2], "device": "cuda:0", "storage": "s3", "offset": 2},
        {"id": "t2", "names": ["n"], "library": "numpy", "dtype": "int64", "shape": [],
         "device": "cpu", "storage": "s4", "offset": 0},
    ]
}
NAMES: dict[str, dict[str, Any]] = {
    "a": {"kind": "torch", "ndim": 2}, "b": {"kind": "torch", "ndim": 1},
    "xs": {"kind": "list", "type": "list"}, "thing": {"kind": "unknown", "type": "Thing"},
    # alone on its storage: not in the drawn graph, described from the name summary
    "lone": {"kind": "torch", "type": "Tensor", "library": "torch", "shape": [3], "ndim": 1,
             "dtype": "float32", "device": "cpu", "storage": "s9", "offset": 0},
}
SNAPSHOT = KernelSnapshot(
    path=Path("k.json"), kernel_id="k1", pid=1, notebook_path=None, time=0.0, seq=1,
    names=NAMES, graph=GRAPH,
)


@pytest.mark.parametrize(
    ("kernel_path", "document", "expected"),
    [
        ("/home/u/nb.ipynb", "/home/u/nb.ipynb", True),
        ("/home/u/nb.ipynb", "/home/u/other.ipynb", False),
        ("work/nb.ipynb", "/srv/root/work/nb.ipynb", True),
        ("nb.ipynb", "/srv/root/work/xnb.ipynb", False),
        ("./work/../nb.ipynb", "/srv/nb.ipynb", True),
    ],
)
def test_path_matches(kernel_path: str, document: str, expected: bool) -> None:
    assert path_matches(kernel_path, document) is expected


@pytest.mark.parametrize(
    ("line", "column", "expected"),
    [
        ("a[0], b[0] = b[0], a[0]", 0, ["a"]),
        ("a[0], b[0] = b[0], a[0]", 7, ["b"]),
        ("y = model.w + 1", 11, ["model.w", "model"]),
        ("y = model.w + 1", 6, ["model"]),
        ("    ", 2, []),
    ],
)
def test_name_at(line: str, column: int, expected: list[str]) -> None:
    assert name_at(line, column) == expected


def test_describe_and_known_types() -> None:
    assert describe(SNAPSHOT, "b") == (
        "b: torch.float32 [2] on cuda:0, shares memory with a, offset 2"
    )
    assert describe(SNAPSHOT, "model.w") == (
        "model.w: torch.float32 [2] on cuda:0, shares memory with a, offset 2"
    )
    assert describe(SNAPSHOT, "n") == "n: numpy.int64 [] on cpu, offset 0"
    assert describe(SNAPSHOT, "xs") == "xs: list"
    assert describe(SNAPSHOT, "lone") == "lone: torch.float32 [3] on cpu, offset 0"
    assert describe(SNAPSHOT, "nothing") is None
    assert known_types(SNAPSHOT) == (
        {"a": "torch", "b": "torch", "xs": "list", "lone": "torch"}, {"a": 2, "b": 1, "lone": 1}
    )
    assert known_types(None) == ({}, {})


def test_wrongly_typed_name_entries_are_skipped_and_the_rest_used() -> None:
    names: dict[Any, Any] = {
        "bad_kind": {"kind": ["torch"], "ndim": 2},
        "bad_ndim": {"kind": "torch", "ndim": True},
        "not_a_dict": ["torch"],
        "good": {"kind": "numpy", "ndim": 1},
    }
    snapshot = KernelSnapshot(
        path=Path("k.json"), kernel_id="k1", pid=1, notebook_path=None, time=0.0, seq=1,
        names=names, graph={},
    )
    kinds, ndims = known_types(snapshot)
    assert kinds == {"bad_ndim": "torch", "good": "numpy"}
    assert ndims == {"good": 1}
