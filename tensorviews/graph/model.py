"""The storage graph: storages, the tensors/arrays that view them, and which of those overlap.

Plain data only (ints and strings): a graph never holds a reference to a user's tensor, so it
can be kept, diffed and serialised without keeping memory alive. Its JSON form is the
``tensorviews.graph/1`` contract of docs/contracts.md. Rendering lives in ``tensorviews.render``.

A snapshot of a big namespace holds ten thousand tensors that nobody will draw; building a node
object for each costs more than reading them. So a snapshot's ``tensors`` and ``storages`` are
``RowNodes`` (each node built from the snapshot's metadata table the first time it is asked
for), and the per-cell work (diffs, the interesting view, pinned waste) runs on a
``GraphIndex``: a few plain columns by position.
"""

from __future__ import annotations

import json
import operator
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, compress, repeat
from typing import Any, TypeVar, cast, overload

from tensorviews.graph.overlap import Layout
from tensorviews.graph.sharding import DTensorInfo, FlatParamInfo, UnshardedInfo

SCHEMA = "tensorviews.graph/1"
MIME_TYPE = "application/vnd.tensorviews.graph+json"


# Nodes are plain slotted records, built by the thousand on every changed cell: frozen
# dataclasses cost twice as much to construct. Treat them as read-only all the same.
@dataclass(slots=True)
class StorageNode:
    id: str
    device: str  # "cpu", "cuda:0", "meta", ... ; pinned host memory is "cpu" with pinned=True
    nbytes: int | None
    pinned: bool = False
    libraries: tuple[str, ...] = ()  # which libraries have views on it: ("numpy", "torch")
    # False for meta and fake tensors' storages: sizes without memory, never counted in totals
    allocated: bool = True
    # The tensor it is named after ("storage of acts"); set by the view for what it draws
    owner: str | None = None


@dataclass(slots=True)
class TensorNode:
    id: str
    names: tuple[str, ...]
    library: str  # "torch" | "numpy"
    type_name: str
    storage: str | None  # None: no strided storage (sparse, nested tensors)
    shape: tuple[int, ...]
    stride: tuple[int, ...] | None  # elements; None when a byte stride is not a whole element
    offset: int | None  # elements from the storage start; None when not a whole element
    byte_offset: int
    stride_bytes: tuple[int, ...]
    dtype: str
    itemsize: int
    device: str
    layout: str = "strided"
    base: str | None = None  # id of the tensor this is a view of, when it is in the graph
    requires_grad: bool = False
    is_parameter: bool = False
    self_overlap: bool = False  # two of its own elements share memory (expand, zero strides)
    uid: int = 0  # the snapshotter's serial number for the object: matches it across cells
    tied: bool = False  # a parameter a module holds at two places (weight tying)
    dtensor: DTensorInfo | None = None  # a DTensor: shape/stride/offset are its local tensor's
    flat_param: FlatParamInfo | None = None  # an FSDP1 flat parameter's segments
    unsharded: UnshardedInfo | None = None  # an FSDP2 parameter all-gathered now
    # What the walk found it as: parameters, buffers, gradients, optimizer state, other
    category: str = "other"

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def logical_nbytes(self) -> int:
        return self.numel * self.itemsize

    def extent(self) -> tuple[int, int]:
        """Half-open byte range ``[lo, hi)`` it touches, relative to its storage's start."""
        return Layout(self.byte_offset, self.shape, self.stride_bytes, self.itemsize).extent()

    def contains(self, other: TensorNode) -> bool:
        """Every byte of ``other`` is a byte of this one (this one has no holes and spans it)."""
        if self.storage is None or self.storage != other.storage or self.self_overlap:
            return False
        lo, hi = self.extent()
        o_lo, o_hi = other.extent()
        dense = hi - lo == self.logical_nbytes
        return dense and lo <= o_lo and o_hi <= hi

    @property
    def is_tied(self) -> bool:
        """One parameter at two places of a module (an embedding tied to an output layer);
        not merely one module reached under two names."""
        return self.tied

    @property
    def label(self) -> str:
        return self.names[0] if self.names else f"<{self.id}>"


@dataclass(slots=True)
class OverlapEdge:
    a: str
    b: str
    exact: bool = True  # False: the work bound was reached and "may overlap" is reported


@dataclass(slots=True)
class GroupNode:
    """Tensors folded into one node when a drawing is capped ("model.layers.3.*")."""

    id: str
    label: str
    device: str
    count: int
    nbytes: int
    category: str = ""  # the members' category when they share one, else ""
    # Access paths of the folded tensors, in walk order (what a client lists on expanding)
    members: tuple[str, ...] = ()
    # The group broken down by the rest of the path: (label, count, bytes), biggest first
    parts: tuple[tuple[str, int, int], ...] = ()


@dataclass(slots=True)
class MemoryTotal:
    """Bytes held on one device for one category, every storage counted once, under the
    category of its owner (see ``StorageGraph.totals``)."""

    device: str
    category: str
    nbytes: int
    tensors: int  # tensors/arrays on the storages counted here
    storages: int


N = TypeVar("N")


def _position(
    nodes: Sequence[TensorNode | StorageNode], node_id: str, cache: dict[str, int]
) -> int:
    """Where the node with ``node_id`` sits. A snapshot numbers nodes by position ("t12" is
    the 13th tensor), so no table is needed there; views of a graph keep the ids of the
    graph they came from and use a table."""
    digits = node_id[1:]
    if digits.isdigit():
        p = int(digits)
        if p < len(nodes) and nodes[p].id == node_id:
            return p
    if not cache:
        cache.update((node.id, p) for p, node in enumerate(nodes))
    return cache[node_id]


def nodes_at(nodes: Sequence[N], positions: Sequence[int]) -> tuple[N, ...]:
    """``tuple(nodes[p] for p in positions)``, without building a node twice."""
    if isinstance(nodes, RowNodes):
        return nodes.at(positions)
    return tuple(map(nodes.__getitem__, positions))


def _numbered(node_id: str, prefix: str, count: int) -> int:
    digits = node_id[1:]
    if node_id[:1] == prefix and digits.isdigit() and int(digits) < count:
        return int(digits)
    raise KeyError(node_id)


def _all_numbered(node_ids: list[str], prefix: str, count: int) -> list[int]:
    """``_numbered`` of many ids, in C-level passes when all are well formed (a rebuilt list
    of rows marks thousands of nodes)."""
    if all(map(str.isdigit, map(_digits, node_ids))) and all(
        map(prefix.__eq__, map(_first, node_ids))
    ):
        positions = list(map(int, map(_digits, node_ids)))
        if max(positions, default=-1) < count:
            return positions
    return [_numbered(node_id, prefix, count) for node_id in node_ids]  # raises for a bad one


_first, _digits = operator.itemgetter(slice(None, 1)), operator.itemgetter(slice(1, None))


