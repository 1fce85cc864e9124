"""HTTP handlers of the jupyter-server extension: kernel list, one kernel's graph, the page.

Every handler is behind the server's own authentication (`web.authenticated`) and authorization
(`authorized`, resource `tensorviews`): without a token the API answers 403, and the page
redirects to the login page. Kernel ids not known to the server answer 404. Nothing here reads
a file or waits on a kernel or on graphviz on the event loop: snapshot files are read and SVG
is drawn in threads, kernels are awaited asynchronously (`kernel_query.py`).
"""

from __future__ import annotations

import asyncio
import json
import math
from importlib.resources import files
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from tornado import web
from traitlets import Float
from traitlets.config import Configurable

from tensorviews.live.files import (
    KernelSnapshot,
    pid_alive,
    read_snapshot,
    snapshot_dir,
    snapshot_path,
)
from tensorviews.render.dot import GraphvizMissing, render_svg
from tensorviews_server.kernel_query import (
    FORMATS,
    KernelBusy,
    KernelQueries,
    KernelQueryError,
)
from tensorviews_server.shared_work import SharedWork

AUTH_RESOURCE = "tensorviews"
CONTENT_TYPES = {
    "json": "application/json",
    "dot": "text/vnd.graphviz; charset=UTF-8",
    "svg": "image/svg+xml",
}
SOURCE_HEADER = "X-TensorViews-Source"


