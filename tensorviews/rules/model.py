"""Data model of the swap-of-views rules: findings, ranges, fixes (plain frozen dataclasses).

Every consumer (the language server, the kernel's pre-run guard, the CLI) speaks these types;
nothing here knows about LSP, IPython or the AST.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "information"]
# "array": certainly a torch tensor or a numpy array, but not known which of the two.
ContainerKind = Literal["torch", "numpy", "array", "list", "other", "unknown"]

SEVERITY_RANK: dict[str, int] = {"information": 0, "warning": 1, "error": 2}

# The one line-break rule of the project, Python's tokenizer's and LSP's: "\r\n", "\r" and
# "\n" end a line; str.splitlines() would also split at "\x0c", "\u2028", ... and so disagree
# with the line numbers of the AST and of editors.
LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> tuple[str, ...]:
    """``text``'s lines, without their line breaks, as Python and LSP count them."""
    return tuple(LINE_BREAK.split(text))


def line_starts(source: str) -> list[int]:
    """Offsets (in characters) at which each line of ``source`` starts."""
    return [0, *(match.end() for match in LINE_BREAK.finditer(source))]


@dataclass(frozen=True)
class Range:
    """A span of source text.

    Lines are 1-based; columns are 0-based and count Python ``str`` characters (code points);
    the end is exclusive. Consumers that need UTF-16 (LSP) or bytes convert from these.
    """

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class TextEdit:
    """Replace the text in ``range`` by ``new_text`` (an empty range inserts)."""

    range: Range
    new_text: str


@dataclass(frozen=True)
class Fix:
    """One way to repair a finding; applying all ``edits`` to the source repairs it."""

    title: str
    edits: tuple[TextEdit, ...]
    fixed_statement: str


@dataclass(frozen=True)
class Clobber:
    """A right-hand view (``read``) whose memory an earlier store (``written_by``) overwrote."""

    read: str
    read_range: Range
    written_by: str
    written_range: Range


@dataclass(frozen=True)
class RelatedLocation:
    """Another place in the same source that is part of a finding (LSP ``relatedInformation``).

    ``message`` is one plain line that names the place by what happens there (never by a line
    number: notebook cells are often shown as one concatenated document).
    """

    range: Range
    message: str


@dataclass(frozen=True)
class Finding:
    """One swap-of-views hazard.

    ``range`` covers the judged statement for TV001 and the stale read (the temporary's name)
    for TV002. ``fixes[0]`` is the preferred fix; ``fixes`` is empty when no edit is right for
    every value the code may hold. ``explanation`` is Markdown. ``related`` lists the other
    places involved (the stores that overwrite, where a temporary view was made), in source
    order. ``message`` and ``explanation`` never cite absolute line numbers.
    """

    code: str
    severity: Severity
    message: str
    range: Range
    container: ContainerKind
    clobbers: tuple[Clobber, ...]
    fixes: tuple[Fix, ...]
    explanation: str
    related: tuple[RelatedLocation, ...] = ()


def apply_text_edits(source: str, edits: Iterable[TextEdit]) -> str:
    """Return ``source`` with non-overlapping ``edits`` applied (positions as in :class:`Range`).

    Lines are split the way Python's tokenizer splits them (``\\n``, ``\\r\\n``, ``\\r``).
    """
    starts = line_starts(source)

    def offset(line: int, column: int) -> int:
        if line - 1 >= len(starts):
            return len(source)
        return min(starts[max(line, 1) - 1] + column, len(source))

    # Apply from the end so earlier offsets stay valid.
    ordered = sorted(
        edits, key=lambda e: (e.range.line, e.range.column, e.range.end_line, e.range.end_column)
    )
    text = source
    for edit in reversed(ordered):
        begin = offset(edit.range.line, edit.range.column)
        end = offset(edit.range.end_line, edit.range.end_column)
        text = text[:begin] + edit.new_text + text[end:]
    return text
