"""Walk a module's statements in order, keep the type scopes, and run the enabled rules.

Only statements are visited (expressions are inspected on demand), which keeps the rules cheap
next to ``ast.parse``. Notebook cells share one module scope, so types flow between cells.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Mapping, Sequence

from tensorviews.rules.inference import annotation_type, expr_path, infer
from tensorviews.rules.model import ContainerKind, Finding
from tensorviews.rules.registry import RULES
from tensorviews.rules.rule import Rule
from tensorviews.rules.source_text import SourceText
from tensorviews.rules.tolerant_parse import parse_tolerant
from tensorviews.rules.value_types import LIST, OTHER, SCALAR, UNKNOWN, Scope, ValueType

_BLOCK_FIELDS = ("body", "orelse", "finalbody")


def analyze_sources(
    sources: Sequence[str],
    known_types: Mapping[str, ContainerKind] | None,
    enabled: Collection[str] | None,
    known_ndims: Mapping[str, int] | None,
) -> list[list[Finding]]:
    """Findings per source; the sources share one module scope (notebook cells)."""
    rules = RULES if enabled is None else tuple(r for r in RULES if r.code in set(enabled))
    known = _known_bindings(known_types or {}, known_ndims or {})
    module_scope = Scope(bindings=dict(known))
    results: list[list[Finding]] = []
    for source in sources:
        try:
            text = SourceText(source if isinstance(source, str) else "")
            tree = parse_tolerant(text.source)
            walker = _Walker(text, rules, known)
            walker.block(tree.body, module_scope)
            kept = [f for f in walker.findings if not _silenced(text, f)]
            results.append(sorted(kept, key=lambda f: (f.range.line, f.range.column)))
        except (RecursionError, MemoryError):
            results.append([])  # absurdly nested code: no findings rather than a crash
    return results


_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*))?", re.I)


def _silenced(text: SourceText, finding: Finding) -> bool:
    """A ``# noqa`` (bare, or naming the finding's code) on the reported line silences it."""
    line = text.line_text(finding.range.line)
    if "#" not in line:
        return False
    for match in _NOQA.finditer(line):
        codes = match.group("codes")
        if codes is None:
            return True
        if finding.code in {code.strip().upper() for code in codes.split(",")}:
            return True
    return False


def _known_bindings(
    known_types: Mapping[str, ContainerKind], known_ndims: Mapping[str, int]
) -> dict[str, ValueType]:
    bindings: dict[str, ValueType] = {}
    for name, kind in known_types.items():
        if kind in ("torch", "numpy", "array", "list", "other", "unknown"):
            ndim = known_ndims.get(name)
            bindings[str(name)] = ValueType(kind, ndim if isinstance(ndim, int) else None)
    return bindings


