"""Writes the graph fixtures the VS Code client's tests draw, from real kernel_ext snapshots.

    .venv/bin/python tests/vscode/make_fixtures.py   # rewrites vscode-client/test/fixtures/*.json

The graphs are deterministic (ids are assigned in namespace order), so the committed files only
change when the graph contract or the scan does.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

import tensorviews

FIXTURES = Path(__file__).resolve().parents[2] / "vscode-client" / "test" / "fixtures"

# Names a kernel may hand us that must stay text: markup, DOT syntax, graphviz escapes, entities.
HOSTILE_NAMES = [
    "<img src=x onerror=alert(1)>",
    'q"uote\\N\\G"];x->y[label="pwned',
    "&lt;b&gt;entity&amp;",
]


def swap_graph() -> dict[str, object]:
    """The seed's swap: rows of two matrices, plus the same-storage-but-disjoint row."""
    a = torch.rand(2, 2)
    b = torch.rand(2, 2)
    row_a, row_b, other_row = a[0], b[0], a[1]
    ns = {"a": a, "b": b, "row_a": row_a, "row_b": row_b, "other_row": other_row}
    return tensorviews.snapshot(ns).to_dict()


def mixed_graph() -> dict[str, object]:
    """Two devices (cpu, meta), numpy sharing torch memory, a transpose, a self-overlap."""
    x = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    ns = {
        "x": x,
        "xt": x.t(),
        "x_np": x.numpy(),
        "col": x[:, 1],
        "wide": torch.zeros(4).expand(3, 4),
        "free": np.ones((2, 3)),
        "m": torch.empty(8, 8, device="meta"),
        "m_view": torch.empty(8, 8, device="meta")[2:],
    }
    return tensorviews.snapshot(ns).to_dict()


def hostile_graph() -> dict[str, object]:
    base = torch.zeros(6)
    ns = {name: base[i:i + 3] for i, name in enumerate(HOSTILE_NAMES)}
    ns["base"] = base
    return tensorviews.snapshot(ns).to_dict()


def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name, make in (("swap", swap_graph), ("mixed", mixed_graph), ("hostile", hostile_graph)):
        path = FIXTURES / f"{name}.json"
        path.write_text(json.dumps(make(), indent=1) + "\n")
        print(path)


if __name__ == "__main__":
    main()
