"""The storage graph built from a namespace: storages, names, views, overlaps, safety."""

from __future__ import annotations

import gc
import weakref
from collections import OrderedDict, namedtuple
from typing import Any

import numpy as np
import pytest
import torch

from tensorviews import Snapshotter, snapshot
from tensorviews.graph.model import StorageGraph
from tensorviews.graph.namespace_walk import WalkLimits
from tensorviews.view import interesting_view


def storage_of(graph: StorageGraph, name: str) -> str | None:
    t = graph.by_name(name)
    assert t is not None, name
    return t.storage


def test_seed_example_views_share_storage_but_rows_do_not_overlap() -> None:
    a = torch.rand(2, 2)
    b = torch.rand(2, 2)
    graph = snapshot({"a": a, "b": b, "a0": a[0], "a1": a[1], "b0": b[0]})
    assert storage_of(graph, "a0") == storage_of(graph, "a") == storage_of(graph, "a1")
    assert storage_of(graph, "b0") != storage_of(graph, "a")
    assert graph.overlapping("a", "a0")
    assert not graph.overlapping("a0", "a1")
    a1 = graph.by_name("a1")
    assert a1 is not None
    assert (a1.shape, a1.stride, a1.offset, a1.dtype) == ((2,), (1,), 2, "float32")
    assert a1.base == graph.by_name("a").id  # type: ignore[union-attr]
    (s,) = [s for s in graph.storages if s.id == a1.storage]
    assert (s.device, s.nbytes, s.libraries) == ("cpu", 16, ("torch",))


def test_interleaved_columns_do_not_overlap_and_expand_overlaps_itself() -> None:
    x = torch.arange(12.0).reshape(3, 4)
    graph = snapshot({"x": x, "ev": x[:, ::2], "od": x[:, 1::2], "e": x[0].expand(5, 4)})
    assert not graph.overlapping("ev", "od")
    assert graph.overlapping("e", "ev")
    e = graph.by_name("e")
    assert e is not None and e.self_overlap and e.stride == (0, 1)
    assert e.logical_nbytes == 5 * 4 * 4


def test_numpy_and_torch_on_one_storage() -> None:
    arr = np.arange(6.0)
    t = torch.from_numpy(arr)
    x = torch.zeros(2, 3)
    n = x.numpy()
    graph = snapshot({"arr": arr, "t": t, "x": x, "n": n, "tail": arr[3:]})
    assert storage_of(graph, "arr") == storage_of(graph, "t") == storage_of(graph, "tail")
    assert storage_of(graph, "x") == storage_of(graph, "n")
    storages = {s.id: s for s in graph.storages}
    assert storages[storage_of(graph, "t")].libraries == ("numpy", "torch")  # type: ignore[index]
    assert graph.by_name("tail").offset == 3  # type: ignore[union-attr]
    assert not graph.overlapping("x", "arr")


def test_numpy_arrays_over_a_few_tensors_among_many_are_on_their_storages() -> None:
    """Among a hundred storages, numpy arrays over three tensors (one over two rows of a
    matrix, one over a part of a list item, one that a torch view also sees) are each drawn on
    the storage of the tensor they read, and nothing else is merged."""
    ts = [torch.rand(4) for _ in range(100)]
    m = torch.rand(6, 4)
    ns: dict[str, Any] = {
        "ts": ts, "m": m, "rows": m.numpy()[2:4], "part": ts[7].numpy()[1:3],
        "whole": ts[50].numpy(), "tail": ts[50][2:],
    }
    graph = snapshot(ns)
    assert storage_of(graph, "rows") == storage_of(graph, "m")
    assert storage_of(graph, "part") == storage_of(graph, "ts[7]")
    assert storage_of(graph, "whole") == storage_of(graph, "tail") == storage_of(graph, "ts[50]")
    assert len(graph.storages) == 101  # ts and m: three arrays and one view share theirs
    assert graph.overlapping("whole", "tail") and not graph.overlapping("part", "ts[8]")


def test_negative_strides_and_reinterpreted_dtype() -> None:
    arr = np.arange(8, dtype=np.int32)
    rev = arr[::-1]
    raw = arr.view(np.uint8)
    graph = snapshot({"arr": arr, "rev": rev, "raw": raw, "bytes_of_1": raw[4:8]})
    r = graph.by_name("rev")
    assert r is not None and r.stride == (-1,) and r.offset == 7
    assert graph.overlapping("bytes_of_1", "rev")
    assert graph.by_name("raw").dtype == "uint8"  # type: ignore[union-attr]


