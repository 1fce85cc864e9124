"""Find the tensors and arrays reachable from a namespace, with the access paths a user would type.

The walk looks into top-level names, items of lists/tuples/dicts (bounded depth and width),
parameters and buffers of ``nn.Module``s by qualified name, optimizer state, and ``.grad``.
Only exact container protocols of the built-in base classes are used (``dict.items(d)``, not
``d.items()``), so user subclasses and hostile ``__getattr__``/properties cannot run code here.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress
from types import ModuleType
from typing import Any

# Names IPython puts in the user namespace for its own bookkeeping.
_IPYTHON_NAME = re.compile(r"^(_+|_i+|_i?\d+|_[ioh]h|_dh|In|Out|exit|quit|get_ipython)$")


def is_ipython_name(name: str) -> bool:
    return bool(_IPYTHON_NAME.match(name))


@dataclass(frozen=True)
class WalkLimits:
    """Bounds that keep one cell's walk cheap; all user-settable."""

    max_depth: int = 3  # `cache["k"][0]` is depth 2; top-level names are depth 0
    max_items: int = 100_000  # items looked at in one container
    probe_items: int = 64  # a container whose first items hold no array/container is skipped
    max_arrays: int = 200_000  # tensors + arrays in one snapshot


# What a tensor is for, from where the walk found it; memory totals are summed per category.
# A tensor found at several places takes the first of these that applies (a parameter also
# bound to a top-level name is a parameter).
CATEGORIES = ("parameters", "buffers", "gradients", "optimizer state", "other")
_CATEGORY_RANK = {c: r for r, c in enumerate(CATEGORIES)}


@dataclass(slots=True)
class Found:
    obj: Any
    names: list[str]


# A list, tuple or dict with at least this many items, all plain ``torch.Tensor``s, is read
# column-wise (``array_meta.torch_columns``) instead of item by item.
BULK_MIN_ITEMS = 32


@dataclass(slots=True)
class BulkFound:
    """The items of one container of plain tensors, found in one piece.

    Their access paths are ``name[i]`` (or ``name[key]``), built only when a node is drawn.
    ``after`` places them in the walk's order: after that many entries of ``found``.
    """

    name: str
    container_id: int
    items: list[Any]
    ids: Sequence[int]
    id_set: set[int]
    keys: list[Any] | None  # dict keys (str/int), None for a list or tuple
    after: int
    extra_names: dict[int, list[str]] = field(default_factory=dict)  # position -> other paths
    category: str = "other"  # of every item (see ``CATEGORIES``)

    def item_name(self, i: int) -> str:
        return item_path(self.name, self.keys, i)


def item_path(name: str, keys: list[Any] | None, i: int) -> str:
    """``name[i]`` for a sequence, ``name['key']`` for a dict with str/int keys."""
    return f"{name}[{i if keys is None else repr(keys[i])}]"


@dataclass
class WalkResult:
    found: dict[int, Found] = field(default_factory=dict)  # id(obj) -> object and its names
    truncated: list[str] = field(default_factory=list)  # where a bound cut the walk short
    bulks: list[BulkFound] = field(default_factory=list)
    # ids of parameters that one module holds at two places (an embedding tied to an output
    # layer, a block used twice): weight tying. One module reached under two names (``enc =
    # model.encoder``) is not tying.
    tied: set[int] = field(default_factory=set)
    # id(obj) -> its category (see ``CATEGORIES``), for objects that are not "other"
    categories: dict[int, str] = field(default_factory=dict)


_SCALAR_KEY_TYPES = (str, int, float, bool, bytes, type(None))


def key_text(key: Any, names_by_id: Mapping[int, Found]) -> str:
    """How a dict key is written in an access path, without calling user ``__repr__`` code."""
    if isinstance(key, _SCALAR_KEY_TYPES) and type(key) in _SCALAR_KEY_TYPES:
        return repr(key)
    if type(key) is tuple and all(type(k) in _SCALAR_KEY_TYPES for k in key):
        return repr(key)
    found = names_by_id.get(id(key))
    if found is not None and found.names:
        return found.names[0]
    return f"<{type(key).__name__}>"


