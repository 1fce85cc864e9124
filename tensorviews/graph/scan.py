"""Build a ``StorageGraph`` from a namespace: the analysis core, no IPython and no graphviz.

``Snapshotter`` keeps, between calls, only weak references and plain metadata: a tensor whose
version counter, storage and requires_grad are unchanged is not read again, and when every
object is unchanged the previous graph is returned as it is. ``snapshot(namespace)`` is the
one-shot form (a script, or ``locals()`` in a debugger).

Two ways of reading. Objects found one by one (top-level names, module parameters, small
containers) are read attribute by attribute. Big containers of plain tensors (the walk's
``BulkFound``) are read column-wise with C-level ``map`` loops (``torch_columns``) and kept as
columns; a container whose ids and version counters are unchanged, and none of whose tensors
died, is not read again. The graph builds node objects only for what is drawn or asked for
(``LazyNodes``).

Kept from one snapshot to the next, so that a cell pays for what it changed:
- overlaps among the views of a shared storage, while those views are the same objects at the
  same layouts (``_OverlapMemo``; a matrix written in place bumps every view's version counter,
  and the layouts, compared in C-level columns, tell that nothing moved);
- the sorted storage ranges of unchanged containers (``_RangeMemo``): a new name is checked
  against them by bisection;
- what the snapshot allocates goes to the collector's oldest generation (``collector``).
"""

from __future__ import annotations

import contextlib
import math
import operator
import weakref
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import chain, islice, repeat
from types import ModuleType
from typing import Any, cast

