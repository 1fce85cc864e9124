"""Distributed tensors and other tensor subclasses, read without communication.

A snapshot runs on each rank at its own moment, so nothing here may block on another rank:
no collective, no ``full_tensor()``, no ``redistribute``. Everything is read from attributes a
rank holds for itself: a ``DTensor``'s local tensor, placements and device mesh (its
coordinate on the mesh is cached when the mesh is made), FSDP1's flat parameter and its shard
metadata, the process group's rank and size.

Subclasses are told apart by ``type()`` before any storage is touched: a wrapper subclass
(``DTensor``, anything with ``__tensor_flatten__``) owns an invalid storage whose data pointer
raises, and a ``FakeTensor``'s data pointer warns into the user's cell.

- ``DTensor``: drawn on its local tensor's real storage (so a ``Replicate()`` over the source
  tensor, views of one local shard and FSDP2's padded shard buffers show), with a
  ``DTensorInfo`` saying where the local shard sits in the global tensor.
- ``FakeTensor``: metadata only, on its fake device, not allocated.
- ``FunctionalTensor``: drawn as the tensor it wraps.
- other wrapper subclasses: the wrapper has no storage; its inner tensors (from
  ``__tensor_flatten__``) are drawn on their own storages under ``name.<attribute>``.
- FSDP1's flat parameter: one segment per original parameter (``FlatParamInfo``).

torch is never imported here: the caller passes the module the user already imported.
"""

from __future__ import annotations

import math
import sys
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from tensorviews.graph.sharding import (
    DTensorInfo,
    FlatParamInfo,
    FlatSegment,
    MeshInfo,
    UnshardedInfo,
)
from tensorviews.sizes import format_dims

if TYPE_CHECKING:
    from tensorviews.graph.model import TensorNode


class NotDrawn(Exception):
    """A tensor that cannot be read without risk: the message is the reason, one line."""


@dataclass(slots=True)
class Subclass:
    """How a torch tensor subclass is drawn: on ``inner``'s storage, or (``inner`` None) with
    no storage of its own."""

    inner: Any | None
    type_name: str
    is_parameter: bool
    requires_grad: bool
    device: str | None = None  # in place of the inner tensor's (a FakeTensor's fake device)
    allocated: bool = True
    dtensor: DTensorInfo | None = None


# What a subclass is, by type (classes are few; the answer never changes for one class).
_KINDS: dict[type, str] = {}


def subclass_kind(tp: type, torch: ModuleType) -> str:
    """"dtensor", "fake", "functional", "wrapper" (``__tensor_flatten__``) or "plain"."""
    kind = _KINDS.get(tp)
    if kind is None:
        kind = _KINDS[tp] = _classify(tp, torch)
    return kind


def _classify(tp: type, torch: ModuleType) -> str:
    dtensor_module = sys.modules.get("torch.distributed.tensor")
    dtensor = getattr(dtensor_module, "DTensor", None) if dtensor_module is not None else None
    if dtensor is not None and issubclass(tp, dtensor):
        return "dtensor"
    fake = sys.modules.get("torch._subclasses.fake_tensor")
    if fake is not None and issubclass(tp, fake.FakeTensor):
        return "fake"
    functional = sys.modules.get("torch._subclasses.functional_tensor")
    if functional is not None and issubclass(tp, functional.FunctionalTensor):
        return "functional"
    nested = sys.modules.get("torch.nested._internal.nested_tensor")
    if nested is not None and issubclass(tp, nested.NestedTensor):
        return "plain"  # a jagged layout, read as one (no strided storage of its own)
    # Looked up on the class, never on an instance: no user __getattr__ runs.
    if callable(getattr(tp, "__tensor_flatten__", None)):
        return "wrapper"
    return "plain"


