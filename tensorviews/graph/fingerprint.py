"""Cheap fingerprints of a namespace: when nothing changed, the last graph is reused whole.

After most cells the tensors a user holds are exactly those of the cell before. Walking them
again costs about a microsecond per tensor in Python; a fingerprint built with C-level loops
(``map(version, items)``, and the items' ids copied in one piece: see ``object_ids``) costs
a tenth of that, so a list of 10,000 tensors is checked in under a millisecond, most of it
reading the version counters.

A fingerprint covers identity and torch's version counter (bumped by every in-place write and
by ``resize_``/``set_``/``t_``; a view shares its base's counter, so one read per counter covers a
base and all its views) of every tensor, gradient and data address of the top-level tensors and
module parameters that require grad (``backward()`` makes gradients; ``w.data = ...``, the manual
update of a parameter, swaps the memory without a version bump), and shape/strides/dtype of numpy
arrays. Equal ids only mean equal objects while the objects stay alive: the snapshotter drops
the shortcut as soon as any object it saw has died (weak reference callbacks), since a new object
may then sit at the old address.

What it does not see, by design, for tensors that do not require grad (top-level names and
container items alike): ``requires_grad_()``, a ``.grad`` assigned by hand, and ``.data =``
swaps, whose checks would cost as much as the rest of an unchanged cell (ten thousand top-level
names: about 2 ms without them, 4 ms with them; ``benchmarks/bench_kernel_hook.py``). All show at
the next change of the namespace or of that container, and always in ``%tensorgraph``, which
asks for a full walk. Anything without a cheap fingerprint (large dicts, mixed lists, user
objects with tensors) returns ``None`` and the full walk runs.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import compress, islice
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from tensorviews.graph.namespace_walk import BulkCheck, instance_dict, jagged_type, leaf_grad
from tensorviews.graph.object_ids import id_column, packed_ids

MAX_DICT_ITEMS = 256  # dicts larger than this are walked, not fingerprinted

_version = operator.attrgetter("_version")
_requires_grad = operator.attrgetter("requires_grad")
_base = operator.attrgetter("_base")
_NONE_ID = id(None)
_IGNORED, _TENSOR, _WALKED = 0, 1, 2

def change_token(t: Any) -> Any:
    """What tells that a tensor's metadata may have changed: its version counter, or, for an
    inference tensor (which has none), its layout."""
    try:
        return t._version
    except RuntimeError:  # "Inference tensors do not track version counter"
        return (tuple(t.shape), t.stride(), t.storage_offset())


def counter_owners(
    tensors: list[Any], ids: bytes, previous: NamesPrint | None = None
) -> npt.NDArray[np.int64]:
    """Per tensor, the id of what owns its version counter: its base for a view (``_base``
    is the base of a view of a view too), else itself. ``ids``: the tensors', packed. Read
    again only where ``previous`` held another tensor, when few did (a name rebound among ten
    thousand): a tensor's base never changes."""
    own = id_column(ids)
    if previous is not None and len(previous.owners) == len(tensors):
        changed = np.flatnonzero(own != id_column(previous.tensor_ids))
        if len(changed) <= len(tensors) // 4:
            owners = previous.owners.copy()
            if len(changed):
                owners[changed] = _owners(own[changed], [tensors[i] for i in changed.tolist()])
            return owners
    return _owners(own, tensors)


def _owners(own: npt.NDArray[np.int64], tensors: list[Any]) -> npt.NDArray[np.int64]:
    """``counter_owners`` read for all of ``tensors`` in C-level passes: a tensor without a
    base has ``None`` there, whose id stands for "itself"."""
    bases = id_column(packed_ids(map(_base, tensors)))
    return np.where(bases == _NONE_ID, own, bases)


def first_of_each_counter(owners: npt.NDArray[np.int64]) -> tuple[bool, ...]:
    """Per tensor: is it the first with its version counter (see ``counter_owners``)?"""
    first = np.zeros(len(owners), dtype=np.bool_)
    first[np.unique(owners, return_index=True)[1]] = True  # the first index of each owner
    return tuple(first.tolist())


def versions(items: Any) -> tuple[Any, ...]:
    """``change_token`` of every item: a C-level pass unless an inference tensor is among
    them."""
    try:
        return tuple(map(_version, items))
    except RuntimeError:
        return tuple(map(change_token, items))


def bulk_check(items: Any, keys: tuple[Any, ...] | None) -> BulkCheck:
    """What must be equal for a container of plain tensors to count as unchanged."""
    return BulkCheck(keys, packed_ids(items), versions(items))


