"""``overlaps(x, y)``: do two tensors/arrays share an element? Read from their two layouts only.

No snapshot is taken: the guard asks this at run time, inside the user's statement, so it costs
about what reading the two tensors' metadata costs. Each side is reduced to where its elements
sit: a device, the storage it belongs to, and a ``Layout`` at absolute addresses (so a torch
tensor and the numpy array it was made from compare directly). The answer is the exact
arithmetic of ``overlap.layouts_overlap``.

- Different devices never share memory. On one device, absolute addresses decide, whatever the
  storages: ``torch.from_numpy`` and two tensors over one external buffer are compared byte by
  byte. Meta tensors have no addresses (every meta storage starts at 0): two of them overlap
  only on one storage.
- Tensor subclasses are read with torch function dispatch disabled: their
  ``__torch_function__`` never runs. A DTensor (or FunctionalTensor) is compared on the tensor
  it wraps: on each rank, its local shard. Layouts without one strided storage (sparse, nested,
  fake tensors, other wrapper subclasses with no memory of their own) raise ``TypeError`` with
  the reason.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from tensorviews.graph.distributed import read_subclass, subclass_kind
from tensorviews.graph.overlap import Layout, layouts_overlap


@dataclass(slots=True)
class _Memory:
    device: str  # "cpu", "cuda:0", "meta", ...
    storage: int  # storage identity: only compared for meta tensors (no addresses)
    layout: Layout  # offsets are absolute addresses (meta: relative to the storage)


def overlaps(x: Any, y: Any) -> bool:
    """Do tensors/arrays ``x`` and ``y`` share at least one element? Exact on any device.

    Decided from shape/stride/offset arithmetic only, so it works for CUDA and meta tensors
    without touching their memory. A layout too tangled to decide within the work bound counts
    as overlapping. ``TypeError`` for anything that is not a strided tensor or array.
    """
    answer = _direct_overlap(x, y)
    if answer is not None:
        return answer
    a, b = _memory(x), _memory(y)
    if x is y:
        return not a.layout.is_empty
    if a.device != b.device:
        return False
    if a.device == "meta" and a.storage != b.storage:
        return False
    return layouts_overlap(a.layout, b.layout).may_overlap


_PLAIN: dict[int, frozenset[type]] = {}


def _plain_types(torch: ModuleType) -> frozenset[type]:
    """``torch.Tensor`` and ``nn.Parameter``: no subclass code can run while they are read."""
    plain = _PLAIN.get(id(torch))
    if plain is None:
        plain = _PLAIN[id(torch)] = frozenset({torch.Tensor, torch.nn.Parameter})
    return plain


def _direct_overlap(x: Any, y: Any) -> bool | None:
    """The guard's common question, read with the fewest calls: two plain strided tensors
    with addresses, numpy arrays, or one of each. None sends anything else (sparse, meta,
    subclasses, the same object twice) to the general path, which has the answers and the
    errors for those."""
    if x is y:
        return None
    a = _direct_layout(x)
    if a is None:
        return None
    b = _direct_layout(y)
    if b is None:
        return None
    x_cpu = type(x) is _NDARRAY or x.is_cpu
    y_cpu = type(y) is _NDARRAY or y.is_cpu
    if x_cpu != y_cpu:
        return False
    if not x_cpu and x.device != y.device:
        return False
    return layouts_overlap(a, b).may_overlap


_NDARRAY: type | None = None  # numpy.ndarray once numpy is imported


def _direct_layout(value: Any) -> Layout | None:
    global _NDARRAY
    tp = type(value)
    torch = sys.modules.get("torch")
    if torch is not None and tp in _plain_types(torch):
        if value.layout is not torch.strided or value.is_meta:
            return None
        return _plain_layout(value)
    if _NDARRAY is None:
        np = sys.modules.get("numpy")
        _NDARRAY = np.ndarray if np is not None else None
    if tp is _NDARRAY:
        return Layout(
            value.__array_interface__["data"][0], value.shape, value.strides, value.itemsize
        )
    return None


def _plain_layout(t: Any) -> Layout:
    size = t.element_size()
    stride = t.stride()
    # The two-dimensional case spelled out: the guard's usual operands, and the product of a
    # map over a bound method costs more than the arithmetic.
    if len(stride) == 2:
        stride_bytes: tuple[int, ...] = (stride[0] * size, stride[1] * size)
    else:
        stride_bytes = tuple(map(size.__mul__, stride))
    return Layout(t.data_ptr(), t.shape, stride_bytes, size)


def _memory(value: Any) -> _Memory:
    tp = type(value)
    torch = sys.modules.get("torch")
    if torch is not None and issubclass(tp, torch.Tensor):
        if tp is torch.Tensor or tp is torch.nn.Parameter:
            return _torch_memory(value, torch)
        with torch._C.DisableTorchFunctionSubclass():
            # A DTensor's or FunctionalTensor's elements here are those of the tensor it
            # wraps (this rank's local shard): compared where they really lie.
            if subclass_kind(tp, torch) in ("dtensor", "functional"):
                inner = read_subclass(value, torch)
                if inner is not None and inner.inner is not None:
                    return _memory(inner.inner)
            return _torch_memory(value, torch)
    np = sys.modules.get("numpy")
    if np is not None and issubclass(tp, np.ndarray):
        return _numpy_memory(value, np)
    raise TypeError(f"overlaps() takes torch tensors or numpy arrays, not {tp.__name__}")


def _torch_memory(t: Any, torch: ModuleType) -> _Memory:
    layout = t.layout
    try:
        if layout is not torch.strided:
            raise TypeError(layout)
        # Raises for wrapper subclasses, which hold no memory of their own. (An empty
        # tensor's address may be 0 wherever it sits: it overlaps nothing anyway.)
        start = t.data_ptr()
    except Exception as exc:
        raise TypeError(
            f"overlaps(): a {type(t).__name__} with layout {layout} has no strided memory "
            "of its own to compare"
        ) from exc
    itemsize = t.element_size()
    strides = tuple([s * itemsize for s in t.stride()])
    memory = Layout(start, tuple(t.shape), strides, itemsize)
    device = t.device
    if device.type == "meta":  # no addresses (all start at 0): told apart by storage
        return _Memory(device="meta", storage=torch._C._storage_id(t), layout=memory)
    return _Memory(device="cpu" if device.type == "cpu" else str(device), storage=0, layout=memory)


def _numpy_memory(a: Any, np: ModuleType) -> _Memory:
    ndarray = np.ndarray
    start = ndarray.__array_interface__.__get__(a)["data"][0]
    layout = Layout(
        start, ndarray.shape.__get__(a), ndarray.strides.__get__(a), ndarray.itemsize.__get__(a)
    )
    return _Memory(device="cpu", storage=0, layout=layout)
