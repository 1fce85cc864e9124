"""One columnar table of tensor and array metadata: every row a tensor or array, read once.

A snapshot reads what it finds into ``Columns``: numpy columns for the numbers that grouping,
merging and diffs compute on (storage key, storage start and size, address of element 0, item
size, ndim, version counter, flags), Python lists for the rest (shape, byte strides, dtype,
device, type name, library, layout, the id of the base, DTensor/FSDP details for the rows that
have them). Everything is read up front: the table holds ints and strings only, never a
tensor, so a graph built from it can be kept, diffed and drawn after the tensors are gone.

Two ways in, one shape out:
- ``read_plain_tensors``: many plain ``torch.Tensor``s (one container's items), each column
  read by a C-level ``map`` over an unbound method or ``attrgetter``: no Python step per tensor
  except for the few that are not contiguous (can they overlap themselves?);
- ``columns_of``: rows read one by one (``array_meta.torch_meta``/``numpy_meta``), for
  top-level names, module parameters, small or mixed containers and every exotic tensor
  (sparse, nested, quantized, subclasses, DTensor/FSDP through ``distributed``), and arrays.

``concat`` joins the pieces in walk order.
"""

from __future__ import annotations

import math
import operator
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import count, repeat
from types import ModuleType
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from tensorviews.graph.array_meta import ArrayMeta, dtype_name
from tensorviews.graph.namespace_walk import item_path
from tensorviews.graph.object_ids import id_column, packed_ids
from tensorviews.graph.overlap import Layout, has_internal_overlap
from tensorviews.graph.sharding import DTensorInfo, FlatParamInfo, UnshardedInfo

Ints = NDArray[np.int64]
Flags = NDArray[np.bool_]

NO_STORAGE = 0  # storage key of a row without a strided storage (sparse, nested, wrappers)
UNREAD_BASE = -1  # base_id of a row whose base was not read: see ``read_plain_tensors``
UNKNOWN_SIZE = -1  # storage size of numpy arrays over foreign memory (bytes, mmap, ...)


@dataclass(slots=True)
class RowExtra:
    """What a few rows carry besides the common columns: DTensor and FSDP details."""

    dtensor: DTensorInfo | None = None
    flat_param: FlatParamInfo | None = None
    unsharded: UnshardedInfo | None = None


@dataclass(slots=True)
class Columns:
    """Metadata of some tensors/arrays, one column per field, rows in walk order."""

    storage_key: Ints  # NO_STORAGE: none; else the storage's identity (see StorageKey)
    storage_start: Ints  # address of the storage's first byte (0: meta, fake, none)
    storage_nbytes: Ints  # UNKNOWN_SIZE for numpy over foreign memory
    start: Ints  # address of element 0
    itemsize: Ints
    ndim: Ints
    numel: Ints
    # torch's version counter when the row was read (a row kept after a write in place
    # keeps it); -1 for arrays and inference tensors
    version: Ints
    # id() of the object this is a view of; 0: none; UNREAD_BASE: not read (see
    # ``read_plain_tensors``)
    base_id: Ints
    requires_grad: Flags
    parameter: Flags
    self_overlap: Flags  # two of its own elements share memory (expand, zero strides)
    # Every byte of [start, start + numel * itemsize) is one element's (contiguous, not empty):
    # two such rows overlap exactly when those ranges meet.
    dense: Flags
    pinned: Flags
    allocated: Flags  # False: meta and fake tensors, whose storage holds no memory
    shape: list[tuple[int, ...]]
    strides_bytes: list[tuple[int, ...]]
    dtype: list[str]
    device: list[str]
    type_name: list[str]
    library: list[str]
    layout: list[str]
    extra: dict[int, RowExtra] = field(default_factory=dict)  # row -> DTensor/FSDP details

    def __len__(self) -> int:
        return len(self.shape)


def _ints(values: Any, n: int) -> Ints:
    return np.fromiter(values, dtype=np.int64, count=n)


