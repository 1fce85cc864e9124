"""What every face shows: one function, ``view``, turns a graph into the drawn view.

``%tensorgraph``, the live snapshot file, the REST API and its page, the VS Code panel, the
notebook renderer and the debugger command all show ``view(graph)``: insight notes (memory
pinned by small views, changes since the last cell), the interesting part of a big graph,
capped, with "N more" groups. ``view_document`` is its JSON with the DOT the cores drew, so web
clients render that DOT instead of drawing the graph a second way.

Real namespaces hold thousands of tensors that share nothing; drawing them all buries the
few that matter. The default view of a graph with more than ``FULL_VIEW_UP_TO`` tensors keeps
storages with more than one tensor, overlaps and self-overlaps, memory pinned by small views
and sharing that is new since the last cell; smaller graphs are drawn whole.
``--all`` keeps everything but caps the node count, folding the rest into groups by access
path prefix (parameters of one module become one "model.layers.3.*" group).

Both are decided on the graph's index (``GraphIndex``): ranking, capping and the groups' counts
and bytes need no node, so a snapshot builds nodes only for the tensors actually drawn.

Every view also carries the memory totals of the whole graph (by device and category, every
storage counted once) and names each drawn storage after its owner. With ``--all``, repeated
structure (``model.layers.0..11``, optimizer state per parameter) folds into one group per
category past ``FOLD_OVER`` tensors. docs/reading-the-picture.md says how to read the result.
"""

from __future__ import annotations

import heapq
import json
import operator
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from itertools import chain, compress
from operator import attrgetter
from typing import Any

import numpy as np

from tensorviews.graph.model import (
    GraphIndex,
    GroupNode,
    KeptDrawing,
    OverlapEdge,
    StorageGraph,
    StorageNode,
    TensorNode,
    nodes_at,
)
from tensorviews.insight import (
    DEFAULT_MIN_WASTE,
    GraphChanges,
    PinnedWaste,
    annotate,
    memory_totals,
    storage_owner,
)

DEFAULT_MAX_NODES = 300
MAX_GROUPS = 40
# Up to this many tensors a drawing stays readable whole: small namespaces (a notebook
# exploring a few tensors) see everything; larger ones see what is interesting.
FULL_VIEW_UP_TO = 40
# With --all, past this many tensors repeated structure is folded into groups.
FOLD_OVER = 120
# Storages drawn when nothing is shared: the biggest, so the picture is never empty.
BIGGEST_SHOWN = 5
# Access paths a group lists for a client to expand it (``count`` says how many in all).
MAX_MEMBERS = 500
# Rows of a group's breakdown by the rest of the path.
MAX_PARTS = 12
# Drawings kept per graph (``GraphIndex.drawings``): the live file's, and a few asked for.
KEPT_DRAWINGS = 4


@dataclass(frozen=True)
class ViewOptions:
    """How much a face draws: everything (``show_all``, still capped) or the interesting part,
    at most ``max_nodes`` tensors, flagging storages that hold ``min_waste`` bytes past their
    views."""

    show_all: bool = False
    max_nodes: int = DEFAULT_MAX_NODES
    min_waste: int = DEFAULT_MIN_WASTE


def view(
    graph: StorageGraph,
    changes: GraphChanges | None = None,
    options: ViewOptions = ViewOptions(),
) -> StorageGraph:
    """``graph`` as every face draws it: insight notes and marks, then whole up to
    ``FULL_VIEW_UP_TO`` tensors (or with ``show_all``), else the interesting part; capped at
    ``options.max_nodes`` with the rest folded into groups."""
    graph, waste = annotate(graph, changes, options.min_waste)
    totals, not_allocated = memory_totals(graph)
    if not options.show_all and len(graph.tensors) > FULL_VIEW_UP_TO:
        shown = interesting_view(graph, changes, waste, options.max_nodes)
    else:
        shown = capped_view(graph, options.max_nodes, fold_repeats=True)
    if shown is graph:  # drawn whole (a capped drawing names its storages)
        shown = name_storages(graph)
    return replace(shown, totals=totals, not_allocated=not_allocated)


def name_storages(graph: StorageGraph) -> StorageGraph:
    """``graph`` with each storage's ``owner`` set: the tensor it is named after."""
    storages = _named(graph.storages, graph.tensors)
    return replace(graph, storages=storages, _index={}, _storage_index={}, columns=None)


