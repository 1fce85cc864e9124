"""Live channel, kernel side: after each cell, the graph and a name -> type summary go to a file.

A graph listener of the extension writes ``kernel-<id>.json`` in the runtime dir's
``tensorviews/`` folder (``tensorviews/live/files.py``: a private folder, atomic 0600 writes,
reads that never block) for the language server and the jupyter-server extension. The write is
skipped when neither the graph (the snapshotter hands back the same object when nothing
changed) nor the kinds of the other top-level names changed, so an idle cell costs one pass over
the namespace's names; and when the file would hold what it holds (the names summary and the
drawing equal, as after ``x = torch.rand(3)`` run again beside ten thousand tensors), so readers
redraw only what changed. ``%tensorviews live on|off|status`` controls it. A folder that is not
this user's private directory is refused with one line, and nothing is written.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import time
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tensorviews.graph.model import StorageGraph, TensorNode
from tensorviews.graph.namespace_walk import NameFilter
from tensorviews.live.files import (
    MAX_SNAPSHOT_BYTES,
    SNAPSHOT_SCHEMA,
    UnsafeFolder,
    ensure_private_dir,
    remove_dead,
    remove_snapshot,
    snapshot_dir,
    snapshot_path,
    write_atomic,
)
from tensorviews.live.value_kinds import kind_of_type
from tensorviews.view import DocumentMemo

if TYPE_CHECKING:
    from kernel_ext.extension import TensorViews

CLEANUP_EVERY_S = 30.0
# The names summary is for the language server's hovers and rules; past this many names the
# rest are counted (`namesOmitted`), so the file stays far below what readers accept.
MAX_SUMMARY_NAMES = 20_000
# Not data: never the container of a subscript swap, and noisy in a summary.
_NOT_DATA = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type)


def kernel_identity() -> str:
    """The kernel id from the connection file name (``kernel-<id>.json``), else ``pid-<pid>``."""
    with contextlib.suppress(Exception):  # not in a kernel, or ipykernel missing
        from ipykernel.connect import get_connection_file

        name = os.path.basename(get_connection_file())
        if name.startswith("kernel-") and name.endswith(".json"):
            return name[len("kernel-") : -len(".json")]
    return f"pid-{os.getpid()}"


def notebook_path(namespace: Mapping[str, Any]) -> str | None:
    """The notebook (or file) the front end says this kernel runs, when it says."""
    vscode = namespace.get("__vsc_ipynb_file__")
    if isinstance(vscode, str) and vscode:
        return vscode
    return os.environ.get("JPY_SESSION_NAME") or None


def other_kinds(namespace: Mapping[str, Any], skip: Any) -> dict[str, tuple[str, str]]:
    """name -> (kind, type name) for the top-level names worth telling the language server."""
    names = [name for name in list(namespace) if type(name) is not str or not skip(name)]
    return kinds_of(names, [type(namespace[name]) for name in names])


def kinds_of(names: Sequence[Any], types: Sequence[type]) -> dict[str, tuple[str, str]]:
    """``other_kinds`` of names whose values have ``types``: each type classified once (ten
    thousand tensors under their own names are one ``torch`` lookup)."""
    by_type: dict[type, tuple[str, str] | None] = {}
    kinds: dict[str, tuple[str, str]] = {}
    for name, tp in zip(names, types, strict=True):
        if type(name) is not str or name.startswith("__"):  # globals()[1] = x
            continue
        if tp in by_type:
            found = by_type[tp]
        else:
            found = by_type[tp] = _kind_of_type(tp)
        if found is not None:
            kinds[name] = found
    return kinds


def _kind_of_type(tp: type) -> tuple[str, str] | None:
    """(kind, type name) of values of type ``tp``; None for what is not data."""
    name = type.__dict__["__name__"].__get__(tp)  # never a metaclass's own ``__name__``
    try:
        if issubclass(tp, _NOT_DATA):
            return None
        return (kind_of_type(tp) or "unknown", name)
    except Exception:  # a hostile metaclass: claim nothing about it
        return ("unknown", name)


def summarize(
    graph: StorageGraph, kinds: Mapping[str, tuple[str, str]], limit: int = MAX_SUMMARY_NAMES
) -> tuple[dict[str, Any], int]:
    """The ``names`` part of a snapshot file (arrays from the graph, other kinds from the walk),
    at most ``limit`` names, arrays first; and how many names were left out."""
    names: dict[str, Any] = {}
    omitted = 0
    for p in graph.index().named:  # item paths (`ts[3]`) are never top-level names
        t = graph.tensors[p]
        for name in t.names:
            if name.isidentifier() and name not in names:
                if len(names) >= limit:
                    omitted += 1
                    continue
                names[name] = _entry(t)
    for name, (kind, type_name) in kinds.items():
        if name in names:
            continue
        if len(names) >= limit:
            omitted += 1
            continue
        names[name] = {"kind": kind, "type": type_name}
    return names, omitted


def _entry(t: TensorNode) -> dict[str, Any]:
    return {
        "kind": t.library, "type": t.type_name, "library": t.library,
        "shape": list(t.shape), "ndim": len(t.shape), "dtype": t.dtype,
        "device": t.device, "storage": t.storage, "offset": t.offset, "tensor": t.id,
    }


@dataclass(frozen=True)
class NamesSummary:
    """A graph's ``summarize``, kept to make the next graph's from."""

    graph: StorageGraph
    kinds: Mapping[str, tuple[str, str]]
    names: dict[str, Any]
    omitted: int


def summarize_after(
    last: NamesSummary | None, graph: StorageGraph, kinds: Mapping[str, tuple[str, str]]
) -> NamesSummary:
    """``summarize(graph, kinds)``. For a graph patched from ``last``'s with the same kinds,
    whose replaced rows carry the same names at the same places and storages (a name rebound
    beside ten thousand), the last summary with those rows' entries made again."""
    replaced = graph.index().replaced
    if (
        last is None or last.omitted or kinds is not last.kinds or replaced is None
        or replaced.parent is not last.graph.index().token
        or replaced.old_rows != replaced.rows
        or len(replaced.old_storages) != len(replaced.storages)
        or any(graph.tensors[p].names != last.graph.tensors[p].names for p in replaced.rows)
    ):
        return NamesSummary(graph, kinds, *summarize(graph, kinds))
    names = dict(last.names)  # the other rows' entries: same names, tensors and storages
    for p in replaced.rows:
        for name in graph.tensors[p].names:
            entry = names.get(name)
            if entry is not None and entry.get("tensor") == f"t{p}":  # this row's name
                names[name] = _entry(graph.tensors[p])
    return NamesSummary(graph, kinds, names, 0)


