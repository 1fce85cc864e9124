"""Quick fixes: copy exactly the clobbered items, or swap with advanced indexing.

``.clone()`` is torch's copy and ``.copy()`` numpy's; neither exists on the other library nor
on plain values (a ``str`` has no ``.clone()``). So a copy is offered only for what the types
say is a tensor or an array; where the item's type is unknown no edit is offered at all, since
no copy is right for every value (``copy.copy`` shares a tensor's memory, ``copy.deepcopy``
copies a view's whole storage and refuses tensors inside an autograd graph). The message then
says in words what to copy, and the kernel's guard, which sees the value, names its method.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

from tensorviews.rules.indexing import node_key
from tensorviews.rules.inference import infer
from tensorviews.rules.markdown_text import code_span
from tensorviews.rules.model import (
    ContainerKind,
    Finding,
    Fix,
    Range,
    TextEdit,
    apply_text_edits,
    split_lines,
)
from tensorviews.rules.source_text import SourceText
from tensorviews.rules.value_types import Scope

# Expressions to which ``.clone()`` can be appended without parentheses.
_ATOMIC = (ast.Subscript, ast.Call, ast.Attribute, ast.Name, ast.List, ast.Tuple, ast.Constant)


def copy_methods_for(
    items: Sequence[ast.expr], container: ContainerKind, scope: Scope
) -> list[str]:
    """The copy method(s) for ``items``, preferred first; none when their type is unknown.

    The items' own library wins (``torch.from_numpy(x[0])`` needs ``.clone()`` even though
    ``x`` is a numpy array); a container known to be "a tensor or an array" gets both, the
    library its module imports first.
    """
    kinds = {infer(item, scope).kind for item in items}
    if len(kinds) == 1 and kinds <= {"torch", "numpy"}:
        container = kinds.pop()  # type: ignore[assignment]
    if container == "torch":
        return ["clone"]
    if container == "numpy":
        return ["copy"]
    if container == "array":
        return ["copy", "clone"] if scope.root().libraries == {"numpy"} else ["clone", "copy"]
    return []


def manual_copy_advice(items: Sequence[str]) -> str:
    """What to do when no edit is offered: the words of the fix, for every face alike."""
    names = ", ".join(code_span(item) for item in items)
    return f"copy {names} first: .clone() if it is a tensor, .copy() if it is a numpy array"


def copy_fixes(
    statement: ast.stmt,
    items: Sequence[ast.expr],
    methods: Sequence[str],
    text: SourceText,
) -> list[Fix]:
    """One fix per copy method, each appending it to every expression in ``items``."""
    fixes: list[Fix] = []
    for method in methods:
        edits: list[TextEdit] = []
        names: list[str] = []
        for item in items:
            span = text.node_range(item)
            end = Range(span.end_line, span.end_column, span.end_line, span.end_column)
            if isinstance(item, _ATOMIC):
                edits.append(TextEdit(end, f".{method}()"))
            else:
                start = Range(span.line, span.column, span.line, span.column)
                edits.append(TextEdit(start, "("))
                edits.append(TextEdit(end, f").{method}()"))
            names.append(text.text_of(item))
        title = f"Add .{method}() to {', '.join(names)}"
        fixes.append(Fix(title, tuple(edits), fixed_text(statement, edits, text)))
    return fixes


def fixed_text(statement: ast.stmt, edits: Sequence[TextEdit], text: SourceText) -> str:
    """The statement's text after ``edits`` (which must lie inside the statement)."""
    span = text.node_range(statement)
    original = text.text_in(span)
    relative = [
        TextEdit(
            Range(
                edit.range.line - span.line + 1,
                edit.range.column - (span.column if edit.range.line == span.line else 0),
                edit.range.end_line - span.line + 1,
                edit.range.end_column - (span.column if edit.range.end_line == span.line else 0),
            ),
            edit.new_text,
        )
        for edit in edits
    ]
    return apply_text_edits(original, relative)


