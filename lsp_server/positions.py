"""Conversion between the rules' positions and LSP positions.

The rules speak Python: 1-based lines and 0-based columns counted in code points. LSP speaks
0-based lines and columns counted in the negotiated encoding's code units (UTF-16 unless the
client asked for another), so a line with `ü` or `😀` before a finding needs converting.
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types

from tensorviews.rules import Range

UTF16 = types.PositionEncodingKind.Utf16


def _units(char: str, encoding: str) -> int:
    """Code units that one code point takes in `encoding`."""
    code_point = ord(char)
    if encoding == types.PositionEncodingKind.Utf32:
        return 1
    if encoding == types.PositionEncodingKind.Utf8:
        return (
            1
            if code_point < 0x80
            else 2
            if code_point < 0x800
            else 3
            if code_point < 0x10000
            else 4
        )
    return 2 if code_point > 0xFFFF else 1


def to_client_column(line: str, column: int, encoding: str = UTF16) -> int:
    """Code point column -> client column; columns past the line's end keep counting as ASCII."""
    if line.isascii():
        return column
    head = line[:column]
    return sum(_units(char, encoding) for char in head) + max(0, column - len(head))


def from_client_column(line: str, column: int, encoding: str = UTF16) -> int:
    """Client column -> code point column; a column inside a surrogate pair rounds down."""
    if line.isascii():
        return column
    units = 0
    for index, char in enumerate(line):
        units += _units(char, encoding)
        if units > column:
            return index
    return len(line) + (column - units)


def _line(lines: Sequence[str], index: int) -> str:
    return lines[index] if 0 <= index < len(lines) else ""


def to_lsp_position(
    lines: Sequence[str], line: int, column: int, encoding: str = UTF16
) -> types.Position:
    """Rules position (1-based line, code point column) -> LSP position."""
    text = _line(lines, line - 1)
    return types.Position(line=line - 1, character=to_client_column(text, column, encoding))


def to_lsp_range(lines: Sequence[str], span: Range, encoding: str = UTF16) -> types.Range:
    """Rules `Range` -> LSP range, in the client's encoding."""
    return types.Range(
        start=to_lsp_position(lines, span.line, span.column, encoding),
        end=to_lsp_position(lines, span.end_line, span.end_column, encoding),
    )


def from_lsp_position(
    lines: Sequence[str], position: types.Position, encoding: str = UTF16
) -> tuple[int, int]:
    """LSP position -> rules position (1-based line, code point column)."""
    text = _line(lines, position.line)
    return position.line + 1, from_client_column(text, position.character, encoding)


def contains(span: Range, line: int, column: int) -> bool:
    """Whether the rules position lies in `span` (its end included, as editors hover there)."""
    return (span.line, span.column) <= (line, column) <= (span.end_line, span.end_column)


def overlaps(span: Range, start: tuple[int, int], end: tuple[int, int]) -> bool:
    """Whether `span` touches the rules range from `start` to `end` (both ends inclusive)."""
    return (span.line, span.column) <= end and start <= (span.end_line, span.end_column)
