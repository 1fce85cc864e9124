"""The labelled real-world cases of tests/data/swap_cases_dev.jsonl, each judged on its line.

bug -> a finding covering ``line`` (an error when the case is statically decidable);
safe -> no warning or error, and no finding at all when statically decidable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tensorviews.rules import find_swap_hazards

CASES_FILE = Path(__file__).resolve().parents[1] / "data" / "swap_cases_dev.jsonl"


def _cases() -> list[Any]:
    lines = CASES_FILE.read_text(encoding="utf-8").splitlines()
    cases = [json.loads(line) for line in lines if line.strip()]
    return [pytest.param(case, id=case["id"]) for case in cases]


@pytest.mark.parametrize("case", _cases())
def test_dev_case(case: dict[str, Any]) -> None:
    findings = find_swap_hazards(case["code"])
    on_line = [f for f in findings if f.range.line <= case["line"] <= f.range.end_line]
    if case["label"] == "bug":
        assert on_line, f"no finding on line {case['line']}: {findings}"
        if case["static_decidable"]:
            assert any(f.severity == "error" for f in on_line)
    else:
        assert not [f for f in findings if f.severity in ("warning", "error")]
        if case["static_decidable"]:
            assert findings == []


def test_dev_cases_are_all_there() -> None:
    if not CASES_FILE.exists():
        pytest.skip(f"{CASES_FILE} not found")
    assert len(CASES_FILE.read_text(encoding="utf-8").splitlines()) == 35
