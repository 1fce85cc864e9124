"""What the ``check`` command reports: a finding with its file and cell, or a file it could
not check. Written as text, JSON (``cli``) or SARIF (``sarif``)."""

from __future__ import annotations

from dataclasses import dataclass

from tensorviews.rules import Finding

UNREADABLE_CODE = "TV000"


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


@dataclass(frozen=True)
class Unreadable:
    """A file that could not be checked, and why (plain words, no path)."""

    path: str
    problem: str

    def as_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "cell": None,
            "line": 1,
            "column": 1,
            "end_line": 1,
            "end_column": 1,
            "code": UNREADABLE_CODE,
            "severity": "error",
            "message": self.problem,
        }

    def as_text(self) -> str:
        return f"error: {self.path}: {self.problem}"