from tensorviews.graph.array_meta import (
    ArrayMeta,
    LayoutColumns,
    StorageInfo,
    StorageKey,
    TorchColumns,
    layout_columns,
    loaded_libraries,
    numpy_meta,
    overlaps_itself,
    torch_columns,
    torch_meta,
)
from tensorviews.graph.collector import CollectorPause
from tensorviews.graph.distributed import NotDrawn, process_group, subclass_change_token
from tensorviews.graph.fingerprint import BulkCheck, Fingerprinter, bulk_check, change_token
from tensorviews.graph.model import (
    GraphIndex,
    LazyNodes,
    OverlapEdge,
    StorageGraph,
    StorageNode,
    TensorNode,
)
from tensorviews.graph.namespace_walk import (
    BulkFound,
    Found,
    NameFilter,
    Names,
    WalkLimits,
    is_ipython_name,
    item_path,
    walk_namespace,
)
from tensorviews.graph.overlap import Layout, holds_an_end, layouts_overlap
from tensorviews.graph.problems import Problem, grouped_problems


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

    def __init__(self, limits: WalkLimits | None = None, lazy: bool = False) -> None:
        """``lazy``: big containers of plain tensors are read in part per snapshot, the rest
        when a node is built, which must then happen before those tensors change (the
        kernel extension draws within the same hook). Otherwise graphs are complete."""
        self.limits = limits or WalkLimits()
        self.lazy = lazy
        self._cache: dict[int, _CacheEntry] = {}
        self._bulks: dict[int, _BulkEntry] = {}  # id(container) -> what was read of it
        self._previous_bulks: dict[int, _BulkEntry] = {}  # during a snapshot: the last ones
        self._reread = False  # set by invalidate(): no container is reused as it was
        # Objects of the last snapshot read one by one: id -> (weak reference, serial number).
        # Those read column-wise are found through ``_bulks``.
        self._known: dict[int, tuple[weakref.ReferenceType[Any], int]] = {}
        self._last_signature: list[Any] | None = None
        self._last_graph: StorageGraph | None = None
        self._next_uid = 1
        self._last_fingerprint: tuple[Any, ...] | None = None
        self._overlaps: dict[tuple[int, ...], _Overlaps] = {}  # see _OverlapMemo
        self._ranges = _RangeMemo()
        # Weak reference callbacks of objects read one by one append here (a container read
        # column-wise has a list of its own): a C-level call, since a cell that drops ten
        # thousand tensors runs it ten thousand times. Anything in it: something died.
        self._deaths: list[Any] = [None]
        self._collector = CollectorPause()
        self._names = NameFilter()

    def snapshot(
        self,
        namespace: Mapping[str, Any],
        skip: Callable[[str], bool] = is_ipython_name,
    ) -> StorageGraph:
        # The walk allocates many small objects while the user's tensors are all alive: left
        # on, the cyclic collector runs repeatedly over all of them. Paused, then restored,
        # with what the snapshot keeps moved to the oldest generation (see collector).
        torch = loaded_libraries()[0]
        # Tensor subclasses' ``__torch_function__`` is user code: reading their attributes
        # (``requires_grad``, ``grad``, ``_version``, ...) must not call it.
        no_torch_function = (
            torch._C.DisableTorchFunctionSubclass() if torch is not None
            else contextlib.nullcontext()
        )
        with self._collector, no_torch_function:
            return self._snapshot(namespace, skip)

    def invalidate(self) -> None:
        """Make the next snapshot a full walk that reads every container again (an explicit
        request, or new limits)."""
        self._last_fingerprint = None
        self._reread = True  # containers are read again, but who is who is kept (uids)

    def _snapshot(self, namespace: Mapping[str, Any], skip: Callable[[str], bool]) -> StorageGraph:
        torch, np = loaded_libraries()
        known_ids = {
            container_id: entry.check[1]
            for container_id, entry in self._bulks.items()
            if not entry.deaths and entry.check[0] is None  # sequences; dicts are checked whole
        }
        fingerprinter = Fingerprinter(torch, np, self.limits.probe_items, known_ids)
        try:
            fingerprint = (
                fingerprinter.namespace(*self._names.kept(cast(dict[Any, Any], namespace), skip))
                if issubclass(type(namespace), dict) else None
            )
        except Exception:  # a hostile object: no shortcut, the careful walk below copes
            fingerprint = None
        if (
            fingerprint is not None
            and not self._deaths
            and not any(entry.deaths for entry in self._bulks.values())
            and fingerprint == self._last_fingerprint
            and self._last_graph is not None
        ):
            return self._in_group(self._last_graph, torch)
        self._deaths.clear()
        # Remembered only once the graph is built: a snapshot that fails half-way must not
        # leave a shortcut to the previous graph behind.
        self._last_fingerprint = None
        problems: list[Problem] = []

        def report(name: str, exc: BaseException) -> None:
            problems.append(Problem(name, "object", "skipped", _reason(exc)))

        # Containers whose ids and versions are those of the last reading, none of whose
        # tensors died: checked for gradients and nested tensors then (see the fingerprint for
        # what a container's check does not see), unless a full look was asked for.
        unchanged = (
            {}
            if self._reread
            else {
                container_id: entry.id_set
                for container_id, entry in self._bulks.items()
                if entry.holds(fingerprinter.columns.get(container_id))
            }
        )
        walk = walk_namespace(
            namespace, torch, np, self.limits, skip, report, fingerprinter.columns, unchanged
        )
        # Everything below allocates in proportion to the namespace: promoted when it is big.
        self._collector.will_keep(len(walk.found) + sum(len(b.items) for b in walk.bulks))
        self._previous_bulks = self._bulks
        reader = _SingleReader(self, torch, np, problems)
        # Entries in walk order: a bulk found after n single objects sorts before the n-th.
        ordered: list[tuple[tuple[int, int, int], _Named | _BulkSeg]] = []
        for position, (obj_id, found) in enumerate(walk.found.items()):
            named = reader.read(obj_id, found)
            if named is not None:
                ordered.append(((position, 1, 0), named))
        bulk_changed = False
        new_entries: list[_BulkEntry] = []
        old_bulks, self._bulks = self._bulks, {}
        for k, bulk in enumerate(walk.bulks):
            entry = (
                old_bulks[bulk.container_id]
                if bulk.container_id in unchanged  # compared with the last reading above
                else self._read_bulk(bulk, old_bulks, fingerprinter, torch)
            )
            if entry is None:  # exotic tensors among them: one by one after all
                for i, (obj_id, obj) in enumerate(zip(bulk.ids, bulk.items, strict=True)):
                    names = bulk.extra_names.get(i) or Names([bulk.item_name(i)])
                    named = reader.read(obj_id, Found(obj, names))
                    if named is not None:
                        ordered.append(((bulk.after, 0, k), named))
                continue
            if old_bulks.get(bulk.container_id) is not entry:
                bulk_changed = True
                new_entries.append(entry)
            self._bulks[bulk.container_id] = entry
            ordered.append(((bulk.after, 0, k), _BulkSeg.of(bulk, entry)))
        truncated = walk.truncated
        tied = frozenset(walk.tied)
        categories = walk.categories
        del walk  # the walk holds the user's objects: nothing below needs them
        self._cache, self._known = reader.cache, reader.known
        self._previous_bulks = {}
        self._reread = False
        ordered.sort(key=lambda item: item[0])
        signature: list[Any] = [
            (entry[0], entry[1]) if isinstance(entry, tuple)
            else (id(entry.entry), entry.name,
                  tuple((i, names.shown()) for i, names in entry.extra_names.items()))
            for _, entry in ordered
        ]
        signature.append(tied)
        if (
            not reader.changed
            and not bulk_changed
            and not problems
            and not truncated
            and self._last_graph is not None
            and signature == self._last_signature
        ):
            self._last_fingerprint = fingerprint
            return self._in_group(self._last_graph, torch)
        memo = _OverlapMemo(self._overlaps, reader.fresh, new_entries)
        graph = build_graph(
            [entry for _, entry in ordered], grouped_problems(problems), truncated, memo, tied,
            self._ranges, categories,
        )
        graph = self._in_group(graph, torch)
        self._overlaps = memo.current
        self._last_signature = signature
        self._last_graph = graph
        self._last_fingerprint = fingerprint
        return graph

    def _in_group(self, graph: StorageGraph, torch: ModuleType | None) -> StorageGraph:
        """``graph`` with this process's rank and world size as they are now: a process group
        started (or ended) between two unchanged cells shows in the next graph too."""
        group = process_group(torch)
        rank, world_size = (group.rank, group.world_size) if group is not None else (None, None)
        if graph.rank != rank or graph.world_size != world_size:
            graph = replace(graph, rank=rank, world_size=world_size)
            self._last_graph = graph
        return graph

    def uid_for(self, obj_id: int, obj: Any) -> int:
        """The object's serial number if it was in the last snapshot, else a new one."""
        seen = self._known.get(obj_id)
        if seen is None:
            for entry in self._previous_bulks.values():
                if entry.has_survivors() and obj_id in entry.id_set:
                    i = entry.position(obj_id)
                    seen = (entry.refs[i], entry.uids[i])
                    break
        if seen is not None and seen[0]() is obj:
            return seen[1]
        uid = self._next_uid
        self._next_uid += 1
        return uid

    def _seen_before(self, id_set: set[int]) -> bool:
        """Was any of these objects in the last snapshot? (C-level set work only.)"""
        return not id_set.isdisjoint(self._known) or any(
            not id_set.isdisjoint(entry.id_set)
            for entry in self._previous_bulks.values()
            if entry.has_survivors()  # ids of the dead may be new objects' now
        )

    def _read_bulk(
        self,
        found: BulkFound,
        old_bulks: dict[int, _BulkEntry],
        fingerprinter: Fingerprinter,
        torch: ModuleType | None,
    ) -> _BulkEntry | None:
        """A container of plain tensors: reused whole when unchanged, else read column-wise."""
        if torch is None:
            return None
        keys = tuple(found.keys) if found.keys is not None else None
        check = fingerprinter.columns.get(found.container_id)
        if check is None or check[0] != keys:
            check = bulk_check(found.items, keys)
        entry = old_bulks.get(found.container_id)
        if entry is not None and not self._reread and entry.holds(check):
            return entry
        n = len(found.items)
        deaths: list[Any] = []
        refs = tuple(map(weakref.ref, found.items, repeat(deaths.append, n)))
        columns = torch_columns(found.items, check[2], refs, torch, eager=not self.lazy)
        if columns is None:
            return None
        if self._seen_before(found.id_set):
            uids = self._uids_of_seen(found)
        else:
            uids = tuple(range(self._next_uid, self._next_uid + n))
            self._next_uid += n
        return _BulkEntry(check, found.id_set, refs, deaths, uids, columns)

    def _uids_of_seen(self, found: BulkFound) -> tuple[int, ...]:
        """Serial numbers for a container some of whose tensors were in the last snapshot
        (an item appended, the list copied or reordered, everything read again)."""
        previous = [e for e in self._previous_bulks.values() if e.has_survivors()]
        if any(e.deaths for e in previous) or not found.id_set.isdisjoint(self._known):
            # Some ids may be new objects' at a dead one's address: ask object by object.
            return tuple(map(self.uid_for, found.ids, found.items))
        # No tensor of those containers died: an id found there is that very tensor.
        by_id: dict[int, int] = {}
        for e in previous:
            by_id.update(zip(e.check[1], e.uids, strict=True))
        uids = list(map(by_id.get, found.ids))
        for i, uid in enumerate(uids):
            if uid is None:
                uids[i] = self._next_uid
                self._next_uid += 1
        return tuple(cast(list[int], uids))


