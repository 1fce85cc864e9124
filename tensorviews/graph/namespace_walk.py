"""Find the tensors and arrays reachable from a namespace, with the access paths a user would type.

The walk looks into top-level names, items of lists/tuples/dicts (bounded depth and width),
parameters and buffers of ``nn.Module``s by qualified name, optimizer state, and ``.grad``.
Only exact container protocols of the built-in base classes are used (``dict.items(d)``, not
``d.items()``, ``list.__len__(x)``, ``type(x)`` and the ``__mro__`` of a class, never ``isinstance``
or ``len``), modules through ``nn.Module``'s own dicts (``_parameters``, ``_buffers``, ``_modules``)
rather than its overridable methods, so user subclasses, ``__class__`` properties, metaclass
``__getattr__`` and module overrides cannot run code here. (Tensor attributes are read with torch
function dispatch disabled: see ``Snapshotter.snapshot``.)

Names are text that can be JSON-encoded and drawn: a lone surrogate is escaped
(``backslashreplace``), a key of the namespace that is not a string is shown as an access path
(``globals()[1]``), and one object reached under many paths keeps its first ``MAX_NAMES`` names
and a count of the others ("… and 99,996 more names"), recorded here so that every face shows
the same.
"""

from __future__ import annotations

import operator
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import compress, repeat
from types import ModuleType
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from tensorviews.graph.distributed import fsdp_tensors, inner_tensors
from tensorviews.graph.object_ids import id_column, packed_ids


@dataclass(frozen=True, slots=True)
class BulkCheck:
    """What must be equal for a container of plain tensors to count as unchanged."""

    keys: tuple[Any, ...] | None  # a dict's keys; None for a list or tuple
    ids: bytes  # of the tensors, packed (``object_ids.packed_ids``): compared in one memcmp
    versions: tuple[Any, ...]  # ``change_token`` of each tensor


# Names IPython puts in the user namespace for its own bookkeeping.
_IPYTHON_NAME = re.compile(r"^(_+|_i+|_i?\d+|_[ioh]h|_dh|In|Out|exit|quit|get_ipython)$")


def is_ipython_name(name: str) -> bool:
    return type(name) is str and bool(_IPYTHON_NAME.match(name))


class NameFilter:
    """The keys of a namespace that are walked, in order. ``skip`` is asked once per new name
    (IPython adds ``_i42`` every cell); the rest is C-level list work: the same keys as last
    time, or the same followed by new ones (a dict keeps insertion order), are compared, not
    classified again, so ten thousand unchanged names cost a few passes in C."""

    def __init__(self) -> None:
        self._skip: Callable[[str], bool] | None = None
        self._keys: list[Any] = []
        self._keep: list[bool] = []  # per key: walked?
        self._kept: list[Any] = []

    def kept(
        self, namespace: dict[Any, Any], skip: Callable[[str], bool]
    ) -> tuple[list[Any], list[Any]]:
        """The walked names and their values, in the namespace's order."""
        keys = list(dict.keys(namespace))
        known = len(self._keys)
        try:  # the same key objects compare by identity; another key's ``__eq__`` may raise
            same = keys[:known] == self._keys
        except Exception:
            same = False
        if skip is not self._skip or len(keys) < known or not same:
            # Another rule, or names removed (all of them, maybe: nothing kept then).
            self._skip, known, self._keep, self._kept = skip, 0, [], []
        if known < len(keys):
            self._keep.extend(
                [type(key) is not str or not skip(key) for key in keys[known:]]
            )
            self._kept = list(compress(keys, self._keep))
        self._keys = keys
        return self._kept, list(compress(dict.values(namespace), self._keep))


# Names kept per object; the others are counted. Kept small: every name goes into tooltips,
# the live file and the drawing's labels.
MAX_NAMES = 4


def more_names_text(count: int) -> str:
    return f"… and {count:,} more name{'s' if count != 1 else ''}"


def printable_name(name: str) -> str:
    """``name`` as text that encodes as UTF-8: lone surrogates become ``\\udcff``."""
    if name.isascii():
        return name
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return name.encode("utf-8", "backslashreplace").decode("utf-8")
    return name


