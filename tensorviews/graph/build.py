"""From a ``MetaTable`` to a ``StorageGraph``: storages, shared memory, overlaps, nodes.

Column operations on the table, top to bottom:
1. group rows by storage key (``np.unique``), storages numbered by their first row;
2. merge storages whose byte ranges intersect on one device into one memory
   (``torch.from_numpy``, numpy arrays over one buffer): sorted by start, a running maximum of
   the ends finds the clusters, and only rows in a cluster are looked at in Python;
3. exact overlaps among the views of each shared storage (``overlap.layouts_overlap``),
   kept from one cell to the next while the views and their layouts are the same
   (``OverlapMemo``);
4. the graph's index columns (``GraphIndex``) for diffs, the interesting view and totals, and
   the nodes, built from the table's rows (plain data) for what is drawn or asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from tensorviews.graph.model import (
    GraphIndex,
    OverlapEdge,
    RowNodes,
    StorageGraph,
    StorageNode,
    TensorNode,
)
from tensorviews.graph.overlap import Layout, holds_an_end, layouts_overlap
from tensorviews.graph.table import NO_STORAGE, Ints, MetaTable, ranges_meet, storage_ranges


@dataclass(slots=True)
class _Storages:
    """Storage of every row and the storages' ranges, by storage position."""

    of_row: Ints  # storage position per row, -1: none
    origin: Ints  # first byte of each storage
    nbytes: Ints
    first: Ints  # first row of each storage
    merged: set[int]  # storages made of several keys (one memory under numpy and torch)


def group_storages(table: MetaTable) -> _Storages:
    c = table.columns
    n = len(c)
    keys = c.storage_key
    lo_row, hi_row = storage_ranges(c)
    has = keys != NO_STORAGE
    rows = np.flatnonzero(has)
    uniq, first, inverse = np.unique(keys[rows], return_index=True, return_inverse=True)
    first_row = rows[first]
    # One key has one range, except numpy over foreign memory: the union of what arrays reach.
    lo_key, hi_key = lo_row[first_row], hi_row[first_row]
    if len(uniq) < len(rows):
        np.minimum.at(lo_key, inverse, lo_row[rows])
        np.maximum.at(hi_key, inverse, hi_row[rows])
    of_row = np.full(n, -1, dtype=np.int64)
    if not ranges_meet(np.where(lo_key != 0, lo_key, hi_key), hi_key):
        # The common case: no two storages on one memory. Storages numbered by first row.
        order = np.argsort(first_row, kind="stable")
        position = np.empty(len(uniq), dtype=np.int64)
        position[order] = np.arange(len(uniq))
        of_row[rows] = position[inverse]
        lo_key, hi_key = lo_key[order], hi_key[order]
        return _Storages(of_row, lo_key, hi_key - lo_key, first_row[order], set())
    group = _merge_shared_memory(lo_key, hi_key, [c.device[r] for r in first_row.tolist()])
    # Storages numbered by their first row; a merged memory by the first row of any part.
    n_groups = int(group.max()) + 1 if len(group) else 0
    group_first = np.full(n_groups, n, dtype=np.int64)
    np.minimum.at(group_first, group, first_row)
    order = np.argsort(group_first, kind="stable")
    position = np.empty(n_groups, dtype=np.int64)
    position[order] = np.arange(n_groups)
    key_storage = position[group]
    of_row[rows] = key_storage[inverse]
    origin = np.full(n_groups, np.iinfo(np.int64).max, dtype=np.int64)
    end = np.zeros(n_groups, dtype=np.int64)
    np.minimum.at(origin, key_storage, lo_key)
    np.maximum.at(end, key_storage, hi_key)
    counts = np.bincount(key_storage, minlength=n_groups)
    merged = set(np.flatnonzero(counts > 1).tolist())
    return _Storages(of_row, origin, end - origin, group_first[order], merged)