class _SingleReader:
    """Reads objects found one by one, re-reading only those changed since the last cell."""

    def __init__(
        self,
        snapshotter: Snapshotter,
        torch: ModuleType | None,
        np: ModuleType | None,
        problems: list[Problem],
    ) -> None:
        self.snapshotter = snapshotter
        self.torch, self.np = torch, np
        self.problems = problems
        self.old_cache = snapshotter._cache
        self.cache: dict[int, _CacheEntry] = {}
        self.known: dict[int, tuple[weakref.ReferenceType[Any], int]] = {}
        self.changed = False
        self.fresh: set[int] = set()  # serial numbers of the objects read (again)
        self.storages: StorageInfo = {}
        self.tensor_type = torch.Tensor if torch is not None else None
        self.storage_id = getattr(torch._C, "_storage_id", None) if torch is not None else None

    def read(self, obj_id: int, found: Found) -> _Named | None:
        obj = found.obj
        try:
            if self.tensor_type is not None and issubclass(type(obj), self.tensor_type):
                # Every in-place write or metadata change (resize_, set_, t_) bumps the
                # version counter shared by all views; `.data =` swaps the storage.
                # Inference tensors have no version counter: their layout is compared.
                check: tuple[Any, ...] = (
                    change_token(obj), obj.requires_grad, obj.shape,
                    _storage_token(obj, self.storage_id),
                )
                # A DTensor's local tensor may be written or swapped under the same wrapper.
                if type(obj) is not self.tensor_type and self.torch is not None:
                    check += subclass_change_token(obj, self.torch)
            else:
                check = (obj.shape, obj.strides, obj.dtype)
            entry = self.old_cache.get(obj_id)
            same_object = entry is not None and entry.ref() is obj
            if entry is None or not same_object or entry.check != check:
                uid = (
                    entry.uid if entry is not None and same_object
                    else self.snapshotter.uid_for(obj_id, obj)
                )
                record = _read(obj, self.torch, self.np, self.storages)
                ref = weakref.ref(obj, self.snapshotter._deaths.append)
                entry = _CacheEntry(ref, check, record, uid)
                self.changed = True
                self.fresh.add(uid)
        except Exception as exc:
            self.problems.append(
                Problem(found.names.first[0], type(obj).__name__, "not drawn", _reason(exc))
            )
            self.changed = True
            return None
        self.cache[obj_id] = entry
        self.known[obj_id] = (entry.ref, entry.uid)
        return (obj_id, found.names.shown(), entry.record, entry.uid)


