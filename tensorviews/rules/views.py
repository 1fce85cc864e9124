"""Which right-hand expressions read a view: a basic subscript, or a part or alias of an array
made by methods (``x.narrow(0, 3, 3)``, ``x.select(0, 1)``, ``x.T``, ``x[0].view(2)``...),
and the parts of ``x.unbind(0)``/``x.split(1)`` bound by unpacking.
"""

from __future__ import annotations

import ast

from tensorviews.rules import library_tables as lib
from tensorviews.rules.indexing import (
    OPAQUE,
    Access,
    IndexItem,
    ViewStatus,
    access_of,
    int_constant,
    node_key,
    view_status,
)
from tensorviews.rules.inference import expr_path, infer, library_of, qualname_of
from tensorviews.rules.value_types import Scope

# One step of an alias chain, outermost first: it keeps the shape ("keep"), changes it
# ("reshape": later axis numbers no longer match the array's), or takes a part (an index
# level of the array, as if subscripted).
_Step = tuple[str, tuple[IndexItem, ...] | None]
_SHAPE_KEEPING = frozenset(
    {"detach", "contiguous", "cpu", "to", "numpy", "data", "real", "imag", "from_numpy"}
    | {"asarray", "asanyarray", "as_tensor"}
)


def viewed_access(expr: ast.expr, scope: Scope) -> tuple[Access, ViewStatus] | None:
    """The part of an array ``expr`` is a view of, if any.

    Returns None when ``expr`` is a copy, not array memory, or a bare name (the array itself,
    not a view of it).
    """
    node, steps = _unwrap_aliases(expr, scope)
    access = access_of(node, scope)
    if access is None:
        if not steps:
            return None
        access = _whole(node, scope)
        if access is None:
            return None
    access = _with_parts(access, steps)
    status = view_status(access)
    if status is None or status == "copy":
        return None
    return access, status


def split_parts(value: ast.expr, count: int, scope: Scope) -> list[tuple[Access, ViewStatus]]:
    """``a, b = x.unbind(0)`` (also ``split``, ``chunk``...): the view each name gets, in
    order; empty when ``value`` is no such call. ``unbind`` along axis 0 gives exactly
    ``x[0]``, ``x[1]``...; the other splits give parts whose extent is not worked out."""
    if not (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr in lib.SPLITTING_METHODS
    ):
        return []
    receiver = value.func.value
    base = access_of(receiver, scope) or _whole(receiver, scope)
    if base is None:
        return []
    along_zero = value.func.attr == "unbind" and _axis_is_zero(value)
    parts: list[tuple[Access, ViewStatus]] = []
    for position in range(count):
        level = (IndexItem("int", f"={position!r}", const=position),) if along_zero else (OPAQUE,)
        access = _with_parts(base, [("part", level)])
        status = view_status(access)
        if status is None or status == "copy":
            return []
        parts.append((access, status))
    return parts


def _axis_is_zero(call: ast.Call) -> bool:
    axis = call.args[0] if call.args else None
    for keyword in call.keywords:
        if keyword.arg in ("dim", "axis"):
            axis = keyword.value
    return axis is None or int_constant(axis) == 0


def _whole(node: ast.expr, scope: Scope) -> Access | None:
    """All of the array ``node`` names, when the types say it is an array."""
    root_key = expr_path(node)
    if root_key is None:
        return None
    container = infer(node, scope)
    if not container.is_array:
        return None
    return Access(node, root_key, (), container)


def _with_parts(access: Access, steps: list[_Step]) -> Access:
    """``access`` narrowed by the part-taking steps of its alias chain (innermost first)."""
    levels = list(access.levels)
    reshaped = False
    for kind, level in reversed(steps):
        if kind == "reshape":
            reshaped = True
        elif kind == "part" and level is not None:
            level = (OPAQUE,) if reshaped else level
            if levels and all(i.kind == "int" for i in levels[-1] + level):
                levels[-1] = levels[-1] + level  # x[0].select(0, 1) is x[0, 1]
            else:
                levels.append(level)
    if len(levels) == len(access.levels) and not any(kind == "part" for kind, _ in steps):
        return access
    return Access(access.root, access.root_key, tuple(levels), access.container)


def _part_level(call: ast.Call, method: str) -> tuple[IndexItem, ...]:
    """The index level of ``x.narrow(0, 3, 3)`` (``[3:6]``) or ``x.select(0, 1)`` (``[1]``)."""
    args = call.args
    if len(args) >= 2 and int_constant(args[0]) == 0 and not call.keywords:
        if method == "select":
            const = int_constant(args[1])
            if const is not None:
                return (IndexItem("int", f"={const!r}", const=const),)
            return (IndexItem("int", node_key(args[1])),)
        if method == "narrow" and len(args) == 3:
            start, length = int_constant(args[1]), int_constant(args[2])
            if start is not None and length is not None and start >= 0 and length >= 0:
                return (
                    IndexItem(
                        "slice", f"{start}:{start + length}", bounds=(start, start + length, None)
                    ),
                )
    return (OPAQUE,)


def _unwrap_aliases(expr: ast.expr, scope: Scope) -> tuple[ast.expr, list[_Step]]:
    node = expr
    steps: list[_Step] = []
    for _ in range(64):  # bounded: absurdly long alias chains are not worth following
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
            steps.append(("keep", None))
            node = node.operand
        elif isinstance(node, ast.Attribute) and node.attr in lib.ALIAS_ATTRIBUTES:
            steps.append(("keep" if node.attr in _SHAPE_KEEPING else "reshape", None))
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = node.func
            qualname = qualname_of(method, scope)
            library = library_of(qualname) if qualname else None
            if library is not None:
                if library[2] in lib.ALIAS_FUNCTIONS and node.args:
                    steps.append(("keep" if library[2] in _SHAPE_KEEPING else "reshape", None))
                    node = node.args[0]
                    continue
                return node, steps
            if method.attr in lib.ALIAS_METHODS and not _copies(node):
                if method.attr in lib.PART_METHODS:
                    steps.append(("part", _part_level(node, method.attr)))
                else:
                    steps.append(("keep" if method.attr in _SHAPE_KEEPING else "reshape", None))
                node = method.value
            else:
                return node, steps
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            qualname = qualname_of(node.func, scope)
            library = library_of(qualname) if qualname else None
            if library is not None and library[2] in lib.ALIAS_FUNCTIONS and node.args:
                steps.append(("keep" if library[2] in _SHAPE_KEEPING else "reshape", None))
                node = node.args[0]
            else:
                return node, steps
        else:
            return node, steps
    return node, steps


def _copies(call: ast.Call) -> bool:
    """``x.to(..., copy=True)`` and friends return a copy even though ``to`` may alias."""
    for keyword in call.keywords:
        if keyword.arg == "copy" and isinstance(keyword.value, ast.Constant):
            return bool(keyword.value.value)
    return False