def _named(
    storages: Sequence[StorageNode], tensors: Sequence[TensorNode]
) -> tuple[StorageNode, ...]:
    """``storages``, each with its ``owner`` among ``tensors`` set."""
    views: dict[str, list[TensorNode]] = {}
    for t in tensors:
        if t.storage is not None:
            views.setdefault(t.storage, []).append(t)
    return tuple(
        replace(s, owner=owner.id) if (owner := storage_owner(s, views.get(s.id, []))) else s
        for s in storages
    )


def view_document(shown: StorageGraph) -> dict[str, Any]:
    """The JSON of a drawn view, with its DOT (``dot``): what notebook outputs, the live file,
    the REST API and the debugger command carry, so every client draws the same picture."""
    return {**shown.to_dict(), "dot": shown.to_dot()}


# What a view's document is made from: every compared field of the graph and of its nodes,
# but a tensor's ``uid`` (the snapshotter's serial number for the object), which neither the
# JSON nor the DOT carries. ``x = torch.rand(3)`` run again is a new object drawn the same.
_GRAPH_FIELDS = tuple(f.name for f in fields(StorageGraph) if f.compare and f.name != "tensors")
_drawn_fields = attrgetter(*(f.name for f in fields(TensorNode) if f.name != "uid"))


def same_drawing(a: StorageGraph, b: StorageGraph) -> bool:
    """Do the views ``a`` and ``b`` give the same document (``view_document``)?"""
    if a is b:
        return True
    if len(a.tensors) != len(b.tensors):
        return False
    if any(getattr(a, name) != getattr(b, name) for name in _GRAPH_FIELDS):
        return False
    return all(
        x is y or _drawn_fields(x) == _drawn_fields(y)
        for x, y in zip(a.tensors, b.tensors, strict=True)
    )


class DocumentMemo:
    """The JSON text of the last view's document, reused while the views draw the same.

    The live file writes the view after every changed cell, and most cells change nothing
    that is drawn (a lone tensor rebound beside ten thousand is counted, not drawn): the DOT
    and the JSON of three hundred nodes would be made again for the same text. Whether two
    views draw the same is decided on the views themselves (``same_drawing``), so a view that
    differs in anything drawn is always drawn anew. Benchmark row: "one name changes" of
    ``benchmarks/bench_kernel_hook.py`` (and the live-file rows).
    """

    def __init__(self) -> None:
        self._shown: StorageGraph | None = None
        self._text = ""

    def json(self, shown: StorageGraph) -> str:
        """``json.dumps(view_document(shown))``, made again only when the drawing changed."""
        if self._shown is None or not same_drawing(shown, self._shown):
            self._text = json.dumps(view_document(shown))
            self._shown = shown
        return self._text

    def forget(self) -> None:
        self._shown, self._text = None, ""


def interesting_view(
    graph: StorageGraph,
    changes: GraphChanges | None,
    waste: list[PinnedWaste],
    max_nodes: int = DEFAULT_MAX_NODES,
) -> StorageGraph:
    """Storages worth a look, capped at ``max_nodes`` tensors, and lines saying what was left
    out.

    Decided on the graph's index: only the nodes that are drawn get built (ten thousand rows
    of one matrix cost ``max_nodes`` nodes, not ten thousand).
    """
    index = graph.index()
    shared = index.shared
    # Every shared storage is drawn with all its tensors (``shared_rows``); then the tensors
    # and storages worth a look besides them, alone on their storages.
    keep_tensors = set(index.special)
    # A snapshot finds overlaps only among the views of a shared storage, all kept already.
    for e in () if index.ids_by_position else graph.overlaps:
        keep_tensors |= {graph.tensor_position(e.a), graph.tensor_position(e.b)}
    if changes is not None:
        keep_tensors.update(graph.tensor_positions(chain.from_iterable(changes.new_sharing)))
    alone = {graph.storage_position(w.storage) for w in waste}
    alone.update(map(index.tensor_storage.__getitem__, keep_tensors))
    alone.discard(-1)
    alone.difference_update(shared)
    biggest = False
    if not shared and not alone:
        # Nothing shared or wasted: the biggest storages, with the totals in the header.
        sizes = index.nbytes_column if index.nbytes_column is not None else index.storage_nbytes
        top = largest(sizes, BIGGEST_SHOWN)
        alone = {s for s in top if index.storage_first[s] >= 0}
        biggest = bool(alone)
    keep_tensors.update(map(index.storage_first.__getitem__, alone))
    rows = index.shared_rows()
    more = [p for p in keep_tensors if not _among(rows, p)]
    positions = sorted([*rows, *more]) if more else rows
    hidden = len(graph.tensors) - len(positions)
    summary: tuple[str, ...] = ()
    if biggest:
        summary = (
            f"nothing shares memory: the {len(alone)} biggest storage"
            f"{'s are' if len(alone) != 1 else ' is'} drawn",
        )
    if hidden:
        summary += (
            f"{hidden} tensor{'s' if hidden != 1 else ''}/array{'s' if hidden != 1 else ''} "
            "alone on their storages not drawn (%tensorgraph --all draws them)",
        )
    return _capped(graph, positions, max_nodes, summary)


