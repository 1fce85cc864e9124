"""Metadata of torch tensors and numpy arrays, read without touching their data.

Everything here reads shape, strides, offsets, dtype, device and storage identity only: no
``.cpu()``, no printing of values, no synchronisation with an accelerator. torch and numpy are
never imported by this module; the caller passes the modules the user already imported, so a
numpy-only user never pays for importing torch.
"""

from __future__ import annotations

import math
import operator
import sys
import weakref
from dataclasses import dataclass
from itertools import compress, repeat
from types import ModuleType
from typing import Any

from tensorviews.graph.distributed import (
    Subclass,
    flat_param_info,
    original_param_info,
    read_subclass,
    unsharded_info,
)
from tensorviews.graph.overlap import Layout, has_internal_overlap
from tensorviews.graph.sharding import DTensorInfo, FlatParamInfo, UnshardedInfo

# Storage identity inside one snapshot. torch: the StorageImpl's address (unique while it is
# alive, and every storage is alive while a snapshot is taken). numpy: the id() of the object
# at the end of the ``.base`` chain. Both are addresses of live allocations, so they never
# collide. Raw data pointers are only used to merge memory ranges of storages that are all
# alive at the same moment, never remembered across cells.
StorageKey = int


@dataclass(slots=True)
class ArrayMeta:
    library: str  # "torch" | "numpy"
    type_name: str  # e.g. "Tensor", "Parameter", "ndarray", "memmap"
    layout: str  # "strided", or torch's sparse/nested/mkldnn layouts (no storage drawn)
    shape: tuple[int, ...]
    strides_bytes: tuple[int, ...]
    itemsize: int
    dtype: str
    device: str  # "cpu", "cuda:0", "meta", "mps:0", ...
    pinned: bool
    storage_key: StorageKey | None  # None: no strided storage (sparse, nested, ...)
    storage_nbytes: int | None  # None when not known without touching the storage object
    storage_start: int  # address of the storage's first byte (0 for meta and unknown)
    start: int  # address of the element at index 0 (storage_start + byte offset)
    base_id: int | None  # id() of the object this is a view of (torch ``_base``, numpy ``base``)
    requires_grad: bool
    is_parameter: bool
    allocated: bool = True  # False: meta and fake tensors, whose storage holds no memory
    dtensor: DTensorInfo | None = None  # a DTensor drawn as its local tensor
    flat_param: FlatParamInfo | None = None  # an FSDP1 flat parameter's segments
    unsharded: UnshardedInfo | None = None  # an FSDP2 parameter all-gathered now


def _dtype_name(dtype: Any, cache: dict[Any, str]) -> str:
    name = cache.get(dtype)
    if name is None:
        name = str(dtype).removeprefix("torch.")
        cache[dtype] = name
    return name


_DTYPE_NAMES: dict[Any, str] = {}


# Storage id -> (size, address of its first byte), for the storages seen in one snapshot.
StorageInfo = dict[int, tuple[int, int]]


def torch_meta(t: Any, torch: ModuleType, storages: StorageInfo) -> ArrayMeta:
    """Metadata of one torch tensor. Subclasses' ``__torch_function__`` is not invoked.

    ``storages`` caches what was asked of each storage in this snapshot: asking a storage
    creates its Python object the first time (several microseconds), so it is done once per
    storage, not once per view.
    """
    tp = type(t)
    if tp is torch.Tensor:
        return _torch_meta(t, torch, storages)  # no __torch_function__ to bypass
    if tp is torch.nn.Parameter:
        meta = _torch_meta(t, torch, storages)
        if _FSDP in sys.modules:  # FSDP1's flat parameter is a plain Parameter
            meta.flat_param = flat_param_info(t) or original_param_info(t)
            meta.unsharded = unsharded_info(t)
            if meta.flat_param is not None and meta.flat_param.original and not (
                meta.flat_param.segments[0].in_shard
            ):
                # Held by other ranks: no storage here (not "a view of a 0 B storage").
                meta.layout, meta.storage_key, meta.strides_bytes = NOT_IN_SHARD, None, ()
        return meta
    # Wrapper subclasses (DTensor, ...) own an invalid storage, and a FakeTensor's address
    # warns: which kind of subclass is decided by type before anything is read.
    with torch._C.DisableTorchFunctionSubclass():
        subclass = read_subclass(t, torch)
        if subclass is None:
            try:
                return _torch_meta(t, torch, storages)
            except RuntimeError as exc:
                # A wrapper subclass without ``__tensor_flatten__``: no storage of its own.
                if "invalid python storage" not in str(exc):
                    raise
                subclass = Subclass(
                    inner=None, type_name=tp.__name__,
                    is_parameter=issubclass(tp, torch.nn.Parameter),
                    requires_grad=bool(t.requires_grad),
                )
        return _subclass_meta(t, subclass, torch, storages)


