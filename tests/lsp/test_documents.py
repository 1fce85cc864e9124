"""Notebook cells made ready for `ast`, and which findings the user sees (tables)."""

from __future__ import annotations

import pytest

from tensorviews.rules import python_only, split_lines


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("x = 1", "x = 1"),
        ("%matplotlib inline\nx[0], x[1] = x[1], x[0]", "pass\nx[0], x[1] = x[1], x[0]"),
        ("!pip install torch\nimport torch", "pass\nimport torch"),
        ("if ok:\n    %time f()\n", "if ok:\n    pass\n"),
        ("files = !ls\nn = %who_ls", "files = []\nn = None"),
        ("%%timeit\nx[0], x[1] = x[1], x[0]", "\nx[0], x[1] = x[1], x[0]"),
        ("%%bash\nfor f in *; do\necho $f\ndone", "\n\n\n"),
        ("y = 5 % 3\nz = a != b", "y = 5 % 3\nz = a != b"),
    ],
)
def test_python_only_keeps_lines_and_columns(cell: str, expected: str) -> None:
    blanked = python_only(cell)
    assert blanked == expected
    assert len(split_lines(blanked)) == len(split_lines(cell))


def test_split_lines_follows_lsp_line_breaks() -> None:
    assert split_lines("a\r\nb\rc\nd\x0ce") == ("a", "b", "c", "d\x0ce")