def _among(ascending: Sequence[int], p: int) -> bool:
    i = bisect_left(ascending, p)
    return i < len(ascending) and ascending[i] == p


def largest(sizes: Sequence[int] | np.ndarray, k: int) -> list[int]:
    """Positions of the ``k`` largest ``sizes``, largest first, the first of equal sizes
    first (``heapq.nlargest``'s order), found with numpy passes: ten thousand storages of
    one size have a thousand times more ties than places."""
    if len(sizes) <= 4 * k:
        return heapq.nlargest(k, range(len(sizes)), key=sizes.__getitem__)
    values = (
        sizes if isinstance(sizes, np.ndarray)
        else np.fromiter(sizes, dtype=np.int64, count=len(sizes))
    )
    kth = np.partition(values, len(values) - k)[len(values) - k]  # the k-th largest
    above = np.flatnonzero(values > kth)
    tied = np.flatnonzero(values == kth)[: k - len(above)]
    chosen = np.concatenate((above, tied))
    at = dict(zip(chosen.tolist(), values[chosen].tolist(), strict=True))
    return sorted(at, key=lambda p: (-at[p], p))


_edge_a, _edge_b = attrgetter("a"), attrgetter("b")


def path_parts(path: str) -> list[str]:
    """An access path split into its components, each with its leading ``.`` or ``[``:
    ``opt.state[model.l.0.w]['m']`` is ``opt``, ``.state``, ``[model.l.0.w]``, ``['m']``
    (brackets and quotes nest: a dot inside a key does not split it)."""
    parts: list[str] = []
    start = depth = 0
    quote = ""
    for i, ch in enumerate(path):
        if quote:
            if ch == quote and path[i - 1] != "\\":
                quote = ""
        elif ch in "'\"" and depth:
            quote = ch
        elif ch == "[":
            if depth == 0 and i > start:
                parts.append(path[start:i])
                start = i
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
            if depth == 0:
                parts.append(path[start:i + 1])
                start = i + 1
        elif ch == "." and depth == 0 and i > start:
            parts.append(path[start:i])
            start = i
    if start < len(path):
        parts.append(path[start:])
    return parts


def _prefix(name: str, depth: int) -> str:
    """The first ``depth`` components of an access path, with a wildcard for the rest
    (``model.layers.3.w`` at depth 2: ``model.layers.*``; ``ts[7]`` at any depth: ``ts[*]``;
    ``opt.state[model.l.0.w]['m']`` at depth 2: ``opt.state[*]``)."""
    parts = path_parts(name)
    keep = min(depth, len(parts) - 1)
    if keep < 1:
        return name
    return "".join(parts[:keep]) + ("[*]" if parts[keep].startswith("[") else ".*")


@dataclass(frozen=True)
class RepeatKey:
    """Where an access path repeats: ``model.layers.3.linear1.weight`` is ``model.layers``
    at index ``3`` with the rest ``.linear1.weight``; inside a key (``opt.state[model.layers.3
    .w]['m']``) the key's own path is looked into."""

    head: str  # the path up to the repeated index ("model.layers", "opt.state[model.layers")
    index: int
    bracket: bool  # the index is written ``[3]``, not ``.3``
    tail: str  # the rest of the path after the index


def repeat_key(path: str) -> RepeatKey | None:
    """The first numeric index of ``path``, looking inside unquoted keys (parameters as
    optimizer-state keys), or None."""
    parts = path_parts(path)
    for k, part in enumerate(parts):
        if k == 0:
            continue
        head, rest = "".join(parts[:k]), "".join(parts[k + 1:])
        inner = part[1:-1] if part.startswith("[") and part.endswith("]") else None
        if part.startswith(".") and part[1:].isdigit():
            return RepeatKey(head, int(part[1:]), False, rest)
        if inner is not None and inner.isdigit():
            return RepeatKey(head, int(inner), True, rest)
        if inner and inner[0] not in "'\"(<":
            nested = repeat_key(inner)
            if nested is not None:
                return RepeatKey(
                    head + "[" + nested.head, nested.index, nested.bracket,
                    nested.tail + "]" + rest,
                )
    return None


