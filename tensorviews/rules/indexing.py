"""Index reasoning: which subscripts are views, and which two subscripts may share memory.

A subscript ``m[0][1]`` becomes an :class:`Access`: a root (``m``) and levels of index items.
Integer-only levels merge with the next (``m[0][1]`` is ``m[0, 1]``), so the axis-by-axis
comparison of :func:`may_overlap` sees them aligned.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Literal

from tensorviews.rules.inference import expr_path, index_kind, infer
from tensorviews.rules.library_tables import ALIAS_ATTRIBUTES, ALIAS_METHODS, SPLITTING_METHODS
from tensorviews.rules.value_types import Scope, ValueType

# "key": a constant string, a dict key or the field of a structured array.
ItemKind = Literal["int", "slice", "ellipsis", "newaxis", "advanced", "maybe_advanced", "key"]
ViewStatus = Literal["view", "copy", "possible"]


@dataclass(frozen=True)
class IndexItem:
    """One index item on one axis; ``key`` is its normalised text for equality tests."""

    kind: ItemKind
    key: str
    const: int | None = None  # an integer constant
    offset: tuple[str, int] | None = None  # ``name + k`` as (name, k)
    bounds: tuple[int | None, int | None, int | None] | None = None  # constant slice


@dataclass(frozen=True)
class Access:
    """A subscript chain on a root expression (``self.buf[i]`` -> root ``self.buf``)."""

    root: ast.expr
    root_key: str
    levels: tuple[tuple[IndexItem, ...], ...]
    container: ValueType

    @property
    def is_advanced(self) -> bool:
        return any(item.kind == "advanced" for level in self.levels for item in level)

    @property
    def has_key(self) -> bool:
        return any(item.kind == "key" for level in self.levels for item in level)

    @property
    def maybe_advanced(self) -> bool:
        return any(item.kind == "maybe_advanced" for level in self.levels for item in level)


def access_of(expr: ast.expr, scope: Scope) -> Access | None:
    """The :class:`Access` of a subscript expression, or None if ``expr`` is no subscript."""
    if not isinstance(expr, ast.Subscript):
        return None
    chain: list[ast.Subscript] = []
    node: ast.expr = expr
    while isinstance(node, ast.Subscript):
        chain.append(node)
        node = node.value
    levels: list[tuple[IndexItem, ...]] = []
    base = _aliased_root(node)
    if base is not None:
        # x.T[0], x.unbind(0)[1]: some part of x, which part is not worked out.
        node = base
        levels.append((OPAQUE,))
    root_key = expr_path(node) or node_key(node)
    for subscript in reversed(chain):
        items = (
            subscript.slice.elts if isinstance(subscript.slice, ast.Tuple) else [subscript.slice]
        )
        level = tuple(_index_item(item, scope) for item in items)
        if levels and all(item.kind == "int" for item in levels[-1]):
            levels[-1] = levels[-1] + level  # m[0][1] is m[0, 1]
        else:
            levels.append(level)
    return Access(node, root_key, tuple(levels), infer(node, scope))


# Some part of an array, which part is not worked out (x.T[0], x.unbind(1)[2]).
OPAQUE = IndexItem("slice", "opaque")


def _aliased_root(node: ast.expr) -> ast.expr | None:
    """The array behind ``x.T``, ``x.view(...)``, ``x.unbind(0)`` (None for anything else)."""
    current = node
    found: ast.expr | None = None
    for _ in range(32):
        if isinstance(current, ast.Attribute) and current.attr in ALIAS_ATTRIBUTES:
            current = current.value
        elif (
            isinstance(current, ast.Call)
            and isinstance(current.func, ast.Attribute)
            and (current.func.attr in ALIAS_METHODS or current.func.attr in SPLITTING_METHODS)
        ):
            current = current.func.value
        else:
            break
        found = current
    return found


def node_key(node: ast.expr) -> str:
    """A string equal for structurally equal expressions (cheap for the common leaves)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant):
        return f"={node.value!r}"
    return ast.dump(node)


