"""TV002: swap through a temporary view across statements of one block.

``tmp = x[0]`` keeps a view, not a value; a later store into ``x[0]`` changes what ``tmp``
shows, so a still later read of ``tmp`` (``x[1] = tmp``) gets the new value. The tracker is fed
the statements of one block in order and reports the statement that reads the stale view.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from tensorviews.rules.fixes import copy_fixes, copy_methods_for, manual_copy_advice
from tensorviews.rules.indexing import Access, ViewStatus, access_of, may_overlap
from tensorviews.rules.markdown_text import code_block, code_span, one_line
from tensorviews.rules.model import Clobber, Finding, RelatedLocation
from tensorviews.rules.rule import Rule
from tensorviews.rules.source_text import SourceText
from tensorviews.rules.value_types import Scope
from tensorviews.rules.views import split_parts, viewed_access

CODE = "TV002"


@dataclass
class _Temporary:
    name: str
    definition: ast.Assign
    value: ast.expr
    access: Access
    status: ViewStatus
    scope: Scope
    store: ast.expr | None = None  # the store that made it stale
    store_statement: ast.stmt | None = None


class TemporaryViewTracker:
    """Follows ``name = <view>`` bindings through the statements of one block."""

    def __init__(self, text: SourceText) -> None:
        self._text = text
        self._live: dict[str, _Temporary] = {}

    def feed(self, statement: ast.stmt, scope: Scope) -> Finding | None:
        """Judge ``statement`` (call before binding its names into ``scope``)."""
        finding: Finding | None = None
        if self._live:
            finding = self._stale_read(statement)
            self._record_stores(statement)
            self._forget_rebound(statement)
        self._start(statement, scope)
        return finding

    def _stale_read(self, statement: ast.stmt) -> Finding | None:
        stale = {name: t for name, t in self._live.items() if t.store is not None}
        if not stale:
            return None
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in stale:
                temporary = stale[node.id]
                del self._live[node.id]
                return self._finding(statement, node, temporary)
        return None

    def _record_stores(self, statement: ast.stmt) -> None:
        if not isinstance(statement, (ast.Assign, ast.AugAssign)):
            return
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        for target in targets:
            for store in _flatten(target):
                if not isinstance(store, ast.Subscript):
                    continue
                for temporary in self._live.values():
                    if temporary.store is not None:
                        continue
                    store_access = access_of(store, temporary.scope)
                    if store_access is not None and may_overlap(store_access, temporary.access):
                        temporary.store = store
                        temporary.store_statement = statement

    def _forget_rebound(self, statement: ast.stmt) -> None:
        bound = _bound_names(statement)
        for name in list(self._live):
            temporary = self._live[name]
            root = temporary.access.root
            root_name = root.id if isinstance(root, ast.Name) else None
            if name in bound or (root_name in bound and temporary.store is None):
                del self._live[name]

    def _start(self, statement: ast.stmt, scope: Scope) -> None:
        if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
            return
        target, value = statement.targets[0], statement.value
        pairs: list[tuple[ast.expr, ast.expr]] = [(target, value)]
        if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)):
            pairs = list(zip(target.elts, value.elts, strict=False))
        if isinstance(target, (ast.Tuple, ast.List)) and not isinstance(
            value, (ast.Tuple, ast.List)
        ):
            # a, b = x.unbind(0): each name is a view of one part of x.
            for name_node, part in zip(
                target.elts, split_parts(value, len(target.elts), scope), strict=False
            ):
                if isinstance(name_node, ast.Name) and isinstance(value, ast.Call):
                    # The copy goes on what is split: a, b = x.clone().unbind(0).
                    receiver = value.func.value if isinstance(value.func, ast.Attribute) else value
                    self._live[name_node.id] = _Temporary(
                        name_node.id, statement, receiver, part[0], part[1], scope
                    )
            return
        for name_node, item in pairs:
            if not isinstance(name_node, ast.Name):
                continue
            viewed = viewed_access(item, scope)
            if viewed is not None:
                access, status = viewed
                if _rebinds_its_root(name_node.id, access):
                    continue  # b = b[:-1]: later stores into b write the new b on purpose
                self._live[name_node.id] = _Temporary(
                    name_node.id, statement, item, access, status, scope
                )

    def _finding(self, statement: ast.stmt, read: ast.Name, temporary: _Temporary) -> Finding:
        text = self._text
        store_statement = temporary.store_statement
        assert temporary.store is not None and store_statement is not None
        certain = temporary.status == "view"
        container = temporary.access.container.kind
        fixes = copy_fixes(
            temporary.definition,
            [temporary.value],
            copy_methods_for([temporary.value], container, temporary.scope),
            text,
        )
        name = code_span(temporary.name)
        view = code_span(text.text_of(temporary.value))
        store = code_span(text.text_of(temporary.store))
        root = code_span(text.text_of(temporary.access.root))
        prefix = "" if certain else f"possible (type of {root} unknown): "
        advice = (
            fixes[0].fixed_statement
            if fixes
            else manual_copy_advice([text.text_of(temporary.value)])
        )
        where = _relative_place(store_statement.lineno, read.lineno)
        message = one_line(
            f"{prefix}{name} is a view of {view}, which the store into {store} {where} "
            f"overwrote; this reads the new value, not the saved one (fix: {advice})"
        )
        lines = [
            f"1. {code_span(text.text_of(temporary.definition))} makes {name} a view of {view} "
            "(no copy): it does not save the values.",
            f"2. {code_span(text.text_of(store_statement))} stores into {store} and so "
            f"changes what {name} shows.",
            f"3. This read of {name} then gets the new values; the old values of {view} are lost.",
        ]
        if not certain:
            lines.append(
                f"\nThis is a bug only if {root} is a torch tensor or a numpy array whose item is "
                "a view; its type is not known here."
            )
        if fixes:
            lines.append(f"\nFix (copy when saving):\n\n{code_block(fixes[0].fixed_statement)}")
        else:
            lines.append(f"\nFix (copy when saving): {advice}.")
        short_view = one_line(text.text_of(temporary.value))
        related = (
            RelatedLocation(
                text.node_range(temporary.value),
                f"{temporary.name} is made a view of {short_view} here (no copy)",
            ),
            RelatedLocation(
                text.node_range(temporary.store),
                f"this store overwrites what {temporary.name} shows",
            ),
        )
        return Finding(
            code=CODE,
            severity="error" if certain else "information",
            message=message,
            range=text.node_range(read),
            container=container,
            clobbers=(
                Clobber(
                    temporary.name,
                    text.node_range(read),
                    text.text_of(temporary.store),
                    text.node_range(temporary.store),
                ),
            ),
            fixes=tuple(fixes),
            explanation="\n".join(lines),
            related=related,
        )


def _relative_place(store_line: int, read_line: int) -> str:
    """Where the store is, seen from the read, in words that stay true in any client."""
    distance = read_line - store_line
    if distance <= 0:
        return "earlier on this line"
    if distance == 1:
        return "on the line before"
    return f"{distance} lines above"


def _rebinds_its_root(name: str, access: Access) -> bool:
    """``b = b[:-1]``, ``w = w.T[0]``: the name now *is* the view, stores into it are meant."""
    root = access.root_key
    return root == name or root.startswith(name + ".")


def _flatten(target: ast.expr) -> list[ast.expr]:
    if isinstance(target, (ast.Tuple, ast.List)):
        return [leaf for element in target.elts for leaf in _flatten(element)]
    if isinstance(target, ast.Starred):
        return _flatten(target.value)
    return [target]


def _bound_names(statement: ast.stmt) -> set[str]:
    """Names a statement (re)binds anywhere inside it, nested blocks included."""
    if isinstance(statement, ast.Assign):
        simple = [leaf for target in statement.targets for leaf in _flatten(target)]
    elif isinstance(statement, (ast.AugAssign, ast.AnnAssign)):
        simple = _flatten(statement.target)
    elif isinstance(statement, (ast.Expr, ast.Return, ast.Pass, ast.Raise, ast.Assert)):
        simple = []
    else:
        simple = None
    if simple is not None and not isinstance(
        getattr(statement, "value", None), (ast.NamedExpr, ast.Lambda)
    ):
        # Simple statements bind only their targets (cheap path: no walk).
        return {leaf.id for leaf in simple if isinstance(leaf, ast.Name)}
    names: set[str] = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


RULE = Rule(
    code=CODE,
    summary="swap through a temporary view across statements",
    follow=TemporaryViewTracker,
)