def _wild(rest: str) -> str:
    """A wildcard for the rest of a path: ``.*``, ``[*]`` or nothing."""
    return "" if not rest else ("[*]" if rest.startswith("[") else ".*")


def _range_label(head: str, bracket: bool, indices: set[int], tail: str) -> str:
    """``model.layers.0..11.*``, ``ts[0..99]``, ``opt.state[model.layers.0..11.*][*]``."""
    lo, hi = min(indices), max(indices)
    span = f"{lo}..{hi}" if len(indices) == hi - lo + 1 else f"{lo},..,{hi}"
    label = f"{head}[{span}]" if bracket else f"{head}.{span}"
    if head.count("[") > head.count("]"):  # the index is inside a key: close it
        inner, _, rest = tail.partition("]")
        return label + _wild(inner) + "]" + _wild(rest)
    return label + _wild(tail)


def fold_repeats(
    graph: StorageGraph, positions: Sequence[int], keep: set[int]
) -> tuple[list[int], tuple[GroupNode, ...]]:
    """Tensors at ``positions`` under repeated structure (at least two indices of one head,
    same device and category) folded into groups; those in ``keep`` (shared, marked, odd)
    stay. Returns the positions left and the groups."""
    index = graph.index()
    devices, categories = index.facts(graph)
    buckets: dict[tuple[str, str, str, bool], list[tuple[int, RepeatKey]]] = {}
    left: list[int] = []
    for p in positions:
        found = None if p in keep else repeat_key(index.label(p))
        if found is None:
            left.append(p)
            continue
        bucket = (devices[p], categories[p], found.head, found.bracket)
        buckets.setdefault(bucket, []).append((p, found))
    groups: list[GroupNode] = []
    for (device, category, head, bracket), members in buckets.items():
        indices = {found.index for _, found in members}
        if len(indices) < 2:
            left.extend(p for p, _ in members)
            continue
        parts: dict[str, list[int]] = {}
        nbytes = 0
        for p, found in members:
            size = _tensor_bytes(graph, index, p)
            nbytes += size
            star = f"{head}[*]" if bracket else f"{head}.*"
            part = parts.setdefault(star + found.tail, [0, 0])
            part[0] += 1
            part[1] += size
        ranked = sorted(parts.items(), key=lambda item: -item[1][1])
        groups.append(GroupNode(
            id=f"g{len(groups)}", label=_range_label(head, bracket, indices, members[0][1].tail),
            device=device,
            count=len(members), nbytes=nbytes, category=category,
            members=tuple(index.label(p) for p, _ in members[:MAX_MEMBERS]),
            parts=tuple((label, c, b) for label, (c, b) in ranked[:MAX_PARTS]),
        ))
    return sorted(left), tuple(groups)


def _tensor_bytes(graph: StorageGraph, index: GraphIndex, p: int) -> int:
    """Bytes of a tensor alone on its storage: its storage's size (what it holds)."""
    s = index.tensor_storage[p]
    size = index.storage_nbytes[s] if s >= 0 else -1
    return size if size >= 0 else graph.tensors[p].logical_nbytes


def capped_view(
    graph: StorageGraph, max_nodes: int = DEFAULT_MAX_NODES, fold_repeats: bool = False
) -> StorageGraph:
    """At most ``max_nodes`` tensors; the rest folded into groups by access-path prefix.
    ``fold_repeats``: past ``FOLD_OVER`` tensors, repeated structure is folded first."""
    if len(graph.tensors) <= max_nodes and not (
        fold_repeats and len(graph.tensors) > FOLD_OVER
    ):
        return graph
    return _capped(graph, range(len(graph.tensors)), max_nodes, (), fold_repeats)


@dataclass(frozen=True)
class _Drawn:
    """What the node cap drew of a graph's tensors at some positions (storages named)."""

    tensors: tuple[TensorNode, ...]
    storages: tuple[StorageNode, ...]
    overlaps: tuple[OverlapEdge, ...]
    groups: tuple[GroupNode, ...]
    notes: tuple[str, ...]


