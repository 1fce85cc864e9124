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

FORMAT_METHODS = {"json": "to_json", "dot": "to_dot", "svg": "to_svg"}


class KernelBusy(Exception):
    """The kernel did not answer within the timeout (it is running something)."""


class KernelQueryError(Exception):
    """The kernel answered, but could not build the graph (e.g. tensorviews not installed)."""


def graph_expression(fmt: str) -> str:
    """The expression the kernel evaluates; it needs `kernel_ext` importable there."""
    return f"__import__('kernel_ext').snapshot(globals()).{FORMAT_METHODS[fmt]}()"


async def query_graph(kernel_manager: Any, kernel_id: str, fmt: str, timeout: float) -> str:
    """The kernel's graph as JSON, DOT or SVG text."""
    client = kernel_manager.get_kernel(kernel_id).client()
    client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
    try:
        msg_id = client.execute(
            "",
            silent=True,
            store_history=False,
            user_expressions={"g": graph_expression(fmt)},
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
