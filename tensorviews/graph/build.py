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

A snapshotter's builds keep the last one (``GraphBuilds``): when the next table differs in a
few rows only, at the same positions, and those rows' storages are their own before and
after, steps 1 to 4 run on those rows alone and are patched into the last build.
"""

from __future__ import annotations

import operator
from bisect import bisect_left
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from itertools import compress, count, islice, repeat
from typing import Any, TypeVar

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
from tensorviews.graph.table import (
    NO_STORAGE,
    UNREAD_BASE,
    Columns,
    Flags,
    Ints,
    MetaTable,
    ranges_meet,
    replaced_items,
    replaced_rows,
    rows_of,
    storage_ranges,
)


@dataclass(slots=True)
class _Storages:
    """Storage of every row and the storages' ranges, by storage position."""

    of_row: Ints  # storage position per row, -1: none
    origin: Ints  # first byte of each storage
    nbytes: Ints
    first: Ints  # first row of each storage
    merged: set[int]  # storages made of several keys (one memory under numpy and torch)
    # No two keys' byte ranges meet (the common case): one key per storage.
    disjoint: bool


def group_storages(c: Columns) -> _Storages:
    n = len(c)
    keys = c.storage_key
    lo_row, hi_row = storage_ranges(c)
    rows = np.flatnonzero(keys != NO_STORAGE)
    if len(rows) == n and _distinct(keys):
        # Every row on a storage of its own (ten thousand new tensors): nothing to group.
        first_row = inverse = rows
        lo_key, hi_key = lo_row, hi_row
    else:
        uniq, first, inverse = np.unique(keys[rows], return_index=True, return_inverse=True)
        first_row = rows[first]
        # One key has one range, except numpy over foreign memory: the union of what arrays
        # reach.
        lo_key, hi_key = lo_row[first_row], hi_row[first_row]
        if len(uniq) < len(rows):
            np.minimum.at(lo_key, inverse, lo_row[rows])
            np.maximum.at(hi_key, inverse, hi_row[rows])
    of_row = np.full(n, -1, dtype=np.int64)
    if not ranges_meet(np.where(lo_key != 0, lo_key, hi_key), hi_key):
        # The common case: no two storages on one memory. Storages numbered by first row.
        if first_row is rows:  # storage p is row p's
            return _Storages(rows, lo_key, hi_key - lo_key, rows, set(), True)
        order = np.argsort(first_row, kind="stable")
        position = np.empty(len(first_row), dtype=np.int64)
        position[order] = np.arange(len(first_row))
        of_row[rows] = position[inverse]
        lo_key, hi_key = lo_key[order], hi_key[order]
        return _Storages(of_row, lo_key, hi_key - lo_key, first_row[order], set(), True)
    group = _merge_shared_memory(lo_key, hi_key, lambda k: c.device[first_row.item(k)])
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
    return _Storages(of_row, origin, end - origin, group_first[order], merged, False)


def _distinct(values: Ints) -> bool:
    """Are all ``values`` different? One sort."""
    ordered = np.sort(values)
    return not bool((ordered[1:] == ordered[:-1]).any())


def _merge_shared_memory(lo: Ints, hi: Ints, device_of: Callable[[int], str]) -> Ints:
    """Group number of each storage: storages on one device whose byte ranges intersect are
    one memory. Every storage is alive while a snapshot is taken, so live ranges cannot
    collide by accident. Null and empty ranges (meta tensors, empty storages) never merge.
    Only the storages of a cluster of meeting ranges are looked at one by one (one numpy
    array over torch memory among ten thousand storages: two)."""
    valid = np.flatnonzero((lo != 0) & (hi > lo))
    order = valid[np.argsort(lo[valid], kind="stable")]
    s_lo, s_hi = lo[order], hi[order]
    reach = np.maximum.accumulate(s_hi)
    starts = np.flatnonzero(np.concatenate(([True], s_lo[1:] >= reach[:-1])))
    ends = np.append(starts[1:], len(order))
    clusters = np.flatnonzero(ends - starts >= 2)
    parent: dict[int, int] = {}  # of the storages in clusters; the others are their own

    def find(k: int) -> int:
        while parent.get(k, k) != k:
            parent[k] = parent.get(parent[k], parent[k])
            k = parent[k]
        return k

    for a, b in zip(starts[clusters].tolist(), ends[clusters].tolist(), strict=True):
        by_device: dict[str, list[int]] = {}
        for k in order[a:b].tolist():
            by_device.setdefault(device_of(k), []).append(k)
        for members in by_device.values():  # sorted by start within the cluster
            reach_hi, reach_key = int(hi[members[0]]), members[0]
            for k in members[1:]:
                if int(lo[k]) < reach_hi:
                    ra, rb = find(reach_key), find(k)
                    parent[max(ra, rb)] = min(ra, rb)
                if int(hi[k]) > reach_hi:
                    reach_hi, reach_key = int(hi[k]), k
    roots = np.arange(len(lo), dtype=np.int64)
    if parent:
        merged = list(parent)
        roots[merged] = [find(k) for k in merged]
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
    counts: Ints  # rows per storage