def _flags(values: Any, n: int) -> Flags:
    return np.fromiter(values, dtype=np.bool_, count=n)


_meta_fields = {
    name: operator.attrgetter(name)
    for name in (
        "storage_start", "start", "itemsize", "requires_grad", "is_parameter", "pinned",
        "allocated", "shape", "strides_bytes", "dtype", "device", "type_name", "library",
        "layout",
    )
}


def columns_of(metas: Sequence[ArrayMeta], self_overlap: Sequence[bool],
               versions: Sequence[int]) -> Columns:
    """Columns of rows read one by one."""
    n = len(metas)
    f = _meta_fields
    shapes = [tuple(s) for s in map(f["shape"], metas)]
    extra = {
        i: RowExtra(m.dtensor, m.flat_param, m.unsharded)
        for i, m in enumerate(metas)
        if m.dtensor is not None or m.flat_param is not None or m.unsharded is not None
    }
    return Columns(
        storage_key=_ints((NO_STORAGE if m.storage_key is None else m.storage_key
                           for m in metas), n),
        storage_start=_ints(map(f["storage_start"], metas), n),
        storage_nbytes=_ints((UNKNOWN_SIZE if m.storage_nbytes is None else m.storage_nbytes
                              for m in metas), n),
        start=_ints(map(f["start"], metas), n),
        itemsize=_ints(map(f["itemsize"], metas), n),
        ndim=_ints(map(len, shapes), n),
        numel=_ints(map(math.prod, shapes), n),
        version=_ints(versions, n),
        base_id=_ints((0 if m.base_id is None else m.base_id for m in metas), n),
        requires_grad=_flags(map(f["requires_grad"], metas), n),
        parameter=_flags(map(f["is_parameter"], metas), n),
        self_overlap=_flags(self_overlap, n),
        dense=_flags(map(_dense_forward, metas), n),
        pinned=_flags(map(f["pinned"], metas), n),
        allocated=_flags(map(f["allocated"], metas), n),
        shape=shapes,
        strides_bytes=[tuple(s) for s in map(f["strides_bytes"], metas)],
        dtype=list(map(f["dtype"], metas)),
        device=list(map(f["device"], metas)),
        type_name=list(map(f["type_name"], metas)),
        library=list(map(f["library"], metas)),
        layout=list(map(f["layout"], metas)),
        extra=extra,
    )


def _dense_forward(m: ArrayMeta) -> bool:
    """Row-major contiguous and not empty (what ``dense`` promises), from shape and strides."""
    if m.storage_key is None:
        return False
    expected = m.itemsize
    for n, s in zip(reversed(m.shape), reversed(m.strides_bytes), strict=True):
        if n != 1 and s != expected:
            return False
        expected *= n
    return expected > 0


_shape_of = operator.attrgetter("shape")
_dtype_of = operator.attrgetter("dtype")
_device_of = operator.attrgetter("device")
_is_cpu = operator.attrgetter("is_cpu")
_requires_grad_of = operator.attrgetter("requires_grad")


@dataclass(slots=True)
class _LayoutFacts:
    """What follows from a (shape, strides, dtype) alone, worked out once for all the rows
    that have it (ten thousand tensors have a handful of distinct layouts)."""

    itemsize: int
    ndim: int
    numel: int
    dense: bool  # row-major contiguous and not empty
    self_overlap: bool
    strides_bytes: tuple[int, ...]
    dtype: str

    @classmethod
    def of(cls, shape: tuple[int, ...], strides: tuple[int, ...], dtype: Any) -> _LayoutFacts:
        itemsize = dtype.itemsize
        strides_bytes = tuple(st * itemsize for st in strides)
        numel = math.prod(shape)
        expected = 1
        contiguous = True
        for n, st in zip(reversed(shape), reversed(strides), strict=True):
            if n != 1 and st != expected:
                contiguous = False
                break
            expected *= n
        # Only a non-contiguous layout (expand, as_strided, a zero stride) can overlap itself;
        # whether it does depends on the layout alone, not on where it starts.
        self_overlap = not contiguous and numel > 0 and has_internal_overlap(
            Layout(0, shape, strides_bytes, itemsize)
        ).may_overlap
        return cls(itemsize, len(shape), numel, contiguous and numel > 0, self_overlap,
                   strides_bytes, dtype_name(dtype))


