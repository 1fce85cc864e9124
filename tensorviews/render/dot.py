"""Draw a ``StorageGraph`` as Graphviz DOT, and DOT as SVG through the ``dot`` program.

Devices are clusters, storages are boxes with their size, each tensor/array is a node with
its shape, stride and offset, joined to its storage; overlapping views are linked by a red
edge. Every user string (names, dict keys) goes into HTML-like labels escaped with
``html.escape`` or into quoted attributes escaped for DOT's escString, so no name can change
the drawing's structure or inject markup into the SVG.
"""

from __future__ import annotations

import html
import shutil
import subprocess

from tensorviews.graph.distributed import distributed_lines
from tensorviews.graph.model import GroupNode, StorageGraph, StorageNode, TensorNode

MAX_NAMES_SHOWN = 3


class GraphvizMissing(RuntimeError):
    """The ``dot`` program is not installed: text and JSON output still work."""


def format_bytes(n: int | None) -> str:
    if n is None:
        return "? B"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # unreachable; keeps type checkers happy


def _quoted(text: str) -> str:
    """A DOT quoted string; backslashes are doubled so escString (\\N, \\G, \\l) stays inert."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _h(text: str) -> str:
    # graphviz still expands escString sequences (\N, \G, \\) inside HTML-like labels, even
    # after entity decoding: a doubled backslash is the only way to show one.
    return html.escape(text, quote=True).replace("\\", "\\\\")


def format_dims(values: tuple[int, ...] | None) -> str:
    if values is None:
        return "?"
    return "(" + ", ".join(str(v) for v in values) + ("," if len(values) == 1 else "") + ")"


def cluster_key(device: str, pinned: bool) -> str:
    return f"{device} pinned" if pinned else device


def cluster_label(device: str, pinned: bool) -> str:
    return f"{device} (pinned host memory)" if pinned else device


def tensor_label(t: TensorNode) -> str:
    names = list(t.names[:MAX_NAMES_SHOWN])
    more = len(t.names) - len(names)
    title = "<BR/>".join(f"<B>{_h(n)}</B>" for n in names) or f"<I>{_h(t.label)}</I>"
    if more > 0:
        title += f"<BR/><I>+{more} more</I>"
    kind = f"{t.library} {t.type_name}"
    if t.is_tied:
        kind += " · tied parameter"
    elif t.is_parameter:
        kind += " · parameter"
    if t.requires_grad and not t.is_parameter:
        kind += " · requires_grad"
    rows = [f"<TR><TD>{title}</TD></TR>", f"<TR><TD>{_h(kind)}</TD></TR>"]
    rows += [f"<TR><TD>{_h(line)}</TD></TR>" for line in distributed_lines(t)]
    local = "local " if t.dtensor is not None else ""
    rows.append(f"<TR><TD>{local}{_h(t.dtype)} {_h(format_dims(t.shape))}</TD></TR>")
    if t.layout == "wrapper":
        rows.append("<TR><TD>wrapper subclass: no storage of its own</TD></TR>")
    elif t.flat_param is not None and t.flat_param.original and t.storage is None:
        pass  # "not in this rank's shard" is said by its segment line
    elif t.layout != "strided":
        rows.append(f"<TR><TD>{_h(t.layout)} layout (no strided storage)</TD></TR>")
    else:
        offset = str(t.offset) if t.offset is not None else f"{t.byte_offset} B"
        rows.append(f"<TR><TD>stride {_h(format_dims(t.stride))} · offset {offset}</TD></TR>")
    if t.self_overlap:
        rows.append('<TR><TD><FONT COLOR="#c62828">overlaps itself</FONT></TD></TR>')
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0">' + "".join(rows) + "</TABLE>>"


def storage_label(s: StorageNode, views: int, logical: int, marks: list[str]) -> str:
    libs = "+".join(s.libraries)
    size = format_bytes(s.nbytes)
    if not s.allocated:
        size += " not allocated"
    if s.nbytes is not None and logical > s.nbytes:
        size += f" ({format_bytes(logical)} logical)"
    rows = [
        f"<TR><TD><B>storage {_h(s.id)}</B></TD></TR>",
        f"<TR><TD>{_h(size)} · {_h(libs)}</TD></TR>",
        f"<TR><TD>{views} view{'s' if views != 1 else ''}</TD></TR>",
    ]
    rows += [f'<TR><TD><FONT COLOR="{MARK_COLORS.get(m, "#000")}">{_h(m)}</FONT></TD></TR>'
             for m in marks]
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0">' + "".join(rows) + "</TABLE>>"


MARK_COLORS = {"new": "#2e7d32", "new sharing": "#2e7d32", "pinned by small views": "#e65100"}


def group_label(g: GroupNode) -> str:
    return (
        '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0">'
        f"<TR><TD><B>{_h(g.label)}</B></TD></TR>"
        f"<TR><TD>{g.count} more · {_h(format_bytes(g.nbytes))}</TD></TR>"
        "</TABLE>>"
    )


def notes_label(notes: list[str]) -> str:
    rows = "".join(f'<TR><TD ALIGN="LEFT">{_h(n)}</TD></TR>' for n in notes)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0">{rows}</TABLE>>'


def _marks_by_node(graph: StorageGraph) -> dict[str, list[str]]:
    marks: dict[str, list[str]] = {}
    for node, why in graph.marks:
        marks.setdefault(node, []).append(why)
    return marks


def tensor_tooltip(t: TensorNode) -> str:
    return (
        f"{', '.join(t.names) or t.label}\n{t.library} {t.type_name} {t.dtype} {list(t.shape)}"
        f"\nstride {format_dims(t.stride)} offset {t.offset} on {t.device}"
    )


def render_dot(graph: StorageGraph) -> str:
    """DOT source for ``graph``: clusters per device, storages, views, overlap links."""
    lines = [
        "digraph tensorviews {",
        '  graph [rankdir=LR, fontname="Helvetica", fontsize=11, nodesep=0.25, ranksep=0.5];',
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [color="#78909c", arrowsize=0.6, fontname="Helvetica"];',
    ]
    clusters: dict[str, list[str]] = {}
    cluster_names: dict[str, str] = {}
    storage_cluster: dict[str, str] = {}
    views: dict[str, int] = {}
    logical: dict[str, int] = {}
    for t in graph.tensors:
        if t.storage is not None:
            views[t.storage] = views.get(t.storage, 0) + 1
            # An expanded view can be far larger than its storage: show the largest view.
            logical[t.storage] = max(logical.get(t.storage, 0), t.logical_nbytes)
    marks = _marks_by_node(graph)
    for s in graph.storages:
        key = cluster_key(s.device, s.pinned)
        storage_cluster[s.id] = key
        cluster_names[key] = cluster_label(s.device, s.pinned)
        s_marks = marks.get(s.id, [])
        fill = "#ffe0b2" if "pinned by small views" in s_marks else "#eceff1"
        pen = ', color="#2e7d32", penwidth=2' if "new" in s_marks else ""
        label = storage_label(s, views.get(s.id, 0), logical.get(s.id, 0), s_marks)
        clusters.setdefault(key, []).append(
            f'    {s.id} [shape=box3d, style=filled, fillcolor="{fill}"{pen}, label={label}];'
        )
    for t in graph.tensors:
        key = storage_cluster.get(t.storage or "", cluster_key(t.device, False))
        cluster_names.setdefault(key, cluster_label(t.device, False))
        color = "#c62828" if t.self_overlap else ("#1565c0" if t.library == "torch" else "#2e7d32")
        pen = ", penwidth=3" if "new sharing" in marks.get(t.id, []) else ""
        clusters.setdefault(key, []).append(
            f"    {t.id} [shape=box, style=rounded, color=\"{color}\"{pen}, "
            f"label={tensor_label(t)}, tooltip={_quoted(tensor_tooltip(t))}];"
        )
    for g in graph.groups:
        key = cluster_key(g.device, False)
        cluster_names.setdefault(key, cluster_label(g.device, False))
        clusters.setdefault(key, []).append(
            f'    {g.id} [shape=folder, color="#90a4ae", label={group_label(g)}];'
        )
    for n, (key, body) in enumerate(clusters.items()):
        lines.append(f"  subgraph cluster_{n} {{")
        lines.append(f"    label={_quoted(cluster_names[key])}; style=dashed; color=\"#90a4ae\";")
        lines.extend(body)
        lines.append("  }")
    for t in graph.tensors:
        if t.storage is not None:
            lines.append(f"  {t.id} -> {t.storage};")
        if t.base is not None:
            lines.append(
                f'  {t.id} -> {t.base} [style=dotted, color="#9e9e9e", label="view of", '
                "fontsize=8, constraint=false];"
            )
    # A view lying inside a whole tensor (a row of its matrix) is expected: the shared storage
    # box says so. Red links are kept for the overlaps a user would not guess: partial ones.
    for e in graph.overlaps:
        a, b = graph.tensor(e.a), graph.tensor(e.b)
        if a.contains(b) or b.contains(a):
            continue
        label = "overlap" if e.exact else "may overlap"
        lines.append(
            f'  {e.a} -> {e.b} [dir=both, color="#c62828", penwidth=2, style=bold, '
            f'label="{label}", fontcolor="#c62828", fontsize=9, constraint=false];'
        )
    notes = list(graph.notes) + list(graph.problems) + list(graph.truncated)
    if notes:
        lines.append(f"  label={notes_label(notes)}; labeljust=l; labelloc=b;")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_svg(dot_source: str, timeout: float = 20.0) -> str:
    """Run ``dot -Tsvg``; raises ``GraphvizMissing`` with a one-line reason when it cannot."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizMissing(
            "graphviz 'dot' not found: install graphviz (apt-get install graphviz) for SVG; "
            "text and JSON still work"
        )
    try:
        done = subprocess.run(
            [exe, "-Tsvg"], input=dot_source.encode("utf-8"), capture_output=True,
            timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise GraphvizMissing(f"graphviz 'dot' took longer than {timeout:.0f} s") from exc
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GraphvizMissing("graphviz 'dot' failed: " + (reason[0] if reason else "no output"))
    svg = done.stdout.decode("utf-8")
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg
