"""Build a ``StorageGraph`` from a namespace: the analysis core, no IPython and no graphviz.

``Snapshotter`` keeps, between calls, only weak references and plain metadata: a tensor whose
version counter, storage and requires_grad are unchanged is not read again, and when every
object is unchanged the previous graph is returned as it is. ``snapshot(namespace)`` is the
one-shot form (a script, or ``locals()`` in a debugger).
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from kernel_ext.array_meta import ArrayMeta, StorageKey, loaded_libraries, numpy_meta, torch_meta
from kernel_ext.fingerprint import Fingerprinter
from kernel_ext.graph import OverlapEdge, StorageGraph, StorageNode, TensorNode
from kernel_ext.namespace_walk import WalkLimits, is_ipython_name, walk_namespace
from kernel_ext.overlap import Layout, has_internal_overlap, layouts_overlap


@dataclass(slots=True)
class _Record:
    meta: ArrayMeta
    self_overlap: bool


@dataclass(slots=True)
class _CacheEntry:
    ref: weakref.ReferenceType[Any]
    check: tuple[Any, ...]
    record: _Record
    uid: int  # serial number of the live object: stable across cells, never reused


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
        self._next_uid = 1
        self._last_fingerprint: tuple[Any, ...] | None = None
        self._something_died = True  # set by weak reference callbacks of cached objects

    def snapshot(
        self,
        namespace: Mapping[str, Any],
        skip: Callable[[str], bool] = is_ipython_name,
    ) -> StorageGraph:
        # The walk allocates many small objects while the user's tensors are all alive: left
        # on, the cyclic collector runs repeatedly over all of them. Paused, then restored.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._snapshot(namespace, skip)
        finally:
            if gc_was_enabled:
                gc.enable()

    def invalidate(self) -> None:
        """Make the next snapshot a full walk (an explicit request, or new limits)."""
        self._last_fingerprint = None

    def _died(self, ref: weakref.ReferenceType[Any]) -> None:
        self._something_died = True

    def _snapshot(self, namespace: Mapping[str, Any], skip: Callable[[str], bool]) -> StorageGraph:
        torch, np = loaded_libraries()
        try:
            fingerprint = Fingerprinter(torch, np).namespace(namespace, skip)
        except Exception:  # a hostile object: no shortcut, the careful walk below copes
            fingerprint = None
        if (
            fingerprint is not None
            and not self._something_died
            and fingerprint == self._last_fingerprint
            and self._last_graph is not None
        ):
            return self._last_graph
        self._last_fingerprint = fingerprint
        self._something_died = False
        problems: list[str] = []

        def report(name: str, exc: BaseException) -> None:
            problems.append(f"{name}: skipped ({type(exc).__name__}: {_short(exc)})")

        walk = walk_namespace(namespace, torch, np, self.limits, skip, report)
        records: list[_Named] = []
        old_cache = self._cache
        new_cache: dict[int, _CacheEntry] = {}
        changed = False
        storage_nbytes: dict[int, int] = {}
        tensor_type = torch.Tensor if torch is not None else None
        storage_id = getattr(torch._C, "_storage_id", None) if torch is not None else None
        for obj_id, found in walk.found.items():
            obj = found.obj
            try:
                if tensor_type is not None and isinstance(obj, tensor_type):
                    # Every in-place write or metadata change (resize_, set_, t_) bumps the
                    # version counter shared by all views; `.data =` swaps the storage.
                    check: tuple[Any, ...] = (
                        obj._version, obj.requires_grad, obj.shape,
                        _storage_token(obj, storage_id),
                    )
                else:
                    check = (obj.shape, obj.strides, obj.dtype)
                entry = old_cache.get(obj_id)
                same_object = entry is not None and entry.ref() is obj
                if entry is None or not same_object or entry.check != check:
                    if entry is not None and same_object:
                        uid = entry.uid
                    else:
                        uid = self._next_uid
                        self._next_uid += 1
                    record = _read(obj, torch, np, storage_nbytes)
                    entry = _CacheEntry(weakref.ref(obj, self._died), check, record, uid)
                    changed = True
            except Exception as exc:
                problems.append(
                    f"{found.names[0]}: not drawn ({type(exc).__name__}: {_short(exc)})"
                )
                changed = True
                continue
            new_cache[obj_id] = entry
            records.append((obj_id, tuple(found.names), entry.record, entry.uid))
        self._cache = new_cache
        signature = [(obj_id, names) for obj_id, names, _, _ in records]
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


# (id of the object, its names, what was read, its serial number)
_Named = tuple[int, tuple[str, ...], _Record, int]


def _read(
    obj: Any, torch: ModuleType | None, np: ModuleType | None, nbytes: dict[int, int]
) -> _Record:
    if torch is not None and isinstance(obj, torch.Tensor):
        meta = torch_meta(obj, torch, nbytes)
    else:
        assert np is not None
        meta = numpy_meta(obj, np)
    self_overlap = meta.storage_key is not None and has_internal_overlap(_layout(meta)).may_overlap
    return _Record(meta, self_overlap)


def _storage_token(t: Any, storage_id: Callable[[Any], int] | None) -> int:
    if storage_id is None:
        return 0
    try:
        return storage_id(t)
    except RuntimeError:  # sparse/nested tensors have no single storage
        return 0


def _short(exc: BaseException, limit: int = 80) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_graph(records: list[_Named], problems: list[str], truncated: list[str]) -> StorageGraph:
    """Group records into storages (merging memory that numpy and torch share), find overlaps."""
    metas = [rec.meta for _, _, rec, _ in records]
    ranges: dict[StorageKey, list[Any]] = {}  # key -> [device, lo, hi]
    for m in metas:
        key = m.storage_key
        if key is None:
            continue
        if m.storage_nbytes is not None:
            lo, hi = m.storage_start, m.storage_start + m.storage_nbytes
        else:
            lo, hi = _layout(m).extent()
        span = ranges.get(key)
        if span is None:
            ranges[key] = [m.device, lo, hi]
        else:
            span[1], span[2] = min(lo, span[1]), max(hi, span[2])
    root_of = _merge_shared_memory(ranges)

    groups: dict[StorageKey, list[int]] = {}
    for i, m in enumerate(metas):
        if m.storage_key is not None:
            key = root_of.get(m.storage_key, m.storage_key)
            members = groups.get(key)
            if members is None:
                groups[key] = [i]
            else:
                members.append(i)

    tensor_ids = [f"t{i}" for i in range(len(records))]
    id_of_obj = {obj_id: tensor_ids[i] for i, (obj_id, _, _, _) in enumerate(records)}
    storage_of: dict[int, tuple[str | None, int]] = {}  # index -> (storage id, origin address)
    storages: list[StorageNode] = []
    overlaps: list[OverlapEdge] = []
    for n, members in enumerate(groups.values()):
        sid = f"s{n}"
        first = metas[members[0]]
        if len(members) == 1:
            _, origin, hi = ranges[first.storage_key]  # type: ignore[index]
            nbytes = first.storage_nbytes if first.storage_nbytes is not None else hi - origin
            storages.append(StorageNode(sid, first.device, nbytes, first.pinned, (first.library,)))
            storage_of[members[0]] = (sid, origin)
            continue
        group = [metas[i] for i in members]
        keys = {m.storage_key for m in group}
        spans = [ranges[k] for k in keys if k is not None]
        origin = min(span[1] for span in spans)
        if len(keys) == 1 and first.storage_nbytes is not None:
            nbytes = first.storage_nbytes
        else:
            nbytes = max(span[2] for span in spans) - origin
        libraries = tuple(sorted({m.library for m in group}))
        storages.append(
            StorageNode(sid, first.device, nbytes, any(m.pinned for m in group), libraries)
        )
        for i in members:
            storage_of[i] = (sid, origin)
        overlaps.extend(_overlaps_in(members, metas, tensor_ids))

    tensors = []
    for i, (_, names, rec, uid) in enumerate(records):
        m = rec.meta
        storage_id, origin = storage_of.get(i, (None, m.storage_start))
        byte_offset = m.start - origin
        itemsize = m.itemsize
        tensors.append(
            TensorNode(
                id=tensor_ids[i], names=names, library=m.library, type_name=m.type_name,
                storage=storage_id, shape=m.shape,
                stride=_in_elements(m.strides_bytes, itemsize),
                offset=byte_offset // itemsize if itemsize and not byte_offset % itemsize
                else None,
                byte_offset=byte_offset, stride_bytes=m.strides_bytes, dtype=m.dtype,
                itemsize=itemsize, device=m.device, layout=m.layout,
                base=id_of_obj.get(m.base_id) if m.base_id is not None else None,
                requires_grad=m.requires_grad, is_parameter=m.is_parameter,
                self_overlap=rec.self_overlap, uid=uid,
            )
        )
    return StorageGraph(
        storages=tuple(storages), tensors=tuple(tensors), overlaps=tuple(overlaps),
        problems=tuple(problems), truncated=tuple(truncated),
    )


def _merge_shared_memory(ranges: dict[StorageKey, list[Any]]) -> dict[StorageKey, StorageKey]:
    """Storages on one device whose byte ranges intersect are one memory (torch.from_numpy,
    .numpy(), numpy arrays over one external buffer): map each merged key to its group's key.

    Every storage is alive while a snapshot is taken, so live address ranges cannot collide
    by accident. Null and empty ranges (meta tensors, empty storages) never merge.
    """
    uf = _UnionFind()
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
    return {key: uf.find(key) for key in uf.parent}


def _in_elements(strides_bytes: tuple[int, ...], itemsize: int) -> tuple[int, ...] | None:
    if itemsize and all(s % itemsize == 0 for s in strides_bytes):
        return tuple(s // itemsize for s in strides_bytes)
    return None


def _overlaps_in(
    members: list[int], metas: list[ArrayMeta], tensor_ids: list[str]
) -> list[OverlapEdge]:
    """Exact overlaps among the views of one storage, testing only pairs whose extents meet."""
    spans = []
    for i in members:
        layout = _layout(metas[i])
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