class _Walker:
    def __init__(self, torch: ModuleType | None, np: ModuleType | None, limits: WalkLimits):
        self.torch = torch
        self.np = np
        self.limits = limits
        self.result = WalkResult()
        self.seen_containers: set[int] = set()
        self.kinds: dict[type, str] = {}
        self.bulk_id_sets: list[set[int]] = []  # ids of the tensors of each bulk
        self.bulk_total = 0
        self.tensor_type: type | None = torch.Tensor if torch is not None else None
        self.plain_tensor_ids: Mapping[int, tuple[Any, ...]] = {}
        # id(container) -> the ids of its tensors, for containers checked at the last reading
        self.checked_bulks: Mapping[int, set[int]] = {}

    def kind(self, tp: type) -> str:
        kind = self.kinds.get(tp)
        if kind is None:
            kind = self.kinds[tp] = self._classify(tp)
        return kind

    def _classify(self, tp: type) -> str:
        torch, np = self.torch, self.np
        if torch is not None:
            if issubclass(tp, torch.Tensor):
                return "tensor"
            if issubclass(tp, torch.nn.Module):
                return "module"
            if issubclass(tp, torch.optim.Optimizer):
                return "optimizer"
        if np is not None and issubclass(tp, np.ndarray):
            return "array"
        if issubclass(tp, dict):
            return "dict"
        if issubclass(tp, tuple) and hasattr(tp, "_fields"):
            return "namedtuple"
        if issubclass(tp, (list, tuple)):
            return "sequence"
        return "other"

    def add(self, obj: Any, name: str, category: str = "other") -> bool:
        if category != "other":
            known = self.result.categories.get(id(obj), "other")
            if _CATEGORY_RANK[category] < _CATEGORY_RANK[known]:
                self.result.categories[id(obj)] = category
        found = self.result.found.get(id(obj))
        if found is None:
            if self.bulk_id_sets and any(id(obj) in ids for ids in self.bulk_id_sets):
                self.add_bulk_name(id(obj), name)
                return False
            if len(self.result.found) + self.bulk_total >= self.limits.max_arrays:
                if not self.result.truncated or not self.result.truncated[-1].startswith("more"):
                    self.result.truncated.append(
                        f"more than {self.limits.max_arrays} tensors/arrays: the rest not shown"
                    )
                return False
            self.result.found[id(obj)] = Found(obj, [name])
        elif name not in found.names:
            found.names.append(name)
        return True

    def add_bulk_name(self, obj_id: int, name: str) -> None:
        for bulk in self.result.bulks:
            if obj_id in bulk.id_set:  # rare: one tensor reached by a second path
                i = bulk.ids.index(obj_id)
                names = bulk.extra_names.setdefault(i, [])
                if name not in names and name != bulk.item_name(i):
                    names.append(name)
                return

    def try_bulk(self, obj: Any, name: str, kind: str, category: str = "other") -> bool:
        """Record a big container of plain tensors as one ``BulkFound``; False: walk it."""
        tensor_type = self.tensor_type
        if tensor_type is None or len(obj) < BULK_MIN_ITEMS:
            return False
        # One look at the first item before copying anything: most big containers hold
        # numbers or strings, and those must cost nothing here.
        if kind == "dict":
            first = next(iter(dict.values(obj)), None)
        else:
            first = next(list.__iter__(obj) if isinstance(obj, list) else tuple.__iter__(obj))
        if type(first) is not tensor_type:
            return False
        keys: list[Any] | None = None
        if kind == "dict":
            keys = list(dict.keys(obj))
            if not set(map(type, keys)) <= {str, int}:
                return False
            items = list(dict.values(obj))
        else:
            items = list(list.__iter__(obj) if isinstance(obj, list) else tuple.__iter__(obj))
        limit = self.limits.max_items
        if len(items) > limit:
            return False  # the item walk reports the bound
        known = self.plain_tensor_ids.get(id(obj))
        if known is None and set(map(type, items)) != {tensor_type}:
            return False
        # Nested tensors (no strides) are read the careful way, and so are containers holding
        # a gradient, found one tensor at a time (each named after its tensor, in walk order).
        # Tensors that require grad without holding one (a list of losses, of activations)
        # are read column-wise like any other.
        checked_ids = self.checked_bulks.get(id(obj))
        if checked_ids is None and (
            any(map(_is_nested, items))
            or (any(map(_requires_grad, items)) and _holds_a_gradient(items))
        ):
            return False
        ids: Sequence[int] = known[1] if known is not None else tuple(map(id, items))
        id_set = checked_ids if checked_ids is not None else set(ids)
        if (
            len(id_set) != len(ids)
            or not id_set.isdisjoint(self.result.found)
            or not all(map(id_set.isdisjoint, self.bulk_id_sets))
            or len(self.result.found) + self.bulk_total + len(ids) > self.limits.max_arrays
        ):
            return False  # repeats and bounds: the item walk names them one by one
        self.bulk_id_sets.append(id_set)
        self.bulk_total += len(ids)
        self.result.bulks.append(
            BulkFound(
                name, id(obj), items, ids, id_set, keys, after=len(self.result.found),
                category=category,
            )
        )
        return True

    def visit(self, obj: Any, name: str, depth: int, category: str = "other") -> None:
        kind = self.kind(type(obj))
        if kind == "tensor":
            if self.add(obj, name, category):
                self.visit_grad(obj, name)
            return
        if kind == "array":
            self.add(obj, name, category)
            return
        if kind == "other" or depth >= self.limits.max_depth:
            return
        if id(obj) in self.seen_containers:
            return
        self.seen_containers.add(id(obj))
        if kind in ("dict", "sequence") and self.try_bulk(obj, name, kind, category):
            return
        if kind == "dict":
            found = self.result.found
            self.visit_items(
                dict.items(obj), name, len(obj), depth,
                lambda k: f"{name}[{key_text(k, found)}]", category,
            )
        elif kind == "namedtuple":
            fields = type(obj)._fields
            self.visit_items(
                zip(fields, tuple.__iter__(obj), strict=False), name, len(fields), depth,
                lambda f: f"{name}.{f}", category,
            )
        elif kind == "sequence":
            is_list = isinstance(obj, list)
            iterate: Callable[[Any], Any] = list.__iter__ if is_list else tuple.__iter__
            self.visit_items(
                enumerate(iterate(obj)), name, len(obj), depth, lambda i: f"{name}[{i}]",
                category,
            )
        elif kind == "module":
            self.visit_module(obj, name)
        elif kind == "optimizer":
            self.visit_optimizer(obj, name, depth)

    def visit_items(
        self,
        items: Any,
        name: str,
        size: int,
        depth: int,
        label: Callable[[Any], str],
        category: str = "other",
    ) -> None:
        """Visit ``(key, value)`` pairs; ``label(key)`` (the access path) is built only for
        values worth recording: this loop runs once per item of every walked container."""
        limits = self.limits
        kinds = self.kinds
        interesting = False
        for i, (key, value) in enumerate(items):
            if i >= limits.max_items:
                self.result.truncated.append(
                    f"{name}: only the first {limits.max_items} of {size} items examined"
                )
                return
            if i == limits.probe_items and not interesting:
                return  # plain data (floats, strings, ...): not worth walking a million items
            tp = type(value)
            kind = kinds.get(tp) or self.kind(tp)
            if kind == "other":
                continue
            interesting = True
            if kind == "tensor":
                item_name = label(key)
                if self.add(value, item_name, category):
                    self.visit_grad(value, item_name)
            elif kind == "array":
                self.add(value, label(key), category)
            else:
                self.visit(value, label(key), depth + 1, category)

    def visit_module(self, module: Any, name: str) -> None:
        seen: set[int] = set()
        for qual, p in module.named_parameters(remove_duplicate=False):
            if id(p) in seen:
                self.result.tied.add(id(p))
            seen.add(id(p))
            if self.add(p, f"{name}.{qual}", "parameters"):
                self.visit_grad(p, f"{name}.{qual}")
        for qual, b in module.named_buffers(remove_duplicate=False):
            if b is not None:
                self.add(b, f"{name}.{qual}", "buffers")

    def visit_optimizer(self, optimizer: Any, name: str, depth: int) -> None:
        state = optimizer.state
        if type(state) is not dict and not isinstance(state, dict):
            return
        for param, per_param in dict.items(state):
            if self.kind(type(per_param)) == "dict":
                label = f"{name}.state[{key_text(param, self.result.found)}]"
                self.visit(per_param, label, depth + 1, "optimizer state")

    def visit_grad(self, obj: Any, name: str) -> None:
        grad = leaf_grad(obj)
        if grad is not None:
            self.add(grad, f"{name}.grad", "gradients")


