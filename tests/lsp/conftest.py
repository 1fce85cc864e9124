"""A real LSP client (pytest-lsp) talking to `python -m lsp_server` over stdio, plus helpers."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

REPO = Path(__file__).resolve().parents[2]
SERVER_ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(REPO)])),
}
CONFIG = ClientServerConfig(
    server_command=[sys.executable, "-m", "lsp_server"], server_env=SERVER_ENV
)
NOTEBOOK_SUPPORT = types.NotebookDocumentClientCapabilities(
    synchronization=types.NotebookDocumentSyncClientCapabilities(execution_summary_support=True)
)
TIMEOUT_S = 10.0


def capabilities(profile: str = "visual-studio-code") -> types.ClientCapabilities:
    """A bundled client profile that also declares notebook sync (the bundled ones do not)."""
    caps = client_capabilities(profile)
    caps.notebook_document = NOTEBOOK_SUPPORT
    return caps


async def start(
    client: LanguageClient, options: Any = None, profile: str = "visual-studio-code"
) -> types.InitializeResult:
    """Initialize a session the way an editor does."""
    return await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities(profile),
            initialization_options=options,
            root_uri=REPO.as_uri(),
        )
    )


@pytest_lsp.fixture(config=CONFIG)  # type: ignore[untyped-decorator]
async def client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    """A client initialized with VS Code's capabilities plus notebook support."""
    await start(lsp_client)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG)  # type: ignore[untyped-decorator]
async def bare_client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    """A started client that each test initializes itself (to pass its own options)."""
    yield
    await lsp_client.shutdown_session()


def file_uri(name: str) -> str:
    """A URI for a file that need not exist: the client sends its text."""
    return (REPO / "tests" / "lsp" / "virtual" / name).as_uri()


def open_file(client: LanguageClient, uri: str, text: str, version: int = 1) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=version, text=text
            )
        )
    )


def replace_text(client: LanguageClient, uri: str, text: str, version: int) -> None:
    """A full-text didChange (as some editors send)."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def wait_for(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT_S) -> None:
    """Poll until `condition()` holds (awaiting notifications one by one can hang)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def diagnostics_of(
    client: LanguageClient,
    uri: str,
    condition: Callable[[Sequence[types.Diagnostic]], bool] = lambda _: True,
) -> list[types.Diagnostic]:
    """The diagnostics published for `uri` once they satisfy `condition`."""
    await wait_for(
        lambda: uri in client.diagnostics and condition(client.diagnostics[uri]),
        f"diagnostics of {uri}",
    )
    return list(client.diagnostics[uri])


def apply_edits(text: str, edits: Sequence[types.TextEdit]) -> str:
    """Apply LSP text edits (UTF-16 positions) to `text`, last edit first."""
    lines = text.split("\n")

    def offset(position: types.Position) -> int:
        before = sum(len(line) + 1 for line in lines[: position.line])
        line = (
            lines[position.line].encode("utf-16-le")[: position.character * 2].decode("utf-16-le")
        )
        return before + len(line)

    for edit in sorted(
        edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
    ):
        start, end = offset(edit.range.start), offset(edit.range.end)
        text = text[:start] + edit.new_text + text[end:]
        lines = text.split("\n")
    return text


def pos(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


def rng(line: int, start: int, end_line: int, end: int) -> types.Range:
    return types.Range(start=pos(line, start), end=pos(end_line, end))