def test_meta_tensors_have_identity_without_pointers() -> None:
    m1 = torch.empty(3, 4, device="meta")
    m2 = torch.empty(3, 4, device="meta")
    graph = snapshot({"m1": m1, "m2": m2, "row": m1[1]})
    assert storage_of(graph, "row") == storage_of(graph, "m1") != storage_of(graph, "m2")
    assert {s.device for s in graph.storages} == {"meta"}
    assert graph.by_name("row").offset == 4  # type: ignore[union-attr]


def test_access_paths_into_containers_modules_and_optimizers() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
    model(torch.rand(4, 2)).sum().backward()
    opt = torch.optim.Adam(model.parameters())
    opt.step()
    Pair = namedtuple("Pair", "k v")
    cache = {"k": [torch.rand(2)], ("layer", 1): Pair(torch.rand(1), None)}
    od = OrderedDict(x=torch.rand(1))
    graph = snapshot({"model": model, "cache": cache, "opt": opt, "od": od})
    names = {n for t in graph.tensors for n in t.names}
    assert {
        "model.0.weight", "model.0.bias", "model.1.running_mean", "model.0.weight.grad",
        "cache['k'][0]", "cache[('layer', 1)].k", "od['x']",
        "opt.state[model.0.weight]['exp_avg']",
    } <= names
    weight = graph.by_name("model.0.weight")
    assert weight is not None and weight.is_parameter and weight.requires_grad


def test_tied_weights_are_one_tensor_with_two_names() -> None:
    emb = torch.nn.Embedding(10, 4)
    head = torch.nn.Linear(4, 10, bias=False)
    head.weight = emb.weight
    model = torch.nn.ModuleDict({"emb": emb, "head": head})
    graph = snapshot({"model": model})
    tied = graph.by_name("model.emb.weight")
    assert tied is not None and "model.head.weight" in tied.names and tied.is_tied
    assert "tied parameter" in graph.to_text() and "tied parameter" in graph.to_dot()
    assert graph.to_dict()["tensors"][0]["tied"] is True


def test_one_module_under_two_names_is_not_tying_but_a_block_used_twice_is() -> None:
    """Tying is one parameter at two places of a module, not one module reached twice."""
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU())
    block = torch.nn.Linear(2, 2)
    twice = torch.nn.Sequential(block, torch.nn.ReLU(), block)
    snap = Snapshotter()
    ns: dict[str, Any] = {"model": model, "first": model[0], "twice": twice}
    graph = snap.snapshot(ns)
    aliased = graph.by_name("first.weight")
    assert aliased is not None and aliased.names == ("model.0.weight", "first.weight")
    assert not aliased.is_tied
    (line,) = [
        ln for ln in graph.to_text().splitlines()
        if "model.0.weight" in ln and not ln.lstrip().startswith("storage of")
    ]
    assert line.endswith("parameter") and "tied" not in line
    shared = graph.by_name("twice.0.weight")
    assert shared is not None and shared.names == ("twice.0.weight", "twice.2.weight")
    assert shared.is_tied
    del ns["twice"]  # the only module that held it twice: no longer tied
    ns["block"] = block
    again = snap.snapshot(ns)
    untied = again.by_name("block.weight")
    assert untied is not None and not untied.is_tied


def test_tied_parameters_are_in_the_default_view() -> None:
    emb = torch.nn.Embedding(10, 4)
    head = torch.nn.Linear(4, 10, bias=False)
    head.weight = emb.weight
    ns = {"model": torch.nn.Sequential(emb, head), **{f"w{i}": torch.zeros(2) for i in range(50)}}
    view = interesting_view(snapshot(ns), None, [])
    assert [t.names for t in view.tensors] == [("model.0.weight", "model.1.weight")]


def test_ipython_names_are_ignored() -> None:
    t = torch.rand(1)
    graph = snapshot({"_": t, "_3": t, "_i3": "x", "Out": {3: t}, "In": ["x"], "t": t})
    assert [tensor.names for tensor in graph.tensors] == [("t",)]


class Hostile:
    """Properties that raise and a __getattr__ that returns anything."""

    @property
    def __class__(self) -> Any:  # type: ignore[override]
        raise RuntimeError("no class for you")

    def __getattr__(self, name: str) -> Any:
        return torch.rand(2)

    def __len__(self) -> int:
        raise RuntimeError("no len")


class HostileDict(dict):  # type: ignore[type-arg]
    def items(self) -> Any:
        raise RuntimeError("boom")

    def __iter__(self) -> Any:
        raise RuntimeError("boom")


