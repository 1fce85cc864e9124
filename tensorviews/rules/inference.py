"""Infer the container kind (and dimensions) of expressions from local evidence.

Evidence: imports and their aliases, torch/numpy constructors and functions, methods of known
arrays, annotations, list/dict literals and builtins. Anything else is ``unknown``.
"""

from __future__ import annotations

import ast
import functools
from typing import Literal

from tensorviews.rules import library_tables as lib
from tensorviews.rules.value_types import (
    LIST,
    OTHER,
    SCALAR,
    UNKNOWN,
    Scope,
    ValueType,
    join,
)


def qualname_of(expr: ast.expr, scope: Scope) -> str | None:
    """``np.linalg.norm`` -> ``numpy.linalg.norm`` when the base is an imported module/name."""
    if isinstance(expr, ast.Name):
        found = scope.lookup(expr.id)
        if found is not None:
            return found.qualname
        module = scope.star_module_for(expr.id)
        return f"{module}.{expr.id}" if module else None
    if isinstance(expr, ast.Attribute):
        base = qualname_of(expr.value, scope)
        return f"{base}.{expr.attr}" if base else None
    return None


def library_of(qualname: str) -> tuple[str, str, str] | None:
    """Split ``numpy.random.rand`` into (library kind, module, function) for array modules."""
    module, _, function = qualname.rpartition(".")
    kind = lib.ARRAY_MODULES.get(module)
    return (kind, module, function) if kind else None


def expr_path(expr: ast.expr) -> str | None:
    """``self.buf`` -> "self.buf"; None for anything that is not a dotted name."""
    parts: list[str] = []
    node: ast.expr = expr
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def infer(expr: ast.expr, scope: Scope) -> ValueType:
    """The statically known type of ``expr`` in ``scope``."""
    if isinstance(expr, ast.Name):
        found = scope.lookup(expr.id)
        if found is not None:
            return found
        if scope.is_builtin(expr.id):
            return OTHER
        module = scope.star_module_for(expr.id)
        return ValueType("other", qualname=f"{module}.{expr.id}") if module else UNKNOWN
    if isinstance(expr, ast.Call):
        return _infer_call(expr, scope)
    if isinstance(expr, ast.Attribute):
        return _infer_attribute(expr, scope)
    if isinstance(expr, ast.Subscript):
        return _infer_subscript(expr, scope)
    if isinstance(expr, ast.BinOp):
        return _infer_binop(infer(expr.left, scope), infer(expr.right, scope), expr.op)
    if isinstance(expr, ast.Compare):
        sides = [infer(expr.left, scope), *(infer(c, scope) for c in expr.comparators)]
        arrays = [side for side in sides if side.is_array]
        if arrays:
            return ValueType(arrays[0].kind, arrays[0].ndim, is_mask=True)
        return ValueType("unknown", is_mask=True)
    if isinstance(expr, ast.UnaryOp):
        if isinstance(expr.op, ast.Not):
            return SCALAR
        return infer(expr.operand, scope)
    if isinstance(expr, ast.IfExp):
        return join(infer(expr.body, scope), infer(expr.orelse, scope))
    if isinstance(expr, ast.NamedExpr):
        return infer(expr.value, scope)
    if isinstance(expr, ast.Constant):
        return SCALAR if isinstance(expr.value, (int, float, complex)) else OTHER
    if isinstance(expr, (ast.List, ast.ListComp)):
        return LIST
    if isinstance(expr, ast.Tuple) and 0 < len(expr.elts) <= _TUPLE_ITEMS_KEPT:
        return ValueType("other", elements=tuple(infer(item, scope) for item in expr.elts))
    if isinstance(
        expr,
        (ast.Tuple, ast.Dict, ast.Set, ast.DictComp, ast.SetComp, ast.GeneratorExp, ast.Lambda),
    ):
        return OTHER
    if isinstance(expr, ast.JoinedStr):
        return OTHER
    return UNKNOWN


_TUPLE_ITEMS_KEPT = 8  # longer tuple literals are data, never an index tuple

IndexKind = Literal["int", "advanced", "maybe_advanced"]


