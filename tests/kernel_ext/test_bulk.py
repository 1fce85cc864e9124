"""Big containers of plain tensors read column-wise give exactly the graphs of the one-by-one path.

Differential, through behaviour only. The one-by-one reading of a namespace is the same namespace
with one non-tensor item added to each container of plain tensors (a string at the end of a list
or tuple, a string value under a last key of a dict): the walk then looks at the items one at a
time, under the very same access paths, and the reader takes the per-row path. Every comparison
is of ``graph.to_dict()`` (which leaves out ``uid``, so graphs of different snapshotters compare),
between that reading, the column-wise reading, and a snapshotter reused across changes.
"""

from __future__ import annotations

import contextlib
import gc
import weakref
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tensorviews import Snapshotter
from tensorviews.graph.array_meta import loaded_libraries
from tensorviews.graph.fingerprint import versions
from tensorviews.graph.model import StorageGraph
from tensorviews.graph.namespace_walk import BULK_MIN_ITEMS, BulkFound, walk_namespace
from tensorviews.graph.table import read_plain_tensors
from tensorviews.insight import GraphChanges, diff_graphs
from tensorviews.view import ViewOptions, view, view_document

Namespace = dict[str, Any]
Draw = Callable[[st.SearchStrategy[Any]], Any]

NOT_A_TENSOR = "not a tensor"
DTYPES = [torch.float32, torch.float64, torch.int64, torch.bool, torch.float16]
VIEW_DTYPES = [*DTYPES, torch.uint8, torch.int32, torch.int16]
NP_DTYPES = [np.float32, np.float64, np.int64, np.int16]
PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


# -- the readings ------------------------------------------------------------------------------


def spoiled(value: Any) -> Any:
    """``value`` with a non-tensor item added to every container of tensors in it, at any
    depth the walk reaches: the same tensors under the same paths, none read column-wise."""
    if type(value) is list:
        return [*map(spoiled, value), NOT_A_TENSOR]
    if type(value) is tuple:
        return (*map(spoiled, value), NOT_A_TENSOR)
    if type(value) is dict:
        return {**{k: spoiled(v) for k, v in value.items()}, NOT_A_TENSOR: NOT_A_TENSOR}
    return value


def one_by_one(ns: Namespace) -> StorageGraph:
    items: Namespace = {}
    for name, value in ns.items():
        items[name] = spoiled(value)
        items[f"{name} spoiled"] = NOT_A_TENSOR  # no run of top-level names holds tensors only
    assert not bulks_in(items)  # nothing is read column-wise
    return Snapshotter().snapshot(items)


def bulks_in(ns: Namespace) -> list[BulkFound]:
    torch_mod, np_mod = loaded_libraries()
    return walk_namespace(ns, torch_mod, np_mod).bulks


def assert_same_graphs(ns: Namespace) -> dict[str, Any]:
    single = one_by_one(ns).to_dict()
    assert_dicts_equal(single, Snapshotter().snapshot(ns).to_dict(), "column-wise")
    return single


def assert_dicts_equal(expected: dict[str, Any], actual: dict[str, Any], what: str) -> None:
    """Equal, and when not, the first differing entries (not two 300-tensor dumps)."""
    if expected == actual:
        return
    for key, value in expected.items():
        other = actual.get(key)
        if value == other:
            continue
        if isinstance(value, list) and isinstance(other, list):
            for i, (a, b) in enumerate(zip(value, other, strict=False)):
                assert a == b, f"{what}: {key}[{i}] differs from the one-by-one path"
            assert len(value) == len(other), f"{what}: {key} has {len(other)}, not {len(value)}"
        assert value == other, f"{what}: {key} differs"


def names_in(graph_dict: dict[str, Any]) -> set[str]:
    return {n for t in graph_dict["tensors"] for n in t["names"]}


def overlapping(graph_dict: dict[str, Any], a: str, b: str) -> bool:
    ids = {n: t["id"] for t in graph_dict["tensors"] for n in t["names"]}
    return any({e["a"], e["b"]} == {ids[a], ids[b]} for e in graph_dict["overlaps"])


def plain_list(n: int = 40) -> list[torch.Tensor]:
    return [torch.zeros(3) for _ in range(n)]


# -- generated namespaces ----------------------------------------------------------------------


def fresh(draw: Draw) -> torch.Tensor:
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(st.lists(st.integers(0, 4), max_size=3))  # 0-d, empty, small
    t = torch.zeros(shape, dtype=dtype)
    if draw(st.booleans()) and t.dim() >= 2:
        t = t.transpose(0, -1)  # non-contiguous from the start, its own storage
    return t


def view_of(draw: Draw, s: torch.Tensor) -> torch.Tensor | None:
    """A view of ``s``: slices, transposes, expand, overlapping as_strided, dtype views."""
    op = draw(
        st.sampled_from(
            ["slice", "step", "transpose", "expand", "as_strided", "view_dtype", "select",
             "diagonal", "unsqueeze", "flat", "empty"]
        )
    )
    try:
        if op == "slice" and s.dim():
            n = s.shape[0]
            a = draw(st.integers(0, max(n - 1, 0)))
            return s[a : draw(st.integers(a + 1, max(n, a + 1)))]
        if op == "step" and s.dim():
            return s[..., draw(st.integers(0, 1)) :: draw(st.integers(2, 3))]
        if op == "transpose" and s.dim() >= 2:
            return s.transpose(0, -1)
        if op == "expand":
            return s.unsqueeze(0).expand(draw(st.integers(2, 3)), *s.shape)
        if op == "as_strided":
            n_el = s.untyped_storage().nbytes() // s.element_size()
            rows, cols = draw(st.integers(1, 4)), draw(st.integers(1, 3))
            stride = draw(st.sampled_from([(1, 1), (0, 1), (2, 1), (1, 0)]))
            reach = (rows - 1) * stride[0] + (cols - 1) * stride[1] + 1
            if n_el < reach:
                return None
            offset = draw(st.integers(0, n_el - reach))
            return s.as_strided((rows, cols), stride, offset)
        if op == "view_dtype":
            return s.view(draw(st.sampled_from(VIEW_DTYPES)))
        if op == "select" and s.dim():
            return s.select(-1, draw(st.integers(0, max(s.shape[-1] - 1, 0))))
        if op == "diagonal" and s.dim() >= 2:
            return s.diagonal()
        if op == "unsqueeze":
            return s.unsqueeze(-1)
        if op == "flat" and s.is_contiguous():
            return s.view(-1)
        if op == "empty" and s.dim():  # no elements, on a non-null storage, maybe at an offset
            k = draw(st.integers(0, s.shape[0]))
            return s[k:k]
    except (RuntimeError, IndexError):
        return None  # not a valid view of this source
    return None


def item(draw: Draw, sources: list[torch.Tensor], earlier: list[torch.Tensor]) -> torch.Tensor:
    kind = draw(
        st.sampled_from(["fresh", "fresh", "view_root", "view_item", "empty", "needs_grad"])
    )
    t: torch.Tensor | None = None
    if kind == "needs_grad":  # requires grad, holds no gradient: a loss, an activation
        leaf = torch.zeros(draw(st.lists(st.integers(1, 3), max_size=2)), requires_grad=True)
        t = draw(st.sampled_from([leaf, leaf * 2, leaf.view(-1)]))
    elif kind == "empty":
        t = draw(st.sampled_from([torch.empty(0), torch.zeros(0, 3), torch.empty(2, 0, 1)]))
        t = t.clone()  # a new object each time
        if draw(st.booleans()):
            t = t.view(-1)
    elif kind == "view_root":
        t = view_of(draw, draw(st.sampled_from(sources)))
    elif kind == "view_item" and earlier:
        t = view_of(draw, draw(st.sampled_from(earlier)))
    if t is None:
        t = fresh(draw)
    return t


def tensors(
    draw: Draw, sources: list[torch.Tensor], earlier: list[torch.Tensor], lo: int, hi: int
) -> list[torch.Tensor]:
    out: list[torch.Tensor] = []
    for _ in range(draw(st.integers(lo, hi))):
        out.append(item(draw, sources, earlier + out))
    return out