_FSDP = "torch.distributed.fsdp"
NOT_IN_SHARD = "not in this rank's shard"  # the layout of an FSDP1 parameter held elsewhere


def _subclass_meta(
    t: Any, subclass: Subclass, torch: ModuleType, storages: StorageInfo
) -> ArrayMeta:
    if subclass.inner is None:  # a wrapper: its inner tensors are drawn under their names
        return ArrayMeta(
            library="torch", type_name=subclass.type_name, layout="wrapper",
            shape=tuple(t.shape), strides_bytes=(), itemsize=t.element_size(),
            dtype=_dtype_name(t.dtype, _DTYPE_NAMES), device=str(t.device), pinned=False,
            storage_key=None, storage_nbytes=None, storage_start=0, start=0, base_id=None,
            requires_grad=subclass.requires_grad, is_parameter=subclass.is_parameter,
        )
    inner = subclass.inner
    if inner is not t and type(inner) is not torch.Tensor:
        meta = torch_meta(inner, torch, storages)  # a DTensor over a FakeTensor, say
    else:
        meta = _torch_meta(inner, torch, storages, subclass.allocated)
    meta.type_name = subclass.type_name
    meta.is_parameter = subclass.is_parameter
    meta.requires_grad = subclass.requires_grad
    meta.allocated = meta.allocated and subclass.allocated
    meta.dtensor = subclass.dtensor
    if subclass.device is not None:
        meta.device = subclass.device
    return meta


def _torch_meta(
    t: Any, torch: ModuleType, storages: StorageInfo, allocated: bool = True
) -> ArrayMeta:
    layout = t.layout
    dtype = t.dtype
    device = t.device
    dev = str(device)
    type_name = type(t).__name__
    is_parameter = issubclass(type(t), torch.nn.Parameter)
    base = t._base
    base_id = id(base) if base is not None else None
    requires_grad = bool(t.requires_grad)
    itemsize = t.element_size()
    if layout != torch.strided:
        # Sparse/nested/mkldnn tensors have no single strided storage to draw.
        return ArrayMeta(
            library="torch", type_name=type_name, layout=str(layout).removeprefix("torch."),
            shape=tuple(t.shape), strides_bytes=(), itemsize=itemsize,
            dtype=_dtype_name(dtype, _DTYPE_NAMES), device=dev, pinned=False,
            storage_key=None, storage_nbytes=None, storage_start=0, start=0,
            base_id=base_id, requires_grad=requires_grad, is_parameter=is_parameter,
        )
    shape = tuple(t.shape)
    strides_bytes = tuple(s * itemsize for s in t.stride())
    offset_bytes = t.storage_offset() * itemsize
    sid = _storage_id(t, torch)
    allocated = allocated and device.type != "meta"
    info = storages.get(sid)
    if info is None:
        storage = t.untyped_storage()
        # Unallocated storages have no address (asking a FakeTensor's warns): 0, like meta.
        info = storages[sid] = (storage.nbytes(), storage.data_ptr() if allocated else 0)
    # From the storage, not ``t.data_ptr()``: an empty tensor's data_ptr is 0 wherever it
    # sits. A meta storage's address is 0, so meta offsets stay relative to 0.
    nbytes, storage_start = info
    start = storage_start + offset_bytes
    pinned = device.type == "cpu" and _is_pinned(t, torch)
    return ArrayMeta(
        library="torch", type_name=type_name, layout="strided", shape=shape,
        strides_bytes=strides_bytes, itemsize=itemsize,
        dtype=_dtype_name(dtype, _DTYPE_NAMES), device=dev, pinned=pinned,
        storage_key=sid, storage_nbytes=nbytes,
        storage_start=storage_start, start=start, base_id=base_id,
        requires_grad=requires_grad, is_parameter=is_parameter, allocated=allocated,
    )


def _storage_id(t: Any, torch: ModuleType) -> int:
    """Address of the tensor's StorageImpl: cheap and stable while the storage is alive."""
    storage_id = getattr(torch._C, "_storage_id", None)
    if storage_id is not None:
        return int(storage_id(t))
    return int(t.untyped_storage()._cdata)


