"""Notebooks: `notebookDocument/didOpen`, `didChange` and `didClose` (LSP notebook sync).

A Jupyter notebook's Python cells are analysed together, in order, so types flow from earlier
cells into later ones (`a = torch.zeros(3)` in cell 1 makes a swap in cell 3 definite). Any
change republishes every cell of that notebook; `%magic` and `!shell` lines are blanked first.
Hover and code actions need nothing special: the server maps a cell URI to its notebook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from lsp_server.failures import guarded
from lsp_server.features.diagnostics import clear_all, schedule

if TYPE_CHECKING:
    from lsp_server.server import TensorViewsServer


def touches_text(change: types.NotebookDocumentChangeEvent) -> bool:
    """Whether a notebook change can alter findings (cells' text or structure, not metadata)."""
    cells = change.cells
    return cells is not None and bool(cells.structure or cells.text_content or cells.data)


@guarded(None)
def on_did_open(ls: TensorViewsServer, params: types.DidOpenNotebookDocumentParams) -> None:
    """notebookDocument/didOpen: publish diagnostics for every cell right away."""
    schedule(ls, params.notebook_document.uri, delay=0)


@guarded(None)
def on_did_change(ls: TensorViewsServer, params: types.DidChangeNotebookDocumentParams) -> None:
    """notebookDocument/didChange: republish all cells once the user pauses typing."""
    if touches_text(params.change):
        schedule(ls, params.notebook_document.uri)


@guarded(None)
def on_did_close(ls: TensorViewsServer, params: types.DidCloseNotebookDocumentParams) -> None:
    """notebookDocument/didClose: forget the notebook and clear its cells' diagnostics."""
    clear_all(ls, params.notebook_document.uri)


def register(ls: TensorViewsServer) -> None:
    """Attach the notebook sync handlers to `ls`."""
    ls.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)(on_did_open)
    ls.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)(on_did_change)
    ls.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)(on_did_close)
