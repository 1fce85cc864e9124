"""The cyclic collector around snapshots: what a big snapshot keeps goes straight to the oldest
generation, the user's own garbage is still collected, and the user's collector settings
(disabled, frozen objects) are left as they were."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import torch

from tensorviews import Snapshotter
from tensorviews.graph.collector import PROMOTE_FROM

BIG = PROMOTE_FROM  # tensors: twice as many long-lived objects as the threshold asks


def _young_ids() -> set[int]:
    return {id(o) for generation in (0, 1) for o in gc.get_objects(generation=generation)}


def _oldest_ids() -> set[int]:
    return {id(o) for o in gc.get_objects(generation=2)}


@pytest.fixture
def collections_seen() -> Iterator[list[int]]:
    """Generations of the collections that run while the test does."""
    seen: list[int] = []

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(callback)
    try:
        yield seen
    finally:
        gc.callbacks.remove(callback)


def test_what_a_big_snapshot_keeps_is_in_the_oldest_generation() -> None:
    tensors = [torch.rand(3) for _ in range(BIG)]
    snapshotter = Snapshotter()
    graph = snapshotter.snapshot({"ts": tensors})
    assert len(graph.tensors) == BIG
    assert gc.isenabled() and gc.get_freeze_count() == 0  # nothing left paused or frozen
    # Our weak reference to a tensor and the storage object PyTorch keeps once asked.
    (ref,) = weakref.getweakrefs(tensors[0])
    storage = tensors[0].untyped_storage()  # the same object the snapshot created
    young, oldest = _young_ids(), _oldest_ids()
    assert id(ref) in oldest and id(ref) not in young
    assert id(storage) in oldest and id(storage) not in young


def test_a_small_snapshot_leaves_its_objects_to_the_young_collections(
    collections_seen: list[int],
) -> None:
    tensors = [torch.rand(3) for _ in range(10)]
    gc.collect()
    collections_seen.clear()
    snapshotter = Snapshotter()
    snapshotter.snapshot({"ts": tensors, "x": torch.rand(2)})
    (ref,) = weakref.getweakrefs(tensors[0])
    assert id(ref) in _young_ids()
    assert collections_seen == []  # no collection up front either


def test_the_users_young_garbage_is_collected_not_promoted() -> None:
    tensors = [torch.rand(3) for _ in range(BIG)]

    class Node:
        other: Any = None

    gc.disable()  # no collection between making the cycle and the snapshot
    try:
        a, b = Node(), Node()
        a.other, b.other = b, a
        probe = weakref.ref(a)
        del a, b
        assert probe() is not None  # garbage that only the cyclic collector frees
    finally:
        gc.enable()
    Snapshotter().snapshot({"ts": tensors})
    assert probe() is None  # collected by the young collection before the promotion


def test_user_frozen_objects_stay_frozen(collections_seen: list[int]) -> None:
    tensors = [torch.rand(3) for _ in range(BIG)]
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        collections_seen.clear()
        snapshotter = Snapshotter()
        snapshotter.snapshot({"ts": tensors})
        assert gc.get_freeze_count() >= frozen  # unfreezing would have released them all
        assert collections_seen == []
        (ref,) = weakref.getweakrefs(tensors[0])
        assert id(ref) in _young_ids()
    finally:
        gc.unfreeze()


def test_a_collector_disabled_by_the_user_stays_disabled(collections_seen: list[int]) -> None:
    tensors = [torch.rand(3) for _ in range(BIG)]
    gc.disable()
    try:
        collections_seen.clear()
        Snapshotter().snapshot({"ts": tensors})
        assert not gc.isenabled()
        assert collections_seen == []
        assert gc.get_freeze_count() == 0
    finally:
        gc.enable()


def test_snapshots_leave_no_cyclic_garbage() -> None:
    """Whatever is promoted must not be garbage waiting for a full collection."""
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.rand(2, 4)).sum().backward()
    optimizer.step()
    base = torch.rand(BIG, 3)
    namespace: dict[str, Any] = {
        "ts": [torch.rand(3) for _ in range(BIG)],
        "rows": list(base.unbind(0)),
        "model": model,
        "opt": optimizer,
        "arr": np.zeros(6),
        "shared": torch.from_numpy(np.ones(4)),
        "cfg": {"lr": 0.1, "w": torch.rand(2, 2)},
    }
    changes: list[Callable[[], object]] = [
        lambda: None,
        lambda: namespace.update(ts=[t.clone() for t in namespace["ts"]]),
        lambda: namespace["rows"].append(torch.rand(3)),
        lambda: base.add_(1),
        lambda: namespace.update(x=base[:2].detach()),
        lambda: namespace.pop("x"),
    ]
    # The first round is not judged: what numpy and torch import on first use (``np.unique``
    # imports ``numpy.ma``) leaves cycles from the import itself, and run alone this test is
    # the first to use them. The third snapshotter runs with the second one's graphs around.
    for round_ in range(3):
        snapshotter = Snapshotter()
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            for change in changes:
                change()
                graph = snapshotter.snapshot(namespace)
                assert graph.tensors[0].names  # nodes built, as a drawing would
                snapshotter.invalidate()
                snapshotter.snapshot(namespace)
            gc.collect()
            garbage = [type(o).__qualname__ for o in gc.garbage]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
        assert round_ == 0 or garbage == []


def test_a_snapshot_that_fails_half_way_leaves_the_collector_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tensorviews.graph.scan as scan

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(scan, "build_graph", broken)  # after the walk asked for promotion
    tensors = [torch.rand(3) for _ in range(BIG)]
    with pytest.raises(RuntimeError, match="broken on purpose"):
        Snapshotter().snapshot({"ts": tensors})
    assert gc.isenabled() and gc.get_freeze_count() == 0