@st.composite
def namespaces(draw: Draw) -> Namespace:
    head: Namespace = {}  # dict order is walk order: these names come before the containers
    sources: list[torch.Tensor] = []
    for i in range(draw(st.integers(1, 3))):
        shape = (draw(st.integers(2, 6)), draw(st.integers(2, 6)))
        head[f"x{i}"] = root = torch.zeros(shape, dtype=draw(st.sampled_from(DTYPES)))
        sources.append(root)
    arrays = [
        np.zeros(draw(st.integers(4, 12)), dtype=draw(st.sampled_from(NP_DTYPES)))
        for _ in range(draw(st.integers(0, 2)))
    ]
    for i, arr in enumerate(arrays):
        head[f"a{i}"] = arr
        sources.append(torch.from_numpy(arr))  # items may view numpy memory

    containers: Namespace = {}
    # "ts" always qualifies for the column-wise path: distinct items, none named earlier.
    ts = tensors(draw, sources, [], 32, 80)
    for arr in arrays:
        if draw(st.booleans()):  # torch.from_numpy of an array (or a part of it) as an item
            a = draw(st.integers(0, 2))
            b = draw(st.sampled_from([a, a + 1, len(arr)]))  # a == b: no elements
            ts[draw(st.integers(0, len(ts) - 1))] = torch.from_numpy(arr[a:b])
    containers["ts"] = tuple(ts) if draw(st.booleans()) else ts
    later: list[torch.Tensor] = []  # items of containers after "ts": targets of early names
    if draw(st.booleans()):
        values = tensors(draw, sources, ts, 32, 48)
        keys = draw(
            st.lists(
                st.one_of(st.integers(-5, 10**6), st.text("ab'\"[]. ", max_size=4)),
                min_size=len(values), max_size=len(values), unique=True,
            )
        )
        containers["d"] = dict(zip(keys, values, strict=True))
        later += values
    if draw(st.booleans()):  # nested lists; some too short for the column-wise path
        nest = [tensors(draw, sources, ts, 28, 40) for _ in range(draw(st.integers(1, 3)))]
        containers["nest"] = nest
        later += [t for inner in nest for t in inner]
    if draw(st.booleans()):  # items of "ts" again, plus new ones: walked one by one
        picked = draw(st.lists(st.sampled_from(ts), min_size=1, max_size=6, unique_by=id))
        us = picked + tensors(draw, sources, ts, 30, 36)
        if draw(st.booleans()):
            us.append(us[-1])  # a repeat inside one container
        containers["us"] = us
        later += us
    if draw(st.booleans()):
        containers["small"] = tensors(draw, sources, ts, 1, 8)
        later += containers["small"]
    if draw(st.booleans()):  # a list that is not all tensors
        containers["mixed"] = [*tensors(draw, sources, ts, 31, 34), np.zeros(2), 1.5]

    # A run of top-level names holding plain tensors, read column-wise like a container:
    # new tensors, views, a name for a tensor named before or earlier in the run (``b = a``),
    # maybe one holding a gradient (found one by one, its gradient after it).
    run: Namespace = {}
    if draw(st.booleans()):
        run_items = tensors(draw, sources, ts, 32, 40)
        if draw(st.booleans()):
            run_items.insert(draw(st.integers(0, len(run_items))), draw(st.sampled_from(run_items)))
        if draw(st.booleans()):
            leaf = torch.zeros(2, requires_grad=True)
            leaf.sum().backward()
            run_items.insert(draw(st.integers(0, len(run_items))), leaf)
        run = {f"r{i}": t for i, t in enumerate(run_items)}
        later += run_items

    tail: Namespace = {}
    everything = ts + later
    in_ts = set(map(id, ts))
    not_in_ts = [t for t in later if id(t) not in in_ts]
    if not_in_ts and draw(st.booleans()):  # a top-level name before its container
        head["early"] = draw(st.sampled_from(not_in_ts))
    for i in range(draw(st.integers(0, 3))):  # top-level names after their container
        tail[f"alias{i}"] = draw(st.sampled_from(everything))
    for i in range(draw(st.integers(0, 2))):  # numpy arrays on the memory of tensors
        t = draw(st.sampled_from(everything))
        if t.is_conj() or t.is_neg() or t.requires_grad:
            continue
        (head if draw(st.booleans()) else tail)[f"n{i}"] = t.numpy()
    if draw(st.booleans()):  # the run after the containers, or before them
        return {**head, **containers, **run, **tail}
    return {**head, **run, **containers, **tail}


@PROPERTY
@given(ns=namespaces())
def test_column_wise_path_gives_the_one_by_one_graphs(
    ns: Namespace
) -> None:
    bulk_names = [b.name for b in bulks_in(ns)]
    assert "ts" in bulk_names  # the column-wise path is really taken
    graph = assert_same_graphs(ns)
    ts = ns["ts"]
    assert {f"ts[{i}]" for i in range(len(ts))} <= names_in(graph)


# -- mutations between two snapshots of one Snapshotter ----------------------------------------


def paths(ns: Namespace) -> Iterator[tuple[str, Any]]:
    """Access paths of the namespace's tensors/arrays, as the walk writes them (depth <= 2)."""
    for name, value in ns.items():
        if isinstance(value, (torch.Tensor, np.ndarray)):
            yield name, value
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                if isinstance(v, list):
                    yield from ((f"{name}[{i}][{j}]", w) for j, w in enumerate(v))
                else:
                    yield f"{name}[{i}]", v
        elif isinstance(value, dict):
            yield from ((f"{name}[{k!r}]", v) for k, v in value.items())


def uids_by_name(graph: StorageGraph) -> dict[str, int]:
    return {n: t.uid for t in graph.tensors for n in t.names}


def mutate(ns: Namespace, draw: Draw) -> None:
    ts = ns["ts"] = list(ns["ts"])  # a new container: read again, same tensors
    for _ in range(draw(st.integers(1, 4))):
        change = draw(
            st.sampled_from(["replace", "view", "append", "pop", "inplace", "reverse", "move",
                             "alias", "drop"])
        )
        i = draw(st.integers(0, len(ts) - 1))
        others = sorted(set(ns) - {"ts"})
        if change == "replace":
            ts[i] = fresh(draw)
        elif change == "view":
            t = view_of(draw, ts[draw(st.integers(0, len(ts) - 1))])
            if t is not None:
                ts[i] = t
        elif change == "append":
            ts.append(torch.zeros(draw(st.integers(0, 3))))
        elif change == "pop" and len(ts) > 33:
            ts.pop(i)
        elif change == "inplace":
            with contextlib.suppress(RuntimeError):  # memory it overlaps itself on
                ts[i].zero_()  # bumps the version counter shared by all its views
        elif change == "reverse":
            ts.reverse()
        elif change == "move" and len(ts) > 33:
            ns[f"moved{i}"] = ts.pop(i)
        elif change == "alias":
            ns[f"alias_new{i}"] = ts[i]
        elif change == "drop" and others:
            del ns[draw(st.sampled_from(others))]


@PROPERTY
@given(ns=namespaces(), data=st.data())
def test_second_snapshot_after_changes_matches_a_fresh_reading(
    ns: Namespace, data: st.DataObject
) -> None:
    snap = Snapshotter()
    before = snap.snapshot(ns)
    assert_dicts_equal(one_by_one(ns).to_dict(), before.to_dict(), "first")
    old_paths = list(paths(ns))  # keeps the old objects alive: ids stay meaningful
    old_uids = uids_by_name(before)
    mutate(ns, data.draw)
    after = snap.snapshot(ns)
    assert_dicts_equal(one_by_one(ns).to_dict(), after.to_dict(), "second")
    # uid continuity: the same live object keeps its serial number wherever it moved.
    uid_of_object = {id(obj): old_uids[path] for path, obj in old_paths if path in old_uids}
    new_uids = uids_by_name(after)
    checked = 0
    for path, obj in paths(ns):
        if path not in new_uids:
            continue  # not a tensor/array (the floats of "mixed")
        checked += 1
        if id(obj) in uid_of_object:
            assert new_uids[path] == uid_of_object[id(obj)], path
        else:
            assert new_uids[path] not in old_uids.values(), path
    assert checked >= 32


