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
    a, b = _memory(x), _memory(y)
    if x is y:
        return not a.layout.is_empty
    if a.device != b.device:
        return False
    if a.device == "meta" and a.storage != b.storage:
        return False
    return layouts_overlap(a.layout, b.layout).may_overlap


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
