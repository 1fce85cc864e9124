"""The cyclic garbage collector around a snapshot: paused while it runs, and what it keeps
moved straight to the oldest generation.

A snapshot of ten thousand new tensors creates about twenty thousand objects that live as long
as those tensors: a weak reference per tensor, and the Python storage object PyTorch creates
(and then keeps with the storage) when a storage's size is asked. Left young, each collection
of the young generations traverses them, twice, before they settle in the oldest one, and they
bring the next full collection closer: measured on a 10,000-tensor cell, about 2.5 ms per cell
spread over the hook and the next cell, plus a full collection (tens of milliseconds) every few
cells.

So once a snapshot is about to create many such objects, the young generations are collected
first (whatever the user's cell left there gets its normal collection, now), and at the end
``gc.freeze()`` then ``gc.unfreeze()`` moves everything young, which is then only what the
snapshot created, into the oldest generation: two list splices, no traversal. Nothing is left
frozen. Skipped when the collector was disabled by the user, or when the user froze objects
(``gc.freeze()`` at start-up, before forking): unfreezing would release theirs too.

The promotion is feature-detected: it relies on CPython's generational collector up to 3.13
(three generations, ``gc.freeze``/``gc.unfreeze`` moving the young ones to the permanent
generation and back to the oldest). Elsewhere (PyPy, 3.14's incremental collector, a build
without ``gc.freeze``) the collector is only paused and restored: plain behaviour.

The snapshot creates no reference cycles, so nothing it promotes is garbage waiting for a full
collection. Objects other threads allocate during the snapshot are promoted along with it.
The young collection runs after the walk has found the namespace's objects and before any is
read; a finalizer it runs that changes one of them is seen at the next cell, as any change is
(the fingerprint taken before it no longer matches).
"""

from __future__ import annotations

import gc
import sys
from types import TracebackType

# Fewer new objects than this: the young collections cost less than the collection up front.
PROMOTE_FROM = 1000


def can_promote() -> bool:
    """Does this interpreter's collector work as the promotion assumes (see above)?"""
    return (
        sys.implementation.name == "cpython"
        and sys.version_info < (3, 14)
        and all(hasattr(gc, name) for name in ("freeze", "unfreeze", "get_freeze_count"))
        and len(gc.get_threshold()) == 3
    )


_CAN_PROMOTE = can_promote()


class CollectorPause:
    """``with CollectorPause():`` around one snapshot; ``will_keep(n)`` before creating ``n``
    long-lived objects."""

    def __init__(self, promote_from: int = PROMOTE_FROM) -> None:
        self.promote_from = promote_from
        self.was_enabled = False
        self.kept = 0
        self.promoting = False

    def __enter__(self) -> CollectorPause:
        self.was_enabled = gc.isenabled()
        gc.disable()
        self.kept = 0
        self.promoting = False
        return self

    def will_keep(self, n: int) -> None:
        self.kept += n
        if (
            _CAN_PROMOTE
            and not self.promoting
            and self.kept >= self.promote_from
            and self.was_enabled
            and gc.get_freeze_count() == 0
        ):
            gc.collect(1)  # the user's young objects: collected as they would have been
            self.promoting = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.promoting:
            gc.freeze()
            gc.unfreeze()
            self.promoting = False
        if self.was_enabled:
            gc.enable()