def index_kind(item: ValueType) -> IndexKind:
    """How a value of type ``item`` indexes one axis: a basic integer, or advanced indexing
    (a list, a mask, an array of rank >= 1, a tuple holding such: a copy), or unsure (an array
    of unknown rank: a 0-d integer array indexes like an integer)."""
    if item.kind == "list" or item.is_mask or (item.ndim or 0) > 0:
        return "advanced"
    if item.is_array and item.ndim is None:
        return "maybe_advanced"
    if item.elements is not None:
        kinds = {index_kind(element) for element in item.elements}
        if "advanced" in kinds:
            return "advanced"
        if "maybe_advanced" in kinds:
            return "maybe_advanced"
    return "int"


def _infer_binop(left: ValueType, right: ValueType, op: ast.operator) -> ValueType:
    if left.is_array or right.is_array:
        arrays = [side for side in (left, right) if side.is_array]
        kind = "torch" if any(a.kind == "torch" for a in arrays) else arrays[0].kind
        ndims = [side.ndim for side in (left, right) if side.is_array or side.ndim != 0]
        ndim = max(ndims) if ndims and None not in ndims else None  # type: ignore[type-var]
        is_mask = isinstance(op, (ast.BitAnd, ast.BitOr, ast.BitXor)) and (
            left.is_mask or right.is_mask
        )
        return ValueType(kind, ndim, is_mask=is_mask)
    if left.kind == "list" and (right.kind == "list" or isinstance(op, ast.Mult)):
        return LIST
    if left.ndim == 0 and right.ndim == 0:
        return SCALAR
    return UNKNOWN


def _shape_ndim(arg: ast.expr, scope: Scope) -> int | None:
    """Dimensions of a shape argument: ``(3, 4)`` -> 2, ``n + 1`` -> 1."""
    if isinstance(arg, (ast.Tuple, ast.List)):
        return len(arg.elts)
    if isinstance(arg, ast.Constant) and isinstance(arg.value, int):
        return 1
    if isinstance(arg, ast.BinOp) and isinstance(arg.op, (ast.Add, ast.Sub, ast.Mult)):
        # ``n + 1``: arithmetic with an integer constant is a count, unless the other side
        # is known to be an array (``np.zeros(shape + 1)`` with an array of sizes).
        sides = (arg.left, arg.right)
        if any(isinstance(s, ast.Constant) and type(s.value) is int for s in sides) and not any(
            infer(s, scope).is_array for s in sides
        ):
            return 1
    if infer(arg, scope).ndim == 0:
        return 1
    return None


def literal_depth(expr: ast.expr) -> int | None:
    """Nesting depth of a list/tuple literal (``[[1, 2], [3, 4]]`` -> 2)."""
    depth = 0
    node = expr
    while isinstance(node, (ast.List, ast.Tuple)):
        depth += 1
        if not node.elts:
            return depth
        node = node.elts[0]
    if isinstance(node, (ast.ListComp,)):
        return None
    return depth if depth else None


# numpy's random functions (and Generator methods): where the ``size`` argument sits; without
# a size they return one scalar.
_RANDOM_SIZE_POSITION: dict[str, int] = {
    "random": 0,
    "random_sample": 0,
    "standard_normal": 0,
    "standard_exponential": 0,
    "choice": 1,
    "randint": 2,
    "integers": 2,
    "uniform": 2,
    "normal": 2,
}