def _is_pinned(t: Any, torch: ModuleType) -> bool:
    # Asking an uninitialised CUDA runtime would start it (seconds, GPU memory); and nothing
    # can be pinned before it started.
    cuda = getattr(torch, "cuda", None)
    if cuda is None or not cuda.is_initialized():
        return False
    try:
        return bool(t.is_pinned())
    except Exception:  # CPU-only builds may refuse to ask an accelerator runtime
        return False


def numpy_root(a: Any, np: ModuleType) -> Any:
    """The object at the end of ``a``'s ``.base`` chain: the owner of its memory."""
    root = a
    base = a.base
    while base is not None:
        root = base
        base = base.base if isinstance(base, np.ndarray) else None
    return root


def numpy_meta(a: Any, np: ModuleType) -> ArrayMeta:
    """Metadata of one numpy array (any ndarray subclass)."""
    root = numpy_root(a, np)
    start = a.ctypes.data
    if isinstance(root, np.ndarray) and root.flags.owndata:
        storage_start = root.ctypes.data
        storage_nbytes: int | None = root.nbytes
    else:
        # External memory (bytes, mmap, a torch tensor via .numpy(), ...): its range is the
        # union of what the arrays on it reach, worked out when the snapshot groups storages.
        storage_start = start
        storage_nbytes = None
    base = a.base
    return ArrayMeta(
        library="numpy", type_name=type(a).__name__, layout="strided", shape=a.shape,
        strides_bytes=a.strides, itemsize=a.itemsize, dtype=_dtype_name(a.dtype, _DTYPE_NAMES),
        device="cpu", pinned=False, storage_key=id(root),
        storage_nbytes=storage_nbytes, storage_start=storage_start, start=start,
        base_id=id(base) if base is not None else None, requires_grad=False, is_parameter=False,
    )


_cdata_of = operator.attrgetter("_cdata")
_call = weakref.ref.__call__  # a C-level call of each weak reference, for map()
_version_of = operator.attrgetter("_version")
_device_of = operator.attrgetter("device")
_nbytes_of = operator.attrgetter("nbytes")
_shape_of = operator.attrgetter("shape")


# Start addresses, shapes, strides and item sizes of some tensors/arrays, one column each:
# what the overlaps among a storage's views depend on, kept to compare from one snapshot to
# the next. Strides are in elements with the item size; a numpy layout whose byte strides are
# not whole elements keeps byte strides with the item size negated, so that two different
# layouts never compare equal.
LayoutColumns = tuple[
    tuple[int, ...], tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...], tuple[int, ...]
]