def _shared(c: Columns, of_row: Ints, n_storages: int) -> _Shared:
    valid = of_row >= 0
    counts = np.bincount(of_row[valid], minlength=n_storages)
    if not (counts > 1).any():
        return _Shared({}, {}, counts)
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
    pairs = np.flatnonzero(counts == 2)
    a, b = order[bounds[pairs]], order[bounds[pairs] + 1]
    dense = c.dense[a] & c.dense[b]
    lo_a, lo_b = c.start[a], c.start[b]
    meet = (lo_a < lo_b + c.numel[b] * c.itemsize[b]) & (lo_b < lo_a + c.numel[a] * c.itemsize[a])
    return _Shared(
        members, dict(zip(pairs[dense].tolist(), meet[dense].tolist(), strict=True)), counts
    )


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


@dataclass(frozen=True, slots=True)
class RowsWithin:
    """The rows ``start <= i < stop`` of a part that differ from the rows ``start <= i <
    old_stop`` of the part it was made from; the others are the same. As many, or to the
    part's end."""

    start: int
    stop: int
    old_stop: int


@dataclass(slots=True)
class TablePart:
    """Consecutive rows of a table that come from one thing read (a container read
    column-wise, an object read one by one): parts of two cells' tables with equal ``key``
    hold the very same rows (metadata, ids, serial numbers, names, category, tying). A part
    made from a part of the last table (a container with a few items changed) names it:
    ``origin`` is that part's key and ``within`` the rows that differ."""

    key: tuple[Any, ...]
    count: int
    origin: tuple[Any, ...] | None = None
    within: RowsWithin | None = None


_key, _count = operator.attrgetter("key"), operator.attrgetter("count")


