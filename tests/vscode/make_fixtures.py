"""Writes the graph fixtures the VS Code client's tests draw: real view documents.

    .venv/bin/python tests/vscode/make_fixtures.py   # rewrites vscode-client/test/fixtures/*.json

Each fixture is what a kernel sends: ``view_document(view(snapshot(ns)))``, the graph JSON of
the drawn view with its notes and marks and the DOT the cores drew (``dot``). The documents are
deterministic (ids are assigned in namespace order), so the committed files only change when
the graph contract, the view policy, the DOT or the scan does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

import tensorviews
from tensorviews.view import ViewOptions

FIXTURES = Path(__file__).resolve().parents[2] / "vscode-client" / "test" / "fixtures"

# Names a kernel may hand us that must stay text: markup, DOT syntax, graphviz escapes, entities.
HOSTILE_NAMES = [
    "<img src=x onerror=alert(1)>",
    'q"uote\\N\\G"];x->y[label="pwned',
    "&lt;b&gt;entity&amp;",
]
# A hostile name on a small view that pins a big storage: it appears in a note as well.
HOSTILE_PINNING = "<b onmouseover=alert(2)>pin</b>"


def document(ns: dict[str, Any], options: ViewOptions | None = None) -> dict[str, Any]:
    options = options or ViewOptions()
    return tensorviews.view_document(tensorviews.view(tensorviews.snapshot(ns), None, options))


def swap_graph() -> dict[str, Any]:
    """The seed's swap: rows of two matrices, plus the same-storage-but-disjoint row."""
    a = torch.rand(2, 2)
    b = torch.rand(2, 2)
    row_a, row_b, other_row = a[0], b[0], a[1]
    ns = {"a": a, "b": b, "row_a": row_a, "row_b": row_b, "other_row": other_row}
    return document(ns)


def mixed_graph() -> dict[str, Any]:
    """Two devices (cpu, meta), numpy sharing torch memory, a transpose, a self-overlap, and
    two views that overlap partially (neither contains the other: a red link)."""
    x = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    flat = torch.arange(8, dtype=torch.float32)
    ns = {
        "x": x,
        "xt": x.t(),
        "x_np": x.numpy(),
        "col": x[:, 1],
        "wide": torch.zeros(4).expand(3, 4),
        "free": np.ones((2, 3)),
        "m": torch.empty(8, 8, device="meta"),
        "m_view": torch.empty(8, 8, device="meta")[2:],
        "head": flat[:5],
        "tail": flat[3:],
    }
    return document(ns)


def hostile_graph() -> dict[str, Any]:
    base = torch.zeros(6)
    ns: dict[str, Any] = {name: base[i:i + 3] for i, name in enumerate(HOSTILE_NAMES)}
    ns["base"] = base
    ns[HOSTILE_PINNING] = torch.zeros(512, 1024)[:, 0]
    return document(ns)


def pinned_graph() -> dict[str, Any]:
    """A small view keeps a big storage alive: the last column of 64 MiB of activations."""
    acts = torch.zeros(1024, 16384)
    h = acts[:, -1]
    del acts
    x = torch.ones(4, 4)
    ns = {"h": h, "x": x, "x_row": x[1], "x_t": x.t()}
    return document(ns)


def folded_graph() -> dict[str, Any]:
    """A capped view: a model's parameters past the cap folded into "N more" groups."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(*(torch.nn.Linear(2, 2) for _ in range(4)))
    w = torch.zeros(3, 3)
    ns = {"model": model, "w": w, "w_row": w[0]}
    return document(ns, ViewOptions(show_all=True, max_nodes=4))


def encoder_graph() -> dict[str, Any]:
    """``%tensorgraph --all`` of a small 12-layer encoder after one AdamW step: its parameters,
    gradients and optimizer state fold into three groups of repeated structure, each listing
    its members (what a click expands)."""
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    model = torch.nn.TransformerEncoder(layer, num_layers=12, enable_nested_tensor=False)
    opt = torch.optim.AdamW(model.parameters())
    model(torch.rand(3, 2, 8)).sum().backward()
    opt.step()
    return document({"model": model, "opt": opt}, ViewOptions(show_all=True))


def tall_graph() -> dict[str, Any]:
    """A drawing taller than a notebook output's box: 15 matrices and a row view of each (30
    tensors; storages with views are drawn one under another, lone tensors side by side)."""
    bases = [torch.zeros(8, i + 2) for i in range(15)]
    return document({"bases": bases, "rows": [b[0] for b in bases]})


MAKERS: dict[str, Callable[[], dict[str, Any]]] = {
    "swap": swap_graph,
    "mixed": mixed_graph,
    "hostile": hostile_graph,
    "pinned": pinned_graph,
    "folded": folded_graph,
    "tall": tall_graph,
    "encoder": encoder_graph,
}


def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name, make in MAKERS.items():
        path = FIXTURES / f"{name}.json"
        path.write_text(json.dumps(make(), indent=1) + "\n")
        print(path)


if __name__ == "__main__":
    main()