# -- fallback to one by one --------------------------------------------------------------------


def with_sparse(ts: list[torch.Tensor]) -> None:
    ts[7] = torch.eye(3).to_sparse()


def with_nested(ts: list[torch.Tensor]) -> None:
    ts[7] = torch.nested.nested_tensor([torch.zeros(2), torch.zeros(3)])


def with_grad(ts: list[torch.Tensor]) -> None:
    w = torch.zeros(3, requires_grad=True)
    w.grad = torch.ones(3)
    ts[7] = w


def with_sparse_csr(ts: list[torch.Tensor]) -> None:
    ts[7] = torch.eye(3).to_sparse_csr()


def with_inference(ts: list[torch.Tensor]) -> None:
    with torch.inference_mode():
        ts[7] = torch.zeros(3)


@pytest.mark.parametrize(
    "spoil", [with_sparse, with_nested, with_grad, with_sparse_csr, with_inference]
)
@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta state:UserWarning")
def test_exotic_item_falls_back_to_the_one_by_one_graph(
    spoil: Callable[[list[torch.Tensor]], None]
) -> None:
    x = torch.zeros(4, 4)
    ts = plain_list()
    ts[3] = x[1]
    ts[4] = x[1:3]
    spoil(ts)
    ns: Namespace = {"x": x, "ts": ts, "alias": ts[10], "g": ts[7]}
    graph = assert_same_graphs(ns)
    assert next(t for t in graph["tensors"] if "ts[10]" in t["names"])["names"] == [
        "ts[10]", "alias"
    ]
    if spoil is with_nested:  # torch cannot tell a nested tensor's sizes: reported, not drawn
        assert len(graph["tensors"]) == 40
        assert [p.split(":")[0] for p in graph["problems"]] == ["ts[7]"]
    else:
        item = next(t for t in graph["tensors"] if "ts[7]" in t["names"])
        assert item["names"] == ["ts[7]", "g"]
        assert len(graph["tensors"]) == 41 + (spoil is with_grad)
        assert graph["problems"] == []
        layouts: dict[Callable[[list[torch.Tensor]], None], str] = {
            with_sparse: "sparse_coo", with_sparse_csr: "sparse_csr"
        }
        assert item["layout"] == layouts.get(spoil, "strided")
    if spoil is with_grad:
        assert {"ts[7].grad", "g.grad"} <= names_in(graph)
    if spoil is with_grad:
        assert not bulks_in(ns)  # refused by the walk: a gradient is found after its tensor
    else:
        (bulk,) = bulks_in(ns)  # found in one piece, refused by the column reader
        torch_mod = loaded_libraries()[0]
        assert torch_mod is not None
        assert read_plain_tensors(bulk.items, versions(bulk.items), torch_mod) is None
    assert overlapping(graph, "ts[3]", "ts[4]") and overlapping(graph, "x", "ts[4]")
    assert not overlapping(graph, "ts[3]", "ts[5]")


@pytest.mark.parametrize("spoil", [with_sparse, with_nested, with_inference])
def test_a_container_read_one_by_one_after_all_keeps_its_category(
    spoil: Callable[[list[torch.Tensor]], None]
) -> None:
    """Optimizer state holding a big dict of tensors, one of them exotic: refused by the column
    reader, its tensors still count as optimizer state, as when the walk finds them one by
    one."""
    w = torch.nn.Parameter(torch.zeros(3))
    optimizer = torch.optim.SGD([w], lr=0.1)
    ts = plain_list()
    spoil(ts)
    state = {f"buffer{i}": t for i, t in enumerate(ts)}
    ns: Namespace = {"opt": optimizer}
    optimizer.state[w] = {**state, NOT_A_TENSOR: NOT_A_TENSOR}
    assert not bulks_in(ns)
    graph = Snapshotter().snapshot(ns).to_dict()  # the walk finds them one by one
    optimizer.state[w] = state
    assert len(bulks_in(ns)) == 1  # found in one piece
    assert_dicts_equal(graph, Snapshotter().snapshot(ns).to_dict(), "column-wise")
    held = [t for t in graph["tensors"] if t["names"][0].startswith("opt.state")]
    assert len(held) == 40 - (spoil is with_nested)  # a nested tensor is reported, not drawn
    assert {t["category"] for t in held} == {"optimizer state"}


def test_mkldnn_item_falls_back_to_the_one_by_one_graph() -> None:
    ts = plain_list()
    try:
        ts[5] = torch.zeros(2, 2).to_mkldnn()
    except RuntimeError:
        pytest.skip("no mkldnn in this build")
    graph = assert_same_graphs({"ts": ts})
    assert len(graph["tensors"]) == 40


# -- meta and empty tensors --------------------------------------------------------------------


def test_meta_and_empty_tensors_in_a_bulk_list() -> None:
    m = torch.empty(3, 4, device="meta")
    ts: list[torch.Tensor] = [torch.empty(2, 2, device="meta") for _ in range(20)]
    ts += [m[1], m[:, 1:], m.t(), torch.empty(0, device="meta"), m[0].expand(3, 4)]
    ts += [torch.empty(0), torch.empty(0), torch.zeros(0, 5), torch.empty(0).view(0, 1, 2)]
    ts += [torch.zeros(2) for _ in range(10)]
    assert len(ts) >= BULK_MIN_ITEMS
    ns: Namespace = {"m": m, "ts": ts}
    assert [b.name for b in bulks_in(ns)] == ["ts"]
    graph = assert_same_graphs(ns)
    by_name = {t["names"][0]: t for t in graph["tensors"]}
    assert by_name["ts[20]"]["storage"] == by_name["m"]["storage"] == by_name["ts[22]"]["storage"]
    assert by_name["ts[20]"]["offset"] == 4 and by_name["ts[21]"]["offset"] == 1
    assert by_name["ts[24]"]["self_overlap"] and by_name["ts[24]"]["stride"] == [0, 1]
    assert by_name["ts[0]"]["storage"] != by_name["ts[1]"]["storage"]
    empties = [by_name[f"ts[{i}]"] for i in range(25, 29)]
    assert len({t["storage"] for t in empties}) == 4  # each its own (empty) storage
    assert all(t["logical_nbytes"] == 0 and t["byte_offset"] == 0 for t in empties)
    storages = {s["id"]: s for s in graph["storages"]}
    assert storages[by_name["m"]["storage"]] == {
        "id": by_name["m"]["storage"], "device": "meta", "nbytes": 48, "pinned": False,
        "libraries": ["torch"], "allocated": False, "owner": None,
    }
    assert graph["problems"] == []


def odd_view(ts: list[torch.Tensor]) -> str:
    base = torch.zeros(5)
    ts[9] = base[1:3]  # a base, an offset, a storage of another size
    ts.append(base)
    return "view"


def odd_offset(ts: list[torch.Tensor]) -> str:
    ts[9] = torch.zeros(6)[3:]  # a base not in the namespace, at offset 3
    return "offset"


def odd_size(ts: list[torch.Tensor]) -> str:
    ts[9] = torch.zeros(7)
    return "size"


def odd_meta(ts: list[torch.Tensor]) -> str:
    ts[9] = torch.zeros(3, device="meta")
    return "meta"


def odd_requires_grad(ts: list[torch.Tensor]) -> str:
    ts[9] = torch.zeros(3, requires_grad=True)  # no gradient: still read column-wise
    return "requires_grad"