@dataclass(slots=True)
class Names:
    """The access paths of one object in walk order: the first ``MAX_NAMES``, then a count."""

    first: list[str]
    more: int = 0

    def add(self, name: str) -> None:
        if len(self.first) < MAX_NAMES:
            if name not in self.first:  # at most MAX_NAMES compared: never quadratic
                self.first.append(printable_name(name))
        else:
            self.more += 1

    def shown(self) -> tuple[str, ...]:
        if not self.more:
            return tuple(self.first)
        return (*self.first, more_names_text(self.more))


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


def first_category(a: str, b: str) -> str:
    """Of two categories of one object, the one that applies (the first in ``CATEGORIES``)."""
    return b if _CATEGORY_RANK[b] < _CATEGORY_RANK[a] else a


@dataclass(slots=True)
class Found:
    obj: Any
    names: Names
    holds_grad: bool = False  # its .grad was found: each further name names the grad too


# A list, tuple or dict with at least this many items, all plain ``torch.Tensor``s, is read
# column-wise (``array_meta.torch_columns``) instead of item by item.
BULK_MIN_ITEMS = 32


@dataclass(slots=True)
class BulkFound:
    """The items of one container of plain tensors, found in one piece; or a run of
    consecutive top-level names holding plain tensors (``top_level``).

    Their access paths are ``name[i]`` (or ``name[key]``; for top-level names, the key
    itself), built only when a node is drawn. ``after`` places them in the walk's order: after
    that many entries of ``found``.
    """

    name: str
    container_id: int
    items: list[Any]
    ids: npt.NDArray[np.int64]
    id_set: set[int]
    keys: list[Any] | None  # dict keys (str/int), None for a list or tuple
    after: int
    # position -> every path of that item (its own first), for items reached a second way
    extra_names: dict[int, Names] = field(default_factory=dict)
    _positions: dict[int, int] | None = None
    category: str = "other"  # of every item (see ``CATEGORIES``)
    # ``requires_grad`` of each item, as the walk read it (None: not read, the container's
    # tensors are those checked at the last reading)
    requires_grad: list[bool] | None = None
    top_level: bool = False  # the keys are top-level names (``name`` is empty)

    def item_name(self, i: int) -> str:
        return item_path(self.name, self.keys, i, self.top_level)

    def position(self, obj_id: int) -> int:
        if self._positions is None:  # built once, at the first second path: never quadratic
            self._positions = dict(zip(self.ids.tolist(), range(len(self.ids)), strict=True))
        return self._positions[obj_id]


def item_path(name: str, keys: list[Any] | None, i: int, top_level: bool = False) -> str:
    """``name[i]`` for a sequence, ``name['key']`` for a dict with str/int keys; the key
    itself for a run of top-level names."""
    if top_level:
        assert keys is not None
        return printable_name(keys[i])
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

    def note_category(self, obj_id: int, category: str) -> None:
        """The object was found as ``category`` too: the first in ``CATEGORIES`` wins."""
        if category != "other":
            known = self.categories.get(obj_id, "other")
            if first_category(known, category) != known:
                self.categories[obj_id] = category


_SCALAR_KEY_TYPES = (str, int, float, bool, bytes, type(None))


def key_text(key: Any, names_by_id: Mapping[int, Found]) -> str:
    """How a dict key is written in an access path, without calling user ``__repr__`` code."""
    if type(key) in _SCALAR_KEY_TYPES:
        return repr(key)
    if type(key) is tuple and all(type(k) in _SCALAR_KEY_TYPES for k in key):
        return repr(key)
    found = names_by_id.get(id(key))
    if found is not None and found.names.first:
        return found.names.first[0]
    return f"<{type(key).__name__}>"


def _class_attribute(tp: type, attr: str) -> Any:
    """``attr`` as defined on class ``tp`` or its bases, found in their own dicts: no
    metaclass ``__getattr__`` or property runs. None when absent."""
    for klass in _MRO(tp):
        value = _CLASS_DICT(klass).get(attr)
        if value is not None:
            return value
    return None


