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

from collections import Counter
from dataclasses import dataclass, field, replace

from kernel_ext.graph import StorageGraph, StorageNode, TensorNode
from kernel_ext.render_dot import format_bytes

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
    # Only storages big enough to waste ``min_waste`` are worth grouping views for.
    big = {
        s.id for s in graph.storages
        if s.nbytes is not None and s.nbytes >= min_waste and s.device != "meta"
    }
    if not big:
        return []
    by_storage: dict[str, list[TensorNode]] = {}
    for t in graph.tensors:
        if t.storage in big:
            by_storage.setdefault(t.storage, []).append(t)
    found = []
    for s in graph.storages:
        views = by_storage.get(s.id, [])
        if s.nbytes is None or not views:
            continue
        used = used_bytes(views)
        if s.nbytes - used >= min_waste and s.nbytes >= min_ratio * max(used, 1):
            found.append(PinnedWaste(s.id, tuple(v.id for v in views), used, s.nbytes))
    return found


def waste_message(graph: StorageGraph, waste: PinnedWaste) -> str:
    views = [graph.tensor(v) for v in waste.views]
    names = ", ".join(v.label for v in views[:3]) + (" ..." if len(views) > 3 else "")
    copy = ".clone()" if views[0].library == "torch" else ".copy()"
    first = views[0].label
    return (
        f"{names} ({format_bytes(waste.used_bytes)}) keep{'s' if len(views) == 1 else ''} "
        f"storage {waste.storage} ({format_bytes(waste.storage_bytes)}) alive: "
        f"`{first} = {first}{copy}` frees {format_bytes(waste.wasted_bytes)}"
        + ("; torch.save of the view writes the whole storage" if views[0].library == "torch"
           else "")
    )


def logical_bytes(graph: StorageGraph, storage: StorageNode) -> int:
    return sum(t.logical_nbytes for t in graph.tensors if t.storage == storage.id)


@dataclass(slots=True)
class GraphChanges:
    new_storages: list[str] = field(default_factory=list)  # storage ids in the new graph
    released: list[str] = field(default_factory=list)  # labels of storages no longer held
    new_sharing: list[tuple[str, str]] = field(default_factory=list)  # (tensor id, sharer id)
    ended_sharing: list[tuple[str, str]] = field(default_factory=list)  # (name, former sharer)
    text: list[str] = field(default_factory=list)  # the lines above, written with names

    def __bool__(self) -> bool:
        return bool(self.new_storages or self.released or self.new_sharing or self.ended_sharing)

    @property
    def sharing_changed(self) -> bool:
        return bool(self.new_sharing or self.ended_sharing)

    def describe(self, graph: StorageGraph) -> list[str]:
        """Lines naming the changes; ``graph`` is the full new graph they refer to."""
        out = []
        if self.new_storages:
            labels = [graph.views_of(sid)[0].label for sid in self.new_storages[:3]]
            more = " ..." if len(self.new_storages) > 3 else ""
            out.append(f"+ {_count(len(self.new_storages), 'new storage')}: "
                       f"{', '.join(labels)}{more}")
        if self.released:
            more = " ..." if len(self.released) > 3 else ""
            out.append(f"- {_count(len(self.released), 'storage')} no longer held: "
                       f"{'; '.join(self.released[:3])}{more}")
        for a, b in self.new_sharing:
            out.append(f"+ {graph.tensor(a).label} now shares memory with {graph.tensor(b).label}")
        for a_name, b_name in self.ended_sharing:
            out.append(f"- {a_name} no longer shares memory with {b_name}")
        return out


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _storage_of(graph: StorageGraph) -> dict[int, str]:
    return {t.uid: t.storage for t in graph.tensors if t.storage is not None}


def _shared_groups(storage_of: dict[int, str]) -> list[list[int]]:
    """Members of each storage viewed by two or more tensors (most storages have one)."""
    counts = Counter(storage_of.values())
    groups: dict[str, list[int]] = {sid: [] for sid, n in counts.items() if n > 1}
    for uid, sid in storage_of.items():
        members = groups.get(sid)
        if members is not None:
            members.append(uid)
    return [sorted(members) for members in groups.values()]


def diff_graphs(old: StorageGraph, new: StorageGraph) -> GraphChanges:
    """What changed from ``old`` to ``new`` (two snapshots of one namespace).

    Runs after every changed cell, so it is linear: dictionaries keyed by ``uid``, and member
    lists only for the few storages that more than one tensor views.
    """
    changes = GraphChanges()
    old_storage_of, new_storage_of = _storage_of(old), _storage_of(new)
    old_by_uid = {t.uid: t for t in old.tensors}
    new_by_uid = {t.uid: t for t in new.tensors}
    # A storage continues when one of its tensors was there before (matched by uid).
    continued_new = {sid for uid, sid in new_storage_of.items() if uid in old_storage_of}
    continued_old = {sid for uid, sid in old_storage_of.items() if uid in new_storage_of}
    changes.new_storages = [s.id for s in new.storages if s.id not in continued_new]
    released: dict[str, list[str]] = {}
    for uid, sid in old_storage_of.items():
        if sid not in continued_old:
            released.setdefault(sid, []).append(old_by_uid[uid].label)
    changes.released = [
        ", ".join(sorted(labels)[:3]) + (" ..." if len(labels) > 3 else "")
        for labels in released.values()
    ]
    for uids in _shared_groups(new_storage_of):
        # Sharing is new when a member is new here, or members came from different storages.
        by_old: dict[str | None, int] = {}
        for uid in uids:
            by_old.setdefault(old_storage_of.get(uid), uid)
        if len(by_old) > 1 or None in by_old:
            fresh = by_old.get(None)
            pair = (
                sorted(by_old.values()) if fresh is None
                else [fresh, min(u for u in uids if u != fresh)]
            )
            changes.new_sharing.append((new_by_uid[pair[0]].id, new_by_uid[pair[1]].id))
    for uids in _shared_groups(old_storage_of):
        by_new: dict[str, int] = {}
        for uid in uids:
            if uid in new_storage_of:
                by_new.setdefault(new_storage_of[uid], uid)
        if len(by_new) > 1:
            a, b = sorted(by_new.values())[:2]
            changes.ended_sharing.append((new_by_uid[a].label, new_by_uid[b].label))
    changes.text = changes.describe(new)
    return changes


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
        shared = {t.storage for t in graph.tensors if t.base is not None} | {
            graph.tensor(t).storage for pair in changes.new_sharing for t in pair
        }
        marks += [(sid, "new") for sid in changes.new_storages if sid in shared]
        marks += [(t, "new sharing") for pair in changes.new_sharing for t in pair]
    if not notes:
        return graph, waste
    return replace(graph, notes=graph.notes + tuple(notes), marks=graph.marks + tuple(marks),
                   _index={}), waste
