"""Notebook cells as Python text the rules can parse: the one IPython-syntax blanker, and the
code cells of a ``.ipynb`` file.

IPython syntax (line magics ``%time``, shell escapes ``!ls``, cell magics ``%%bash``, help
``x?``) is replaced by ``pass`` or blank lines, so the rest parses and every line keeps its
number and column. The language server, the ``check`` CLI and anything else that reads cells
use ``python_only``: one cell judged the same everywhere.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from tensorviews.rules.model import LINE_BREAK

# Cell magics whose body is still Python: only their first line is IPython syntax.
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "python"})
_MAGIC_LINE = re.compile(r"^(\s*)[%!]")
# `x = !ls` binds a list of output lines (IPython's SList); `x = %magic` binds whatever the
# magic returns. Both keep their target so later cells still know the name.
_SHELL_ASSIGNMENT = re.compile(r"^(\s*[\w.]+\s*=\s*)!.*$")
_MAGIC_ASSIGNMENT = re.compile(r"^(\s*[\w.]+\s*=\s*)%.*$")
_HELP_LINE = re.compile(r"^(\s*)[\w.]+\s*\?{1,2}\s*$")


class NotebookError(ValueError):
    """The file is not a readable notebook (invalid JSON or structure)."""


@dataclass(frozen=True)
class CodeCell:
    """One code cell: its index among all cells and its Python-only source."""

    index: int
    source: str


def code_cells(text: str) -> list[CodeCell]:
    """The code cells of a notebook's JSON text; raises NotebookError when it is not one."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:  # RecursionError: absurdly nested arrays
        raise NotebookError(f"invalid notebook JSON: {error}") from error
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        raise NotebookError("invalid notebook: no 'cells' list")
    result: list[CodeCell] = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(part, str) for part in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f"invalid notebook: cell {index} has no text source")
        result.append(CodeCell(index, python_only(source)))
    return result


def python_only(cell: str) -> str:
    """``cell`` with IPython-only lines made harmless for ``ast``, every line kept in place.

    ``%magic``, ``!shell`` and ``name?`` lines become ``pass`` at their indentation (a block
    whose only body was a magic still parses); ``x = !ls`` becomes ``x = []`` (it binds a list
    of lines) and ``x = %magic`` becomes ``x = None``; a cell magic whose body is not Python
    (``%%bash``, ``%%html``) blanks the whole cell.
    """
    lines = LINE_BREAK.split(cell)
    first = lines[0].lstrip() if lines else ""
    if first.startswith("%%"):
        magic = first[2:].split(maxsplit=1)[0] if first[2:].strip() else ""
        if magic not in _PYTHON_CELL_MAGICS:
            return "\n" * (len(lines) - 1)
        lines[0] = ""
    for number, line in enumerate(lines):
        if match := _MAGIC_LINE.match(line) or _HELP_LINE.match(line):
            lines[number] = f"{match.group(1)}pass"
        elif match := _SHELL_ASSIGNMENT.match(line):
            lines[number] = f"{match.group(1)}[]"
        elif match := _MAGIC_ASSIGNMENT.match(line):
            lines[number] = f"{match.group(1)}None"
    return "\n".join(lines)