_MRO = type.__dict__["__mro__"].__get__
_CLASS_DICT = type.__dict__["__dict__"].__get__
_INSTANCE_DICT = object.__getattribute__


def instance_dict(obj: Any) -> dict[str, Any]:
    """The object's own attribute dict (an empty one if it has none or it is odd)."""
    try:
        d = _INSTANCE_DICT(obj, "__dict__")
    except AttributeError:
        return {}
    return d if type(d) is dict else {}


def jagged_type() -> type | None:
    """torch's jagged-layout nested tensor class, if torch loaded it."""
    module = sys.modules.get("torch.nested._internal.nested_tensor")
    tp = getattr(module, "NestedTensor", None) if module is not None else None
    return tp if isinstance(tp, type) else None


# A jagged nested tensor is drawn as the buffers that hold it, under the names that return them.
_JAGGED_BUFFERS = (("_values", "values()"), ("_offsets", "offsets()"), ("_lengths", "lengths()"))


def sequence_length(obj: Any) -> int:
    """``len`` of a list or tuple (subclasses too) without its ``__len__`` override."""
    return list.__len__(obj) if issubclass(type(obj), list) else tuple.__len__(obj)


def iterate_sequence(obj: Any) -> Any:
    return list.__iter__(obj) if issubclass(type(obj), list) else tuple.__iter__(obj)


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
        self.plain_tensor_ids: Mapping[int, BulkCheck] = {}
        # id(container) -> the ids of its tensors, for containers checked at the last reading
        self.checked_bulks: Mapping[int, set[int]] = {}
        self.optimizers: list[tuple[Any, str, int]] = []
        self.on_error: Callable[[str, BaseException], None] | None = None

    def kind(self, tp: type) -> str:
        kind = self.kinds.get(tp)
        if kind is None:
            kind = self.kinds[tp] = self._classify(tp)
        return kind

    def _classify(self, tp: type) -> str:
        torch, np = self.torch, self.np
        if torch is not None:
            if issubclass(tp, torch.Tensor):
                return "jagged" if tp is jagged_type() else "tensor"
            if issubclass(tp, torch.nn.Module):
                return "module"
            if issubclass(tp, torch.optim.Optimizer):
                return "optimizer"
        if np is not None and issubclass(tp, np.ndarray):
            return "array"
        if issubclass(tp, dict):
            return "dict"
        if issubclass(tp, tuple) and _namedtuple_fields(tp) is not None:
            return "namedtuple"
        if issubclass(tp, (list, tuple)):
            return "sequence"
        return "other"

    def add(self, obj: Any, name: str, category: str = "other") -> bool:
        self.result.note_category(id(obj), category)
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
            self.result.found[id(obj)] = Found(obj, Names([printable_name(name)]))
        else:
            found.names.add(name)
        return True

    def add_bulk_name(self, obj_id: int, name: str) -> None:
        for bulk in self.result.bulks:
            if obj_id in bulk.id_set:  # rare: one tensor reached by a second path
                i = bulk.position(obj_id)
                names = bulk.extra_names.get(i)
                if names is None:
                    names = bulk.extra_names[i] = Names([bulk.item_name(i)])
                names.add(name)
                return

    def try_bulk(self, obj: Any, name: str, kind: str, category: str = "other") -> bool:
        """Record a big container of plain tensors as one ``BulkFound``; False: walk it."""
        tensor_type = self.tensor_type
        size = dict.__len__(obj) if kind == "dict" else sequence_length(obj)
        if tensor_type is None or size < BULK_MIN_ITEMS:
            return False
        # One look at the first item before copying anything: most big containers hold
        # numbers or strings, and those must cost nothing here.
        if kind == "dict":
            first = next(iter(dict.values(obj)), None)
        else:
            first = next(iterate_sequence(obj))
        if type(first) is not tensor_type:
            return False
        keys: list[Any] | None = None
        if kind == "dict":
            keys = list(dict.keys(obj))
            if not set(map(type, keys)) <= {str, int}:
                return False
            items = list(dict.values(obj))
        else:
            items = list(iterate_sequence(obj))
        limit = self.limits.max_items
        if len(items) > limit:
            return False  # the item walk reports the bound
        known = self.plain_tensor_ids.get(id(obj))
        if known is None and set(map(type, items)) != {tensor_type}:
            return False
        # Containers holding a gradient are found one tensor at a time (each named after its
        # tensor, in walk order, its gradient after it). Tensors that require grad without
        # holding one (a list of losses, of activations) are read column-wise like any other.
        # Nested tensors (no strides) and inference tensors (no version counter) are refused
        # by the column reader, which then reads the container one by one: looking for them
        # here would cost two reads of every tensor of every new container.
        checked_ids = self.checked_bulks.get(id(obj))
        requires_grad: list[bool] | None = None
        if checked_ids is None:
            requires_grad = list(map(_requires_grad, items))
            if True in requires_grad and _holds_a_gradient(items, requires_grad):
                return False
        ids = id_column(known.ids if known is not None else packed_ids(items))
        id_set = checked_ids if checked_ids is not None else set(ids.tolist())
        if (
            len(id_set) != len(ids)
            or not id_set.isdisjoint(self.result.found)
            or not all(map(id_set.isdisjoint, self.bulk_id_sets))
            or len(self.result.found) + self.bulk_total + len(ids) > self.limits.max_arrays
        ):
            return False  # repeats and bounds: the item walk names them one by one
        self.add_bulk(BulkFound(
            name, id(obj), items, ids, id_set, keys, after=len(self.result.found),
            category=category, requires_grad=requires_grad,
        ))
        return True

    def add_bulk(self, bulk: BulkFound) -> None:
        self.bulk_id_sets.append(bulk.id_set)
        self.bulk_total += len(bulk.ids)
        self.result.bulks.append(bulk)

    def visit_top_level_run(self, keys: list[str], values: list[Any]) -> None:
        """Consecutive top-level names (string keys) holding plain tensors, in order: read
        column-wise like a container's items, but for the tensors that hold a gradient (found
        one by one, each followed by its gradient, as anywhere else)."""
        requires_grad = list(map(_requires_grad, values))
        holding = (
            [i for i in compress(range(len(values)), requires_grad)
             if leaf_grad(values[i]) is not None]
            if True in requires_grad else []
        )
        start = 0
        for stop in [*holding, len(values)]:
            self.try_top_level(keys[start:stop], values[start:stop], requires_grad[start:stop])
            if stop < len(values):
                self.visit_top_level(keys[stop], values[stop])
            start = stop + 1

    def try_top_level(self, keys: list[str], values: list[Any], requires_grad: list[bool]) -> None:
        """Names and plain tensors of one run, none holding a gradient: one ``BulkFound`` of
        the tensors not found before, in order; each further name of one of them (``b = a``)
        or of a tensor found before is added as the one-by-one walk adds it."""
        column = id_column(packed_ids(values))
        ids = column.tolist()
        id_set = set(ids)
        found = self.result.found
        taken: list[int] | range = range(len(ids))
        if (
            len(id_set) != len(ids)
            or not id_set.isdisjoint(found)
            or not all(map(id_set.isdisjoint, self.bulk_id_sets))
        ):
            seen: set[int] = set()
            taken = []
            for i, obj_id in enumerate(ids):
                if obj_id not in seen and obj_id not in found and not any(
                    obj_id in other for other in self.bulk_id_sets
                ):
                    taken.append(i)
                seen.add(obj_id)
            id_set = {ids[i] for i in taken}
        if (
            len(taken) < BULK_MIN_ITEMS
            or len(found) + self.bulk_total + len(taken) > self.limits.max_arrays
        ):
            for key, value in zip(keys, values, strict=True):
                self.visit_top_level(key, value)  # a few, or the bound: named one by one
            return
        every = len(taken) == len(ids)
        self.add_bulk(BulkFound(
            "", -id(keys[taken[0]]), values if every else [values[i] for i in taken],
            column if every else column[list(taken)], id_set,
            keys if every else [keys[i] for i in taken], after=len(found),
            requires_grad=requires_grad if every else [requires_grad[i] for i in taken],
            top_level=True,
        ))
        if not every:
            kept = set(taken)
            for i in range(len(ids)):
                if i not in kept:
                    self.add(values[i], keys[i])

    def visit_top_level(self, key: Any, value: Any) -> None:
        # A key that is not a string (``globals()[1] = t``): named by the path that reaches it.
        name = key if type(key) is str else f"globals()[{key_text(key, self.result.found)}]"
        try:
            self.visit(value, name, 0)
        except Exception as exc:  # a hostile object: skip it, report once, keep walking
            if self.on_error is not None:
                self.on_error(printable_name(name), exc)

    def visit(self, obj: Any, name: str, depth: int, category: str = "other") -> None:
        kind = self.kind(type(obj))
        if kind == "tensor":
            # A plain tensor that does not require grad has no gradient and no inner tensors
            # to look for (ten thousand top-level names).
            if self.add(obj, name, category) and (
                type(obj) is not self.tensor_type or _requires_grad(obj)
            ):
                self.visit_grad(obj, name)
                self.visit_inner(obj, name)
            return
        if kind == "array":
            self.add(obj, name, category)
            return
        if kind == "jagged":
            self.visit_jagged(obj, name)
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
                dict.items(obj), name, dict.__len__(obj), depth,
                lambda k: f"{name}[{key_text(k, found)}]", category,
            )
        elif kind == "namedtuple":
            fields = _namedtuple_fields(type(obj)) or ()
            self.visit_items(
                zip(fields, tuple.__iter__(obj), strict=False), name, len(fields), depth,
                lambda f: f"{name}.{f}", category,
            )
        elif kind == "sequence":
            self.visit_items(
                enumerate(iterate_sequence(obj)), name, sequence_length(obj), depth,
                lambda i: f"{name}[{i}]", category,
            )
        elif kind == "module":
            self.visit_module(obj, name)
        elif kind == "optimizer":
            # After everything else: its parameters are named where the user keeps them
            # (``model.fc.weight``), whatever the order of the names.
            self.optimizers.append((obj, name, depth))

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
        found = self.result.found
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
                seen = found.get(id(value))
                if seen is not None and seen.names.more and not seen.holds_grad:
                    # Its names are full: only counted, no path built (100,000 of them).
                    seen.names.more += 1
                    continue
                item_name = label(key)
                if self.add(value, item_name, category):
                    self.visit_grad(value, item_name)
                    self.visit_inner(value, item_name)
            elif kind == "array":
                self.add(value, label(key), category)
            else:
                self.visit(value, label(key), depth + 1, category)

    def visit_module(self, module: Any, name: str) -> None:
        """Parameters, then buffers, of the module and its submodules (pre-order), as
        ``named_parameters(remove_duplicate=False)`` lists them, read from the module's own
        dicts: an override of ``named_parameters`` or ``__getattr__`` never runs."""
        modules: list[tuple[str, dict[str, Any]]] = []
        stack: list[tuple[Any, str, frozenset[int]]] = [(module, name, frozenset())]
        while stack:
            current, prefix, ancestors = stack.pop()
            own = instance_dict(current)
            modules.append((prefix, own))
            children = own.get("_modules")
            if type(children) is not dict:
                continue
            inside = ancestors | {id(current)}
            later = []
            for child_name, child in dict.items(children):
                if (type(child_name) is str and id(child) not in inside
                        and self.kind(type(child)) == "module"):
                    later.append((child, f"{prefix}.{child_name}", inside))
            stack.extend(reversed(later))
        seen: set[int] = set()
        for prefix, own in modules:
            for qual, p in _tensor_items(own.get("_parameters")):
                if id(p) in seen:
                    self.result.tied.add(id(p))
                seen.add(id(p))
                self.visit_member(p, f"{prefix}.{qual}", "parameters")
        for prefix, own in modules:
            for qual, b in _tensor_items(own.get("_buffers")):
                self.visit_member(b, f"{prefix}.{qual}", "buffers")
        for qual, flat in fsdp_tensors(module):  # FSDP1 with use_orig_params=True
            self.add(flat, f"{name}.{qual}", "parameters")

    def visit_member(self, value: Any, name: str, category: str = "other") -> None:
        kind = self.kind(type(value))
        if kind == "tensor":
            if self.add(value, name, category):
                self.visit_grad(value, name)
        elif kind == "jagged":
            self.visit_jagged(value, name, category)

    def visit_jagged(self, nested: Any, name: str, category: str = "other") -> None:
        """A jagged nested tensor: its size is symbolic (``j1``) and it has no storage of its
        own; its buffers are ordinary tensors and show what it shares."""
        own = instance_dict(nested)
        for attr, call in _JAGGED_BUFFERS:
            buffer = own.get(attr)
            if buffer is not None and self.kind(type(buffer)) == "tensor":
                self.add(buffer, f"{name}.{call}", category)

    def visit_optimizers(self) -> None:
        for optimizer, name, depth in self.optimizers:
            try:
                self.visit_optimizer(optimizer, name, depth)
            except Exception as exc:
                if self.on_error is not None:
                    self.on_error(name, exc)

    def visit_optimizer(self, optimizer: Any, name: str, depth: int) -> None:
        """Parameters reached through no other name (``opt.param_groups[0]['params'][3]``:
        after a model dropped or replaced them, the optimizer still holds them), then the
        state of every parameter, named after its parameter."""
        own = instance_dict(optimizer)
        groups = own.get("param_groups")
        if type(groups) is list:
            for g, group in enumerate(list.__iter__(groups)):
                params = dict.get(group, "params") if type(group) is dict else None
                if type(params) is not list:
                    continue
                for j, p in enumerate(list.__iter__(params)):
                    if (self.kind(type(p)) == "tensor" and id(p) not in self.result.found
                            and not any(id(p) in ids for ids in self.bulk_id_sets)):
                        self.visit_member(p, f"{name}.param_groups[{g}]['params'][{j}]")
        state = own.get("state")
        if state is None or not issubclass(type(state), dict):
            return
        positions: dict[int, str] | None = None
        for param, per_param in dict.items(state):
            if self.kind(type(per_param)) == "dict":
                key = key_text(param, self.result.found)
                if key.startswith("<"):  # not reachable by name: named by its place instead
                    if positions is None:
                        positions = param_positions(optimizer, name)
                    key = positions.get(id(param), key)
                self.visit(per_param, f"{name}.state[{key}]", depth + 1, "optimizer state")

    def visit_inner(self, obj: Any, name: str) -> None:
        """The inner tensors of a wrapper subclass (not a DTensor: drawn on its local tensor)."""
        if self.torch is not None and type(obj) is not self.tensor_type:
            for attr, inner in inner_tensors(obj, self.torch):
                self.add(inner, f"{name}.{attr}")

    def visit_grad(self, obj: Any, name: str) -> None:
        grad = leaf_grad(obj)
        if grad is not None:
            found = self.result.found.get(id(obj))
            if found is not None:
                found.holds_grad = True
            self.add(grad, f"{name}.grad", "gradients")