@dataclass(slots=True)
class _Lookup:
    """A build's storages sorted by key and by byte range, to check new rows against (made
    the first time a build is patched, then patched along with it)."""

    keys: Ints  # every key of the rows, sorted (a merged storage has several)
    key_storage: Ints  # the storage position of each
    range_lo: Ints  # the non-empty byte ranges, sorted (disjoint: so are their ends)
    range_hi: Ints
    range_storage: Ints

    @classmethod
    def of(cls, c: Columns, st: _Storages) -> _Lookup | None:
        """None when two storages' byte ranges meet (they are on different devices): a
        range is then not told by its start alone."""
        # Every key, with a memory merged from several (a numpy array over torch memory):
        # a row with one of them belongs to it whatever its byte range (an empty array, or
        # one that reaches past the others over the same memory).
        keys, key_storage = storage_keys(c.storage_key, st.of_row)
        lo, hi = _range_bounds(st.origin, st.nbytes)
        valid = np.flatnonzero(hi > lo)
        by_lo = valid[np.argsort(lo[valid], kind="stable")]
        if not st.disjoint and ranges_meet(lo, hi):
            return None
        return cls(keys, key_storage, lo[by_lo], hi[by_lo], by_lo)

    def replaced(
        self, sa: int, sb: int, keys: Ints, key_storage: Ints, lo: Ints, hi: Ints
    ) -> _Lookup:
        """This lookup with storages ``sa <= s < sb`` replaced by the new ones: their keys
        (each with its storage) and byte ranges ``[lo, hi)``, numbered from ``sa``."""
        keep = (self.key_storage < sa) | (self.key_storage >= sb)
        old_keys, old_storage = self.keys[keep], self.key_storage[keep]
        new_storage = np.arange(sa, sa + len(lo), dtype=np.int64)
        by_key = np.argsort(keys, kind="stable")
        at = np.searchsorted(old_keys, keys[by_key])
        keep = (self.range_storage < sa) | (self.range_storage >= sb)
        r_lo, r_hi, r_st = self.range_lo[keep], self.range_hi[keep], self.range_storage[keep]
        valid = np.flatnonzero(hi > lo)
        valid = valid[np.argsort(lo[valid], kind="stable")]
        r_at = np.searchsorted(r_lo, lo[valid])
        return _Lookup(
            np.insert(old_keys, at, keys[by_key]), np.insert(old_storage, at, key_storage[by_key]),
            np.insert(r_lo, r_at, lo[valid]), np.insert(r_hi, r_at, hi[valid]),
            np.insert(r_st, r_at, new_storage[valid]),
        )

    def others_meet(self, sa: int, sb: int, keys: Ints, lo: Ints, hi: Ints) -> bool:
        """Does a storage outside ``sa <= s < sb`` have one of ``keys``, or a byte range
        that meets one of ``[lo, hi)``?"""
        at = np.minimum(np.searchsorted(self.keys, keys), max(len(self.keys) - 1, 0))
        if len(self.keys):
            found = self.key_storage[at][self.keys[at] == keys]
            if ((found < sa) | (found >= sb)).any():
                return True
        for k in np.flatnonzero(hi > lo).tolist():
            first = int(np.searchsorted(self.range_hi, lo[k], side="right"))
            last = int(np.searchsorted(self.range_lo, hi[k], side="left"))
            met = self.range_storage[first:last]
            if ((met < sa) | (met >= sb)).any():
                return True
        return False


def storage_keys(key: Ints, of_row: Ints) -> tuple[Ints, Ints]:
    """Every distinct key of the rows on a storage, sorted, and the storage of each (rows of
    one key are on one storage)."""
    on = np.flatnonzero(of_row >= 0)
    keys, first = np.unique(key[on], return_index=True)
    return keys, of_row[on][first]


def _range_bounds(origin: Ints, nbytes: Ints) -> tuple[Ints, Ints]:
    """Storage ranges as the merge compares them: a null start is an empty range."""
    hi = origin + nbytes
    return np.where(origin != 0, origin, hi), hi


@dataclass(slots=True)
class _Built:
    """One build, as the next cell needs it to patch a few changed rows in."""

    parts: list[TablePart]
    table: MetaTable
    storages: _Storages
    counts: Ints  # rows per storage
    shared: dict[int, list[int]]
    overlaps: tuple[OverlapEdge, ...]
    edge_storage: Ints  # the storage of each overlap edge (ascending)
    special: list[int]
    unallocated: list[int]
    index: GraphIndex
    tensors: RowNodes[TensorNode]
    storage_nodes: RowNodes[StorageNode]
    lookup: _Lookup | None = None


@dataclass(slots=True)
class RowChange:
    """Where a table differs from the last one: its rows ``start <= p < stop`` are the last
    table's ``start <= p < old_stop``, between ``head`` equal parts before and ``tail``
    equal parts after. As many rows, or the change is at the end (no part after it). When
    one part changed within (``TablePart.within``), ``within`` is the rows of it that did."""

    start: int
    stop: int
    old_stop: int
    head: int
    tail: int
    within: RowsWithin | None = None