@pytest.mark.parametrize(
    "odd", [odd_view, odd_offset, odd_size, odd_meta, odd_requires_grad]
)
def test_one_odd_item_among_uniform_ones_is_read_as_one_by_one(
    odd: Callable[[list[torch.Tensor]], str]
) -> None:
    """The column reader fills in a column that has one value for every row (no views, every
    offset 0, one storage size, all on the CPU, none requiring grad): one item that differs
    in that column must still show, in a first reading and in a snapshotter's later one."""
    ts = plain_list()
    what = odd(ts)
    ns: Namespace = {"ts": ts}
    assert [b.name for b in bulks_in(ns)] == ["ts"]
    graph = assert_same_graphs(ns)
    item = next(t for t in graph["tensors"] if "ts[9]" in t["names"])
    storage = next(s for s in graph["storages"] if s["id"] == item["storage"])
    facts = {
        "view": (item["byte_offset"], item["base"] is not None, storage["nbytes"]),
        "offset": (item["byte_offset"], item["base"] is not None, storage["nbytes"]),
        "size": (item["byte_offset"], storage["nbytes"]),
        "meta": (item["device"], storage["device"], storage["allocated"]),
        "requires_grad": (item["requires_grad"],),
    }[what]
    assert facts == {
        "view": (4, True, 20), "offset": (12, False, 24), "size": (0, 28),
        "meta": ("meta", "meta", False), "requires_grad": (True,),
    }[what]
    others = [t for t in graph["tensors"] if t["id"] != item["id"]]
    assert all(t["byte_offset"] == 0 and t["device"] == "cpu" for t in others)
    snapshotter = Snapshotter()
    snapshotter.snapshot({"ts": plain_list()})
    assert_dicts_equal(graph, snapshotter.snapshot(ns).to_dict(), "a later reading")


# Regression: an element's address was taken from ``Tensor.data_ptr()``, which torch returns
# as 0 for every tensor with no elements, whatever its storage. Empty tensors on a non-null
# storage, or at a storage offset, got a wrong place in memory (the one-by-one path stretched
# their storage over unrelated memory and merged it with other storages; the column-wise path
# gave them a byte offset of minus the storage's address).


def empty_view() -> tuple[Namespace, int, int]:
    x = torch.arange(10.0)
    ts = plain_list()
    ts[0] = x[2:2]
    return {"x": x, "ts": ts}, 8, 40  # (namespace, byte offset of ts[0], its storage's size)


def resized_to_empty() -> tuple[Namespace, int, int]:
    ts = plain_list()
    ts[0] = torch.zeros(5)[1:].resize_(0)  # keeps its allocation and offset
    return {"ts": ts}, 4, 20


def empty_numpy_slice() -> tuple[Namespace, int, int]:
    arr = np.arange(5.0)
    ts = plain_list()
    ts[0] = torch.from_numpy(arr[2:2])
    return {"arr": arr, "ts": ts}, 0, 0


@pytest.mark.parametrize("case", [empty_view, resized_to_empty, empty_numpy_slice])
def test_empty_tensors_on_a_non_null_storage_in_a_bulk_list(
    case: Callable[[], tuple[Namespace, int, int]]
) -> None:
    ns, byte_offset, nbytes = case()
    assert [b.name for b in bulks_in(ns)] == ["ts"]
    graph = assert_same_graphs(ns)
    item = next(t for t in graph["tensors"] if t["names"] == ["ts[0]"])
    assert (item["byte_offset"], item["logical_nbytes"]) == (byte_offset, 0)
    storage = next(s for s in graph["storages"] if s["id"] == item["storage"])
    assert storage["nbytes"] == nbytes
    assert len(graph["storages"]) == 40 + ("arr" in ns)  # nothing merged with other memory
    assert all(t["byte_offset"] == 0 for t in graph["tensors"] if t["names"] != ["ts[0]"])


def test_empty_view_does_not_stretch_its_storage_in_the_one_by_one_path() -> None:
    x = torch.arange(10.0)
    graph = Snapshotter().snapshot({"x": x, "e": x[2:2], "y": torch.zeros(3)})
    e, xs = graph.by_name("e"), graph.by_name("x")
    assert xs is not None and e is not None
    assert (xs.offset, e.offset, e.byte_offset, e.storage) == (0, 2, 8, xs.storage)
    assert [s.nbytes for s in graph.storages] == [40, 12]


# -- uid continuity ----------------------------------------------------------------------------


def test_uids_survive_a_new_container_and_change_for_a_new_item() -> None:
    snap = Snapshotter()
    ts = [torch.zeros(3) for _ in range(50)]
    ns: Namespace = {"ts": ts}
    first = snap.snapshot(ns)
    ns["ts"] = list(ts)  # a new list, the same tensors
    second = snap.snapshot(ns)
    assert second.index().tensor_uids == first.index().tensor_uids
    changes = diff_graphs(first, second)
    assert (changes.new_storage_count, changes.released_count) == (0, 0)
    assert not changes
    ns["ts"][17] = torch.zeros(3)
    third = snap.snapshot(ns)
    changes = diff_graphs(second, third)
    assert (changes.new_storage_count, changes.released_count) == (1, 1)
    assert changes.new_storage_labels == ["ts[17]"] and changes.released == ["ts[17]"]
    uids = third.index().tensor_uids
    assert uids[:17] + uids[18:] == first.index().tensor_uids[:17] + first.index().tensor_uids[18:]
    assert uids[17] not in first.index().uid_set()


def test_uids_follow_tensors_out_of_and_into_bulk_containers() -> None:
    snap = Snapshotter()
    ts = [torch.zeros(3) for _ in range(40)]
    lone = torch.zeros(2)
    ns: Namespace = {"lone": lone, "ts": ts}
    first = snap.snapshot(ns)
    uid = uids_by_name(first)
    # ts[5] moves to a top-level name, lone moves into a (new) bulk dict; ts is rebuilt.
    ns2: Namespace = {"solo": ts[5], "d": {f"k{i}": t for i, t in enumerate(ts) if i != 5}}
    ns2["d"]["lone"] = lone
    second = snap.snapshot(ns2)
    assert [b.name for b in bulks_in(ns2)] == ["d"]
    new = uids_by_name(second)
    assert new["solo"] == uid["ts[5]"]
    assert new["d['lone']"] == uid["lone"]
    assert new["d['k6']"] == uid["ts[6]"]
    changes = diff_graphs(first, second)
    assert (changes.new_storage_count, changes.released_count) == (0, 0)


# -- the graph is plain data: nothing stale, nothing kept alive --------------------------------


def test_graph_survives_release_nodes_labels_json_and_folding() -> None:
    from tensorviews.view import capped_view

    snap = Snapshotter()
    ns: Namespace = {"ts": [torch.zeros(3) for _ in range(60)], "keep": torch.zeros(1)}
    graph = snap.snapshot(ns)
    assert [b.name for b in bulks_in(ns)] == ["ts"]
    expected = graph.to_dict()
    del ns["ts"]
    gc.collect()
    p = next(p for p in range(len(graph.tensors)) if graph.index().label(p) == "ts[3]")
    assert graph.tensors[p].names == ("ts[3]",) and graph.tensors[p].shape == (3,)
    assert graph.to_dict() == expected
    assert sum(g.count for g in capped_view(graph, 5).groups) == 56
    later = snap.snapshot(ns)  # the snapshotter itself copes
    assert [t.names for t in later.tensors] == [("keep",)]
    assert diff_graphs(graph, later).released_count == 60


def test_graph_keeps_what_was_read_when_tensors_change_afterwards() -> None:
    ts = [torch.zeros(3) for _ in range(40)]
    graph = Snapshotter().snapshot({"ts": ts})
    built = graph.tensors[2]
    ts[2].add_(1)
    ts[9].resize_(5)
    ts[10].as_strided_((1,), (1,), 2)
    assert graph.tensors[2] is built
    assert graph.tensors[9].shape == (3,)  # the snapshot's metadata, not the live tensor's
    assert (graph.tensors[10].shape, graph.tensors[10].offset) == ((3,), 0)


def test_nothing_kept_alive_by_the_snapshotter_or_its_graph() -> None:
    snap = Snapshotter()
    x = torch.zeros(10)
    ts = [torch.zeros(2) for _ in range(1000)]
    ts[0] = x[1:]  # a view: its base stays alive through ``x`` only
    ns: Namespace = {"x": x, "ts": ts}
    snap.snapshot(ns)
    graph = snap.snapshot(ns)  # the unchanged shortcut too
    graph.tensors[0]
    graph.tensors[500]
    refs = [weakref.ref(t) for t in ts]
    x_ref = weakref.ref(x)
    del ts, x
    ns.clear()
    gc.collect()
    assert sum(r() is not None for r in refs) == 0
    assert x_ref() is None
    assert len(graph.tensors) == 1001  # the graph is still there
    again = snap.snapshot(ns)
    assert len(again.tensors) == 0