def param_positions(optimizer: Any, name: str) -> dict[int, str]:
    """id(parameter) -> ``opt.param_groups[0]['params'][3]``: a name for every parameter an
    optimizer holds, unique even where no other path reaches it."""
    positions: dict[int, str] = {}
    groups = optimizer.param_groups
    if type(groups) is not list:
        return positions
    for g, group in enumerate(groups):
        params = group.get("params") if type(group) is dict else None
        if type(params) is list:
            for i, p in enumerate(params):
                positions.setdefault(id(p), f"{name}.param_groups[{g}]['params'][{i}]")
    return positions


def leaf_grad(t: Any) -> Any:
    """``t.grad``, asked only of a leaf that requires grad: only leaves hold one, and asking a
    non-leaf makes torch warn into the user's cell."""
    return t.grad if t.requires_grad and t.is_leaf else None


def _namedtuple_fields(tp: type) -> tuple[str, ...] | None:
    fields = _class_attribute(tp, "_fields")
    if type(fields) is tuple and all(type(f) is str for f in fields):
        return fields
    return None


def _tensor_items(members: Any) -> list[tuple[str, Any]]:
    """(name, value) of a module's ``_parameters``/``_buffers`` dict, None values left out."""
    if type(members) is not dict:
        return []
    return [(k, v) for k, v in dict.items(members) if v is not None and type(k) is str]


