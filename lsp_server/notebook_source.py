"""Read the code cells of a Jupyter notebook as Python text the rules can parse.

IPython syntax (line magics ``%time``, shell escapes ``!ls``, cell magics ``%%bash``, help
``x?``) is replaced by blank or ``pass`` lines, so the rest parses and line numbers stay right.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

# Cell magics whose body is still Python: only their first line is IPython syntax.
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "python"})
_MAGIC_LINE = re.compile(r"^(\s*)(?:[%!]|\w[\w.]*\s*=\s*[%!])")
_HELP_LINE = re.compile(r"^(\s*)[\w.]+\s*\?{1,2}\s*$")


class NotebookError(ValueError):
    """The file is not a readable notebook (invalid JSON or structure)."""


@dataclass(frozen=True)
class CodeCell:
    """One code cell: its index among all cells and its Python-only source."""

    index: int
    source: str


def read_code_cells(path: Path) -> list[CodeCell]:
    """The code cells of the notebook at ``path``; raises OSError or NotebookError."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise NotebookError(f"invalid notebook JSON: {error}") from error
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        raise NotebookError("invalid notebook: no 'cells' list")
    result: list[CodeCell] = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(part for part in source if isinstance(part, str))
        if not isinstance(source, str):
            raise NotebookError(f"invalid notebook: cell {index} has no text source")
        result.append(CodeCell(index, python_only(source)))
    return result


def python_only(source: str) -> str:
    """Blank out IPython-only lines, keeping every line (and so every line number)."""
    lines = source.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(" ", 1)[0]
        if magic not in _PYTHON_CELL_MAGICS:
            return "\n" * (len(lines) - 1)  # %%bash, %%html...: not Python at all
        lines[0] = ""
    for number, line in enumerate(lines):
        match = _MAGIC_LINE.match(line) or _HELP_LINE.match(line)
        if match:
            indent = match.group(1)
            # Indented magics sit in a block that still needs a statement.
            lines[number] = f"{indent}pass" if indent else ""
    return "\n".join(lines)
