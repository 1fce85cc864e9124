"""Run-time confirmation of "possible" swap-of-views statements.

``guard_instrument`` rewrites a flagged ``T0, T1 = E0, E1`` so that, once the right-hand side is
evaluated, a one-line class check sends plain values (ints, lists, rows of a list...) down the
fast path, and arrays down a checked path that calls :class:`GuardRuntime`. The checked path
stores the targets in the original order and, before store ``k``, asks whether value ``k`` shares
memory with a target ``m < k`` that was already written: exactly the clobber of docs/semantics.md.

Choices:
- The runtime lives in ``builtins`` (``RUNTIME_NAME``, ``PLAIN_NAME``), not in the user's
  namespace: ``%reset`` does not break instrumented functions, ``%who`` and the storage graph do
  not see it, and a user global called ``type`` or ``slice`` cannot change our code.
- torch: a value whose version counter did not move since the right-hand side was evaluated
  was not written, so nothing else is computed; otherwise the target region ``c[i]`` is
  rebuilt (metadata only) and compared with ``kernel_ext.overlaps`` (exact). numpy has no
  version counter: ``np.may_share_memory`` (bounds) first, then the exact test.
- Values are held only while the statement runs; classes seen to be plain are remembered (the
  fast path is ``value.__class__ in plain``), instances never are.
- Each site reports at most once, then stops checking. Nothing here raises into user code:
  a failure of the check is reported once and the statement runs as written.
- After ``%unload_ext`` the runtime is detached (``on_clobber`` None) but stays in builtins, so
  functions instrumented earlier keep working.
"""

from __future__ import annotations

import builtins
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tensorviews.graph.scan import overlaps
from tensorviews.live.value_kinds import container_kind
from tensorviews.rules import Finding

RUNTIME_NAME = "__tensorviews_guard__"
PLAIN_NAME = "__tensorviews_plain__"
TEMP_PREFIX = "__tv_"  # temporaries are __tv_v0__, __tv_c__, ...: dunder names are never mangled
_MAX_PLAIN_CLASSES = 4096
_PLAIN_SEED: tuple[type, ...] = (
    int, float, complex, bool, str, bytes, type(None), list, tuple, dict, set, frozenset,
)


@dataclass(frozen=True)
class Site:
    """One instrumented statement: where it is and what the rules said about it."""

    cell: str  # "In [3]"
    line: int
    statement: str
    finding: Finding
    targets: tuple[str, ...] = ()  # source text of each target and right-hand item
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuntimeClobber:
    """An actual clobber: value ``read`` had been overwritten by the store into ``written``."""

    site: Site
    read: int  # index of the right-hand item
    written: int  # index of the earlier target
    library: str  # "torch" or "numpy"


ClobberListener = Callable[[RuntimeClobber], None]
ProblemListener = Callable[[str], None]


def _array_library(value: Any) -> str | None:
    kind = container_kind(value)
    return kind if kind in ("torch", "numpy") else None


def _may_alias(cls: type) -> bool:
    """Could instances of ``cls`` be views? (np.void elements of structured arrays alias too.)"""
    np = sys.modules.get("numpy")
    torch = sys.modules.get("torch")
    if np is not None and issubclass(cls, (np.ndarray, np.void)):
        return True
    return torch is not None and issubclass(cls, torch.Tensor)


class _NoCheck:
    """What ``begin`` returns when there is nothing to check: every call is a no-op."""

    __slots__ = ()

    def before(self, index: int, container: Any, key: Any) -> None:
        return None


_NO_CHECK = _NoCheck()