_requires_grad = operator.attrgetter("requires_grad")


def _holds_a_gradient(items: list[Any], requires_grad: list[bool]) -> bool:
    """Does one of these tensors hold a ``.grad``? (Looked for among those requiring grad.)"""
    return any(
        leaf_grad(items[i]) is not None for i in compress(range(len(items)), requires_grad)
    )


def _plain_tensor_runs(
    keys: list[Any], values: list[Any], tensor_type: type | None
) -> list[tuple[int, int]]:
    """``(start, stop)`` of each run of at least ``BULK_MIN_ITEMS`` consecutive names that are
    strings and hold plain ``torch.Tensor``s (ten thousand top-level tensors): C-level passes
    over the names, one numpy pass to find the runs."""
    if tensor_type is None or len(values) < BULK_MIN_ITEMS:
        return []
    plain = np.fromiter(
        map(operator.and_, map(operator.is_, map(type, values), repeat(tensor_type)),
            map(operator.is_, map(type, keys), repeat(str))),
        dtype=np.bool_, count=len(values),
    )
    edges = np.flatnonzero(np.diff(plain, prepend=False, append=False)).tolist()
    return [
        (start, stop) for start, stop in zip(edges[::2], edges[1::2], strict=True)
        if stop - start >= BULK_MIN_ITEMS
    ]


