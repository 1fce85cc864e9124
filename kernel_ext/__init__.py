"""Tensor Views kernel extension: the storage graph of a namespace's tensors and arrays.

``%load_ext kernel_ext`` (or ``%load_ext tensorviews``) in IPython/Jupyter; without IPython,
``snapshot(locals())`` and ``overlaps(x, y)`` work in scripts and debuggers.
"""

from kernel_ext.graph import MIME_TYPE, SCHEMA, OverlapEdge, StorageGraph, StorageNode, TensorNode
from kernel_ext.scan import Snapshotter, overlaps, snapshot


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