def _capped(
    graph: StorageGraph,
    positions: Sequence[int],
    max_nodes: int,
    notes: tuple[str, ...],
    repeats: bool = False,
) -> StorageGraph:
    """The tensors at ``positions`` (sorted) with their storages, past ``max_nodes`` folded
    into "N more" groups; worked out on the index, nodes built only for what is kept.

    Kept on the index (``GraphIndex.drawings``): a patched graph whose patch left these
    positions alone draws them as its parent did, and the same marks rank the same."""
    index = graph.index()
    marked = tuple(sorted(
        node for node, why in graph.marks
        if repeats or (why != "new" and node.startswith("s"))
    ))
    key = (max_nodes, repeats, marked)
    kept = index.drawings.get(key)
    if kept is not None and kept.rows == positions:
        drawn: _Drawn = kept.drawing
    else:
        drawn = _draw(graph, positions, max_nodes, repeats)
        drawings = index.drawings
        drawings.pop(key, None)
        if len(drawings) >= KEPT_DRAWINGS:  # the oldest goes: marks vary from cell to cell
            del drawings[next(iter(drawings))]
        drawings[key] = KeptDrawing(positions, drawn)
    return replace(
        graph,
        storages=drawn.storages,
        tensors=drawn.tensors,
        overlaps=drawn.overlaps,
        groups=drawn.groups,
        notes=graph.notes + notes + drawn.notes,
        _index={},
        _storage_index={},
        columns=None,
    )


def _draw(
    graph: StorageGraph, positions: Sequence[int], max_nodes: int, repeats: bool
) -> _Drawn:
    """``_capped``'s drawing, worked out."""
    index = graph.index()
    groups: tuple[GroupNode, ...] = ()
    notes: tuple[str, ...] = ()
    if repeats and len(positions) > FOLD_OVER:
        keep = set(index.special)
        keep.update(p for members in index.shared.values() for p in members)
        marked = {node for node, _ in graph.marks}
        keep.update(p for p in positions if index.tensor_id(graph, p) in marked)
        before = len(positions)
        positions, groups = fold_repeats(graph, positions, keep)
        if groups:
            notes += (
                f"{before - len(positions)} tensors/arrays of repeated structure folded into "
                f"{len(groups)} group{'s' if len(groups) != 1 else ''}",
            )
    if len(positions) > max_nodes:
        # Shared storages and overlaps first: they are what the drawing is for.
        at = list(map(index.tensor_storage.__getitem__, positions))
        counts = Counter(at)
        shared = {s for s, n in counts.items() if n > 1 and s >= 0}
        # Storages the notes speak of (pinned by small views) rank with the shared ones; a
        # storage marked "new" is a new shared one, ranked already (a rebuilt list of rows
        # marks a thousand).
        shared.update(graph.storage_positions(
            node for node, why in graph.marks if why != "new" and node.startswith("s")
        ))
        on_shared = list(map(shared.__contains__, at))
        # A shared storage is drawn with all its views, or it would look unshared (one
        # view, no overlap): its tensors are ranked together, storages by their first
        # tensor, and the cap never cuts through one but the first.
        # (A stable sort by each storage's rank: C-level, and one pass when, as usual, no
        # two storages' tensors interleave.)
        on = list(compress(positions, on_shared))
        storages = list(compress(at, on_shared))
        rank = {s: k for k, s in enumerate(dict.fromkeys(storages))}
        keys = list(map(rank.__getitem__, storages))
        order = sorted(range(len(on)), key=keys.__getitem__)
        first = list(map(on.__getitem__, order))
        then = list(compress(positions, map(operator.not_, on_shared)))
        cut = min(max_nodes, len(first))
        if 0 < cut < len(first) and keys[order[cut]] == keys[order[cut - 1]]:
            # The cap falls inside a storage: it is left to the groups whole, unless it is
            # the first (more views than the cap: ten thousand rows of one matrix).
            start = cut
            while start and keys[order[start - 1]] == keys[order[cut]]:
                start -= 1
            cut = start or cut
        positions = sorted(first[:cut] + then[:max_nodes - cut])
        # Folded in the ranked order, each part ascending as ``fold`` wants.
        folded_first = sorted(first[cut:])
        folded_then = then[max_nodes - cut:]
        folded = len(folded_first) + len(folded_then)
        chunks = index.fold(graph, folded_first) + index.fold(graph, folded_then)
        capped, depth = _groups(chunks, start=len(groups))
        if repeats:  # --all: what a client expands; the per-cell view skips the names
            capped = _with_members(graph, capped, depth, [*folded_first, *folded_then])
        groups += capped
        notes += (f"{folded} more tensors/arrays folded into {len(capped)} groups",)
    kept_storages = sorted({index.tensor_storage[p] for p in positions} - {-1})
    tensors = nodes_at(graph.tensors, positions)
    ids = {t.id for t in tensors}
    edges = graph.overlaps  # ten thousand rows of one matrix: filtered in C-level passes
    edges = tuple(compress(edges, map(ids.__contains__, map(_edge_a, edges))))
    edges = tuple(compress(edges, map(ids.__contains__, map(_edge_b, edges))))
    named = _named(nodes_at(graph.storages, kept_storages), tensors)
    return _Drawn(tensors, named, edges, groups, notes)