def _same(values: list[Any]) -> bool:
    """Do all of ``values`` (not empty) equal the first? One C-level pass."""
    return values.count(values[0]) == len(values)


def _int_column(values: list[int]) -> Ints:
    """``values`` as a column; one repeated value (every tensor 12 bytes, at offset 0) is
    filled in rather than converted."""
    n = len(values)
    if n and _same(values):
        return np.full(n, values[0], dtype=np.int64)
    return np.fromiter(values, dtype=np.int64, count=n)


def read_plain_tensors(
    items: Sequence[Any],
    versions: Sequence[int],
    torch: ModuleType,
    requires_grad: list[bool] | None = None,
) -> Columns | None:
    """Columns of ``items``, all of exact type ``torch.Tensor`` and holding no gradient (the
    walk checks both; ``requires_grad`` is what it read, per item, if it did), each field one
    C-level pass; what follows from shape, strides and dtype is worked out once per distinct
    layout, and a field that has one value for all (device, storage offset, size) is filled
    in, not converted. Bases are not read (``UNREAD_BASE``): a base is drawn only when it is
    on its view's storage, so the build asks for those of the rows on shared storages alone.

    ``None`` when the items need the careful one-by-one reading: a layout without a strided
    storage (sparse and mkldnn tensors raise on ``untyped_storage``, nested ones on
    ``stride``), an inference tensor (no version counter: its ``versions`` entry is not an
    int), or anything else that raises.
    """
    tensor = torch.Tensor
    n = len(items)
    try:
        version = np.fromiter(versions, dtype=np.int64, count=n)
        # The storage objects give the key (their identity: see ``StorageKey``), the size and
        # the address. Nothing else tells a storage's size; PyTorch keeps each object with
        # its storage once made.
        storages = list(map(tensor.untyped_storage, items))
        keys = id_column(packed_ids(storages))
        nbytes = _int_column(list(map(torch.UntypedStorage.nbytes, storages)))
        storage_start = np.fromiter(
            map(torch.UntypedStorage.data_ptr, storages), dtype=np.int64, count=n
        )
        del storages
        # torch.Size is a tuple: kept as it is (plain data, no reference to the tensor).
        shapes: list[tuple[int, ...]] = list(map(_shape_of, items))
        strides = list(map(tensor.stride, items))
        dtype_of_row = list(map(_dtype_of, items))
        first_with: dict[tuple[Any, ...], int] = {}
        if n and _same(shapes) and _same(strides) and _same(dtype_of_row):
            # One layout for all (a list of same-shaped tensors): C-level comparisons only.
            first_with[shapes[0], strides[0], dtype_of_row[0]] = 0
            codes = [0] * n
        else:  # each row's layout numbered by the first row that has it: one hash per row
            codes = list(map(
                first_with.setdefault, zip(shapes, strides, dtype_of_row, strict=True),
                count(),
            ))
        del strides, dtype_of_row
        facts = {k: _LayoutFacts.of(*key) for key, k in first_with.items()}
        at = None if len(facts) == 1 else np.array(codes, dtype=np.int64)

        def per_row(field: str, dtype: type) -> Any:
            if at is None:
                return np.full(n, getattr(facts[0], field), dtype=dtype)
            values: Any = np.zeros(n, dtype=dtype)
            for k, f in facts.items():
                values[k] = getattr(f, field)
            return values[at]

        def listed(values: dict[Any, Any], keys: list[Any]) -> list[Any]:
            """The value of each row's key (a list of one repeated value for one key)."""
            if len(values) == 1:
                return [next(iter(values.values()))] * n
            return list(map(values.__getitem__, keys))

        itemsize = per_row("itemsize", np.int64)
        offsets = list(map(tensor.storage_offset, items))
        start = (
            storage_start if n and offsets[0] == 0 and _same(offsets)
            else storage_start + np.fromiter(offsets, dtype=np.int64, count=n) * itemsize
        )
        del offsets
        # Devices: ``is_cpu`` is a bool, where ``device`` makes a new object per call; the
        # device objects (and their names) only for the rows elsewhere.
        cpu = list(map(_is_cpu, items))
        pinned = np.zeros(n, dtype=np.bool_)
        allocated = np.ones(n, dtype=np.bool_)
        device_names: list[str] = ["cpu"] * n
        if not all(cpu):
            others = [i for i, on_cpu in enumerate(cpu) if not on_cpu]
            devices = list(map(_device_of, map(items.__getitem__, others)))
            names = {d: str(d) for d in set(devices)}
            for i, d in zip(others, devices, strict=True):
                device_names[i] = names[d]
                if d.type == "meta":  # meta storages hold no memory
                    allocated[i] = False
        cuda = getattr(torch, "cuda", None)
        if cuda is not None and cuda.is_initialized() and any(cpu):
            # Asking an uninitialised CUDA runtime would start it (seconds, GPU memory); and
            # nothing can be pinned before it started.
            on_cpu = [i for i, c in enumerate(cpu) if c]
            pinned[on_cpu] = list(map(tensor.is_pinned, map(items.__getitem__, on_cpu)))
        del cpu
        if requires_grad is None:
            requires_grad = list(map(_requires_grad_of, items))
        grad_flags = (
            np.fromiter(requires_grad, dtype=np.bool_, count=n) if True in requires_grad
            else np.zeros(n, dtype=np.bool_)
        )
        strides_bytes = {k: f.strides_bytes for k, f in facts.items()}
        dtypes = {k: f.dtype for k, f in facts.items()}
    except Exception:  # an exotic tensor among them: read them one by one instead
        return None
    return Columns(
        storage_key=keys, storage_start=storage_start, storage_nbytes=nbytes, start=start,
        itemsize=itemsize, ndim=per_row("ndim", np.int64),
        numel=per_row("numel", np.int64), version=version,
        base_id=np.full(n, UNREAD_BASE, dtype=np.int64), requires_grad=grad_flags,
        parameter=np.zeros(n, dtype=np.bool_),
        self_overlap=per_row("self_overlap", np.bool_),
        dense=per_row("dense", np.bool_), pinned=pinned, allocated=allocated,
        shape=shapes, strides_bytes=listed(strides_bytes, codes),
        dtype=listed(dtypes, codes), device=device_names,
        type_name=["Tensor"] * n, library=["torch"] * n, layout=["strided"] * n,
    )