class RowNodes(Sequence[N]):
    """The nodes of a snapshot's table rows, each built from the table (plain data) the first
    time it is asked for: a cell that changed one name among ten thousand builds the few
    nodes it draws, not ten thousand. Nothing here can go stale: the table holds every field,
    read when the snapshot was taken."""

    __slots__ = ("_build", "_count", "_nodes")

    def __init__(
        self, count: int, build: Callable[[int], N], built: dict[int, N] | None = None
    ) -> None:
        self._build = build
        self._count = count
        # Only the few built: no list of ten thousand Nones. ``built``: nodes known already
        # (those of the last cell's rows that did not change).
        self._nodes: dict[int, N] = built if built is not None else {}

    def built(self) -> dict[int, N]:
        """The nodes built so far, by position (a copy)."""
        return dict(self._nodes)

    def at(self, positions: Sequence[int]) -> tuple[N, ...]:
        """The nodes at ``positions``: those built already looked up in one C-level pass
        (what a drawing keeps from one cell to the next), the others built now."""
        found = list(map(self._nodes.get, positions))
        for k in compress(range(len(found)), map(operator.is_, found, repeat(None))):
            found[k] = self[positions[k]]
        return tuple(cast(list[N], found))

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, i: int) -> N: ...

    @overload
    def __getitem__(self, i: slice) -> tuple[N, ...]: ...

    def __getitem__(self, i: int | slice) -> N | tuple[N, ...]:
        if isinstance(i, slice):
            return tuple(self[j] for j in range(*i.indices(self._count)))
        if i < 0:
            i += self._count
        if not 0 <= i < self._count:
            raise IndexError(i)
        node = self._nodes.get(i)
        if node is None:
            node = self._nodes[i] = self._build(i)
        return node

    def __iter__(self) -> Iterator[N]:
        for i in range(self._count):
            yield self[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"RowNodes({self._count} nodes)"


def _known_bytes(sizes: Iterable[int]) -> int:
    """The sum of the sizes that are known (-1: unknown), in one C-level pass."""
    return sum(filter((0).__lt__, sizes))


def _counted(values: Sequence[str]) -> Counter[str]:
    """``Counter(values)``; one distinct value (a namespace on one device) in one C-level
    pass, without a count per value."""
    if values and values.count(values[0]) == len(values):  # compared by identity first
        return Counter({values[0]: len(values)})
    return Counter(values)


@dataclass(frozen=True, slots=True)
class HeldCounts:
    """What memory totals start from: tensors by device and by category, tensors on a
    storage, bytes of the storages of known size."""

    devices: Counter[str]
    categories: Counter[str]
    tensors_on_storages: int
    nbytes: int

    def replaced(
        self, last: GraphIndex, old_rows: range, old_storages: range,
        index: GraphIndex, rows: range, storages: range,
    ) -> HeldCounts:
        """These counts of ``last`` with its rows ``old_rows`` and storages ``old_storages``
        replaced by ``index``'s ``rows`` and ``storages``."""
        assert last.facts_at is not None and index.facts_at is not None
        (old_devices, old_categories), (devices, categories) = last.facts_at(), index.facts_at()
        device_counts, category_counts = self.devices.copy(), self.categories.copy()
        device_counts.subtract(old_devices[old_rows.start:old_rows.stop])
        category_counts.subtract(old_categories[old_rows.start:old_rows.stop])
        device_counts.update(devices[rows.start:rows.stop])
        category_counts.update(categories[rows.start:rows.stop])
        held = sum(last.tensor_storage[p] >= 0 for p in old_rows)
        nbytes = _known_bytes(map(last.storage_nbytes.__getitem__, old_storages))
        return HeldCounts(
            +device_counts, +category_counts,  # (unary + drops the counts that reached 0)
            self.tensors_on_storages - held + sum(index.tensor_storage[p] >= 0 for p in rows),
            self.nbytes - nbytes
            + _known_bytes(map(index.storage_nbytes.__getitem__, storages)),
        )


@dataclass(frozen=True, slots=True)
class ReplacedRows:
    """A patched index's rows ``rows`` that were its parent's ``old_rows``, on its storages
    ``storages`` that were the parent's ``old_storages`` (every other row and storage is the
    parent's, with the same rows on it): what a diff of the two looks at."""

    parent: object  # the parent index's ``token``
    old_rows: range
    rows: range
    old_storages: range
    storages: range
    old_uids: tuple[int, ...]  # the serial numbers of the objects there before
    uids: tuple[int, ...]  # and now

    def fresh(self) -> set[int]:
        """Objects not in the parent (each object is one row: the other rows are the
        parent's other objects)."""
        return set(self.uids).difference(self.old_uids)

    def gone(self) -> set[int]:
        return set(self.old_uids).difference(self.uids)


@dataclass(frozen=True, slots=True)
class KeptDrawing:
    """What a view drew of the graph of an index (the node cap's tensors, storages, edges,
    groups and notes), with the rows it looked at, ascending. A patched index keeps the
    drawings its patch cannot have changed (``keep_from``)."""

    rows: Sequence[int]
    drawing: Any


def _untouched(ascending: Sequence[int], replaced: range, moved: bool) -> bool:
    """Does a patch that replaced ``replaced`` leave the positions ``ascending`` as they were:
    none of them replaced, and none after the replaced ones when those changed in number
    (``moved``: the positions after them moved)?"""
    i = bisect_left(ascending, replaced.start)
    return i == len(ascending) or (not moved and ascending[i] >= replaced.stop)


@dataclass(slots=True)
class GraphIndex:
    """Columns by position that the per-cell work reads instead of building every node.

    ``tensor_storage[p]`` is the position in ``graph.storages`` of tensor ``p``'s storage (-1:
    none); ``shared`` maps the storages viewed by two or more tensors to their tensors.
    """

    tensor_uids: Sequence[int]
    tensor_storage: Sequence[int]
    storage_nbytes: Sequence[int]  # -1: unknown
    storage_first: Sequence[int]  # position of each storage's first tensor
    shared: dict[int, list[int]]
    # Tensors always worth drawing: those that overlap themselves, have no strided storage,
    # or are tied parameters.
    special: list[int]
    named: list[int]  # tensors that may have a top-level name (the others are item paths)
    # The access paths of the tensor at a position, without building its node (a diff names
    # tensors of the previous cell, which may be gone by now).
    names_at: Callable[[int], tuple[str, ...]]
    # Device and category of every tensor by position, for memory totals, without nodes
    facts_at: Callable[[], tuple[Sequence[str], Sequence[str]]] | None = None
    ids_by_position: bool = False  # tensor p's id is "t<p>" (a snapshot), not looked up
    one_tensor_per_storage: bool = False  # tensor p alone on storage p (a snapshot's common case)
    unallocated: Sequence[int] = ()  # tensors on storages that hold no memory (fake tensors)
    # (label, device, count, logical bytes) of the tensors at ascending positions, in runs,
    # without building their nodes: what a capped drawing's "N more" groups add up. A label
    # may end in a wildcard (``ts[*]``): groups look only at what comes before its last part.
    fold_at: Callable[[Sequence[int]], list[tuple[str, str, int, int]]] | None = None
    # ``storage_nbytes`` as a numpy column, when the build has one: totals and the biggest
    # storages are then numpy passes, not loops over a list.
    nbytes_column: Any = None
    # Who this index is: a patched index names its parent by it (holding nothing else of it).
    token: object = field(default_factory=object)
    # A patched build's rows that differ from its parent's (see ``keep_from``).
    replaced: ReplacedRows | None = None
    # Drawings a view made of this graph, by what else they depend on (a view's cap, its
    # marks): a cell that changes a few rows beside a thousand drawn views of one matrix
    # draws them again only when its patch touched them. Benchmark row: "one name changes
    # beside 10,000 tensors and 1,000 views of one matrix".
    drawings: dict[Any, KeptDrawing] = field(default_factory=dict)
    _uid_set: set[int] | None = None
    _largest: int | None = None
    _held: HeldCounts | None = None
    _shared_uids: dict[int, tuple[int, ...]] | None = None
    _shared_rows: list[int] | None = None

    def label(self, p: int) -> str:
        names = self.names_at(p)
        return names[0] if names else f"<t{p}>"

    def fold(
        self, graph: StorageGraph, positions: Sequence[int]
    ) -> list[tuple[str, str, int, int]]:
        """(label, device, count, logical bytes) of the tensors at ascending ``positions``;
        see ``fold_at``."""
        if self.fold_at is not None:
            return self.fold_at(positions)
        tensors = map(graph.tensors.__getitem__, positions)
        return [(t.label, t.device, 1, t.logical_nbytes) for t in tensors]

    def facts(self, graph: StorageGraph) -> tuple[Sequence[str], Sequence[str]]:
        """Device and category of every tensor, by position; see ``facts_at``."""
        if self.facts_at is not None:
            return self.facts_at()
        return [t.device for t in graph.tensors], [t.category for t in graph.tensors]

    def shared_uids(self) -> dict[int, tuple[int, ...]]:
        """Each shared storage's tensors as serial numbers (kept, like ``uid_set``): sharing
        with the same members in two graphs is unchanged sharing."""
        if self._shared_uids is None:
            uid_at = self.tensor_uids.__getitem__
            self._shared_uids = {
                s: tuple(map(uid_at, members)) for s, members in self.shared.items()
            }
        return self._shared_uids

    def shared_rows(self) -> list[int]:
        """The tensors on shared storages, ascending (kept: every view draws them all; never
        changed by its readers)."""
        if self._shared_rows is None:
            self._shared_rows = sorted(chain.from_iterable(self.shared.values()))
        return self._shared_rows

    def forget_drawings(self) -> None:
        """Drop what views kept on this index (drawings, the tensors on shared storages), as
        if none had been drawn: a benchmark's baseline draws from nothing."""
        self.drawings = {}
        self._shared_rows = None

    def uid_set(self) -> set[int]:
        """Kept: a graph is diffed as the new one, then again as the old one."""
        if self._uid_set is None:
            self._uid_set = set(self.tensor_uids)
        return self._uid_set

    def keep_from(
        self, last: GraphIndex, old_rows: range, rows: range, old_storages: range,
        storages: range,
    ) -> None:
        """Carry ``last``'s kept answers over to this index, which is ``last`` but for its
        tensors at ``old_rows`` and storages at ``old_storages``, here at ``rows`` and
        ``storages`` (a patched build): only what those change is worked out again."""
        if (
            last._shared_rows is not None and len(old_rows) == len(rows)
            and not any(s in last.shared for s in old_storages)
            and not any(s in self.shared for s in storages)
        ):  # the same tensors, at the same positions, on the same shared storages
            self._shared_rows = last._shared_rows
        if last._shared_uids is not None:
            kept = last._shared_uids
            if any(s in kept for s in old_storages) or any(s in self.shared for s in storages):
                uid_at = self.tensor_uids.__getitem__
                self._shared_uids = {
                    s: kept[s] if s not in storages else tuple(map(uid_at, members))
                    for s, members in self.shared.items()
                }
            else:  # the replaced storages are not shared: the same storages are
                self._shared_uids = dict(kept)
        self.replaced = ReplacedRows(
            last.token, old_rows, rows, old_storages, storages,
            tuple(last.tensor_uids[old_rows.start:old_rows.stop]),
            tuple(self.tensor_uids[rows.start:rows.stop]),
        )
        if last._uid_set is not None:
            # Taken over, not copied (ten thousand serial numbers): an object is one row, so
            # the other rows' objects are the parent's other rows'. The parent works its set
            # out again if it is ever asked.
            uids, last._uid_set = last._uid_set, None
            uids.difference_update(self.replaced.gone())
            uids.update(self.replaced.fresh())
            self._uid_set = uids
        if last.drawings:
            # The other rows' storages are not the replaced ones, and storages are numbered by
            # their first row: rows before the replaced ones keep their storages' numbers
            # even when the replaced storages changed in number.
            moved = len(old_rows) != len(rows) or len(old_storages) != len(storages)
            self.drawings = {
                key: kept for key, kept in last.drawings.items()
                if _untouched(kept.rows, old_rows, moved)
            }
        if last._held is not None and last.facts_at is not None and self.facts_at is not None:
            self._held = last._held.replaced(last, old_rows, old_storages, self, rows, storages)

    def held(self, graph: StorageGraph) -> HeldCounts:
        """How many tensors there are of each device and category, how many are on a
        storage, and the bytes of the storages (kept; a patched index carries it over)."""
        if self._held is None:
            devices, categories = self.facts(graph)
            storage_of = self.tensor_storage
            self._held = HeldCounts(
                _counted(devices), _counted(categories),
                len(storage_of) - storage_of.count(-1),
                _known_bytes(self.storage_nbytes) if self.nbytes_column is None
                else int(self.nbytes_column[self.nbytes_column > 0].sum()),
            )
        return self._held

    def largest_storage(self) -> int:
        if self._largest is None:
            column = self.nbytes_column
            self._largest = (
                max(self.storage_nbytes, default=-1) if column is None
                else int(column.max()) if len(column) else -1
            )
        return self._largest

    @classmethod
    def of(cls, graph: StorageGraph) -> GraphIndex:
        """Built from the nodes: for the small graphs that views and tests make."""
        pos = {s.id: p for p, s in enumerate(graph.storages)}
        tensor_storage = [pos.get(t.storage, -1) if t.storage else -1 for t in graph.tensors]
        members: dict[int, list[int]] = {}
        for p, s in enumerate(tensor_storage):
            if s >= 0:
                members.setdefault(s, []).append(p)
        return cls(
            tensor_uids=[t.uid for t in graph.tensors],
            tensor_storage=tensor_storage,
            storage_nbytes=[-1 if s.nbytes is None else s.nbytes for s in graph.storages],
            storage_first=[members[p][0] if p in members else -1
                           for p in range(len(graph.storages))],
            shared={s: m for s, m in members.items() if len(m) > 1},
            special=[p for p, t in enumerate(graph.tensors)
                     if t.self_overlap or t.layout != "strided" or t.tied],
            named=list(range(len(graph.tensors))),
            names_at=lambda p: graph.tensors[p].names,
        )

    def tensor_id(self, graph: StorageGraph, p: int) -> str:
        return f"t{p}" if self.ids_by_position else graph.tensors[p].id

    def tensor_ids(self, graph: StorageGraph, positions: Iterable[int]) -> list[str]:
        """``tensor_id`` of each of ``positions``."""
        if self.ids_by_position:
            return [f"t{p}" for p in positions]
        return [graph.tensors[p].id for p in positions]

    def storage_ids(self, graph: StorageGraph, positions: Iterable[int]) -> list[str]:
        """``storage_id`` of each of ``positions``."""
        if self.ids_by_position:
            return [f"s{s}" for s in positions]
        return [graph.storages[s].id for s in positions]


@dataclass(frozen=True)
class StorageGraph:
    storages: Sequence[StorageNode] = ()
    tensors: Sequence[TensorNode] = ()
    overlaps: tuple[OverlapEdge, ...] = ()
    problems: tuple[str, ...] = ()  # one short line per object that could not be read
    truncated: tuple[str, ...] = ()  # where a walk bound cut the graph short
    notes: tuple[str, ...] = ()  # insights and what a view left out, one line each
    groups: tuple[GroupNode, ...] = ()
    marks: tuple[tuple[str, str], ...] = ()  # (node id, why it is highlighted)
    rank: int | None = None  # this process's rank when a torch.distributed group is up
    world_size: int | None = None
    # Memory of the whole graph the view was made from (set by the view): allocated bytes
    # by device and category, and what meta/fake storages would hold (by device, category
    # "not allocated")
    totals: tuple[MemoryTotal, ...] = ()
    not_allocated: tuple[MemoryTotal, ...] = ()
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    _storage_index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    # Set by the snapshot that built the graph; views of a graph leave it out (None).
    columns: GraphIndex | None = field(default=None, compare=False, repr=False)

    def index(self) -> GraphIndex:
        if self.columns is None:
            object.__setattr__(self, "columns", GraphIndex.of(self))
        assert self.columns is not None
        return self.columns

    def tensor(self, tensor_id: str) -> TensorNode:
        return self.tensors[self.tensor_position(tensor_id)]

    def tensor_position(self, tensor_id: str) -> int:
        if self._numbered_by_position():
            return _numbered(tensor_id, "t", len(self.tensors))
        return _position(self.tensors, tensor_id, self._index)

    def storage_position(self, storage_id: str) -> int:
        if self._numbered_by_position():
            return _numbered(storage_id, "s", len(self.storages))
        return _position(self.storages, storage_id, self._storage_index)

    def tensor_positions(self, tensor_ids: Iterable[str]) -> list[int]:
        """``tensor_position`` of each of ``tensor_ids``."""
        ids = list(tensor_ids)
        if self._numbered_by_position():
            return _all_numbered(ids, "t", len(self.tensors))
        return [_position(self.tensors, i, self._index) for i in ids]

    def storage_positions(self, storage_ids: Iterable[str]) -> list[int]:
        """``storage_position`` of each of ``storage_ids``."""
        ids = list(storage_ids)
        if self._numbered_by_position():
            return _all_numbered(ids, "s", len(self.storages))
        return [_position(self.storages, i, self._storage_index) for i in ids]

    def _numbered_by_position(self) -> bool:
        """A snapshot: "t12" is the 13th tensor and "s3" the 4th storage, read without
        building a node."""
        return self.columns is not None and self.columns.ids_by_position

    def by_name(self, name: str) -> TensorNode | None:
        # Top-level names first: a big snapshot builds no node for its item paths to find one.
        for p in self.index().named:
            if name in self.tensors[p].names:
                return self.tensors[p]
        for t in self.tensors:
            if name in t.names:
                return t
        return None

    def views_of(self, storage_id: str) -> list[TensorNode]:
        return [t for t in self.tensors if t.storage == storage_id]

    def overlapping(self, a_name: str, b_name: str) -> bool:
        """Do the tensors named ``a_name`` and ``b_name`` share at least one element?"""
        a, b = self.by_name(a_name), self.by_name(b_name)
        if a is None or b is None:
            raise KeyError(a_name if a is None else b_name)
        if a.id == b.id:
            return a.numel > 0
        return any({e.a, e.b} == {a.id, b.id} for e in self.overlaps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "storages": [
                {
                    "id": s.id, "device": s.device, "nbytes": s.nbytes, "pinned": s.pinned,
                    "libraries": list(s.libraries), "allocated": s.allocated,
                    "owner": s.owner,
                }
                for s in self.storages
            ],
            "tensors": [
                {
                    "id": t.id, "names": list(t.names), "library": t.library,
                    "type": t.type_name, "storage": t.storage, "shape": list(t.shape),
                    "stride": None if t.stride is None else list(t.stride),
                    "offset": t.offset, "byte_offset": t.byte_offset,
                    "stride_bytes": list(t.stride_bytes), "dtype": t.dtype,
                    "itemsize": t.itemsize, "device": t.device, "layout": t.layout,
                    "base": t.base, "requires_grad": t.requires_grad,
                    "is_parameter": t.is_parameter, "tied": t.tied,
                    "self_overlap": t.self_overlap, "logical_nbytes": t.logical_nbytes,
                    "dtensor": t.dtensor.to_dict() if t.dtensor is not None else None,
                    "flat_param": t.flat_param.to_dict() if t.flat_param is not None else None,
                    "unsharded": t.unsharded.to_dict() if t.unsharded is not None else None,
                    "category": t.category,
                }
                for t in self.tensors
            ],
            "overlaps": [{"a": e.a, "b": e.b, "exact": e.exact} for e in self.overlaps],
            "problems": list(self.problems),
            "truncated": list(self.truncated),
            "notes": list(self.notes),
            "groups": [
                {"id": g.id, "label": g.label, "device": g.device, "count": g.count,
                 "nbytes": g.nbytes, "category": g.category, "members": list(g.members),
                 "parts": [{"label": label, "count": count, "nbytes": nbytes}
                           for label, count, nbytes in g.parts]}
                for g in self.groups
            ],
            "marks": [{"id": node, "why": why} for node, why in self.marks],
            "rank": self.rank,
            "world_size": self.world_size,
            "totals": [_total_dict(t) for t in self.totals],
            "not_allocated": [_total_dict(t) for t in self.not_allocated],
        }

    def to_json(self, indent: int | None = None) -> str:
        if indent is None:  # compact: what notebooks and live files store
            return json.dumps(self.to_dict(), separators=(",", ":"))
        return json.dumps(self.to_dict(), indent=indent)

    def to_dot(self) -> str:
        from tensorviews.render.dot import render_dot

        return render_dot(self)

    def to_svg(self) -> str:
        from tensorviews.render.dot import render_svg

        return render_svg(self.to_dot())

    def to_text(self) -> str:
        from tensorviews.render.text import render_text

        return render_text(self)

    def subgraph(self, names: list[str]) -> StorageGraph:
        """Tensors whose access paths start with one of ``names``, plus everything sharing
        a storage with them (``model.encoder`` selects ``model.encoder.layers.0.weight``).
        Matched on the index's names: only the selected nodes are built."""

        def matches(path: str) -> bool:
            return any(
                path == n or path.startswith((n + ".", n + "[")) for n in names
            )

        index = self.index()
        picked = {
            p for p in range(len(self.tensors)) if any(map(matches, index.names_at(p)))
        }
        storages = {index.tensor_storage[p] for p in picked} - {-1}
        for s in storages:
            picked.update(index.shared.get(s, [index.storage_first[s]]))
        keep = [self.tensors[p] for p in sorted(picked)]
        keep_ids = {t.id for t in keep}
        storage_ids = {self.storages[s].id for s in storages}
        return StorageGraph(
            storages=tuple(self.storages[s] for s in sorted(storages)),
            tensors=tuple(keep),
            overlaps=tuple(e for e in self.overlaps if e.a in keep_ids and e.b in keep_ids),
            problems=self.problems,
            truncated=self.truncated,
            notes=self.notes,
            marks=tuple(m for m in self.marks if m[0] in keep_ids or m[0] in storage_ids),
            rank=self.rank,
            world_size=self.world_size,
        )


def _total_dict(t: MemoryTotal) -> dict[str, Any]:
    return {
        "device": t.device, "category": t.category, "nbytes": t.nbytes, "tensors": t.tensors,
        "storages": t.storages,
    }
