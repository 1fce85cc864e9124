"""AST rewriting of "possible" swap statements so that ``guard_runtime`` can confirm them.

A flagged ``T0, T1 = E0, E1`` becomes (names shortened)::

    v0 = E0; v1 = E1                       # the right-hand side, once, in order
    if id(type(v1)) in PLAIN:              # fast path: no later item can be a view
        T0 = v0; T1 = v1                   # the same stores as the unpacking did
    else:
        s = GUARD.begin(site, (v0, v1))
        c = A0; k = K0; c[k] = s.before(0, c, k)   # target A0[K0], evaluated once; before()
        c = A1; k = K1; c[k] = s.before(1, c, k)   # checks, returns v (or its copy in fix)
    del v0, v1, ...

Evaluation order and counts are those of the original: every right-hand item once, left to
right, then per target its container, its key, its store. ``x[a:b]`` keys are rebuilt with
``slice(a, b, None)`` (what ``BUILD_SLICE`` makes). All new nodes carry the statement's
location, so tracebacks point at the user's line. At module and class level the temporaries
live in a namespace, so the statement is wrapped in ``try/finally`` that drops them; in
functions they are locals and a ``del`` suffices. Statements whose shape is not a plain
``tuple = tuple`` of the same length (starred items, nested targets, chained ``=``) are left
alone.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection

from kernel_ext.guard_runtime import ID_NAME, PLAIN_NAME, RUNTIME_NAME, TEMP_PREFIX, TYPE_NAME

# Not identifiers: no user code can read, write or delete these names.
_V = TEMP_PREFIX + "v{}"
_CHECK = TEMP_PREFIX + "s"
_CONTAINER = TEMP_PREFIX + "c"
_KEY = TEMP_PREFIX + "k"


def instrumentable(node: ast.stmt) -> bool:
    """Is ``node`` a ``T0, ..., Tn = E0, ..., En`` this module knows how to instrument?"""
    if not isinstance(node, ast.Assign) or len(node.targets) != 1:
        return False
    target, value = node.targets[0], node.value
    sequences = (ast.Tuple, ast.List)
    if not isinstance(target, sequences) or not isinstance(value, sequences):
        return False
    if len(target.elts) != len(value.elts) or len(value.elts) < 2:
        return False
    if any(isinstance(e, ast.Starred) for e in (*target.elts, *value.elts)):
        return False
    return all(isinstance(t, (ast.Subscript, ast.Name, ast.Attribute)) for t in target.elts)


class SwapInstrumenter(ast.NodeTransformer):
    """Instrument the statements that start at the given (line, column) positions;
    ``site_for`` registers one and returns its site id (None: leave it alone)."""

    def __init__(self, positions: Collection[tuple[int, int]],
                 site_for: Callable[[ast.Assign], int | None]) -> None:
        self.positions = set(positions)  # (line, UTF-8 column) as in the AST
        self.site_for = site_for
        self.in_function = False
        self.instrumented = 0

    def _scoped(self, node: ast.AST, in_function: bool) -> ast.AST:
        outer = self.in_function
        self.in_function = in_function
        try:
            return self.generic_visit(node)
        finally:
            self.in_function = outer

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return self._scoped(node, True)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        return self._scoped(node, True)

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        return self._scoped(node, False)

    def visit_Assign(self, node: ast.Assign) -> ast.AST | list[ast.stmt]:
        if (node.lineno, node.col_offset) not in self.positions or not instrumentable(node):
            return node
        site = self.site_for(node)
        if site is None:
            return node
        self.instrumented += 1
        statements = _instrument(node, site, self.in_function)
        for statement in statements:
            for child in ast.walk(statement):
                if isinstance(child, (ast.stmt, ast.expr)) and not hasattr(child, "lineno"):
                    ast.copy_location(child, node)  # new nodes: the user's line in tracebacks
        return statements


def _name(identifier: str, ctx: ast.expr_context | None = None) -> ast.Name:
    return ast.Name(id=identifier, ctx=ctx or ast.Load())


def _assign(identifier: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[_name(identifier, ast.Store())], value=value)


def _call(func: ast.expr, *args: ast.expr) -> ast.Call:
    return ast.Call(func=func, args=list(args), keywords=[])


def _method(obj: str, name: str, *args: ast.expr) -> ast.Expr:
    return ast.Expr(value=_call(ast.Attribute(value=_name(obj), attr=name, ctx=ast.Load()), *args))


def _key_expression(key: ast.expr) -> ast.expr:
    """The subscript key as an ordinary expression (slices only exist inside ``[...]``)."""
    if isinstance(key, ast.Slice):
        parts = [part if part is not None else ast.Constant(value=None)
                 for part in (key.lower, key.upper, key.step)]
        slice_type = ast.Attribute(value=_name(RUNTIME_NAME), attr="slice", ctx=ast.Load())
        return _call(slice_type, *parts)
    if isinstance(key, ast.Tuple):
        return ast.Tuple(elts=[_key_expression(e) for e in key.elts], ctx=ast.Load())
    return key


def _store_as_is(target: ast.expr, value_name: str) -> ast.Assign:
    return ast.Assign(targets=[target], value=_name(value_name))


def _instrument(node: ast.Assign, site: int, in_function: bool) -> list[ast.stmt]:
    target_tuple = node.targets[0]
    value_tuple = node.value
    assert isinstance(target_tuple, (ast.Tuple, ast.List))
    assert isinstance(value_tuple, (ast.Tuple, ast.List))
    targets, items = target_tuple.elts, value_tuple.elts
    names = [_V.format(i) for i in range(len(items))]

    evaluate: list[ast.stmt] = [_assign(n, item) for n, item in zip(names, items, strict=True)]
    plain = _name(PLAIN_NAME)
    checks: list[ast.expr] = [
        ast.Compare(  # id(type(v)) in plain: no attribute of the user's object is read
            left=_call(_name(ID_NAME), _call(_name(TYPE_NAME), _name(n))),
            ops=[ast.In()], comparators=[plain],
        )
        for n in names[1:]
    ]
    test: ast.expr = checks[0] if len(checks) == 1 else ast.BoolOp(op=ast.And(), values=checks)
    fast: list[ast.stmt] = [_store_as_is(t, n) for t, n in zip(targets, names, strict=True)]

    begin = _call(
        ast.Attribute(value=_name(RUNTIME_NAME), attr="begin", ctx=ast.Load()),
        ast.Constant(value=site),
        ast.Tuple(elts=[_name(n) for n in names], ctx=ast.Load()),
    )
    checked: list[ast.stmt] = [_assign(_CHECK, begin)]
    for index, target in enumerate(targets):
        position = ast.Constant(value=index)
        if isinstance(target, ast.Subscript):
            checked += [
                # The fast path's nodes are reused, not copied: compile() only reads the tree,
                # and deep copies cost more than the rest of the guard on a large cell.
                _assign(_CONTAINER, target.value),
                _assign(_KEY, _key_expression(target.slice)),
                ast.Assign(
                    targets=[ast.Subscript(value=_name(_CONTAINER), slice=_name(_KEY),
                                           ctx=ast.Store())],
                    value=_before(position, _name(_CONTAINER), _name(_KEY)),
                ),
            ]
        else:
            none = ast.Constant(value=None)
            checked.append(ast.Assign(targets=[target], value=_before(position, none, none)))
    scratch = (_CHECK, _CONTAINER, _KEY) if _has_subscript(targets) else (_CHECK,)
    checked.append(ast.Delete(targets=[_name(n, ast.Del()) for n in scratch]))
    body: list[ast.stmt] = [*evaluate, ast.If(test=test, body=fast, orelse=checked)]
    if in_function:
        body.append(ast.Delete(targets=[_name(n, ast.Del()) for n in names]))
        return body
    release = _method(RUNTIME_NAME, "release")
    return [ast.Try(body=body, handlers=[], orelse=[], finalbody=[release])]


def _before(position: ast.expr, container: ast.expr, key: ast.expr) -> ast.expr:
    """``s.before(i, c, k)``: checks the store and returns the value to store (a copy of it
    in fix mode when an earlier store overwrote it)."""
    return _call(ast.Attribute(value=_name(_CHECK), attr="before", ctx=ast.Load()),
                 position, container, key)


def _has_subscript(targets: list[ast.expr]) -> bool:
    return any(isinstance(t, ast.Subscript) for t in targets)