def _array_call(kind: str, function: str, call: ast.Call, scope: Scope) -> ValueType:
    args = call.args
    keywords = {k.arg for k in call.keywords if k.arg}
    name = function.rsplit(".", 1)[-1]
    ndim: int | None = None
    if name in lib.SHAPE_CONSTRUCTORS and args:
        ndim = _shape_ndim(args[0], scope)
    elif name in ("rand", "randn") and kind == "numpy":
        ndim = len(args)
    elif name in ("rand", "randn", "randint") and kind == "torch" and args:
        ndim = len(args) if name != "randint" else _shape_ndim(args[-1], scope)
    elif name in lib.ONE_DIMENSIONAL:
        ndim = 1
    elif name == "permutation" and kind == "numpy" and args:
        ndim = infer(args[0], scope).ndim  # a shuffled copy of an array, or of range(n)
        ndim = 1 if ndim == 0 else ndim
    elif name in lib.TWO_DIMENSIONAL:
        ndim = 2
    elif name in ("reshape",) and len(args) >= 2:
        ndim = _shape_ndim(args[1], scope) if len(args) == 2 else len(args) - 1
    elif name in lib.SCALAR_REDUCTIONS and len(args) <= 1 and not keywords & {"axis", "dim"}:
        ndim = 0
    elif name in _RANDOM_SIZE_POSITION and kind == "numpy":
        position = _RANDOM_SIZE_POSITION[name]
        size = next((k.value for k in call.keywords if k.arg == "size"), None)
        if size is None and len(args) > position:
            size = args[position]
        ndim = 0 if size is None else _shape_ndim(size, scope)
    elif name in lib.SAME_NDIM_AS_ARG and args:
        ndim = literal_depth(args[0]) or infer(args[0], scope).ndim
        if name == "transpose" and ndim is None and isinstance(args[0], ast.Call):
            # np.transpose(np.where(mask)) stacks the index arrays into a 2-D array.
            inner = qualname_of(args[0].func, scope) or ""
            ndim = 2 if inner.endswith((".where", ".nonzero")) else None
    record = kind == "numpy" and (
        name in lib.RECORD_FUNCTIONS
        or any(k.arg == "dtype" and is_structured_dtype(k.value, scope) for k in call.keywords)
        or (name in lib.SAME_NDIM_AS_ARG and bool(args) and infer(args[0], scope).is_record)
    )
    return ValueType(kind, ndim, is_record=record)  # type: ignore[arg-type]


def is_structured_dtype(expr: ast.expr, scope: Scope) -> bool:
    """``[("a", "f8"), ("b", "i4")]``, ``{"names": ..., "formats": ...}``, ``np.dtype([...])``
    or a name bound to one of these: a dtype whose elements are records."""
    if isinstance(expr, ast.List):
        return bool(expr.elts) and isinstance(expr.elts[0], ast.Tuple)
    if isinstance(expr, ast.Dict):
        return any(isinstance(key, ast.Constant) and key.value == "names" for key in expr.keys)
    return infer(expr, scope).is_record


def _infer_call(call: ast.Call, scope: Scope) -> ValueType:
    func = call.func
    qualname = qualname_of(func, scope)
    if qualname is not None:
        library = library_of(qualname)
        if library is not None:
            kind, _module, function = library
            if kind == "numpy" and function in lib.GENERATOR_FACTORIES:
                return ValueType("other", qualname=lib.NUMPY_GENERATOR)
            if (
                (function == "where" or (function == "nonzero" and kind == "numpy"))
                and len(call.args) == 1
                and not call.keywords
            ):
                return _index_arrays(kind, infer(call.args[0], scope))
            if kind == "numpy" and function == "dtype":
                record = bool(call.args) and is_structured_dtype(call.args[0], scope)
                return ValueType("other", is_record=record)
            excluded = lib.TORCH_NON_TENSOR if kind == "torch" else lib.NUMPY_NON_ARRAY
            if function in excluded or (function[:1].isupper() and kind == "torch"):
                return OTHER
            return _array_call(kind, function, call, scope)
        owner, _, method = qualname.rpartition(".")
        if owner == lib.NUMPY_GENERATOR:
            return _generator_call(method, call, scope)
        top = qualname.split(".", 1)[0]
        if top in lib.NON_ARRAY_LIBRARIES:
            return OTHER
        if qualname.startswith("torch.nn.") or qualname.startswith("torch.optim."):
            return OTHER
        return UNKNOWN
    if isinstance(func, ast.Name):
        local = scope.lookup(func.id)
        if local is not None:
            return local.returns or UNKNOWN
        if scope.is_builtin(func.id):
            return _builtin_call(func.id, call, scope)
        return UNKNOWN
    if isinstance(func, ast.Attribute):
        return _method_call(func, call, scope)
    return UNKNOWN


def _builtin_call(name: str, call: ast.Call, scope: Scope) -> ValueType:
    if name in lib.BUILTIN_LIST_CALLS:
        return LIST
    if name in lib.BUILTIN_SCALAR_CALLS:
        return SCALAR
    if name in lib.BUILTIN_OTHER_CALLS:
        return OTHER
    if name == "abs" and call.args:
        return infer(call.args[0], scope)
    return UNKNOWN


