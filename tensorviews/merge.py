"""Rank snapshots of a distributed job: written by each rank, merged into one table.

Each rank writes its own graph (``write_rank_snapshot``; ``tensorviews.write_snapshot`` is the
public call, ``TENSORVIEWS_SNAPSHOT_DIR`` writes one at exit) with no communication: ranks
never wait for each other. ``merge`` reads those files and lines the ranks up: one row per
global tensor (a DTensor by its name, a plain tensor by its name), one column per rank with
the piece that rank holds (its extent in the global tensor, its bytes and padding), and per-rank
memory totals by device.

The file format is ``tensorviews.rank-snapshot/1`` (docs/distributed.md): ``schema``, ``rank``,
``world_size`` (null without a process group), ``pid``, ``time`` and ``graph``, the whole
``tensorviews.graph/1`` graph (not a capped view: the merge needs every tensor).
"""

from __future__ import annotations

import json
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tensorviews.graph.model import StorageGraph
from tensorviews.live.files import write_atomic
from tensorviews.sizes import format_bytes, format_dims

RANK_SCHEMA = "tensorviews.rank-snapshot/1"
MAX_FILE_BYTES = 256 * 1024 * 1024  # a graph of a few hundred thousand tensors


class MergeError(ValueError):
    """A rank snapshot file that cannot be used: the message is one line."""


def write_rank_snapshot(path: Path, graph: StorageGraph, rank: int | None) -> Path:
    """Write ``graph`` as this rank's snapshot file (0600, replaced in one step). ``{rank}`` in
    the file name is replaced by the rank (the pid when there is none)."""
    rank = graph.rank if graph.rank is not None else rank
    name = path.name.replace("{rank}", str(rank if rank is not None else f"pid{os.getpid()}"))
    target = path.with_name(name)
    # Written like a kernel's live file (tensorviews.live.files), which takes only a private
    # folder: a folder made here is made private; an existing open one is refused in one line.
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    document = {
        "schema": RANK_SCHEMA, "rank": rank, "world_size": graph.world_size,
        "pid": os.getpid(), "time": time.time(), "graph": graph.to_dict(),
    }
    write_atomic(target, json.dumps(document, separators=(",", ":")))
    return target


@dataclass(slots=True)
class RankFile:
    path: str
    rank: int
    world_size: int | None
    graph: dict[str, Any]


def read_rank_file(path: Path) -> RankFile:
    """One rank's snapshot. Read only if it is a regular file below the size cap, without
    blocking on a FIFO or following a symlink to one."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise MergeError(f"{path}: cannot open ({exc.strerror})") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise MergeError(f"{path}: not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise MergeError(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MiB")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    finally:
        os.close(fd)
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MergeError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise MergeError(f"{path}: not a tensorviews snapshot")
    graph = data.get("graph") if data.get("schema") == RANK_SCHEMA else data
    if not isinstance(graph, dict) or not isinstance(graph.get("tensors"), list):
        raise MergeError(f"{path}: no graph in it")
    rank = data.get("rank", graph.get("rank"))
    if type(rank) is not int:
        raise MergeError(f"{path}: no rank in it (written without a process group?)")
    world = data.get("world_size", graph.get("world_size"))
    return RankFile(str(path), rank, world if type(world) is int else None, graph)


@dataclass(slots=True)
class Piece:
    """What one rank holds of one tensor."""

    shape: list[int]
    nbytes: int  # logical bytes of the local piece
    extent: str  # "rows 0-3", "whole", "not in this rank's shard"
    padding_bytes: int = 0
    global_offset: list[int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "shape": self.shape, "nbytes": self.nbytes, "extent": self.extent,
            "padding_bytes": self.padding_bytes, "global_offset": self.global_offset,
        }


@dataclass(slots=True)
class Row:
    name: str
    global_shape: list[int]
    placements: list[str]
    dtype: str
    pieces: dict[int, Piece] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "global_shape": self.global_shape,
            "placements": self.placements, "dtype": self.dtype,
            "ranks": {str(r): p.to_dict() for r, p in sorted(self.pieces.items())},
        }


@dataclass(slots=True)
class Merged:
    ranks: list[int]
    world_size: int | None
    rows: list[Row]
    # rank -> device -> bytes of the storages that rank holds (allocated ones only)
    totals: dict[int, dict[str, int]]
    unallocated: dict[int, int]  # rank -> bytes of meta/fake storages (no memory)
    problems: list[str]  # files left out, ranks missing or repeated

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "tensorviews.merged/1", "ranks": self.ranks,
            "world_size": self.world_size, "tensors": [r.to_dict() for r in self.rows],
            "totals": {str(r): t for r, t in sorted(self.totals.items())},
            "unallocated": {str(r): n for r, n in sorted(self.unallocated.items())},
            "problems": self.problems,
        }


def merge(files: list[RankFile], problems: list[str] | None = None) -> Merged:
    """Line the ranks' graphs up: a row per tensor name, a piece per rank."""
    problems = list(problems or [])
    by_rank: dict[int, RankFile] = {}
    for f in files:
        if f.rank in by_rank:
            first = by_rank[f.rank].path
            problems.append(f"{f.path}: rank {f.rank} again (also {first}): left out")
            continue
        by_rank[f.rank] = f
    worlds = {f.world_size for f in by_rank.values() if f.world_size is not None}
    world = max(worlds) if worlds else None
    if len(worlds) > 1:
        problems.append(f"the files come from different world sizes: {sorted(worlds)}")
    if world is not None:
        missing = sorted(set(range(world)) - set(by_rank))
        if missing:
            problems.append(f"no snapshot of rank {', '.join(map(str, missing))}")
    rows: dict[str, Row] = {}
    totals: dict[int, dict[str, int]] = {}
    unallocated: dict[int, int] = {}
    for rank in sorted(by_rank):
        graph = by_rank[rank].graph
        device_bytes: dict[str, int] = {}
        for s in graph.get("storages", []):
            nbytes = s.get("nbytes") or 0
            if s.get("allocated", True):
                device = str(s.get("device"))
                device_bytes[device] = device_bytes.get(device, 0) + nbytes
            else:
                unallocated[rank] = unallocated.get(rank, 0) + nbytes
        totals[rank] = device_bytes
        storage_bytes = {s.get("id"): s.get("nbytes") or 0 for s in graph.get("storages", [])}
        for t in graph.get("tensors", []):
            names = t.get("names") or []
            if not names:
                continue
            name = str(names[0])
            row, piece = _row_and_piece(name, t, storage_bytes)
            kept = rows.setdefault(name, row)
            kept.pieces[rank] = piece
    return Merged(sorted(by_rank), world, list(rows.values()), totals, unallocated, problems)


