"""Tensor Views: see which tensors and arrays share memory, catch swap-of-views bugs.

The public Python API, no IPython needed (scripts, ``locals()`` in a debugger)::

    graph = tensorviews.snapshot(locals())     # StorageGraph: plain data, no tensor kept alive
    shown = tensorviews.view(graph)            # what every face draws: notes, interesting part, cap
    shown.to_text(); shown.to_dot(); shown.to_svg(); shown.to_json()
    tensorviews.overlaps(x[:, 0], x[1])        # exact, any device
    tensorviews.write_snapshot("snaps/rank{rank}.json")  # a rank of a torchrun job

``TENSORVIEWS_SNAPSHOT_DIR=folder`` writes ``folder/rank<r>.json`` of ``__main__``'s globals when
the process exits; ``python -m tensorviews merge folder/rank*.json`` lines the ranks up.

``%load_ext tensorviews`` loads the IPython extension (the same as ``%load_ext kernel_ext``).
This package holds the cores; the faces (``kernel_ext``, ``lsp_server``,
``tensorviews_server``, the VS Code client) are built on it and it imports none of them, except
that loading the IPython extension by this package's name forwards to ``kernel_ext``.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tensorviews.graph import (
    MIME_TYPE,
    SCHEMA,
    OverlapEdge,
    Snapshotter,
    StorageGraph,
    StorageNode,
    TensorNode,
    overlaps,
    snapshot,
)
from tensorviews.view import ViewOptions, view, view_document


def view_json(
    namespace: Mapping[str, Any],
    show_all: bool = False,
    max_nodes: int | None = None,
    deadline: float | None = None,
) -> str:
    """The drawn view of ``namespace`` as compact JSON with its DOT: the one expression the
    REST API and the VS Code debugger command evaluate in a kernel or a paused frame.

    ``deadline`` (``time.time()`` seconds): when the call starts later than that, nothing is
    looked at and the answer is ``{"expired":true}``; the REST API's requests carry the time
    their client stops waiting, so one that waited behind a long cell costs the kernel nothing.
    """
    if deadline is not None and time.time() > deadline:
        return '{"expired":true}'
    options = ViewOptions(show_all=show_all, max_nodes=max_nodes or ViewOptions().max_nodes)
    shown = view(snapshot(namespace), None, options)
    return json.dumps(view_document(shown), separators=(",", ":"))


def write_snapshot(
    path: str | os.PathLike[str], namespace: Mapping[str, Any] | None = None
) -> Path:
    """Write this process's snapshot for ``python -m tensorviews merge``: the tensors reachable
    from ``namespace`` (default: the caller's globals and locals), with its rank and world size
    when a process group is up. ``{rank}`` in the file name becomes the rank. No communication:
    each rank writes when it gets there. Returns the path written."""
    from tensorviews.merge import write_rank_snapshot

    if namespace is None:
        frame = sys._getframe(1)
        namespace = {**frame.f_globals, **frame.f_locals}
    return write_rank_snapshot(Path(path), snapshot(namespace), _env_rank())


def _env_rank() -> int | None:
    """The rank torchrun gives a process (``RANK``), for when no process group is up."""
    rank = os.environ.get("RANK", "")
    return int(rank) if rank.isdigit() else None


def _write_at_exit(folder: str) -> None:
    main = sys.modules.get("__main__")
    if main is None:
        return
    try:
        write_snapshot(Path(folder, "rank{rank}.json"), vars(main))
    except Exception as exc:  # exiting anyway: one line, never a traceback
        print(f"tensorviews: snapshot not written to {folder} ({exc})", file=sys.stderr)


if os.environ.get("TENSORVIEWS_SNAPSHOT_DIR"):
    atexit.register(_write_at_exit, os.environ["TENSORVIEWS_SNAPSHOT_DIR"])


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext tensorviews``: the IPython face, imported only when IPython asks for it."""
    from kernel_ext import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: object) -> None:
    from kernel_ext import unload_ipython_extension as unload

    unload(ipython)


__all__ = [
    "MIME_TYPE",
    "SCHEMA",
    "OverlapEdge",
    "Snapshotter",
    "StorageGraph",
    "StorageNode",
    "TensorNode",
    "ViewOptions",
    "load_ipython_extension",
    "overlaps",
    "snapshot",
    "unload_ipython_extension",
    "view",
    "view_document",
    "view_json",
    "write_snapshot",
]