@dataclass(slots=True)
class _BulkEntry:
    check: BulkCheck
    id_set: set[int]
    refs: tuple[weakref.ReferenceType[Any], ...]
    deaths: list[Any]  # the weak references of its tensors that died, appended by callbacks
    uids: tuple[int, ...]
    columns: TorchColumns
    _positions: dict[int, int] | None = None

    def holds(self, check: BulkCheck | None) -> bool:
        """Does the container whose check this is hold the very tensors read here, unchanged?
        Same ids and versions, and none of them died (after a death, an equal id is a new
        object's: the old one cannot be alive)."""
        return not self.deaths and check == self.check

    def has_survivors(self) -> bool:
        return len(self.deaths) < len(self.refs)

    def position(self, obj_id: int) -> int:
        if self._positions is None:
            ids = self.check[1]
            self._positions = dict(zip(ids, range(len(ids)), strict=True))
        return self._positions[obj_id]


# (id of the object, its names, what was read, its serial number)
_Named = tuple[int, tuple[str, ...], _Record, int]


def _read(
    obj: Any, torch: ModuleType | None, np: ModuleType | None, storages: StorageInfo
) -> _Record:
    if torch is not None and issubclass(type(obj), torch.Tensor):
        meta = torch_meta(obj, torch, storages)
    else:
        assert np is not None
        meta = numpy_meta(obj, np)
    return _Record(meta, overlaps_itself(meta))


def _storage_token(t: Any, storage_id: Callable[[Any], int] | None) -> int:
    if storage_id is None:
        return 0
    try:
        return storage_id(t)
    except RuntimeError:  # sparse/nested tensors have no single storage
        return 0


def _reason(exc: BaseException) -> str:
    if isinstance(exc, NotDrawn):
        return str(exc)
    return f"{type(exc).__name__}: {_short(exc)}"


def _short(exc: BaseException, limit: int = 80) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(slots=True)
class _BulkSeg:
    """A container read column-wise, as the graph keeps it: names and columns, no tensors."""

    name: str
    keys: list[Any] | None
    extra_names: dict[int, Names]
    entry: _BulkEntry
    category: str = "other"

    @classmethod
    def of(cls, found: BulkFound, entry: _BulkEntry) -> _BulkSeg:
        return cls(found.name, found.keys, found.extra_names, entry, found.category)

    def names(self, i: int) -> tuple[str, ...]:
        names = self.extra_names.get(i)
        return names.shown() if names is not None else (item_path(self.name, self.keys, i),)


def build_graph(
    entries: list[_Named | _BulkSeg],
    problems: list[str],
    truncated: list[str],
    memo: _OverlapMemo | None = None,
    tied: frozenset[int] = frozenset(),
    ranges: _RangeMemo | None = None,
    categories: Mapping[int, str] | None = None,
) -> StorageGraph:
    """Group tensors into storages (merging memory that numpy and torch share), find overlaps.

    Works on columns: per-tensor Python work is done only for objects read one by one and
    for tensors that share a storage. Nodes are built when something asks for them.
    """
    table = _Table(entries, tied, categories or {})
    n = len(table.uids)
    keys = table.keys
    ranges_meet = (ranges if ranges is not None else _RangeMemo()).meet(table)
    # Non-empty storage ranges that are pairwise disjoint: no two tensors share a key (one
    # key gives one range) and none lacks one (its range would be empty). Only else are the
    # keys themselves compared.
    order: dict[StorageKey | None, None] | None = None
    if ranges_meet or not table.exact_ranges or 0 in table.sizes:
        order = dict.fromkeys(keys)
    if not ranges_meet and (order is None or (len(order) == n and None not in order)):
        # The common case, checked in C: every tensor alone on a storage of its own, and no
        # two storages on one memory. Storage p is tensor p's.
        n_storages = n
        tensor_storage: Sequence[int] = range(n)
        storage_first: Sequence[int] = tensor_storage
        storage_origin: Sequence[int] = tuple(table.los)
        storage_nbytes: Sequence[int] = tuple(table.sizes)
        shared: dict[int, list[int]] = {}
        merged: set[int] = set()
    else:
        assert order is not None  # only disjoint, non-empty ranges skip comparing the keys
        span = table.spans()
        root_of = (
            _merge_shared_memory(span, table.device_of) if _ranges_overlap(*_bounds(span))
            else {}
        )
        if root_of:
            keys = [root_of.get(k, k) if k is not None else None for k in keys]
            order = dict.fromkeys(keys)
        order.pop(None, None)
        storage_keys = cast(list[StorageKey], list(order))
        n_storages = len(storage_keys)
        position_of_key: dict[StorageKey | None, int] = dict(
            zip(storage_keys, range(n_storages), strict=True)
        )
        position_of_key[None] = -1
        tensor_storage = tuple(map(position_of_key.__getitem__, keys))
        first_of = dict(zip(reversed(tensor_storage), range(n - 1, -1, -1), strict=True))
        storage_first = tuple(map(first_of.__getitem__, range(n_storages)))
        spans = list(map(span.__getitem__, storage_keys))
        origins = list(map(_lo, spans))
        sizes = list(map(operator.sub, map(_hi, spans), origins))
        shared = {}
        if n_storages < n - keys.count(None):
            counts = Counter(tensor_storage)
            shared = {s: [] for s, c in counts.items() if c > 1 and s >= 0}
            for p, s in enumerate(tensor_storage):
                members = shared.get(s)
                if members is not None:
                    members.append(p)
        for key, root in root_of.items():  # merged memory: one range over all its storages
            s = position_of_key[root]
            lo, hi = span[key]
            end = max(origins[s] + sizes[s], hi)
            origins[s] = min(origins[s], lo)
            sizes[s] = end - origins[s]
        storage_origin, storage_nbytes = tuple(origins), tuple(sizes)
        merged = {position_of_key[root] for root in root_of.values()}
    overlaps: list[OverlapEdge] = []
    memo = memo if memo is not None else _OverlapMemo({}, set())
    for members in shared.values():
        overlaps.extend(memo.edges(members, table.uids, table.meta, table.layouts))
    table.release_build_columns()
    index = GraphIndex(
        tensor_uids=table.uids, tensor_storage=tensor_storage,
        storage_nbytes=storage_nbytes,
        storage_first=storage_first, shared=shared, special=table.special, named=table.named,
        names_at=table.names, ids_by_position=True, fold_at=table.fold,
        facts_at=table.facts,
        one_tensor_per_storage=isinstance(tensor_storage, range),
        unallocated=table.unallocated,
    )

    def storage_node(s: int) -> StorageNode:
        # The views of one storage share its device, pinning and library: one of them tells,
        # unless storages of several libraries were merged into one memory.
        members = shared.get(s, [storage_first[s]]) if s in merged else [storage_first[s]]
        metas = [table.meta(p) for p in members]
        return StorageNode(
            f"s{s}", metas[0].device, storage_nbytes[s], any(m.pinned for m in metas),
            tuple(sorted({m.library for m in metas})), allocated=metas[0].allocated,
        )

    def tensor_node(p: int) -> TensorNode:
        m = table.meta(p)
        s = tensor_storage[p]
        origin = storage_origin[s] if s >= 0 else m.storage_start
        byte_offset = m.start - origin
        itemsize = m.itemsize
        base = table.position_of(m.base_id) if m.base_id is not None else None
        return TensorNode(
            id=f"t{p}", names=table.names(p), library=m.library, type_name=m.type_name,
            storage=f"s{s}" if s >= 0 else None, shape=m.shape,
            stride=_in_elements(m.strides_bytes, itemsize),
            offset=byte_offset // itemsize if itemsize and not byte_offset % itemsize else None,
            byte_offset=byte_offset, stride_bytes=m.strides_bytes, dtype=m.dtype,
            itemsize=itemsize, device=m.device, layout=m.layout,
            base=f"t{base}" if base is not None else None,
            requires_grad=m.requires_grad, is_parameter=m.is_parameter,
            self_overlap=table.self_overlap(p), uid=table.uids[p], tied=p in table.tied,
            dtensor=m.dtensor, flat_param=m.flat_param, unsharded=m.unsharded,
            category=table.category(p),
        )

    return StorageGraph(
        storages=LazyNodes(n_storages, storage_node), tensors=LazyNodes(n, tensor_node),
        overlaps=tuple(overlaps), problems=tuple(problems), truncated=tuple(truncated),
        columns=index,
    )


