"""Attack suite, the core's part: hostile and unusual objects handed to ``tensorviews.snapshot`` /
``Snapshotter`` and ``tensorviews.overlaps`` directly (issue 19; the kernel's part is in
test_attack_kernel.py)."""

from __future__ import annotations

import json
import shutil
from typing import Any

import numpy as np
import pytest
import torch

from tensorviews import Snapshotter, overlaps, snapshot, view, view_document
from tensorviews.graph.model import StorageGraph


def names_of(graph: StorageGraph, name: str) -> tuple[str, ...]:
    t = graph.by_name(name)
    assert t is not None, name
    return t.names


# --- one tensor under many names --------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda t: {"obj": [t] * 100_000},
    lambda t: {"obj": dict.fromkeys(range(100_000), t)},
    lambda t: {"obj": tuple([t] * 100_000)},
])
def test_one_tensor_under_100000_names_keeps_four_and_a_count(make: Any) -> None:
    t = torch.zeros(3)
    graph = snapshot({"t": t, **make(t)})
    names = names_of(graph, "t")
    assert names == ("t", "obj[0]", "obj[1]", "obj[2]", "… and 99,997 more names")
    shown = view(graph)
    assert "99,997 more names" in shown.to_text()
    dot = shown.to_dot()
    assert "99,997 more names" in dot and "obj[3]" not in dot
    assert len(dot) < 10_000


def test_the_gradient_of_a_parameter_under_many_names_is_counted_the_same() -> None:
    p = torch.nn.Parameter(torch.zeros(2))
    p.grad = torch.zeros(2)
    graph = snapshot({"obj": [p] * 10})
    assert names_of(graph, "obj[0]")[-1] == "… and 6 more names"
    assert names_of(graph, "obj[0].grad") == (
        "obj[0].grad", "obj[1].grad", "obj[2].grad", "obj[3].grad", "… and 6 more names"
    )


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz not installed")
def test_graphviz_draws_a_tensor_with_100000_names() -> None:
    t = torch.zeros(3)
    svg = view(snapshot({"obj": [t] * 100_000, "v": t[1:]})).to_svg()
    assert "<svg" in svg and "more names" in svg


def test_a_container_of_tensors_reached_twice_names_each_tensor_twice() -> None:
    items = [torch.zeros(1) for _ in range(5_000)]
    graph = snapshot({"a": items, "b": list(items), "c": list(items)})
    assert names_of(graph, "a[4999]") == ("a[4999]", "b[4999]", "c[4999]")


# --- names that are not plain text ------------------------------------------------------------


def test_odd_names_are_access_paths_and_escaped_text() -> None:
    t = torch.zeros(4)
    graph = snapshot({1: t, "a\udcff": t[1:], (2, "k"): t[2:]})  # type: ignore[dict-item]
    assert [x.names for x in graph.tensors] == [
        ("globals()[1]",), ("a\\udcff",), ("globals()[(2, 'k')]",)
    ]
    document = view_document(view(graph))
    json.dumps(document, ensure_ascii=False).encode("utf-8")  # no lone surrogate left
    view(graph).to_dot().encode("utf-8")


def test_surrogates_in_dict_keys_and_module_names_are_escaped() -> None:
    model = torch.nn.Module()
    model.register_buffer("b\udcff", torch.zeros(2))
    graph = snapshot({"d": {"k\udcff": torch.zeros(1)}, "model": model})
    names = [n for x in graph.tensors for n in x.names]
    assert names == ["d['k\\udcff']", "model.b\\udcff"]
    view(graph).to_dot().encode("utf-8")


# --- jagged nested tensors --------------------------------------------------------------------


def test_jagged_nested_tensor_is_drawn_as_its_buffers() -> None:
    nt = torch.nested.nested_tensor([torch.zeros(2, 3), torch.zeros(4, 3)], layout=torch.jagged)
    values = nt.values()
    graph = snapshot({"nt": nt, "first": values[:2]})
    assert [x.names for x in graph.tensors] == [("nt.values()",), ("nt.offsets()",), ("first",)]
    v = graph.by_name("nt.values()")
    assert v is not None and v.shape == (6, 3)
    assert graph.overlapping("nt.values()", "first")
    text = json.dumps(view_document(view(graph)))
    assert "j1" not in text and not graph.problems


def test_jagged_nested_tensor_unchanged_is_not_read_again_and_a_new_one_is() -> None:
    snapshotter = Snapshotter()
    nt = torch.nested.nested_tensor([torch.zeros(2), torch.zeros(3)], layout=torch.jagged)
    ns: dict[str, Any] = {"nt": nt}
    first = snapshotter.snapshot(ns)
    assert snapshotter.snapshot(ns) is first
    ns["nt"] = torch.nested.nested_tensor([torch.zeros(1)], layout=torch.jagged)
    second = snapshotter.snapshot(ns)
    assert second is not first and second.by_name("nt.values()").shape == (1,)  # type: ignore[union-attr]


