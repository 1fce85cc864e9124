"""A compact plain-text table of a ``StorageGraph``, for terminal IPython and ``text/plain``."""

from __future__ import annotations

from tensorviews.graph.distributed import distributed_lines
from tensorviews.graph.model import StorageGraph, StorageNode, TensorNode
from tensorviews.render.dot import header_lines, storage_title
from tensorviews.sizes import format_bytes, format_dims


def storage_owner(s: StorageNode, views: list[TensorNode]) -> TensorNode | None:
    from tensorviews.insight import storage_owner as owner_of  # insight uses the renderer

    return owner_of(s, views)


def _row(t: TensorNode, graph: StorageGraph) -> list[str]:
    notes = []
    if t.base is not None:
        notes.append(f"view of {graph.tensor(t.base).label}")
    if t.is_parameter:
        notes.append("tied parameter" if t.is_tied else "parameter")
    if t.self_overlap:
        notes.append("overlaps itself")
    if t.layout != "strided":
        notes.append(f"{t.layout} layout")
    offset = str(t.offset) if t.offset is not None else f"{t.byte_offset}B"
    strided = t.layout == "strided"
    return [
        ", ".join(t.names) or t.label,
        f"{t.library} {t.dtype}",
        format_dims(t.shape),
        "stride " + format_dims(t.stride) if strided else "",
        "offset " + offset if strided else "",
        "; ".join(notes),
    ]


def _table(rows: list[list[str]], indent: str) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        (indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))).rstrip()
        for r in rows
    ]


def render_text(graph: StorageGraph) -> str:
    n_s, n_t, n_o = len(graph.storages), len(graph.tensors), len(graph.overlaps)
    lines = [
        f"Storage graph: {n_s} storage{'s' if n_s != 1 else ''}, "
        f"{n_t} tensor{'s' if n_t != 1 else ''}/array{'s' if n_t != 1 else ''}, "
        f"{n_o} overlap{'s' if n_o != 1 else ''}"
    ]
    lines += [f"memory {line}" for line in header_lines(graph.totals, graph.not_allocated)]
    by_storage: dict[str | None, list[TensorNode]] = {}
    for t in graph.tensors:
        by_storage.setdefault(t.storage, []).append(t)
    devices: dict[str, list[str]] = {}
    marks: dict[str, list[str]] = {}
    for node, why in graph.marks:
        marks.setdefault(node, []).append(why)
    for s in graph.storages:
        device = f"{s.device} (pinned)" if s.pinned else s.device
        block = devices.setdefault(device, [])
        views = by_storage.get(s.id, [])
        size = format_bytes(s.nbytes)
        logical = max((t.logical_nbytes for t in views), default=0)
        if s.nbytes is not None and logical > s.nbytes:
            size += f" ({format_bytes(logical)} logical)"
        if not s.allocated:
            size += f", not allocated ({s.device})"
        flags = "".join(f"  [{m}]" for m in marks.get(s.id, []))
        owner = next((t.label for t in views if t.id == s.owner), None)
        if s.owner is None:
            found = storage_owner(s, views)
            owner = found.label if found is not None else None
        block.append(f"  {storage_title(s, owner)}  {size}  {'+'.join(s.libraries)}{flags}")
        block.extend(_table([_row(t, graph) for t in views], "    "))
    for t in by_storage.get(None, []):
        devices.setdefault(t.device, []).extend(_table([_row(t, graph)], "  "))
    for g in graph.groups:
        kind = f"{g.category}, " if g.category else ""
        devices.setdefault(g.device, []).append(
            f"  ... {g.label}: {kind}{g.count} more ({format_bytes(g.nbytes)})"
        )
    for device, block in devices.items():
        lines.append(device)
        lines.extend(block)
    distributed = [(t.label, distributed_lines(t)) for t in graph.tensors
                   if t.dtensor is not None or t.flat_param is not None or t.unsharded]
    if distributed:
        lines.append("on this rank:" if graph.rank is None else f"on rank {graph.rank}:")
        for label, described in distributed:
            lines.append(f"  {label}: " + "; ".join(described))
    if graph.overlaps:
        lines.append("overlaps (share at least one element):")
        for e in graph.overlaps:
            a, b = graph.tensor(e.a).label, graph.tensor(e.b).label
            note = "" if e.exact else "  (may overlap: too hard to decide)"
            lines.append(f"  {a} <-> {b}{note}")
    for p in (*graph.notes, *graph.problems, *graph.truncated):
        lines.append(f"note: {p}")
    return "\n".join(lines)
