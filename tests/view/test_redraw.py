"""A drawing redrawn cell after cell (the live file, ``%tensorgraph``) is the drawing made from
nothing: remembered labels never outlive what they were drawn from."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import torch

from tensorviews import Snapshotter, StorageGraph, StorageNode, TensorNode
from tensorviews.insight import diff_graphs
from tensorviews.render.dot import forget_drawn_labels
from tensorviews.view import DocumentMemo, ViewOptions, view, view_document


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


def test_a_reused_document_equals_the_document_made_anew_cell_after_cell() -> None:
    """The live file's document is reused while the view draws the same: across cells that
    rebind, rename, share, write in place, reshape in place and delete, the text it hands
    back is always the text made from nothing, and it is reused where nothing drawn changed."""
    torch.manual_seed(0)
    ns: dict[str, Any] = {"a": torch.rand(8, 8), "b": torch.rand(3), "x": torch.rand(3)}
    ns["rows"] = list(ns["a"][:3])
    steps: list[tuple[str, bool]] = [
        ("ns['a'].add_(1)", True),  # a write moves version counters, draws nothing new
        ("ns['x'] = torch.rand(3)", False),  # a new lone tensor: notes say so
        ("ns['x'] = torch.rand(3)", True),  # and again: the same drawing
        ("ns['a'].add_(1)", False),  # nothing new since the last cell: the notes go
        ("ns['a'].add_(1)", True),
        ("ns['bv'] = ns['b'][1:]", False),  # new sharing
        ("ns['b2'] = ns.pop('b')", False),  # a name changes
        ("ns['bv'].unsqueeze_(0)", False),  # the same tensor, another shape
        ("del ns['rows'][0]", False),  # a death: a view is gone
        ("ns['many'] = [torch.rand(2) for _ in range(60)]", False),  # the interesting part
        ("ns['many'] = [torch.rand(2) for _ in range(60)]", False),  # renewed: notes differ
        ("ns['x'] = torch.rand(3)", False),  # not drawn: only the notes change
        ("ns['x'] = torch.rand(3)", True),
        ("del ns['bv']", False),
    ]
    snapshotter = Snapshotter()
    memo = DocumentMemo()
    graph = snapshotter.snapshot(ns)
    text = memo.json(view(graph))
    reused: list[bool] = []
    for step, _ in steps:
        exec(step, {"ns": ns, "torch": torch})
        previous, graph = graph, snapshotter.snapshot(ns)
        shown = view(graph, diff_graphs(previous, graph))
        last, text = text, memo.json(shown)
        reused.append(text is last)
        forget_drawn_labels()
        assert text == json.dumps(view_document(shown)), step
        assert json.loads(text) == view_document(view(graph, diff_graphs(previous, graph)))
    assert reused == [same for _, same in steps]


def test_a_capped_view_draws_each_shared_storage_with_all_its_views() -> None:
    """Past the node cap, a shared storage is drawn whole (both the tensor and its slice, and
    their overlap), never as one lone-looking view."""
    ts = [torch.rand(3) for _ in range(1000)]
    ns = {"ts": ts, "rows": [t[1:] for t in ts[:400]]}
    document = view_document(view(Snapshotter().snapshot(ns)))
    views: dict[str, int] = {}
    for t in document["tensors"]:
        views[t["storage"]] = views.get(t["storage"], 0) + 1
    assert len(document["tensors"]) == 300
    assert set(views.values()) == {2} and len(views) == len(document["storages"]) == 150
    assert len(document["overlaps"]) == 150
    assert sum(g["count"] for g in document["groups"]) == 800 - 300
    # A cap that falls inside a storage leaves that storage to the groups, whole.
    odd = view_document(view(Snapshotter().snapshot(ns), options=ViewOptions(max_nodes=301)))
    assert len(odd["tensors"]) == 300 and len(odd["storages"]) == 150
    assert sum(g["count"] for g in odd["groups"]) == 800 - 300


def test_the_names_summary_after_each_cell_is_the_summary_made_from_nothing() -> None:
    """The live file's names summary, made again only for the rows a patched graph replaced,
    is the summary made from the whole graph, in the same order, cell after cell."""
    from kernel_ext.live import summarize, summarize_after

    torch.manual_seed(0)
    ns: dict[str, Any] = {f"t{i}": torch.rand(3) for i in range(80)}
    ns["ts"] = [torch.rand(2) for _ in range(40)]
    kinds = {"f": ("function", "function")}  # the same kinds object while the types are
    changes = [
        lambda: ns.update(t5=torch.rand(3)),  # the same shape: the same entry
        lambda: ns.update(t7=torch.rand(2, 2)),  # another shape, dtype and device below
        lambda: ns.update(t7=torch.zeros(4, dtype=torch.int64)),
        lambda: ns.update(t9=torch.empty(3, device="meta")),
        lambda: ns.update(t3=ns["t4"][1:]),  # a view of another name: built afresh
        lambda: ns.update(t3=torch.rand(3)),
        lambda: ns.update(late=torch.rand(3)),  # a name added last
        lambda: ns.update(late=torch.rand(5)),
        lambda: ns.pop("late"),
        lambda: ns["ts"].__setitem__(3, torch.rand(4)),  # an item: no top-level name
        lambda: ns.update(t0=np.zeros(3)),
        lambda: ns.update(t0=torch.rand(3)),
    ]
    snapshotter = Snapshotter()
    summary = summarize_after(None, snapshotter.snapshot(ns), kinds)
    patched = 0
    for change in changes:
        change()
        graph = snapshotter.snapshot(ns)
        patched += graph.index().replaced is not None
        summary = summarize_after(summary, graph, kinds)
        fresh, omitted = summarize(graph, kinds)
        assert list(summary.names.items()) == list(fresh.items())
        assert summary.omitted == omitted == 0
    assert patched >= 8  # most cells took the patched path
