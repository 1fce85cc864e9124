"""notebookDocument/didOpen and didChange: findings on the right cell, types across cells."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.conftest import REPO, apply_edits, diagnostics_of, pos, rng, start

NOTEBOOK = (REPO / "tests" / "lsp" / "virtual" / "swap.ipynb").as_uri()
IMPORTS = "import torch\nx = torch.arange(4)"
NOTES = "# Swapping\nThe next cell swaps `x[0]` and `x[1]`."
SWAP = "%matplotlib inline\n!nvidia-smi\nx[0], x[1] = x[1], x[0]"


def cell_uri(index: int) -> str:
    return f"vscode-notebook-cell:{NOTEBOOK[len('file:') :]}#W{index}sZmlsZQ%3D%3D"


def cell(
    index: int, kind: types.NotebookCellKind = types.NotebookCellKind.Code
) -> types.NotebookCell:
    return types.NotebookCell(kind=kind, document=cell_uri(index))


def cell_item(index: int, text: str, language: str = "python") -> types.TextDocumentItem:
    return types.TextDocumentItem(uri=cell_uri(index), language_id=language, version=1, text=text)


def open_notebook(client: LanguageClient, first_cell: str = IMPORTS) -> None:
    client.notebook_document_did_open(
        types.DidOpenNotebookDocumentParams(
            notebook_document=types.NotebookDocument(
                uri=NOTEBOOK,
                notebook_type="jupyter-notebook",
                version=1,
                cells=[cell(0), cell(1, types.NotebookCellKind.Markup), cell(2)],
            ),
            cell_text_documents=[
                cell_item(0, first_cell),
                cell_item(1, NOTES, language="markdown"),
                cell_item(2, SWAP),
            ],
        )
    )


def change_cell(client: LanguageClient, index: int, text: str, version: int) -> None:
    client.notebook_document_did_change(
        types.DidChangeNotebookDocumentParams(
            notebook_document=types.VersionedNotebookDocumentIdentifier(
                uri=NOTEBOOK, version=version
            ),
            change=types.NotebookDocumentChangeEvent(
                cells=types.NotebookDocumentCellChanges(
                    text_content=[
                        types.NotebookDocumentCellContentChanges(
                            document=types.VersionedTextDocumentIdentifier(
                                uri=cell_uri(index), version=version
                            ),
                            changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
                        )
                    ]
                )
            ),
        )
    )


@pytest.mark.asyncio
async def test_server_advertises_notebook_sync(bare_client: LanguageClient) -> None:
    result = await start(bare_client)
    sync = result.capabilities.notebook_document_sync
    assert isinstance(sync, types.NotebookDocumentSyncOptions)
    (selector,) = sync.notebook_selector
    assert selector.notebook == "jupyter-notebook"
    assert selector.cells == (types.NotebookCellLanguage(language="python"),)


@pytest.mark.asyncio
async def test_types_from_an_earlier_cell_make_the_finding_definite(client: LanguageClient) -> None:
    open_notebook(client)

    (diagnostic,) = await diagnostics_of(client, cell_uri(2), lambda d: len(d) == 1)

    assert (diagnostic.code, diagnostic.severity) == ("TV001", types.DiagnosticSeverity.Error)
    # Magic lines stay where they were: the swap is on the cell's third line.
    assert diagnostic.range == rng(2, 0, 2, 23)
    assert diagnostic.related_information is not None
    assert diagnostic.related_information[0].location == types.Location(
        uri=cell_uri(2), range=rng(2, 0, 2, 4)
    )
    assert await diagnostics_of(client, cell_uri(0)) == []
    assert cell_uri(1) not in client.diagnostics


@pytest.mark.asyncio
async def test_changing_an_earlier_cell_republishes_the_later_one(client: LanguageClient) -> None:
    open_notebook(client)
    await diagnostics_of(client, cell_uri(2), lambda d: len(d) == 1)

    change_cell(client, 0, "x = [0, 1, 2, 3]", version=2)  # a list swaps correctly

    assert await diagnostics_of(client, cell_uri(2), lambda d: len(d) == 0) == []

    change_cell(client, 0, IMPORTS, version=3)
    (diagnostic,) = await diagnostics_of(client, cell_uri(2), lambda d: len(d) == 1)
    assert diagnostic.severity == types.DiagnosticSeverity.Error


@pytest.mark.asyncio
async def test_without_the_earlier_cell_the_finding_is_only_possible(
    client: LanguageClient,
) -> None:
    open_notebook(client, first_cell="y = 1")
    (diagnostic,) = await diagnostics_of(client, cell_uri(2), lambda d: len(d) == 1)
    assert diagnostic.severity == types.DiagnosticSeverity.Information


@pytest.mark.asyncio
async def test_hover_and_quick_fix_work_in_a_cell(client: LanguageClient) -> None:
    open_notebook(client)
    diagnostics = await diagnostics_of(client, cell_uri(2), lambda d: len(d) == 1)
    document = types.TextDocumentIdentifier(uri=cell_uri(2))

    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=document, position=pos(2, 4))
    )
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=document,
            range=rng(2, 0, 2, 0),
            context=types.CodeActionContext(diagnostics=diagnostics),
        )
    )

    assert hover is not None and hover.range == rng(2, 0, 2, 23)
    assert actions
    action = actions[0]
    assert isinstance(action, types.CodeAction)
    assert action.edit is not None and action.edit.changes is not None
    assert list(action.edit.changes) == [cell_uri(2)]
    change_cell(client, 2, apply_edits(SWAP, action.edit.changes[cell_uri(2)]), version=2)
    assert await diagnostics_of(client, cell_uri(2), lambda d: len(d) == 0) == []


@pytest.mark.asyncio
async def test_removed_cell_and_closed_notebook_lose_their_diagnostics(
    client: LanguageClient,
) -> None:
    open_notebook(client)
    await diagnostics_of(client, cell_uri(2), lambda d: len(d) == 1)
    client.notebook_document_did_change(
        types.DidChangeNotebookDocumentParams(
            notebook_document=types.VersionedNotebookDocumentIdentifier(uri=NOTEBOOK, version=2),
            change=types.NotebookDocumentChangeEvent(
                cells=types.NotebookDocumentCellChanges(
                    structure=types.NotebookDocumentCellChangeStructure(
                        array=types.NotebookCellArrayChange(start=2, delete_count=1),
                        did_close=[types.TextDocumentIdentifier(uri=cell_uri(2))],
                    )
                )
            ),
        )
    )
    assert await diagnostics_of(client, cell_uri(2), lambda d: len(d) == 0) == []

    # A new swap cell comes back, then the notebook closes: every cell is cleared.
    client.notebook_document_did_change(
        types.DidChangeNotebookDocumentParams(
            notebook_document=types.VersionedNotebookDocumentIdentifier(uri=NOTEBOOK, version=3),
            change=types.NotebookDocumentChangeEvent(
                cells=types.NotebookDocumentCellChanges(
                    structure=types.NotebookDocumentCellChangeStructure(
                        array=types.NotebookCellArrayChange(
                            start=2, delete_count=0, cells=[cell(3)]
                        ),
                        did_open=[cell_item(3, SWAP)],
                    )
                )
            ),
        )
    )
    await diagnostics_of(client, cell_uri(3), lambda d: len(d) == 1)
    client.notebook_document_did_close(
        types.DidCloseNotebookDocumentParams(
            notebook_document=types.NotebookDocumentIdentifier(uri=NOTEBOOK),
            cell_text_documents=[types.TextDocumentIdentifier(uri=cell_uri(i)) for i in (0, 1, 3)],
        )
    )
    assert await diagnostics_of(client, cell_uri(3), lambda d: len(d) == 0) == []
