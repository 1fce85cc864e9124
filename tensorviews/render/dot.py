"""Draw a ``StorageGraph`` as Graphviz DOT, and DOT as SVG through the ``dot`` program.

A header gives the memory totals and the notes. Devices are clusters, storages are boxes
named after their owner with their size and a memory strip (where each view lies in the
storage, to scale), each tensor/array is a node with its shape, stride and offset, joined to
its storage; overlapping views are linked by a red edge; folded groups are folders. Nodes that
share nothing are laid out in rows, not in one tall column. Every user string (names, dict
keys) goes into HTML-like labels escaped with
``html.escape`` or into quoted attributes escaped for DOT's escString, so no name can change
the drawing's structure or inject markup into the SVG.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import threading
from collections.abc import Callable, Hashable
from itertools import pairwise
from operator import attrgetter
from typing import Any

from tensorviews.graph.distributed import distributed_lines
from tensorviews.graph.model import GroupNode, MemoryTotal, StorageGraph, StorageNode, TensorNode
from tensorviews.sizes import format_bytes, format_dims

MAX_NAMES_SHOWN = 3
# Lone units (a tensor alone on its storage, a group) per row of a device's cluster.
UNITS_PER_ROW = 4
# Views given a strip of their own in a storage box (more: only the combined strip), in
# drawings of at most ``VIEW_STRIPS_UP_TO`` storages (past that, one strip per storage keeps
# big drawings quick to make and to read).
MAX_VIEW_STRIPS = 4
VIEW_STRIPS_UP_TO = 40
MAX_PARTS_SHOWN = 6


class GraphvizMissing(RuntimeError):
    """The ``dot`` program is not installed: text and JSON output still work."""


# Node fields that hold ids. Ids are positions in one graph: a name deleted early in the
# namespace renumbers every node after it, while no label draws an id except where a node
# has no name (``TensorNode.label``) or a storage no owner, which the keys below add.
_ID_FIELDS = frozenset({"id", "storage", "base", "owner", "uid"})
# Labels remembered per kind of node: a view draws at most a few hundred nodes of each (its
# node cap), so the labels of a few views are kept; a few MiB at most.
MEMO_SIZE = 1024


def _content(node: Any) -> tuple[Any, ...]:
    """What a node's label can be drawn from: its fields but the ids."""
    kind = type(node)
    read = _READERS.get(kind)
    if read is None:
        fields = getattr(kind, "__slots__", None) or tuple(vars(node))
        read = _READERS[kind] = attrgetter(*(f for f in fields if f not in _ID_FIELDS))
    return (kind, read(node))


_READERS: dict[type, Callable[[Any], Any]] = {}


def _tensor_content(t: TensorNode) -> tuple[Any, ...]:
    """A tensor's fields but the ids, and its name (its id when it has no name)."""
    return (_content(t), t.label)


class LabelMemo:
    """Labels drawn lately, keyed by everything they are drawn from.

    The live file and ``%tensorgraph`` redraw the view after every changed cell, and from one
    cell to the next almost every drawn node is the same: drawing its HTML-like label (the
    memory strips, the escaped names) is most of a drawing's cost. A node whose content
    changed gets a new key, so it is always drawn anew; a key that cannot be hashed is drawn
    every time. The oldest keys make way past ``size``.
    """

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self.size = size
        self._drawn: dict[Hashable, tuple[str, str]] = {}
        self._lock = threading.Lock()  # servers may draw in threads

    def get(self, key: Hashable, draw: Callable[[], tuple[str, str]]) -> tuple[str, str]:
        try:
            with self._lock:
                found = self._drawn.pop(key, None)
                if found is not None:
                    self._drawn[key] = found  # most recently used last
                    return found
        except TypeError:  # a field that is not hashable: nothing to remember it by
            return draw()
        found = draw()
        with self._lock:
            self._drawn[key] = found
            if len(self._drawn) > self.size:
                del self._drawn[next(iter(self._drawn))]
        return found

    def clear(self) -> None:
        with self._lock:
            self._drawn.clear()