def advanced_index_fix(
    statement: ast.Assign, container: ContainerKind, text: SourceText
) -> Fix | None:
    """``x[i], x[j] = x[j], x[i]`` -> ``x[[i, j]] = x[[j, i]]`` (also ``x[:, [0, 1]]``).

    Offered when every item indexes the same array with one subscript, the items differ only
    on integer-like axes and agree elsewhere. The right side then is an advanced index (a copy
    made before any store), so the statement is correct for torch and numpy. Only offered for
    a container known to be a tensor or an array: a list index must be an integer.
    """
    if container not in ("torch", "numpy", "array"):
        return None
    target = statement.targets[0]
    if not isinstance(target, (ast.Tuple, ast.List)) or not isinstance(
        statement.value, (ast.Tuple, ast.List)
    ):
        return None
    subscripts = [*target.elts, *statement.value.elts]
    if not all(isinstance(s, ast.Subscript) for s in subscripts):
        return None
    items = [_items(s) for s in subscripts if isinstance(s, ast.Subscript)]
    roots = {node_key(s.value) for s in subscripts if isinstance(s, ast.Subscript)}
    if len(roots) != 1 or len({len(i) for i in items}) != 1:
        return None
    first = subscripts[0]
    assert isinstance(first, ast.Subscript)
    if isinstance(first.value, ast.Subscript):
        return None
    differing: list[int] = []
    for axis in range(len(items[0])):
        keys = {node_key(i[axis]) for i in items}
        if len(keys) == 1:
            continue
        if any(not _integer_like(i[axis]) for i in items):
            return None
        differing.append(axis)
    if not differing:
        return None
    count = len(target.elts)

    def side(group: list[list[ast.expr]]) -> str:
        parts: list[str] = []
        for axis in range(len(group[0])):
            if axis in differing:
                parts.append("[" + ", ".join(text.text_of(i[axis]) for i in group) + "]")
            else:
                parts.append(text.text_of(group[0][axis]))
        return f"{text.text_of(first.value)}[{', '.join(parts)}]"

    new_text = f"{side(items[:count])} = {side(items[count:])}"
    edit = TextEdit(text.node_range(statement), new_text)
    return Fix(f"Swap with advanced indexing: {new_text}", (edit,), new_text)


def _items(subscript: ast.Subscript) -> list[ast.expr]:
    index = subscript.slice
    return list(index.elts) if isinstance(index, ast.Tuple) else [index]


def _integer_like(item: ast.expr) -> bool:
    if isinstance(item, (ast.Slice, ast.List, ast.Tuple, ast.Starred)):
        return False
    return not (isinstance(item, ast.Constant) and (item.value is None or item.value is Ellipsis))


def copy_fixed_statement(statement: str, finding: Finding, library: str) -> str | None:
    """``statement`` with ``library``'s copy ("torch": ``.clone()``, "numpy": ``.copy()``)
    on each clobbered item of ``finding`` (TV001), for a consumer that learned the library
    at run time (the kernel's guard) where the source alone did not say it.

    ``statement`` is the text of ``finding.range`` without the indentation of its first line.
    None when the library is neither or the items are not where the finding says.
    """
    method = {"torch": "clone", "numpy": "copy"}.get(library)
    if method is None or not finding.clobbers:
        return None
    origin = finding.range
    lines = split_lines(statement)
    edits: list[TextEdit] = []
    for clobber in finding.clobbers:
        read = clobber.read_range
        span = Range(
            read.line - origin.line + 1,
            read.column - (origin.column if read.line == origin.line else 0),
            read.end_line - origin.line + 1,
            read.end_column - (origin.column if read.end_line == origin.line else 0),
        )
        if not 1 <= span.line <= span.end_line <= len(lines) or span.column < 0:
            return None
        if span.line == span.end_line:
            found = lines[span.line - 1][span.column : span.end_column]
        else:
            found = clobber.read  # multi-line item: trust the finding
        if found != clobber.read:
            return None
        end = Range(span.end_line, span.end_column, span.end_line, span.end_column)
        if _is_atomic(clobber.read):
            edits.append(TextEdit(end, f".{method}()"))
        else:
            start = Range(span.line, span.column, span.line, span.column)
            edits += [TextEdit(start, "("), TextEdit(end, f").{method}()")]
    return apply_text_edits(statement, edits)


def _is_atomic(expression: str) -> bool:
    try:
        node = ast.parse(expression.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return isinstance(node, _ATOMIC)