def _merge_shared_memory(lo: Ints, hi: Ints, devices: list[str]) -> Ints:
    """Group number of each storage: storages on one device whose byte ranges intersect are
    one memory. Every storage is alive while a snapshot is taken, so live ranges cannot
    collide by accident. Null and empty ranges (meta tensors, empty storages) never merge."""
    group = np.arange(len(lo))
    valid = np.flatnonzero((lo != 0) & (hi > lo))
    order = valid[np.argsort(lo[valid], kind="stable")]
    s_lo, s_hi = lo[order], hi[order]
    reach = np.maximum.accumulate(s_hi)
    starts = np.flatnonzero(np.concatenate(([True], s_lo[1:] >= reach[:-1])))
    bounds = [*starts.tolist(), len(order)]
    parent = list(range(len(lo)))

    def find(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for a, b in pairwise(bounds):
        if b - a < 2:
            continue
        by_device: dict[str, list[int]] = {}
        for k in order[a:b].tolist():
            by_device.setdefault(devices[k], []).append(k)
        for members in by_device.values():  # sorted by start within the cluster
            reach_hi, reach_key = int(hi[members[0]]), members[0]
            for k in members[1:]:
                if int(lo[k]) < reach_hi:
                    ra, rb = find(reach_key), find(k)
                    parent[max(ra, rb)] = min(ra, rb)
                if int(hi[k]) > reach_hi:
                    reach_hi, reach_key = int(hi[k]), k
    roots = np.array([find(k) for k in range(len(lo))], dtype=np.int64)
    _, group = np.unique(roots, return_inverse=True)
    return group.astype(np.int64)


@dataclass(slots=True)
class _Shared:
    """Storages viewed by two or more rows."""

    rows: dict[int, list[int]]  # storage position -> its rows, in order
    # Storages viewed by exactly two dense rows (a tensor and a slice of it, a torch tensor and
    # its numpy array) -> whether the two overlap, decided for all of them in a few column
    # operations: two dense layouts overlap exactly when their byte ranges meet.
    dense_pairs: dict[int, bool]


def _shared(table: MetaTable, of_row: Ints, n_storages: int) -> _Shared:
    valid = of_row >= 0
    counts = np.bincount(of_row[valid], minlength=n_storages)
    if not (counts > 1).any():
        return _Shared({}, {})
    rows = np.flatnonzero(valid)
    order = rows[np.argsort(of_row[rows], kind="stable")]
    bounds = np.concatenate(([0], np.cumsum(counts)))
    storages = np.flatnonzero(counts > 1)
    in_order = order.tolist()
    members = {
        s: in_order[lo:hi]
        for s, lo, hi in zip(
            storages.tolist(), bounds[storages].tolist(), bounds[storages + 1].tolist(),
            strict=True,
        )
    }
    c = table.columns
    pairs = np.flatnonzero(counts == 2)
    a, b = order[bounds[pairs]], order[bounds[pairs] + 1]
    dense = c.dense[a] & c.dense[b]
    lo_a, lo_b = c.start[a], c.start[b]
    meet = (lo_a < lo_b + c.numel[b] * c.itemsize[b]) & (lo_b < lo_a + c.numel[a] * c.itemsize[a])
    return _Shared(members, dict(zip(pairs[dense].tolist(), meet[dense].tolist(), strict=True)))


@dataclass(slots=True)
class _Overlaps:
    pairs: list[tuple[int, int, bool]]  # (i, j, exact) for members i < j
    starts: bytes  # the layouts the pairs were found for
    shapes: list[tuple[int, ...]]
    strides: list[tuple[int, ...]]
    itemsizes: bytes
    members: bytes  # rows the edges name
    edges: list[OverlapEdge]


class OverlapMemo:
    """Overlaps among the views of each shared storage, kept from one snapshot to the next.

    Ten thousand rows of one matrix take ten thousand exact overlap tests; when another cell
    changes something else (or the matrix is written in place, which moves every view's
    version counter), the same views at the same layouts need none. Overlaps depend on the
    layouts only, compared here as columns. Benchmark row: "10,000 rows of one matrix in a
    list while another name changes".
    """

    def __init__(self) -> None:
        self.kept: dict[bytes, _Overlaps] = {}  # by the views' serial numbers
        self.current: dict[bytes, _Overlaps] = {}

    def edges(self, table: MetaTable, rows: list[int]) -> list[OverlapEdge]:
        c = table.columns
        members = np.array(rows, dtype=np.int64)
        key = table.uids[members].tobytes()
        starts = c.start[members].tobytes()
        itemsizes = c.itemsize[members].tobytes()
        # Rows reused from the last snapshot hold the very same tuples: compared by identity.
        shapes = list(map(c.shape.__getitem__, rows))
        strides = list(map(c.strides_bytes.__getitem__, rows))
        known = self.kept.get(key)
        if (
            known is None or known.starts != starts or known.itemsizes != itemsizes
            or known.shapes != shapes or known.strides != strides
        ):
            pairs = overlap_pairs(
                [Layout(int(c.start[p]), c.shape[p], c.strides_bytes[p], int(c.itemsize[p]))
                 for p in rows]
            )
            known = _Overlaps(pairs, starts, shapes, strides, itemsizes, b"", [])
        at = members.tobytes()
        if known.members != at:  # new, or the same views moved by names added before
            known.members = at
            known.edges = [OverlapEdge(f"t{rows[i]}", f"t{rows[j]}", exact)
                           for i, j, exact in known.pairs]
        self.current[key] = known
        return known.edges

    def start(self) -> None:
        self.current = {}

    def finish(self) -> None:
        """Keep only the storages of this snapshot."""
        self.kept = self.current


def overlap_pairs(layouts: list[Layout]) -> list[tuple[int, int, bool]]:
    """Exact overlaps among the views of one storage, testing only pairs whose extents meet:
    ``(i, j, exact)`` for ``layouts[i]`` and ``layouts[j]``, ``i < j``."""
    spans = []
    for i, layout in enumerate(layouts):
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


def build_graph(
    table: MetaTable,
    problems: Sequence[str],
    truncated: Sequence[str],
    memo: OverlapMemo | None = None,
) -> StorageGraph:
    """Group the table's rows into storages (merging memory that numpy and torch share), find
    overlaps, and index the result."""
    memo = memo if memo is not None else OverlapMemo()
    c = table.columns
    n = len(c)
    st = group_storages(table)
    n_storages = len(st.first)
    shared = _shared(table, st.of_row, n_storages)
    memo.start()
    overlaps: list[OverlapEdge] = []
    for s, members in shared.rows.items():
        meet = shared.dense_pairs.get(s)
        if meet is None:
            overlaps.extend(memo.edges(table, members))
        elif meet:
            overlaps.append(OverlapEdge(f"t{members[0]}", f"t{members[1]}", True))
    memo.finish()
    shared_rows = shared.rows
    of_row = st.of_row.tolist()
    first = st.first.tolist()
    origin = st.origin.tolist()
    nbytes = st.nbytes.tolist()
    # Rows always worth drawing: those that overlap themselves, have no strided storage, or
    # are tied parameters.
    special_rows = c.self_overlap | table.tied
    if c.layout.count("strided") != n:
        special_rows |= np.fromiter((k != "strided" for k in c.layout), np.bool_, n)
    special = np.flatnonzero(special_rows).tolist()
    logical: list[int] | None = None

    def logical_nbytes() -> list[int]:
        nonlocal logical
        if logical is None:
            logical = (c.numel * c.itemsize).tolist()
        return logical

    def fold(positions: Sequence[int]) -> list[tuple[str, str, int, int]]:
        return _fold(table, positions, logical_nbytes())

    index = GraphIndex(
        tensor_uids=table.uids.tolist(), tensor_storage=of_row, storage_nbytes=nbytes,
        storage_first=first, shared=shared_rows, special=special, named=table.names.named_rows(),
        names_at=table.names, ids_by_position=True, fold_at=fold,
        facts_at=lambda: (c.device, table.category),
        one_tensor_per_storage=n_storages == n and not shared_rows and bool((st.of_row >= 0).all()),
        unallocated=np.flatnonzero(~c.allocated).tolist(),
    )
    row_of_id: dict[int, int] | None = None

    def row_of(obj_id: int) -> int | None:
        nonlocal row_of_id
        if row_of_id is None:
            row_of_id = dict(zip(table.ids.tolist(), range(n), strict=True))
        return row_of_id.get(obj_id)

    def storage_node(s: int) -> StorageNode:
        # The views of one storage share its device, pinning and library: one of them tells,
        # unless storages of several libraries were merged into one memory.
        members = shared_rows.get(s, [first[s]]) if s in st.merged else [first[s]]
        p = members[0]
        return StorageNode(
            f"s{s}", c.device[p], nbytes[s], any(c.pinned.item(q) for q in members),
            tuple(sorted({c.library[q] for q in members})), allocated=c.allocated.item(p),
        )

    def tensor_node(p: int) -> TensorNode:
        s = of_row[p]
        itemsize = c.itemsize.item(p)
        byte_offset = c.start.item(p) - (origin[s] if s >= 0 else c.storage_start.item(p))
        strides_bytes = c.strides_bytes[p]
        base_id = c.base_id.item(p)
        base = row_of(base_id) if base_id else None
        extra = c.extra.get(p)
        return TensorNode(
            id=f"t{p}", names=table.names(p), library=c.library[p], type_name=c.type_name[p],
            storage=f"s{s}" if s >= 0 else None, shape=c.shape[p],
            stride=_in_elements(strides_bytes, itemsize),
            offset=byte_offset // itemsize if itemsize and not byte_offset % itemsize else None,
            byte_offset=byte_offset, stride_bytes=strides_bytes, dtype=c.dtype[p],
            itemsize=itemsize, device=c.device[p], layout=c.layout[p],
            base=f"t{base}" if base is not None else None,
            requires_grad=c.requires_grad.item(p), is_parameter=c.parameter.item(p),
            self_overlap=c.self_overlap.item(p), uid=table.uids.item(p),
            tied=table.tied.item(p),
            dtensor=extra.dtensor if extra is not None else None,
            flat_param=extra.flat_param if extra is not None else None,
            unsharded=extra.unsharded if extra is not None else None,
            category=table.category[p],
        )

    return StorageGraph(
        storages=RowNodes(n_storages, storage_node), tensors=RowNodes(n, tensor_node),
        overlaps=tuple(overlaps), problems=tuple(problems), truncated=tuple(truncated),
        columns=index,
    )


def _in_elements(strides_bytes: tuple[int, ...], itemsize: int) -> tuple[int, ...] | None:
    if itemsize and all(s % itemsize == 0 for s in strides_bytes):
        return tuple(s // itemsize for s in strides_bytes)
    return None


def _fold(
    table: MetaTable, positions: Sequence[int], logical: list[int]
) -> list[tuple[str, str, int, int]]:
    """(label, device, count, logical bytes) of the rows at ascending ``positions``: a run of
    one container's items is one chunk when they share a device, labelled ``name[*]``."""
    devices = table.columns.device
    chunks: list[tuple[str, str, int, int]] = []
    k, n = 0, len(positions)
    while k < n:
        p = positions[k]
        run = table.names.run_of(p)
        if run.container is None:
            names = table.names(p)
            chunks.append((names[0] if names else f"<t{p}>", devices[p], 1, logical[p]))
            k += 1
            continue
        # The longest stretch of consecutive positions inside this container.
        end = min(run.start + run.count, p + n - k)
        length = end - p
        if positions[k + length - 1] != p + length - 1:  # ascending: a gap somewhere
            length = 1
            while p + length < end and positions[k + length] == p + length:
                length += 1
        label = run.container + "[*]"  # every item path of a container: one group prefix
        if len(set(devices[p:p + length])) == 1:
            chunks.append((label, devices[p], length, sum(logical[p:p + length])))
        else:
            chunks.extend((label, devices[i], 1, logical[i]) for i in range(p, p + length))
        k += length
    return chunks