def read_subclass(t: Any, torch: ModuleType) -> Subclass | None:
    """How to draw ``t``, a tensor whose type is not ``Tensor`` or ``Parameter``; None: an
    ordinary subclass, read like a tensor. Raises ``NotDrawn`` with a one-line reason."""
    tp = type(t)
    kind = subclass_kind(tp, torch)
    if kind == "plain":
        return None
    is_parameter = _is_parameter(t, torch)
    requires_grad = bool(t.requires_grad)
    if kind == "dtensor":
        return Subclass(
            inner=t._local_tensor, type_name=tp.__name__, is_parameter=is_parameter,
            requires_grad=requires_grad, dtensor=dtensor_info(t),
        )
    if kind == "fake":
        return Subclass(
            inner=t, type_name=tp.__name__, is_parameter=is_parameter,
            requires_grad=requires_grad, device=str(t.fake_device), allocated=False,
        )
    if kind == "functional":
        try:
            inner = torch._from_functional_tensor(t.elem)
        except Exception as exc:
            raise NotDrawn(
                f"FunctionalTensor whose inner tensor cannot be read ({type(exc).__name__})"
            ) from exc
        return Subclass(
            inner=inner, type_name=tp.__name__, is_parameter=is_parameter,
            requires_grad=requires_grad,
        )
    return Subclass(
        inner=None, type_name=tp.__name__, is_parameter=is_parameter,
        requires_grad=requires_grad,
    )


def _is_parameter(t: Any, torch: ModuleType) -> bool:
    # ``nn.Parameter(dtensor)`` keeps the DTensor type and sets ``_is_param`` (what
    # ``isinstance(t, Parameter)`` checks for subclasses).
    if issubclass(type(t), torch.nn.Parameter):
        return True
    try:
        return t.__dict__.get("_is_param", False) is True
    except Exception:
        return False


def inner_tensors(t: Any, torch: ModuleType) -> Iterator[tuple[str, Any]]:
    """The inner tensors of a wrapper subclass that is not drawn on one of them:
    ``(attribute, tensor)`` pairs from ``__tensor_flatten__``. Nothing for other tensors."""
    if subclass_kind(type(t), torch) != "wrapper":
        return
    try:
        attrs, _ = type(t).__tensor_flatten__(t)
        for attr in attrs:
            if type(attr) is str:
                inner = getattr(t, attr, None)
                if isinstance(inner, torch.Tensor):
                    yield attr, inner
    except Exception:  # a subclass whose flattening fails: the wrapper alone is drawn
        return


def _placement_text(p: Any) -> str:
    name = type(p).__name__
    if name in ("Shard", "_StridedShard"):
        split = getattr(p, "split_factor", None)
        return f"Shard({p.dim})" if name == "Shard" else f"StridedShard({p.dim}, sf={split})"
    if name == "Replicate":
        return "Replicate()"
    if name in ("Partial", "_NormPartial", "MaskPartial"):
        return f"Partial({getattr(p, 'reduce_op', '?')})"
    return str(p)


# (global shape, placements, mesh shape, coordinate) -> global offset: pure arithmetic that
# PyTorch does in a few hundred microseconds, the same for every layer of a model.
_OFFSETS: dict[tuple[Any, ...], tuple[int, ...]] = {}
_MAX_OFFSETS = 4096