def layout_columns(metas: list[ArrayMeta]) -> LayoutColumns:
    """``LayoutColumns`` of tensors/arrays already read (one Python step per item)."""
    strides: list[tuple[int, ...]] = []
    itemsizes: list[int] = []
    for m in metas:
        size = m.itemsize
        if size and all(b % size == 0 for b in m.strides_bytes):
            strides.append(tuple(b // size for b in m.strides_bytes))
            itemsizes.append(size)
        else:
            strides.append(m.strides_bytes)
            itemsizes.append(-size)
    return (
        tuple(m.start for m in metas),
        tuple(tuple(m.shape) for m in metas),
        tuple(strides),
        tuple(itemsizes),
    )


class StaleTensor(LookupError):
    """A node was asked of a lazily read snapshot after its tensor was released or changed."""


@dataclass(slots=True)
class TorchColumns:
    """Many plain ``torch.Tensor``s (one container's items), read column-wise.

    Reading one attribute of ten thousand tensors with ``map`` runs the loop in C; reading
    fifteen attributes of each in a Python loop costs ten times more. Per cell only what
    storage grouping, diffs and the interesting view need is read: storage identity, size
    and address, and whether a tensor can overlap itself. The rest (shape, strides, dtype,
    device, base) is read when a node is built, from the live tensor through a weak
    reference (``meta``), or up front when the snapshot is eager (``metas``).
    """

    # Tuples, not lists: a tuple of ints drops out of the cyclic collector's sight after its
    # first collection, a list is traversed item by item at every one.
    refs: tuple[Any, ...]  # weak references
    versions: tuple[int, ...]
    storage_keys: tuple[int, ...]
    storage_nbytes: tuple[int, ...]
    storage_starts: tuple[int, ...]
    self_overlap: frozenset[int]  # positions whose own elements share memory
    metas: list[ArrayMeta] | None  # eager: every row read already
    _read: dict[int, ArrayMeta]
    _fold: tuple[tuple[str, ...], tuple[int, ...]] | None = None

    def fold_columns(self) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """Device and logical bytes of every tensor: what "N more" groups of a capped drawing
        add up, read in C-level passes rather than one node at a time."""
        if self._fold is None:
            if self.metas is not None:
                devices = tuple(m.device for m in self.metas)
                nbytes = tuple(math.prod(m.shape) * m.itemsize for m in self.metas)
            else:
                tensors = list(map(_call, self.refs))
                if any(map(operator.is_, tensors, repeat(None))) or tuple(
                    map(_version_of, tensors)
                ) != self.versions:
                    raise StaleTensor("tensor released or changed since the snapshot was taken")
                objects = tuple(map(_device_of, tensors))
                names = {device: str(device) for device in set(objects)}  # a few devices
                devices = tuple(map(names.__getitem__, objects))
                nbytes = tuple(map(_nbytes_of, tensors))
            self._fold = (devices, nbytes)
        return self._fold

    def layouts(self, indices: list[int]) -> LayoutColumns:
        """Where the tensors at ``indices`` sit in memory (see ``LayoutColumns``), read in
        C-level passes, without an ``ArrayMeta`` per tensor."""
        if self.metas is not None:
            return layout_columns(list(map(self.metas.__getitem__, indices)))
        tensors = list(map(_call, map(self.refs.__getitem__, indices)))
        if any(map(operator.is_, tensors, repeat(None))) or list(
            map(_version_of, tensors)
        ) != list(map(self.versions.__getitem__, indices)):
            raise StaleTensor("tensor released or changed since the snapshot was taken")
        tensor = sys.modules["torch"].Tensor
        itemsizes = tuple(map(tensor.element_size, tensors))
        offsets = map(operator.mul, map(tensor.storage_offset, tensors), itemsizes)
        return (
            tuple(map(operator.add, map(self.storage_starts.__getitem__, indices), offsets)),
            tuple(map(tuple, map(_shape_of, tensors))),  # plain tuples, not torch.Size
            tuple(map(tensor.stride, tensors)),
            itemsizes,
        )

    def meta(self, i: int) -> ArrayMeta:
        if self.metas is not None:
            return self.metas[i]
        meta = self._read.get(i)
        if meta is None:
            t = self.refs[i]()
            if t is None or t._version != self.versions[i]:
                raise StaleTensor("tensor released or changed since the snapshot was taken")
            meta = self._read[i] = _torch_meta(t, sys.modules["torch"], {})
        return meta


def torch_columns(
    items: list[Any], versions: tuple[int, ...], refs: tuple[Any, ...], torch: ModuleType,
    eager: bool,
) -> TorchColumns | None:
    """Columns for ``items``, all of exact type ``torch.Tensor``, not nested and holding no
    gradient (the walk checks all three).

    ``None`` when the items need the careful one-by-one reading: a layout without a strided
    storage (sparse and mkldnn tensors raise on ``untyped_storage``), or anything else that
    raises.
    """
    tensor = torch.Tensor
    try:
        # The storage objects give the key (``_cdata`` is the StorageImpl's address, what
        # ``torch._C._storage_id`` returns), the size and the address, in cheap passes.
        storages = list(map(tensor.untyped_storage, items))
        keys = tuple(map(_cdata_of, storages))
        nbytes = tuple(map(torch.UntypedStorage.nbytes, storages))
        starts = tuple(map(torch.UntypedStorage.data_ptr, storages))
        del storages
        contiguous = list(map(tensor.is_contiguous, items))
        # Only a non-contiguous tensor (expand, as_strided, a zero stride) can overlap itself.
        loose = (
            [] if all(contiguous)
            else list(compress(range(len(items)), map(operator.not_, contiguous)))
        )
        overlapping = frozenset(
            i for i in loose
            if overlaps_itself(_torch_meta(items[i], torch, {}))
        )
        metas = [_torch_meta(t, torch, {}) for t in items] if eager else None
    except Exception:  # an exotic tensor among them: read them one by one instead
        return None
    return TorchColumns(
        refs=refs, versions=versions, storage_keys=keys, storage_nbytes=nbytes,
        storage_starts=starts, self_overlap=overlapping, metas=metas, _read={},
    )


def overlaps_itself(meta: ArrayMeta) -> bool:
    """Do two elements of this tensor/array share memory (``expand``, a zero stride)?"""
    return meta.storage_key is not None and has_internal_overlap(
        Layout(meta.start, meta.shape, meta.strides_bytes, meta.itemsize)
    ).may_overlap


def loaded_libraries() -> tuple[ModuleType | None, ModuleType | None]:
    """torch and numpy if the user (or anything) already imported them, else None."""
    return sys.modules.get("torch"), sys.modules.get("numpy")