class _Walker:
    def __init__(self, text: SourceText, rules: tuple[Rule, ...], known: dict[str, ValueType]):
        self.text = text
        self.rules = rules
        self.known = known
        self.findings: list[Finding] = []
        # _scan_body results of methods, computed once by their class (keyed by node id;
        # the tree outlives the walk).
        self._scans: dict[int, tuple[bool, list[ast.Return]]] = {}

    def block(self, statements: list[ast.stmt], scope: Scope) -> None:
        # Every rule sees the block's statements in order, before their bindings take effect.
        followers = [rule.follow(self.text) for rule in self.rules]
        for statement in statements:
            for follower in followers:
                finding = follower.feed(statement, scope)
                if finding is not None:
                    self.findings.append(finding)
            self.statement(statement, scope)

    def statement(self, node: ast.stmt, scope: Scope) -> None:
        if isinstance(node, ast.Assign):
            self.assign(node.targets, node.value, scope)
        elif isinstance(node, ast.AnnAssign):
            stated = annotation_type(node.annotation, scope)
            value = infer(node.value, scope) if node.value is not None else UNKNOWN
            if stated is not None and value.kind in ("unknown", stated.kind):
                value = ValueType(stated.kind, value.ndim)
            self.bind_target(node.target, value, scope)
        elif isinstance(node, ast.AugAssign):
            if isinstance(node.target, ast.Name) and scope.lookup(node.target.id) is None:
                self.bind_target(node.target, UNKNOWN, scope)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            self.imports(node, scope)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.function(node, scope)
        elif isinstance(node, ast.ClassDef):
            self.klass(node, scope)
        else:
            self.compound(node, scope)

    def compound(self, node: ast.stmt, scope: Scope) -> None:
        if isinstance(node, (ast.For, ast.AsyncFor)):
            iterated = infer(node.iter, scope)
            element = _element_type(node.iter, iterated, scope)
            self.bind_target(node.target, element, scope)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    self.bind_target(item.optional_vars, UNKNOWN, scope)
        for field in _BLOCK_FIELDS:
            body = getattr(node, field, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                self.block(body, scope)
        for handler in getattr(node, "handlers", ()):
            if isinstance(handler, ast.ExceptHandler):
                if handler.name:
                    scope.bind(handler.name, OTHER)
                self.block(handler.body, scope)
        for case in getattr(node, "cases", ()):
            if isinstance(case, ast.match_case):
                self.block(case.body, scope)

    def assign(self, targets: list[ast.expr], value: ast.expr, scope: Scope) -> None:
        # All right-hand values are evaluated before any name is rebound (u, v = u.copy(), ...).
        if (
            len(targets) == 1
            and isinstance(targets[0], (ast.Tuple, ast.List))
            and isinstance(value, (ast.Tuple, ast.List))
            and len(targets[0].elts) == len(value.elts)
        ):
            values = [infer(item, scope) for item in value.elts]
            for target, item_type in zip(targets[0].elts, values, strict=False):
                self.bind_target(target, item_type, scope)
            return
        value_type = infer(value, scope)
        for target in targets:
            if isinstance(target, (ast.Tuple, ast.List)):
                self.unpack(target, value, value_type, scope)
            else:
                self.bind_target(target, value_type, scope)

    def unpack(
        self, target: ast.Tuple | ast.List, value: ast.expr, value_type: ValueType, scope: Scope
    ) -> None:
        if isinstance(value, ast.Attribute) and value.attr == "shape":
            # ``n, d = x.shape`` is evidence that x has len(targets) dimensions.
            path = expr_path(value.value)
            if path is not None and not any(isinstance(e, ast.Starred) for e in target.elts):
                known = scope.lookup(path) or UNKNOWN
                scope.bind(path, known.with_ndim(len(target.elts)))
            element = SCALAR
        elif value_type.is_array and isinstance(value, ast.Call):
            element = ValueType(value_type.kind)  # np.broadcast_arrays(...), x.unbind(), ...
        elif value_type.is_array:
            element = ValueType(value_type.kind)  # rows of an array
        else:
            element = UNKNOWN
        for item in target.elts:
            self.bind_target(item, element, scope)

    def bind_target(self, target: ast.expr, value: ValueType, scope: Scope) -> None:
        if isinstance(target, ast.Name):
            scope.bind(target.id, value)
        elif isinstance(target, ast.Attribute):
            path = expr_path(target)
            if path is not None:
                scope.bind(path, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            elements = value.elements
            if elements is None or len(elements) != len(target.elts):
                elements = (UNKNOWN,) * len(target.elts)
            for item, element in zip(target.elts, elements, strict=False):
                self.bind_target(item, element, scope)
        elif isinstance(target, ast.Starred):
            self.bind_target(target.value, LIST, scope)

    def imports(self, node: ast.Import | ast.ImportFrom, scope: Scope) -> None:
        libraries = scope.root().libraries
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                libraries.update({top} & {"torch", "numpy"})
                if alias.asname:
                    scope.bind(alias.asname, ValueType("other", qualname=alias.name))
                else:
                    scope.bind(top, ValueType("other", qualname=top))
            return
        module = node.module or ""
        if node.level:
            module = ""  # relative imports: local code, nothing known
        top = module.split(".")[0]
        libraries.update({top} & {"torch", "numpy"})
        for alias in node.names:
            if alias.name == "*":
                if module:
                    scope.root().star_modules.append(module)
                continue
            qualname = f"{module}.{alias.name}" if module else None
            scope.bind(alias.asname or alias.name, ValueType("other", qualname=qualname))

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope) -> None:
        parent = _enclosing_non_class(scope)
        local = Scope(parent=parent)
        if scope.class_attrs is not None and scope.parent is not None and scope.self_name == "":
            # A method: its first parameter is the instance and sees the class's attributes.
            positional = [*node.args.posonlyargs, *node.args.args]
            if positional and not _is_static(node):
                local.self_name = positional[0].arg
                local.class_attrs = scope.class_attrs
        scanned = self._scans.pop(id(node), None)
        may_swap, returns = scanned if scanned is not None else _scan_body(node.body)
        if may_swap:
            self.parameters(node.args, local, parent)
            self.block(node.body, local)
        else:
            # Nothing to judge inside: parameters only shadow outer names for the return type.
            every = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
            local.bindings.update(dict.fromkeys((arg.arg for arg in every), UNKNOWN))
        scope.bind(node.name, ValueType("other", returns=_returned_type(node, returns, local)))

    def parameters(self, args: ast.arguments, local: Scope, parent: Scope) -> None:
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        for arg in every:
            stated = annotation_type(arg.annotation, parent)
            local.bind(arg.arg, stated if stated is not None else UNKNOWN)
        if args.vararg:
            local.bind(args.vararg.arg, OTHER)
        if args.kwarg:
            local.bind(args.kwarg.arg, OTHER)

    def klass(self, node: ast.ClassDef, scope: Scope) -> None:
        attrs: dict[str, ValueType] = {}
        # Marker scope: self_name "" means "class body"; methods defined in it are methods.
        class_scope = Scope(parent=scope, self_name="", class_attrs=attrs)
        scans = {
            id(item): _scan_body(item.body)
            for item in node.body
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        self._scans.update(scans)
        # The attributes' types matter only inside methods that are judged statement by
        # statement (return types of methods are never looked up from outside).
        with_methods = any(may_swap for may_swap, _ in scans.values())
        self._collect_attributes(node, scope, attrs, with_methods)
        self.block(node.body, class_scope)
        bases = {infer(base, scope).kind for base in node.bases}
        is_list = any(isinstance(b, ast.Name) and b.id == "list" for b in node.bases)
        returns = LIST if is_list else (OTHER if bases <= {"other"} and node.bases else UNKNOWN)
        scope.bind(node.name, ValueType("other", returns=returns))

    def _collect_attributes(
        self, node: ast.ClassDef, scope: Scope, attrs: dict[str, ValueType], with_methods: bool
    ) -> None:
        """Types of ``self.x = ...`` anywhere in the class, so every method sees them."""
        outer = _enclosing_non_class(scope)
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                stated = annotation_type(item.annotation, outer)
                if stated is not None:
                    attrs[item.target.id] = stated
            if not with_methods or not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            positional = [*item.args.posonlyargs, *item.args.args]
            if not positional:
                continue
            self_name = positional[0].arg
            local: Scope | None = None  # the method's parameters, bound on first need
            for statement in _own_statements(item.body):
                if not isinstance(statement, (ast.Assign, ast.AnnAssign)):
                    continue
                targets = (
                    statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                )
                for target in targets:
                    if (
                        isinstance(target, ast.Attribute)
                        and isinstance(target.value, ast.Name)
                        and target.value.id == self_name
                        and statement.value is not None
                    ):
                        if local is None:
                            local = Scope(parent=outer)
                            self.parameters(item.args, local, outer)
                        found = infer(statement.value, local)
                        previous = attrs.get(target.attr)
                        attrs[target.attr] = (
                            found if previous is None or previous == found else UNKNOWN
                        )


def _scan_body(body: list[ast.stmt]) -> tuple[bool, list[ast.Return]]:
    """One cheap syntactic walk of a function body: could any statement here (nested
    functions included) start a TV001 or TV002 finding, and the body's own ``return value``
    statements (nested functions excluded). Bodies that cannot hold a swap are not analysed
    statement by statement, which is most of the rules' speed on large files."""
    may_swap = False
    returns: list[ast.Return] = []
    pending: list[tuple[ast.stmt, bool]] = [(statement, True) for statement in body]
    while pending:
        statement, own = pending.pop()
        if isinstance(statement, ast.Assign):
            if not may_swap:
                value = statement.value
                if isinstance(value, (ast.Tuple, ast.List)):
                    may_swap = any(_reads_subscript(item) for item in value.elts)
                else:
                    may_swap = _reads_subscript(value)
            continue
        if isinstance(statement, ast.Return):
            if own and statement.value is not None:
                returns.append(statement)
            continue
        if isinstance(statement, _LEAF_STATEMENTS):
            continue
        nested = own and not isinstance(
            statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        )
        pending.extend((child, nested) for child in _child_statements(statement))
    return may_swap, returns


# Statements without nested statements (nor a tuple assignment): nothing to look into.
_LEAF_STATEMENTS = (
    ast.Expr,
    ast.AugAssign,
    ast.AnnAssign,
    ast.Raise,
    ast.Assert,
    ast.Import,
    ast.ImportFrom,
    ast.Pass,
    ast.Break,
    ast.Continue,
    ast.Delete,
    ast.Global,
    ast.Nonlocal,
)


def _reads_subscript(expr: ast.expr) -> bool:
    """Is ``expr`` a subscript, possibly behind attribute/method/unary-plus/call wrappers?"""
    node = expr
    for _ in range(16):
        if isinstance(node, ast.Subscript):
            return True
        if isinstance(node, (ast.Attribute, ast.Starred)):
            node = node.value
        elif isinstance(node, ast.UnaryOp):
            node = node.operand
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):
                node = node.func.value
            elif node.args:
                node = node.args[0]
            else:
                return False
        else:
            return False
    return False


def _enclosing_non_class(scope: Scope) -> Scope:
    current = scope
    while current.self_name == "" and current.parent is not None:
        current = current.parent
    return current


def _is_static(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(
        isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod")
        for d in node.decorator_list
    )


def _returned_type(
    node: ast.FunctionDef | ast.AsyncFunctionDef, returns: list[ast.Return], local: Scope
) -> ValueType:
    stated = annotation_type(node.returns, local.parent or local)
    if stated is not None:
        return stated
    found: ValueType | None = None
    for statement in returns:
        if statement.value is not None:
            value = infer(statement.value, local)
            if found is not None and found.kind != value.kind:
                return UNKNOWN
            found = value if found is None else ValueType(found.kind)
    return found or UNKNOWN


def _own_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements of a function body, nested blocks included, nested functions excluded."""
    pending = list(body)
    result: list[ast.stmt] = []
    while pending:
        statement = pending.pop()
        result.append(statement)
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        pending.extend(_child_statements(statement))
    return result


def _element_type(iterable: ast.expr, iterated: ValueType, scope: Scope) -> ValueType:
    """The type of the items of ``for item in iterable``: the rows of an array (views),
    ``(index, row)`` of ``enumerate``, one row per array of ``zip``."""
    if (
        isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Name)
        and iterable.func.id in ("range", "enumerate", "zip")
        and scope.is_builtin(iterable.func.id)
        and not iterable.keywords
    ):
        name, args = iterable.func.id, iterable.args
        if name == "range":
            return SCALAR
        if name == "enumerate" and len(args) == 1:
            return ValueType("other", elements=(SCALAR, _row_type(infer(args[0], scope))))
        if name == "zip" and args and not any(isinstance(a, ast.Starred) for a in args):
            return ValueType("other", elements=tuple(_row_type(infer(a, scope)) for a in args))
        return UNKNOWN
    return _row_type(iterated)


def _row_type(iterated: ValueType) -> ValueType:
    """An item of iterating over a value of type ``iterated`` (a row view of an array)."""
    if iterated.is_array:
        ndim = iterated.ndim - 1 if iterated.ndim else None
        return ValueType(iterated.kind, ndim, is_record=iterated.is_record)
    return UNKNOWN


def _child_statements(statement: ast.stmt) -> list[ast.stmt]:
    """Statements directly nested in ``statement``'s blocks (bodies, handlers, match cases)."""
    if isinstance(statement, (ast.Assign, ast.Return, *_LEAF_STATEMENTS)):
        return []
    children: list[ast.stmt] = []
    for field in (*_BLOCK_FIELDS, "handlers", "cases"):
        for child in getattr(statement, field, ()) or ():
            if isinstance(child, ast.stmt):
                children.append(child)
            elif isinstance(child, (ast.ExceptHandler, ast.match_case)):
                children.extend(child.body)
    return children