NUMERIC_COLUMNS = (
    "storage_key", "storage_start", "storage_nbytes", "start", "itemsize", "ndim", "numel",
    "version",
    "base_id", "requires_grad", "parameter", "self_overlap", "dense", "pinned", "allocated",
)
OBJECT_COLUMNS = ("shape", "strides_bytes", "dtype", "device", "type_name", "library", "layout")


def concat(parts: Sequence[Columns]) -> Columns:
    """The rows of ``parts``, one after the other."""
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return columns_of([], [], [])
    numeric: dict[str, Any] = {
        name: np.concatenate([getattr(p, name) for p in parts]) for name in NUMERIC_COLUMNS
    }
    objects: dict[str, Any] = {name: [] for name in OBJECT_COLUMNS}
    extra: dict[int, RowExtra] = {}
    offset = 0
    for p in parts:
        for name in OBJECT_COLUMNS:
            objects[name].extend(getattr(p, name))
        extra.update((offset + i, e) for i, e in p.extra.items())
        offset += len(p)
    return Columns(**numeric, **objects, extra=extra)


def spliced(last: MetaTable, rows: MetaTable, a: int, b: int) -> MetaTable:
    """``last`` with its rows ``a <= p < b`` replaced by ``rows`` (as many, or ``b`` is the
    end of ``last``), under the names of ``rows``, which name every row."""
    c, new = last.columns, rows.columns
    numeric: dict[str, Any] = {
        name: replaced_rows(getattr(c, name), a, b, getattr(new, name))
        for name in NUMERIC_COLUMNS
    }
    objects: dict[str, Any] = {
        name: replaced_items(getattr(c, name), a, b, getattr(new, name))
        for name in OBJECT_COLUMNS
    }
    extra = {p: e for p, e in c.extra.items() if p < a}
    extra.update((a + i, e) for i, e in new.extra.items())
    extra.update((p - b + a + len(new), e) for p, e in c.extra.items() if p >= b)
    category = replaced_items(last.category, a, b, rows.category)
    return MetaTable(
        columns=Columns(**numeric, **objects, extra=extra),
        ids=replaced_rows(last.ids, a, b, rows.ids),
        uids=replaced_rows(last.uids, a, b, rows.uids),
        names=rows.names, category=category, tied=replaced_rows(last.tied, a, b, rows.tied),
    )