# --- inference tensors ------------------------------------------------------------------------


def test_inference_mode_tensors_are_drawn_and_changes_seen() -> None:
    with torch.inference_mode():
        base = torch.zeros(4, 4)
        items = [torch.zeros(2) for _ in range(40)]
    snapshotter = Snapshotter()
    ns: dict[str, Any] = {"base": base, "row": base[1], "items": items}
    graph = snapshotter.snapshot(ns)
    assert not graph.problems
    assert graph.overlapping("base", "row") and graph.by_name("items[39]") is not None
    assert snapshotter.snapshot(ns) is graph  # unchanged: the last graph
    ns["col"] = base[:, 0]
    changed = snapshotter.snapshot(ns)
    assert changed.overlapping("col", "row")


# --- parameters only an optimizer holds -------------------------------------------------------


def test_parameters_only_the_optimizer_holds_are_walked_and_named_by_place() -> None:
    model = torch.nn.Linear(4, 4)
    opt = torch.optim.AdamW(model.parameters())
    model(torch.ones(1, 4)).sum().backward()
    opt.step()
    # What nanoGPT's crop_block_size does: the model gets a view, the optimizer keeps the old.
    model.weight = torch.nn.Parameter(model.weight[:2])
    graph = snapshot({"model": model, "opt": opt})
    old = "opt.param_groups[0]['params'][0]"
    assert names_of(graph, old) == (old,)
    assert graph.by_name(f"{old}.grad") is not None
    assert graph.by_name(f"opt.state[{old}]['exp_avg']") is not None
    assert graph.overlapping("model.weight", old)
    # The bias the model still holds is named by the model, whatever the namespace order.
    reversed_graph = snapshot({"opt": opt, "model": model})
    assert names_of(reversed_graph, "model.bias") == ("model.bias",)
    assert reversed_graph.by_name("opt.state[model.bias]['exp_avg']") is not None


# --- user code never runs in the walk ---------------------------------------------------------


class Calls:
    count = 0


class ClassProperty:
    @property  # type: ignore[misc]
    def __class__(self) -> type:
        Calls.count += 1
        return ClassProperty


class CountingList(list[Any]):
    def __len__(self) -> int:
        Calls.count += 1
        return list.__len__(self)

    def __iter__(self) -> Any:
        Calls.count += 1
        return list.__iter__(self)


class CountingDict(dict[Any, Any]):
    def __len__(self) -> int:
        Calls.count += 1
        return dict.__len__(self)

    def items(self) -> Any:
        Calls.count += 1
        return dict.items(self)


class Meta(type):
    def __getattr__(cls, name: str) -> Any:
        Calls.count += 1
        raise AttributeError(name)


class WithMeta(tuple[Any, ...], metaclass=Meta):
    pass