def _row_and_piece(
    name: str, t: dict[str, Any], storage_bytes: dict[Any, int]
) -> tuple[Row, Piece]:
    shape = [int(d) for d in t.get("shape", [])]
    nbytes = int(t.get("logical_nbytes", 0))
    dtype = str(t.get("dtype"))
    info = t.get("dtensor")
    if isinstance(info, dict):
        offset = [int(o) for o in info.get("global_offset", [])]
        global_shape = [int(d) for d in info.get("global_shape", [])]
        extent = _extent(global_shape, shape, offset)
        padding = int(info.get("buffer_padding_bytes", 0))
        return (
            Row(name, global_shape, [str(p) for p in info.get("placements", [])], dtype),
            Piece(shape, nbytes, extent, padding, offset),
        )
    flat = t.get("flat_param")
    if isinstance(flat, dict) and flat.get("original") and flat.get("segments"):
        # One original parameter of an FSDP1 flat parameter: the elements held here.
        seg = flat["segments"][0]
        whole = [int(d) for d in seg.get("shape", [])]
        if not seg.get("in_shard"):
            extent = "not in this rank's shard"
        else:
            start, count = int(seg.get("param_start") or 0), int(seg.get("shard_numel", 0))
            extent = f"elements {start}-{start + count - 1} of {seg.get('numel')}"
        return Row(name, whole, ["FSDP flat"], dtype), Piece(shape, nbytes, extent)
    if isinstance(flat, dict):
        held = [s for s in flat.get("segments", []) if s.get("in_shard")]
        extent = f"{len(held)} of {len(flat.get('segments', []))} parameters"
        padding = int(flat.get("padding", 0)) * int(t.get("itemsize", 0))
        return Row(name, shape, ["FSDP flat"], dtype), Piece(shape, nbytes, extent, padding)
    storage = storage_bytes.get(t.get("storage"))
    extent = "whole" if storage is None or nbytes >= storage else "view"
    return Row(name, shape, [], dtype), Piece(shape, nbytes, extent)


_WORDS = {0: "rows", 1: "cols"}


def _extent(global_shape: list[int], shape: list[int], offset: list[int]) -> str:
    parts = []
    for d, (size, local, start) in enumerate(zip(global_shape, shape, offset, strict=False)):
        if local != size:
            word = _WORDS.get(d, f"dim {d}") if len(global_shape) > 1 else "elements"
            parts.append(f"{word} {start}-{start + local - 1}" if local else f"{word}: none")
    return ", ".join(parts) or "whole"




def to_text(merged: Merged) -> str:
    """A fixed-width table: tensor, global shape, placements, then one column per rank."""
    header = ["tensor", "global", "placements", *(f"rank {r}" for r in merged.ranks)]
    table = [header]
    for row in merged.rows:
        cells = [row.name, format_dims(row.global_shape), ", ".join(row.placements) or "-"]
        for r in merged.ranks:
            piece = row.pieces.get(r)
            if piece is None:
                cells.append("-")
                continue
            text = f"{piece.extent} · {format_bytes(piece.nbytes)}"
            if piece.padding_bytes:
                text += f" +{format_bytes(piece.padding_bytes)} pad"
            cells.append(text)
        table.append(cells)
    memory = ["memory (storages)", "", ""]
    for r in merged.ranks:
        by_device = merged.totals.get(r, {})
        text = ", ".join(f"{d} {format_bytes(n)}" for d, n in sorted(by_device.items())) or "0 B"
        if merged.unallocated.get(r):
            text += f" (+{format_bytes(merged.unallocated[r])} not allocated)"
        memory.append(text)
    table.append(memory)
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
             for line in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.insert(len(lines) - 1, "  ".join("-" * w for w in widths))
    lines += [f"note: {p}" for p in merged.problems]
    return "\n".join(lines) + "\n"