def walk_namespace(
    namespace: Mapping[str, Any],
    torch: ModuleType | None,
    np: ModuleType | None,
    limits: WalkLimits | None = None,
    skip: Callable[[str], bool] = is_ipython_name,
    on_error: Callable[[str, BaseException], None] | None = None,
    plain_tensor_ids: Mapping[int, BulkCheck] | None = None,
    checked_bulks: Mapping[int, set[int]] | None = None,
    kept: tuple[list[Any], list[Any]] | None = None,
) -> WalkResult:
    """Every tensor/array reachable from ``namespace`` (in first-seen order) with its names.

    ``plain_tensor_ids``: id(container) -> its ``BulkCheck``, for containers already known to
    hold plain tensors only (the fingerprint's columns), so their items are not typed again.
    ``checked_bulks``: those holding the very tensors of the last reading, unchanged, with the
    set of their ids then: not checked again for gradients and nested tensors
    (``requires_grad_()`` on one of them shows at the container's next change, as in the
    fingerprint).
    ``kept``: the names ``skip`` keeps and their values, in the namespace's order, when the
    caller has them (``NameFilter.kept``): ten thousand names are not asked about again.
    """
    walker = _Walker(torch, np, limits or WalkLimits())
    walker.plain_tensor_ids = plain_tensor_ids or {}
    walker.checked_bulks = checked_bulks or {}
    walker.on_error = on_error
    if kept is None:
        as_dict = (
            cast(dict[Any, Any], namespace) if issubclass(type(namespace), dict)
            else dict(namespace.items())
        )
        kept = NameFilter().kept(as_dict, skip)
    keys, values = kept
    done = 0
    for start, stop in _plain_tensor_runs(keys, values, walker.tensor_type):
        for key, value in zip(keys[done:start], values[done:start], strict=True):
            walker.visit_top_level(key, value)
        walker.visit_top_level_run(keys[start:stop], values[start:stop])
        done = stop
    for key, value in zip(keys[done:], values[done:], strict=True):
        walker.visit_top_level(key, value)
    walker.visit_optimizers()
    return walker.result