class HostileModule(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(2, 2)

    def __getattr__(self, name: str) -> Any:
        Calls.count += 1
        return super().__getattr__(name)

    def named_parameters(self, *args: Any, **kwargs: Any) -> Any:
        Calls.count += 1
        return super().named_parameters(*args, **kwargs)

    def named_buffers(self, *args: Any, **kwargs: Any) -> Any:
        Calls.count += 1
        return super().named_buffers(*args, **kwargs)


class Sub(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        Calls.count += 1
        return super().__torch_function__(func, types, args, kwargs or {})


class NumpyClassProperty(np.ndarray):
    @property  # type: ignore[misc]
    def __class__(self) -> type:
        Calls.count += 1
        return NumpyClassProperty


def hostile_namespace() -> dict[str, Any]:
    s = torch.arange(6.0).requires_grad_().as_subclass(Sub)
    return {
        "box": ClassProperty(),
        "boxes": [ClassProperty(), ClassProperty()],
        "xs": CountingList([torch.zeros(2), ClassProperty()]),
        "d": CountingDict(a=torch.zeros(2), b=ClassProperty()),
        "meta": WithMeta((torch.zeros(1),)),
        "model": HostileModule(),
        "s": s,
        "s_view": s[1:],
        "subs": [torch.zeros(2).as_subclass(Sub) for _ in range(40)],
        "arr": np.zeros(3).view(NumpyClassProperty),
    }


def test_no_user_code_runs_while_a_namespace_of_hostile_objects_is_read() -> None:
    ns = hostile_namespace()
    more = ns["s"][2:]
    Calls.count = 0
    snapshotter = Snapshotter()
    graph = snapshotter.snapshot(ns)
    assert Calls.count == 0
    assert graph.by_name("model.fc.weight") is not None
    assert graph.by_name("xs[0]") is not None and graph.by_name("d['a']") is not None
    assert graph.by_name("meta[0]") is not None and graph.overlapping("s", "s_view")
    assert graph.by_name("arr") is not None and graph.by_name("subs[39]") is not None
    snapshotter.snapshot(ns)  # unchanged
    ns["more"] = more
    snapshotter.snapshot(ns)  # changed
    snapshotter.invalidate()
    snapshotter.snapshot(ns)  # asked for in full
    assert Calls.count == 0


# --- overlaps() on two layouts ----------------------------------------------------------------


def test_overlaps_of_parameters_holding_gradients() -> None:
    p = torch.nn.Parameter(torch.zeros(4, 4))
    q = torch.nn.Parameter(torch.zeros(4))
    p.grad, q.grad = torch.zeros(4, 4), torch.zeros(4)
    assert overlaps(p, p)
    assert overlaps(p, p[1]) and not overlaps(p[0], p[1])
    assert not overlaps(p, q) and not overlaps(p, p.grad)


def test_overlaps_is_exact_for_interleaved_layouts_and_views() -> None:
    x = torch.arange(24.0).reshape(4, 6)
    assert not overlaps(x[:, 0::2], x[:, 1::2])
    assert overlaps(x[:, 0::2], x[1])
    assert not overlaps(x[0], x[1]) and overlaps(x[1:3], x[:, 2])
    assert not overlaps(x[:0], x)  # empty
    assert overlaps(x.view(torch.int32), x[0])  # reinterpreted dtype, same bytes
    assert not overlaps(x.view(torch.uint8)[0, 1::4], x.view(torch.uint8)[0, 2::4])


def test_overlaps_across_numpy_and_torch() -> None:
    a = np.arange(10.0)
    t = torch.from_numpy(a)
    assert overlaps(a, t) and overlaps(t[5:], a[4:6]) and not overlaps(t[5:], a[:5])
    assert not overlaps(a[0::2], a[1::2])
    assert not overlaps(a, np.zeros(10))
    n = torch.zeros(4).numpy()
    assert overlaps(n, n[1:])


def test_overlaps_on_meta_and_other_devices_reads_no_memory() -> None:
    m = torch.empty(4, 4, device="meta")
    other = torch.empty(4, 4, device="meta")
    assert overlaps(m, m[1]) and not overlaps(m[0], m[1])
    assert not overlaps(m, other)  # two meta storages, both "at" address 0
    assert not overlaps(m, torch.zeros(4, 4))


def test_overlaps_runs_no_torch_function_and_rejects_what_has_no_strided_memory() -> None:
    s = torch.arange(6.0).as_subclass(Sub)
    tail, head, rest = s[1:], s[:3], s[3:]
    Calls.count = 0
    assert overlaps(s, tail) and not overlaps(head, rest)
    assert Calls.count == 0
    nt = torch.nested.nested_tensor([torch.zeros(2)], layout=torch.jagged)
    for odd in (torch.zeros(3).to_sparse(), nt, [1, 2], 3.0):
        with pytest.raises(TypeError, match="overlaps"):
            overlaps(odd, torch.zeros(3))


def test_names_added_removed_and_readded_between_snapshots_are_walked_in_order() -> None:
    snapshotter = Snapshotter()
    ns: dict[str, Any] = {"a": torch.zeros(1), "_i3": torch.zeros(2)}  # IPython's: skipped

    def labels(**kwargs: Any) -> list[str]:
        return [t.label for t in snapshotter.snapshot(ns, **kwargs).tensors]

    assert labels() == ["a"]
    ns["b"], ns["_5"] = torch.zeros(3), torch.zeros(1)
    assert labels() == ["a", "b"]
    del ns["a"]
    assert labels() == ["b"]
    ns["a"] = torch.zeros(1)
    assert labels() == ["b", "a"]
    assert labels(skip=lambda name: name == "b") == ["_i3", "_5", "a"]  # another rule


def test_a_namespace_key_whose_comparison_raises_is_walked_all_the_same() -> None:
    """``globals()[key] = t`` with a key whose ``__eq__`` raises: when the names change, the
    next snapshot still reads every tensor, as a fresh one does."""

    class Key:
        def __eq__(self, other: object) -> bool:
            raise RuntimeError("no comparing me")

        def __hash__(self) -> int:
            return 1

    snapshotter = Snapshotter()
    ns: dict[Any, Any] = {Key(): torch.zeros(3), "x": torch.zeros(2)}
    assert len(snapshotter.snapshot(ns).tensors) == 2
    ns = {Key(): torch.zeros(3), "y": torch.zeros(2)}  # another key where the first was
    graph = snapshotter.snapshot(ns)
    assert [t.label for t in graph.tensors] == [t.label for t in snapshot(ns).tensors]
    assert len(graph.tensors) == 2 and not graph.problems
