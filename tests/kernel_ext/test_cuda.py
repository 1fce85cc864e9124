"""CUDA placement and storage identity. Skipped where no GPU is present; run wherever one is."""

from __future__ import annotations

import gc
from typing import Any

import pytest
import torch

from tensorviews import Snapshotter, overlaps, snapshot

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
]


def test_cuda_views_share_a_cuda_storage_and_cpu_copy_is_new() -> None:
    x = torch.arange(12.0, device="cuda").reshape(3, 4)
    graph = snapshot({"x": x, "row": x[1], "col": x[:, 2], "host": x.to("cpu")})
    row, col, host = (graph.by_name(n) for n in ("row", "col", "host"))
    assert row is not None and col is not None and host is not None
    assert row.device == "cuda:0" and host.device == "cpu"
    assert row.storage == graph.by_name("x").storage != host.storage  # type: ignore[union-attr]
    assert graph.overlapping("row", "col")
    assert {s.device for s in graph.storages} == {"cuda:0", "cpu"}
    svg_clusters = graph.to_dot()
    assert '"cuda:0"' in svg_clusters and '"cpu"' in svg_clusters


def test_exact_overlap_on_cuda_without_touching_memory() -> None:
    x = torch.zeros(4, 6, device="cuda")
    assert not overlaps(x[:, ::2], x[:, 1::2])
    assert overlaps(x[1], x[:, 3])


def test_pinned_host_memory_is_its_own_cluster() -> None:
    pinned = torch.zeros(8).pin_memory()
    graph = snapshot({"pinned": pinned, "plain": torch.zeros(8)})
    by_pinned = {s.pinned for s in graph.storages}
    assert by_pinned == {True, False}
    assert "pinned host memory" in graph.to_dot()


def test_reused_allocator_address_is_not_the_old_storage() -> None:
    snap = Snapshotter()
    ns: dict[str, Any] = {"x": torch.empty(1024, device="cuda")}
    first = snap.snapshot(ns)
    old_ptr = ns["x"].data_ptr()
    del ns["x"]
    ns["y"] = torch.empty(1024, device="cuda")  # the caching allocator hands back the block
    second = snap.snapshot(ns)
    assert [t.names for t in second.tensors] == [("y",)]
    assert first.by_name("x") is not None and second.by_name("x") is None
    if ns["y"].data_ptr() == old_ptr:
        assert second.by_name("y").storage is not None  # type: ignore[union-attr]


def test_no_gpu_memory_retained_after_del() -> None:
    torch.cuda.synchronize()
    baseline = torch.cuda.memory_allocated()
    snap = Snapshotter()
    ns: dict[str, Any] = {"big": torch.empty(64 * 1024 * 1024, device="cuda")}
    ns["view"] = ns["big"][10:]
    snap.snapshot(ns)
    snap.snapshot(ns)
    ns.clear()
    gc.collect()
    snap.snapshot(ns)
    torch.cuda.synchronize()
    assert torch.cuda.memory_allocated() == baseline


def test_big_list_of_cuda_tensors_is_read_column_wise_and_freed() -> None:
    torch.cuda.synchronize()
    baseline = torch.cuda.memory_allocated()
    snap = Snapshotter()  # as the kernel extension reads them
    ns: dict[str, Any] = {"ts": [torch.empty(1024, device="cuda") for _ in range(64)]}
    ns["row"] = ns["ts"][3][10:]
    graph = snap.snapshot(ns)
    assert {s.device for s in graph.storages} == {"cuda:0"}
    assert graph.overlapping("row", "ts[3]") and not graph.overlapping("row", "ts[4]")
    assert graph.by_name("row").offset == 10  # type: ignore[union-attr]
    assert len(graph.tensors) == 65
    ns.clear()
    gc.collect()
    snap.snapshot(ns)
    torch.cuda.synchronize()
    assert torch.cuda.memory_allocated() == baseline
