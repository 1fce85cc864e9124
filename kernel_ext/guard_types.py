"""What the live namespace says about the names a cell uses, in the rules' vocabulary.

The rules take ``known_types`` (name or dotted path -> container kind) and ``known_ndims``; they
learn libraries from import statements. From the namespace we give them:
- data: the kind ``value_kinds.container_kind`` gives (the live file says the same), with
  ``ndim`` for numpy arrays (it decides element access vs row access; not for structured
  dtypes, whose elements are ``np.void`` views); what it calls "unknown" (a user's class,
  another array library) is left out, so it stays unknown (possible, never certain);
- modules and torch/numpy functions -> a prelude of import lines (``import numpy as np``,
  ``from numpy import zeros``) analysed as a cell before the user's, so inference such as
  ``np.zeros(3)`` is a numpy array keeps working across cells;
- dotted paths (``self.buf``, ``model.weight``) read from instance ``__dict__`` (and nn.Module
  parameters/buffers) only: no property or ``__getattr__`` runs on the user's objects.
Only names that occur in the cell are looked up, so a huge namespace costs nothing.
"""

from __future__ import annotations

import ast
import inspect
import sys
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tensorviews.live.value_kinds import container_kind
from tensorviews.rules import ContainerKind

_LIBRARIES = ("torch", "numpy")
_MAX_PATH_DEPTH = 3


@dataclass
class NamespaceFacts:
    """The rules' inputs for one cell."""

    known_types: dict[str, ContainerKind] = field(default_factory=dict)
    known_ndims: dict[str, int] = field(default_factory=dict)
    prelude: list[str] = field(default_factory=list)


def used_paths(tree: ast.AST) -> set[str]:
    """Names and dotted attribute paths (up to three parts) the code reads."""
    paths: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            paths.add(node.id)
        elif isinstance(node, ast.Attribute):
            parts = [node.attr]
            base: ast.expr = node.value
            while isinstance(base, ast.Attribute) and len(parts) < _MAX_PATH_DEPTH:
                parts.append(base.attr)
                base = base.value
            if isinstance(base, ast.Name):
                paths.add(".".join([base.id, *reversed(parts)]))
    return paths


def namespace_facts(paths: set[str], namespace: Mapping[str, Any]) -> NamespaceFacts:
    facts = NamespaceFacts()
    for path in sorted(paths):
        found, value = _resolve(path, namespace)
        if not found:
            continue
        if "." not in path:
            line = _import_line(path, value)
            if line is not None:
                facts.prelude.append(line)
                continue
            if isinstance(value, type) or inspect.isroutine(value):
                continue  # functions and classes: let the rules infer from the cell
        kind = container_kind(value)
        if kind is None or kind == "unknown":
            continue  # left out: the rules' own "unknown", possible and never certain
        facts.known_types[path] = kind
        ndim = _numpy_ndim(value) if kind == "numpy" else None
        if ndim is not None:
            facts.known_ndims[path] = ndim
    return facts


def _numpy_ndim(value: Any) -> int | None:
    dtype = getattr(value, "dtype", None)
    if dtype is not None and getattr(dtype, "names", None):
        return None  # structured: x[i] is an np.void that aliases the array
    ndim = getattr(value, "ndim", None)
    return ndim if isinstance(ndim, int) else None


def _import_line(name: str, value: Any) -> str | None:
    """``import numpy as np`` / ``from torch import zeros as z`` for library modules and
    callables bound to ``name``; None for anything else."""
    if isinstance(value, types.ModuleType):
        module = getattr(value, "__name__", "")
        if _is_library(module) and _is_dotted_identifier(module):
            return f"import {module} as {name}"
        return None
    if not (isinstance(value, type) or inspect.isroutine(value)):
        return None
    module = getattr(value, "__module__", None)
    attr = getattr(value, "__name__", None)
    # numpy and torch publish their functions at the top level (np.zeros.__module__ is
    # "numpy"); deeper modules are named as they are.
    if (isinstance(module, str) and isinstance(attr, str) and _is_library(module)
            and _is_dotted_identifier(module) and attr.isidentifier()):
        return f"from {module} import {attr} as {name}"
    return None


def _is_library(module: str) -> bool:
    return module.split(".")[0] in _LIBRARIES


def _is_dotted_identifier(text: str) -> bool:
    return all(part.isidentifier() for part in text.split("."))


def _resolve(path: str, namespace: Mapping[str, Any]) -> tuple[bool, Any]:
    head, *rest = path.split(".")
    if head not in namespace:
        return False, None
    value = namespace[head]
    for attr in rest:
        found, value = _static_attribute(value, attr)
        if not found:
            return False, None
    return True, value


def _static_attribute(obj: Any, attr: str) -> tuple[bool, Any]:
    """An instance attribute without running any user code (no properties, no __getattr__)."""
    if isinstance(obj, types.ModuleType):
        return False, None
    try:
        instance_dict = object.__getattribute__(obj, "__dict__")
    except AttributeError:
        return False, None
    if not isinstance(instance_dict, dict):
        return False, None
    if attr in instance_dict:
        return True, instance_dict[attr]
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.nn.Module):
        for registry in ("_parameters", "_buffers", "_modules"):
            members = instance_dict.get(registry)
            if isinstance(members, dict) and attr in members:
                return True, members[attr]
    return False, None
