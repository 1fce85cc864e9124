"""The storage graph: storages, the tensors/arrays that view them, and which of those overlap.

Plain data only (ints and strings): a graph never holds a reference to a user's tensor, so it
can be kept, diffed and serialised without keeping memory alive. Its JSON form is the
``tensorviews.graph/1`` contract of design.md. Rendering lives in ``render_dot``/``render_text``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kernel_ext.overlap import Layout

SCHEMA = "tensorviews.graph/1"
MIME_TYPE = "application/vnd.tensorviews.graph+json"


# Nodes are plain slotted records, built by the thousand on every changed cell: frozen
# dataclasses cost twice as much to construct. Treat them as read-only all the same.
@dataclass(slots=True)
class StorageNode:
    id: str
    device: str  # "cpu", "cuda:0", "meta", ... ; pinned host memory is "cpu" with pinned=True
    nbytes: int | None
    pinned: bool = False
    libraries: tuple[str, ...] = ()  # which libraries have views on it: ("numpy", "torch")


@dataclass(slots=True)
class TensorNode:
    id: str
    names: tuple[str, ...]
    library: str  # "torch" | "numpy"
    type_name: str
    storage: str | None  # None: no strided storage (sparse, nested tensors)
    shape: tuple[int, ...]
    stride: tuple[int, ...] | None  # elements; None when a byte stride is not a whole element
    offset: int | None  # elements from the storage start; None when not a whole element
    byte_offset: int
    stride_bytes: tuple[int, ...]
    dtype: str
    itemsize: int
    device: str
    layout: str = "strided"
    base: str | None = None  # id of the tensor this is a view of, when it is in the graph
    requires_grad: bool = False
    is_parameter: bool = False
    self_overlap: bool = False  # two of its own elements share memory (expand, zero strides)
    uid: int = 0  # the snapshotter's serial number for the object: matches it across cells

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def logical_nbytes(self) -> int:
        return self.numel * self.itemsize

    def extent(self) -> tuple[int, int]:
        """Half-open byte range ``[lo, hi)`` it touches, relative to its storage's start."""
        return Layout(self.byte_offset, self.shape, self.stride_bytes, self.itemsize).extent()

    def contains(self, other: TensorNode) -> bool:
        """Every byte of ``other`` is a byte of this one (this one has no holes and spans it)."""
        if self.storage is None or self.storage != other.storage or self.self_overlap:
            return False
        lo, hi = self.extent()
        o_lo, o_hi = other.extent()
        dense = hi - lo == self.logical_nbytes
        return dense and lo <= o_lo and o_hi <= hi

    @property
    def is_tied(self) -> bool:
        """One parameter under several module paths (an embedding tied to an output layer)."""
        return self.is_parameter and len(self.names) > 1

    @property
    def label(self) -> str:
        return self.names[0] if self.names else f"<{self.id}>"


@dataclass(slots=True)
class OverlapEdge:
    a: str
    b: str
    exact: bool = True  # False: the work bound was reached and "may overlap" is reported


@dataclass(slots=True)
class GroupNode:
    """Tensors folded into one node when a drawing is capped ("model.layers.3.*")."""

    id: str
    label: str
    device: str
    count: int
    nbytes: int


@dataclass(frozen=True)
class StorageGraph:
    storages: tuple[StorageNode, ...] = ()
    tensors: tuple[TensorNode, ...] = ()
    overlaps: tuple[OverlapEdge, ...] = ()
    problems: tuple[str, ...] = ()  # one short line per object that could not be read
    truncated: tuple[str, ...] = ()  # where a walk bound cut the graph short
    notes: tuple[str, ...] = ()  # insights and what a view left out, one line each
    groups: tuple[GroupNode, ...] = ()
    marks: tuple[tuple[str, str], ...] = ()  # (node id, why it is highlighted)
    _index: dict[str, TensorNode] = field(default_factory=dict, compare=False, repr=False)

    def tensor(self, tensor_id: str) -> TensorNode:
        if not self._index:
            self._index.update((t.id, t) for t in self.tensors)
        return self._index[tensor_id]

    def by_name(self, name: str) -> TensorNode | None:
        for t in self.tensors:
            if name in t.names:
                return t
        return None

    def views_of(self, storage_id: str) -> list[TensorNode]:
        return [t for t in self.tensors if t.storage == storage_id]

    def overlapping(self, a_name: str, b_name: str) -> bool:
        """Do the tensors named ``a_name`` and ``b_name`` share at least one element?"""
        a, b = self.by_name(a_name), self.by_name(b_name)
        if a is None or b is None:
            raise KeyError(a_name if a is None else b_name)
        if a.id == b.id:
            return a.numel > 0
        return any({e.a, e.b} == {a.id, b.id} for e in self.overlaps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "storages": [
                {
                    "id": s.id, "device": s.device, "nbytes": s.nbytes, "pinned": s.pinned,
                    "libraries": list(s.libraries),
                }
                for s in self.storages
            ],
            "tensors": [
                {
                    "id": t.id, "names": list(t.names), "library": t.library,
                    "type": t.type_name, "storage": t.storage, "shape": list(t.shape),
                    "stride": None if t.stride is None else list(t.stride),
                    "offset": t.offset, "byte_offset": t.byte_offset,
                    "stride_bytes": list(t.stride_bytes), "dtype": t.dtype,
                    "itemsize": t.itemsize, "device": t.device, "layout": t.layout,
                    "base": t.base, "requires_grad": t.requires_grad,
                    "is_parameter": t.is_parameter, "self_overlap": t.self_overlap,
                    "logical_nbytes": t.logical_nbytes,
                }
                for t in self.tensors
            ],
            "overlaps": [{"a": e.a, "b": e.b, "exact": e.exact} for e in self.overlaps],
            "problems": list(self.problems),
            "truncated": list(self.truncated),
            "notes": list(self.notes),
            "groups": [
                {"id": g.id, "label": g.label, "device": g.device, "count": g.count,
                 "nbytes": g.nbytes}
                for g in self.groups
            ],
            "marks": [{"id": node, "why": why} for node, why in self.marks],
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_dot(self) -> str:
        from kernel_ext.render_dot import render_dot

        return render_dot(self)

    def to_svg(self) -> str:
        from kernel_ext.render_dot import render_svg

        return render_svg(self.to_dot())

    def to_text(self) -> str:
        from kernel_ext.render_text import render_text

        return render_text(self)

    def subgraph(self, names: list[str]) -> StorageGraph:
        """Tensors whose access paths start with one of ``names``, plus everything sharing
        a storage with them (``model.encoder`` selects ``model.encoder.layers.0.weight``)."""

        def matches(path: str) -> bool:
            return any(
                path == n or path.startswith((n + ".", n + "[")) for n in names
            )

        picked = {t.id for t in self.tensors if any(matches(p) for p in t.names)}
        storages = {t.storage for t in self.tensors if t.id in picked and t.storage}
        keep = [t for t in self.tensors if t.id in picked or t.storage in storages]
        keep_ids = {t.id for t in keep}
        return StorageGraph(
            storages=tuple(s for s in self.storages if s.id in storages),
            tensors=tuple(keep),
            overlaps=tuple(e for e in self.overlaps if e.a in keep_ids and e.b in keep_ids),
            problems=self.problems,
            truncated=self.truncated,
            notes=self.notes,
            marks=tuple(m for m in self.marks if m[0] in keep_ids or m[0] in storages),
        )