@dataclass(frozen=True, slots=True)
class NamesPrint:
    """What must be equal for the top-level names to count as unchanged: the names, their
    values' types, the identity of every plain tensor and the version of every version counter
    among them (a view shares its base's counter: every in-place write or layout change of
    either bumps it, so one read covers a base and all its views); for the tensors that
    require grad also their gradient (``backward()``) and data address (``w.data = ...``, the
    manual update of a parameter, swaps the memory without a version bump). What the last
    print read is reused while the same types (categories) or the same tensors (which require
    grad, which share a counter) are there."""

    keys: list[Any]
    types: tuple[type, ...]
    tensor_ids: bytes  # packed (``object_ids.packed_ids``): compared in one memcmp
    versions: tuple[Any, ...]  # of the first tensor of each version counter
    grads: tuple[int, ...]  # id of the gradient of each tensor that requires grad, or 0
    addresses: tuple[int, ...]  # data address of each tensor that requires grad
    walked: tuple[Any, ...]  # fingerprints of the containers, modules and arrays
    # Read again only when the types (for the first two) or the tensors changed:
    tensor_mask: tuple[bool, ...] = field(compare=False)  # per name: a plain tensor?
    walked_mask: tuple[bool, ...] = field(compare=False)  # per name: walked? () if none is
    grad_positions: tuple[int, ...] = field(compare=False)  # of the tensors that require grad
    counters: tuple[bool, ...] = field(compare=False)  # first tensor of its version counter?
    owners: npt.NDArray[np.int64] = field(compare=False)  # per tensor, see ``counter_owners``