class TensorViews(Configurable):  # type: ignore[misc]
    """Settings of the extension (`--TensorViews.kernel_timeout=2`), and its shared state."""

    kernel_timeout = Float(
        5.0, config=True, help="Seconds to wait for a busy kernel before answering 503."
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.queries = KernelQueries()
        self.renders: SharedWork[str] = SharedWork()
        # Read once, when the server loads the extension: no file is read on the event loop.
        self.page = files("tensorviews_server").joinpath("page.html").read_text(encoding="utf-8")

    async def svg(self, dot: str) -> str:
        """The SVG of ``dot``, drawn by graphviz in a thread; equal drawings run once."""
        timeout = self.kernel_timeout
        task = self.renders.task(dot, lambda: asyncio.to_thread(render_svg, dot, timeout))
        return await asyncio.shield(task)


async def read_snapshots(kernel_ids: list[str]) -> dict[str, KernelSnapshot | None]:
    """The live snapshot files of these kernels, read off the event loop; a file left by a
    process that is gone (a kernel killed and restarted under the same id) is not live."""
    folder = snapshot_dir()

    def read_one(kernel_id: str) -> KernelSnapshot | None:
        snapshot = read_snapshot(snapshot_path(folder, kernel_id))
        return snapshot if snapshot is not None and pid_alive(snapshot.pid) else None

    def read_all() -> dict[str, KernelSnapshot | None]:
        return {kernel_id: read_one(kernel_id) for kernel_id in kernel_ids}

    return await asyncio.to_thread(read_all)


class KernelsHandler(APIHandler):  # type: ignore[misc]
    """GET /tensorviews/api/kernels: the running kernels, with their live snapshot if any."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated  # type: ignore[untyped-decorator]
    @authorized  # type: ignore[untyped-decorator]
    async def get(self) -> None:
        paths = {
            session["kernel"]["id"]: session.get("path")
            for session in await self.session_manager.list_sessions()  # type: ignore[no-untyped-call]
            if session.get("kernel")
        }
        listed = self.kernel_manager.list_kernels()  # type: ignore[no-untyped-call]
        snapshots = await read_snapshots([kernel["id"] for kernel in listed])
        kernels = []
        for kernel in listed:
            snapshot = snapshots.get(kernel["id"])
            live = None
            if snapshot is not None:
                live = {
                    "seq": snapshot.seq,
                    "time": snapshot.time,
                    "tensors": _count(snapshot.graph.get("tensors")),
                    "storages": _count(snapshot.graph.get("storages")),
                }
            kernels.append(
                {
                    "id": kernel["id"],
                    "name": kernel.get("name"),
                    "executionState": kernel.get("execution_state"),
                    "notebookPath": paths.get(kernel["id"])
                    or (snapshot.notebook_path if snapshot else None),
                    "live": live,
                }
            )
        self.finish(json.dumps({"kernels": kernels}))


class GraphHandler(APIHandler):  # type: ignore[misc]
    """GET /tensorviews/api/kernels/<id>/graph[?format=json|svg|dot][&all=1].

    An idle kernel is asked (a silent request); a kernel busy with a cell is answered from its
    live snapshot file instead of queueing work behind the cell (`source` says which)."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated  # type: ignore[untyped-decorator]
    @authorized  # type: ignore[untyped-decorator]
    async def get(self, kernel_id: str) -> None:
        fmt = self.get_argument("format", "json")
        if fmt not in FORMATS:
            raise web.HTTPError(400, f"unknown format {fmt!r} (json, svg or dot)")
        if kernel_id not in self.kernel_manager:
            raise web.HTTPError(404, "no such kernel")
        state: TensorViews = self.settings["tensorviews"]
        timeout = state.kernel_timeout
        show_all = self.get_argument("all", "0") not in ("", "0", "false")
        try:
            document, source = await self.view(state, kernel_id, show_all)
            text = json.dumps({**document, "source": source}, separators=(",", ":"))
            if fmt != "json":
                dot = document.get("dot")
                if not isinstance(dot, str):
                    raise KernelQueryError("the graph has no drawing (no dot field)")
                text = dot if fmt == "dot" else await state.svg(dot)
        except KernelBusy as busy:
            self.set_status(503)
            self.set_header("Retry-After", str(max(1, math.ceil(timeout))))
            self.finish(json.dumps({"message": f"{busy}; try again later", "reason": "busy"}))
            return
        except (KernelQueryError, GraphvizMissing) as error:
            raise web.HTTPError(500, str(error)) from None
        self.set_header("Cache-Control", "no-store")
        self.set_header(SOURCE_HEADER, source)
        self.finish(text, set_content_type=CONTENT_TYPES[fmt])

    async def view(
        self, state: TensorViews, kernel_id: str, show_all: bool
    ) -> tuple[dict[str, Any], str]:
        """The view document and where it came from (`kernel` or `live-file`)."""
        kernel = self.kernel_manager.get_kernel(kernel_id)
        busy = getattr(kernel, "execution_state", None) == "busy"
        if busy and not show_all:
            snapshot = (await read_snapshots([kernel_id]))[kernel_id]
            if snapshot is not None and isinstance(snapshot.graph.get("dot"), str):
                return snapshot.graph, "live-file"
        text = await state.queries.graph(
            self.kernel_manager, kernel_id, show_all, state.kernel_timeout
        )
        try:
            document = json.loads(text)
        except ValueError:
            raise KernelQueryError("the kernel answered something that is not JSON") from None
        if not isinstance(document, dict):
            raise KernelQueryError("the kernel answered something that is not a graph")
        return document, "kernel"


def _count(items: object) -> int:
    return len(items) if isinstance(items, list) else 0


class PageHandler(JupyterHandler):  # type: ignore[misc]
    """GET /tensorviews/: the page that lists kernels and draws the chosen one's graph."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated  # type: ignore[untyped-decorator]
    @authorized  # type: ignore[untyped-decorator]
    def get(self) -> None:
        state: TensorViews = self.settings["tensorviews"]
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(state.page)


def handlers(base_url: str) -> list[tuple[str, Any]]:
    """URL patterns under the server's base URL."""
    from jupyter_server.utils import url_path_join

    root = url_path_join(base_url, "tensorviews")
    return [
        (url_path_join(root, "api", "kernels"), KernelsHandler),
        (url_path_join(root, "api", "kernels", r"(?P<kernel_id>[\w-]+)", "graph"), GraphHandler),
        (root + "/?", PageHandler),
    ]
