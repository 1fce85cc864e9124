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

# Storage identity inside one snapshot. torch: the StorageImpl's address (unique while it is
# alive, and every storage is alive while a snapshot is taken). numpy: the id() of the object
# at the end of the ``.base`` chain. Raw data pointers are only used to merge memory ranges of
# storages that are all alive at the same moment, never remembered across cells.
StorageKey = tuple[str, int]


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


def _dtype_name(dtype: Any, cache: dict[Any, str]) -> str:
    name = cache.get(dtype)
    if name is None:
        name = str(dtype).removeprefix("torch.")
        cache[dtype] = name
    return name


_DTYPE_NAMES: dict[Any, str] = {}


def torch_meta(t: Any, torch: ModuleType, storage_nbytes: dict[int, int]) -> ArrayMeta:
    """Metadata of one torch tensor. Subclasses' ``__torch_function__`` is not invoked.

    ``storage_nbytes`` maps storage ids seen in this snapshot to their sizes: asking a storage
    its size creates its Python object the first time (several microseconds), so it is done
    once per storage, not once per view.
    """
    if type(t) is torch.Tensor or type(t) is torch.nn.Parameter:
        return _torch_meta(t, torch, storage_nbytes)  # no __torch_function__ to bypass
    with torch._C.DisableTorchFunctionSubclass():
        return _torch_meta(t, torch, storage_nbytes)


def _torch_meta(t: Any, torch: ModuleType, storage_nbytes: dict[int, int]) -> ArrayMeta:
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
    nbytes = storage_nbytes.get(sid)
    if nbytes is None:
        nbytes = storage_nbytes[sid] = t.untyped_storage().nbytes()
    start = t.data_ptr() if device.type != "meta" else offset_bytes
    storage_start = start - offset_bytes
    pinned = device.type == "cpu" and _is_pinned(t, torch)
    return ArrayMeta(
        library="torch", type_name=type_name, layout="strided", shape=shape,
        strides_bytes=strides_bytes, itemsize=itemsize,
        dtype=_dtype_name(dtype, _DTYPE_NAMES), device=dev, pinned=pinned,
        storage_key=("torch", sid), storage_nbytes=nbytes,
        storage_start=storage_start, start=start, base_id=base_id,
        requires_grad=requires_grad, is_parameter=is_parameter,
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
        device="cpu", pinned=False, storage_key=("numpy", id(root)),
        storage_nbytes=storage_nbytes, storage_start=storage_start, start=start,
        base_id=id(base) if base is not None else None, requires_grad=False, is_parameter=False,
    )


def loaded_libraries() -> tuple[ModuleType | None, ModuleType | None]:
    """torch and numpy if the user (or anything) already imported them, else None."""
    return sys.modules.get("torch"), sys.modules.get("numpy")