def _index_arrays(kind: str, condition: ValueType) -> ValueType:
    """``np.where(c)``, ``np.nonzero(c)``, ``torch.where(c)``: a tuple of one 1-D index
    array per dimension of ``c`` (its length is known only with ``c``'s rank)."""
    if condition.ndim is None or condition.ndim > _TUPLE_ITEMS_KEPT:
        return OTHER
    item = ValueType(kind, 1)  # type: ignore[arg-type]
    return ValueType("other", elements=(item,) * max(condition.ndim, 1))


def _generator_call(method: str, call: ast.Call, scope: Scope) -> ValueType:
    """``rng.integers(...)`` of a numpy random generator: an array (or a scalar)."""
    if method in lib.GENERATOR_ARRAY_METHODS:
        return _array_call("numpy", method, call, scope)
    return OTHER


def _method_call(func: ast.Attribute, call: ast.Call, scope: Scope) -> ValueType:
    receiver = infer(func.value, scope)
    method = func.attr
    if receiver.qualname == lib.NUMPY_GENERATOR:
        return _generator_call(method, call, scope)
    if receiver.kind == "list":
        return LIST if method == "copy" else UNKNOWN
    if method == "tolist":
        return LIST
    if method == "item":
        return SCALAR
    if not receiver.is_array:
        if receiver.kind == "unknown":
            if method in lib.TORCH_ONLY_METHODS:
                return ValueType("torch")
            if method in lib.NUMPY_ONLY_METHODS:
                return ValueType("numpy")
            if method == "copy":
                return receiver
        return UNKNOWN if receiver.kind == "unknown" else OTHER
    if method in lib.NON_ARRAY_METHODS:
        return OTHER
    if method == "numpy":
        return ValueType("numpy", receiver.ndim)
    ndim = receiver.ndim
    if method in ("reshape", "view") and call.args:
        ndim = _shape_ndim(call.args[0], scope) if len(call.args) == 1 else len(call.args)
        if (
            method == "view"
            and len(call.args) == 1
            and not isinstance(call.args[0], (ast.Tuple, ast.List, ast.Constant))
        ):
            ndim = None  # x.view(dtype) keeps the shape, x.view(n) is 1-D: unsure
    elif method in ("ravel", "flatten"):
        ndim = 1
    elif method in ("squeeze", "unsqueeze", "expand", "repeat", "permute", "diagonal"):
        ndim = None
    elif method in lib.SCALAR_REDUCTIONS and not call.args and not call.keywords:
        ndim = 0
    elif method in lib.SCALAR_REDUCTIONS:
        ndim = None
    record = receiver.is_record and method not in lib.SCALAR_REDUCTIONS
    if method == "astype" and call.args:
        record = is_structured_dtype(call.args[0], scope)
    return ValueType(receiver.kind, ndim, is_record=record)


def _infer_attribute(expr: ast.Attribute, scope: Scope) -> ValueType:
    path = expr_path(expr)
    if path is not None:
        found = scope.lookup(path)
        if found is not None:
            return found
    qualname = qualname_of(expr, scope)
    if qualname is not None:
        return ValueType("other", qualname=qualname)
    base = infer(expr.value, scope)
    if base.is_array:
        if expr.attr in lib.NON_ARRAY_ATTRIBUTES:
            return ValueType("other", ndim=0 if expr.attr in ("ndim", "itemsize") else None)
        if expr.attr in lib.ALIAS_ATTRIBUTES:
            return base
    return UNKNOWN


def _selected_ndim(ndim: int, index: ValueType) -> int | None:
    """The rank of ``x[index]`` for an ``ndim``-D ``x`` and one advanced ``index``."""
    if index.is_mask:
        return ndim - index.ndim + 1 if index.ndim is not None and index.ndim <= ndim else None
    if index.elements is not None:
        ranks = {element.ndim for element in index.elements}
        if len(ranks) == 1 and None not in ranks and len(index.elements) <= ndim:
            (rank,) = ranks
            return ndim - len(index.elements) + rank  # type: ignore[operator]
        return None
    if index.is_array and index.ndim is not None:
        return ndim - 1 + index.ndim
    return None