_TENSOR_LABELS = LabelMemo()
_STORAGE_LABELS = LabelMemo()


def forget_drawn_labels() -> None:
    """The next drawing draws every label anew (what it draws is the same either way)."""
    _TENSOR_LABELS.clear()
    _STORAGE_LABELS.clear()


def _quoted(text: str) -> str:
    """A DOT quoted string; backslashes are doubled so escString (\\N, \\G, \\l) stays inert."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _h(text: str) -> str:
    # graphviz still expands escString sequences (\N, \G, \\) inside HTML-like labels, even
    # after entity decoding: a doubled backslash is the only way to show one.
    return html.escape(text, quote=True).replace("\\", "\\\\")



def cluster_key(device: str, pinned: bool) -> str:
    return f"{device} pinned" if pinned else device


def cluster_label(device: str, pinned: bool) -> str:
    return f"{device} (pinned host memory)" if pinned else device


def tensor_label(t: TensorNode, base: str | None = None) -> str:
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
    if base is not None:
        rows.append(f"<TR><TD>view of {_h(base)}</TD></TR>")
    if t.self_overlap:
        rows.append('<TR><TD><FONT COLOR="#c62828">overlaps itself</FONT></TD></TR>')
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0">' + "".join(rows) + "</TABLE>>"


def storage_title(s: StorageNode, owner: str | None) -> str:
    """"storage of acts": named after its owner (its id when it has none)."""
    return f"storage of {owner}" if owner is not None else f"storage {s.id}"


def storage_label(
    s: StorageNode,
    views: int,
    logical: int,
    marks: list[str],
    owner: str | None = None,
    members: list[TensorNode] | None = None,
    view_strips: bool = True,
) -> str:
    libs = "+".join(s.libraries)
    size = format_bytes(s.nbytes)
    if s.nbytes is not None and logical > s.nbytes:
        size += f" ({format_bytes(logical)} logical)"
    if not s.allocated:
        size += f" · not allocated ({s.device})"
    rows = [
        f"<TR><TD><B>{_h(storage_title(s, owner))}</B></TD></TR>",
        f"<TR><TD>{_h(size)} · {_h(libs)}</TD></TR>",
        f"<TR><TD>{views} view{'s' if views != 1 else ''}</TD></TR>",
    ]
    rows += strip_rows(s, members or [], view_strips)
    rows += [f'<TR><TD><FONT COLOR="{MARK_COLORS.get(m, "#000")}">{_h(m)}</FONT></TD></TR>'
             for m in marks]
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0">' + "".join(rows) + "</TABLE>>"


MARK_COLORS = {"new": "#2e7d32", "new sharing": "#2e7d32", "pinned by small views": "#e65100"}


def group_label(g: GroupNode) -> str:
    kind = f"{g.category} · " if g.category else ""
    rows = [
        f'<TR><TD COLSPAN="3"><B>{_h(g.label)}</B></TD></TR>',
        f'<TR><TD COLSPAN="3">{_h(kind)}{g.count} {"tensors" if g.category else "more"} · '
        f"{_h(format_bytes(g.nbytes))}</TD></TR>",
    ]
    for label, count, nbytes in g.parts[:MAX_PARTS_SHOWN]:
        short = _part_tail(label)
        rows.append(
            f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="9">{_h(short)}</FONT></TD>'
            f'<TD ALIGN="RIGHT"><FONT POINT-SIZE="9">x{count}</FONT></TD>'
            f'<TD ALIGN="RIGHT"><FONT POINT-SIZE="9">{_h(format_bytes(nbytes))}</FONT></TD></TR>'
        )
    hidden = len(g.parts) - MAX_PARTS_SHOWN
    if hidden > 0:
        rows.append(f'<TR><TD COLSPAN="3"><I>+{hidden} more kinds</I></TD></TR>')
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0">' + "".join(rows) + "</TABLE>>"


def _part_tail(label: str) -> str:
    """A group part without the group's head: ``*.linear1.weight``, or for an index inside a
    key ``[*.linear1.weight]['exp_avg']``."""
    star = label.find("*")
    if star <= 0:
        return label
    head = label[:star]
    start = label.rfind("[", 0, star) if head.count("[") > head.count("]") else star
    return label[start:]


def header_lines(
    totals: tuple[MemoryTotal, ...], not_allocated: tuple[MemoryTotal, ...]
) -> list[str]:
    """"cpu: 152.3 MiB — parameters 37.8 MiB · gradients ..." per device, then
    "not allocated (meta): 25.1 GiB in 291 tensors" per device."""
    by_device: dict[str, list[MemoryTotal]] = {}
    for t in totals:
        by_device.setdefault(t.device, []).append(t)
    lines = []
    for device, rows in by_device.items():
        total = sum(t.nbytes for t in rows)
        inner = " · ".join(f"{t.category} {format_bytes(t.nbytes)}" for t in rows)
        lines.append(f"{device}: {format_bytes(total)} — {inner}")
    for t in not_allocated:
        lines.append(
            f"not allocated ({t.device}): {format_bytes(t.nbytes)} "
            f"in {t.tensors} tensor{'s' if t.tensors != 1 else ''}"
        )
    return lines


def header_label(graph: StorageGraph, notes: list[str]) -> str:
    # One plain run per line: a bold run beside a plain one is placed with graphviz's width
    # estimate, and where the viewer's font is wider the two run into each other.
    rows = [
        f'<TR><TD ALIGN="LEFT">{_h(line)}</TD></TR>'
        for line in header_lines(graph.totals, graph.not_allocated)
    ]
    rows += [f'<TR><TD ALIGN="LEFT">{_h(n)}</TD></TR>' for n in notes]
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0">{"".join(rows)}</TABLE>>'


# Memory strip colours: unused, touched by one strided view, one dense view, several views;
# grey for storages that hold no memory (meta, fake).
STRIP_COLORS = ("#ffffff", "#bbdefb", "#64b5f6", "#0d47a1")
UNALLOCATED_STRIP_COLORS = ("#ffffff", "#eeeeee", "#bdbdbd", "#616161")
STRIP_BUCKETS = 80
STRIP_BUCKET_PT = 2


def strip_cells(nbytes: int, views: list[TensorNode]) -> list[tuple[int, int]]:
    """The strip of a storage of ``nbytes``: runs of (state, buckets) over ``STRIP_BUCKETS``
    equal buckets, state 0 unused, 1 strided (touched sparsely), 2 one view, 3 several. A
    view touching any byte of a bucket marks it, so a 32 KiB view of 64 MiB stays visible."""
    # Where views start and stop, then one step per stretch between such places (not per
    # bucket and view: a storage may hold a thousand rows, and most hold one view).
    events: dict[int, list[int]] = {0: [0, 0], STRIP_BUCKETS: [0, 0]}  # -> [dense, sparse]
    for v in views:
        if not v.numel:
            continue
        lo, hi = v.extent()
        lo, hi = max(lo, 0), min(hi, nbytes)
        if hi <= lo:
            continue
        first = lo * STRIP_BUCKETS // nbytes
        end = min(max(first + 1, -(-hi * STRIP_BUCKETS // nbytes)), STRIP_BUCKETS)
        kind = 0 if v.logical_nbytes * 2 >= hi - lo else 1
        events.setdefault(first, [0, 0])[kind] += 1
        events.setdefault(end, [0, 0])[kind] -= 1
    runs: list[tuple[int, int]] = []
    d = sp = 0
    places = sorted(events)
    for here, after in pairwise(places):
        d += events[here][0]
        sp += events[here][1]
        state = 3 if d > 1 or (d and sp) else 2 if d else 1 if sp else 0
        if runs and runs[-1][0] == state:
            runs[-1] = (state, runs[-1][1] + after - here)
        else:
            runs.append((state, after - here))
    return runs


def strip_table(nbytes: int, views: list[TensorNode], allocated: bool = True) -> str:
    colors = STRIP_COLORS if allocated else UNALLOCATED_STRIP_COLORS
    cells = "".join(
        f'<TD WIDTH="{n * STRIP_BUCKET_PT}" HEIGHT="9" FIXEDSIZE="TRUE" '
        f'BGCOLOR="{colors[state]}"></TD>'
        for state, n in strip_cells(nbytes, views)
    )
    # Fixed size: a table in a wider box would stretch its border past the strip's cells.
    width = STRIP_BUCKETS * STRIP_BUCKET_PT + 2
    return (
        f'<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0" COLOR="#78909c" '
        f'WIDTH="{width}" HEIGHT="11" FIXEDSIZE="TRUE">'
        f"<TR>{cells}</TR></TABLE>"
    )


def strip_rows(s: StorageNode, views: list[TensorNode], view_strips: bool = True) -> list[str]:
    """The storage's memory strip (all its views), one per view when there are a few, and
    how much of it the views reach."""
    if not s.nbytes or not views:
        return []
    rows = [f"<TR><TD>{strip_table(s.nbytes, views, s.allocated)}</TD></TR>"]
    if view_strips and 1 < len(views) <= MAX_VIEW_STRIPS:
        for v in views:
            rows.append(
                f'<TR><TD><TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">'
                f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="8">{_h(v.label)}</FONT></TD></TR>'
                f"<TR><TD>{strip_table(s.nbytes, [v], s.allocated)}</TD></TR></TABLE></TD></TR>"
            )
    from tensorviews.insight import used_bytes  # insight draws on this module's formatting

    used = used_bytes(views)
    if used < s.nbytes:
        share = 100 * used / s.nbytes
        rows.append(
            f'<TR><TD><FONT POINT-SIZE="9">views reach {_h(format_bytes(used))} of '
            f"{_h(format_bytes(s.nbytes))} ({share:.2g}%)</FONT></TD></TR>"
        )
    return rows


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


def _owner_label(s: StorageNode, views: list[TensorNode], labels: dict[str, str]) -> str | None:
    """The name of the tensor ``s`` is named after: its ``owner``, else worked out (a graph
    drawn without going through the view)."""
    if s.owner is not None:
        return labels.get(s.owner)
    from tensorviews.insight import storage_owner  # insight draws on this module's formatting

    owner = storage_owner(s, views)
    return owner.label if owner is not None else None


def _tensor_texts(
    t: TensorNode, content: tuple[Any, ...], base: str | None
) -> tuple[str, str]:
    """A tensor's label and quoted tooltip, remembered by the tensor's ``content`` and its
    base's name."""
    return _TENSOR_LABELS.get(
        (content, base), lambda: (tensor_label(t, base), _quoted(tensor_tooltip(t)))
    )