# -- the unchanged shortcut --------------------------------------------------------------------


def test_unchanged_shortcut_and_changes_seen_in_a_bulk_list() -> None:
    snap = Snapshotter()
    ts = [torch.zeros(3) for _ in range(40)]
    ns: Namespace = {"ts": ts}
    first = snap.snapshot(ns)
    assert snap.snapshot(ns) is first
    ts[3].add_(1)  # bumps the version counter
    second = snap.snapshot(ns)
    assert second is not first
    assert snap.snapshot(ns) is second
    assert_dicts_equal(one_by_one(ns).to_dict(), second.to_dict(), "after add_")
    assert not second.overlapping("ts[4]", "ts[5]")
    ts[5] = ts[4][1:]
    third = snap.snapshot(ns)
    assert third is not second
    assert third.overlapping("ts[4]", "ts[5]") and not third.overlapping("ts[3]", "ts[4]")
    assert third.by_name("ts[5]").base == third.by_name("ts[4]").id  # type: ignore[union-attr]
    assert_dicts_equal(one_by_one(ns).to_dict(), third.to_dict(), "after ts[5]=")
    ns["alias"] = ts[20]  # a new top-level name for an unchanged item
    fourth = snap.snapshot(ns)
    assert fourth is not third
    assert fourth.by_name("alias").names == ("ts[20]", "alias")  # type: ignore[union-attr]
    assert_dicts_equal(one_by_one(ns).to_dict(), fourth.to_dict(), "after alias")


def test_invalidate_rereads_containers_but_keeps_uids() -> None:
    snap = Snapshotter()
    ts = plain_list()
    ns: Namespace = {"ts": ts}
    before = snap.snapshot(ns)
    before.to_dict()
    snap.invalidate()  # what %tensorgraph does: read everything again
    after = snap.snapshot(ns)
    assert after is not before
    assert list(after.index().tensor_uids) == list(before.index().tensor_uids)
    assert not diff_graphs(before, after)
    assert after.to_dict() == before.to_dict()


def reborn_at(old_id: int, make: Callable[[], torch.Tensor]) -> torch.Tensor:
    """A tensor made by ``make`` (in one step: no intermediate takes the address) at the
    address of the dead object ``old_id``: freed object memory is handed out again soon."""
    candidates = []
    for _ in range(1000):
        t = make()
        if id(t) == old_id:
            return t
        candidates.append(t)
    pytest.skip("the allocator did not hand out the dead object's address again")


def test_new_tensor_at_a_dead_tensors_address_is_read_again() -> None:
    """Same list, same ids, same versions: only the death of the old item tells them apart."""
    snap = Snapshotter()
    ts = [torch.zeros(3) for _ in range(40)]
    ns: Namespace = {"ts": ts}
    before = snap.snapshot(ns)
    assert before.by_name("ts[3]").shape == (3,)  # type: ignore[union-attr]
    old_id = id(ts[3])
    ts[3] = None  # type: ignore[call-overload]
    ts[3] = reborn_at(old_id, lambda: torch.zeros(5))
    after = snap.snapshot(ns)
    assert after is not before
    assert after.by_name("ts[3]").shape == (5,)  # type: ignore[union-attr]
    assert after.by_name("ts[3]").uid != before.by_name("ts[3]").uid  # type: ignore[union-attr]
    assert snap.snapshot(ns) is after  # and the shortcut is back


def test_view_at_a_dead_views_address_is_read_again() -> None:
    """Same list, same ids, versions and addresses (a view of one matrix at the same place):
    only the death of the old item tells the new layout apart."""
    snap = Snapshotter()
    base = torch.zeros(4, 4)
    ts = [torch.zeros(3) for _ in range(40)]
    ts[3] = base[0]
    ns: Namespace = {"ts": ts}
    before = snap.snapshot(ns)
    old_id = id(ts[3])
    ts[3] = None  # type: ignore[call-overload]
    # Where the dead view started, on its counter:
    ts[3] = reborn_at(old_id, lambda: base.as_strided((1, 4), (4, 1)))
    after = snap.snapshot(ns)
    assert after.by_name("ts[3]").shape == (1, 4)  # type: ignore[union-attr]
    assert after.by_name("ts[3]").uid != before.by_name("ts[3]").uid  # type: ignore[union-attr]
    assert_dicts_equal(Snapshotter().snapshot(ns).to_dict(), after.to_dict(), "reborn view")


def test_tensor_reborn_at_a_dead_views_address_among_top_level_names_is_tracked() -> None:
    """A plain tensor at the address of a dead view of a matrix, while another name changes:
    its own version counter is read from then on (its later ``unsqueeze_`` shows)."""
    snap = Snapshotter()
    matrix = torch.zeros(4, 4)
    ns: Namespace = {f"t{i}": torch.zeros(3) for i in range(40)}
    ns.update(matrix=matrix, v=matrix[0])  # v shares the matrix's version counter
    snap.snapshot(ns)
    old_id = id(ns["v"])
    ns["v"] = None
    ns["v"] = reborn_at(old_id, lambda: torch.zeros(5))
    ns["t5"] = torch.zeros(7)  # another name changes in the same cell
    snap.snapshot(ns)
    ns["v"].unsqueeze_(0)  # its own counter moves, not the matrix's
    assert snap.snapshot(ns).by_name("v").shape == (1, 5)  # type: ignore[union-attr]


@pytest.mark.parametrize("where", ["top-level names", "list"])
def test_data_swapped_to_another_layout_of_the_same_memory_shows_at_the_next_change(
    where: str,
) -> None:
    """``t.data = t.view(2, 2)`` keeps the id, the version and the data address: the shape
    tells, at the next change of the namespace (or of the list)."""
    snap = Snapshotter()
    tensors = [torch.zeros(4) for _ in range(40)]
    ns: Namespace = (
        {"ts": tensors} if where == "list" else {f"t{i}": t for i, t in enumerate(tensors)}
    )
    name = "ts[3]" if where == "list" else "t3"
    snap.snapshot(ns)
    tensors[3].data = tensors[3].view(2, 2)
    if where == "list":
        tensors[7] = torch.zeros(1)
    else:
        ns["t7"] = torch.zeros(1)
    assert snap.snapshot(ns).by_name(name).shape == (2, 2)  # type: ignore[union-attr]
    assert_dicts_equal(Snapshotter().snapshot(ns).to_dict(), snap.snapshot(ns).to_dict(), where)


def test_a_tensor_replaced_but_kept_elsewhere_keeps_its_serial_number() -> None:
    """Items replaced while something else holds them, which dies a cell later: the
    container's tensors that stayed keep their serial numbers when it is read again, and
    what changed is what changed."""
    snap = Snapshotter()
    ts = [torch.zeros(3) for _ in range(40)]
    ns: Namespace = {"ts": ts}
    snap.snapshot(ns)
    kept = ts[:16]
    ts[:16] = [torch.zeros(2) for _ in range(16)]  # a few: those read again alone
    second = snap.snapshot(ns)
    del kept  # the replaced tensors die now
    ts[16:] = [torch.zeros(1) for _ in range(24)]  # most: the list read whole
    third = snap.snapshot(ns)
    assert third.by_name("ts[0]").uid == second.by_name("ts[0]").uid  # type: ignore[union-attr]
    changes = diff_graphs(second, third)
    assert changes == diff_graphs(replace(second, columns=None), replace(third, columns=None))
    assert [line.split(":")[0] for line in changes.text] == [
        "+ 24 new storages", "- 24 storages no longer held"
    ]


def test_a_write_in_place_keeps_every_row_and_a_layout_changed_in_place_shows() -> None:
    """Forty square views of one tensor: written in place, every version counter moves and
    no row does (the last graph is the graph); one of them transposed in place (the counter
    they share moves again, one layout with it, shape and address kept) is the one row read
    again."""
    big = torch.zeros(40, 2, 2)
    ns: Namespace = {"big": big, "sq": list(big.unbind(0))}
    snap = Snapshotter()
    first = snap.snapshot(ns)
    big.add_(1)
    assert snap.snapshot(ns) is first
    ns["sq"][3].t_()
    third = snap.snapshot(ns)
    assert third.by_name("sq[3]").stride == (1, 2)  # type: ignore[union-attr]
    assert third.by_name("sq[4]").stride == (2, 1)  # type: ignore[union-attr]
    assert all(third.tensors[p].shape is first.tensors[p].shape for p in range(41) if p != 4)
    assert_dicts_equal(Snapshotter().snapshot(ns).to_dict(), third.to_dict(), "transposed")


def test_overlaps_of_unchanged_views_are_kept_and_changes_found() -> None:
    """Rows of one matrix, their overlaps kept from cell to cell while the views' layouts are
    the same: always what a fresh reading gives, whatever changed in between."""
    x = torch.zeros(40, 3)
    ns: Namespace = {"x": x, "rows": [x[i] for i in range(40)]}
    snap = Snapshotter()

    def check(what: str) -> StorageGraph:
        graph = snap.snapshot(ns)
        fresh_graph = Snapshotter().snapshot(ns)
        assert_dicts_equal(fresh_graph.to_dict(), graph.to_dict(), what)
        return graph

    first = check("first")
    assert len(first.overlaps) == 40
    ns["z"] = torch.zeros(2)  # something else changes
    check("a new name after")
    ns = {"a": torch.zeros(2), **ns}  # positions move: the same overlaps, renumbered
    graph = check("a new name before")
    assert graph.overlapping("rows[5]", "x") and not graph.overlapping("rows[5]", "rows[6]")
    ns["rows"][7] = x[0, 1:]  # a different view: the container is read again
    graph = check("a replaced row")
    assert graph.overlapping("rows[7]", "rows[0]") and not graph.overlapping("rows[7]", "rows[1]")
    x.add_(1)  # data written in place: every version counter moves, no layout does
    check("the matrix written in place")
    ns["rows"].append(torch.zeros(3))  # the container is read again, its views unchanged
    check("an item appended")
    ns["rows"][3].as_strided_((3,), (2,), 0)  # one view moved in place: same object, new layout
    graph = check("a view moved in place")
    assert graph.overlapping("rows[3]", "rows[1]")
    x.t_()  # the matrix changes in place: every view's version counter moves
    check("the matrix transposed in place")
    ns["rows"][5].set_(torch.zeros(3).untyped_storage())  # set_: a view leaves the matrix
    graph = check("a view set_ to other memory")
    assert not graph.overlapping("rows[5]", "x")
    ns["lone"] = x[1]
    check("a top-level view")
    # `.data =` swaps the memory under the same object. For a tensor that does not require
    # grad it shows at the namespace's next change (the fingerprint reads no address there).
    ns["lone"].data = torch.zeros(3)
    ns["after"] = torch.zeros(1)
    graph = check("a top-level view's data swapped")
    assert not graph.overlapping("lone", "x")
    # In a container of plain tensors a swap shows at the container's next change (its check
    # is ids and version counters, see the fingerprint), and always after invalidate().
    ns["rows"][6].data = torch.zeros(3)
    ns["rows"].append(torch.zeros(1))
    graph = check("a view's data swapped in a container")
    assert not graph.overlapping("rows[6]", "x")


def test_kept_overlaps_of_packed_numpy_fields_match_a_fresh_reading() -> None:
    """Overlaps are kept while the views' layouts are equal: byte strides that are not whole
    elements (a numpy field of a packed record) are compared as they are."""
    records = np.zeros(4, dtype=[("x", "<i4"), ("y", "<i1")])  # 5-byte records
    ns: Namespace = {"r": records, "fields": [records["x"], records["y"]]}
    snap = Snapshotter()
    snap.snapshot(ns)
    ns["z"] = np.zeros(1)
    assert_dicts_equal(
        Snapshotter().snapshot(ns).to_dict(), snap.snapshot(ns).to_dict(), "packed fields"
    )


def test_memory_shared_with_an_unchanged_container_is_found() -> None:
    """A name added beside a big unchanged list (whose rows are reused): memory shared with a
    list item (numpy over it, a view, a tensor over numpy) is still found, and every graph is
    what a fresh reading gives."""
    ts = [torch.rand(3) for _ in range(64)]
    ns: Namespace = {"ts": ts}
    snap = Snapshotter()

    snap.snapshot(ns)
    arr = np.zeros(4, dtype=np.float32)
    for name, value in [
        ("x", torch.rand(2)),  # alone: nothing shared
        ("a", ts[5].numpy()),  # numpy over a list item's memory
        ("v", ts[7][1:]),  # a view of a list item
        ("arr", arr),
        ("b", torch.from_numpy(arr)),  # torch over numpy memory, beside the list
    ]:
        ns[name] = value
        graph = snap.snapshot(ns)
        assert_dicts_equal(
            Snapshotter().snapshot(ns).to_dict(), graph.to_dict(), f"{name} added"
        )
    assert graph.by_name("a").storage == graph.by_name("ts[5]").storage  # type: ignore[union-attr]
    assert graph.by_name("b").storage == graph.by_name("arr").storage  # type: ignore[union-attr]


def test_an_unchanged_container_is_not_read_again_when_another_name_changes() -> None:
    """Per-container reuse, seen from outside: every read of a tensor's shape makes a new
    ``torch.Size``, so a node whose shape is the very object of the last graph's node was not
    read again."""
    ts = [torch.zeros(3) for _ in range(100)]
    ns: Namespace = {"ts": ts}
    snap = Snapshotter()
    first = snap.snapshot(ns)
    ns["z"] = torch.zeros(2)
    second = snap.snapshot(ns)
    assert second is not first and second.by_name("z") is not None
    assert all(second.tensors[p].shape is first.tensors[p].shape for p in range(100))
    ts[7].unsqueeze_(0)  # a version counter moves: that item is read again, not the others
    third = snap.snapshot(ns)
    assert third.tensors[7].shape == (1, 3)
    assert all(third.tensors[p].shape is first.tensors[p].shape for p in range(100) if p != 7)
    assert_dicts_equal(Snapshotter().snapshot(ns).to_dict(), third.to_dict(), "after unsqueeze_")
    ts[3].requires_grad_()  # no version moves: seen at the container's next change
    ts.append(torch.zeros(1))
    appended = snap.snapshot(ns)
    assert appended.tensors[3].requires_grad and appended.tensors[100].shape == (1,)
    assert_dicts_equal(Snapshotter().snapshot(ns).to_dict(), appended.to_dict(), "appended")
    ts[:60] = [t.clone() for t in ts[:60]]  # most items change: the container is read again
    fourth = snap.snapshot(ns)
    assert not any(fourth.tensors[p].shape is first.tensors[p].shape for p in range(60, 100))
    assert_dicts_equal(Snapshotter().snapshot(ns).to_dict(), fourth.to_dict(), "after clones")