def test_hostile_objects_and_cycles_never_raise() -> None:
    loop: list[Any] = []
    loop.append(loop)
    d: dict[str, Any] = {"t": torch.rand(1)}
    d["self"] = d
    hd = HostileDict(x=torch.rand(1))
    graph = snapshot({"h": Hostile(), "loop": loop, "d": d, "hd": hd})
    assert graph.by_name("d['t']") is not None
    assert graph.by_name("hd['x']") is not None  # dict.items, not the override


def test_unusual_tensors_are_reported_not_raised() -> None:
    sparse = torch.eye(3).to_sparse()
    empty = torch.empty(0, 3)
    q = torch.quantize_per_tensor(torch.rand(3), 0.1, 0, torch.quint8)
    nested = torch.nested.nested_tensor([torch.rand(2), torch.rand(3)])

    class MyTensor(torch.Tensor):
        pass

    sub = torch.rand(2).as_subclass(MyTensor)
    graph = snapshot({"sparse": sparse, "empty": empty, "q": q, "nested": nested, "sub": sub})
    sp = graph.by_name("sparse")
    assert sp is not None and sp.storage is None and sp.layout == "sparse_coo"
    assert graph.by_name("empty").shape == (0, 3)  # type: ignore[union-attr]
    assert graph.by_name("q").dtype == "quint8"  # type: ignore[union-attr]
    assert graph.by_name("sub").type_name == "MyTensor"  # type: ignore[union-attr]
    drawn_or_reported = graph.by_name("nested") is not None or any(
        p.startswith("nested:") for p in graph.problems
    )
    assert drawn_or_reported


def test_million_floats_list_is_not_walked() -> None:
    floats = [0.5] * 1_000_000
    graph = snapshot({"floats": floats, "t": torch.rand(1)})
    assert [t.names for t in graph.tensors] == [("t",)]


def test_width_bound_is_reported() -> None:
    graph = snapshot({"ts": [torch.rand(1) for _ in range(20)]}, WalkLimits(max_items=5))
    assert len(graph.tensors) == 5
    assert graph.truncated and "first 5 of 20" in graph.truncated[0]


def test_no_strong_references_kept() -> None:
    snap = Snapshotter()
    ns: dict[str, Any] = {"x": torch.rand(1000), "a": np.zeros(10)}
    ns["v"] = ns["x"][2:]
    snap.snapshot(ns)
    snap.snapshot(ns)
    refs = [weakref.ref(ns["x"]), weakref.ref(ns["a"])]
    ns.clear()
    gc.collect()
    assert all(r() is None for r in refs)


def test_unchanged_namespace_returns_same_graph_and_changes_are_seen() -> None:
    snap = Snapshotter()
    x = torch.zeros(4, 4)
    ns: dict[str, Any] = {"x": x}
    g1 = snap.snapshot(ns)
    assert snap.snapshot(ns) is g1
    x.t_()  # metadata change in place: bumps the version counter
    g2 = snap.snapshot(ns)
    assert g2 is not g1
    ns["y"] = x[0]
    g3 = snap.snapshot(ns)
    assert g3.by_name("y") is not None and g3.overlapping("x", "y")


def test_one_storage_is_one_storage_across_cells_and_readers() -> None:
    """A container read column-wise in one cell and a view of one of its tensors read on its
    own in the next are on one storage, though nothing kept the storage's Python object in
    between."""
    snap = Snapshotter()
    ns: dict[str, Any] = {"ts": [torch.rand(3) for _ in range(64)]}
    snap.snapshot(ns)
    gc.collect()
    ns["v"] = ns["ts"][5][1:]
    ns["w"] = ns["ts"][6].view(3)
    graph = snap.snapshot(ns)
    assert storage_of(graph, "v") == storage_of(graph, "ts[5]") is not None
    assert storage_of(graph, "w") == storage_of(graph, "ts[6]") != storage_of(graph, "v")
    assert graph.overlapping("v", "ts[5]") and not graph.overlapping("v", "ts[6]")
    fresh = snapshot(ns)
    assert [t.storage for t in fresh.tensors] == [t.storage for t in graph.tensors]


def base_of(graph: StorageGraph, name: str) -> str | None:
    """The name of the tensor drawn as ``name``'s base."""
    t = graph.by_name(name)
    assert t is not None, name
    return graph.tensor(t.base).label if t.base is not None else None


