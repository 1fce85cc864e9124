"""Live kernels through a real LSP client: a real kernel runs cells, the server reads its
snapshot file and answers with live hovers, type-aware diagnostics, `tensorviews/graph`
notifications and `tensorviews/latestGraph`."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from lsp_server.features.live_kernels import GRAPH_NOTIFICATION, LATEST_GRAPH_REQUEST
from tests.kernel_ext.live_kernel import live_kernel
from tests.lsp.conftest import (
    SERVER_ENV,
    diagnostics_of,
    file_uri,
    open_file,
    pos,
    start,
    wait_for,
)

# The server reads the runtime dir from its environment, fixed when the module is imported.
RUNTIME_DIR = Path(tempfile.mkdtemp(prefix="tensorviews-live-lsp-"))
CONFIG = ClientServerConfig(
    server_command=[sys.executable, "-m", "lsp_server"],
    server_env={
        **SERVER_ENV, "JUPYTER_RUNTIME_DIR": str(RUNTIME_DIR), "TENSORVIEWS_LIVE_POLL_S": "0.1",
    },
)
SOURCE = "a[0], a[1] = a[1], a[0]\nxs[0], xs[1] = xs[1], xs[0]\nb[0], b[1] = b[1], b[0]\n"


@pytest.fixture(scope="module", autouse=True)
def runtime_dir() -> Iterator[Path]:
    yield RUNTIME_DIR
    shutil.rmtree(RUNTIME_DIR, ignore_errors=True)


@pytest_lsp.fixture(config=CONFIG)  # type: ignore[untyped-decorator]
async def client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    await start(lsp_client)
    yield
    await lsp_client.shutdown_session()


def field(obj: Any, name: str) -> Any:
    """A field of a custom message's params (pygls may hand them over as objects or dicts)."""
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name)


def severities(diagnostics: list[types.Diagnostic]) -> list[tuple[int, Any]]:
    return sorted((d.range.start.line, d.severity) for d in diagnostics)


async def latest_graph(client: LanguageClient, params: dict[str, Any]) -> Any:
    """Send the custom `tensorviews/latestGraph` request."""
    return await client.protocol.send_request_async(  # type: ignore[no-untyped-call]
        LATEST_GRAPH_REQUEST, params
    )


async def hover_text(client: LanguageClient, uri: str, line: int, character: int) -> str:
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=pos(line, character)
        )
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    return hover.contents.value


@pytest.mark.asyncio
async def test_live_kernel_types_hovers_and_graph_messages(client: LanguageClient) -> None:
    uri = file_uri("live_demo.py")
    path = Path(uri.removeprefix("file://"))
    graphs: list[Any] = []
    client.feature(GRAPH_NOTIFICATION)(lambda params: graphs.append(params))
    info = types.DiagnosticSeverity.Information
    error = types.DiagnosticSeverity.Error

    open_file(client, uri, SOURCE)
    # No kernel runs this file: the types cannot be known, every swap is "possible".
    before = await diagnostics_of(client, uri, lambda d: len(d) == 3)
    assert severities(before) == [(0, info), (1, info), (2, info)]
    assert await latest_graph(client, {"uri": uri}) is None

    with live_kernel(RUNTIME_DIR) as kernel:
        run = kernel.run
        await asyncio.to_thread(run, f"__vsc_ipynb_file__ = {str(path)!r}\n%load_ext tensorviews")
        await asyncio.to_thread(
            run, "import torch\na = torch.zeros(2, 2)\nb = a.view(-1)[2:]\nxs = [1, 2, 3]"
        )
        # Definite for the tensors, gone for the list.
        after = await diagnostics_of(client, uri, lambda d: len(d) == 2)
        assert severities(after) == [(0, error), (2, error)]

        assert "b: torch.float32 [2] on cpu, shares memory with a, offset 2" in (
            await hover_text(client, uri, 2, 0)
        )
        assert "a: torch.float32 [2, 2] on cpu, shares memory with b, offset 0" in (
            await hover_text(client, uri, 0, 20)  # the live facts join the swap explanation
        )
        assert "xs: list" in await hover_text(client, uri, 1, 16)

        def names_in(message: Any) -> set[str]:
            tensors = field(field(message, "graph"), "tensors")
            return {n for t in tensors for n in field(t, "names")}

        # One notification per change: the `%load_ext` cell's empty graph, then the tensors.
        await wait_for(
            lambda: any(field(g, "uri") == uri and names_in(g) == {"a", "b"} for g in graphs),
            "a tensorviews/graph notification with the tensors",
        )
        pushed = graphs[-1]
        assert field(pushed, "kernelId") == kernel.kernel_id
        assert field(pushed, "notebookPath") == str(path)
        assert field(field(pushed, "graph"), "schema") == "tensorviews.graph/1"

        latest = await latest_graph(client, {"uri": uri})
        assert field(latest, "kernelId") == kernel.kernel_id
        assert field(latest, "uri") == uri
        anywhere = await latest_graph(client, {"uri": None})
        assert field(anywhere, "kernelId") == kernel.kernel_id
        other = file_uri("not_run_by_a_kernel.py")
        unmatched = await latest_graph(client, {"uri": other})
        assert unmatched is None

    # The kernel exited and removed its file: back to "possible".
    final = await diagnostics_of(client, uri, lambda d: len(d) == 3)
    assert severities(final) == [(0, info), (1, info), (2, info)]