def _infer_subscript(expr: ast.Subscript, scope: Scope) -> ValueType:
    base = infer(expr.value, scope)
    if not base.is_array:
        if isinstance(expr.value, ast.Attribute) and expr.value.attr == "shape":
            return SCALAR
        position = expr.slice.value if isinstance(expr.slice, ast.Constant) else None
        if (
            base.elements is not None
            and type(position) is int
            and -len(base.elements) <= position < len(base.elements)
        ):
            return base.elements[position]  # np.where(c)[0], (a, b)[1]
        return UNKNOWN
    items = expr.slice.elts if isinstance(expr.slice, ast.Tuple) else [expr.slice]
    if len(items) == 1 and base.ndim is not None:
        # x[idx] with one advanced index of known rank: the result's rank is known too.
        index = infer(items[0], scope)
        if index_kind(index) == "advanced":
            selected = _selected_ndim(base.ndim, index)
            if selected is not None:
                return ValueType(base.kind, selected, is_record=base.is_record)
    if any(isinstance(item, ast.Constant) and isinstance(item.value, str) for item in items):
        return ValueType(base.kind)  # a field of a structured array: a plain array
    record = base.is_record
    if base.ndim is None:
        return ValueType(base.kind, is_record=record)
    ndim = base.ndim
    for item in items:
        if isinstance(item, ast.Slice) or (
            isinstance(item, ast.Constant) and item.value is Ellipsis
        ):
            continue
        if isinstance(item, ast.Constant) and item.value is None:
            ndim += 1
            continue
        if index_kind(infer(item, scope)) != "int":
            # advanced (or maybe advanced) indexing: the shape depends on the index
            return ValueType(base.kind, is_record=record)
        ndim -= 1
    if ndim < 0:
        # More integer-like indices than dimensions: some index taken for an integer was an
        # index array (ruler[indices][loc] on a 1-D ruler), so the rank is not known.
        return ValueType(base.kind, is_record=record)
    return ValueType(base.kind, ndim, is_record=record)


def annotation_type(annotation: ast.expr | None, scope: Scope) -> ValueType | None:
    """The container kind an annotation states (``torch.Tensor``, ``list[int]``...)."""
    if annotation is None:
        return None
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        parsed = _parsed_annotation(annotation.value)
        return None if parsed is None else annotation_type(parsed, scope)
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        sides = [annotation_type(annotation.left, scope), annotation_type(annotation.right, scope)]
        known = [side for side in sides if side is not None and side.qualname != "None"]
        return known[0] if len(known) == 1 else None
    if isinstance(annotation, ast.Constant) and annotation.value is None:
        return ValueType("other", qualname="None")
    if isinstance(annotation, ast.Subscript):
        outer = qualname_of(annotation.value, scope) or _builtin_name(annotation.value, scope)
        if outer in ("typing.Optional",):
            return annotation_type(annotation.slice, scope)
        if outer in ("numpy.typing.NDArray",):
            return ValueType("numpy")
        return _named_annotation(outer)
    name = qualname_of(annotation, scope) or _builtin_name(annotation, scope)
    return _named_annotation(name)


@functools.lru_cache(maxsize=512)
def _parsed_annotation(text: str) -> ast.expr | None:
    """A string annotation's expression (cached: the same few strings recur in a codebase;
    the nodes are only read, never changed)."""
    try:
        return ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _builtin_name(expr: ast.expr, scope: Scope) -> str | None:
    if isinstance(expr, ast.Name) and scope.is_builtin(expr.id):
        return expr.id
    return None


def _named_annotation(name: str | None) -> ValueType | None:
    if name is None:
        return None
    if name in ("list", "typing.List", "typing.MutableSequence"):
        return LIST
    if name in ("dict", "tuple", "set", "str", "int", "float", "bool", "bytes", "frozenset"):
        return SCALAR if name in ("int", "float", "bool") else OTHER
    if name.startswith("typing.") and name.split(".")[1] in ("Dict", "Tuple", "Set"):
        return OTHER
    if name in ("numpy.ndarray", "numpy.matrix", "numpy.typing.NDArray", "numpy.ma.MaskedArray"):
        return ValueType("numpy")
    if name == "torch.Tensor" or (name.startswith("torch.") and name.endswith("Tensor")):
        return ValueType("torch")
    if name in ("torch.nn.Parameter", "torch.nn.parameter.Parameter"):
        return ValueType("torch")
    return None
