"""Tensor Views: see which tensors and arrays share memory, catch swap-of-views bugs.

``%load_ext tensorviews`` is the same extension as ``%load_ext kernel_ext``; this package
only forwards to :mod:`kernel_ext` so both names work.
"""

from kernel_ext import (
    StorageGraph,
    load_ipython_extension,
    overlaps,
    snapshot,
    unload_ipython_extension,
)

__all__ = [
    "StorageGraph",
    "load_ipython_extension",
    "overlaps",
    "snapshot",
    "unload_ipython_extension",
]
