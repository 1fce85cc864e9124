"""What the server knows about running kernels, from their snapshot files. No pygls here.

`LiveKernels.scan()` re-reads only the files whose size or modification time changed and drops
kernels whose process is gone; `match(uri)` finds the kernel running a document (by notebook
path); `known_types` and `describe` turn a kernel's name summary into rule inputs and hover text.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote, urlparse

from tensorviews.live.files import (
    KernelSnapshot,
    pid_alive,
    read_snapshot,
    snapshot_dir,
    snapshot_files,
)
from tensorviews.rules import ContainerKind

RULE_KINDS = frozenset({"torch", "numpy", "array", "list", "other"})
_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_MAX_SHARERS = 5


def uri_path(uri: str) -> str | None:
    """The file system path of a `file:` URI, else None."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return os.path.normpath(unquote(parsed.path))


def path_matches(kernel_path: str, document_path: str) -> bool:
    """Is the kernel's notebook path this document? Relative kernel paths (Jupyter Server's
    `JPY_SESSION_NAME` is relative to its root) match as a suffix of whole path parts."""
    kernel_path = os.path.normpath(kernel_path)
    if os.path.isabs(kernel_path):
        return kernel_path == document_path or os.path.realpath(kernel_path) == os.path.realpath(
            document_path
        )
    return document_path == kernel_path or document_path.endswith(os.sep + kernel_path)


@dataclass
class LiveKernels:
    """The live kernels in one snapshot folder, refreshed by `scan`."""

    folder: Path = field(default_factory=snapshot_dir)
    kernels: dict[Path, KernelSnapshot] = field(default_factory=dict)
    _seen: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def scan(self) -> tuple[list[KernelSnapshot], list[KernelSnapshot]]:
        """Refresh from disk; return (new or updated kernels, kernels that went away)."""
        updated: list[KernelSnapshot] = []
        present = set()
        for path in snapshot_files(self.folder):
            present.add(path)
            try:
                info = path.stat()
            except OSError:
                continue
            stamp = (info.st_mtime_ns, info.st_size)
            if self._seen.get(path) == stamp:
                continue
            snapshot = read_snapshot(path)
            self._seen[path] = stamp
            if snapshot is not None:
                self.kernels[path] = snapshot
                updated.append(snapshot)
        gone = [
            snap
            for path, snap in list(self.kernels.items())
            if path not in present or not pid_alive(snap.pid)
        ]
        for snap in gone:
            self.kernels.pop(snap.path, None)
            if snap.path not in present:
                self._seen.pop(snap.path, None)
        updated = [snap for snap in updated if snap.path in self.kernels]
        return updated, gone

    def match(self, uri: str) -> KernelSnapshot | None:
        """The most recently updated kernel whose notebook is the document at `uri`."""
        path = uri_path(uri)
        if path is None:
            return None
        found = [
            snap
            for snap in self.kernels.values()
            if snap.notebook_path and path_matches(snap.notebook_path, path)
        ]
        return max(found, key=lambda snap: snap.time, default=None)

    def latest(self) -> KernelSnapshot | None:
        """The most recently updated kernel of all."""
        return max(self.kernels.values(), key=lambda snap: snap.time, default=None)


def known_types(
    snapshot: KernelSnapshot | None,
) -> tuple[dict[str, ContainerKind], dict[str, int]]:
    """Rule inputs: name -> ContainerKind (known kinds only) and name -> ndim for arrays."""
    if snapshot is None:
        return {}, {}
    kinds: dict[str, ContainerKind] = {}
    ndims: dict[str, int] = {}
    for name, fact in snapshot.names.items():
        # Snapshot files come from other processes: a wrongly typed entry is skipped.
        kind = fact.get("kind") if isinstance(fact, dict) and isinstance(name, str) else None
        if isinstance(kind, str) and kind in RULE_KINDS:
            kinds[name] = cast(ContainerKind, kind)
            ndim = fact.get("ndim")
            if isinstance(ndim, int) and not isinstance(ndim, bool) and ndim >= 0:
                ndims[name] = ndim
    return kinds, ndims


