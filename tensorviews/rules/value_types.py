"""What the rules know about a value: container kind, dimensions, and scopes that hold it."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field, replace

from tensorviews.rules.library_tables import COMMON_NUMPY_NAMES, COMMON_TORCH_NAMES
from tensorviews.rules.model import ContainerKind

ARRAY_KINDS: frozenset[str] = frozenset({"torch", "numpy", "array"})
_BUILTIN_NAMES = frozenset(dir(builtins))


@dataclass(frozen=True)
class ValueType:
    """The statically known facts about one value.

    ``ndim`` is None when unknown (0 for scalars); ``is_mask`` marks comparison results, which
    select (advanced indexing, a copy) when used as an index; ``qualname`` names the module or
    function a name refers to (``numpy``, ``torch.zeros``), or the class of an object whose
    methods return arrays (``numpy.random.Generator``); ``returns`` is what a local function
    returns; ``elements`` are the items of a tuple literal (an index tuple such as
    ``(np.arange(n), labels)`` selects, a copy); ``is_record`` marks a numpy structured array
    (or its dtype), whose elements are ``np.void`` views, not scalars.
    """

    kind: ContainerKind = "unknown"
    ndim: int | None = None
    is_mask: bool = False
    qualname: str | None = None
    returns: ValueType | None = None
    elements: tuple[ValueType, ...] | None = None
    is_record: bool = False

    @property
    def is_array(self) -> bool:
        return self.kind in ARRAY_KINDS

    def with_ndim(self, ndim: int | None) -> ValueType:
        return replace(self, ndim=ndim)


UNKNOWN = ValueType()
SCALAR = ValueType("other", ndim=0)
OTHER = ValueType("other")
LIST = ValueType("list")


def join(first: ValueType, second: ValueType) -> ValueType:
    """The type of a value that is one of the two (e.g. branches of ``a if c else b``)."""
    if first == second:
        return first
    if first.kind == second.kind:
        return ValueType(first.kind, first.ndim if first.ndim == second.ndim else None)
    if first.is_array and second.is_array:
        return ValueType("array")
    return UNKNOWN


@dataclass
class Scope:
    """Names (and dotted paths like ``self.buf``) bound in a module, function or class.

    Lookups fall back to ``parent`` (Python's late binding of globals makes a live parent the
    right model). ``self_name`` and ``class_attrs`` let methods see ``self.x`` assigned anywhere
    in their class.
    """

    parent: Scope | None = None
    bindings: dict[str, ValueType] = field(default_factory=dict)
    self_name: str | None = None
    class_attrs: dict[str, ValueType] | None = None
    star_modules: list[str] = field(default_factory=list)
    libraries: set[str] = field(default_factory=set)
    dotted: dict[str, set[str]] = field(default_factory=dict)  # name -> its bound x.attr paths

    def lookup(self, path: str) -> ValueType | None:
        scope: Scope | None = self
        while scope is not None:
            found = scope.bindings.get(path)
            if found is not None:
                return found
            if scope.self_name and scope.class_attrs is not None:
                prefix = scope.self_name + "."
                if path.startswith(prefix):
                    attr = scope.class_attrs.get(path[len(prefix) :])
                    if attr is not None:
                        return attr
            scope = scope.parent
        return None

    def bind(self, path: str, value: ValueType) -> None:
        self.bindings[path] = value
        root, dot, _ = path.partition(".")
        if dot:
            self.dotted.setdefault(root, set()).add(path)
            return
        # Rebinding a name invalidates what we knew about its attributes (x.buf, ...).
        for key in self.dotted.pop(root, ()):
            self.bindings.pop(key, None)

    def root(self) -> Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def star_module_for(self, name: str) -> str | None:
        """The star-imported module a free name most likely comes from."""
        stars = self.root().star_modules
        if not stars or name in _BUILTIN_NAMES:
            return None
        if len(stars) == 1:
            return stars[0]
        for module in reversed(stars):
            if module == "numpy" and name in COMMON_NUMPY_NAMES:
                return module
            if module == "torch" and name in COMMON_TORCH_NAMES:
                return module
        return None

    def is_builtin(self, name: str) -> bool:
        return name in _BUILTIN_NAMES and self.lookup(name) is None
