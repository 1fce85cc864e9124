"""Build a ``StorageGraph`` from a namespace: the analysis core, no IPython and no graphviz.

One pass, top to bottom: the walk finds the tensors and arrays (``namespace_walk``), the reader
puts their metadata into one columnar table (``table``), and the graph is computed on that
table (``build``). ``snapshot(namespace)`` is the one-shot form (a script, or ``locals()`` in a
debugger); ``Snapshotter`` takes snapshots of one namespace over time and keeps, between calls,
only weak references and plain metadata, so that a cell pays for what it changed:

- the namespace's fingerprint (``fingerprint``): when it is that of the last snapshot and
  nothing died, the last graph is returned as it is (benchmark rows "unchanged");
- per container of plain tensors (and run of top-level names holding them), its rows, keyed
  by the container's id, its tensors' ids and version counters: an unchanged list of 10,000
  tensors is not read again when another name changes (rows "one new name"), and one with a
  few items changed reads those alone (``_Reader.spliced``; row "one name among 10,000
  top-level names");
- per object read one by one, its row, keyed by id, version counter, requires_grad, shape and
  storage;
- overlaps among the views of a shared storage, while their layouts are the same
  (``build.OverlapMemo``; row "10,000 rows of one matrix in a list while another name
  changes");
- the last table and build (``build.GraphBuilds``): a cell that changes a few rows whose
  storages are their own (a name rebound to a new tensor) gets the last table and graph with
  those rows patched in, and the nodes of the other rows already built (rows "one new
  name");
- what the snapshot allocates goes to the collector's oldest generation (``collector``).
"""

from __future__ import annotations

import contextlib
import operator
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import accumulate, compress, repeat
from types import ModuleType
from typing import Any, cast

import numpy as np

from tensorviews.graph.array_meta import (
    ArrayMeta,
    StorageInfo,
    loaded_libraries,
    numpy_meta,
    overlaps_itself,
    torch_meta,
)
from tensorviews.graph.build import (
    BaseReader,
    GraphBuilds,
    RowChange,
    RowsWithin,
    TablePart,
    build_graph,
    without_positions,
)
from tensorviews.graph.collector import CollectorPause
from tensorviews.graph.distributed import NotDrawn, process_group, subclass_change_token
from tensorviews.graph.fingerprint import Fingerprinter, NamesPrint, change_token, versions
from tensorviews.graph.model import StorageGraph
from tensorviews.graph.namespace_walk import (
    BulkCheck,
    BulkFound,
    Found,
    NameFilter,
    Names,
    WalkLimits,
    first_category,
    is_ipython_name,
    walk_namespace,
)
from tensorviews.graph.object_ids import id_column
from tensorviews.graph.problems import Problem, grouped_problems
from tensorviews.graph.table import (
    Columns,
    Flags,
    Ints,
    MetaTable,
    NameRun,
    RowNames,
    column_replaced,
    columns_of,
    concat,
    read_plain_tensors,
    rows_of,
    rows_replaced,
    spliced,
)


@dataclass(slots=True, eq=False)  # one object's row: compared by identity
class _Single:
    """An object read one by one, as kept from one snapshot to the next."""

    ref: weakref.ReferenceType[Any]
    check: tuple[Any, ...]  # what must be equal for the row to be reused
    meta: ArrayMeta
    self_overlap: bool
    version: int  # -1: none (arrays, inference tensors)
    uid: int  # serial number of the live object: stable across cells, never reused