_lo = operator.itemgetter(0)
_hi = operator.itemgetter(1)
Span = tuple[int, int]  # first byte, end


class _Table:
    """The snapshot's tensors in order: objects read one by one, and column-wise runs."""

    def __init__(
        self,
        entries: list[_Named | _BulkSeg],
        tied: frozenset[int] = frozenset(),
        categories: Mapping[int, str] | None = None,
    ) -> None:
        self.starts: list[int] = []  # first position of each segment
        self.segments = entries
        self.categories = categories or {}  # id(obj) -> category, for objects read one by one
        self.uids: list[int] | tuple[int, ...] = []
        self.keys: list[StorageKey | None] = []
        # Per tensor: the first byte and size of its storage (of what it reaches, when the
        # size of foreign memory under a numpy array is not known; 0, 0 without a storage).
        self.los: list[int] = []
        self.sizes: list[int] = []
        self.special: list[int] = []
        self.named: list[int] = []
        self.tied: set[int] = set()  # positions of tied parameters (read one by one)
        # Positions of tensors on storages with no memory behind them (fake tensors; meta
        # ones are told by their device): read one by one, as every subclass is.
        self.unallocated: list[int] = []
        self.single_ranges: list[Span] = []  # storage ranges of the objects read one by one
        # False when some range is only what arrays reach (numpy over foreign memory): then
        # two arrays with one key may have different ranges.
        self.exact_ranges = True
        self._position_of: dict[int, int] | None = None
        for entry in entries:
            start = len(self.uids)
            self.starts.append(start)
            if isinstance(entry, _BulkSeg):
                columns = entry.entry.columns
                self.uids.extend(entry.entry.uids)
                self.keys.extend(columns.storage_keys)
                self.los.extend(columns.storage_starts)
                self.sizes.extend(columns.storage_nbytes)
                self.special.extend(start + i for i in sorted(columns.self_overlap))
                self.named.extend(start + i for i in sorted(entry.extra_names))
            else:
                obj_id, _, record, uid = entry
                m = record.meta
                self.uids.append(uid)
                self.keys.append(m.storage_key)
                lo, hi = _storage_range(m) if m.storage_key is not None else (0, 0)
                self.exact_ranges &= m.storage_nbytes is not None or m.storage_key is None
                self.los.append(lo)
                self.sizes.append(hi - lo)
                self.single_ranges.append((lo, hi))
                if not m.allocated:
                    self.unallocated.append(start)
                if obj_id in tied:
                    self.tied.add(start)
                if record.self_overlap or m.layout != "strided" or obj_id in tied:
                    self.special.append(start)
                self.named.append(start)

    @property
    def his(self) -> list[int]:
        """Ends of the storage ranges: built only when the ranges are compared again."""
        return list(map(operator.add, self.los, self.sizes))

    def bulk_entries(self) -> tuple[_BulkEntry, ...]:
        return tuple(e.entry for e in self.segments if isinstance(e, _BulkSeg))

    def release_build_columns(self) -> None:
        """What only grouping needed; the graph keeps the table for building nodes."""
        self.keys, self.los, self.sizes = [], [], []
        self.single_ranges = []
        self.uids = tuple(self.uids)

    def _locate(self, p: int) -> tuple[_Named | _BulkSeg, int]:
        k = bisect_right(self.starts, p) - 1
        return self.segments[k], p - self.starts[k]

    def meta(self, p: int) -> ArrayMeta:
        entry, i = self._locate(p)
        if isinstance(entry, _BulkSeg):
            return entry.entry.columns.meta(i)
        return entry[2].meta

    def fold(self, positions: Sequence[int]) -> list[tuple[str, str, int, int]]:
        """(label, device, count, logical bytes) of the tensors at ``positions`` (ascending),
        a run of one container's items at a time: summed from its columns, not per node."""
        chunks: list[tuple[str, str, int, int]] = []
        k, n = 0, len(positions)
        while k < n:
            p = positions[k]
            s = bisect_right(self.starts, p) - 1
            entry, start = self.segments[s], self.starts[s]
            if not isinstance(entry, _BulkSeg):
                m = entry[2].meta
                label = entry[1][0] if entry[1] else f"<t{p}>"
                chunks.append((label, m.device, 1, math.prod(m.shape) * m.itemsize))
                k += 1
                continue
            # The longest run of consecutive positions inside this container.
            end = min(start + len(entry.entry.uids), p + n - k)
            run = end - p
            if positions[k + run - 1] != p + run - 1:  # ascending: a gap somewhere, find it
                run = 1
                while p + run < end and positions[k + run] == p + run:
                    run += 1
            devices, nbytes = entry.entry.columns.fold_columns()
            a, b = p - start, p - start + run
            label = entry.name + "[*]"  # every item path of a container: one group prefix
            if len(set(devices[a:b])) == 1:
                chunks.append((label, devices[a], run, sum(nbytes[a:b])))
            else:
                chunks.extend((label, devices[i], 1, nbytes[i]) for i in range(a, b))
            k += run
        return chunks

    def layouts(self, positions: Sequence[int]) -> LayoutColumns:
        """``LayoutColumns`` of the tensors at ``positions`` (ascending), a run of one
        container's items at a time."""
        parts: list[LayoutColumns] = []
        k, n = 0, len(positions)
        while k < n:
            s = bisect_right(self.starts, positions[k]) - 1
            entry, start = self.segments[s], self.starts[s]
            if not isinstance(entry, _BulkSeg):
                parts.append(layout_columns([entry[2].meta]))
                k += 1
                continue
            end = bisect_left(positions, start + len(entry.entry.uids), k)
            indices = list(map(operator.sub, positions[k:end], repeat(start, end - k)))
            parts.append(entry.entry.columns.layouts(indices))
            k = end
        if len(parts) == 1:
            return parts[0]
        starts, shapes, strides, itemsizes = zip(*parts, strict=True)
        return (
            tuple(chain.from_iterable(starts)),
            tuple(chain.from_iterable(shapes)),
            tuple(chain.from_iterable(strides)),
            tuple(chain.from_iterable(itemsizes)),
        )

    def names(self, p: int) -> tuple[str, ...]:
        entry, i = self._locate(p)
        return entry.names(i) if isinstance(entry, _BulkSeg) else entry[1]

    def category(self, p: int) -> str:
        entry, _ = self._locate(p)
        if isinstance(entry, _BulkSeg):
            return entry.category
        return self.categories.get(entry[0], "other")

    def facts(self) -> tuple[list[str], list[str]]:
        """Device and category of every tensor, by position, for memory totals: a container's
        devices are read in C-level passes, as for folding."""
        devices: list[str] = []
        categories: list[str] = []
        for entry in self.segments:
            if isinstance(entry, _BulkSeg):
                bulk_devices = entry.entry.columns.fold_columns()[0]
                devices.extend(bulk_devices)
                categories.extend(repeat(entry.category, len(bulk_devices)))
            else:
                devices.append(entry[2].meta.device)
                categories.append(self.categories.get(entry[0], "other"))
        return devices, categories

    def self_overlap(self, p: int) -> bool:
        entry, i = self._locate(p)
        if isinstance(entry, _BulkSeg):
            return i in entry.entry.columns.self_overlap
        return entry[2].self_overlap

    def position_of(self, obj_id: int) -> int | None:
        """Position of the tensor whose ``id()`` was ``obj_id`` (a view's base), if any."""
        if self._position_of is None:
            position_of: dict[int, int] = {}
            for start, entry in zip(self.starts, self.segments, strict=True):
                if isinstance(entry, _BulkSeg):
                    ids = entry.entry.check[1]
                    position_of.update(zip(ids, range(start, start + len(ids)), strict=True))
                else:
                    position_of[entry[0]] = start
            self._position_of = position_of
        return self._position_of.get(obj_id)

    def spans(self) -> dict[StorageKey, Span]:
        """key -> (first byte, end) of every storage; for memory whose size is not known
        (numpy over foreign memory), the union of what its arrays reach."""
        span: dict[StorageKey, Span] = {}
        for entry in self.segments:
            if isinstance(entry, _BulkSeg):
                c = entry.entry.columns
                ends = map(operator.add, c.storage_starts, c.storage_nbytes)
                ranges = zip(c.storage_starts, ends, strict=True)
                span.update(zip(c.storage_keys, ranges, strict=True))
                continue
            m = entry[2].meta
            key = m.storage_key
            if key is None:
                continue
            lo, hi = _storage_range(m)
            old = span.get(key)
            if old is not None:
                lo, hi = min(lo, old[0]), max(hi, old[1])
            span[key] = (lo, hi)
        return span

    def device_of(self, key: StorageKey) -> str:
        return self.meta(self.keys.index(key)).device


