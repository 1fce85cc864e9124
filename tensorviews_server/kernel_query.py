"""Ask a running kernel for its storage graph with one silent execute request.

The request runs no code: the graph comes back in `user_expressions`, so the kernel's history,
execution count and outputs are untouched. A kernel busy with a user's cell answers only when
that cell ends, so the wait is bounded and a busy kernel becomes `KernelBusy`.
"""

from __future__ import annotations

import ast
import asyncio
import queue
import time
from typing import Any

FORMATS = ("json", "dot", "svg")
_LOCKS: dict[str, asyncio.Lock] = {}


def kernel_lock(kernel_id: str) -> asyncio.Lock:
    """One request at a time per kernel."""
    return _LOCKS.setdefault(kernel_id, asyncio.Lock())


class KernelBusy(Exception):
    """The kernel did not answer within the timeout (it is running something)."""


class KernelQueryError(Exception):
    """The kernel answered, but could not build the graph (e.g. tensorviews not installed)."""


def graph_expression(show_all: bool) -> str:
    """The expression the kernel evaluates: the capped view with its notes and DOT."""
    return f"__import__('tensorviews').view_json(globals(), show_all={bool(show_all)})"


async def query_graph(
    kernel_manager: Any, kernel_id: str, show_all: bool, timeout: float
) -> str:
    """The kernel's view as JSON (with its `dot` field); one request at a time per kernel."""
    async with kernel_lock(kernel_id):
        return await _query(kernel_manager, kernel_id, show_all, timeout)


async def _query(kernel_manager: Any, kernel_id: str, show_all: bool, timeout: float) -> str:
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
            user_expressions={"g": graph_expression(show_all)},
            allow_stdin=False,
        )
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise KernelBusy(f"kernel {kernel_id} did not answer within {timeout:g} s")
            try:
                reply = await client.get_shell_msg(timeout=remaining)
            except (queue.Empty, asyncio.TimeoutError, TimeoutError):
                continue
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                break
    finally:
        client.stop_channels()
    return _graph_text(reply["content"])


def _graph_text(content: dict[str, Any]) -> str:
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
    return text
