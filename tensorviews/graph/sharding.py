"""What a rank holds of a sharded tensor, as plain records the graph carries (the tensor's
``dtensor``, ``flat_param`` and ``unsharded`` in graph JSON). Read by
``tensorviews.graph.distributed``; no torch here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class MeshInfo:
    shape: tuple[int, ...]
    dim_names: tuple[str, ...] | None

    def to_dict(self) -> dict[str, Any]:
        names = list(self.dim_names) if self.dim_names is not None else None
        return {"shape": list(self.shape), "dim_names": names}


@dataclass(frozen=True, slots=True)
class DTensorInfo:
    """Where a rank's local shard sits in the global tensor (JSON: the tensor's ``dtensor``)."""

    global_shape: tuple[int, ...]
    placements: tuple[str, ...]  # "Shard(0)", "Replicate()", "Partial(sum)", ...
    mesh: MeshInfo
    coordinate: tuple[int, ...] | None  # this rank on the mesh; None: not part of it
    global_offset: tuple[int, ...]
    local_shape: tuple[int, ...]
    # Per sharded mesh dim: elements the local shard lacks against an even split (the
    # padding collectives add), and the bytes of its buffer beyond what it views (FSDP2
    # keeps padded shards).
    uneven_padding: int = 0
    buffer_padding_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "global_shape": list(self.global_shape),
            "placements": list(self.placements),
            "mesh": self.mesh.to_dict(),
            "coordinate": list(self.coordinate) if self.coordinate is not None else None,
            "global_offset": list(self.global_offset),
            "uneven_padding": self.uneven_padding,
            "buffer_padding_bytes": self.buffer_padding_bytes,
        }


@dataclass(frozen=True, slots=True)
class FlatSegment:
    """One original parameter inside an FSDP1 flat parameter, as this rank holds it."""

    name: str
    shape: tuple[int, ...]
    numel: int  # of the whole original parameter
    in_shard: bool
    shard_start: int | None  # first element in this rank's flat shard
    shard_numel: int  # elements held here
    param_start: int | None  # first element of the original parameter held here

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "shape": list(self.shape), "numel": self.numel,
            "in_shard": self.in_shard, "shard_start": self.shard_start,
            "shard_numel": self.shard_numel, "param_start": self.param_start,
        }


@dataclass(frozen=True, slots=True)
class FlatParamInfo:
    """An FSDP1 flat parameter (JSON: the tensor's ``flat_param``)."""

    segments: tuple[FlatSegment, ...]
    padding: int  # elements of padding at the end of this rank's shard
    # True: an original parameter (``use_orig_params=True``), described by its one segment
    original: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "segments": [s.to_dict() for s in self.segments], "padding": self.padding,
            "original": self.original,
        }


@dataclass(frozen=True, slots=True)
class UnshardedInfo:
    """An FSDP2 parameter all-gathered (unsharded) now: the full parameter is registered on
    the module, and this rank's shard is kept beside it (JSON: the tensor's ``unsharded``)."""

    nbytes: int  # the full parameter's storage here
    shard_nbytes: int  # this rank's (padded) shard buffer, kept while unsharded
    placements: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "nbytes": self.nbytes, "shard_nbytes": self.shard_nbytes,
            "placements": list(self.placements),
        }
