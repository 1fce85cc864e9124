"""Code point <-> client column conversion (UTF-16 by default), as a table."""

from __future__ import annotations

import pytest
from lsprotocol import types

from lsp_server.positions import (
    from_client_column,
    from_lsp_position,
    to_client_column,
    to_lsp_range,
)
from tensorviews.rules import Range

LINE = "ä = 'ü😀'; a[0], b[0] = b[0], a[0]"
UTF8 = types.PositionEncodingKind.Utf8
UTF32 = types.PositionEncodingKind.Utf32


@pytest.mark.parametrize(
    ("line", "column", "encoding", "expected"),
    [
        ("a[0], b[0] = b[0], a[0]", 5, types.PositionEncodingKind.Utf16, 5),
        (LINE, 0, types.PositionEncodingKind.Utf16, 0),
        (LINE, 6, types.PositionEncodingKind.Utf16, 6),  # before the emoji
        (LINE, 7, types.PositionEncodingKind.Utf16, 8),  # after it: a surrogate pair
        (LINE, 10, types.PositionEncodingKind.Utf16, 11),
        (LINE, len(LINE), types.PositionEncodingKind.Utf16, len(LINE) + 1),
        (LINE, len(LINE) + 2, types.PositionEncodingKind.Utf16, len(LINE) + 3),  # past the end
        (LINE, 10, UTF8, 15),  # ä and ü take 2 bytes, the emoji 4
        (LINE, 10, UTF32, 10),
    ],
)
def test_to_client_column(line: str, column: int, encoding: str, expected: int) -> None:
    assert to_client_column(line, column, encoding) == expected
    assert from_client_column(line, expected, encoding) == column


def test_a_column_inside_a_surrogate_pair_rounds_down() -> None:
    assert from_client_column(LINE, 7) == 6


def test_range_and_position_round_trip() -> None:
    lines = ["import torch", LINE]
    span = Range(line=2, column=10, end_line=2, end_column=33)
    assert to_lsp_range(lines, span) == types.Range(
        start=types.Position(line=1, character=11), end=types.Position(line=1, character=34)
    )
    assert from_lsp_position(lines, types.Position(line=1, character=34)) == (2, 33)
    assert from_lsp_position(lines, types.Position(line=9, character=4)) == (10, 4)