def name_at(line: str, column: int) -> list[str]:
    """Candidate names under a cursor: the dotted path up to the hovered part, then its root."""
    for match in _DOTTED_NAME.finditer(line):
        if match.start() <= column <= match.end():
            parts = match.group().split(".")
            offset = match.start()
            for index, part in enumerate(parts):
                offset += len(part)
                if column <= offset:
                    path = ".".join(parts[: index + 1])
                    return [path] if index == 0 else [path, parts[0]]
                offset += 1
    return []


@dataclass(frozen=True)
class TensorFacts:
    """The facts of one tensor or array that a hover shows, every field type-checked."""

    names: tuple[str, ...]
    id: str | None
    library: str
    dtype: str
    shape: tuple[int, ...]
    device: str
    storage: str | None
    offset: int | None

    @classmethod
    def from_entry(cls, entry: object) -> TensorFacts | None:
        """An entry of a snapshot file (another process wrote it): None when a field has the
        wrong type, so one bad entry is skipped and the rest still used."""
        if not isinstance(entry, dict):
            return None
        names, shape = entry.get("names", []), entry.get("shape")
        texts = [entry.get(key) for key in ("library", "dtype", "device")]
        storage, offset, ident = entry.get("storage"), entry.get("offset"), entry.get("id")
        if not (
            isinstance(names, list)
            and all(isinstance(item, str) for item in names)
            and isinstance(shape, list)
            and all(_is_int(size) for size in shape)
            and all(isinstance(text, str) for text in texts)
            and (storage is None or isinstance(storage, str))
            and (offset is None or _is_int(offset))
            and (ident is None or isinstance(ident, str))
        ):
            return None
        library, dtype, device = (str(text) for text in texts)
        return cls(
            names=tuple(names),
            id=ident,
            library=library,
            dtype=dtype,
            shape=tuple(shape),
            device=device,
            storage=storage,
            offset=offset,
        )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def tensor_facts(graph: dict[str, Any]) -> list[TensorFacts]:
    """The well-formed tensor entries of a snapshot's graph."""
    entries = graph.get("tensors")
    if not isinstance(entries, list):
        return []
    return [facts for entry in entries if (facts := TensorFacts.from_entry(entry)) is not None]


def describe(snapshot: KernelSnapshot, name: str) -> str | None:
    """One line of live facts about `name`, or None when the kernel does not know it."""
    tensors = tensor_facts(snapshot.graph)
    tensor = next((t for t in tensors if name in t.names), None)
    if tensor is None:
        # Kernels draw only the interesting part of big graphs; a tensor alone on its
        # storage is then described by the name summary, which has its facts too.
        fact = snapshot.names.get(name)
        if not isinstance(fact, dict):
            return None
        if "shape" not in fact:
            label = next(
                (v for v in (fact.get("type"), fact.get("kind")) if isinstance(v, str)), "object"
            )
            return f"{name}: {label}"
        tensor = TensorFacts.from_entry({**fact, "names": [name]})
        if tensor is None:
            return None
    shape = ", ".join(str(n) for n in tensor.shape)
    line = f"{name}: {tensor.library}.{tensor.dtype} [{shape}] on {tensor.device}"
    if tensor.storage is None:
        return f"{line}, no strided storage"
    sharers = [
        (t.names[0] if t.names else t.id or "?")
        for t in tensors
        if t.storage == tensor.storage and t is not tensor and name not in t.names
    ]
    if sharers:
        shown = ", ".join(sharers[:_MAX_SHARERS])
        more = len(sharers) - _MAX_SHARERS
        line += f", shares memory with {shown}"
        line += f" and {more} more" if more > 0 else ""
    return line + ("" if tensor.offset is None else f", offset {tensor.offset}")


def graph_message(uri: str | None, snapshot: KernelSnapshot) -> dict[str, Any]:
    """The params of `tensorviews/graph` and the answer of `tensorviews/latestGraph`."""
    return {
        "uri": uri,
        "kernelId": snapshot.kernel_id,
        "notebookPath": snapshot.notebook_path,
        "graph": snapshot.graph,
    }
