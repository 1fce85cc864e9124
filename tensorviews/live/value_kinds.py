"""The rules' container kind of a live value: one answer for every face that tells the rules
about a name (the guard before a cell runs, the live file the language server reads).

- torch tensors -> "torch", numpy arrays -> "numpy", lists -> "list";
- builtin containers and scalars (tuple, dict, str, numbers, ...) and numpy scalars -> "other":
  their items are objects, never views of a shared memory;
- anything else -> "unknown": a user's class may hand out views from ``__getitem__`` (a wrapper
  around a tensor), another array library may or may not (CuPy does, JAX cannot be written
  to). Unknown keeps the rules honest: a swap there is possible, never certain;
- modules -> None: not data.

Types are looked at with ``type(value)``, never ``value.__class__``, so a hostile property
cannot run here.
"""

from __future__ import annotations

import sys
import types

from tensorviews.rules import ContainerKind

_OTHER_TYPES = (
    tuple, dict, str, bytes, bytearray, int, float, complex, bool, type(None), set, frozenset,
    range,
)


def container_kind(value: object) -> ContainerKind | None:
    return kind_of_type(type(value))


def kind_of_type(tp: type) -> ContainerKind | None:
    """The kind of every value of type ``tp`` (the kind depends on the type alone)."""
    torch = sys.modules.get("torch")
    if torch is not None and issubclass(tp, torch.Tensor):
        return "torch"
    np = sys.modules.get("numpy")
    if np is not None and issubclass(tp, np.ndarray):
        return "numpy"
    if issubclass(tp, list):
        return "list"
    if issubclass(tp, types.ModuleType):
        return None
    if issubclass(tp, _OTHER_TYPES) or (np is not None and issubclass(tp, np.generic)):
        return "other"
    return "unknown"
