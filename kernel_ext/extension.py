"""IPython glue: the post-run-cell hook and the ``%tensorgraph`` magic.

Thin on purpose: the analysis is ``Snapshotter`` (no IPython), the drawing is ``render_dot``
and ``render_text``. Nothing here may raise into a user's cell: every failure becomes one
short line on stderr, printed once per distinct problem, and the cell's own result is left
alone. The extension keeps no reference to user objects; graphs are plain data.
"""

from __future__ import annotations

import contextlib
import shlex
import sys
from collections.abc import Callable
from typing import Any

from kernel_ext.graph import MIME_TYPE, StorageGraph
from kernel_ext.namespace_walk import is_ipython_name
from kernel_ext.render_dot import GraphvizMissing
from kernel_ext.scan import Snapshotter

FORMATS = ("svg", "dot", "json", "text")
USAGE = "usage: %tensorgraph [NAME ...] [--format svg|dot|json|text]"
_STATE_ATTR = "_tensorviews_state"

GraphListener = Callable[[StorageGraph], None]
Subcommand = Callable[[str], None]  # receives the rest of the `%tensorviews <name> ...` line


class TensorViews:
    """Per-shell state: the snapshotter (weak caches only) and the last graph."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.snapshotter = Snapshotter()
        self.graph: StorageGraph | None = None
        self.reported: set[str] = set()
        # Features (guard, live channel, ...) plug in here instead of editing the hook:
        # listeners get every new graph; subcommands extend the `%tensorviews` magic.
        self.graph_listeners: list[GraphListener] = []
        self.subcommands: dict[str, Subcommand] = {}
        self.uninstallers: list[Callable[[], None]] = []

    # --- hook -------------------------------------------------------------------------
    def post_run_cell(self, result: Any = None) -> None:
        """Rebuild the graph after each cell; never raise, report problems once."""
        try:
            self.graph = self.take_snapshot()
        except Exception as exc:  # the extension failing must not fail the user's cell
            self.report(f"storage graph not updated ({type(exc).__name__}: {exc})")
            return
        self.notify(self.graph)

    def notify(self, graph: StorageGraph) -> None:
        for listener in self.graph_listeners:
            try:
                listener(graph)
            except Exception as exc:
                self.report(f"{_name_of(listener)} failed ({type(exc).__name__}: {exc})")

    def take_snapshot(self) -> StorageGraph:
        hidden = getattr(self.shell, "user_ns_hidden", {})

        def skip(name: str) -> bool:
            return name in hidden or is_ipython_name(name)

        graph = self.snapshotter.snapshot(self.shell.user_ns, skip=skip)
        for problem in graph.problems:
            self.report(problem)
        return graph

    def report(self, line: str) -> None:
        if line not in self.reported:
            self.reported.add(line)
            print(f"tensorviews: {line}", file=sys.stderr)

    # --- %tensorviews -------------------------------------------------------------------
    def tensorviews(self, line: str) -> None:
        """%tensorviews SUBCOMMAND ...: settings of the extension (see each subcommand)."""
        from IPython.core.error import UsageError

        name, _, rest = line.strip().partition(" ")
        command = self.subcommands.get(name)
        if command is None:
            known = ", ".join(sorted(self.subcommands)) or "none yet"
            raise UsageError(f"unknown %tensorviews subcommand {name!r} (known: {known})")
        command(rest.strip())

    # --- %tensorgraph -------------------------------------------------------------------
    def tensorgraph(self, line: str) -> None:
        """%tensorgraph [NAME ...] [--format svg|dot|json|text]: draw the storage graph."""
        from IPython.core.error import UsageError
        from IPython.display import display

        try:
            names, fmt = parse_tensorgraph_args(line)
        except ValueError as exc:
            raise UsageError(f"{exc}. {USAGE}") from None
        try:
            graph = self.graph = self.take_snapshot()
        except Exception as exc:
            self.report(f"storage graph failed ({type(exc).__name__}: {exc})")
            return
        if names:
            missing = [n for n in names if not graph.subgraph([n]).tensors]
            if missing:
                raise UsageError(f"no tensor or array named {', '.join(missing)}")
            graph = graph.subgraph(names)
        display(self.bundle(graph, fmt), raw=True)  # type: ignore[no-untyped-call]

    def bundle(self, graph: StorageGraph, fmt: str | None) -> dict[str, Any]:
        if fmt == "text":
            return {"text/plain": graph.to_text()}
        if fmt == "dot":
            return {"text/plain": graph.to_dot()}
        if fmt == "json":
            data = graph.to_dict()
            return {MIME_TYPE: data, "application/json": data, "text/plain": graph.to_json(2)}
        bundle: dict[str, Any] = {"text/plain": graph.to_text()}
        if fmt is None:
            bundle[MIME_TYPE] = graph.to_dict()
        try:
            bundle["image/svg+xml"] = graph.to_svg()
        except GraphvizMissing as exc:
            self.report(str(exc))
        return bundle


def parse_tensorgraph_args(line: str) -> tuple[list[str], str | None]:
    """Split ``%tensorgraph`` arguments into names and the format (None: the full bundle)."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise ValueError(f"cannot parse arguments ({exc})") from None
    names: list[str] = []
    fmt: str | None = None
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("--format"):
            if "=" in word:
                value = word.split("=", 1)[1]
            elif i + 1 < len(words):
                i += 1
                value = words[i]
            else:
                raise ValueError("--format needs a value")
            if value not in FORMATS:
                raise ValueError(f"unknown format {value!r}")
            fmt = value
        elif word.startswith("-"):
            raise ValueError(f"unknown option {word!r}")
        else:
            names.append(word)
        i += 1
    return names, fmt


def _name_of(obj: object) -> str:
    return getattr(obj, "__qualname__", type(obj).__name__)


# Each feature module has `install(state) -> None`; it may append to graph_listeners,
# subcommands and uninstallers. Listed here so `%unload_ext` knows every hook.
FEATURES: list[str] = ["kernel_ext.live"]


def load(shell: Any) -> None:
    if getattr(shell, _STATE_ATTR, None) is not None:
        return  # already loaded: %load_ext twice must not register hooks twice
    state = TensorViews(shell)
    setattr(shell, _STATE_ATTR, state)
    shell.events.register("post_run_cell", state.post_run_cell)
    shell.register_magic_function(state.tensorgraph, "line", "tensorgraph")
    shell.register_magic_function(state.tensorviews, "line", "tensorviews")
    import importlib

    for module_name in FEATURES:
        try:
            importlib.import_module(module_name).install(state)
        except Exception as exc:
            state.report(f"{module_name} not loaded ({type(exc).__name__}: {exc})")


def unload(shell: Any) -> None:
    state: TensorViews | None = getattr(shell, _STATE_ATTR, None)
    if state is None:
        return
    for uninstall in reversed(state.uninstallers):
        try:
            uninstall()
        except Exception as exc:
            state.report(f"{_name_of(uninstall)} failed ({type(exc).__name__}: {exc})")
    with contextlib.suppress(ValueError):  # already removed by the user
        shell.events.unregister("post_run_cell", state.post_run_cell)
    shell.magics_manager.magics["line"].pop("tensorgraph", None)
    shell.magics_manager.magics["line"].pop("tensorviews", None)
    setattr(shell, _STATE_ATTR, None)