def _storage_range(m: ArrayMeta) -> tuple[int, int]:
    if m.storage_nbytes is not None:
        return m.storage_start, m.storage_start + m.storage_nbytes
    return _layout(m).extent()


def _bounds(span: dict[StorageKey, Span]) -> tuple[list[int], list[int]]:
    return list(map(_lo, span.values())), list(map(_hi, span.values()))


def _ranges_overlap(los: list[int], his: list[int]) -> bool:
    """Do two of the byte ranges ``[los[i], his[i])`` intersect? Checked in C: with the
    starts and the ends each sorted, ranges are disjoint exactly when every end is at most
    the next start. Empty ranges never intersect anything.

    Sorted as floats: an address takes two digits of a Python int, and such ints compare
    through the generic path, while a list of floats sorts with a specialised comparison
    (the check takes about 80% of the time, conversion included). Exact while every value is
    below 2**53, which the largest end tells; else sorted as ints.
    """
    starts, ends = _sorted_bounds(los, his)
    return not all(map(operator.le, ends, islice(starts, 1, None)))


def _sorted_bounds(
    los: list[int], his: list[int]
) -> tuple[list[int] | list[float], list[int] | list[float]]:
    """Starts and ends, each sorted; as floats while that is exact (see _ranges_overlap)."""
    ends = sorted(map(float, his))
    if ends and ends[-1] >= _EXACT_FLOATS:
        return sorted(los), sorted(his)
    return sorted(map(float, los)), ends


