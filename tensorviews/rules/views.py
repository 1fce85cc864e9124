"""Which right-hand expressions read a view: a basic subscript, possibly behind aliasing calls."""

from __future__ import annotations

import ast

from tensorviews.rules import library_tables as lib
from tensorviews.rules.indexing import Access, ViewStatus, access_of, view_status
from tensorviews.rules.inference import library_of, qualname_of
from tensorviews.rules.value_types import Scope


def viewed_access(expr: ast.expr, scope: Scope) -> tuple[Access, ViewStatus] | None:
    """The subscript ``expr`` is a view of (through ``.T``, ``.view()``, ``+x``...), if any.

    Returns None when ``expr`` is a copy or not array memory at all.
    """
    node = _unwrap_aliases(expr, scope)
    access = access_of(node, scope)
    if access is None:
        return None
    status = view_status(access)
    if status is None or status == "copy":
        return None
    return access, status


def _unwrap_aliases(expr: ast.expr, scope: Scope) -> ast.expr:
    node = expr
    for _ in range(64):  # bounded: absurdly long alias chains are not worth following
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
            node = node.operand
        elif isinstance(node, ast.Attribute) and node.attr in lib.ALIAS_ATTRIBUTES:
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = node.func
            qualname = qualname_of(method, scope)
            library = library_of(qualname) if qualname else None
            if library is not None:
                if library[2] in lib.ALIAS_FUNCTIONS and node.args:
                    node = node.args[0]
                    continue
                return node
            if method.attr in lib.ALIAS_METHODS and not _copies(node):
                node = method.value
            else:
                return node
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            qualname = qualname_of(node.func, scope)
            library = library_of(qualname) if qualname else None
            if library is not None and library[2] in lib.ALIAS_FUNCTIONS and node.args:
                node = node.args[0]
            else:
                return node
        else:
            return node
    return node


def _copies(call: ast.Call) -> bool:
    """``x.to(..., copy=True)`` and friends return a copy even though ``to`` may alias."""
    for keyword in call.keywords:
        if keyword.arg == "copy" and isinstance(keyword.value, ast.Constant):
            return bool(keyword.value.value)
    return False
