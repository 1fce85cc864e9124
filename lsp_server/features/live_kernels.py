"""Live kernels: `tensorviews/graph` notifications, the `tensorviews/latestGraph` request, and
live facts for hovers and diagnostics.

After `initialized` the server polls the kernels' snapshot folder (`<Jupyter runtime
dir>/tensorviews/`) every `POLL_S` seconds. When a kernel's file changes it pushes
`tensorviews/graph` `{"uri", "kernelId", "notebookPath", "graph"}` once per open document that
kernel runs (`uri` null when none is open) and re-publishes those documents' diagnostics, whose
analysis now gets the kernel's real types. `tensorviews/latestGraph` `{"uri": str | null}`
answers the same object for a document's kernel (the latest kernel for null), or null.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from lsp_server.failures import guarded, log_failure
from lsp_server.live_state import describe, graph_message, name_at
from lsp_server.positions import from_lsp_position
from tensorviews.rules.markdown_text import code_block, code_span

if TYPE_CHECKING:
    from lsp_server.documents import AnalysedDocument
    from lsp_server.server import TensorViewsServer
    from tensorviews.live.files import KernelSnapshot

GRAPH_NOTIFICATION = "tensorviews/graph"
LATEST_GRAPH_REQUEST = "tensorviews/latestGraph"
POLL_S = float(os.environ.get("TENSORVIEWS_LIVE_POLL_S", "0.5"))


def live_hover_text(
    ls: TensorViewsServer, document: AnalysedDocument, position: types.Position, encoding: str
) -> str | None:
    """Markdown with the live facts of the name under the cursor, if a kernel knows it."""
    snapshot = ls.live.match(ls.key_for(document.uri))
    if snapshot is None:
        return None
    line, column = from_lsp_position(document.lines, position, encoding)
    text = document.lines[line - 1] if 0 < line <= len(document.lines) else ""
    for name in name_at(text, column):
        facts = describe(snapshot, name)
        if facts is not None:
            # Names, dtypes and the kernel id come from the user's kernel: shown verbatim, never
            # read as Markdown (a fence or span longer than any backtick run inside).
            return f"{code_block(facts, 'text')}\nlive: kernel {code_span(snapshot.kernel_id)}"
    return None


def documents_of(ls: TensorViewsServer, snapshot: KernelSnapshot) -> list[str]:
    """The open files and notebooks (analysis keys) that `snapshot`'s kernel runs."""
    return [
        key
        for key in list(ls.published)
        if (match := ls.live.match(key)) is not None and match.path == snapshot.path
    ]


def push_graphs(ls: TensorViewsServer, updated: list[KernelSnapshot]) -> None:
    """Send `tensorviews/graph` for each updated kernel, once per open document it runs."""
    for snapshot in updated:
        keys: list[str | None] = [*documents_of(ls, snapshot)] or [None]
        for key in keys:
            ls.protocol.notify(GRAPH_NOTIFICATION, graph_message(key, snapshot))


async def poll_forever(ls: TensorViewsServer, interval: float = POLL_S) -> None:
    """Watch the snapshot folder; on changes push graphs and re-publish diagnostics."""
    from lsp_server.features.diagnostics import schedule

    loop = asyncio.get_running_loop()
    while True:
        try:
            before = {key: ls.live.match(key) for key in ls.published}
            updated, gone = await loop.run_in_executor(None, ls.live.scan)
            if updated or gone:
                push_graphs(ls, updated)
                changed = {snap.path for snap in (*updated, *gone)}
                for key, old in before.items():
                    new = ls.live.match(key)
                    if any(s is not None and s.path in changed for s in (old, new)):
                        schedule(ls, key, delay=0)
        except Exception as error:  # a bad file must not stop the watch
            log_failure(ls, "watching live kernels", error)
        await asyncio.sleep(interval)


@guarded(None)
def on_initialized(ls: TensorViewsServer, params: types.InitializedParams) -> None:
    """initialized: start watching the kernels' snapshot folder."""
    if ls.live_task is None:
        ls.live_task = asyncio.get_running_loop().create_task(poll_forever(ls))


@guarded(None)
def on_latest_graph(ls: TensorViewsServer, params: Any) -> dict[str, Any] | None:
    """tensorviews/latestGraph: the graph of a document's kernel (or of the latest kernel)."""
    uri = params.get("uri") if isinstance(params, dict) else getattr(params, "uri", None)
    if uri is None:
        snapshot = ls.live.latest()
        return None if snapshot is None else graph_message(None, snapshot)
    snapshot = ls.live.match(ls.key_for(str(uri)))
    return None if snapshot is None else graph_message(str(uri), snapshot)


def register(ls: TensorViewsServer) -> None:
    """Attach the live-kernel handlers to `ls`."""
    ls.feature(types.INITIALIZED)(on_initialized)
    ls.feature(LATEST_GRAPH_REQUEST)(on_latest_graph)

