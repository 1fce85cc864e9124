"""Source text bookkeeping: line tables and AST positions as character ranges.

The AST reports columns in UTF-8 bytes; the rules report code points, so every position goes
through :class:`SourceText`.
"""

from __future__ import annotations

import ast

from tensorviews.rules.model import Range, line_starts


class SourceText:
    """A source string with fast (line, byte column) -> character column conversion."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._line_starts: list[int] | None = None  # built on first use: most files need none
        self._ascii = source.isascii()
        self._lines: dict[int, str] = {}

    @property
    def _starts(self) -> list[int]:
        if self._line_starts is None:
            self._line_starts = line_starts(self.source)
        return self._line_starts

    def line_text(self, line: int) -> str:
        """The text of 1-based ``line`` without its line break ('' past the end)."""
        cached = self._lines.get(line)
        if cached is not None:
            return cached
        if line < 1 or line > len(self._starts):
            return ""
        begin = self._starts[line - 1]
        end = self._starts[line] if line < len(self._starts) else len(self.source)
        text = self.source[begin:end].rstrip("\r\n")
        self._lines[line] = text
        return text

    def char_column(self, line: int, byte_column: int) -> int:
        """Convert a UTF-8 byte column on 1-based ``line`` into a code point column."""
        if self._ascii:
            return byte_column
        text = self.line_text(line)
        if text.isascii():
            return byte_column
        return len(text.encode("utf-8")[:byte_column].decode("utf-8", errors="ignore"))

    def node_range(self, node: ast.AST) -> Range:
        """The character range of an expression or statement node."""
        line = getattr(node, "lineno", 1)
        end_line = getattr(node, "end_lineno", None) or line
        column = self.char_column(line, getattr(node, "col_offset", 0))
        end_byte = getattr(node, "end_col_offset", None)
        end_column = column if end_byte is None else self.char_column(end_line, end_byte)
        return Range(line, column, end_line, end_column)

    def text_of(self, node: ast.AST) -> str:
        """The exact source text of ``node`` (falls back to ``ast.unparse``)."""
        return self.text_in(self.node_range(node)) or _unparse(node)

    def text_in(self, span: Range) -> str:
        """The source text covered by ``span``."""
        if span.line == span.end_line:
            return self.line_text(span.line)[span.column : span.end_column]
        if span.line < 1 or span.end_line > len(self._starts):
            return ""
        begin = self._starts[span.line - 1] + span.column
        end = self._starts[span.end_line - 1] + span.end_column
        return self.source[begin:end]


def _unparse(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except (ValueError, TypeError, AttributeError, RecursionError):
        return "<expression>"