def rows_of(c: Columns, a: int, b: int) -> Columns:
    """Rows ``a <= p < b`` of ``c``."""
    return Columns(
        **{name: getattr(c, name)[a:b] for name in NUMERIC_COLUMNS},
        **{name: getattr(c, name)[a:b] for name in OBJECT_COLUMNS},
        extra={p - a: e for p, e in c.extra.items() if a <= p < b},
    )


def column_replaced(column: Any, n: int, at: Ints, new: Any) -> Any:
    """The first ``n`` values of the array ``column`` (more: appended) with those ``at``
    replaced by ``new``."""
    out = np.empty(n, dtype=column.dtype)
    m = min(n, len(column))
    out[:m] = column[:m]
    out[at] = new
    return out


def rows_replaced(c: Columns, n: int, at: Ints, new: Columns) -> Columns:
    """The first ``n`` rows of ``c`` (more: rows appended) with the rows ``at`` (ascending,
    all rows past ``c``'s end among them) replaced by those of ``new``, in order."""
    m = min(n, len(c))
    numeric: dict[str, Any] = {
        name: column_replaced(getattr(c, name), n, at, getattr(new, name))
        for name in NUMERIC_COLUMNS
    }
    rows = at.tolist()
    objects: dict[str, Any] = {}
    for name in OBJECT_COLUMNS:
        values = getattr(c, name)[:m]
        values.extend(repeat(None, n - m))
        for i, value in zip(rows, getattr(new, name), strict=True):
            values[i] = value
        objects[name] = values
    replaced = set(rows)
    extra = {p: e for p, e in c.extra.items() if p < m and p not in replaced}
    extra.update((rows[i], e) for i, e in new.extra.items())
    return Columns(**numeric, **objects, extra=extra)


# Columns are never changed in place once made (a graph reads its table for as long as it
# lives): a table patched with rows equal to those it replaces shares the last one's columns.


_Items = TypeVar("_Items", bound=Sequence[Any])


def replaced_items(values: _Items, a: int, b: int, new: list[Any]) -> _Items | list[Any]:
    """``values`` (a list or a range) with ``values[a:b]`` replaced by ``new``: ``values``
    itself when they are equal (a tensor rebound to one of the same shape, dtype and device),
    else a list."""
    if len(new) == b - a and list(values[a:b]) == new:
        return values
    out = list(values)  # the last table stays as it was: its graph reads it
    out[a:b] = new
    return out