def test_a_view_is_drawn_as_a_view_of_its_base_on_its_storage() -> None:
    """Whether a tensor is read on its own or in a container read column-wise, in a first
    snapshot or a later one: a view names its base when the base is drawn on its storage."""
    m = torch.rand(64, 3)
    hidden = [torch.rand(3) for _ in range(64)]  # bases that no name holds
    ns: dict[str, Any] = {
        "m": m, "rows": list(m.unbind(0)), "row": m[2], "ts": [b.view(3) for b in hidden],
    }
    snap = Snapshotter()
    for graph in (snapshot(ns), snap.snapshot(ns)):
        assert base_of(graph, "rows[5]") == base_of(graph, "row") == "m"
        assert base_of(graph, "ts[3]") is None and base_of(graph, "m") is None
    ns["x"] = ns["ts"][3]._base  # now drawn: on the storage of ts[3]
    for graph in (snap.snapshot(ns), snapshot(ns)):
        assert base_of(graph, "ts[3]") == "x" and base_of(graph, "ts[4]") is None
    ns["y"] = torch.rand(3)  # a later cell patches the last build in
    assert base_of(snap.snapshot(ns), "ts[3]") == "x"


def test_a_view_moved_to_another_storage_is_no_longer_drawn_as_a_view_of_its_base() -> None:
    """``set_`` gives a view new memory but leaves its ``_base``: the picture follows the
    memory."""
    m = torch.rand(64, 3)
    ns: dict[str, Any] = {"m": m, "rows": list(m.unbind(0)), "v": m[1]}
    snap = Snapshotter()
    snap.snapshot(ns)
    ns["rows"][5].set_(torch.zeros(3).untyped_storage())
    ns["v"].set_(torch.zeros(3).untyped_storage())
    for graph in (snap.snapshot(ns), snapshot(ns)):
        assert base_of(graph, "rows[5]") is None and base_of(graph, "v") is None
        assert base_of(graph, "rows[6]") == "m"


def test_subgraph_focuses_on_a_prefix_and_keeps_storage_sharers() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2))
    alias = model[1].weight[0]
    graph = snapshot({"model": model, "alias": alias, "other": torch.rand(1)})
    sub = graph.subgraph(["model.1"])
    names = {n for t in sub.tensors for n in t.names}
    assert names == {"model.1.weight", "model.1.bias", "alias"}


@pytest.mark.parametrize("fmt", ["to_json", "to_dot", "to_text"])
def test_graph_renders_for_every_format(fmt: str) -> None:
    graph = snapshot({"a": torch.rand(2), "n": np.ones(3)})
    out = getattr(graph, fmt)()
    assert "a" in out and len(out) > 20


def test_fingerprint_shortcut_sees_changes_to_a_big_list() -> None:
    snap = Snapshotter()
    ts = [torch.zeros(3) for _ in range(1000)]
    ns: dict[str, Any] = {"ts": ts, "model": torch.nn.Linear(2, 2)}
    first = snap.snapshot(ns)
    assert snap.snapshot(ns) is first  # nothing changed: the same graph, no walk
    ts[500] = ts[499][1:]  # an item replaced by a view of its neighbour
    second = snap.snapshot(ns)
    assert second is not first and second.overlapping("ts[499]", "ts[500]")
    ts[10].resize_(7)  # in-place metadata change: version counter
    third = snap.snapshot(ns)
    assert third.by_name("ts[10]").shape == (7,)  # type: ignore[union-attr]
    # `.data =` swaps the storage without a version bump. In a container of plain tensors the
    # shortcut does not look at addresses (a third of an unchanged cell's cost): the swap
    # shows at the next change of the container, and on an explicit request (invalidate).
    ts[20].data = ts[21]
    ts.append(torch.zeros(1))
    fourth = snap.snapshot(ns)
    assert fourth.by_name("ts[20]").storage == fourth.by_name("ts[21]").storage  # type: ignore[union-attr]
    ts[30].data = ts[31]
    snap.invalidate()
    fifth = snap.snapshot(ns)
    assert fifth.by_name("ts[30]").storage == fifth.by_name("ts[31]").storage  # type: ignore[union-attr]
    model = ns["model"]
    model.weight.data = torch.zeros(5, 2)  # module parameters: addresses are checked
    assert snap.snapshot(ns).by_name("model.weight").shape == (5, 2)  # type: ignore[union-attr]


