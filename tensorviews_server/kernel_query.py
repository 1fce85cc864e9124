"""Ask a running kernel for its storage graph with one silent execute request.

The request runs no code: the graph comes back in `user_expressions`, so the kernel's history,
execution count and outputs are untouched. How requests reach a kernel:

- each request has its own client and Session, so its own ZMQ identity: a reply goes to the
  socket that asked, never to a neighbour's;
- one request at a time per kernel, and concurrent requests for the same kernel and view share
  one evaluation (fifty page polls cost the kernel one `view_json`, not fifty);
- every request carries a deadline (wall clock, the time its HTTP client stops waiting) that the
  kernel checks before any work (`tensorviews.view_json(..., deadline=...)`): a request that
  waited in the kernel's queue behind a user's cell past its deadline costs that cell's
  successor nothing but the check. Its reply is still awaited (up to `REPLY_LIMIT_S`), so the
  kernel holds at most one such request per view, never a pile.

A kernel that does not answer before the deadline becomes `KernelBusy` (503).
"""

from __future__ import annotations

import ast
import asyncio
import json
import queue
import time
import weakref
from typing import Any

from tensorviews_server.shared_work import SharedWork

FORMATS = ("json", "dot", "svg")
# After its client gave up, a request's reply is still awaited this long (the kernel may be
# running a long cell), holding the kernel's turn so that no second request queues behind it.
REPLY_LIMIT_S = 120.0


class KernelBusy(Exception):
    """The kernel did not answer within the timeout (it is running something)."""


class KernelQueryError(Exception):
    """The kernel answered, but could not build the graph (e.g. tensorviews not installed)."""


def graph_expression(show_all: bool, deadline: float) -> str:
    """The expression the kernel evaluates: the capped view with its notes and DOT, or
    ``{"expired": true}`` when the kernel gets to it after ``deadline`` (``time.time()``)."""
    return (
        "__import__('tensorviews').view_json("
        f"globals(), show_all={bool(show_all)}, deadline={deadline!r})"
    )


class KernelQueries:
    """The graph requests one server sends to its kernels (one per server, in its settings)."""

    def __init__(self) -> None:
        self._shared: SharedWork[str] = SharedWork()
        self._turns: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def graph(
        self, kernel_manager: Any, kernel_id: str, show_all: bool, timeout: float
    ) -> str:
        """The kernel's view as JSON (with its `dot` field), or `KernelBusy` after `timeout`."""
        deadline = time.time() + timeout
        task = self._shared.task(
            (kernel_id, show_all),
            lambda: self._ask(kernel_manager, kernel_id, show_all, deadline),
        )
        try:
            return await asyncio.wait_for(asyncio.shield(task), timeout)
        except (asyncio.TimeoutError, TimeoutError):
            raise KernelBusy(f"kernel {kernel_id} did not answer within {timeout:g} s") from None

    async def _ask(
        self, kernel_manager: Any, kernel_id: str, show_all: bool, deadline: float
    ) -> str:
        turn = self._turns.get(kernel_id)
        if turn is None:
            turn = self._turns[kernel_id] = asyncio.Lock()
        async with turn:
            if time.time() >= deadline:
                raise KernelBusy(f"kernel {kernel_id} was busy with another request")
            return await _query(kernel_manager, kernel_id, show_all, deadline)


async def _query(kernel_manager: Any, kernel_id: str, show_all: bool, deadline: float) -> str:
    from jupyter_client.session import Session

    kernel = kernel_manager.get_kernel(kernel_id)
    # Its own session (own ZMQ identity), so replies reach this request's socket.
    session = Session(key=kernel.session.key, signature_scheme=kernel.session.signature_scheme)
    client = kernel.client(session=session)
    client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
    try:
        msg_id = client.execute(
            "",
            silent=True,
            store_history=False,
            user_expressions={"g": graph_expression(show_all, deadline)},
            allow_stdin=False,
        )
        give_up = time.monotonic() + max(0.0, deadline - time.time()) + REPLY_LIMIT_S
        while True:
            remaining = give_up - time.monotonic()
            if remaining <= 0:
                raise KernelBusy(f"kernel {kernel_id} did not answer")
            try:
                reply = await client.get_shell_msg(timeout=remaining)
            except (queue.Empty, asyncio.TimeoutError, TimeoutError):
                continue
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                break
    finally:
        client.stop_channels()
    return _graph_text(kernel_id, reply["content"])


def _graph_text(kernel_id: str, content: dict[str, Any]) -> str:
    if content.get("status") == "aborted":  # a cell before it failed: the queue was dropped
        raise KernelBusy(f"kernel {kernel_id} dropped the request (a cell before it failed)")
    result = content.get("user_expressions", {}).get("g")
    if content.get("status") != "ok" or not isinstance(result, dict):
        raise KernelQueryError(f"the kernel's request failed ({content.get('status')})")
    if result.get("status") != "ok":
        raise KernelQueryError(
            "the kernel could not build the graph "
            f"({result.get('ename')}: {result.get('evalue')}); "
            "install tensorviews in the kernel's environment"
        )
    # The expression's value is a str; its text/plain form is that str's repr.
    text = ast.literal_eval(result["data"]["text/plain"])
    if not isinstance(text, str):
        raise KernelQueryError("the kernel answered something that is not text")
    if text.startswith('{"expired"') and json.loads(text).get("expired") is True:
        raise KernelBusy(f"kernel {kernel_id} was busy until after the request's deadline")
    return text