# Folded tensors looked at to list the members of the node cap's groups: past it, a group
# lists fewer members than its count says.
MEMBER_SCAN = 20_000


def _with_members(
    graph: StorageGraph, groups: tuple[GroupNode, ...], depth: int, folded: Sequence[int]
) -> tuple[GroupNode, ...]:
    """The node cap's groups with their members' access paths (the first ``MAX_MEMBERS`` of
    each, among the first ``MEMBER_SCAN`` folded tensors), for a client to expand them."""
    index = graph.index()
    devices = index.facts(graph)[0]
    members: dict[tuple[str, str], list[str]] = {(g.device, g.label): [] for g in groups}
    prefixes: dict[str, str] = {}  # as in ``_groups``: only the stem decides the prefix
    for p in folded[:MEMBER_SCAN]:
        label = index.label(p)
        cut = max(label.rfind("."), label.rfind("[")) + 1
        stem = label[:cut] if cut else label
        prefix = prefixes.get(stem)
        if prefix is None:
            prefix = prefixes[stem] = _prefix(label, depth)
        found = members.get((devices[p], prefix))
        if found is None:  # folded into the group of every other name
            found = members.get((devices[p], OTHER_NAMES))
        if found is not None and len(found) < MAX_MEMBERS:
            found.append(label)
    return tuple(replace(g, members=tuple(members[(g.device, g.label)])) for g in groups)


# The label of the group that takes what is left when even one-component prefixes give too
# many groups (ten thousand top-level names): every other name.
OTHER_NAMES = "*"


def _fold_smallest(buckets: dict[tuple[str, str], list[int]]) -> dict[tuple[str, str], list[int]]:
    """At most ``MAX_GROUPS`` groups: the biggest by bytes as they are, the rest one group per
    device labelled ``OTHER_NAMES``."""
    devices = {device for device, _ in buckets}
    ranked = sorted(buckets.items(), key=lambda item: -item[1][1])
    kept = dict(ranked[: max(1, MAX_GROUPS - len(devices))])
    for (device, _), (count, nbytes) in ranked[len(kept):]:
        totals = kept.setdefault((device, OTHER_NAMES), [0, 0])
        totals[0] += count
        totals[1] += nbytes
    return kept


def _groups(
    chunks: list[tuple[str, str, int, int]], start: int = 0
) -> tuple[tuple[GroupNode, ...], int]:
    """Folded tensors, given as (label, device, count, bytes) runs, by device and access-path
    prefix, as shallow as keeps them few; and the depth of the prefixes."""
    depth = 3
    while True:
        buckets: dict[tuple[str, str], list[int]] = {}  # -> [count, bytes]
        prefixes: dict[str, str] = {}  # ten thousand "rows[i]" have one prefix, found once
        nested = False  # a label with components, whose prefix a shallower depth changes
        for label, device, count, nbytes in chunks:
            # Only what comes before the last component decides the prefix.
            cut = max(label.rfind("."), label.rfind("[")) + 1
            if cut:
                nested = True
                stem = label[:cut]
                prefix = prefixes.get(stem)
                if prefix is None:
                    prefix = prefixes[stem] = _prefix(label, depth)
            else:  # a top-level name is its own prefix at every depth
                prefix = label
            totals = buckets.setdefault((device, prefix), [0, 0])
            totals[0] += count
            totals[1] += nbytes
        # Ten thousand top-level names: no shallower depth makes fewer groups.
        if len(buckets) <= MAX_GROUPS or depth == 1 or not nested:
            break
        depth -= 1
    if len(buckets) > MAX_GROUPS:
        buckets = _fold_smallest(buckets)
    return tuple(
        GroupNode(id=f"g{n}", label=prefix, device=device, count=count, nbytes=nbytes)
        for n, ((device, prefix), (count, nbytes)) in enumerate(buckets.items(), start)
    ), depth
