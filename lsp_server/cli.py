"""``python -m lsp_server check PATH... [--format json|text]``: report swap-of-views findings.

Checks ``.py`` and ``.ipynb`` files (directories are searched for both). Output positions use
1-based lines and 1-based character columns, like ruff; ``end_column`` is exclusive. In
notebooks, ``cell`` is the cell's index among all cells and lines count from the cell's start.

Exit status: 0 when no finding is a warning or an error, 1 when some is, 2 on usage or I/O
errors (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
import tokenize
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from tensorviews.rules import Finding, find_swap_hazards, find_swap_hazards_in_cells
from tensorviews.rules.model import SEVERITY_RANK
from tensorviews.rules.notebook_cells import NotebookError, read_code_cells

_SKIPPED_DIRECTORIES = frozenset({"__pycache__", "node_modules", "site-packages"})


class UsageError(Exception):
    """A command-line or input problem reported as exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


@dataclass(frozen=True)
class Reported:
    """One finding with the file (and notebook cell) it belongs to."""

    path: str
    cell: int | None
    finding: Finding

    def as_json(self) -> dict[str, object]:
        span = self.finding.range
        return {
            "path": self.path,
            "cell": self.cell,
            "line": span.line,
            "column": span.column + 1,
            "end_line": span.end_line,
            "end_column": span.end_column + 1,
            "code": self.finding.code,
            "severity": self.finding.severity,
            "message": self.finding.message,
        }

    def as_text(self) -> str:
        span = self.finding.range
        where = self.path if self.cell is None else f"{self.path}[cell {self.cell}]"
        return f"{where}:{span.line}:{span.column + 1}: {self.finding.code} {self.finding.message}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["check"]:
        args = args[1:]
    try:
        options = _parser().parse_args(args)
        reported = [item for path in _expand(options.paths) for item in check_path(path)]
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if options.format == "json":
        print(json.dumps([item.as_json() for item in reported], indent=2, ensure_ascii=False))
    else:
        for item in reported:
            print(item.as_text())
    serious = any(SEVERITY_RANK[item.finding.severity] >= 1 for item in reported)
    return 1 if serious else 0


def _parser() -> _Parser:
    parser = _Parser(
        prog="python -m lsp_server check",
        description="Report swap-of-views findings (TV001, TV002) in .py and .ipynb files.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    parser.add_argument("--format", choices=["json", "text"], default="text")
    return parser


def _expand(paths: Sequence[str]) -> Iterator[Path]:
    for name in paths:
        path = Path(name)
        if path.is_dir():
            yield from sorted(_walk(path))
        elif path.is_file():
            yield path
        else:
            raise UsageError(f"{name}: no such file or directory")


def _walk(directory: Path) -> Iterator[Path]:
    try:
        entries = list(directory.iterdir())
    except OSError as error:
        raise UsageError(f"{directory}: {error.strerror or error}") from error
    for entry in entries:
        if entry.name.startswith(".") or entry.name in _SKIPPED_DIRECTORIES:
            continue
        if entry.is_dir():
            yield from _walk(entry)
        elif entry.suffix in (".py", ".ipynb") and entry.is_file():
            yield entry


def check_path(path: Path) -> list[Reported]:
    """Findings of one file; raises UsageError when it cannot be read."""
    shown = str(path)
    try:
        if path.suffix == ".ipynb":
            cells = read_code_cells(path)
            per_cell = find_swap_hazards_in_cells([cell.source for cell in cells])
            return [
                Reported(shown, cell.index, finding)
                for cell, findings in zip(cells, per_cell, strict=True)
                for finding in findings
            ]
        with tokenize.open(path) as handle:  # honours PEP 263 encoding declarations
            source = handle.read()
    except NotebookError as error:
        raise UsageError(f"{shown}: {error}") from error
    except (OSError, UnicodeDecodeError, SyntaxError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise UsageError(f"{shown}: cannot read: {reason}") from error
    return [Reported(shown, None, finding) for finding in find_swap_hazards(source)]
