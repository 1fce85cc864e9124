"""Run cells in a real IPython kernel (nbclient + ipykernel), as Jupyter would."""

from __future__ import annotations

from typing import Any

import nbformat
from nbclient import NotebookClient


def run_cells(cells: list[str], timeout: int = 120, allow_errors: bool = False) -> Any:
    """Execute ``cells`` in a fresh kernel; return the executed notebook."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
        resources={"metadata": {"path": "."}},
    )
    client.execute()
    return nb


def stream_text(cell: Any, name: str = "stdout") -> str:
    return "".join(
        o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == name
    )


def display_bundles(cell: Any) -> list[dict[str, Any]]:
    kinds = ("display_data", "execute_result")
    return [dict(o["data"]) for o in cell.outputs if o.output_type in kinds]
