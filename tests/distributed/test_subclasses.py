"""Tensor subclasses in one process: FakeTensor, FunctionalTensor, wrapper subclasses, and
what the snapshot says about objects it cannot draw and optimizer state it cannot name."""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch._subclasses.fake_tensor import FakeTensorMode
from torch._subclasses.functional_tensor import FunctionalTensor, FunctionalTensorMode
from torch.testing._internal.two_tensor import TwoTensor

import tensorviews
from tests.distributed.graph_json import storage, tensor


def test_fake_tensor_is_not_allocated_and_warns_nothing() -> None:
    with FakeTensorMode():
        fake = torch.empty(3, 4)
    real = torch.zeros(3, 4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        graph = tensorviews.snapshot({"fake": fake, "real": real}).to_dict()
    assert [str(w.message) for w in caught] == []
    node = tensor(graph, "fake")
    assert node["type"] == "FakeTensor" and node["shape"] == [3, 4]
    assert node["device"] == str(fake.device)
    s = storage(graph, node["storage"])
    assert (s["allocated"], s["nbytes"]) == (False, 48)
    assert storage(graph, tensor(graph, "real")["storage"])["allocated"]
    assert "48 B, not allocated (cpu)" in tensorviews.snapshot({"fake": fake}).to_text()
    assert graph["problems"] == []


def test_functional_tensor_is_drawn_as_what_it_wraps() -> None:
    x = torch.zeros(4)
    with FunctionalTensorMode():
        wrapped = FunctionalTensor.to_functional(x)
    graph = tensorviews.snapshot({"x": x, "wrapped": wrapped}).to_dict()
    node = tensor(graph, "wrapped")
    assert node["type"] == "FunctionalTensor"
    assert node["storage"] == tensor(graph, "x")["storage"]
    assert graph["problems"] == []


def test_wrapper_subclass_inner_tensors_on_their_storages() -> None:
    a, b = torch.zeros(4), torch.ones(4)
    pair = TwoTensor(a, b)
    graph = tensorviews.snapshot({"a": a, "pair": pair})
    data = graph.to_dict()
    node = tensor(data, "pair")
    assert (node["type"], node["storage"], node["layout"]) == ("TwoTensor", None, "wrapper")
    assert tensor(data, "pair.a")["storage"] == tensor(data, "a")["storage"]
    assert tensor(data, "pair.b")["storage"] != tensor(data, "a")["storage"]
    assert "wrapper subclass: no storage of its own" in graph.to_dot()
    assert data["problems"] == []


class _NoStorage(torch.Tensor):
    """A wrapper subclass without ``__tensor_flatten__``: its storage is invalid."""

    @staticmethod
    def __new__(cls, shape: tuple[int, ...]) -> _NoStorage:
        made: _NoStorage = torch.Tensor._make_wrapper_subclass(cls, shape)  # type: ignore[attr-defined]
        return made

    @classmethod
    def __torch_dispatch__(cls, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        raise RuntimeError("no kernels")


def test_wrapper_without_flatten_is_drawn_without_storage() -> None:
    graph = tensorviews.snapshot({"w": _NoStorage((2, 3))}).to_dict()
    node = tensor(graph, "w")
    assert (node["storage"], node["shape"], node["layout"]) == (None, [2, 3], "wrapper")
    assert graph["problems"] == []


class _Unreadable(torch.Tensor):
    """A subclass whose every attribute read fails: it cannot be drawn."""

    @property
    def layout(self) -> Any:  # type: ignore[override]
        raise RuntimeError("unreadable layout")


def test_one_problem_line_per_kind_in_the_picture() -> None:
    bad = {f"layer{i}": torch.zeros(2).as_subclass(_Unreadable) for i in range(40)}
    graph = tensorviews.snapshot({"model": bad, "odd": torch.zeros(1).as_subclass(_Unreadable)})
    problems = graph.problems
    assert len(problems) == 1, problems
    assert problems[0].startswith("41 _Unreadables not drawn: model[*], odd")
    assert "unreadable layout" in problems[0]
    assert "41 _Unreadables not drawn" in graph.to_dot()


def test_optimizer_state_of_unnamed_parameters_is_named_by_position() -> None:
    params = [torch.nn.Parameter(torch.zeros(3)) for _ in range(4)]
    opt = torch.optim.SGD(params, lr=0.1, momentum=0.9)
    for p in params:
        p.grad = torch.ones(3)
    opt.step()
    del p
    graph = tensorviews.snapshot({"opt": opt}).to_dict()
    names = [n for t in graph["tensors"] for n in t["names"]]
    # The parameters only the optimizer holds are drawn too, with their gradients: 4 + 4 + 4.
    assert len(names) == len(set(names)) == 12
    for i in range(4):
        assert f"opt.param_groups[0]['params'][{i}].grad" in names
    for i in range(4):
        node = tensor(graph, f"opt.state[opt.param_groups[0]['params'][{i}]]['momentum_buffer']")
        assert node["shape"] == [3]


def test_dtensor_over_a_fake_tensor_is_not_allocated_and_warns_nothing() -> None:
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import DTensor, Shard

    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        mesh = init_device_mesh("cpu", (1,))
        with FakeTensorMode():
            local = torch.empty(4, 3)
        sharded = DTensor.from_local(local, mesh, [Shard(0)], run_check=False)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            graph = tensorviews.snapshot({"sharded": sharded}).to_dict()
        assert [str(w.message) for w in caught] == []
    finally:
        dist.destroy_process_group()
    node = tensor(graph, "sharded")
    assert node["type"] == "DTensor" and node["dtensor"]["placements"] == ["Shard(0)"]
    assert not storage(graph, node["storage"])["allocated"]
    assert (graph["rank"], graph["world_size"]) == (0, 1)


def test_fake_module_parameters_warn_nothing_from_cell_to_cell() -> None:
    with FakeTensorMode():
        model = torch.nn.Linear(4, 4)
    snapshotter = tensorviews.Snapshotter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # recorded, not raised: a raise could be swallowed
        snapshotter.snapshot({"model": model})
        graph = snapshotter.snapshot({"model": model}).to_dict()  # the unchanged-cell check
    assert [str(w.message) for w in caught] == []
    node = tensor(graph, "model.weight")
    assert node["type"] == "FakeTensor" and node["is_parameter"]
    assert not storage(graph, node["storage"])["allocated"]


def test_overlaps_compares_a_dtensor_on_its_local_shard() -> None:
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import DTensor, Replicate

    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        mesh = init_device_mesh("cpu", (1,))
        source = torch.arange(12.0).reshape(3, 4)
        replicated = DTensor.from_local(source, mesh, [Replicate()], run_check=False)
        assert tensorviews.overlaps(replicated, source[1])
        assert tensorviews.overlaps(source[:, 0], replicated)
        assert not tensorviews.overlaps(replicated, torch.zeros(3, 4))
    finally:
        dist.destroy_process_group()


def test_a_process_group_started_between_unchanged_snapshots_shows_its_rank() -> None:
    import torch.distributed as dist

    snapshots = tensorviews.Snapshotter()
    namespace = {"x": torch.zeros(3)}
    assert snapshots.snapshot(namespace).rank is None
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        graph = snapshots.snapshot(namespace)
        assert (graph.rank, graph.world_size) == (0, 1)
    finally:
        dist.destroy_process_group()
    assert snapshots.snapshot(namespace).world_size is None
