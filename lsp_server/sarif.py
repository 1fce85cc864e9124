"""``check --format sarif``: the findings as a SARIF 2.1.0 log for code-scanning tools.

One run; ``tool.driver.rules`` lists every rule of the registry (``ruleIndex`` points into it);
each result has ``ruleId``, ``level`` (error, warning, or note for "possible" findings), the
message, one location with a 1-based region (end column exclusive, as SARIF counts) and the
clobbering stores as ``relatedLocations``. Paths below the working directory are relative
(``uriBaseId`` ``%SRCROOT%``), as GitHub code scanning expects; others are ``file:`` URIs.

A notebook finding's location is the ``.ipynb`` file with lines and columns counted from the
start of its cell; the cell index is in the result's ``properties.cell``, in a logical location
``cell <index>`` and at the start of the message (``[cell 3] ...``), so no reader mistakes the
lines for lines of the JSON file. Files that could not be checked are
``invocations[0].toolExecutionNotifications`` at level error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsp_server.related import related_places
from lsp_server.reports import Reported, Unreadable
from lsp_server.version import server_version
from tensorviews.rules import RULES, Range

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
VERSION = "2.1.0"
_LEVELS = {"error": "error", "warning": "warning", "information": "note"}


def sarif_log(reported: list[Reported], unreadable: list[Unreadable]) -> dict[str, Any]:
    """The SARIF log of one `check` run."""
    index = {rule.code: number for number, rule in enumerate(RULES)}
    return {
        "$schema": SCHEMA,
        "version": VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "tensorviews",
                        "version": server_version(),
                        "rules": [
                            {
                                "id": rule.code,
                                "shortDescription": {"text": rule.summary},
                                "defaultConfiguration": {"level": "error"},
                            }
                            for rule in RULES
                        ],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri() + "/"}},
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [_notification(u) for u in unreadable],
                    }
                ],
                "results": [_result(item, index) for item in reported],
            }
        ],
    }


def _result(item: Reported, index: dict[str, int]) -> dict[str, Any]:
    finding = item.finding
    message = finding.message if item.cell is None else f"[cell {item.cell}] {finding.message}"
    location: dict[str, Any] = {"physicalLocation": _physical(item.path, finding.range)}
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "level": _LEVELS.get(finding.severity, "warning"),
        "message": {"text": message},
        "locations": [location],
    }
    if finding.code in index:
        result["ruleIndex"] = index[finding.code]
    if item.cell is not None:
        location["logicalLocations"] = [{"name": f"cell {item.cell}", "kind": "module"}]
        result["properties"] = {"cell": item.cell}
    related = [
        {"id": number, "physicalLocation": _physical(item.path, place.range),
         "message": {"text": place.message}}
        for number, place in enumerate(related_places(finding), start=1)
    ]
    if related:
        result["relatedLocations"] = related
    return result


def _notification(item: Unreadable) -> dict[str, Any]:
    return {
        "level": "error",
        "message": {"text": f"{item.path}: {item.problem}"},
        "locations": [{"physicalLocation": {"artifactLocation": _artifact(item.path)}}],
    }


def _physical(path: str, span: Range) -> dict[str, Any]:
    return {
        "artifactLocation": _artifact(path),
        "region": {
            "startLine": span.line,
            "startColumn": span.column + 1,
            "endLine": span.end_line,
            "endColumn": span.end_column + 1,
        },
    }


def _artifact(path: str) -> dict[str, Any]:
    absolute = Path(path).absolute()
    try:
        relative = absolute.relative_to(Path.cwd())
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": relative.as_posix(), "uriBaseId": "%SRCROOT%"}
