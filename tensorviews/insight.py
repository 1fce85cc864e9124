"""Memory questions people ask about views, answered from a ``StorageGraph`` (pure functions).

- Pinned waste: a small view keeping a large storage alive (``last = logits[:, -1]`` keeps all
  of ``logits``), with both sizes and the fix; ``torch.save`` of such a view writes the whole
  storage.
- Logical vs physical bytes: an ``expand``ed view can be 2 GiB logically over 300 KiB.
- Changes between two snapshots of one ``Snapshotter``: storages created and no longer held,
  sharing that appeared or ended. Tensors are matched across cells by ``uid``, the serial
  number the snapshotter gives each live object (never by address: addresses are reused).
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import compress, filterfalse, islice, repeat

from tensorviews.graph.model import (
    GraphIndex,
    MemoryTotal,
    RowNodes,
    StorageGraph,
    StorageNode,
    TensorNode,
)
from tensorviews.graph.namespace_walk import CATEGORIES
from tensorviews.sizes import format_bytes

DEFAULT_MIN_WASTE = 1 << 20  # bytes a storage must hold beyond what its views reach
DEFAULT_MIN_RATIO = 4.0  # storage size / bytes its views reach


@dataclass(slots=True)
class PinnedWaste:
    storage: str
    views: tuple[str, ...]  # tensor ids of the small views holding it
    used_bytes: int  # bytes the views reach (union of their extents)
    storage_bytes: int

    @property
    def wasted_bytes(self) -> int:
        return self.storage_bytes - self.used_bytes


def used_bytes(views: list[TensorNode]) -> int:
    """Bytes of the storage its views really use: at most the union of their byte extents,
    and at most the sum of their own sizes (a strided column spans much but uses little)."""
    own = sum(v.logical_nbytes for v in views)
    spans = sorted(v.extent() for v in views if v.numel)
    total = 0
    cur_lo, cur_hi = -1, -1
    for lo, hi in spans:
        if lo > cur_hi:
            total += max(0, cur_hi - cur_lo)
            cur_lo, cur_hi = lo, hi
        else:
            cur_hi = max(cur_hi, hi)
    return min(own, total + max(0, cur_hi - cur_lo))


def find_pinned_waste(
    graph: StorageGraph,
    min_waste: int = DEFAULT_MIN_WASTE,
    min_ratio: float = DEFAULT_MIN_RATIO,
) -> list[PinnedWaste]:
    index = graph.index()
    if index.largest_storage() < min_waste:
        return []
    # Only storages big enough to waste ``min_waste`` are worth looking at (a C-level filter:
    # most of a big namespace's storages are small).
    big = compress(range(len(index.storage_nbytes)), map(min_waste.__le__, index.storage_nbytes))
    found = []
    for s in big:
        storage = graph.storages[s]
        if storage.nbytes is None or storage.device == "meta":
            continue
        views = [graph.tensors[p] for p in index.shared.get(s, [index.storage_first[s]])]
        used = used_bytes(views)
        if storage.nbytes - used >= min_waste and storage.nbytes >= min_ratio * max(used, 1):
            found.append(PinnedWaste(storage.id, tuple(v.id for v in views), used, storage.nbytes))
    return found


def storage_owner(storage: StorageNode, views: Sequence[TensorNode]) -> TensorNode | None:
    """The tensor a storage is named after ("storage of acts") and counted under in memory
    totals: the one found as a parameter, else a buffer, a gradient, optimizer state, anything
    (the order of ``memory_totals``); among those, one that spans the whole storage densely
    (the base, not a row of it), else the first found."""
    if len(views) < 2:  # most storages: one tensor, the owner whatever it is
        return views[0] if views else None
    ranks = [_RANK.get(t.category, len(_RANK)) for t in views]
    best = min(ranks)
    candidates = [t for t, rank in zip(views, ranks, strict=True) if rank == best]
    for t in candidates:
        if t.logical_nbytes != storage.nbytes:  # cannot span it densely: no extent to work out
            continue
        lo, hi = t.extent()
        if lo == 0 and hi == storage.nbytes:
            return t
    return candidates[0]


def waste_message(graph: StorageGraph, waste: PinnedWaste) -> str:
    views = [graph.tensor(v) for v in waste.views]
    names = ", ".join(v.label for v in views[:3]) + (" ..." if len(views) > 3 else "")
    copy = ".clone()" if views[0].library == "torch" else ".copy()"
    first = views[0].label
    storage = graph.storages[graph.storage_position(waste.storage)]
    owner = storage_owner(storage, views)
    one = len(views) == 1
    # Named after its owner only when that is another tensor: "h keeps storage of h" reads
    # as if two things were meant.
    whose = (
        f"storage of {owner.label}" if owner is not None and owner.id not in waste.views
        else "its storage" if one else "their storage"
    )
    return (
        f"{names} ({format_bytes(waste.used_bytes)}) keep{'s' if one else ''} "
        f"{whose} ({format_bytes(waste.storage_bytes)}) alive: "
        f"`{first} = {first}{copy}` frees {format_bytes(waste.wasted_bytes)}"
        + ("; torch.save of the view writes the whole storage" if views[0].library == "torch"
           else "")
    )


_RANK = {c: r for r, c in enumerate(CATEGORIES)}
NOT_ALLOCATED = "not allocated"


def memory_totals(graph: StorageGraph) -> tuple[tuple[MemoryTotal, ...], tuple[MemoryTotal, ...]]:
    """Bytes held, by device and category, every storage counted once; and what storages
    without memory (meta and fake tensors) would hold, by device.

    A storage counts under its owner's category: of the tensors on it, the one found as a
    parameter, else a buffer, a gradient, optimizer state, in that order ("other" last). So
    ``W`` and ``W.T`` count once, as a parameter. Worked out on the graph's columns: a
    snapshot builds no node for it (only storages of several libraries merged into one
    memory, and unallocated ones, are looked at as nodes).
    """
    index = graph.index()
    held = index.held(graph)
    if (
        len(held.devices) == 1 and len(held.categories) == 1 and "meta" not in held.devices
        and not index.unallocated and isinstance(graph.storages, RowNodes)
    ):
        # The common case, from counts kept on the index (a patched index carries them
        # over): one device, one category, all allocated.
        (device,), (category,) = held.devices, held.categories
        n_storages = len(index.storage_nbytes)
        row = MemoryTotal(device, category, held.nbytes, held.tensors_on_storages, n_storages)
        return ((row,) if n_storages else ()), ()
    devices, categories = index.facts(graph)
    first = index.storage_first
    sizes: Sequence[int] = index.storage_nbytes
    if sizes and min(sizes) < 0:  # unknown sizes count as 0
        sizes = [max(n, 0) for n in sizes]
    unallocated = _unallocated_storages(graph, index, devices)
    # One key per storage, read in C-level passes (a namespace holds ten thousand storages
    # and a handful of keys); only shared storages are looked at one by one.
    keys = list(zip(map(devices.__getitem__, first), map(categories.__getitem__, first),
                    strict=True))
    extra_tensors: dict[tuple[str, str], int] = {}
    for s, members in index.shared.items():
        category = min((categories[p] for p in members), key=_RANK.__getitem__)
        keys[s] = (keys[s][0], category)
        extra_tensors[keys[s]] = extra_tensors.get(keys[s], 0) + len(members) - 1
    for s in unallocated:
        old = keys[s]
        keys[s] = (old[0], NOT_ALLOCATED)
        moved = len(index.shared.get(s, ())) - 1
        if moved > 0:
            extra_tensors[old] -= moved
            extra_tensors[keys[s]] = extra_tensors.get(keys[s], 0) + moved
    counts = Counter(keys)
    rows = {
        key: (sum(compress(sizes, map(key.__eq__, keys))), count + extra_tensors.get(key, 0),
              count)
        for key, count in counts.items()
    }
    totals = tuple(
        MemoryTotal(device, category, nbytes, tensors, storages)
        for (device, category), (nbytes, tensors, storages) in sorted(
            rows.items(), key=lambda item: (item[0][0], _RANK.get(item[0][1], 99))
        )
        if category != NOT_ALLOCATED
    )
    not_allocated = tuple(
        MemoryTotal(device, NOT_ALLOCATED, nbytes, tensors, storages)
        for (device, category), (nbytes, tensors, storages) in sorted(rows.items())
        if category == NOT_ALLOCATED
    )
    return totals, not_allocated


def _unallocated_storages(
    graph: StorageGraph, index: GraphIndex, devices: Sequence[str]
) -> set[int]:
    """Positions of storages that hold no memory: those on the meta device, and any storage
    node that says so (fake tensors)."""
    found: set[int] = set()
    if "meta" in devices:  # a C-level scan first: most namespaces hold no meta tensor
        found = {s for s, p in enumerate(index.storage_first) if devices[p] == "meta"}
    found |= {index.tensor_storage[p] for p in index.unallocated} - {-1}
    if not isinstance(graph.storages, RowNodes):  # a view's nodes: ask them
        found |= {s for s, node in enumerate(graph.storages) if not node.allocated}
    return found


def totals_line(totals: Sequence[MemoryTotal], not_allocated: Sequence[MemoryTotal]) -> str:
    """One line: "memory: cpu 152.3 MiB (parameters 37.8 MiB, gradients 37.8 MiB, ...)"."""
    by_device: dict[str, list[MemoryTotal]] = {}
    for t in totals:
        by_device.setdefault(t.device, []).append(t)
    parts = []
    for device, rows in by_device.items():
        inner = ", ".join(f"{t.category} {format_bytes(t.nbytes)}" for t in rows)
        parts.append(f"{device} {format_bytes(sum(t.nbytes for t in rows))} ({inner})")
    for t in not_allocated:
        parts.append(
            f"not allocated ({t.device}): {format_bytes(t.nbytes)} in {_count(t.tensors, 'tensor')}"
        )
    return "memory: " + ("; ".join(parts) if parts else "nothing held")


def logical_bytes(graph: StorageGraph, storage: StorageNode) -> int:
    return sum(t.logical_nbytes for t in graph.tensors if t.storage == storage.id)


@dataclass(slots=True)
class GraphChanges:
    new_storage_count: int = 0
    new_storage_labels: list[str] = field(default_factory=list)  # the first few, for the text
    new_storages: list[str] = field(default_factory=list)  # ids of new storages drawn (shared)
    released_count: int = 0
    released: list[str] = field(default_factory=list)  # labels of the first few no longer held
    # (tensor id, owner id): each tensor newly on a storage, with the tensor the storage is
    # named after (see ``storage_owner``)
    new_sharing: list[tuple[str, str]] = field(default_factory=list)
    ended_sharing: list[tuple[str, str]] = field(default_factory=list)  # (name, former sharer)
    text: list[str] = field(default_factory=list)  # the lines above, written with names

    def __bool__(self) -> bool:
        return bool(
            self.new_storage_count or self.released_count or self.new_sharing
            or self.ended_sharing
        )

    @property
    def sharing_changed(self) -> bool:
        return bool(self.new_sharing or self.ended_sharing)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


LISTED = 3  # storages named in a change line; the rest are counted
LISTED_PARTNERS = 8  # tensors named as newly sharing one storage; the rest are counted
LISTED_STORAGES = 8  # newly shared storages given a line of their own; the rest are counted
FEW_NEW = 16  # new tensors whose storages are looked at one by one
OWNER_LOOKED_UP_TO = 64  # members whose nodes are built to find a new shared storage's owner


def _storage_label(index: GraphIndex, s: int) -> str:
    members = index.shared.get(s, [index.storage_first[s]])
    labels = sorted(index.label(p) for p in members)
    return ", ".join(labels[:LISTED]) + (" ..." if len(labels) > LISTED else "")


def _new_storages(
    index: GraphIndex, other_uids: set[int] | None, fresh_rows: dict[int, int] | None = None
) -> tuple[int, list[int]]:
    """How many of ``index``'s storages hold no tensor of ``other_uids``, and which: all of
    those viewed by several tensors, and the first few others (for the text).

    A storage continues when one of its tensors is in the other graph (matched by uid).
    ``fresh_rows``: uid -> position of the tensors not in the other graph, when known (a
    patched index tells them), instead of ``other_uids``.
    """
    uids = index.tensor_uids
    if fresh_rows is not None:
        fresh = set(fresh_rows)
        fresh_count = len(fresh)
    else:
        assert other_uids is not None
        # Only the objects in both go into a new set: ten thousand new ones are only counted.
        fresh_count = len(uids) - len(index.uid_set() & other_uids)
        if fresh_count == len(uids):  # nothing continues (a list rebuilt)
            found = list(range(len(index.storage_first)))  # every storage is new
            return len(found), found
        if fresh_count <= FEW_NEW:  # found in one C-level pass
            fresh = index.uid_set() - other_uids
            rows = compress(range(len(uids)), map(fresh.__contains__, uids))
            fresh_rows = {uids[p]: p for p in rows}
    # (A snapshot's storages are numbered by their first tensor: each has one.)
    if fresh_rows is not None and (index.ids_by_position or -1 not in index.storage_first):
        # Every storage holds a tensor: it is new when all its tensors are, so only the
        # storages of the few new tensors are looked at.
        storage_of = index.tensor_storage
        candidates = {storage_of[p] for p in fresh_rows.values()} - {-1}
        found = [
            s for s in sorted(candidates)
            if fresh.issuperset(uids[p] for p in index.shared.get(s, [index.storage_first[s]]))
        ]
        return len(found), found
    if other_uids is None:
        other_uids = index.uid_set() - fresh
    in_other = map(other_uids.__contains__, uids)
    if index.one_tensor_per_storage:  # storage p is tensor p's: count in C, list a few
        first = islice(compress(range(len(uids)), map(operator.not_, in_other)), LISTED)
        return fresh_count, list(first)
    continued = set(compress(index.tensor_storage, in_other))
    found = list(filterfalse(continued.__contains__, range(len(index.storage_first))))
    return len(found), found


def _rows_not_in_other(oi: GraphIndex, ni: GraphIndex) -> tuple[dict[int, int], dict[int, int]]:
    """For ``ni`` patched from ``oi``: uid -> position of the tensors new in ``ni``, and of
    those of ``oi`` no longer held; only the replaced rows are looked at."""
    r = ni.replaced
    assert r is not None
    fresh, gone = r.fresh(), r.gone()
    return (
        {uid: r.rows.start + i for i, uid in enumerate(r.uids) if uid in fresh},
        {uid: r.old_rows.start + i for i, uid in enumerate(r.old_uids) if uid in gone},
    )


def diff_graphs(old: StorageGraph, new: StorageGraph) -> GraphChanges:
    """What changed from ``old`` to ``new`` (two snapshots of one namespace).

    Runs after every changed cell, on the graphs' index columns with C-level set and ``map``
    work: ten thousand new tensors cost about a millisecond, and nodes are built only for the
    few storages named in the text and for storages shared by several tensors.
    """
    changes = GraphChanges()
    oi, ni = old.index(), new.index()
    patch = ni.replaced if ni.replaced is not None and ni.replaced.parent is oi.token else None
    if patch is not None:
        # ``new`` is ``old`` patched: only the replaced rows can be new or gone.
        fresh_rows, gone_rows = _rows_not_in_other(oi, ni)
        fresh_count, fresh = _new_storages(ni, None, fresh_rows)
        gone_count, gone = _new_storages(oi, None, gone_rows)
    else:
        fresh_count, fresh = _new_storages(ni, oi.uid_set())
        gone_count, gone = _new_storages(oi, ni.uid_set())
    changes.new_storage_count = fresh_count
    changes.new_storage_labels = [_storage_label(ni, s) for s in fresh[:LISTED]]
    shared_fresh = compress(fresh, map(ni.shared.__contains__, fresh))
    changes.new_storages = ni.storage_ids(new, shared_fresh)
    changes.released_count = gone_count
    changes.released = [_storage_label(oi, s) for s in gone[:LISTED]]
    # Sharing with the same members before and after is unchanged: only the rest is looked
    # at, and the uid maps are built only when there is a rest.
    old_shared, new_shared = oi.shared_uids(), ni.shared_uids()
    if patch is not None:
        # The other storages are the parent's with the same objects on them, and an object
        # is one row: sharing can begin or end on the replaced storages only.
        old_shared = {s: old_shared[s] for s in patch.old_storages if s in old_shared}
        new_shared = {s: new_shared[s] for s in patch.storages if s in new_shared}
    old_groups, new_groups = set(old_shared.values()), set(new_shared.values())
    born = [ni.shared[s] for s, key in new_shared.items() if key not in old_groups]
    split = [oi.shared[s] for s, key in old_shared.items() if key not in new_groups]
    pairs: list[tuple[int, int]] = []  # (tensor, owner) positions in ``new``
    if born:
        old_position = _positions_of(oi, [ni.tensor_uids[p] for m in born for p in m])
        old_storage_of = {uid: oi.tensor_storage[p] for uid, p in old_position.items()}
        # Many new shared storages at once (a list of rows rebuilt): owners found on the
        # index, without building nodes, so the cell's cost stays that of reading them.
        categories = None if sum(map(len, born)) <= OWNER_LOOKED_UP_TO else ni.facts(new)[1]
        one_category = categories is not None and len(set(categories)) == 1
        for members in born:
            # Sharing is new for every member that was not on its owner's storage before
            # (new here, or on another storage); each is named with the owner.
            if one_category and not old_storage_of:  # a list rebuilt: no node, no lookup
                pairs.extend(zip(islice(members, 1, None), repeat(members[0])))
                continue
            owner = _owner_position(new, ni, members, categories)
            was = old_storage_of.get(ni.tensor_uids[owner]) if old_storage_of else None
            if was is None:
                pairs.extend((p, owner) for p in members if p != owner)
                continue
            pairs.extend(
                (p, owner) for p in members
                if p != owner and old_storage_of.get(ni.tensor_uids[p]) != was
            )
        tensors = ni.tensor_ids(new, map(_first, pairs))
        owners = ni.tensor_ids(new, map(_second, pairs))
        changes.new_sharing = list(zip(tensors, owners, strict=True))
    new_position = (
        _positions_of(ni, [oi.tensor_uids[p] for m in split for p in m]) if split else {}
    )
    if new_position:  # some tensors of a storage no longer shared are still held
        for members in split:
            by_new: dict[int, int] = {}
            for uid in sorted(oi.tensor_uids[p] for p in members):
                if uid in new_position:
                    by_new.setdefault(ni.tensor_storage[new_position[uid]], uid)
            if len(by_new) > 1:
                first, second = sorted(by_new.values())[:2]
                changes.ended_sharing.append(
                    (ni.label(new_position[first]), ni.label(new_position[second]))
                )
    changes.text = _describe(changes, ni, pairs)
    return changes


_first, _second = operator.itemgetter(0), operator.itemgetter(1)


def _positions_of(index: GraphIndex, uids: list[int]) -> dict[int, int]:
    """uid -> position in ``index``, for those of ``uids`` it holds (a list of rows rebuilt:
    none, and no map of all its tensors is made)."""
    held = index.uid_set().intersection(uids)
    if not held:
        return {}
    if len(held) <= FEW_NEW:
        return {uid: index.tensor_uids.index(uid) for uid in held}
    return dict(zip(index.tensor_uids, range(len(index.tensor_uids)), strict=True))


def _describe(changes: GraphChanges, index: GraphIndex, pairs: list[tuple[int, int]]) -> list[str]:
    """Lines naming the changes; ``index`` is the new graph's, ``pairs`` the positions there
    of each tensor newly sharing memory and of its storage's owner. Past ``LISTED_STORAGES``
    newly shared storages (a list of rows rebuilt), the rest are counted in one line."""
    out = []
    if changes.new_storage_count:
        more = " ..." if changes.new_storage_count > len(changes.new_storage_labels) else ""
        out.append(f"+ {_count(changes.new_storage_count, 'new storage')}: "
                   f"{', '.join(changes.new_storage_labels)}{more}")
    if changes.released_count:
        more = " ..." if changes.released_count > len(changes.released) else ""
        out.append(f"- {_count(changes.released_count, 'storage')} no longer held: "
                   f"{'; '.join(changes.released)}{more}")
    partners: dict[int, list[int]] = {}
    for p, owner in pairs:
        partners.setdefault(owner, []).append(p)
    for owner, members in islice(partners.items(), LISTED_STORAGES):
        shown = ", ".join(map(index.label, members[:LISTED_PARTNERS]))
        hidden = len(members) - LISTED_PARTNERS
        if hidden > 0:
            shown += f" and {hidden} more"
        verb = "shares" if len(members) == 1 else "share"
        name = index.label(owner)
        out.append(f"+ {shown} now {verb} memory with {name} (storage of {name})")
    if len(partners) > LISTED_STORAGES:
        rest = list(partners)[LISTED_STORAGES:]
        tensors = sum(len(partners[owner]) for owner in rest)
        labels = ", ".join(map(index.label, rest[:LISTED]))
        out.append(
            f"+ {_count(len(rest), 'more storage')} newly shared by "
            f"{_count(tensors, 'more tensor')}: storages of {labels}"
            + (" ..." if len(rest) > LISTED else "")
        )
    for a_name, b_name in changes.ended_sharing:
        out.append(f"- {a_name} no longer shares memory with {b_name}")
    return out


def _owner_position(
    graph: StorageGraph, index: GraphIndex, members: list[int],
    categories: Sequence[str] | None = None,
) -> int:
    """Position of the owner of a shared storage (``storage_owner``); given the graph's
    ``categories`` (many storages at once), the first of the best category, no node built."""
    if categories is None:
        storage = graph.storages[index.tensor_storage[members[0]]]
        nodes = [graph.tensors[p] for p in members]
        owner = storage_owner(storage, nodes)
        assert owner is not None
        return members[nodes.index(owner)]
    ranks = [_RANK.get(categories[p], len(_RANK)) for p in members]
    return members[ranks.index(min(ranks))]


def annotate(
    graph: StorageGraph,
    changes: GraphChanges | None,
    min_waste: int = DEFAULT_MIN_WASTE,
    min_ratio: float = DEFAULT_MIN_RATIO,
) -> tuple[StorageGraph, list[PinnedWaste]]:
    """``graph`` with notes and marks for pinned waste and for changes since the last cell."""
    waste = find_pinned_waste(graph, min_waste, min_ratio)
    notes = [waste_message(graph, w) for w in waste]
    marks = [(w.storage, "pinned by small views") for w in waste]
    if changes:
        notes += ["since the last cell: " + line for line in changes.text]
        # Lone new storages are summed up in the notes; marks are for what gets drawn.
        marks += [(sid, "new") for sid in changes.new_storages]
        sharing = dict.fromkeys(t for pair in changes.new_sharing for t in pair)
        marks += [(t, "new sharing") for t in sharing]
    if not notes:
        return graph, waste
    return replace(graph, notes=graph.notes + tuple(notes), marks=graph.marks + tuple(marks)), waste
