"""Tensor Views' IPython face: ``%load_ext kernel_ext`` (or ``%load_ext tensorviews``).

After each cell the storage graph is rebuilt (``%tensorgraph`` draws it), swap-of-views
statements are checked before they run, and a snapshot file feeds the editor. The analysis is
the cores' (``tensorviews``); the names below are re-exported for scripts that used them here.
"""

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


def load_ipython_extension(ipython: object) -> None:
    from kernel_ext.extension import load

    load(ipython)


def unload_ipython_extension(ipython: object) -> None:
    from kernel_ext.extension import unload

    unload(ipython)


__all__ = [
    "MIME_TYPE",
    "SCHEMA",
    "OverlapEdge",
    "Snapshotter",
    "StorageGraph",
    "StorageNode",
    "TensorNode",
    "load_ipython_extension",
    "overlaps",
    "snapshot",
    "unload_ipython_extension",
]