def _storage_texts(
    s: StorageNode,
    views: int,
    logical: int,
    marks: list[str],
    owner: str | None,
    members: list[TensorNode],
    contents: dict[str, tuple[Any, ...]],
    strips: bool,
) -> tuple[str, str]:
    """A storage's label and title, remembered by what they are drawn from: the storage, its
    views (the memory strips: their ``contents``), marks and owner."""
    key = (
        _content(s), s.id if owner is None else None, views, logical, tuple(marks), owner,
        tuple(contents[t.id] for t in members), strips,
    )
    return _STORAGE_LABELS.get(
        key,
        lambda: (
            storage_label(s, views, logical, marks, owner, members, strips),
            storage_title(s, owner),
        ),
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
    members: dict[str, list[TensorNode]] = {}
    for t in graph.tensors:
        if t.storage is not None:
            members.setdefault(t.storage, []).append(t)
    labels = {t.id: t.label for t in graph.tensors}
    by_id = {t.id: t for t in graph.tensors}
    contents = {t.id: _tensor_content(t) for t in graph.tensors}  # the labels' memo keys
    # Units laid out in rows: (left node, right node) of what shares nothing, per cluster.
    lone: dict[str, list[tuple[str, str]]] = {}
    strips = len(graph.storages) <= VIEW_STRIPS_UP_TO
    for s in graph.storages:
        key = cluster_key(s.device, s.pinned)
        storage_cluster[s.id] = key
        cluster_names[key] = cluster_label(s.device, s.pinned)
        s_marks = marks.get(s.id, [])
        fill = "#ffe0b2" if "pinned by small views" in s_marks else "#eceff1"
        pen = ', color="#2e7d32", penwidth=2' if "new" in s_marks else ""
        on_it = members.get(s.id, [])
        owner = _owner_label(s, on_it, labels)
        label, title = _storage_texts(
            s, views.get(s.id, 0), logical.get(s.id, 0), s_marks, owner, on_it, contents,
            strips,
        )
        tooltip = f"{title} ({s.id}, {format_bytes(s.nbytes)} on {s.device})"
        clusters.setdefault(key, []).append(
            f'    {s.id} [shape=box3d, style=filled, fillcolor="{fill}"{pen}, label={label}, '
            f"tooltip={_quoted(tooltip)}];"
        )
        if len(on_it) == 1 and on_it[0].base is None and not s_marks:
            lone.setdefault(key, []).append((on_it[0].id, s.id))
    for t in graph.tensors:
        key = storage_cluster.get(t.storage or "", cluster_key(t.device, False))
        cluster_names.setdefault(key, cluster_label(t.device, False))
        color = "#c62828" if t.self_overlap else ("#1565c0" if t.library == "torch" else "#2e7d32")
        pen = ", penwidth=3" if "new sharing" in marks.get(t.id, []) else ""
        base = labels.get(t.base) if t.base is not None else None
        label, tooltip = _tensor_texts(t, contents[t.id], base)
        clusters.setdefault(key, []).append(
            f"    {t.id} [shape=box, style=rounded, color=\"{color}\"{pen}, "
            f"label={label}, tooltip={tooltip}];"
        )
    for g in graph.groups:
        key = cluster_key(g.device, False)
        cluster_names.setdefault(key, cluster_label(g.device, False))
        tooltip = f"{g.label}: {g.count} tensors/arrays, {format_bytes(g.nbytes)}"
        clusters.setdefault(key, []).append(
            f'    {g.id} [shape=folder, color="#90a4ae", label={group_label(g)}, '
            f"tooltip={_quoted(tooltip)}];"
        )
        lone.setdefault(key, []).append((g.id, g.id))
    for key, units in lone.items():
        # Invisible links chain units into rows: unlinked nodes would stack in one column.
        clusters[key].extend(
            f"    {units[i - 1][1]} -> {units[i][0]} [style=invis];"
            for i in range(1, len(units)) if i % UNITS_PER_ROW
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
            # Said in the view's box ("view of x"): an edge label would land on other text.
            lines.append(f'  {t.id} -> {t.base} [style=dotted, color="#9e9e9e", constraint=false];')
    # A view lying inside a whole tensor (a row of its matrix) is expected: the shared storage
    # box says so. Red links are kept for the overlaps a user would not guess: partial ones.
    for e in graph.overlaps:
        a, b = by_id[e.a], by_id[e.b]
        if a.contains(b) or b.contains(a):
            continue
        label = "overlap" if e.exact else "may overlap"
        lines.append(
            f'  {e.a} -> {e.b} [dir=both, color="#c62828", penwidth=2, style=bold, '
            f'label="{label}", fontcolor="#c62828", fontsize=9, constraint=false];'
        )
    notes = list(graph.notes) + list(graph.problems) + list(graph.truncated)
    if notes or graph.totals or graph.not_allocated:
        lines.append(f"  label={header_label(graph, notes)}; labeljust=l; labelloc=t;")
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