def test_top_level_names_are_read_column_wise_and_only_what_changed_again() -> None:
    """Two hundred top-level names holding tensors (half of them views of one matrix) are
    read like a container's items, each named by its name: always the graph of the
    one-by-one reading, and a rebound name is the only row read again."""
    base = torch.zeros(100, 3)
    ns: Namespace = {f"t{i}": torch.zeros(3) for i in range(100)}
    ns.update({f"v{i}": base[i] for i in range(100)})
    ns["base"] = base
    assert [(b.top_level, len(b.items)) for b in bulks_in(ns)] == [(True, 201)]
    snap = Snapshotter()
    first = snap.snapshot(ns)
    assert first.tensors[5].names == ("t5",) and first.overlapping("v3", "base")
    assert_dicts_equal(one_by_one(ns).to_dict(), first.to_dict(), "first")

    ns["t7"] = torch.zeros(2)  # rebound: that row alone is read again
    second = snap.snapshot(ns)
    assert second.tensors[7].shape == (2,) and second.tensors[7].names == ("t7",)
    assert all(second.tensors[p].shape is first.tensors[p].shape for p in range(201) if p != 7)
    assert_dicts_equal(one_by_one(ns).to_dict(), second.to_dict(), "a name rebound")

    ns["alias"] = ns["v3"]  # a second name of a tensor of the run: no row of its own
    ns["w"] = w = torch.zeros(2, requires_grad=True)  # holds a gradient: one by one
    w.sum().backward()
    ns["later"] = torch.zeros(1)
    third = snap.snapshot(ns)
    assert third.tensors[103].names == ("v3", "alias")
    assert [t.names for t in third.tensors[201:]] == [("w",), ("w.grad",), ("later",)]
    assert_dicts_equal(one_by_one(ns).to_dict(), third.to_dict(), "an alias, a gradient")

    # ``.data =`` under a name of the run shows at the namespace's next change, as for a
    # name read one by one.
    ns["t9"].data = torch.zeros(4)
    ns["z"] = torch.zeros(1)
    fourth = snap.snapshot(ns)
    assert fourth.tensors[9].shape == (4,)
    assert_dicts_equal(one_by_one(ns).to_dict(), fourth.to_dict(), "a swap under a name")
    ns["t11"].requires_grad_()  # bumps no version either: seen at the next change too
    ns["z2"] = torch.zeros(1)
    fifth = snap.snapshot(ns)
    assert fifth.tensors[11].requires_grad
    assert_dicts_equal(one_by_one(ns).to_dict(), fifth.to_dict(), "requires_grad_()")

    del ns["t0"]  # every row moves: read again, the same graph as read one by one
    assert_dicts_equal(one_by_one(ns).to_dict(), snap.snapshot(ns).to_dict(), "a name gone")


# -- the last build patched: a few rows change beside big unchanged containers -----------------


def name_change(ns: Namespace, draw: Draw, step: int) -> None:
    """One change of top-level names, as a cell makes it: mostly a name rebound to a new
    tensor in place (what the build patches in), sometimes memory shared with other rows, a
    write, ``set_``, ``.data =``, a death, a name added or dropped (rows move)."""
    names = [k for k, v in ns.items() if isinstance(v, (torch.Tensor, np.ndarray))]
    name = draw(st.sampled_from(names))
    value = ns[name]
    change = draw(st.sampled_from([
        "rebind", "rebind", "rebind", "view_of_item", "view_of_name", "write", "set_", "data",
        "expand", "meta", "empty", "numpy", "from_numpy", "add", "drop", "item",
    ]))
    tensor = (
        isinstance(value, torch.Tensor) and not value.requires_grad
        and value.device.type == "cpu"
    )
    if change == "rebind":
        ns[name] = fresh(draw)
    elif change == "view_of_item":
        view = view_of(draw, draw(st.sampled_from(list(ns["ts"]))))
        ns[name] = view if view is not None else fresh(draw)
    elif change == "view_of_name" and tensor:
        view = view_of(draw, value)
        ns[f"view{step}"] = view if view is not None else fresh(draw)
    elif change == "write" and tensor:
        with contextlib.suppress(RuntimeError):
            value.add_(1)
    elif change == "set_" and tensor:
        value.set_(torch.zeros(draw(st.integers(0, 4)), dtype=value.dtype).untyped_storage())
    elif change == "data" and tensor and not any(
        v is value for path, v in paths(ns) if "[" in path
    ):
        # A swap of a tensor that does not require grad shows at the next change of the
        # namespace (in a container: of the container; see the fingerprint).
        value.data = torch.zeros(draw(st.integers(0, 4)), dtype=value.dtype)
        ns[f"after{step}"] = torch.zeros(1)
    elif change == "expand":
        ns[name] = torch.zeros(3).expand(2, 3)
    elif change == "meta":
        ns[name] = torch.zeros(2, 3, device="meta")
    elif change == "empty":
        ns[name] = torch.empty(0)
    elif change == "numpy" and tensor:
        with contextlib.suppress(RuntimeError):  # conjugate, negative views
            ns[name] = value.numpy()
    elif change == "from_numpy" and isinstance(value, np.ndarray):
        ns[name] = torch.from_numpy(value)
    elif change == "add":
        ns[f"new{step}"] = fresh(draw)
    elif change == "drop" and len(names) > 1:
        del ns[name]
    elif change == "item":
        ns["ts"][draw(st.integers(0, len(ns["ts"]) - 1))] = fresh(draw)


def index_columns(graph: StorageGraph) -> dict[str, Any]:
    index = graph.index()
    return {
        "storage": list(index.tensor_storage), "nbytes": list(index.storage_nbytes),
        "first": list(index.storage_first), "shared": list(index.shared.items()),
        "special": list(index.special), "named": list(index.named),
        "unallocated": list(index.unallocated),
        "one_per_storage": index.one_tensor_per_storage,
    }


@PROPERTY
@given(ns=namespaces(), data=st.data())
def test_a_snapshotter_across_name_changes_matches_fresh_readings(
    ns: Namespace, data: st.DataObject
) -> None:
    """Cell after cell, with every node of each graph built (as a drawing builds those it
    shows, and a patched build reuses): each graph, its nodes and its index are those of a
    fresh snapshot of the same namespace, and what changed since the last cell is what the
    two graphs' nodes alone say."""
    ns = {**ns, "ts": list(ns["ts"]), "s0": torch.zeros(3), "s1": torch.zeros(2, 2)}
    snap = Snapshotter()
    first = snap.snapshot(ns)
    first.to_dict()
    assert_kept_answers_hold(first)
    previous = first
    for step in range(6):
        name_change(ns, data.draw, step)
        graph = snap.snapshot(ns)
        changes = diff_graphs(previous, graph)
        from_nodes = diff_graphs(replace(previous, columns=None), replace(graph, columns=None))
        assert changes == from_nodes, f"step {step}"
        previous = graph
        fresh_graph = Snapshotter().snapshot(ns)
        assert_dicts_equal(fresh_graph.to_dict(), graph.to_dict(), f"step {step}")
        assert index_columns(graph) == index_columns(fresh_graph), f"step {step}"
        assert_kept_answers_hold(graph)
        assert_drawn_alike(graph, fresh_graph, changes)


def assert_kept_answers_hold(graph: StorageGraph) -> None:
    """What an index keeps (and a patched one carries over from the last) is what its own
    columns say; asking for it here also makes the next graph carry it over."""
    index = graph.index()
    uids = list(index.tensor_uids)
    assert index.uid_set() == set(uids)
    assert index.shared_uids() == {
        s: tuple(uids[p] for p in members) for s, members in index.shared.items()
    }
    assert index.largest_storage() == max(index.storage_nbytes, default=-1)
    held = index.held(graph)
    assert held.devices == Counter(t.device for t in graph.tensors)
    assert held.categories == Counter(t.category for t in graph.tensors)
    assert held.tensors_on_storages == sum(t.storage is not None for t in graph.tensors)
    assert held.nbytes == sum(s.nbytes for s in graph.storages if s.nbytes)


# Drawings of a graph of about a hundred tensors: capped hard (folded groups), by default,
# and everything (capped, repeated structure folded).
DRAWN = (ViewOptions(max_nodes=4), ViewOptions(), ViewOptions(show_all=True, max_nodes=6))


def assert_drawn_alike(graph: StorageGraph, fresh: StorageGraph, changes: GraphChanges) -> None:
    """Every face's drawing of ``graph`` (which keeps it, and the next patched graph carries
    it over) is that of a fresh reading of the same namespace."""
    for options in DRAWN:
        assert view_document(view(graph, changes, options)) == view_document(
            view(fresh, changes, options)
        ), options