@dataclass(slots=True, eq=False)  # one container's rows: compared by identity
class _Block:
    """A container of plain tensors read column-wise, as kept from one snapshot to the next."""

    check: BulkCheck
    id_set: set[int]
    refs: tuple[weakref.ReferenceType[Any], ...]
    # The weak references of its tensors that died, appended by callbacks. A block made from
    # the last one (``_Reader.spliced``) shares its list: its first ``settled`` entries are
    # the last block's tensors that this one does not hold.
    deaths: list[Any]
    uids: Sequence[int]  # a range when all of them were new
    columns: Columns
    id_column: Ints  # the ids and serial numbers again, as the table's columns take them
    uid_column: Ints
    settled: int = 0
    # Who it is in the parts of a table (``_parts``): the build keeps the last parts, and
    # holding the block there would keep its weak references (and columns) a cell longer.
    token: object = field(default_factory=object)
    # Made from a block of the last snapshot (its token and keys), its rows ``start <= i <
    # stop`` read again (they were ``start <= i < old_stop`` there); the others are that
    # block's.
    origin: tuple[object, tuple[Any, ...] | None] | None = None
    changed: RowsWithin | None = None
    _positions: dict[int, int] | None = None
    # Position -> id of its base (0: none), for the tensors whose base was asked for: a base
    # never changes, and the block is reused only while it holds the same tensors.
    _bases: dict[int, int] = field(default_factory=dict)

    def died(self) -> list[Any]:
        """The weak references of its tensors that died since it was made (maybe some of the
        last block's, not its own: a block made from it holds fewer)."""
        return self.deaths[self.settled:]

    def holds(self, check: BulkCheck | None) -> bool:
        """Does the container whose check this is hold the very tensors read here, unchanged?
        Same ids and versions, and none of them died (after a death, an equal id is a new
        object's: the old one cannot be alive)."""
        return len(self.deaths) == self.settled and check == self.check

    def has_survivors(self) -> bool:
        return len(self.deaths) - self.settled < len(self.refs)

    def base_ids(self, positions: list[int]) -> list[int]:
        """The id of the base of the tensor at each of ``positions`` (0: none)."""
        known = self._bases
        for i in positions:
            if i not in known:
                t = self.refs[i]()  # alive: the snapshot that asks is reading it
                base = t._base if t is not None else None
                known[i] = id(base) if base is not None else 0
        return list(map(known.__getitem__, positions))

    def position(self, obj_id: int) -> int:
        if self._positions is None:
            ids = id_column(self.check.ids).tolist()
            self._positions = dict(zip(ids, range(len(ids)), strict=True))
        return self._positions[obj_id]


@dataclass(slots=True)
class _SingleRow:
    """One object read one by one, at its place in walk order."""

    obj_id: int
    names: tuple[str, ...]
    single: _Single


@dataclass(slots=True)
class _BlockRows:
    """One container read column-wise, at its place in walk order: its names and its block,
    never its tensors (the walk that found them is dropped before the table is built)."""

    name: str
    keys: list[Any] | None
    extra_names: dict[int, Names]
    category: str
    block: _Block
    top_level: bool  # the keys are top-level names
    # item -> its category, for the items also reached another way that it differs for (a
    # buffer also bound to a top-level name)
    extra_categories: dict[int, str]

    @classmethod
    def of(cls, found: BulkFound, block: _Block, categories: Mapping[int, str]) -> _BlockRows:
        return cls(
            found.name, found.keys, found.extra_names, found.category, block, found.top_level,
            _extra_categories(found, categories),
        )


# At most this many items of one container are read again while its other rows are kept
# (and at most half of them): a change beyond that reads the container whole.
SPLICED_ROWS = 1024