def _index_item(item: ast.expr, scope: Scope) -> IndexItem:
    key = node_key(item)
    if isinstance(item, ast.Slice):
        return IndexItem("slice", key, bounds=_slice_bounds(item))
    if isinstance(item, ast.Constant):
        if item.value is Ellipsis:
            return IndexItem("ellipsis", key)
        if item.value is None:
            return IndexItem("newaxis", key)
        if isinstance(item.value, int) and not isinstance(item.value, bool):
            return IndexItem("int", key, const=item.value)
        if isinstance(item.value, bool):
            return IndexItem("advanced", key)
        if isinstance(item.value, str):
            return IndexItem("key", key)
    const = int_constant(item)
    if const is not None:
        return IndexItem("int", key, const=const)
    if isinstance(item, (ast.List, ast.ListComp, ast.Compare)):
        return IndexItem("advanced", key)
    if isinstance(item, ast.Tuple):
        return IndexItem("advanced", key)  # nested tuple inside an index tuple
    kind = index_kind(infer(item, scope))
    if kind != "int":
        return IndexItem(kind, key)
    if isinstance(item, ast.Call) and isinstance(item.func, ast.Name) and item.func.id == "slice":
        return IndexItem("slice", key)
    return IndexItem("int", key, offset=_name_offset(item))


def int_constant(expr: ast.expr) -> int | None:
    if isinstance(expr, ast.Constant) and type(expr.value) is int:
        return expr.value
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
        inner = int_constant(expr.operand)
        return -inner if inner is not None else None
    return None


def _name_offset(expr: ast.expr) -> tuple[str, int] | None:
    if isinstance(expr, ast.Name):
        return (expr.id, 0)
    if isinstance(expr, ast.BinOp) and isinstance(expr.left, ast.Name):
        const = int_constant(expr.right)
        if const is not None and isinstance(expr.op, (ast.Add, ast.Sub)):
            return (expr.left.id, const if isinstance(expr.op, ast.Add) else -const)
    return None


def _slice_bounds(item: ast.Slice) -> tuple[int | None, int | None, int | None] | None:
    parts: list[int | None] = []
    for part in (item.lower, item.upper, item.step):
        if part is None:
            parts.append(None)
            continue
        const = int_constant(part)
        if const is None:
            return None
        parts.append(const)
    return (parts[0], parts[1], parts[2])


def view_status(access: Access) -> ViewStatus | None:
    """Is reading ``access`` a view of its root's memory? None: the container never aliases."""
    kind = access.container.kind
    if kind in ("list", "other"):
        return None
    if access.has_key and kind != "numpy":
        # d["k"]: a dict (or a record object) hands out the stored object, and a store
        # replaces it instead of writing into it. Only a numpy structured array, when the
        # types say so, has fields that are views.
        return None
    if access.is_advanced:
        return "copy"
    uncertain = access.maybe_advanced
    if kind == "torch":
        return "possible" if uncertain else "view"
    element = _element_access(access)
    if access.container.is_record and element is not False:
        element = False  # an element of a structured array is an np.void view, not a scalar
    if kind == "numpy":
        status: ViewStatus = "copy" if element else ("view" if element is False else "possible")
    elif kind == "array":
        status = "view" if element is False else "possible"
    else:
        status = "possible"
    return "possible" if uncertain and status == "view" else status


def _element_access(access: Access) -> bool | None:
    """For numpy: True if the access picks one element (a scalar copy), None if unsure."""
    ndim = access.container.ndim
    for position, level in enumerate(access.levels):
        last = position == len(access.levels) - 1
        only_ints = all(item.kind in ("int", "maybe_advanced") for item in level)
        if last:
            if not only_ints:
                return False
            if ndim is None:
                return None
            return len(level) >= ndim
        if ndim is not None:
            ndim = (
                ndim - sum(i.kind == "int" for i in level) + sum(i.kind == "newaxis" for i in level)
            )
    return False


