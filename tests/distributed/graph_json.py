"""Looking things up in a graph's JSON, as the tests read it."""

from __future__ import annotations

from typing import Any


def tensor(graph: dict[str, Any], name: str) -> dict[str, Any]:
    found = [t for t in graph["tensors"] if name in t["names"]]
    assert len(found) == 1, f"{name} not drawn: {graph['problems']}"
    return found[0]


def storage(graph: dict[str, Any], storage_id: str) -> dict[str, Any]:
    return next(s for s in graph["storages"] if s["id"] == storage_id)
