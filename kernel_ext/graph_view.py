"""What a drawing shows: the interesting part of a big graph, capped, with "N more" groups.

Real namespaces hold thousands of tensors that share nothing; drawing them all buries the
few that matter. The default view of a graph with more than ``FULL_VIEW_UP_TO`` tensors keeps
storages with more than one tensor, overlaps and self-overlaps, memory pinned by small views
and sharing that is new since the last cell; smaller graphs are drawn whole.
``--all`` keeps everything but caps the node count, folding the rest into groups by access
path prefix (parameters of one module become one "model.layers.3.*" group).
"""

from __future__ import annotations

from dataclasses import replace

from kernel_ext.graph import GroupNode, StorageGraph, StorageNode, TensorNode
from kernel_ext.insight import GraphChanges, PinnedWaste

DEFAULT_MAX_NODES = 300
MAX_GROUPS = 40
# Up to this many tensors a drawing stays readable whole: small namespaces (a notebook
# exploring a few tensors) see everything; larger ones see what is interesting.
FULL_VIEW_UP_TO = 40


def interesting_view(
    graph: StorageGraph, changes: GraphChanges | None, waste: list[PinnedWaste]
) -> StorageGraph:
    """Storages worth a look, and a line saying what was left out.

    Decided on the graph's index: only the nodes that are kept get built.
    """
    index = graph.index()
    keep_storages = set(index.shared)
    keep_storages |= {graph.storage_position(w.storage) for w in waste}
    keep_tensors = set(index.special)
    for e in graph.overlaps:
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
    return _restrict(
        graph, tuple(graph.tensors[p] for p in positions), summary,
        storages=tuple(graph.storages[s] for s in sorted(keep_storages)),
    )


def _restrict(
    graph: StorageGraph,
    tensors: tuple[TensorNode, ...],
    notes: tuple[str, ...],
    storages: tuple[StorageNode, ...] | None = None,
) -> StorageGraph:
    ids = {t.id for t in tensors}
    if storages is None:
        kept = {t.storage for t in tensors}
        storages = tuple(s for s in graph.storages if s.id in kept)
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
    # Shared storages and overlaps first: they are what the drawing is for.
    counts: dict[str | None, int] = {}
    for t in graph.tensors:
        counts[t.storage] = counts.get(t.storage, 0) + 1
    shared = {s for s, n in counts.items() if s is not None and n > 1}
    ranked = sorted(graph.tensors, key=lambda t: (t.storage not in shared, int(t.id[1:])))
    kept, rest = ranked[:max_nodes], ranked[max_nodes:]
    depth = 3
    while True:
        buckets: dict[tuple[str, str], list[TensorNode]] = {}
        for t in rest:
            key = (t.device, _prefix(t.label, depth))
            buckets.setdefault(key, []).append(t)
        if len(buckets) <= MAX_GROUPS or depth == 1:
            break
        depth -= 1
    groups = tuple(
        GroupNode(
            id=f"g{n}", label=prefix,
            device=device, count=len(members),
            nbytes=sum(t.logical_nbytes for t in members),
        )
        for n, ((device, prefix), members) in enumerate(buckets.items())
    )
    kept_sorted = tuple(sorted(kept, key=lambda t: int(t.id[1:])))
    note = (f"{len(rest)} more tensors/arrays folded into {len(groups)} groups",)
    return replace(_restrict(graph, kept_sorted, note), groups=groups)
