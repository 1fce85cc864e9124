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

from tensorviews.graph.pair_overlap import overlaps
from tensorviews.live.value_kinds import container_kind
from tensorviews.rules import Finding

RUNTIME_NAME = "__tensorviews_guard__"
PLAIN_NAME = "__tensorviews_plain__"
TEMP_PREFIX = "tensorviews."  # temporaries are "tensorviews.v0", ...: no user code can name them
TYPE_NAME = "__tensorviews_type__"  # builtins.type and builtins.id, safe from user globals
ID_NAME = "__tensorviews_id__"
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
    fixed: bool = False  # fix mode: the statement stored a copy of the value instead


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


class _Pass:
    """What ``begin`` returns when there is nothing to check: each store gets its value."""

    __slots__ = ("values",)

    def __init__(self, values: tuple[Any, ...]) -> None:
        self.values = values

    def before(self, index: int, container: Any, key: Any) -> Any:
        return self.values[index]


class SwapStopped(Exception):
    """``error`` mode: a swap of views was about to clobber a value; nothing was stored."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines

    def _render_traceback_(self) -> list[str]:
        return self.lines  # shown instead of a traceback


class StoreCheck:
    """The checks of one execution of one statement (the checked path)."""

    __slots__ = ("libraries", "runtime", "site_id", "values")

    def __init__(self, runtime: GuardRuntime, site_id: int, values: tuple[Any, ...],
                 libraries: list[str | None]) -> None:
        self.runtime = runtime
        self.site_id = site_id
        self.values = list(values)
        self.libraries = libraries

    def before(self, index: int, container: Any, key: Any) -> Any:
        """Called just before target ``index`` is stored; returns the value to store. A later
        value that this store would overwrite is reported (and, in ``fix`` mode, replaced by
        a copy of itself, so the statement then works like a real swap)."""
        values = self.values
        try:
            libraries = self.libraries
            if container is not None and any(libraries[index + 1:]):
                region: Any = None
                for later in range(index + 1, len(values)):
                    library = libraries[later]
                    if library is None:
                        continue
                    if region is None:
                        region = _region(container, key)
                        if region is None:
                            break
                    if _overlaps(region, values[later], library):
                        values[later] = self.runtime.clobbered(
                            self.site_id, later, index, library, values[later])
                        if self.runtime.mode != "fix":
                            self.libraries = [None] * len(libraries)  # once per site
                            break
        except SwapStopped:
            raise
        except Exception as exc:  # the guard must never fail the user's statement
            self.runtime.problem(f"swap check failed ({type(exc).__name__}: {exc})")
            self.libraries = [None] * len(self.libraries)
        return values[index]


def _region(container: Any, key: Any) -> Any:
    """The memory the store ``container[key] = ...`` writes (metadata only), or None when the
    container is no array. The library's own indexing runs, never a subclass's override."""
    tp = type(container)
    torch = sys.modules.get("torch")
    if torch is not None and issubclass(tp, torch.Tensor):
        with torch.no_grad(), torch._C.DisableTorchFunctionSubclass():
            region = torch.Tensor.__getitem__(container, key)
            return region if region._is_view() else container  # advanced index: all of it
    np = sys.modules.get("numpy")
    if np is not None and issubclass(tp, np.ndarray):
        region = np.ndarray.__getitem__(container, key)
        if not issubclass(type(region), np.ndarray) or not np.may_share_memory(region, container):
            return container  # a copy (advanced index) or a scalar: judge by the whole array
        return region
    return None


def _overlaps(region: Any, value: Any, library: str) -> bool:
    if library == "torch":
        torch = sys.modules["torch"]
        if not issubclass(type(region), torch.Tensor):
            return False
        with torch._C.DisableTorchFunctionSubclass():
            return bool(overlaps(region, value))
    np = sys.modules["numpy"]
    if not issubclass(type(region), np.ndarray):
        return False
    return bool(np.may_share_memory(region, value)) and bool(overlaps(region, value))


def _copy(value: Any, library: str) -> Any:
    if library == "torch":
        torch = sys.modules["torch"]
        with torch._C.DisableTorchFunctionSubclass():
            return torch.Tensor.clone(value)
    return sys.modules["numpy"].ndarray.copy(value)


class GuardRuntime:
    """The object instrumented code calls (``__tensorviews_guard__`` in builtins)."""

    slice = builtins.slice  # instrumented code rebuilds ``x[a:b]`` keys with this

    def __init__(self) -> None:
        self.plain: set[int] = {id(cls) for cls in _PLAIN_SEED}  # ids of plain classes
        self._plain_classes: list[type] = list(_PLAIN_SEED)
        self.sites: dict[int, Site] = {}
        self.done: set[int] = set()
        self.on_clobber: ClobberListener | None = None
        self.on_problem: ProblemListener | None = None
        self.mode = "warn"  # the guard's mode: "fix" copies, "error" stops, else reports

    def add_site(self, site: Site) -> int:
        site_id = len(self.sites) + 1
        self.sites[site_id] = site
        return site_id

    def begin(self, site_id: int, values: tuple[Any, ...]) -> StoreCheck | _Pass:
        """Start the checked path of one execution (the fast path found a non-plain value)."""
        if self.on_clobber is None or (site_id in self.done and self.mode not in ("fix", "error")):
            return _Pass(values)
        try:
            libraries = [_array_library(v) for v in values]
            for value, library in zip(values[1:], libraries[1:], strict=True):
                cls = type(value)
                if library is None and len(self.plain) < _MAX_PLAIN_CLASSES and not _may_alias(
                    cls
                ):
                    self.plain.add(id(cls))  # the next execution takes the fast path
                    self._plain_classes.append(cls)  # keeps the id valid
            if not any(libraries[1:]):
                return _Pass(values)
            return StoreCheck(self, site_id, values, libraries)
        except Exception as exc:
            self.problem(f"swap check failed ({type(exc).__name__}: {exc})")
            return _Pass(values)

    def clobbered(self, site_id: int, read: int, written: int, library: str, value: Any) -> Any:
        """Value ``read`` is about to be overwritten by the store into ``written``: report it
        (once per site), stop (``error``: the listener raises SwapStopped) or return a copy
        (``fix``); the result is what the statement stores for ``read``."""
        fixed = self.mode == "fix"
        site = self.sites.get(site_id)
        listener = self.on_clobber
        if (site_id not in self.done or self.mode == "error") and site is not None \
                and listener is not None:
            self.done.add(site_id)
            try:
                listener(RuntimeClobber(site, read, written, library, fixed))
            except SwapStopped:
                raise
            except Exception as exc:
                self.problem(f"swap report failed ({type(exc).__name__}: {exc})")
        return _copy(value, library) if fixed else value

    def problem(self, line: str) -> None:
        if self.on_problem is not None:
            self.on_problem(line)

    @staticmethod
    def release() -> None:
        """Drop the temporaries of a statement run at module or class level (never in a
        function, whose locals die with it): the user's namespace must not keep views alive."""
        namespace = sys._getframe(1).f_locals
        for name in [n for n in namespace if n.startswith(TEMP_PREFIX)]:
            namespace.pop(name, None)


def installed_runtime() -> GuardRuntime:
    """The runtime in builtins (created once per process, shared by shells)."""
    runtime = getattr(builtins, RUNTIME_NAME, None)
    if not isinstance(runtime, GuardRuntime):
        runtime = GuardRuntime()
        setattr(builtins, RUNTIME_NAME, runtime)
    if getattr(builtins, PLAIN_NAME, None) is not runtime.plain:
        setattr(builtins, PLAIN_NAME, runtime.plain)
    setattr(builtins, TYPE_NAME, type)
    setattr(builtins, ID_NAME, id)
    return runtime
