"""Metadata of torch tensors and numpy arrays, read without touching their data.

Everything here reads shape, strides, offsets, dtype, device and storage identity only: no
``.cpu()``, no printing of values, no synchronisation with an accelerator. torch and numpy are
never imported by this module; the caller passes the modules the user already imported, so a
numpy-only user never pays for importing torch.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
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

# Storage identity inside one snapshot. torch: the id() of the storage's Python object, which
# PyTorch (2.1 on) makes once and keeps with the storage for as long as the storage lives, so
# every tensor on one storage gives the same one (an ``id`` is a third of the cost of reading
# ``_cdata``, the StorageImpl's address). numpy: the id() of the object at the end of the
# ``.base`` chain. Both are identities of live objects, and every storage is alive while a
# snapshot is taken, so they never collide. Raw data pointers are only used to merge memory
# ranges of storages that are all alive at the same moment, never remembered across cells.
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


def dtype_name(dtype: Any) -> str:
    """``float32`` for ``torch.float32`` (and numpy's names as they are), cached."""
    return _dtype_name(dtype, _DTYPE_NAMES)


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
    storage = t.untyped_storage()
    sid = id(storage)  # the storage's key: see ``storage_key``
    allocated = allocated and device.type != "meta"
    info = storages.get(sid)
    if info is None:
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


def overlaps_itself(meta: ArrayMeta) -> bool:
    """Do two elements of this tensor/array share memory (``expand``, a zero stride)?"""
    return meta.storage_key is not None and has_internal_overlap(
        Layout(meta.start, meta.shape, meta.strides_bytes, meta.itemsize)
    ).may_overlap


def loaded_libraries() -> tuple[ModuleType | None, ModuleType | None]:
    """torch and numpy if the user (or anything) already imported them, else None."""
    return sys.modules.get("torch"), sys.modules.get("numpy")
