"""Written once, as a user sees it: one notebook-cell blanker behind the editor and `check`, one
change-detection rule behind the kernel's graphs.

The editor is a real LSP client (pytest-lsp) on `python -m lsp_server` with the cells opened as a
notebook document; `check` is `python -m lsp_server check` on the same cells saved as .ipynb; the
kernel is a real IPython kernel (nbclient) with `%load_ext tensorviews`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tensorviews.live.files import read_snapshot, snapshot_path
from tests.kernel_ext.live_kernel import live_kernel
from tests.kernel_ext.notebook_runner import display_bundles, run_cells
from tests.lsp.conftest import CONFIG, REPO, diagnostics_of, start

# `x = !ls` rebinds x to IPython's list of lines: the swap after it is a list swap, correct.
SHELL_REBINDS = ["import torch\nx = torch.arange(4)", "x = !ls\nx[0], x[1] = x[1], x[0]"]
# The same swap on the tensor itself: both faces must report it (so "nothing" above is an
# answer, not a face that reports nothing at all).
TENSOR_SWAP = ["import torch\nx = torch.arange(4)", "y = !ls\nx[0], x[1] = x[1], x[0]"]

SEVERITIES = {
    types.DiagnosticSeverity.Error: "error",
    types.DiagnosticSeverity.Warning: "warning",
    types.DiagnosticSeverity.Information: "information",
    types.DiagnosticSeverity.Hint: "hint",
}


def notebook_uri(name: str) -> str:
    return (REPO / "tests" / "lsp" / "virtual" / name).as_uri()


def cell_uri(notebook: str, index: int) -> str:
    return f"vscode-notebook-cell:{notebook[len('file:') :]}#W{index}sZmlsZQ%3D%3D"


@pytest_lsp.fixture(config=CONFIG)  # type: ignore[untyped-decorator]
async def editor(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    """The language server as VS Code starts it (its capabilities plus notebook sync)."""
    await start(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def editor_findings(client: LanguageClient, name: str, cells: list[str]) -> list[Any]:
    """(cell, line, column, code, severity) of every diagnostic, 1-based lines and columns."""
    notebook = notebook_uri(name)
    client.notebook_document_did_open(
        types.DidOpenNotebookDocumentParams(
            notebook_document=types.NotebookDocument(
                uri=notebook,
                notebook_type="jupyter-notebook",
                version=1,
                cells=[
                    types.NotebookCell(
                        kind=types.NotebookCellKind.Code, document=cell_uri(notebook, i)
                    )
                    for i in range(len(cells))
                ],
            ),
            cell_text_documents=[
                types.TextDocumentItem(
                    uri=cell_uri(notebook, i), language_id="python", version=1, text=text
                )
                for i, text in enumerate(cells)
            ],
        )
    )
    found = []
    for index in range(len(cells)):
        for diagnostic in await diagnostics_of(client, cell_uri(notebook, index)):
            assert diagnostic.severity is not None
            start_at = diagnostic.range.start
            found.append(
                [
                    index,
                    start_at.line + 1,
                    start_at.character + 1,
                    diagnostic.code,
                    SEVERITIES[diagnostic.severity],
                ]
            )
    return sorted(found)


def check_findings(tmp_path: Path, cells: list[str]) -> list[Any]:
    """The same tuples from `python -m lsp_server check --format json` on a saved .ipynb."""
    path = tmp_path / "cells.ipynb"
    notebook = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    notebook.cells = [nbformat.v4.new_code_cell(c) for c in cells]  # type: ignore[no-untyped-call]
    nbformat.write(notebook, str(path))  # type: ignore[no-untyped-call]
    result = subprocess.run(
        [sys.executable, "-m", "lsp_server", "check", "--format", "json", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode in (0, 1), result.stderr
    return sorted(
        [item["cell"], item["line"], item["column"], item["code"], item["severity"]]
        for item in json.loads(result.stdout)
    )


@pytest.mark.asyncio
async def test_shell_assignment_cells_give_the_same_findings_in_editor_and_check(
    editor: LanguageClient, tmp_path: Path
) -> None:
    in_editor = await editor_findings(editor, "shell_rebinds.ipynb", SHELL_REBINDS)
    in_check = check_findings(tmp_path, SHELL_REBINDS)
    assert in_editor == in_check
    # x is a list of lines by then: swapping its items is correct, so no error anywhere.
    assert not [f for f in in_check if f[4] == "error"], in_check


@pytest.mark.asyncio
async def test_a_real_tensor_swap_after_a_shell_line_is_an_error_in_both(
    editor: LanguageClient, tmp_path: Path
) -> None:
    in_editor = await editor_findings(editor, "tensor_swap.ipynb", TENSOR_SWAP)
    in_check = check_findings(tmp_path, TENSOR_SWAP)
    assert in_editor == in_check == [[1, 2, 1, "TV001", "error"]]


def graph_dtypes(cell: Any) -> dict[str, str]:
    (bundle,) = display_bundles(cell)
    graph = json.loads(bundle["text/plain"])
    return {name: t["dtype"] for t in graph["tensors"] for name in t["names"]}


def test_in_place_dtype_change_shows_in_the_next_cells_graph() -> None:
    nb = run_cells(
        [
            "%load_ext tensorviews",
            "import numpy as np\na = np.zeros(4)\ntail = a[1:]",
            "%tensorgraph --format json",
            "a.dtype = np.int64",
            "%tensorgraph --format json",
        ]
    )
    assert graph_dtypes(nb.cells[2]) == {"a": "float64", "tail": "float64"}
    # Same object, same storage, new dtype: the graph must not keep the old one.
    assert graph_dtypes(nb.cells[4]) == {"a": "int64", "tail": "float64"}


def test_in_place_dtype_change_shows_in_the_live_snapshot_after_the_cell(tmp_path: Path) -> None:
    with live_kernel(tmp_path) as kernel:
        path = snapshot_path(tmp_path / "tensorviews", kernel.kernel_id)
        kernel.run("%load_ext tensorviews")
        kernel.run("import numpy as np\na = np.zeros(4)\ntail = a[1:]")
        before = read_snapshot(path)
        assert before is not None and before.names["a"]["dtype"] == "float64"
        kernel.run("a.dtype = np.int64")
        after = read_snapshot(path)
        assert after is not None and after.seq == before.seq + 1
        assert (after.names["a"]["dtype"], after.names["tail"]["dtype"]) == ("int64", "float64")
        drawn = {n: t["dtype"] for t in after.graph["tensors"] for n in t["names"]}
        assert drawn == {"a": "int64", "tail": "float64"}