class Fingerprinter:
    def __init__(
        self,
        torch: ModuleType | None,
        np: ModuleType | None,
        probe_items: int = 64,
        known: Mapping[int, BulkCheck] | None = None,
    ) -> None:
        self.torch = torch
        self.np = np
        # id(container) -> the check of the plain tensors it held last time, for sequences
        # none of whose tensors died since: the same ids again are the same tensors, whose
        # types need no second look. (Assigning ``__class__`` of a tensor in place goes unseen
        # there.) What is equal is handed back as the very objects, so the snapshot's
        # comparisons of ten thousand ids are identity checks.
        self.known: Mapping[int, BulkCheck] = known or {}
        # The walk skips a container whose first ``probe_items`` items hold nothing it looks
        # into (a million floats); so does the fingerprint, instead of typing every item.
        self.probe_items = probe_items
        self.tensor_type: type | None = torch.Tensor if torch is not None else None
        self.array_type: type | None = np.ndarray if np is not None else None
        self.data_ptr: Callable[[Any], int] | None = (
            torch.Tensor.data_ptr if torch is not None else None
        )
        self.plain_types = frozenset({int, float, complex, str, bytes, bool, type(None)})
        self.leaf_tensor_types: frozenset[type] = (
            frozenset({torch.Tensor, torch.nn.Parameter}) if torch is not None else frozenset()
        )
        self.jagged_type = jagged_type()
        # id(container) -> its check (see ``bulk_check``), which the snapshot reuses to tell
        # whether a container read column-wise last time is unchanged.
        self.columns: dict[int, BulkCheck] = {}

    def namespace(
        self, keys: list[Any], values: list[Any], previous: NamesPrint | None = None,
        died: bool = False,
    ) -> NamesPrint | None:
        """The fingerprint of the names the walk visits and their values.

        Done in C-level passes over the names: their values' types, a category per distinct
        type (or the last cell's categories when every name holds a value of the same type as
        then), the ids of the plain tensors among them and one version per version counter
        (which tensors share a counter and which require grad are read again only when the
        tensors changed); gradient and address only for those that require grad. Only values
        that hold something else worth walking (containers, modules, arrays) are fingerprinted
        one by one. Parts equal to the last print's are that print's objects, so comparing the
        two compares them by identity. ``died``: an object the last print saw died since (an
        equal id may be a new object's), so nothing is taken over about its tensors.
        """
        if previous is not None and keys == previous.keys:
            keys = previous.keys
        types = tuple(map(type, values))
        if previous is not None and types == previous.types:
            types, tensor_mask, walked_mask = (
                previous.types, previous.tensor_mask, previous.walked_mask
            )
        else:
            category = {tp: self._category(tp) for tp in set(types)}
            categories = list(map(category.__getitem__, types))
            tensor_mask = tuple(map(_TENSOR.__eq__, categories))
            walked_mask = (
                tuple(map(_WALKED.__eq__, categories)) if _WALKED in category.values() else ()
            )
        tensors = values if all(tensor_mask) else list(compress(values, tensor_mask))
        tensor_ids = packed_ids(tensors)
        if previous is not None and not died and tensor_ids == previous.tensor_ids:
            tensor_ids, grad_positions, counters, owners = (
                previous.tensor_ids, previous.grad_positions, previous.counters, previous.owners
            )
        else:
            # Which require grad is read again for all: a tensor that stays may have been
            # made to (``requires_grad_()``), and its gradient must be fingerprinted then.
            requires_grad = map(_requires_grad, tensors)
            grad_positions = tuple(compress(range(len(tensors)), requires_grad))
            owners = counter_owners(tensors, tensor_ids, None if died else previous)
            counters = first_of_each_counter(owners)
        try:
            tokens = tuple(map(_version, compress(tensors, counters)))
        except RuntimeError:  # an inference tensor has no version counter: layouts compared
            tokens = tuple(map(change_token, tensors))
        grad_tensors = [tensors[p] for p in grad_positions]
        data_ptr = self.data_ptr
        try:
            addresses = (
                tuple(map(data_ptr, grad_tensors)) if grad_tensors and data_ptr else ()
            )
        except RuntimeError:  # a sparse tensor has no data address: walk instead
            return None
        walked = []
        for value in compress(values, walked_mask):
            fp = self.value(value, 0)
            if fp is None:
                return None
            walked.append(fp)
        return NamesPrint(
            keys=keys,
            types=types,
            tensor_ids=tensor_ids,
            versions=tokens,
            grads=tuple(
                id(grad) if grad is not None else 0 for grad in map(leaf_grad, grad_tensors)
            ),
            addresses=addresses,
            walked=tuple(walked),
            tensor_mask=tensor_mask,
            walked_mask=walked_mask,
            grad_positions=grad_positions,
            counters=counters,
            owners=owners,
        )

    def _category(self, tp: type) -> int:
        """_TENSOR (a plain tensor or parameter), _WALKED (looked into one by one) or
        _IGNORED (what the walk does not look into: numbers, functions, classes, ...)."""
        if tp in self.leaf_tensor_types:
            return _TENSOR
        if tp in self.plain_types:
            return _IGNORED
        if (self._may_hold_arrays(tp) or self._module_or_optimizer(tp)
                or (self.array_type is not None and tp is self.array_type)):
            return _WALKED
        return _IGNORED

    def value(self, value: Any, depth: int) -> Any:
        tp = type(value)
        if tp in self.plain_types:
            return 0
        if tp in self.leaf_tensor_types:
            grad = leaf_grad(value)
            grad_id = id(grad) if grad is not None else 0
            return (self._tensors((value,)), value.requires_grad, grad_id)
        if self.array_type is not None and tp is self.array_type:
            # The dtype too: ``a.dtype = np.int64`` reinterprets the same memory in place.
            return (id(value), value.shape, value.strides, value.dtype)
        if tp is list or tp is tuple:
            return self._sequence(value, depth)
        if tp is dict and len(value) > MAX_DICT_ITEMS and depth < 3:
            return self._tensor_dict(value)
        if tp is dict and depth < 3:
            parts = []
            for k, v in dict.items(value):
                if type(k) not in self.plain_types:
                    return None
                fp = self.value(v, depth + 1)
                if fp is None:
                    return None
                parts.append((k, fp))
            return (id(value), tuple(parts))
        if tp is self.jagged_type and tp is not None:
            own = instance_dict(value)
            buffers = [own.get(attr) for attr in ("_values", "_offsets", "_lengths")]
            return ("jagged", id(value), self._tensors([b for b in buffers if b is not None]))
        torch = self.torch
        if torch is not None and issubclass(tp, torch.nn.Module):
            return self._module(value)
        if torch is not None and issubclass(tp, torch.optim.Optimizer):
            return self._optimizer(value)
        if self._may_hold_arrays(tp):
            return None
        return ("other", id(value))

    def _skipped_by_walk(self, head: list[Any] | tuple[Any, ...]) -> bool:
        """Nothing among a container's first items is something the walk looks into."""
        return not any(
            tp not in self.plain_types and (
                self._may_hold_arrays(tp) or self._module_or_optimizer(tp)
            )
            for tp in set(map(type, head))
        )

    def _module_or_optimizer(self, tp: type) -> bool:
        torch = self.torch
        return torch is not None and issubclass(tp, (torch.nn.Module, torch.optim.Optimizer))

    def _may_hold_arrays(self, tp: type) -> bool:
        """Types the walk looks into (subclasses of containers, optimizers, arrays)."""
        if issubclass(tp, (list, tuple, dict)):
            return True
        if self.tensor_type is not None and issubclass(tp, self.tensor_type):
            return True
        if self.array_type is not None and issubclass(tp, self.array_type):
            return True
        torch = self.torch
        return torch is not None and issubclass(tp, torch.optim.Optimizer)

    def _tensors(self, items: Any) -> Any:
        data_ptr = self.data_ptr
        if data_ptr is None:
            return None
        if not set(map(type, items)) <= self.leaf_tensor_types:
            # Subclasses: a wrapper's (DTensor's) data pointer raises, a FakeTensor's warns
            # into the user's cell. No shortcut: the walk reads them by type.
            return None
        try:
            return (
                packed_ids(items),
                versions(items),
                tuple(map(data_ptr, items)),
            )
        except RuntimeError:  # a sparse tensor has no data address: walk instead
            return None

    def _sequence(self, items: list[Any] | tuple[Any, ...], depth: int) -> Any:
        known = self.known.get(id(items))
        if (
            known is not None and len(known.versions) == len(items)
            and packed_ids(items) == known.ids
        ):
            tokens = versions(items)
            check = known if tokens == known.versions else BulkCheck(None, known.ids, tokens)
            self.columns[id(items)] = check
            return (id(items), check)
        if len(items) > self.probe_items and self._skipped_by_walk(items[: self.probe_items]):
            return (id(items), len(items))
        types = set(map(type, items))
        if not types or types <= self.plain_types:
            return (id(items), len(items))
        if self.tensor_type is not None and types == {self.tensor_type}:
            return (id(items), self._plain_tensors(items))
        if len(items) > MAX_DICT_ITEMS or depth >= 3:
            return None
        parts = []
        for item in items:
            fp = self.value(item, depth + 1)
            if fp is None:
                return None
            parts.append(fp)
        return (id(items), tuple(parts))

    def _plain_tensors(self, items: Any) -> BulkCheck:
        check = self.columns[id(items)] = bulk_check(items, None)
        return check

    def _tensor_dict(self, value: dict[Any, Any]) -> Any:
        """A big dict of plain tensors under str/int keys (a state dict); else no shortcut."""
        values = dict.values(value)
        if self._skipped_by_walk(list(islice(values, self.probe_items))):
            return (id(value), len(value))
        if self.tensor_type is None or set(map(type, values)) != {self.tensor_type}:
            return None
        keys = tuple(dict.keys(value))
        if not set(map(type, keys)) <= {str, int}:
            return None
        check = self.columns[id(value)] = bulk_check(values, keys)
        return (id(value), check)

    def _module(self, module: Any) -> Any:
        """Ids, versions and addresses of every parameter and buffer, and which hold a
        gradient, read from the modules' own dicts (no override of theirs runs)."""
        tensors: list[Any] = []
        grads: list[int] = []
        modules = [module]
        seen = {id(module)}
        for current in modules:  # grows while iterated: breadth first over submodules
            own = instance_dict(current)
            for attr in ("_parameters", "_buffers"):
                members = own.get(attr)
                if type(members) is not dict:
                    continue
                for v in dict.values(members):
                    if v is None:
                        continue
                    if type(v) not in self.leaf_tensor_types:
                        return None  # a subclass or something odd: walk instead
                    tensors.append(v)
                    if attr == "_parameters":
                        grad = leaf_grad(v)
                        grads.append(id(grad) if grad is not None else 0)
            children = own.get("_modules")
            if type(children) is not dict:
                return None
            for child in dict.values(children):
                if child is not None and id(child) not in seen:
                    seen.add(id(child))
                    modules.append(child)
        fp = self._tensors(tensors)
        return None if fp is None else (id(module), fp, tuple(grads), tuple(map(id, modules)))

    def _optimizer(self, optimizer: Any) -> Any:
        own = instance_dict(optimizer)
        state = own.get("state")
        groups = own.get("param_groups")
        if state is None or not issubclass(type(state), dict) or type(groups) is not list:
            return None
        tensors = []
        for per_param in dict.values(state):
            if type(per_param) is not dict:
                return None
            for v in dict.values(per_param):
                if type(v) in self.leaf_tensor_types:
                    tensors.append(v)
                elif type(v) not in self.plain_types:
                    return None
        params: list[Any] = []
        for group in list.__iter__(groups):
            group_params = dict.get(group, "params") if type(group) is dict else None
            if type(group_params) is not list:
                return None
            params.extend(list.__iter__(group_params))
        if not set(map(type, params)) <= self.leaf_tensor_types:
            return None
        grads = tuple(id(g) if g is not None else 0 for g in map(leaf_grad, params))
        fp = self._tensors(tensors)
        held = self._tensors(params)
        if fp is None or held is None:
            return None
        return (id(optimizer), tuple(map(id, dict.keys(state))), fp, held, grads)