def test_a_name_rebound_beside_many_views_draws_them_as_the_last_cell_did() -> None:
    """Past the node cap, the drawing of the views of one matrix is kept while cells rebind
    another name (the drawn nodes are the last drawing's very objects), made again when a
    change touches what it drew, and always that of a fresh reading."""
    m = torch.zeros(400, 3)
    ns: Namespace = {
        "ts": [torch.zeros(3) for _ in range(100)], "m": m, "rows": list(m.unbind(0)),
        "x": torch.zeros(3),
    }
    snap = Snapshotter()
    last = snap.snapshot(ns)
    last_drawn = view(last)
    for make, kept in [
        (lambda: torch.rand(3), True),
        (lambda: torch.rand(5)[1:], True),  # a view of a tensor not in the namespace
        (lambda: m[5], False),  # a view of the matrix: drawn with it
        (lambda: torch.rand(2), False),  # gone from the matrix: drawn without it
        (lambda: torch.rand(4), True),
        (lambda: torch.zeros(3).expand(2, 3), False),  # overlaps itself: drawn
        (lambda: torch.rand(3), False),
        (lambda: torch.rand(3), True),
    ]:
        ns["x"] = make()
        graph = snap.snapshot(ns)
        changes = diff_graphs(last, graph)
        drawn = view(graph, changes)
        fresh = Snapshotter().snapshot(ns)
        assert view_document(drawn) == view_document(view(fresh, changes)), repr(ns["x"])
        assert (drawn.tensors is last_drawn.tensors) == kept, repr(ns["x"])
        assert len(drawn.tensors) == 300 and any("folded" in note for note in drawn.notes)
        last, last_drawn = graph, drawn


def test_memory_under_numpy_and_torch_is_patched_like_any_other() -> None:
    """A numpy array over torch memory (one storage of two libraries) beside a list: a name
    rebound elsewhere, the merged memory replaced by another, and a merge begun and ended
    are patched into the last build (its other rows' nodes are the very objects), and each
    graph, its index and its changes are those of a fresh reading."""
    base = torch.zeros(8, 4)
    ns: Namespace = {"ts": [torch.zeros(3) for _ in range(200)], "base": base,
                     "arr": base.numpy()[1:3], "x": torch.zeros(3)}
    snap = Snapshotter()
    last = snap.snapshot(ns)
    assert "numpy" in last.storages[200].libraries and len(last.storages) == 202
    kept = [last.tensors[p] for p in range(200)]  # built, as a drawing builds them

    def replaced_base() -> None:
        other = torch.zeros(6, 2)
        ns["base"], ns["arr"] = other, other.numpy()[2:]

    def merge_begun() -> None:  # rows at the end: a name rebound, one added
        ns["x"] = torch.zeros(5)
        ns["y"] = ns["x"].numpy()[1:]

    def merge_ended() -> None:  # both sides of the memory rebound
        ns["x"], ns["y"] = torch.zeros(4), np.zeros(2)

    def merge_left() -> None:
        # The array alone: the tensor's storage, not among the rows that changed, is no
        # longer shared with numpy. Built afresh.
        ns["arr"] = np.zeros(3)

    whole = torch.zeros(100).numpy()

    def merged_at_the_end() -> None:
        ns["w"] = torch.zeros(4)
        ns["wa"] = ns["w"].numpy()
        ns["n1"], ns["t1"] = whole[:10], torch.from_numpy(whole[2:5])

    def empty_view() -> None:
        # No bytes, so no byte range to meet; its key is the merged memory's own.
        ns["z"] = ns["wa"][:0]

    def far_view() -> None:
        # Past the merged memory's bytes so far, over the same numpy memory (its key).
        ns["n2"] = whole[50:60]

    for change, patched in (
        (lambda: ns.update(x=torch.rand(3)), True), (replaced_base, True),
        (merge_begun, True), (merge_ended, True), (merge_left, False),
        (merged_at_the_end, True), (empty_view, False), (far_view, False),
    ):
        change()
        graph = snap.snapshot(ns)
        assert (graph.index().replaced is not None) == patched
        assert all(graph.tensors[p] is node for p, node in enumerate(kept)) == patched
        kept = [graph.tensors[p] for p in range(200)]
        fresh = Snapshotter().snapshot(ns)
        assert_dicts_equal(fresh.to_dict(), graph.to_dict(), "patched")
        assert index_columns(graph) == index_columns(fresh)
        changes = diff_graphs(last, graph)
        assert changes == diff_graphs(replace(last, columns=None), replace(graph, columns=None))
        assert_drawn_alike(graph, fresh, changes)
        last = graph


def test_sharing_begun_and_ended_among_patched_rows_is_found() -> None:
    """Two names rebound together to a tensor and its view (and back to tensors of their
    own), or moved apart by ``set_``: the build is patched, and the changes since the last
    cell are those the two graphs' nodes alone say."""
    ns: Namespace = {"ts": [torch.zeros(3) for _ in range(200)], "x": torch.zeros(3),
                     "y": torch.zeros(2)}
    snap = Snapshotter()
    last = snap.snapshot(ns)

    def cell() -> GraphChanges:
        nonlocal last
        graph = snap.snapshot(ns)
        assert graph.index().replaced is not None  # patched, not built afresh
        changes = diff_graphs(last, graph)
        assert changes == diff_graphs(replace(last, columns=None), replace(graph, columns=None))
        last = graph
        return changes

    base = torch.rand(4)
    ns["x"], ns["y"] = base, base[1:]
    assert cell().new_sharing == [("t201", "t200")]
    ns["x"], ns["y"] = torch.rand(3), torch.rand(2)
    assert cell().new_sharing == []
    ns["x"], ns["y"] = base, base[1:]
    cell()
    base.set_(torch.rand(5).untyped_storage())
    ns["y"].set_(torch.rand(6).untyped_storage())
    assert cell().ended_sharing == [("x", "y")]


def test_a_name_rebound_beside_a_big_list_reuses_the_other_nodes() -> None:
    """The build of the unchanged rows is not redone: their nodes are the very objects of the
    last graph, and everything equals a fresh reading, cell after cell."""
    ts = [torch.zeros(3) for _ in range(200)]
    ns: Namespace = {"ts": ts, "rows": [t[1:] for t in ts[:40]], "x": torch.zeros(3)}
    snap = Snapshotter()
    last = snap.snapshot(ns)
    last.to_dict()
    assert_kept_answers_hold(last)
    for make in [
        lambda: torch.rand(3),
        lambda: torch.rand(4)[1:],  # a view of a tensor not in the namespace
        lambda: torch.rand(2, 2).t(),
        lambda: torch.zeros(3).expand(2, 3),  # overlaps itself: always drawn
        lambda: torch.zeros(3, device="meta"),  # no memory
        lambda: np.zeros(3),
    ]:
        ns["x"] = make()
        graph = snap.snapshot(ns)
        x = len(graph.tensors) - 1
        assert all(graph.tensors[p] is last.tensors[p] for p in range(x))
        assert all(graph.storages[s] is last.storages[s] for s in range(len(graph.storages) - 1))
        fresh_graph = Snapshotter().snapshot(ns)
        assert_dicts_equal(fresh_graph.to_dict(), graph.to_dict(), f"x = {ns['x']!r}")
        assert index_columns(graph) == index_columns(fresh_graph)
        assert_kept_answers_hold(graph)
        last = graph
    for step in range(3):  # names added last, then dropped: the rows before stay where they are
        ns[f"y{step}"] = torch.rand(2)
        graph = snap.snapshot(ns)
        assert all(graph.tensors[p] is last.tensors[p] for p in range(len(last.tensors) - 1))
        assert_dicts_equal(Snapshotter().snapshot(ns).to_dict(), graph.to_dict(), "y added")
        last = graph
    del ns["y2"], ns["y1"]
    graph = snap.snapshot(ns)
    assert all(graph.tensors[p] is last.tensors[p] for p in range(len(graph.tensors)))
    assert_dicts_equal(Snapshotter().snapshot(ns).to_dict(), graph.to_dict(), "y dropped")
    ns["x"] = ts[5][1:]  # a view of a list item: its storage is not its own
    graph = snap.snapshot(ns)
    assert graph.overlapping("x", "ts[5]") and graph.overlapping("x", "rows[5]")
    assert_dicts_equal(Snapshotter().snapshot(ns).to_dict(), graph.to_dict(), "a view")