class GraphBuilds:
    """What one snapshotter's builds keep from one cell to the next:

    - the overlaps among the views of each shared storage (``OverlapMemo``);
    - the last build. When the next table holds the same parts but for a few rows
      (``change``: at the same positions, or at the end), and those rows' storages are their
      own before and after (no other row views them, no other storage's byte range meets
      theirs), the last build is patched: the storage numbers, shared storages, overlaps and
      index columns of the other rows stay, and so do their nodes already built. Benchmark
      row: "one name changes among 11000 tensors".
    """

    # More changed rows than this (or than a sixteenth of the table): built afresh.
    PATCH_ROWS = 256

    def __init__(self) -> None:
        self.overlaps = OverlapMemo()
        self.last: _Built | None = None

    def last_table(self) -> MetaTable | None:
        return self.last.table if self.last is not None else None

    def change(self, parts: Sequence[TablePart]) -> RowChange | None:
        """The few rows in which a table of ``parts`` differs from the last build's, when
        the other rows are where they were; None when there is no last build, rows moved,
        or many changed."""
        if self.last is None or not parts:
            return None
        old = self.last.parts
        m = min(len(old), len(parts))
        # Parts compared by their keys (a key names its rows, so equal keys hold as many):
        # C-level passes, ten thousand top-level names being ten thousand parts.
        differ = map(operator.ne, map(_key, old), map(_key, parts))
        head = next(compress(count(), differ), m)
        differ = map(operator.ne, map(_key, reversed(old)), map(_key, reversed(parts)))
        tail = min(next(compress(count(), differ), m), m - head)
        n = sum(map(_count, parts))
        a = sum(map(_count, islice(parts, head)))
        b = n - sum(map(_count, islice(parts, len(parts) - tail, None)))
        old_b = len(self.last.table) - sum(map(_count, islice(old, len(old) - tail, None)))
        within = None
        if head + tail + 1 == len(parts) == len(old):  # one part changed: within, maybe
            part = parts[head]
            if part.within is not None and part.origin == old[head].key:
                within = part.within
                b, old_b = a + within.stop, a + within.old_stop
                a += within.start
                if b - a != old_b - a and within.stop != part.count:
                    return None  # the part's rows after the change moved
        if b - a != old_b - a and tail:
            return None  # the rows after the change moved
        if max(b, old_b) - a > min(self.PATCH_ROWS, n // 16):
            return None
        return RowChange(a, b, old_b, head, tail, within)


# Reads the bases of the table rows at the given positions (rows read without
# them): the id of each one's base, 0 for none.
BaseReader = Callable[[Ints], Ints]


def build_graph(
    table: MetaTable,
    problems: Sequence[str],
    truncated: Sequence[str],
    builds: GraphBuilds | None = None,
    parts: Sequence[TablePart] = (),
    change: RowChange | None = None,
    read_bases: BaseReader | None = None,
) -> StorageGraph:
    """Group the table's rows into storages (merging memory that numpy and torch share), find
    overlaps, and index the result. Given ``builds``, the table's ``parts`` and where it
    differs from the last build's (``GraphBuilds.change``), the last build is patched when it
    can be (see ``GraphBuilds``). ``read_bases`` reads the bases of rows on shared storages
    that were read without them (``UNREAD_BASE``)."""
    builds = builds if builds is not None else GraphBuilds()
    part_list = list(parts)
    built = (
        _patch(builds.last, table, part_list, change, read_bases)
        if builds.last is not None and change is not None else None
    )
    if built is None:
        built = _build(table, part_list, builds.overlaps, read_bases)
    builds.last = built if part_list else None
    return StorageGraph(
        storages=built.storage_nodes, tensors=built.tensors, overlaps=built.overlaps,
        problems=tuple(problems), truncated=tuple(truncated), columns=built.index,
    )


def _build(
    table: MetaTable, parts: list[TablePart], memo: OverlapMemo, read_bases: BaseReader | None
) -> _Built:
    c = table.columns
    st = group_storages(c)
    shared = _shared(c, st.of_row, len(st.first))
    if shared.rows:
        on_shared = (st.of_row >= 0) & (shared.counts[st.of_row] > 1)
        table = _with_bases(table, np.flatnonzero(on_shared), read_bases)
        c = table.columns
    memo.start()
    overlaps: list[OverlapEdge] = []
    edge_storage: list[int] = []
    for s, members in shared.rows.items():
        meet = shared.dense_pairs.get(s)
        if meet is None:
            edges = memo.edges(table, members)
            overlaps.extend(edges)
            edge_storage.extend(repeat(s, len(edges)))
        elif meet:
            overlaps.append(OverlapEdge(f"t{members[0]}", f"t{members[1]}", True))
            edge_storage.append(s)
    memo.finish()
    return _assemble(
        table, parts, st, shared.counts, shared.rows, tuple(overlaps),
        np.array(edge_storage, dtype=np.int64),
        np.flatnonzero(_special_rows(table, 0, len(c))).tolist(),
        np.flatnonzero(~c.allocated).tolist(),
        _lists(table, st),
        {}, {},
    )


def _with_bases(table: MetaTable, rows: Ints, read_bases: BaseReader | None) -> MetaTable:
    """``table`` with the bases of those of ``rows`` read without them read now (a new
    column: columns are never changed in place)."""
    c = table.columns
    unread = rows[c.base_id[rows] == UNREAD_BASE]
    if not len(unread):
        return table
    base_id = c.base_id.copy()
    base_id[unread] = read_bases(unread) if read_bases is not None else 0
    return replace(table, columns=replace(c, base_id=base_id))


def _lists(table: MetaTable, st: _Storages) -> _Lists:
    if st.first is st.of_row:  # storage p is row p's: no list of ten thousand numbers
        rows = range(len(st.first))
        return _Lists(table.uids.tolist(), rows, st.nbytes.tolist(), rows)
    return _Lists(table.uids.tolist(), st.of_row.tolist(), st.nbytes.tolist(), st.first.tolist())


def _special_rows(table: MetaTable, a: int, b: int) -> Flags:
    """Rows ``a <= p < b`` always worth drawing: those that overlap themselves, have no
    strided storage, or are tied parameters."""
    c = table.columns
    special = c.self_overlap[a:b] | table.tied[a:b]
    layouts = c.layout[a:b]
    if layouts.count("strided") != b - a:
        special |= np.fromiter((k != "strided" for k in layouts), np.bool_, b - a)
    return special


@dataclass(slots=True)
class _Lists:
    """The index columns as lists (a range where storage p is row p's): serial number and
    storage of each row, size and first row of each storage."""

    uids: Sequence[int]
    of_row: Sequence[int]
    nbytes: Sequence[int]
    first: Sequence[int]


def _patch(
    last: _Built, table: MetaTable, parts: list[TablePart], change: RowChange,
    read_bases: BaseReader | None,
) -> _Built | None:
    """``last`` with the rows that changed since patched in, or None where a fresh build is
    needed (the changed rows' storages are not their own)."""
    a, b, old_b = change.start, change.stop, change.old_stop
    st = last.storages
    lookup = last.lookup if last.lookup is not None else _Lookup.of(last.table.columns, st)
    if lookup is None:
        return None
    # The storages whose first row changed: numbered sa..sb-1, and none of them may have a
    # row outside the change.
    sa, sb = (int(i) for i in np.searchsorted(st.first, [a, old_b]))
    old_of_row = st.of_row[a:old_b]
    viewed = old_of_row[old_of_row >= 0]
    if len(viewed) and (int(viewed.min()) < sa or int(viewed.max()) >= sb):
        return None
    if int(last.counts[sa:sb].sum()) != len(viewed):
        return None
    c = table.columns
    rows = rows_of(c, a, b)
    local = group_storages(rows)
    new_sb = sa + len(local.first)
    if new_sb != sb and sb != len(st.first):
        return None  # storages after the change would be numbered otherwise
    keys, key_storage = storage_keys(rows.storage_key, local.of_row)
    key_storage = key_storage + sa
    lo, hi = _range_bounds(local.origin, local.nbytes)
    if (not local.disjoint and ranges_meet(lo, hi)) or lookup.others_meet(sa, sb, keys, lo, hi):
        return None  # (the first: ranges that meet on two devices, see ``_Lookup.of``)
    # The rows' storages are their own: patch them in.
    local_of_row = np.where(local.of_row >= 0, local.of_row + sa, -1)
    of_row = replaced_rows(st.of_row, a, old_b, local_of_row)
    origin = replaced_rows(st.origin, sa, sb, local.origin)
    nbytes = replaced_rows(st.nbytes, sa, sb, local.nbytes)
    first = replaced_rows(st.first, sa, sb, local.first + a)
    # Memory merged from several keys: the other storages' stay where they were (those after
    # the change keep their numbers), the change's are numbered from ``sa``.
    merged = {k for k in st.merged if not sa <= k < sb} | {k + sa for k in local.merged}
    storages = _Storages(of_row, origin, nbytes, first, merged, not merged)
    local_shared = _shared(rows, local.of_row, new_sb - sa)
    if local_shared.rows:
        table = _with_bases(table, np.array(
            [p + a for members in local_shared.rows.values() for p in members], dtype=np.int64
        ), read_bases)
        c = table.columns
    counts = replaced_rows(last.counts, sa, sb, local_shared.counts)
    # Shared storages and overlap edges: those before the change, the change's, those after.
    region: dict[int, list[int]] = {}
    edges: list[OverlapEdge] = []
    edge_storage: list[int] = []
    for s, members in local_shared.rows.items():
        at = [p + a for p in members]
        region[s + sa] = at
        meet = local_shared.dense_pairs.get(s)
        found = (
            [(0, 1, True)] if meet else [] if meet is not None else overlap_pairs([
                Layout(int(c.start[p]), c.shape[p], c.strides_bytes[p], int(c.itemsize[p]))
                for p in at
            ])
        )
        edges.extend(OverlapEdge(f"t{at[i]}", f"t{at[j]}", exact) for i, j, exact in found)
        edge_storage.extend(repeat(s + sa, len(found)))
    shared = dict(last.shared)
    ordered = list(shared)  # ascending, as a build makes them
    i0, i1 = bisect_left(ordered, sa), bisect_left(ordered, sb)
    if region or i0 != i1:
        items = list(shared.items())
        shared = {**dict(items[:i0]), **region, **dict(items[i1:])}
    e0, e1 = (int(i) for i in np.searchsorted(last.edge_storage, [sa, sb]))
    overlaps = (*last.overlaps[:e0], *edges, *last.overlaps[e1:])
    edge_at = np.concatenate((
        last.edge_storage[:e0], np.array(edge_storage, dtype=np.int64), last.edge_storage[e1:]
    ))
    special = _spliced(last.special, a, old_b, np.flatnonzero(_special_rows(table, a, b)) + a)
    unallocated = _spliced(last.unallocated, a, old_b, np.flatnonzero(~rows.allocated) + a)
    index = last.index
    lists = _Lists(
        replaced_items(index.tensor_uids, a, old_b, table.uids[a:b].tolist()),
        replaced_items(index.tensor_storage, a, old_b, of_row[a:b].tolist()),
        replaced_items(index.storage_nbytes, sa, sb, nbytes[sa:new_sb].tolist()),
        replaced_items(index.storage_first, sa, sb, first[sa:new_sb].tolist()),
    )
    # Nodes of the other rows already built are the same: their storages are not the changed
    # rows', and neither are their bases (a base is drawn only on its view's storage). The
    # rows after the change keep their positions (``GraphBuilds.change``). A summary of every
    # name builds every node: copied in C, the changed ones dropped.
    tensors = without_positions(last.tensors.built(), range(a, old_b))
    storage_nodes = without_positions(last.storage_nodes.built(), range(sa, sb))
    built = _assemble(
        table, parts, storages, counts, shared, overlaps, edge_at, special, unallocated,
        lists, tensors, storage_nodes,
    )
    built.lookup = lookup.replaced(sa, sb, keys, key_storage, lo, hi)
    built.index.keep_from(last.index, range(a, old_b), range(a, b), range(sa, sb),
                          range(sa, new_sb))
    return built



_Value = TypeVar("_Value")


def without_positions(
    by_position: dict[int, _Value], positions: Collection[int]
) -> dict[int, _Value]:
    """``by_position`` (a dict of the caller's own, changed in place) without the entries at
    ``positions``: a few popped, or the rest kept when they are most."""
    if len(positions) < len(by_position):
        for p in positions:
            by_position.pop(p, None)
        return by_position
    return {p: value for p, value in by_position.items() if p not in positions}


def _spliced(rows: list[int], a: int, b: int, new: Ints) -> list[int]:
    """Ascending ``rows`` with those in ``[a, b)`` replaced by ``new``."""
    i0, i1 = bisect_left(rows, a), bisect_left(rows, b)
    return [*rows[:i0], *new.tolist(), *rows[i1:]]


def _assemble(
    table: MetaTable,
    parts: list[TablePart],
    st: _Storages,
    counts: Ints,
    shared_rows: dict[int, list[int]],
    overlaps: tuple[OverlapEdge, ...],
    edge_storage: Ints,
    special: list[int],
    unallocated: list[int],
    lists: _Lists,
    tensors_built: dict[int, TensorNode],
    storages_built: dict[int, StorageNode],
) -> _Built:
    """The index and the node builders of a build."""
    c = table.columns
    n = len(c)
    n_storages = len(st.first)
    of_row, first, origin, nbytes = lists.of_row, lists.first, st.origin, lists.nbytes

    def fold(positions: Sequence[int]) -> list[tuple[str, str, int, int]]:
        return _fold(table, positions)

    index = GraphIndex(
        tensor_uids=lists.uids, tensor_storage=of_row, storage_nbytes=nbytes,
        storage_first=first, shared=shared_rows, special=special,
        named=table.names.named_rows(), names_at=table.names, ids_by_position=True,
        fold_at=fold, facts_at=lambda: (c.device, table.category),
        one_tensor_per_storage=(
            n_storages == n and not shared_rows and bool((st.of_row >= 0).all())
        ),
        unallocated=unallocated, nbytes_column=st.nbytes,
    )
    rows_by_id: dict[int, dict[int, int]] = {}  # shared storage -> id -> row, when asked

    def row_on(s: int, obj_id: int) -> int | None:
        """The row of object ``obj_id`` on storage ``s``, if it is there: a base is drawn
        only on its view's storage (``set_`` gives a view other memory), so a view's base
        is looked for among its storage's rows alone."""
        members = shared_rows.get(s)
        if members is None:  # no other row on it (or no storage: s is -1)
            return None
        on_s = rows_by_id.get(s)
        if on_s is None:
            on_s = rows_by_id[s] = dict(zip(table.ids[members].tolist(), members, strict=True))
        return on_s.get(obj_id)

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
        byte_offset = c.start.item(p) - (origin.item(s) if s >= 0 else c.storage_start.item(p))
        strides_bytes = c.strides_bytes[p]
        base_id = c.base_id.item(p)
        base = row_on(s, base_id) if base_id > 0 else None
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

    return _Built(
        parts, table, st, counts, shared_rows, overlaps, edge_storage, special, unallocated,
        index, RowNodes(n, tensor_node, tensors_built),
        RowNodes(n_storages, storage_node, storages_built),
    )


def _in_elements(strides_bytes: tuple[int, ...], itemsize: int) -> tuple[int, ...] | None:
    if itemsize and all(s % itemsize == 0 for s in strides_bytes):
        return tuple(s // itemsize for s in strides_bytes)
    return None


def _fold(
    table: MetaTable, positions: Sequence[int]
) -> list[tuple[str, str, int, int]]:
    """(label, device, count, logical bytes) of the rows at ascending ``positions``: a run of
    one container's items is one chunk when they share a device, labelled ``name[*]``."""
    devices = table.columns.device
    # Logical bytes per row, not made a list: a drawing folds a few runs, summed in numpy.
    logical = table.columns.numel * table.columns.itemsize
    chunks: list[tuple[str, str, int, int]] = []
    k, n = 0, len(positions)
    while k < n:
        p = positions[k]
        run = table.names.run_of(p)
        if run.one_by_one():
            names = table.names(p)
            chunks.append((names[0] if names else f"<t{p}>", devices[p], 1, logical.item(p)))
            k += 1
            continue
        # The longest stretch of consecutive positions inside this container.
        end = min(run.start + run.count, p + n - k)
        length = end - p
        if positions[k + length - 1] != p + length - 1:  # ascending: a gap somewhere
            length = 1
            while p + length < end and positions[k + length] == p + length:
                length += 1
        assert run.container is not None
        label = run.container + "[*]"  # every item path of a container: one group prefix
        if len(set(devices[p:p + length])) == 1:
            chunks.append((label, devices[p], length, int(logical[p:p + length].sum())))
        else:
            chunks.extend((label, devices[i], 1, logical.item(i)) for i in range(p, p + length))
        k += length
    return chunks