def dtensor_info(t: Any) -> DTensorInfo:
    """Placements, mesh and this rank's piece of a DTensor: attributes only, no collective."""
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset

    spec = t._spec
    mesh = spec.mesh
    placements = tuple(spec.placements)
    global_shape = tuple(int(d) for d in spec.shape)
    coordinate = mesh.get_coordinate()  # cached when the mesh was made
    local = t._local_tensor
    local_shape = tuple(int(d) for d in local.shape)
    names = mesh.mesh_dim_names
    mesh_shape = tuple(int(d) for d in mesh.shape)
    if coordinate is None:
        offset: tuple[int, ...] = tuple(0 for _ in global_shape)
    else:
        # What the offset depends on: the same key for every layer's weight of one shape.
        key = (global_shape, placements, mesh_shape, tuple(coordinate))
        cached = _OFFSETS.get(key)
        if cached is None:
            if len(_OFFSETS) > _MAX_OFFSETS:
                _OFFSETS.clear()
            _, offset_ = compute_local_shape_and_global_offset(global_shape, mesh, placements)
            cached = _OFFSETS[key] = tuple(int(o) for o in offset_)
        offset = cached
    uneven = 0
    padding = 0
    for mesh_dim, p in enumerate(placements):
        if type(p).__name__ == "Shard" and p.dim < len(global_shape) and coordinate is not None:
            even = math.ceil(global_shape[p.dim] / mesh_shape[mesh_dim])
            short = even - local_shape[p.dim]
            if short > uneven:
                # The buffer's bytes past the shard count as its padding only up to the
                # missing rows: past them the storage may hold other tensors (FSDP2 keeps
                # all gradients of a group in one buffer).
                uneven = short
                row = int(local.stride()[p.dim]) * int(local.element_size())
                padding = min(_buffer_padding(local), short * row)
    return DTensorInfo(
        global_shape=global_shape,
        placements=tuple(_placement_text(p) for p in placements),
        mesh=MeshInfo(mesh_shape, tuple(str(n) for n in names) if names else None),
        coordinate=tuple(int(c) for c in coordinate) if coordinate is not None else None,
        global_offset=offset,
        local_shape=local_shape,
        uneven_padding=uneven,
        buffer_padding_bytes=padding,
    )


def _buffer_padding(local: Any) -> int:
    """Bytes of the local tensor's storage past the last element it views (FSDP2 pads each
    shard to an even size; a plain shard has none)."""
    try:
        if not local.is_contiguous():
            return 0
        end = (local.storage_offset() + local.numel()) * local.element_size()
        return max(0, int(local.untyped_storage().nbytes()) - int(end))
    except Exception:
        return 0


_DIM_WORDS = {0: "rows", 1: "cols"}


def dtensor_summary(info: DTensorInfo, is_parameter: bool) -> list[str]:
    """Label lines: ``DTensor parameter · global (4096, 4096) · [Shard(0)] on mesh (4,)`` and
    ``this rank: rows 3072-4095``, with padding and pending reductions said plainly."""
    kind = "DTensor parameter" if is_parameter else "DTensor"
    mesh = format_dims(info.mesh.shape)
    if info.mesh.dim_names:
        mesh += " " + ",".join(info.mesh.dim_names)
    lines = [
        f"{kind} · global {format_dims(info.global_shape)} · [{', '.join(info.placements)}] "
        f"on mesh {mesh}"
    ]
    lines.append("this rank: " + _piece(info))
    if any(p.startswith("Partial") for p in info.placements):
        lines.append("Partial(): pending reduction, values are not final here")
    padding = []
    if info.uneven_padding:
        padding.append(f"uneven shard: {info.uneven_padding} short of an even split")
    if info.buffer_padding_bytes:
        padding.append(f"{info.buffer_padding_bytes} B padding in its buffer")
    if padding:
        lines.append(" · ".join(padding))
    return lines


def _piece(info: DTensorInfo) -> str:
    if info.coordinate is None:
        return "not on this mesh"
    parts = []
    for d, (size, local, start) in enumerate(
        zip(info.global_shape, info.local_shape, info.global_offset, strict=False)
    ):
        if local != size:
            word = _DIM_WORDS.get(d, f"dim {d}") if len(info.global_shape) > 1 else "elements"
            parts.append(f"{word} {start}-{start + local - 1}" if local else f"{word}: none")
    return ", ".join(parts) if parts else "the whole tensor"



def flat_param_info(t: Any) -> FlatParamInfo | None:
    """The segments of an FSDP1 flat parameter; None for any other tensor. Read from the
    attributes FSDP sets on it (``_fqns``, ``_shapes``, ``_shard_param_infos``)."""
    try:
        attrs = t.__dict__
    except Exception:
        return None
    infos = attrs.get("_shard_param_infos")
    fqns = attrs.get("_fqns")
    shapes = attrs.get("_shapes")
    if infos is None or fqns is None or shapes is None:
        return None
    numels = attrs.get("_numels") or tuple(math.prod(s) for s in shapes)
    segments = []
    for name, shape, numel, info in zip(fqns, shapes, numels, infos, strict=False):
        in_shard = bool(info.in_shard)
        segments.append(FlatSegment(
            name=str(name), shape=tuple(int(d) for d in shape), numel=int(numel),
            in_shard=in_shard,
            shard_start=int(info.offset_in_shard) if in_shard else None,
            shard_numel=int(info.numel_in_shard) if in_shard else 0,
            param_start=int(info.intra_param_start_idx) if in_shard else None,
        ))
    return FlatParamInfo(tuple(segments), int(attrs.get("_shard_numel_padded", 0) or 0))