def may_overlap(first: Access, second: Access) -> bool:
    """Could the two accesses share memory? Distinct roots are taken as distinct storages."""
    if first.root_key != second.root_key:
        return False
    ndim = first.container.ndim
    for level_a, level_b in zip(first.levels, second.levels, strict=False):
        if _levels_disjoint(level_a, level_b, ndim):
            return False
        if level_a != level_b:
            return True  # later levels index different sub-views: stay conservative
    return True


def _levels_disjoint(
    level_a: tuple[IndexItem, ...], level_b: tuple[IndexItem, ...], ndim: int | None
) -> bool:
    a = _expand(level_a, ndim)
    b = _expand(level_b, ndim)
    ellipsis_a = [i for i, item in enumerate(a) if item.kind == "ellipsis"]
    ellipsis_b = [i for i, item in enumerate(b) if item.kind == "ellipsis"]
    pairs: list[tuple[IndexItem, IndexItem]]
    if not ellipsis_a and not ellipsis_b:
        pairs = list(zip(a, b, strict=False))
    elif ellipsis_a and ellipsis_b:
        head_a, tail_a = a[: ellipsis_a[0]], a[ellipsis_a[0] + 1 :]
        head_b, tail_b = b[: ellipsis_b[0]], b[ellipsis_b[0] + 1 :]
        pairs = list(zip(head_a, head_b, strict=False)) + list(
            zip(reversed(tail_a), reversed(tail_b), strict=False)
        )
    else:
        cut = (ellipsis_a or ellipsis_b)[0]
        pairs = list(zip(a[:cut], b[:cut], strict=False))
    return any(_axis_disjoint(x, y) for x, y in pairs)


def _expand(level: tuple[IndexItem, ...], ndim: int | None) -> list[IndexItem]:
    """Drop ``None`` axes; replace ``...`` by full slices when the dimensions are known."""
    items = [item for item in level if item.kind != "newaxis"]
    if ndim is None:
        return items
    for index, item in enumerate(items):
        if item.kind == "ellipsis":
            fill = max(ndim - (len(items) - 1), 0)
            full = IndexItem("slice", "full", bounds=(None, None, None))
            return items[:index] + [full] * fill + items[index + 1 :]
    return items


def _axis_disjoint(x: IndexItem, y: IndexItem) -> bool:
    if x.kind == "key" and y.kind == "key":
        return x.key != y.key  # distinct keys, distinct places
    if x.kind == "int" and y.kind == "int":
        if x.const is not None and y.const is not None:
            return x.const != y.const and (x.const >= 0) == (y.const >= 0)
        if x.offset and y.offset and x.offset[0] == y.offset[0]:
            return x.offset[1] != y.offset[1]
        return False
    if x.kind == "slice" and y.kind == "int":
        x, y = y, x
    if x.kind == "int" and y.kind == "slice" and x.const is not None and y.bounds:
        return _int_outside_slice(x.const, y.bounds)
    if x.kind == "slice" and y.kind == "slice" and x.bounds and y.bounds:
        return _slices_disjoint(x.bounds, y.bounds)
    return False


def _normal(
    bounds: tuple[int | None, int | None, int | None],
) -> tuple[int, int | None, int] | None:
    start, stop, step = bounds
    start = 0 if start is None else start
    step = 1 if step is None else step
    if start < 0 or step <= 0 or (stop is not None and stop < 0):
        return None  # negative positions depend on the length: unsure
    return start, stop, step


def _int_outside_slice(index: int, bounds: tuple[int | None, int | None, int | None]) -> bool:
    normal = _normal(bounds)
    if normal is None or index < 0:
        return False
    start, stop, step = normal
    if index < start or (stop is not None and index >= stop):
        return True
    return (index - start) % step != 0


def _slices_disjoint(
    first: tuple[int | None, int | None, int | None],
    second: tuple[int | None, int | None, int | None],
) -> bool:
    a = _normal(first)
    b = _normal(second)
    if a is None or b is None:
        return False
    (start_a, stop_a, step_a), (start_b, stop_b, step_b) = a, b
    if stop_a is not None and stop_a <= start_b:
        return True
    if stop_b is not None and stop_b <= start_a:
        return True
    return step_a == step_b and (start_a - start_b) % step_a != 0