_EXACT_FLOATS = float(2**53)


class _RangeMemo:
    """The storage ranges of the containers read column-wise, sorted and kept while the
    snapshot is made of the very same containers (entry objects): a cell that changes one
    name checks that name's range against them by bisection instead of sorting every range
    again.

    Kept only when those ranges are non-empty and pairwise disjoint; then the i-th smallest
    start and the i-th smallest end belong to one range, which is what bisection needs.
    """

    def __init__(self) -> None:
        self.entries: tuple[_BulkEntry, ...] = ()
        self.starts: list[int] | list[float] = []
        self.ends: list[int] | list[float] = []
        self.usable = False  # disjoint, non-empty ranges

    def meet(self, table: _Table) -> bool:
        """``_ranges_overlap`` over every range of ``table``."""
        entries = table.bulk_entries()
        if not entries:
            return _ranges_overlap(table.los, table.his)
        if len(entries) != len(self.entries) or not all(map(operator.is_, entries, self.entries)):
            columns = [e.columns for e in entries]
            if table.single_ranges:
                los = list(chain.from_iterable(c.storage_starts for c in columns))
                his = list(
                    chain.from_iterable(
                        map(operator.add, c.storage_starts, c.storage_nbytes) for c in columns
                    )
                )
            else:  # the table holds only these containers' ranges
                los, his = table.los, table.his
            self.entries = entries
            self.starts, self.ends = _sorted_bounds(los, his)
            self.usable = 0 not in chain.from_iterable(c.storage_nbytes for c in columns) and all(
                map(operator.le, self.ends, islice(self.starts, 1, None))
            )
        if not self.usable:
            return _ranges_overlap(table.los, table.his)
        singles = [(lo, hi) for lo, hi in table.single_ranges if hi > lo]
        if _ranges_overlap([lo for lo, _ in singles], [hi for _, hi in singles]):
            return True
        return any(_meets_sorted(self.starts, self.ends, lo, hi) for lo, hi in singles)


def _meets_sorted(
    starts: Sequence[int | float], ends: Sequence[int | float], lo: int, hi: int
) -> bool:
    """Does ``[lo, hi)`` (non-empty) meet one of the disjoint, non-empty ranges whose sorted
    starts and ends are given? Only the last range starting at or before ``lo`` and the one
    after it can."""
    j = bisect_right(starts, lo) - 1
    return (j >= 0 and ends[j] > lo) or (j + 1 < len(starts) and starts[j + 1] < hi)