class LiveChannel:
    """Writes this kernel's snapshot file; removes it on unload and at exit."""

    def __init__(self, state: TensorViews, folder: Path | None = None) -> None:
        self.state = state
        self.folder = folder if folder is not None else snapshot_dir()
        self.kernel_id = kernel_identity()
        self.path = snapshot_path(self.folder, self.kernel_id)
        self.enabled = True
        self.seq = 0
        self._last_graph: StorageGraph | None = None
        self._last_kinds: dict[str, tuple[str, str]] | None = None
        self._names = NameFilter()
        self._last_signature: tuple[list[Any], tuple[type, ...]] | None = None
        self._kinds: dict[str, tuple[str, str]] = {}
        self._last_cleanup = -CLEANUP_EVERY_S
        self._documents = DocumentMemo()
        self._summary: NamesSummary | None = None  # of the last graph written
        self._last_names: dict[str, Any] | None = None  # the last name summary, and its JSON
        self._names_text = "{}"
        self._written: tuple[str, int, str | None, str] | None = None  # what the file holds
        self.problem: str | None = None

    def on_graph(self, graph: StorageGraph) -> None:
        """Graph listener: write the snapshot file when something changed."""
        if not self.enabled:
            return
        namespace = self.state.shell.user_ns
        # The kinds only depend on the names and their values' types: unchanged (C-level
        # passes), nothing to classify or write.
        signature = self.state.snapshotter.names_seen  # the snapshot's: same names, same rule
        if signature is None:
            names, values = self._names.kept(namespace, self.state.name_rule())
            signature = (names, tuple(map(type, values)))
            del values  # nothing of the user's is kept
        if signature != self._last_signature:
            self._last_signature = signature
            self._kinds = kinds_of(*signature)
        elif graph is self._last_graph:
            return
        kinds = self._kinds
        if graph is self._last_graph and kinds == self._last_kinds:
            return
        self.write(graph, kinds, namespace)
        self._last_graph, self._last_kinds = graph, kinds

    def write(
        self,
        graph: StorageGraph,
        kinds: Mapping[str, tuple[str, str]],
        namespace: Mapping[str, Any],
    ) -> None:
        now = time.time()
        self._summary = summarize_after(self._summary, graph, kinds)
        names, omitted = self._summary.names, self._summary.omitted
        if names != self._last_names:  # comparing costs a tenth of encoding ten thousand
            self._last_names, self._names_text = names, json.dumps(names)
        path = notebook_path(namespace)
        # What a person looks at: the interesting part, as `%tensorgraph` draws it, so ten
        # thousand tensors that share nothing cost nothing to write or to draw; its JSON is
        # the last cell's when it draws the same.
        shown = self._documents.json(self.state.display_graph(graph))
        content = (self._names_text, omitted, path, shown)
        if content == self._written:
            # The same file but for its time (a lone tensor rebound beside ten thousand):
            # not written, so readers have nothing to redraw.
            return
        head = {
            "schema": SNAPSHOT_SCHEMA,
            "kernelId": self.kernel_id,
            "pid": os.getpid(),
            "notebookPath": path,
            "time": now,
            "seq": self.seq + 1,
        }
        text = (  # the head, then names, namesOmitted and graph; ASCII: a byte per character
            f'{json.dumps(head)[:-1]}, "names": {self._names_text}, '
            f'"namesOmitted": {json.dumps(omitted)}, "graph": {shown}}}'
        )
        if len(text) > MAX_SNAPSHOT_BYTES:
            # One line once (the report repeats no line); the size itself is in the status.
            self.state.report(
                f"live file not written: over the {MAX_SNAPSHOT_BYTES // 2**20} MiB readers"
                " accept"
            )
            self.problem = f"live file not written: {len(text) / 2**20:.1f} MiB is too big"
            return
        try:
            try:  # the folder is checked on every write (``write_atomic``), made once
                write_atomic(self.path, text)
            except FileNotFoundError:
                ensure_private_dir(self.folder)
                write_atomic(self.path, text)
        except UnsafeFolder as unsafe:
            # Nothing is written into (or deleted from) a folder someone else may control.
            self.problem = f"live file not written: {unsafe}"
            self.state.report(self.problem)
            return
        if now - self._last_cleanup >= CLEANUP_EVERY_S:
            self._last_cleanup = now
            remove_dead(self.folder, keep=self.path)
        self.seq += 1
        self.problem = None
        self._written = content

    def remove(self) -> None:
        """Delete this kernel's file (unload, exit, ``live off``); never through a link."""
        remove_snapshot(self.path)
        self._last_graph = self._last_kinds = self._last_names = self._written = None
        self._summary = None
        self._documents.forget()

    def command(self, rest: str) -> None:
        """``%tensorviews live [on|off|status]``."""
        word = rest.strip() or "status"
        if word == "on":
            self.enabled = True
            self.on_graph(self.state.update())  # code earlier in this cell may have run
        elif word == "off":
            self.enabled = False
            self.remove()
        elif word != "status":
            from IPython.core.error import UsageError

            raise UsageError("usage: %tensorviews live [on|off|status]")
        print(self.status())

    def status(self) -> str:
        state = "on" if self.enabled else "off"
        line = (f"tensorviews live: {state}, kernel {self.kernel_id}, file {self.path},"
                f" seq {self.seq}")
        return line if self.problem is None else f"{line}; {self.problem}"

    def uninstall(self) -> None:
        atexit.unregister(self.remove)
        self.remove()
        with contextlib.suppress(ValueError):
            self.state.graph_listeners.remove(self.on_graph)


def install(state: TensorViews) -> None:
    """Feature entry point: write snapshot files after every cell."""
    channel = LiveChannel(state)
    state.graph_listeners.append(channel.on_graph)
    state.subcommands["live"] = channel.command
    state.status_lines.append(channel.status)
    state.uninstallers.append(channel.uninstall)
    atexit.register(channel.remove)