def test_fingerprint_shortcut_sees_changes_to_top_level_names() -> None:
    """Unchanged top-level names give the same graph; every change the fingerprint covers
    gives the graph a fresh snapshot gives."""
    snap = Snapshotter()
    base = torch.zeros(6, 4)
    ns: dict[str, Any] = {f"v{i}": base[i] for i in range(6)}
    ns.update(base=base, a=torch.zeros(2), b=torch.zeros(3), n=1.5)
    ns["w"] = torch.zeros(2, requires_grad=True)

    def check(what: str) -> StorageGraph:
        graph = snap.snapshot(ns)
        assert graph.to_dict() == Snapshotter().snapshot(ns).to_dict(), what
        return graph

    first = check("first")
    assert snap.snapshot(ns) is first  # nothing changed: the same graph, no walk
    ns["a"], ns["b"] = ns["b"], ns["a"]  # two live tensors swap names
    assert check("swapped").by_name("a").shape == (3,)  # type: ignore[union-attr]
    ns["v4"].t_()  # a view's layout changes in place: the counter it shares with base moves
    ns["v4"].unsqueeze_(0)
    assert check("a view changed in place").by_name("v4").shape == (1, 4)  # type: ignore[union-attr]
    ns["n"] = torch.zeros(5)  # a float's name now holds a tensor
    assert check("a number became a tensor").by_name("n").shape == (5,)  # type: ignore[union-attr]
    (ns["w"] * 2).sum().backward()  # a gradient appears on a tensor that requires grad
    assert check("a gradient").by_name("w.grad") is not None
    ns["w"].data = ns["v0"][:2]  # the manual update of a parameter: memory swapped
    assert check("a parameter's data swapped").overlapping("w", "base")
    with torch.inference_mode():
        ns["i"] = torch.zeros(2, 3)
    check("an inference tensor")
    with torch.inference_mode():
        ns["i"].t_()  # no version counter: the layout itself is compared
    assert check("an inference tensor transposed").by_name("i").shape == (3, 2)  # type: ignore[union-attr]
    # What the fingerprint does not read for a tensor that does not require grad (its address,
    # requires_grad_()) shows at the namespace's next change, and on an explicit request.
    ns["a"].data = ns["base"][5, :3]
    ns["a"].requires_grad_()
    ns["later"] = 1
    graph = check("seen at the next change")
    assert graph.overlapping("a", "base") and graph.by_name("a").requires_grad  # type: ignore[union-attr]
    ns["b"].data = ns["base"][4, :2]
    snap.invalidate()
    assert check("seen on request").overlapping("b", "base")


def test_fingerprint_shortcut_is_dropped_when_an_object_dies() -> None:
    snap = Snapshotter()
    ns: dict[str, Any] = {}
    exec("x = torch.zeros(3)", {"torch": torch}, ns)
    snap.snapshot(ns)
    # The old tensor dies before the new one is made: it may take the same address.
    exec("del x\nx = torch.zeros(5)", {"torch": torch}, ns)
    assert snap.snapshot(ns).by_name("x").shape == (5,)  # type: ignore[union-attr]


def test_live_summary_survives_attribute_access_that_raises() -> None:
    from kernel_ext.live import other_kinds

    class Raising:
        def __getattr__(self, name: str) -> Any:
            raise RuntimeError("no attributes here")

        @property
        def __class__(self) -> Any:  # type: ignore[override]
            raise RuntimeError("no class either")

    kinds = other_kinds({"r": Raising(), "xs": [1], "t": torch.zeros(1)}, lambda n: False)
    assert kinds["r"] == ("unknown", "Raising")
    assert kinds["xs"] == ("list", "list")


def test_big_containers_of_plain_data_are_probed_not_walked() -> None:
    from tensorviews.graph.fingerprint import Fingerprinter

    floats: list[Any] = [0.0] * 1_000_000
    floats[500_000] = torch.zeros(1)  # past the probe: the walk does not look that far
    ns: dict[str, Any] = {
        "floats": floats, "d": {str(i): i for i in range(100_000)}, "t": torch.zeros(2),
    }
    assert Fingerprinter(torch, np).namespace(list(ns), list(ns.values())) is not None
    graph = snapshot(ns)
    assert [t.label for t in graph.tensors] == ["t"]
    floats[3] = torch.zeros(1)  # within the probe: the list is walked, up to max_items
    walked = snapshot(ns)
    assert {t.label for t in walked.tensors} == {"t", "floats[3]"}
    assert walked.truncated == ("floats: only the first 100000 of 1000000 items examined",)


def test_a_snapshot_that_fails_half_way_leaves_no_shortcut(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tensorviews.graph.scan as scan

    snap = Snapshotter()
    ns: dict[str, Any] = {"x": torch.zeros(2)}
    first = snap.snapshot(ns)
    ns["y"] = torch.zeros(3)

    def fail(*args: Any) -> None:
        raise RuntimeError("interrupted")

    monkeypatch.setattr(scan, "build_graph", fail)
    with pytest.raises(RuntimeError):
        snap.snapshot(ns)
    monkeypatch.undo()
    second = snap.snapshot(ns)  # the same namespace as the failed one: read, not skipped
    assert second is not first and second.by_name("y") is not None