def _merge_shared_memory(
    span: dict[StorageKey, Span], device_of: Callable[[StorageKey], str]
) -> dict[StorageKey, StorageKey]:
    """Storages on one device whose byte ranges intersect are one memory (torch.from_numpy,
    .numpy(), numpy arrays over one external buffer): map each merged key to its group's key.

    Every storage is alive while a snapshot is taken, so live address ranges cannot collide
    by accident. Null and empty ranges (meta tensors, empty storages) never merge. Devices
    are looked up only for ranges that meet another one.
    """
    uf = _UnionFind()
    ranges = sorted((lo, hi, key) for key, (lo, hi) in span.items() if lo != 0 and hi > lo)

    def settle(cluster: list[tuple[int, int, StorageKey]]) -> None:
        by_device: dict[str, list[tuple[int, int, StorageKey]]] = {}
        for item in cluster:
            by_device.setdefault(device_of(item[2]), []).append(item)
        for spans in by_device.values():
            reach_hi, reach_key = spans[0][1], spans[0][2]
            for lo, hi, key in spans[1:]:
                if lo < reach_hi:
                    uf.union(reach_key, key)
                if hi > reach_hi:
                    reach_hi, reach_key = hi, key

    cluster: list[tuple[int, int, StorageKey]] = []
    reach = 0
    for item in ranges:
        if item[0] >= reach:
            if len(cluster) > 1:
                settle(cluster)
            cluster = []
        cluster.append(item)
        reach = max(reach, item[1])
    if len(cluster) > 1:
        settle(cluster)
    return {key: uf.find(key) for key in uf.parent}


def _in_elements(strides_bytes: tuple[int, ...], itemsize: int) -> tuple[int, ...] | None:
    if itemsize and all(s % itemsize == 0 for s in strides_bytes):
        return tuple(s // itemsize for s in strides_bytes)
    return None


def _overlap_pairs(
    members: list[int], meta: Callable[[int], ArrayMeta]
) -> list[tuple[int, int, bool]]:
    """Exact overlaps among the views of one storage, testing only pairs whose extents meet:
    ``(i, j, exact)`` for ``members[i]`` and ``members[j]``, ``i < j``."""
    spans = []
    for i, p in enumerate(members):
        layout = _layout(meta(p))
        if not layout.is_empty:
            lo, hi = layout.extent()
            spans.append((lo, hi, i, layout, layout.is_dense))
    spans.sort(key=lambda s: (s[0], s[1]))
    pairs: list[tuple[int, int, bool]] = []
    active: list[tuple[int, int, int, Layout, bool]] = []
    for span in spans:
        lo, hi, k, layout, dense = span
        active = [a for a in active if a[1] > lo]  # the extents that meet this one
        for a_lo, a_hi, a_k, a_layout, a_dense in active:
            if (a_dense and holds_an_end(a_lo, a_hi, lo, hi)) or (
                dense and holds_an_end(lo, hi, a_lo, a_hi)
            ):
                exact = True  # as layouts_overlap decides it, without building the question
            else:
                result = layouts_overlap(a_layout, layout)
                if not result.may_overlap:
                    continue
                exact = result.exact
            pairs.append((min(a_k, k), max(a_k, k), exact))
        active.append(span)
    return pairs


@dataclass(slots=True)
class _Overlaps:
    pairs: list[tuple[int, int, bool]]
    positions: tuple[int, ...]
    edges: list[OverlapEdge]
    layouts: LayoutColumns  # of the views when the pairs were found


class _OverlapMemo:
    """Overlaps among the views of each shared storage, kept from one snapshot to the next.

    Ten thousand rows of one matrix take ten thousand exact overlap tests; when another cell
    changes something else, the same unchanged views need none. A storage's views are keyed
    by their serial numbers; any of them read again in this snapshot (new, or changed in
    place) means a new search.
    """

    def __init__(
        self,
        previous: dict[tuple[int, ...], _Overlaps],
        fresh: set[int],
        new_entries: Sequence[_BulkEntry] = (),
    ) -> None:
        self.previous = previous
        self._fresh = fresh  # serial numbers of the objects read one by one (again)
        self._new_entries = new_entries  # containers read (again): all their tensors fresh
        self.current: dict[tuple[int, ...], _Overlaps] = {}

    def fresh(self) -> set[int]:
        """Serial numbers of everything read (again) in this snapshot; gathered only when a
        storage's views were seen before (not after ten thousand new tensors sharing none)."""
        for entry in self._new_entries:
            self._fresh.update(entry.uids)
        self._new_entries = ()
        return self._fresh

    def edges(
        self,
        members: list[int],
        uids: Sequence[int],
        meta: Callable[[int], ArrayMeta],
        layouts: Callable[[list[int]], LayoutColumns],
    ) -> list[OverlapEdge]:
        key = tuple(map(uids.__getitem__, members))
        positions = tuple(members)
        known = self.previous.get(key)
        current: LayoutColumns | None = None
        if known is not None and not self.fresh().isdisjoint(key):
            # Read again (written in place, a container re-read): the same views where they
            # were have the same overlaps, told apart by their layouts in C-level columns.
            current = layouts(members)
            if current != known.layouts:
                known = None
        if known is None:
            current = current if current is not None else layouts(members)
            known = _edges_at(_overlap_pairs(members, meta), positions, current)
        elif known.positions != positions:  # the same views, moved by names added before
            known = _edges_at(known.pairs, positions, known.layouts)
        self.current[key] = known
        return known.edges


def _edges_at(
    pairs: list[tuple[int, int, bool]], positions: tuple[int, ...], layouts: LayoutColumns
) -> _Overlaps:
    edges = [OverlapEdge(f"t{positions[i]}", f"t{positions[j]}", exact) for i, j, exact in pairs]
    return _Overlaps(pairs, positions, edges, layouts)


def snapshot(namespace: Mapping[str, Any], limits: WalkLimits | None = None) -> StorageGraph:
    """The storage graph of the tensors/arrays reachable from ``namespace`` (e.g. ``locals()``)."""
    return Snapshotter(limits).snapshot(namespace)
