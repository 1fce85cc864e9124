"""TV001: swap of views in one tuple assignment ``T1, ..., Tn = E1, ..., En``.

All of ``E1..En`` are evaluated first, then stored left to right. A right-hand item ``Ek`` that
is a view is clobbered iff it may overlap a store target ``Tm`` with ``m < k``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from tensorviews.rules.fixes import (
    advanced_index_fix,
    copy_fixes,
    copy_methods_for,
    manual_copy_advice,
)
from tensorviews.rules.indexing import Access, ViewStatus, access_of, may_overlap
from tensorviews.rules.markdown_text import code_block, code_span, one_line
from tensorviews.rules.model import Clobber, Finding, RelatedLocation
from tensorviews.rules.rule import Rule
from tensorviews.rules.source_text import SourceText
from tensorviews.rules.value_types import Scope
from tensorviews.rules.views import viewed_access

CODE = "TV001"


@dataclass(frozen=True)
class _Clobbered:
    read: ast.expr
    read_position: int
    store: ast.expr
    status: ViewStatus
    access: Access


def is_candidate(statement: ast.Assign) -> bool:
    """Cheap pre-filter: a tuple/list target with a subscript, and a same-length tuple value."""
    if len(statement.targets) != 1:
        return False
    target, value = statement.targets[0], statement.value
    return (
        isinstance(target, (ast.Tuple, ast.List))
        and isinstance(value, (ast.Tuple, ast.List))
        and len(target.elts) == len(value.elts) > 1
        and any(isinstance(t, ast.Subscript) for t in target.elts)
        and not any(isinstance(e, ast.Starred) for e in (*target.elts, *value.elts))
    )


def check_tuple_swap(statement: ast.Assign, scope: Scope, text: SourceText) -> Finding | None:
    """The TV001 finding of one assignment, or None."""
    if not is_candidate(statement):
        return None
    target = statement.targets[0]
    value = statement.value
    assert isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List))
    # In-place stores, by position; lists and other containers never alias.
    store_accesses = [access_of(store, scope) for store in target.elts]
    in_place = [
        access if access is not None and access.container.kind not in ("list", "other") else None
        for access in store_accesses
    ]
    if not any(in_place[:-1]):
        return None
    clobbered: list[_Clobbered] = []
    for position in range(1, len(value.elts)):
        earlier_stores = [
            (target.elts[m], access) for m, access in enumerate(in_place[:position]) if access
        ]
        if not earlier_stores:
            continue
        item = value.elts[position]
        viewed = viewed_access(item, scope)
        if viewed is None:
            continue
        access, status = viewed
        for earlier, earlier_access in earlier_stores:
            if may_overlap(earlier_access, access):
                clobbered.append(_Clobbered(item, position, earlier, status, access))
                break
    if not clobbered:
        return None
    return _finding(statement, target.elts, value.elts, clobbered, scope, text)


def _finding(
    statement: ast.Assign,
    targets: list[ast.expr],
    values: list[ast.expr],
    clobbered: list[_Clobbered],
    scope: Scope,
    text: SourceText,
) -> Finding:
    certain = any(c.status == "view" for c in clobbered)
    container = clobbered[0].access.container.kind
    reads = [c.read for c in clobbered]
    fixes = copy_fixes(statement, reads, copy_methods_for(reads, container, scope), text)
    advanced = advanced_index_fix(statement, container, text)
    if advanced is not None:
        fixes.append(advanced)
    advice = (
        one_line(fixes[0].fixed_statement)
        if fixes
        else manual_copy_advice([text.text_of(c.read) for c in clobbered])
    )
    clobbers = tuple(
        Clobber(
            text.text_of(c.read),
            text.node_range(c.read),
            text.text_of(c.store),
            text.node_range(c.store),
        )
        for c in clobbered
    )
    parts = [
        f"{code_span(text.text_of(c.read))} is a view that the earlier store into "
        f"{code_span(text.text_of(c.store))} overwrites, so "
        f"{code_span(text.text_of(targets[c.read_position]))} does not get its old value"
        for c in clobbered
    ]
    root = code_span(text.text_of(clobbered[0].access.root))
    prefix = "swap of views: " if certain else f"possible swap of views (type of {root} unknown): "
    message = one_line(prefix + "; ".join(parts) + f" (fix: {advice})")
    explanation = _explanation(
        targets,
        values,
        clobbered,
        certain,
        root,
        fixes[0].fixed_statement if fixes else None,
        text,
    )
    related = tuple(
        RelatedLocation(
            text.node_range(c.store),
            f"this store runs first and overwrites what {one_line(text.text_of(c.read))} shows",
        )
        for c in clobbered
    )
    return Finding(
        code=CODE,
        severity="error" if certain else "information",
        message=message,
        range=text.node_range(statement),
        container=container,
        clobbers=clobbers,
        fixes=tuple(fixes),
        explanation=explanation,
        related=related,
    )


def _explanation(
    targets: list[ast.expr],
    values: list[ast.expr],
    clobbered: list[_Clobbered],
    certain: bool,
    root: str,
    fixed: str | None,
    text: SourceText,
) -> str:
    def name(node: ast.expr) -> str:
        return code_span(text.text_of(node))

    reads = [name(c.read) for c in clobbered]
    looks = "it only looks" if len(reads) == 1 else "they only look"
    lines = [
        "1. Python evaluates the whole right-hand side first: "
        f"{', '.join(name(v) for v in values)}. "
        f"{' and '.join(reads)} {'is a view' if len(reads) == 1 else 'are views'} (no copy): "
        f"{looks} at the array's memory.",
    ]
    step = 2
    for c in clobbered:
        lines.append(
            f"{step}. The store into {name(c.store)} runs before "
            f"{name(targets[c.read_position])} is assigned, and overwrites the memory that "
            f"the view {name(c.read)} looks at."
        )
        step += 1
    for c in clobbered:
        lines.append(
            f"{step}. {name(targets[c.read_position])} then receives the new value of "
            f"{name(c.read)}, not the old one, so the values are not swapped."
        )
        step += 1
    if not certain:
        lines.append(
            f"\nThis is a bug only if {root} is a torch tensor or a numpy array whose item is a "
            "view; its type is not known here."
        )
    if fixed is None:
        lines.append(f"\nFix: {manual_copy_advice([text.text_of(c.read) for c in clobbered])}.")
    else:
        lines.append(f"\nFix:\n\n{code_block(fixed)}")
    return "\n".join(lines)


class _OneStatement:
    """TV001 judges each tuple assignment on its own: nothing is carried between statements."""

    def __init__(self, text: SourceText) -> None:
        self.text = text

    def feed(self, statement: ast.stmt, scope: Scope) -> Finding | None:
        if isinstance(statement, ast.Assign) and is_candidate(statement):
            return check_tuple_swap(statement, scope, self.text)
        return None


RULE = Rule(
    code=CODE,
    summary="swap of views in one tuple assignment",
    follow=_OneStatement,
    checked_at_run_time=True,
)