def replaced_rows(values: Any, a: int, b: int, new: Any) -> Any:
    """The array ``values`` with ``values[a:b]`` replaced by ``new``: ``values`` itself when a
    few rows are replaced by equal ones (compared as lists: a numpy comparison of a few
    numbers costs more than copying ten thousand), else a copy."""
    if len(new) == b - a:
        if b - a <= 16 and values[a:b].tolist() == new.tolist():
            return values
        out = values.copy()
        out[a:b] = new
        return out
    return np.concatenate((values[:a], new, values[b:]))


def storage_ranges(c: Columns) -> tuple[Ints, Ints]:
    """Per row, the byte range ``[lo, hi)`` of its storage; for memory whose size is not known
    (numpy over foreign memory), what the row reaches; ``0, 0`` without a storage."""
    lo = c.storage_start.copy()
    hi = lo + c.storage_nbytes
    none = c.storage_key == NO_STORAGE
    for i in np.flatnonzero((c.storage_nbytes == UNKNOWN_SIZE) & ~none):
        row = int(i)
        lo[row], hi[row] = Layout(
            int(c.start[row]), c.shape[row], c.strides_bytes[row], int(c.itemsize[row])
        ).extent()
    lo[none] = 0
    hi[none] = 0
    return lo, hi


def ranges_meet(lo: Ints, hi: Ints) -> bool:
    """Do two of the non-empty byte ranges ``[lo[i], hi[i])`` intersect? Empty ranges never
    intersect anything."""
    keep = hi > lo
    lo, hi = lo[keep], hi[keep]
    if len(lo) < 2:
        return False
    # Starts and ends sorted apart: a point lies in ``#(lo <= x) - #(hi <= x)`` ranges, at
    # most one everywhere exactly when the k+1-th start is at or after the k-th end.
    return bool((np.sort(lo)[1:] < np.sort(hi)[:-1]).any())


@dataclass(slots=True)
class NameRun:
    """The access paths of consecutive rows: a container read column-wise (``container``,
    whose items are ``container[i]``, built only when asked), a run of top-level names read
    column-wise (``top_level``: each row is named by its key) or rows read one by one."""

    start: int  # first row
    count: int
    container: str | None = None
    keys: list[Any] | None = None  # a dict's keys (str/int); None for a list or tuple
    extra: dict[int, tuple[str, ...]] = field(default_factory=dict)  # item -> all its paths
    names: list[tuple[str, ...]] = field(default_factory=list)  # rows read one by one
    top_level: bool = False

    def one_by_one(self) -> bool:
        """Is each row named on its own (read one by one, or a top-level name), rather than
        as an item of a container?"""
        return self.container is None or self.top_level


class RowNames:
    """Access paths by row, without building ten thousand item paths per cell."""

    __slots__ = ("_runs", "_starts")

    def __init__(self, runs: list[NameRun]) -> None:
        self._runs = runs
        self._starts = [run.start for run in runs]

    def run_of(self, p: int) -> NameRun:
        return self._runs[bisect_right(self._starts, p) - 1]

    def __call__(self, p: int) -> tuple[str, ...]:
        run = self.run_of(p)
        i = p - run.start
        if run.container is None:
            return run.names[i]
        names = run.extra.get(i)
        return names if names is not None else (
            item_path(run.container, run.keys, i, run.top_level),
        )

    def named_rows(self) -> list[int]:
        """Rows that may have a top-level name: those read one by one, and container items
        also reached another way."""
        rows: list[int] = []
        for run in self._runs:
            if run.one_by_one():
                rows.extend(range(run.start, run.start + run.count))
            else:
                rows.extend(run.start + i for i in sorted(run.extra))
        return rows


@dataclass(slots=True)
class MetaTable:
    """A snapshot's rows: their metadata, who they are, what they are called."""

    columns: Columns
    ids: Ints  # id() of each object when it was read: resolves bases to rows
    uids: Ints  # serial numbers: the same object has the same one across cells
    names: RowNames
    category: list[str]  # parameters, buffers, gradients, optimizer state, other
    tied: Flags  # a parameter a module holds at two places

    def __len__(self) -> int:
        return len(self.columns)
