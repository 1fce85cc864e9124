"""``# noqa`` on the reported line silences a finding, in every face (it lives in the rules)."""

from __future__ import annotations

import pytest

from tensorviews.rules import find_swap_hazards

SWAP = "import torch\nx = torch.zeros(3)\nx[0], x[1] = x[1], x[0]"


@pytest.mark.parametrize(
    ("comment", "expected_codes"),
    [
        ("", ["TV001"]),
        ("  # noqa", []),
        ("  # noqa: TV001", []),
        ("  # NOQA:TV001", []),
        ("  # noqa: TV001,TV002", []),
        ("  # noqa: TV002, TV001", []),
        ("  # noqa: TV002", ["TV001"]),
        ("  # noqa: E501", ["TV001"]),
        ("  # a comment", ["TV001"]),
    ],
)
def test_noqa_on_the_reported_line(comment: str, expected_codes: list[str]) -> None:
    findings = find_swap_hazards(SWAP + comment + "\n")
    assert [f.code for f in findings] == expected_codes


def test_noqa_on_another_line_does_not_silence() -> None:
    source = "import torch  # noqa\nx = torch.zeros(3)\nx[0], x[1] = x[1], x[0]\n"
    assert [f.code for f in find_swap_hazards(source)] == ["TV001"]
