"""Concurrent requests for the same thing share one piece of work (one kernel evaluation, one
graphviz run) instead of queueing one each."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class SharedWork(Generic[T]):
    """At most one running task per key; callers of the same key await that task."""

    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Task[T]] = {}

    def running(self, key: Hashable) -> bool:
        return key in self._running

    def task(self, key: Hashable, start: Callable[[], Awaitable[T]]) -> asyncio.Task[T]:
        """The running task for ``key``, started with ``start()`` if there is none.

        Await it through ``asyncio.shield`` (or ``wait_for(shield(...))``): one caller giving
        up must not cancel the others' answer."""
        task = self._running.get(key)
        if task is None:
            task = asyncio.ensure_future(start())
            self._running[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        return task

    def _forget(self, key: Hashable, done: asyncio.Task[T]) -> None:
        if self._running.get(key) is done:
            del self._running[key]
        if not done.cancelled():
            done.exception()  # retrieved: nobody waiting is not an "exception never retrieved"
