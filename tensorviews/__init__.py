"""Tensor Views: see which tensors and arrays share memory, catch swap-of-views bugs.

The public Python API, no IPython needed (scripts, ``locals()`` in a debugger)::

    graph = tensorviews.snapshot(locals())     # StorageGraph: plain data, no tensor kept alive
    shown = tensorviews.view(graph)            # what every face draws: notes, interesting part, cap
    shown.to_text(); shown.to_dot(); shown.to_svg(); shown.to_json()
    tensorviews.overlaps(x[:, 0], x[1])        # exact, any device

``%load_ext tensorviews`` loads the IPython extension (the same as ``%load_ext kernel_ext``).
This package holds the cores; the faces (``kernel_ext``, ``lsp_server``,
``tensorviews_server``, the VS Code client) are built on it and it imports none of them, except
that loading the IPython extension by this package's name forwards to ``kernel_ext``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
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
]
