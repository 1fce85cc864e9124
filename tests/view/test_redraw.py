"""A drawing redrawn cell after cell (the live file, ``%tensorgraph``) is the drawing made from
nothing: remembered labels never outlive what they were drawn from."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from tensorviews import Snapshotter, StorageGraph, StorageNode, TensorNode
from tensorviews.insight import diff_graphs
from tensorviews.render.dot import forget_drawn_labels
from tensorviews.view import view, view_document


def cells() -> list[dict[str, Any]]:
    """Namespaces of successive cells, each changing what a label is drawn from."""
    torch.manual_seed(0)
    first = torch.rand(4, 4)
    a = torch.rand(8, 8)
    rows = list(a[:3])
    ns1: dict[str, Any] = {"first": first, "a": a, "row": a[1], "rows": rows, "n": np.zeros(6)}
    # An early name goes away: every id after it is renumbered, labels stay.
    ns2 = {k: v for k, v in ns1.items() if k != "first"}
    # The same tensor under another name, a view that moves along its storage, a new sharing.
    ns3 = {**ns2, "alias": a, "row": a[5], "b": torch.rand(3), "bv": torch.rand(3)}
    ns3["bv"] = ns3["b"][1:]
    # A view that grows (same id, same storage, another extent: its strip changes), a
    # storage whose owner goes away (named after its remaining view), a numpy view of torch.
    ns4 = {**ns3, "row": a[5:7]}
    del ns4["a"], ns4["alias"]
    ns4["arr"] = ns4["b"].numpy()[:2]
    # Many tensors: the interesting part of a big graph, drawn without per-view strips.
    ns5 = {**ns4, "many": [torch.rand(2) for _ in range(60)], "m": torch.empty(4, device="meta")}
    ns6 = {**ns5, "many": [torch.rand(2) for _ in range(60)]}
    return [ns1, ns2, ns3, ns4, ns5, ns6]


def test_every_redrawn_view_equals_the_view_drawn_from_nothing() -> None:
    snapshotter = Snapshotter()
    previous = None
    seen: list[str] = []
    for namespace in cells():
        graph = snapshotter.snapshot(namespace)
        changes = diff_graphs(previous, graph) if previous is not None else None
        previous = graph
        shown = view(graph, changes)
        remembered = view_document(shown)["dot"]
        remembered_again = shown.to_dot()
        forget_drawn_labels()
        fresh = shown.to_dot()
        assert remembered == fresh
        assert remembered_again == fresh
        seen.append(fresh)
    # The cells really changed the drawing, so the comparisons above compared something.
    assert len(set(seen)) == len(seen)
    assert "storage of row" in seen[3] and "a[5:7]" not in seen[3]
    assert seen[2].count("alias") >= 1


def test_a_label_drawn_for_one_graph_is_not_used_for_another_with_the_same_ids() -> None:
    x = torch.rand(4)
    one = view(Snapshotter().snapshot({"x": x, "xv": x[1:]})).to_dot()
    y = torch.rand(6)
    two = view(Snapshotter().snapshot({"y": y, "yv": y[2:]})).to_dot()
    forget_drawn_labels()
    assert two == view(Snapshotter().snapshot({"y": y, "yv": y[2:]})).to_dot()
    assert "yv" in two and "xv" not in two and one != two


def unnamed(tid: str, storage: str | None) -> TensorNode:
    return TensorNode(
        id=tid, names=(), library="torch", type_name="Tensor", storage=storage, shape=(2,),
        stride=(1,), offset=0, byte_offset=0, stride_bytes=(4,), dtype="float32", itemsize=4,
        device="cpu",
    )


def test_what_is_drawn_by_its_id_is_redrawn_when_the_id_changes() -> None:
    # A tensor without a name is drawn as its id, a storage without a drawn tensor as its id:
    # the same content under another id is another label.
    one = StorageGraph(
        storages=(StorageNode("s0", "cpu", 8), StorageNode("s1", "cpu", 16)),
        tensors=(unnamed("t0", "s0"),),
    ).to_dot()
    two = StorageGraph(
        storages=(StorageNode("s1", "cpu", 8), StorageNode("s0", "cpu", 16)),
        tensors=(unnamed("t1", "s1"),),
    ).to_dot()
    assert "&lt;t0&gt;" in one and "&lt;t1&gt;" in two and "&lt;t0&gt;" not in two
    assert "storage s1" in one and "storage s0" in two and "storage s1" not in two