# FSDP1's original parameters (``use_orig_params=True``) seen by the last walk of their
# module, by id with a weak reference, like ``_UNSHARDED``: each one's segment.
_ORIGINALS: dict[int, tuple[weakref.ReferenceType[Any], FlatSegment]] = {}


def original_param_info(t: Any) -> FlatParamInfo | None:
    """An FSDP1 original parameter's place in its flat parameter; None for other tensors."""
    entry = _ORIGINALS.get(id(t))
    if entry is None or entry[0]() is not t:
        return None
    return FlatParamInfo((entry[1],), 0, original=True)


def _note_originals(flat: Any) -> None:
    params = flat.__dict__.get("_params")
    info = flat_param_info(flat)
    if not params or info is None:
        return
    for param, segment in zip(params, info.segments, strict=False):
        _ORIGINALS[id(param)] = (weakref.ref(param, _forget(_ORIGINALS, id(param))), segment)


def flat_param_summary(info: FlatParamInfo) -> list[str]:
    """Label lines of a flat parameter: one per original parameter."""
    if info.original:
        return ["FSDP original parameter, a view of its flat parameter",
                *flat_param_summary(FlatParamInfo(info.segments, 0))[1:]]
    lines = [f"FSDP flat parameter · {len(info.segments)} original parameters"]
    for s in info.segments:
        head = f"{s.name} {format_dims(s.shape)}"
        if not s.in_shard:
            lines.append(f"{head}: not in this rank's shard")
            continue
        assert s.shard_start is not None and s.param_start is not None
        whole = " (whole)" if s.shard_numel == s.numel else (
            f" (its elements {s.param_start}-{s.param_start + s.shard_numel - 1} of {s.numel})"
        )
        lines.append(
            f"{head}: elements {s.shard_start}-{s.shard_start + s.shard_numel - 1}{whole}"
        )
    if info.padding:
        lines.append(f"padding: {info.padding} elements at the end")
    return lines



# FSDP2's unsharded parameters seen by the last walk of their module, by id with a weak
# reference (tensors compare elementwise, so no WeakKeyDictionary): the module's FSDP state
# knows them, the plain Parameter itself carries no mark.
_UNSHARDED: dict[int, tuple[weakref.ReferenceType[Any], UnshardedInfo]] = {}


def unsharded_info(t: Any) -> UnshardedInfo | None:
    entry = _UNSHARDED.get(id(t))
    if entry is None or entry[0]() is not t:
        return None
    return entry[1]


def _forget(table: dict[int, tuple[Any, Any]], key: int) -> Callable[[Any], None]:
    """A weak reference callback that drops ``table[key]`` if it is still that reference's."""

    def forget(ref: Any) -> None:
        entry = table.get(key)
        if entry is not None and entry[0] is ref:
            del table[key]

    return forget