class StoreCheck:
    """The checks of one execution of one statement (the checked path)."""

    __slots__ = ("libraries", "runtime", "site_id", "targets", "values", "versions")

    def __init__(self, runtime: GuardRuntime, site_id: int, values: tuple[Any, ...],
                 libraries: list[str | None]) -> None:
        self.runtime = runtime
        self.site_id = site_id
        self.values = values
        self.libraries = libraries
        self.versions = [_version(v) if lib == "torch" else None
                         for v, lib in zip(values, libraries, strict=True)]
        self.targets: list[tuple[Any, Any]] = []

    def before(self, index: int, container: Any, key: Any) -> None:
        """Called just before target ``index`` is stored: check value ``index``, then keep
        the target (container and key, already evaluated) for the later values."""
        try:
            if self.libraries[index] is not None:
                for written, (target, target_key) in enumerate(self.targets):
                    if target is not None and self._clobbered(index, target, target_key):
                        self.runtime.clobbered(self.site_id, index, written,
                                               self.libraries[index] or "")
                        self.libraries = [None] * len(self.libraries)  # once per site
                        break
            self.targets.append((container, key) if _array_library(container) else (None, None))
        except Exception as exc:  # the guard must never fail the user's statement
            self.runtime.problem(f"swap check failed ({type(exc).__name__}: {exc})")
            self.libraries = [None] * len(self.libraries)

    def _clobbered(self, index: int, container: Any, key: Any) -> bool:
        value = self.values[index]
        library = self.libraries[index]
        if library == "torch":
            before = self.versions[index]
            if before is not None and _version(value) == before:
                return False  # nothing wrote into its storage since it was evaluated
            torch = sys.modules["torch"]
            if not isinstance(container, torch.Tensor):
                return False
            with torch.no_grad():
                region = container[key]
            if not region._is_view():  # advanced index: the store wrote somewhere in container
                region = container
            return overlaps(region, value)
        np = sys.modules["numpy"]
        if not isinstance(container, np.ndarray):
            return False
        region = container[key]
        if not isinstance(region, np.ndarray) or not np.may_share_memory(region, container):
            region = container  # a copy (advanced index) or a scalar: judge by the whole array
        return bool(np.may_share_memory(region, value)) and overlaps(region, value)


def _version(tensor: Any) -> int | None:
    try:
        return int(tensor._version)
    except Exception:  # inference tensors have no version counter
        return None


class GuardRuntime:
    """The object instrumented code calls (``__tensorviews_guard__`` in builtins)."""

    slice = builtins.slice  # instrumented code rebuilds ``x[a:b]`` keys with this

    def __init__(self) -> None:
        self.plain: set[type] = set(_PLAIN_SEED)
        self.sites: dict[int, Site] = {}
        self.done: set[int] = set()
        self.on_clobber: ClobberListener | None = None
        self.on_problem: ProblemListener | None = None

    def add_site(self, site: Site) -> int:
        site_id = len(self.sites) + 1
        self.sites[site_id] = site
        return site_id

    def begin(self, site_id: int, values: tuple[Any, ...]) -> StoreCheck | _NoCheck:
        """Start the checked path of one execution (the fast path found a non-plain value)."""
        if site_id in self.done or self.on_clobber is None:
            return _NO_CHECK
        try:
            libraries = [_array_library(v) for v in values]
            for value, library in zip(values[1:], libraries[1:], strict=True):
                cls = value.__class__
                if library is None and len(self.plain) < _MAX_PLAIN_CLASSES and not _may_alias(
                    cls
                ):
                    self.plain.add(cls)  # the next execution takes the fast path
            if not any(libraries[1:]):
                return _NO_CHECK
            return StoreCheck(self, site_id, values, libraries)
        except Exception as exc:
            self.problem(f"swap check failed ({type(exc).__name__}: {exc})")
            return _NO_CHECK

    def clobbered(self, site_id: int, read: int, written: int, library: str) -> None:
        if site_id in self.done:
            return
        self.done.add(site_id)
        site = self.sites.get(site_id)
        listener = self.on_clobber
        if site is not None and listener is not None:
            try:
                listener(RuntimeClobber(site, read, written, library))
            except Exception as exc:
                self.problem(f"swap report failed ({type(exc).__name__}: {exc})")

    def problem(self, line: str) -> None:
        if self.on_problem is not None:
            self.on_problem(line)

    @staticmethod
    def release() -> None:
        """Drop the temporaries of a statement run at module or class level (never in a
        function, whose locals die with it): the user's namespace must not keep views alive."""
        namespace = sys._getframe(1).f_locals
        for name in [n for n in namespace if n.startswith(TEMP_PREFIX) and n.endswith("__")]:
            namespace.pop(name, None)


def installed_runtime() -> GuardRuntime:
    """The runtime in builtins (created once per process, shared by shells)."""
    runtime = getattr(builtins, RUNTIME_NAME, None)
    if not isinstance(runtime, GuardRuntime):
        runtime = GuardRuntime()
        setattr(builtins, RUNTIME_NAME, runtime)
    if getattr(builtins, PLAIN_NAME, None) is not runtime.plain:
        setattr(builtins, PLAIN_NAME, runtime.plain)
    return runtime
