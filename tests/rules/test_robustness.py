"""Any text is accepted: random and truncated Python never raises, broken files keep the
findings above the break, and columns count characters in non-ASCII text."""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from tensorviews.rules import find_swap_hazards, find_swap_hazards_in_cells

MODULE = """import numpy as np
import torch


class Swapper:
    def __init__(self, n: int) -> None:
        self.rows = torch.zeros(n, 2)

    def swap(self, i: int, j: int) -> None:
        self.rows[i], self.rows[j] = self.rows[j], self.rows[i]


def rotate(x: np.ndarray) -> np.ndarray:
    n, d = x.shape
    tmp = x[0]
    x[0] = x[1]
    x[1] = tmp
    x[:, 0], x[:, 1] = x[:, 1], x[:, 0].copy()
    return x
"""

FRAGMENTS = st.sampled_from(
    [
        "x",
        "[",
        "]",
        "(",
        ")",
        ",",
        " = ",
        "\n",
        "    ",
        ":",
        "0",
        "i",
        ".clone()",
        "torch",
        "np",
        "import ",
        "def f(",
        "class C:",
        "'",
        '"""',
        "\\",
        "...",
        "None",
        "é",
        "\t",
        "#",
        "lambda",
        "for ",
        " in ",
        "if ",
        "else",
        "*",
        "@",
        "%",
        "!",
        "\x00",
        "\r",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_random_text_never_raises(text: str) -> None:
    assert isinstance(find_swap_hazards(text), list)


@settings(max_examples=300, deadline=None)
@given(st.lists(FRAGMENTS, max_size=60).map("".join))
def test_python_like_fragments_never_raise(text: str) -> None:
    assert isinstance(find_swap_hazards(text), list)
    assert len(find_swap_hazards_in_cells([text, text])) == 2


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(MODULE)))
def test_every_truncation_never_raises(cut: int) -> None:
    assert isinstance(find_swap_hazards(MODULE[:cut]), list)


def test_complete_module_findings() -> None:
    findings = find_swap_hazards(MODULE)
    assert [(f.code, f.range.line) for f in findings] == [("TV001", 10), ("TV002", 17)]


def test_half_typed_last_line_keeps_findings_above() -> None:
    for tail in ["y = (", "def g(", "x[0], x[1] = x[", "if x:", "class", "'''abc", "z = ]"]:
        findings = find_swap_hazards(MODULE + tail + "\n")
        assert [(f.code, f.range.line) for f in findings] == [("TV001", 10), ("TV002", 17)], tail


def test_broken_line_in_the_middle_keeps_findings_on_both_sides() -> None:
    lines = MODULE.splitlines(keepends=True)
    broken = "".join(lines[:11]) + "oops = = (\n" + "".join(lines[11:])
    findings = find_swap_hazards(broken)
    assert [(f.code, f.range.line) for f in findings] == [("TV001", 10), ("TV002", 18)]


def test_broken_line_inside_a_function_keeps_the_rest_of_the_body() -> None:
    source = (
        "import torch\ndef f():\n    x = torch.zeros(3)\n    y = \n    x[0], x[1] = x[1], x[0]\n"
    )
    assert [f.range.line for f in find_swap_hazards(source)] == [5]


def test_columns_count_characters_in_non_ascii_text() -> None:
    swap = "données[0], données[1] = données[1], données[0]"
    source = f"import torch\ndonnées = torch.zeros(3)\nnote = 'é'; {swap}\n"
    (finding,) = find_swap_hazards(source)
    assert (finding.range.line, finding.range.column) == (3, 12)
    assert finding.range.end_column == len(
        "note = 'é'; données[0], données[1] = données[1], données[0]"
    )
    (clobber,) = finding.clobbers
    line = source.splitlines()[2]
    assert line[clobber.read_range.column : clobber.read_range.end_column] == "données[0]"
    assert clobber.read_range.column == line.rindex("données[0]")
    assert (
        finding.fixes[0].fixed_statement
        == "données[0], données[1] = données[1], données[0].clone()"
    )


def test_astral_characters_and_crlf_line_ends() -> None:
    source = "import torch\r\nx = torch.zeros(3)\r\ns = '😀'; x[0], x[1] = x[1], x[0]\r\n"
    (finding,) = find_swap_hazards(source)
    assert (finding.range.line, finding.range.column) == (3, len("s = '😀'; "))


def test_backticks_in_names_are_escaped_in_markdown() -> None:
    source = "import torch\nx = torch.zeros(3)\nx[0], x[1] = x[1], x[len('`')-1]\n"
    (finding,) = find_swap_hazards(source)
    assert "`` x[len('`')-1] ``" in finding.explanation
