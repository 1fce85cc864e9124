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
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import compress
from typing import Any

from tensorviews.graph.model import GroupNode, StorageGraph, StorageNode, TensorNode
from tensorviews.insight import DEFAULT_MIN_WASTE, GraphChanges, PinnedWaste, annotate

DEFAULT_MAX_NODES = 300
MAX_GROUPS = 40
# Up to this many tensors a drawing stays readable whole: small namespaces (a notebook
# exploring a few tensors) see everything; larger ones see what is interesting.
FULL_VIEW_UP_TO = 40


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
    if not options.show_all and len(graph.tensors) > FULL_VIEW_UP_TO:
        return interesting_view(graph, changes, waste, options.max_nodes)
    return capped_view(graph, options.max_nodes)


def view_document(shown: StorageGraph) -> dict[str, Any]:
    """The JSON of a drawn view, with its DOT (``dot``): what notebook outputs, the live file,
    the REST API and the debugger command carry, so every client draws the same picture."""
    return {**shown.to_dict(), "dot": shown.to_dot()}


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
    keep_storages = set(index.shared)
    keep_storages |= {graph.storage_position(w.storage) for w in waste}
    keep_tensors = set(index.special)
    # A snapshot finds overlaps only among the views of a shared storage, all kept below.
    for e in () if index.ids_by_position else graph.overlaps:
        keep_tensors |= {graph.tensor_position(e.a), graph.tensor_position(e.b)}
    if changes is not None:
        for a, b in changes.new_sharing:
            keep_tensors |= {graph.tensor_position(a), graph.tensor_position(b)}
    keep_storages |= {index.tensor_storage[p] for p in keep_tensors}
    keep_storages.discard(-1)
    for s in keep_storages:
        keep_tensors.update(index.shared.get(s, [index.storage_first[s]]))
    positions = sorted(keep_tensors)
    hidden = len(graph.tensors) - len(positions)
    summary: tuple[str, ...] = ()
    if hidden:
        summary = (
            f"{hidden} tensor{'s' if hidden != 1 else ''}/array{'s' if hidden != 1 else ''} "
            "alone on their storages not drawn (%tensorgraph --all draws them)",
        )
    return _capped(graph, positions, max_nodes, summary)


def _restrict(
    graph: StorageGraph,
    tensors: tuple[TensorNode, ...],
    notes: tuple[str, ...],
    storages: tuple[StorageNode, ...],
) -> StorageGraph:
    ids = {t.id for t in tensors}
    return replace(
        graph,
        storages=storages,
        tensors=tensors,
        overlaps=tuple(e for e in graph.overlaps if e.a in ids and e.b in ids),
        notes=graph.notes + notes,
        _index={},
        _storage_index={},
        columns=None,
    )


def _prefix(name: str, depth: int) -> str:
    """The first ``depth`` components of an access path, with a wildcard for the rest
    (``model.layers.3.w`` at depth 2: ``model.layers.*``; ``ts[7]`` at any depth: ``ts[*]``)."""
    parts = name.replace("[", ".[").split(".")
    keep = min(depth, len(parts) - 1)
    if keep < 1:
        return name
    head = ".".join(parts[:keep]).replace(".[", "[")
    return head + ("[*]" if parts[keep].startswith("[") else ".*")


def capped_view(graph: StorageGraph, max_nodes: int = DEFAULT_MAX_NODES) -> StorageGraph:
    """At most ``max_nodes`` tensors; the rest folded into groups by access-path prefix."""
    if len(graph.tensors) <= max_nodes:
        return graph
    return _capped(graph, range(len(graph.tensors)), max_nodes, ())


def _capped(
    graph: StorageGraph, positions: Sequence[int], max_nodes: int, notes: tuple[str, ...]
) -> StorageGraph:
    """The tensors at ``positions`` (sorted) with their storages, past ``max_nodes`` folded
    into "N more" groups; worked out on the index, nodes built only for what is kept."""
    index = graph.index()
    groups: tuple[GroupNode, ...] = ()
    if len(positions) > max_nodes:
        # Shared storages and overlaps first: they are what the drawing is for.
        storage_of = index.tensor_storage
        counts = Counter(storage_of[p] for p in positions)
        shared = {s for s, n in counts.items() if n > 1 and s >= 0}
        on_shared = [storage_of[p] in shared for p in positions]
        first = list(compress(positions, on_shared))
        then = list(compress(positions, map(operator.not_, on_shared)))
        ranked = first + then
        folded = len(ranked) - max_nodes
        positions = sorted(ranked[:max_nodes])
        # Folded in the ranked order, each part ascending as ``fold`` wants.
        chunks = index.fold(graph, first[max_nodes:]) + index.fold(
            graph, then[max(0, max_nodes - len(first)):]
        )
        groups = _groups(chunks)
        notes += (f"{folded} more tensors/arrays folded into {len(groups)} groups",)
    kept_storages = sorted({index.tensor_storage[p] for p in positions} - {-1})
    view = _restrict(
        graph, tuple(graph.tensors[p] for p in positions), notes,
        storages=tuple(graph.storages[s] for s in kept_storages),
    )
    return replace(view, groups=groups) if groups else view


def _groups(chunks: list[tuple[str, str, int, int]]) -> tuple[GroupNode, ...]:
    """Folded tensors, given as (label, device, count, bytes) runs, by device and access-path
    prefix, as shallow as keeps them few."""
    depth = 3
    while True:
        buckets: dict[tuple[str, str], list[int]] = {}  # -> [count, bytes]
        prefixes: dict[str, str] = {}  # ten thousand "rows[i]" have one prefix, found once
        for label, device, count, nbytes in chunks:
            # Only what comes before the last component decides the prefix.
            cut = max(label.rfind("."), label.rfind("[")) + 1
            stem = label[:cut] if cut else label
            prefix = prefixes.get(stem)
            if prefix is None:
                prefix = prefixes[stem] = _prefix(label, depth)
            totals = buckets.setdefault((device, prefix), [0, 0])
            totals[0] += count
            totals[1] += nbytes
        if len(buckets) <= MAX_GROUPS or depth == 1:
            break
        depth -= 1
    return tuple(
        GroupNode(id=f"g{n}", label=prefix, device=device, count=count, nbytes=nbytes)
        for n, ((device, prefix), (count, nbytes)) in enumerate(buckets.items())
    )
