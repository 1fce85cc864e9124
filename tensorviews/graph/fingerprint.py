"""Cheap fingerprints of a namespace: when nothing changed, the last graph is reused whole.

After most cells the tensors a user holds are exactly those of the cell before. Walking them
again costs about a microsecond per tensor in Python; a fingerprint built with C-level loops
(``map(id, items)``, ``map(version, items)``) costs a tenth of that, so a list of 10,000
tensors is checked in about a millisecond.

A fingerprint covers identity, torch's version counter (bumped by every in-place write and
by ``resize_``/``set_``/``t_``) and data address (``.data =`` swaps the memory without a version
bump; the address is a cheaper call than the storage's identity) of every tensor,
and shape/strides of numpy arrays. Equal ids only mean equal objects while the objects stay
alive: the snapshotter drops the shortcut as soon as any object it saw has died (weak
reference callbacks), since a new object may then sit at the old address.

What it does not see, by design, for tensors inside containers: ``requires_grad_()``, a
``.grad`` appearing, and, in containers of plain tensors (the ten-thousand-tensor lists),
``.data =`` swaps, whose address check would cost a third of an unchanged cell. All show at the
next change of that container, and always in ``%tensorgraph``, which asks for a full walk.
Anything without a cheap fingerprint (large dicts, mixed lists, user objects with tensors)
returns ``None`` and the full walk runs.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from itertools import islice
from types import ModuleType
from typing import Any

from tensorviews.graph.namespace_walk import leaf_grad

MAX_DICT_ITEMS = 256  # dicts larger than this are walked, not fingerprinted

_version = operator.attrgetter("_version")

# (dict keys or None, ids, version counters) of a container of plain tensors.
BulkCheck = tuple[tuple[Any, ...] | None, tuple[int, ...], tuple[int, ...]]


def bulk_check(items: Any, keys: tuple[Any, ...] | None) -> BulkCheck:
    """What must be equal for a container of plain tensors to count as unchanged."""
    return (keys, tuple(map(id, items)), tuple(map(_version, items)))


class Fingerprinter:
    def __init__(
        self,
        torch: ModuleType | None,
        np: ModuleType | None,
        probe_items: int = 64,
        known_ids: Mapping[int, tuple[int, ...]] | None = None,
    ) -> None:
        self.torch = torch
        self.np = np
        # id(container) -> ids of the plain tensors it held last time, for containers none of
        # whose tensors died since: the same ids again are the same tensors, whose types need
        # no second look. (Assigning ``__class__`` of a tensor in place goes unseen there.)
        self.known_ids: Mapping[int, tuple[int, ...]] = known_ids or {}
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
        # id(container) -> its check (see ``bulk_check``), which the snapshot reuses to tell
        # whether a container read column-wise last time is unchanged.
        self.columns: dict[int, BulkCheck] = {}

    def namespace(
        self, namespace: Mapping[str, Any], skip: Callable[[str], bool]
    ) -> tuple[Any, ...] | None:
        if not isinstance(namespace, dict):
            return None
        parts: list[Any] = []
        for name, value in dict.items(namespace):
            if type(name) is not str or skip(name):
                continue
            fp = self.value(value, 0)
            if fp is None:
                return None
            parts.append((name, fp))
        return tuple(parts)

    def value(self, value: Any, depth: int) -> Any:
        tp = type(value)
        if tp in self.plain_types:
            return 0
        if tp in self.leaf_tensor_types:
            grad = leaf_grad(value)
            grad_id = id(grad) if grad is not None else 0
            return (self._tensors((value,)), value.requires_grad, grad_id)
        if self.array_type is not None and tp is self.array_type:
            return (id(value), value.shape, value.strides)
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
        torch = self.torch
        if torch is not None and isinstance(value, torch.nn.Module):
            return self._module(value)
        if torch is not None and isinstance(value, torch.optim.Optimizer):
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
                tuple(map(id, items)),
                tuple(map(_version, items)),
                tuple(map(data_ptr, items)),
            )
        except RuntimeError:  # a sparse tensor has no data address: walk instead
            return None

    def _sequence(self, items: list[Any] | tuple[Any, ...], depth: int) -> Any:
        known = self.known_ids.get(id(items))
        if known is not None and len(known) == len(items):
            ids = tuple(map(id, items))
            if ids == known:
                check = self.columns[id(items)] = (None, ids, tuple(map(_version, items)))
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
        params = [p for _, p in module.named_parameters(remove_duplicate=False)]
        buffers = [b for _, b in module.named_buffers(remove_duplicate=False) if b is not None]
        grads = tuple(id(p.grad) if p.grad is not None else 0 for p in params)
        tensors = self._tensors(params + buffers)
        return None if tensors is None else (id(module), tensors, grads)

    def _optimizer(self, optimizer: Any) -> Any:
        state = optimizer.state
        if not isinstance(state, dict):
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
        fp = self._tensors(tensors)
        return None if fp is None else (id(optimizer), tuple(map(id, state)), fp)