def leaf_grad(t: Any) -> Any:
    """``t.grad``, asked only of a leaf that requires grad: only leaves hold one, and asking a
    non-leaf makes torch warn into the user's cell."""
    return t.grad if t.requires_grad and t.is_leaf else None


_requires_grad = operator.attrgetter("requires_grad")
_is_nested = operator.attrgetter("is_nested")


def _holds_a_gradient(items: list[Any]) -> bool:
    """Does one of these tensors hold a ``.grad``? (Looked for among those requiring grad.)"""
    return any(
        leaf_grad(items[i]) is not None
        for i in compress(range(len(items)), map(_requires_grad, items))
    )


def walk_namespace(
    namespace: Mapping[str, Any],
    torch: ModuleType | None,
    np: ModuleType | None,
    limits: WalkLimits | None = None,
    skip: Callable[[str], bool] = is_ipython_name,
    on_error: Callable[[str, BaseException], None] | None = None,
    plain_tensor_ids: Mapping[int, tuple[Any, ...]] | None = None,
    checked_bulks: Mapping[int, set[int]] | None = None,
) -> WalkResult:
    """Every tensor/array reachable from ``namespace`` (in first-seen order) with its names.

    ``plain_tensor_ids``: id(container) -> (keys, ids, ...) of containers already known to
    hold plain tensors only (the fingerprint's columns), so their items are not typed again.
    ``checked_bulks``: those holding the very tensors of the last reading, unchanged, with the
    set of their ids then: not checked again for gradients and nested tensors
    (``requires_grad_()`` on one of them shows at the container's next change, as in the
    fingerprint).
    """
    walker = _Walker(torch, np, limits or WalkLimits())
    walker.plain_tensor_ids = plain_tensor_ids or {}
    walker.checked_bulks = checked_bulks or {}
    items = dict.items(namespace) if isinstance(namespace, dict) else namespace.items()
    for name, value in list(items):
        if type(name) is not str or skip(name):
            continue
        try:
            walker.visit(value, name, 0)
        except Exception as exc:  # a hostile object: skip it, report once, keep walking
            if on_error is not None:
                on_error(name, exc)
    return walker.result