class Snapshotter:
    """Takes snapshots of one namespace over time, re-reading only what changed."""

    def __init__(self, limits: WalkLimits | None = None) -> None:
        self.limits = limits or WalkLimits()
        self._singles: dict[int, _Single] = {}  # id(obj) -> its row, for objects read one by one
        self._blocks: dict[int, _Block] = {}  # id(container) -> its rows
        self._reread = False  # set by invalidate(): no container is reused as it was
        self._last_signature: list[Any] | None = None
        self._last_graph: StorageGraph | None = None
        self._next_uid = 1
        self._last_fingerprint: NamesPrint | None = None
        self._names_print: NamesPrint | None = None  # the last one taken, for its categories
        self._builds = GraphBuilds()
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

    @property
    def names_seen(self) -> tuple[list[Any], tuple[type, ...]] | None:
        """The top-level names the last snapshot walked and their values' types, or None
        when it could not fingerprint the namespace. Holds no user object."""
        names_print = self._names_print
        return None if names_print is None else (names_print.keys, names_print.types)

    def invalidate(self) -> None:
        """Make the next snapshot a full walk that reads every container again (an explicit
        request, or new limits)."""
        self._last_fingerprint = None
        self._reread = True  # containers are read again, but who is who is kept (uids)

    def _snapshot(self, namespace: Mapping[str, Any], skip: Callable[[str], bool]) -> StorageGraph:
        torch, np_mod = loaded_libraries()
        known = {
            container_id: block.check
            for container_id, block in self._blocks.items()
            if not block.died() and block.check.keys is None  # sequences; dicts are checked whole
        }
        fingerprinter = Fingerprinter(torch, np_mod, self.limits.probe_items, known)
        # The names walked and their values (user objects: dropped with the walk below).
        kept = (
            self._names.kept(cast(dict[Any, Any], namespace), skip)
            if issubclass(type(namespace), dict) else None
        )
        # After a death, an equal id may be a new object's: what the last print read of its
        # tensors (which require grad, which share a counter) is read again.
        died = bool(self._deaths) or any(block.died() for block in self._blocks.values())
        try:
            names_print = (
                fingerprinter.namespace(*kept, self._names_print, died)
                if kept is not None else None
            )
        except Exception:  # a hostile object: no shortcut, the careful walk below copes
            names_print = None
        self._names_print = names_print
        if (
            names_print is not None
            and not died
            and names_print == self._last_fingerprint
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
        # tensors died: not typed or checked for gradients again (see the fingerprint for what
        # a container's check does not see), unless a full look was asked for.
        unchanged = (
            {}
            if self._reread
            else {
                container_id: block.id_set
                for container_id, block in self._blocks.items()
                if block.holds(fingerprinter.columns.get(container_id))
            }
        )
        walk = walk_namespace(
            namespace, torch, np_mod, self.limits, skip, report, fingerprinter.columns, unchanged,
            kept,
        )
        del kept
        # Everything below allocates in proportion to what is read: promoted when it is big.
        # An unchanged container is not read again; one read last time is counted when it is
        # read (whole, or its changed items alone: ``_Reader.read_bulk``).
        self._collector.will_keep(len(walk.found) + sum(
            len(b.items) for b in walk.bulks
            if b.container_id not in self._blocks or self._reread
        ))
        reader = _Reader(self, torch, np_mod, problems)
        # Rows in walk order: a container found after n single objects sorts before the n-th.
        ordered: list[tuple[tuple[int, int, int], _SingleRow | _BlockRows]] = []
        for position, (obj_id, found) in enumerate(walk.found.items()):
            row = reader.read(obj_id, found)
            if row is not None:
                ordered.append(((position, 1, 0), row))
        for k, bulk in enumerate(walk.bulks):
            block = reader.read_bulk(bulk, unchanged, fingerprinter)
            if block is None:  # exotic tensors among them: one by one after all
                for i, (obj_id, obj) in enumerate(zip(bulk.ids.tolist(), bulk.items, strict=True)):
                    names = bulk.extra_names.get(i) or Names([bulk.item_name(i)])
                    walk.note_category(obj_id, bulk.category)  # as the walk's item by item
                    row = reader.read(obj_id, Found(obj, names))
                    if row is not None:
                        ordered.append(((bulk.after, 0, k), row))
                continue
            ordered.append(((bulk.after, 0, k), _BlockRows.of(bulk, block, walk.categories)))
        truncated = walk.truncated
        tied = frozenset(walk.tied)
        categories = walk.categories
        del walk  # the walk holds the user's objects: nothing below needs them
        self._singles, self._blocks = reader.singles, reader.blocks
        for block in self._blocks.values():
            # The last blocks are gone: what died of theirs is no longer looked at (a name
            # rebound every cell would add one dead reference per cell).
            if block.settled:
                del block.deaths[:block.settled]
                block.settled = 0
        self._reread = False
        ordered.sort(key=lambda item: item[0])
        rows = [row for _, row in ordered]
        signature: list[Any] = [
            (row.obj_id, row.names) if isinstance(row, _SingleRow)
            else (row.block.token, row.name,
                  tuple((i, names.shown()) for i, names in row.extra_names.items()),
                  row.extra_categories)
            for row in rows
        ]
        signature.append(tied)
        if (
            not reader.changed
            and not problems
            and not truncated
            and self._last_graph is not None
            and signature == self._last_signature
        ):
            self._last_fingerprint = names_print
            return self._in_group(self._last_graph, torch)
        parts = _parts(rows, categories, tied)
        change = self._builds.change(parts)
        table = _table(rows, categories, tied, self._builds.last_table(), change)
        graph = build_graph(
            table, grouped_problems(problems), truncated, self._builds, parts, change,
            _base_reader(rows),
        )
        graph = self._in_group(graph, torch)
        self._last_signature = signature
        self._last_graph = graph
        self._last_fingerprint = names_print
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

    def new_uids(self, n: int) -> range:
        uids = range(self._next_uid, self._next_uid + n)
        self._next_uid += n
        return uids


class _Reader:
    """Reads one snapshot's objects into rows, reusing the last snapshot's rows of what did
    not change, and gives each object its serial number (the last one's, if it was there)."""

    def __init__(
        self,
        snapshotter: Snapshotter,
        torch: ModuleType | None,
        np_mod: ModuleType | None,
        problems: list[Problem],
    ) -> None:
        self.snapshotter = snapshotter
        self.torch, self.np = torch, np_mod
        self.problems = problems
        self.old_singles = snapshotter._singles
        self.old_blocks = snapshotter._blocks
        self.singles: dict[int, _Single] = {}
        self.blocks: dict[int, _Block] = {}
        self.changed = False
        self.storages: StorageInfo = {}
        self.tensor_type = torch.Tensor if torch is not None else None
        self.storage_id = getattr(torch._C, "_storage_id", None) if torch is not None else None

    def read(self, obj_id: int, found: Found) -> _SingleRow | None:
        obj = found.obj
        try:
            version = -1
            if self.tensor_type is not None and issubclass(type(obj), self.tensor_type):
                # Every in-place write or metadata change (resize_, set_, t_) bumps the
                # version counter shared by all views; `.data =` swaps the storage.
                # Inference tensors have no version counter: their layout is compared.
                token = change_token(obj)
                version = token if type(token) is int else -1
                check: tuple[Any, ...] = (
                    token, obj.requires_grad, obj.shape, _storage_token(obj, self.storage_id),
                )
                # A DTensor's local tensor may be written or swapped under the same wrapper.
                if type(obj) is not self.tensor_type and self.torch is not None:
                    check += subclass_change_token(obj, self.torch)
            else:
                check = (obj.shape, obj.strides, obj.dtype)
            single = self.old_singles.get(obj_id)
            same_object = single is not None and single.ref() is obj
            if single is None or not same_object or single.check != check:
                uid = single.uid if single is not None and same_object else self.uid_of(
                    obj_id, obj
                )
                meta = self._meta(obj)
                if single is not None and same_object and meta == single.meta:
                    # Written in place (an optimizer's step, ``x.add_(1)``): its version moved,
                    # its row did not. The same row, checked against the new version.
                    single.check = check
                else:
                    ref = weakref.ref(obj, self.snapshotter._deaths.append)
                    single = _Single(ref, check, meta, overlaps_itself(meta), version, uid)
                    self.changed = True
        except Exception as exc:
            self.problems.append(
                Problem(found.names.first[0], type(obj).__name__, "not drawn", _reason(exc))
            )
            self.changed = True
            return None
        self.singles[obj_id] = single
        return _SingleRow(obj_id, found.names.shown(), single)

    def _meta(self, obj: Any) -> ArrayMeta:
        if self.torch is not None and issubclass(type(obj), self.torch.Tensor):
            return torch_meta(obj, self.torch, self.storages)
        assert self.np is not None
        return numpy_meta(obj, self.np)

    def read_bulk(
        self, found: BulkFound, unchanged: Mapping[int, set[int]], fingerprinter: Fingerprinter
    ) -> _Block | None:
        """A container of plain tensors: reused whole when unchanged, else read column-wise.
        None: exotic tensors among them, to be read one by one."""
        if self.torch is None:
            return None
        old = self.old_blocks.get(found.container_id)
        if found.container_id in unchanged and old is not None:  # checked before the walk
            self.blocks[found.container_id] = old
            return old
        keys = tuple(found.keys) if found.keys is not None else None
        check = fingerprinter.columns.get(found.container_id)
        if check is None or check.keys != keys:
            # The ids the walk read (the fingerprint's, or its own): not read again.
            check = BulkCheck(keys, found.ids.tobytes(), versions(found.items))
        if old is not None and not self.snapshotter._reread:
            # Top-level names are checked for ``.data =`` swaps whenever the namespace
            # changed, as those read one by one are: through ``spliced``.
            spliced = (
                old if old.holds(check) and not found.top_level
                else self.spliced(old, found, check)
            )
            if spliced is not None:
                self.blocks[found.container_id] = spliced
                self.changed = self.changed or spliced is not old
                return spliced
            self.snapshotter._collector.will_keep(len(found.items))  # not counted before
        n = len(found.items)
        columns = read_plain_tensors(
            found.items, check.versions, self.torch, found.requires_grad
        )
        if columns is None:
            return None
        deaths: list[Any] = []
        refs = tuple(map(weakref.ref, found.items, repeat(deaths.append, n)))
        uids = self.uids_of(found)
        block = _Block(
            check, found.id_set, refs, deaths, uids, columns,
            id_column(check.ids),
            np.arange(uids.start, uids.stop, dtype=np.int64) if isinstance(uids, range)
            else np.fromiter(uids, dtype=np.int64, count=n),
        )
        self.blocks[found.container_id] = block
        self.changed = True
        return block

    def spliced(self, old: _Block, found: BulkFound, check: BulkCheck) -> _Block | None:
        """The container's block made from its last one when only a few of its items changed
        (a name rebound among ten thousand top-level names, ``ts[5] = t``, ``ts.append(t)``):
        those read again, the others' rows copied; ``old`` itself when none changed. An item
        changed when it is another object (another id, or the last one died: a new object at
        its address), its version counter (unless most moved: a write in place, the strides
        compared instead), data address, shape or ``requires_grad`` moved, or it was
        appended. None when the keys moved or many items changed."""
        assert self.torch is not None
        n, n_old = len(check.versions), len(old.check.versions)
        m = min(n, n_old)
        if (check.keys is None) != (old.check.keys is None) or (
            check.keys is not None and old.check.keys is not None
            and check.keys[:m] != old.check.keys[:m]
        ):
            return None
        limit = min(SPLICED_ROWS, n // 2)
        changed = set(np.flatnonzero(
            id_column(check.ids)[:m] != id_column(old.check.ids)[:m]
        ).tolist())
        if len(changed) + n - m > limit:
            return None
        moved = list(compress(range(m), map(operator.ne, check.versions, old.check.versions)))
        # Many versions moved under the same tensors: written in place (a view of one matrix
        # each, and the matrix written), which moves no layout, or a layout changed in place
        # (``t_()``, ``unsqueeze_()``), which the layout's columns tell: compared below, with
        # the strides, instead of reading every moved tensor again.
        written = len(changed) + len(moved) + n - m > limit
        if not written:
            changed.update(moved)
        items = found.items[:m]
        tensor = self.torch.Tensor
        try:
            # ``t.data = u`` swaps the memory without a version bump: it shows at the
            # container's next change, as when the container is read whole.
            starts = np.fromiter(map(tensor.data_ptr, items), dtype=np.int64, count=m)
            changed.update(np.flatnonzero(starts != old.columns.start[:m]).tolist())
            # ... and one that keeps the address (a view of the same memory) moves the shape.
            changed.update(compress(
                range(m), map(operator.ne, map(_shape_of, items), old.columns.shape)
            ))
            if written:
                strides = _element_strides(old.columns, m)
                if strides is None:
                    return None
                changed.update(compress(
                    range(m), map(operator.ne, map(tensor.stride, items), strides)
                ))
        except RuntimeError:
            return None
        # ``requires_grad_()`` bumps no version either: the walk read the flags.
        if found.requires_grad is not None:
            flags = np.fromiter(found.requires_grad, dtype=np.bool_, count=n)[:m]
            changed.update(np.flatnonzero(flags != old.columns.requires_grad[:m]).tolist())
        dead = old.died()
        if len(changed) + len(dead) + n - m > limit:
            return None
        for ref in dead:
            try:
                i = old.refs.index(ref)  # a dead reference equals itself only
            except ValueError:
                continue  # the last block's, not one of its tensors
            changed.add(i)  # compared equal, it is a new object at a dead one's address
        rows = [*sorted(i for i in changed if i < m), *range(m, n)]
        if not rows:
            if n != n_old:
                return None  # only items dropped from the end: read whole, rarely
            # The same tensors and rows (maybe written in place: checked against the new
            # versions from now on). What died was another block's (a replaced item kept
            # alive elsewhere until now), not to be looked for again.
            old.check = check
            old.settled = len(old.deaths)
            return old
        self.snapshotter._collector.will_keep(len(rows))
        items = list(map(found.items.__getitem__, rows))
        requires_grad = found.requires_grad
        columns = read_plain_tensors(
            items, list(map(check.versions.__getitem__, rows)), self.torch,
            list(map(requires_grad.__getitem__, rows)) if requires_grad is not None else None,
        )
        if columns is None:
            return None
        deaths = old.deaths
        refs = list(old.refs[:n])
        uids = list(old.uids[:n])
        refs.extend(repeat(old.refs[0], n - len(refs)))  # places of the appended items
        uids.extend(repeat(0, n - len(uids)))
        for i, item in zip(rows, items, strict=True):
            uids[i] = self.uid_of(id(item), item)
            refs[i] = weakref.ref(item, deaths.append)
        at = np.array(rows, dtype=np.int64)
        start = rows[0]
        stop = n if n != n_old else rows[-1] + 1
        return _Block(
            check, found.id_set, tuple(refs), deaths, uids,
            rows_replaced(old.columns, n, at, columns),
            id_column(check.ids),  # the ids of all its items
            column_replaced(old.uid_column, n, at, np.fromiter(map(uids.__getitem__, rows),
                                                               np.int64)),
            settled=len(deaths),
            origin=(old.token, old.check.keys),
            changed=RowsWithin(start, stop, n_old if n != n_old else stop),
            _bases=_kept_bases(old._bases, n, n_old, changed),
        )

    def uid_of(self, obj_id: int, obj: Any) -> int:
        """The object's serial number if it was in the last snapshot, else a new one."""
        single = self.old_singles.get(obj_id)
        if single is not None and single.ref() is obj:
            return single.uid
        for block in self.old_blocks.values():
            if block.has_survivors() and obj_id in block.id_set:
                i = block.position(obj_id)
                if block.refs[i]() is obj:
                    return block.uids[i]
        return self.snapshotter.new_uids(1)[0]

    def uids_of(self, found: BulkFound) -> Sequence[int]:
        """Serial numbers of a container's tensors: new ones unless some of them were in the
        last snapshot (an item appended, the list copied or reordered, a re-read)."""
        id_set = found.id_set
        previous = [b for b in self.old_blocks.values() if b.has_survivors()]
        seen = not id_set.isdisjoint(self.old_singles) or any(
            not id_set.isdisjoint(b.id_set) for b in previous
        )
        if not seen:
            return self.snapshotter.new_uids(len(found.ids))
        return tuple(map(self.uid_of, found.ids.tolist(), found.items))


def _table(
    rows: Sequence[_SingleRow | _BlockRows],
    categories: Mapping[int, str],
    tied: frozenset[int],
    last: MetaTable | None = None,
    change: RowChange | None = None,
) -> MetaTable:
    """The rows of one snapshot in walk order, as one table. Given the last snapshot's table
    and where this one differs from it (``change``), the columns of the other rows are
    copied from it rather than joined again."""
    parts: list[Columns] = []
    runs: list[NameRun] = []
    ids: list[Ints] = []
    uids: list[Ints] = []
    category: list[str] = []
    tied_rows: list[Flags] = []
    # The rows whose columns are joined here: all of them, or those of the change (the others
    # are copied from the last table).
    first, stop = (0, len(rows)) if last is None or change is None else (
        change.head, len(rows) - change.tail
    )
    start = 0
    k = 0
    while k < len(rows):
        row = rows[k]
        if isinstance(row, _BlockRows):
            block = row.block
            n = len(block.uids)
            runs.append(NameRun(
                start, n, container=row.name, keys=row.keys,
                extra={i: names.shown() for i, names in row.extra_names.items()},
                top_level=row.top_level,
            ))
            if first <= k < stop:
                # All its rows, or those of the change within it.
                within = change.within if change is not None and last is not None else None
                lo, hi = (0, n) if within is None else (within.start, within.stop)
                parts.append(block.columns if within is None else rows_of(block.columns, lo, hi))
                ids.append(block.id_column[lo:hi])
                uids.append(block.uid_column[lo:hi])
                at = len(category)
                category.extend(repeat(row.category, hi - lo))
                for i, item_category in row.extra_categories.items():
                    if lo <= i < hi:
                        category[at + i - lo] = item_category
                tied_rows.append(np.zeros(hi - lo, dtype=np.bool_))
            start += n
            k += 1
            continue
        singles: list[_SingleRow] = []
        inside = first <= k < stop
        # A run of rows read one by one, not across the change's bounds.
        while (
            k < len(rows) and isinstance(rows[k], _SingleRow) and (first <= k < stop) == inside
        ):
            singles.append(cast(_SingleRow, rows[k]))
            k += 1
        n = len(singles)
        runs.append(NameRun(start, n, names=[r.names for r in singles]))
        start += n
        if not inside:
            continue
        entries = [r.single for r in singles]
        parts.append(columns_of(
            [e.meta for e in entries], [e.self_overlap for e in entries],
            [e.version for e in entries],
        ))
        obj_ids = [r.obj_id for r in singles]
        ids.append(np.fromiter(obj_ids, dtype=np.int64, count=n))
        uids.append(np.fromiter((e.uid for e in entries), dtype=np.int64, count=n))
        category.extend(categories.get(i, "other") for i in obj_ids)
        tied_rows.append(np.fromiter((i in tied for i in obj_ids), dtype=np.bool_, count=n))
    table = MetaTable(
        columns=concat(parts),
        ids=_joined(ids, np.int64),
        uids=_joined(uids, np.int64),
        names=RowNames(runs),
        category=category,
        tied=_joined(tied_rows, np.bool_),
    )
    if last is None or change is None:
        return table
    return spliced(last, table, change.start, change.old_stop)


def _parts(
    rows: Sequence[_SingleRow | _BlockRows], categories: Mapping[int, str], tied: frozenset[int]
) -> list[TablePart]:
    """What each of ``rows`` puts in the table, as the build compares it with the last
    cell's: the same record (object or container read) under the same names; a container
    whose block was made from its last one names that one's part, and the rows that
    differ."""
    parts: list[TablePart] = []
    for row in rows:
        if isinstance(row, _SingleRow):
            parts.append(TablePart(
                (row.single, row.obj_id, row.names, categories.get(row.obj_id, "other"),
                 row.obj_id in tied), 1,
            ))
            continue
        block = row.block
        extra = {i: names.shown() for i, names in row.extra_names.items()}
        origin = block.origin
        parts.append(TablePart(
            (block.token, row.name, row.keys, extra, row.category, row.extra_categories),
            len(block.uids),
            None if origin is None else (
                origin[0], row.name, None if origin[1] is None else list(origin[1]), extra,
                row.category, row.extra_categories,
            ),
            block.changed,
        ))
    return parts


def _extra_categories(found: BulkFound, categories: Mapping[int, str]) -> dict[int, str]:
    """The category of each item reached another way too, where the first in ``CATEGORIES``
    of the container's and that of the other way is not the container's."""
    out: dict[int, str] = {}
    for i in found.extra_names:
        category = first_category(found.category, categories.get(int(found.ids[i]), "other"))
        if category != found.category:
            out[i] = category
    return out


def _base_reader(rows: Sequence[_SingleRow | _BlockRows]) -> BaseReader:
    """Reads the bases of table rows that a container's column reading left unread (only
    its rows are), through the container's block. Where each row starts is worked out on the
    first call: most snapshots share no storage, and ask for none."""
    found: list[Ints] = []

    def read(positions: Ints) -> Ints:
        if not found:
            found.append(np.fromiter(accumulate(
                (len(row.block.uids) if isinstance(row, _BlockRows) else 1 for row in rows),
                initial=0,
            ), dtype=np.int64, count=len(rows) + 1))
        starts = found[0]
        ids = np.zeros(len(positions), dtype=np.int64)
        which = np.searchsorted(starts, positions, side="right") - 1
        for k in np.unique(which).tolist():
            row, at = rows[k], which == k
            if isinstance(row, _BlockRows):
                ids[at] = row.block.base_ids((positions[at] - starts[k]).tolist())
        return ids

    return read


_shape_of = operator.attrgetter("shape")


def _element_strides(columns: Columns, m: int) -> list[tuple[int, ...]] | None:
    """The strides in elements of the first ``m`` rows of a block's columns (worked out once
    per distinct layout), or None when they do not all have one item size."""
    itemsize = columns.itemsize[:m]
    if not m or itemsize.min() != itemsize.max():
        return None
    size = int(itemsize[0])
    in_elements: dict[tuple[int, ...], tuple[int, ...]] = {}
    for strides in set(columns.strides_bytes[:m]):
        in_elements[strides] = tuple(s // size for s in strides)
    return list(map(in_elements.__getitem__, columns.strides_bytes[:m]))


def _kept_bases(
    bases: dict[int, int], n: int, n_old: int, changed: set[int]
) -> dict[int, int]:
    """The bases known of the ``n_old`` positions of a block, for its first ``n`` positions
    but the ``changed`` ones."""
    return without_positions(dict(bases), changed if n >= n_old else {*changed, *range(n, n_old)})


def _joined(parts: list[Any], dtype: type) -> Any:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


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



def snapshot(namespace: Mapping[str, Any], limits: WalkLimits | None = None) -> StorageGraph:
    """The storage graph of the tensors/arrays reachable from ``namespace`` (e.g. ``locals()``)."""
    return Snapshotter(limits).snapshot(namespace)
