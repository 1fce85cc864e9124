"""Build a ``StorageGraph`` from a namespace: the analysis core, no IPython and no graphviz.

``Snapshotter`` keeps, between calls, only weak references and plain metadata: a tensor whose
version counter, storage and requires_grad are unchanged is not read again, and when every
object is unchanged the previous graph is returned as it is. ``snapshot(namespace)`` is the
one-shot form (a script, or ``locals()`` in a debugger).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from kernel_ext.array_meta import ArrayMeta, StorageKey, loaded_libraries, numpy_meta, torch_meta
from kernel_ext.graph import OverlapEdge, StorageGraph, StorageNode, TensorNode
from kernel_ext.namespace_walk import WalkLimits, is_ipython_name, walk_namespace
from kernel_ext.overlap import Layout, has_internal_overlap, layouts_overlap


@dataclass(frozen=True, slots=True)
class _Record:
    meta: ArrayMeta
    self_overlap: bool


@dataclass(slots=True)
class _CacheEntry:
    ref: weakref.ReferenceType[Any]
    check: tuple[Any, ...]
    record: _Record


def _layout(meta: ArrayMeta) -> Layout:
    return Layout(meta.start, meta.shape, meta.strides_bytes, meta.itemsize)


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[StorageKey, StorageKey] = {}

    def find(self, key: StorageKey) -> StorageKey:
        parent = self.parent.setdefault(key, key)
        while parent != key:
            grand = self.parent[parent]
            self.parent[key] = grand
            key, parent = parent, grand
        return key

    def union(self, a: StorageKey, b: StorageKey) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


class Snapshotter:
    """Takes snapshots of one namespace over time, re-reading only what changed."""

    def __init__(self, limits: WalkLimits | None = None) -> None:
        self.limits = limits or WalkLimits()
        self._cache: dict[int, _CacheEntry] = {}
        self._last_signature: list[tuple[int, tuple[str, ...]]] | None = None
        self._last_graph: StorageGraph | None = None

    def snapshot(
        self,
        namespace: Mapping[str, Any],
        skip: Callable[[str], bool] = is_ipython_name,
    ) -> StorageGraph:
        torch, np = loaded_libraries()
        problems: list[str] = []

        def report(name: str, exc: BaseException) -> None:
            problems.append(f"{name}: skipped ({type(exc).__name__}: {_short(exc)})")

        walk = walk_namespace(namespace, torch, np, self.limits, skip, report)
        records: list[tuple[str, tuple[str, ...], _Record]] = []
        new_cache: dict[int, _CacheEntry] = {}
        changed = False
        storage_nbytes: dict[int, int] = {}
        for obj_id, found in walk.found.items():
            names = tuple(found.names)
            try:
                record, entry, fresh = self._record(found.obj, torch, np, storage_nbytes)
            except Exception as exc:
                problems.append(f"{names[0]}: not drawn ({type(exc).__name__}: {_short(exc)})")
                changed = True
                continue
            changed |= fresh
            new_cache[obj_id] = entry
            records.append((f"{obj_id}", names, record))
        self._cache = new_cache
        signature = [(int(k), n) for k, n, _ in records]
        if (
            not changed
            and not problems
            and not walk.truncated
            and self._last_graph is not None
            and signature == self._last_signature
        ):
            return self._last_graph
        graph = build_graph(records, problems, walk.truncated)
        self._last_signature = signature
        self._last_graph = graph
        return graph

    def _record(
        self, obj: Any, torch: ModuleType | None, np: ModuleType | None, nbytes: dict[int, int]
    ) -> tuple[_Record, _CacheEntry, bool]:
        is_torch = torch is not None and isinstance(obj, torch.Tensor)
        if is_torch:
            # Every in-place write or metadata change (resize_, set_, t_) bumps the version
            # counter shared by all views; `.data =` swaps the storage, hence the storage id.
            check: tuple[Any, ...] = (
                obj._version, obj.requires_grad, _storage_token(obj, torch), obj.shape
            )
        else:
            check = (obj.shape, obj.strides, obj.dtype)
        entry = self._cache.get(id(obj))
        if entry is not None and entry.ref() is obj and entry.check == check:
            return entry.record, entry, False
        if is_torch:
            meta = torch_meta(obj, torch, nbytes)
        else:
            assert np is not None
            meta = numpy_meta(obj, np)
        self_overlap = meta.storage_key is not None and has_internal_overlap(_layout(meta)).may_overlap
        record = _Record(meta, self_overlap)
        return record, _CacheEntry(weakref.ref(obj), check, record), True


def _storage_token(t: Any, torch: ModuleType) -> int:
    storage_id = getattr(torch._C, "_storage_id", None)
    if storage_id is None or t.layout != torch.strided:
        return 0
    return int(storage_id(t))


def _short(exc: BaseException, limit: int = 80) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_graph(
    records: list[tuple[str, tuple[str, ...], _Record]],
    problems: list[str],
    truncated: list[str],
) -> StorageGraph:
    """Group records into storages (merging memory that numpy and torch share), find overlaps."""
    uf = _UnionFind()
    ranges: dict[StorageKey, tuple[str, int, int]] = {}  # key -> (device, lo, hi)
    for _, _, rec in records:
        m = rec.meta
        if m.storage_key is None:
            continue
        key = m.storage_key
        uf.find(key)
        if m.storage_nbytes is not None:
            lo, hi = m.storage_start, m.storage_start + m.storage_nbytes
        else:
            lo, hi = _layout(m).extent()
        dev, old_lo, old_hi = ranges.get(key, (m.device, lo, hi))
        ranges[key] = (dev, min(lo, old_lo), max(hi, old_hi))
    # Live storages on one device whose bytes intersect are one memory: torch.from_numpy,
    # .numpy(), numpy arrays over the same external buffer. Null/empty ranges never merge.
    by_device: dict[str, list[tuple[int, int, StorageKey]]] = {}
    for key, (dev, lo, hi) in ranges.items():
        if lo != 0 and hi > lo:
            by_device.setdefault(dev, []).append((lo, hi, key))
    for spans in by_device.values():
        spans.sort()
        reach_hi, reach_key = spans[0][1], spans[0][2]
        for lo, hi, key in spans[1:]:
            if lo < reach_hi:
                uf.union(reach_key, key)
            if hi > reach_hi:
                reach_hi, reach_key = hi, key

    groups: dict[StorageKey, list[int]] = {}
    for i, (_, _, rec) in enumerate(records):
        if rec.meta.storage_key is not None:
            groups.setdefault(uf.find(rec.meta.storage_key), []).append(i)

    tensor_ids = [f"t{i}" for i in range(len(records))]
    id_of_obj = {obj_id: tensor_ids[i] for i, (obj_id, _, _) in enumerate(records)}
    storage_of: dict[int, tuple[str, int]] = {}  # record index -> (storage id, origin address)
    storages: list[StorageNode] = []
    overlaps: list[OverlapEdge] = []
    for n, (root, members) in enumerate(groups.items()):
        sid = f"s{n}"
        keys = {records[i][2].meta.storage_key for i in members}
        spans = [ranges[k] for k in keys if k is not None]
        origin = min(lo for _, lo, _ in spans)
        metas = [records[i][2].meta for i in members]
        nbytes: int | None
        if len(keys) == 1 and metas[0].storage_nbytes is not None:
            nbytes = metas[0].storage_nbytes
        else:
            nbytes = max(hi for _, _, hi in spans) - origin
        storages.append(
            StorageNode(
                id=sid, device=metas[0].device, nbytes=nbytes,
                pinned=any(m.pinned for m in metas),
                libraries=tuple(sorted({m.library for m in metas})),
            )
        )
        del root
        for i in members:
            storage_of[i] = (sid, origin)
        if len(members) > 1:
            overlaps.extend(_overlaps_in(members, records, tensor_ids))

    tensors = []
    for i, (_, names, rec) in enumerate(records):
        m = rec.meta
        sid, origin = storage_of.get(i, (None, m.storage_start))
        byte_offset = m.start - origin
        tensors.append(
            TensorNode(
                id=tensor_ids[i], names=names, library=m.library, type_name=m.type_name,
                storage=sid, shape=m.shape, stride=_in_elements(m.strides_bytes, m.itemsize),
                offset=byte_offset // m.itemsize if m.itemsize and byte_offset % m.itemsize == 0
                else None,
                byte_offset=byte_offset, stride_bytes=m.strides_bytes, dtype=m.dtype,
                itemsize=m.itemsize, device=m.device, layout=m.layout,
                base=id_of_obj.get(str(m.base_id)) if m.base_id is not None else None,
                requires_grad=m.requires_grad, is_parameter=m.is_parameter,
                self_overlap=rec.self_overlap,
            )
        )
    return StorageGraph(
        storages=tuple(storages), tensors=tuple(tensors), overlaps=tuple(overlaps),
        problems=tuple(problems), truncated=tuple(truncated),
    )


def _in_elements(strides_bytes: tuple[int, ...], itemsize: int) -> tuple[int, ...] | None:
    if itemsize and all(s % itemsize == 0 for s in strides_bytes):
        return tuple(s // itemsize for s in strides_bytes)
    return None


def _overlaps_in(
    members: list[int],
    records: list[tuple[str, tuple[str, ...], _Record]],
    tensor_ids: list[str],
) -> list[OverlapEdge]:
    """Exact overlaps among the views of one storage, testing only pairs whose extents meet."""
    spans = []
    for i in members:
        layout = _layout(records[i][2].meta)
        if not layout.is_empty:
            lo, hi = layout.extent()
            spans.append((lo, hi, i, layout))
    spans.sort(key=lambda s: (s[0], s[1]))
    edges: list[OverlapEdge] = []
    active: list[tuple[int, int, int, Layout]] = []
    for span in spans:
        lo = span[0]
        active = [a for a in active if a[1] > lo]
        for other in active:
            result = layouts_overlap(other[3], span[3])
            if result.may_overlap:
                a, b = sorted((other[2], span[2]))
                edges.append(OverlapEdge(tensor_ids[a], tensor_ids[b], exact=result.exact))
        active.append(span)
    return edges


def snapshot(namespace: Mapping[str, Any], limits: WalkLimits | None = None) -> StorageGraph:
    """The storage graph of the tensors/arrays reachable from ``namespace`` (e.g. ``locals()``)."""
    return Snapshotter(limits).snapshot(namespace)


def overlaps(x: Any, y: Any) -> bool:
    """Do tensors/arrays ``x`` and ``y`` share at least one element? Exact on any device.

    Decided from shape/stride/offset arithmetic only, so it works for CUDA and meta tensors
    without touching their memory. A layout too tangled to decide within the work bound
    counts as overlapping.
    """
    graph = snapshot({"x": x, "y": y}, WalkLimits(max_depth=0))
    if len(graph.tensors) == 1:  # the same object twice
        return graph.tensors[0].numel > 0
    if len(graph.tensors) != 2:
        raise TypeError("overlaps() takes two torch tensors or numpy arrays")
    return bool(graph.overlaps)
