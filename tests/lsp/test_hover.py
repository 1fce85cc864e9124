"""textDocument/hover: the walk-through on a flagged statement, nothing elsewhere."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tensorviews.rules import find_swap_hazards
from tests.lsp.conftest import diagnostics_of, file_uri, open_file, pos, rng

SEED = "import torch\n\na = torch.zeros(3)\nb = torch.ones(3)\na[0], b[0] = b[0], a[0]\n"


def hover_params(uri: str, line: int, character: int) -> types.HoverParams:
    return types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=pos(line, character)
    )


@pytest.mark.asyncio
async def test_hover_on_the_swap_explains_it(client: LanguageClient) -> None:
    uri = file_uri("hover.py")
    open_file(client, uri, SEED)
    (finding,) = find_swap_hazards(SEED)

    hover = await client.text_document_hover_async(hover_params(uri, 4, 20))

    assert hover == types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=finding.explanation),
        range=rng(4, 0, 4, 23),
    )
    # The walk-through speaks the user's names and shows the repaired line.
    assert "a[0]" in finding.explanation and "b[0]" in finding.explanation
    assert finding.fixes[0].fixed_statement in finding.explanation


@pytest.mark.asyncio
@pytest.mark.parametrize(("line", "character"), [(0, 3), (2, 5), (5, 0), (40, 2)])
async def test_hover_elsewhere_is_none(client: LanguageClient, line: int, character: int) -> None:
    uri = file_uri("hover-elsewhere.py")
    open_file(client, uri, SEED)
    assert await client.text_document_hover_async(hover_params(uri, line, character)) is None


@pytest.mark.asyncio
async def test_hover_answers_before_the_debounced_diagnostics(client: LanguageClient) -> None:
    uri = file_uri("hover-fresh.py")
    open_file(client, uri, "import torch\n")
    await diagnostics_of(client, uri)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=SEED)],
        )
    )
    # No waiting for publishDiagnostics: the hover analyses the text it has now.
    hover = await client.text_document_hover_async(hover_params(uri, 4, 2))
    assert hover is not None and hover.range == rng(4, 0, 4, 23)


@pytest.mark.asyncio
async def test_hover_on_a_closed_or_unknown_document_is_none(client: LanguageClient) -> None:
    unknown = file_uri("never-opened.py")
    assert await client.text_document_hover_async(hover_params(unknown, 0, 0)) is None