def fsdp_tensors(module: Any) -> list[tuple[str, Any]]:
    """FSDP tensors under ``module`` that ``named_parameters`` does not yield: FSDP1 flat
    parameters (with ``use_orig_params=True`` only the original parameters are registered),
    as ``(path under the module, flat parameter)``. FSDP2 parameters that are unsharded now
    and FSDP1 original parameters are noted for ``unsharded_info``/``original_param_info``.
    Attribute reads only, no communication; an FSDP state that cannot be read is passed over
    (the module's own parameters are still drawn)."""
    found: list[tuple[str, Any]] = []
    if _FSDP_PACKAGE not in sys.modules:
        return found
    fsdp1 = sys.modules.get("torch.distributed.fsdp.fully_sharded_data_parallel")
    fsdp1_cls = getattr(fsdp1, "FullyShardedDataParallel", None)
    fsdp2 = sys.modules.get("torch.distributed.fsdp._fully_shard._fsdp_state")
    fsdp2_state = getattr(fsdp2, "_get_module_fsdp_state", None)
    try:
        for qual, sub in module.named_modules():
            if fsdp1_cls is not None and isinstance(sub, fsdp1_cls):
                handle = sub.__dict__.get("_handle")
                flat = getattr(handle, "flat_param", None) if handle is not None else None
                if flat is not None and getattr(handle, "_use_orig_params", False):
                    _note_originals(flat)
                    found.append(((f"{qual}._flat_param" if qual else "_flat_param"), flat))
            elif fsdp2_state is not None:
                state = fsdp2_state(sub)
                if state is not None:
                    _note_unsharded(state)
    except Exception:  # FSDP internals changed or a hostile module: what was found so far
        pass
    return found


_FSDP_PACKAGE = "torch.distributed.fsdp"


def _note_unsharded(state: Any) -> None:
    for group in getattr(state, "_fsdp_param_groups", ()):
        for param in getattr(group, "fsdp_params", ()):
            full = param.__dict__.get("_unsharded_param")
            if full is None:
                continue
            if getattr(param.sharded_state, "name", "") != "UNSHARDED":
                _UNSHARDED.pop(id(full), None)
                continue
            sharded = param.sharded_param
            local = sharded._local_tensor
            info = UnshardedInfo(
                nbytes=int(full.untyped_storage().nbytes()),
                shard_nbytes=int(local.untyped_storage().nbytes()),
                placements=tuple(_placement_text(p) for p in sharded.placements),
            )
            _UNSHARDED[id(full)] = (weakref.ref(full, _forget(_UNSHARDED, id(full))), info)


def unsharded_summary(info: UnshardedInfo) -> list[str]:
    return [
        f"FSDP2 unsharded (all-gathered) parameter · {info.nbytes} B here, "
        f"its [{', '.join(info.placements)}] shard {info.shard_nbytes} B kept beside it"
    ]


@dataclass(frozen=True, slots=True)
class ProcessGroup:
    rank: int
    world_size: int


def process_group(torch: ModuleType | None) -> ProcessGroup | None:
    """This process's rank and world size when a default process group is up (local
    state, no communication)."""
    if torch is None or "torch.distributed" not in sys.modules:
        return None
    dist = torch.distributed
    try:
        if not dist.is_available() or not dist.is_initialized():
            return None
        return ProcessGroup(int(dist.get_rank()), int(dist.get_world_size()))
    except Exception:
        return None


def subclass_change_token(t: Any, torch: ModuleType) -> tuple[Any, ...]:
    """What tells a subclass changed besides its own version counter: a DTensor's local
    tensor (its version and storage); nothing for other tensors."""
    if subclass_kind(type(t), torch) != "dtensor":
        # An FSDP2 parameter object is reused from one all-gather to the next.
        return (unsharded_info(t), original_param_info(t)) if _UNSHARDED or _ORIGINALS else ()
    local = t._local_tensor
    return (id(local), local._version, torch._C._storage_id(local))


MAX_SEGMENT_LINES = 8


def distributed_lines(t: TensorNode) -> list[str]:
    """What a DTensor, an FSDP flat or original parameter, or an all-gathered FSDP2 parameter
    holds on this rank, a label line each (the renderers' one wording)."""
    if t.dtensor is not None:
        return dtensor_summary(t.dtensor, t.is_parameter)
    if t.unsharded is not None:
        return unsharded_summary(t.unsharded)
    if t.flat_param is not None:
        lines = flat_param_summary(t.flat_param)
        if len(lines) > MAX_SEGMENT_LINES + 1:
            more = len(lines) - MAX_SEGMENT_LINES
            lines = [*lines[:MAX_SEGMENT_LINES], f"+{more} more lines"]
        return lines
    return []
