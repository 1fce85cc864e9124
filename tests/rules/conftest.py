"""Helpers for the rules tests: run code with real torch/numpy and compare with intent.

The *intended* result of a piece of code is what it computes when every assigned right-hand
value is a copy taken at evaluation time (what the author of a swap means). Code whose actual
result differs from its intended one has the swap-of-views bug.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch


class _SnapshotValues(ast.NodeTransformer):
    """Wrap every right-hand value of an assignment in ``__snap(...)`` (a copy)."""

    def visit_Assign(self, node: ast.Assign) -> ast.Assign:
        if isinstance(node.value, (ast.Tuple, ast.List)):
            node.value.elts = [_snap(e) for e in node.value.elts]
        else:
            node.value = _snap(node.value)
        return node


def _snap(expr: ast.expr) -> ast.expr:
    return ast.Call(ast.Name("__snap", ast.Load()), [expr], [])


def _snapshot(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, (np.ndarray, np.void)):
        return value.copy()  # a record (np.void) of a structured array is a view too
    if isinstance(value, tuple):
        return tuple(_snapshot(item) for item in value)  # x.unbind(0), x.split(2)
    return value


def run(source: str) -> dict[str, Any]:
    """Execute ``source`` and return its arrays and lists by name."""
    namespace: dict[str, Any] = {}
    exec(compile(source, "<case>", "exec"), namespace)
    return {k: v for k, v in namespace.items() if isinstance(v, (torch.Tensor, np.ndarray, list))}


def run_intended(source: str) -> dict[str, Any]:
    """Execute ``source`` with every assigned right-hand value copied first."""
    tree = ast.fix_missing_locations(_SnapshotValues().visit(ast.parse(source)))
    namespace: dict[str, Any] = {"__snap": _snapshot}
    exec(compile(tree, "<intended>", "exec"), namespace)
    return {k: v for k, v in namespace.items() if isinstance(v, (torch.Tensor, np.ndarray, list))}


def same_values(first: dict[str, Any], second: dict[str, Any]) -> bool:
    if first.keys() != second.keys():
        return False
    for name, value in first.items():
        other = second[name]
        if isinstance(value, torch.Tensor):
            if not torch.equal(value, other):
                return False
        elif isinstance(value, np.ndarray):
            if not np.array_equal(value, other):
                return False
        elif value != other:
            return False
    return True


def corrupts(source: str) -> bool:
    """True when the code's result differs from what it means (the bug really happens)."""
    return not same_values(run(source), run_intended(source))


@pytest.fixture
def corrupts_fn() -> Callable[[str], bool]:
    return corrupts


@pytest.fixture
def run_fn() -> Callable[[str], dict[str, Any]]:
    return run


@pytest.fixture
def run_intended_fn() -> Callable[[str], dict[str, Any]]:
    return run_intended
