"""IPython glue: the post-run-cell hook, ``%tensorgraph`` and ``%tensorviews``.

Thin on purpose: the analysis is ``Snapshotter`` (no IPython), the drawing is ``render_dot``
and ``render_text``. Nothing here may raise into a user's cell: every failure becomes one
short line on stderr, printed once per distinct problem, and the cell's own result is left
alone. The extension keeps no reference to user objects; graphs are plain data.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shlex
import sys
from collections.abc import Callable
from typing import Any

from kernel_ext.graph import MIME_TYPE, StorageGraph
from kernel_ext.graph_view import (
    DEFAULT_MAX_NODES,
    FULL_VIEW_UP_TO,
    capped_view,
    interesting_view,
)
from kernel_ext.insight import DEFAULT_MIN_WASTE, GraphChanges, annotate, diff_graphs
from kernel_ext.namespace_walk import WalkLimits, is_ipython_name
from kernel_ext.render_dot import GraphvizMissing
from kernel_ext.scan import Snapshotter

FORMATS = ("svg", "dot", "json", "text")
USAGE = "usage: %tensorgraph [NAME ...] [--all] [--max-nodes N] [--format svg|dot|json|text]"
AUTO_MODES = ("off", "scan", "on")
_STATE_ATTR = "_tensorviews_state"

GraphListener = Callable[[StorageGraph], None]
Subcommand = Callable[[str], None]  # receives the rest of the `%tensorviews <name> ...` line


class TensorViews:
    """Per-shell state: the snapshotter (weak caches only), the last graph, the settings.

    ``auto`` says what happens after each cell: ``off`` nothing (graphs only on request),
    ``scan`` (default) the graph is rebuilt, which keeps diffs and the live channel current
    and costs little because unchanged objects are not read again, ``on`` also draws what
    changed (new sharing, storages created or released) under the cell when something did.
    """

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        # Lazy: nodes of big containers are built from the live tensors within the hook
        # that took the snapshot (drawn, written to the live file), never later.
        self.snapshotter = Snapshotter(lazy=True)
        self.graph: StorageGraph | None = None
        self.changes: GraphChanges | None = None
        self.reported: set[str] = set()
        self.auto = "scan"
        self.max_nodes = DEFAULT_MAX_NODES
        self.min_waste = DEFAULT_MIN_WASTE
        # Features (guard, live channel, ...) plug in here instead of editing the hook:
        # listeners get every new graph; subcommands extend the `%tensorviews` magic.
        self.graph_listeners: list[GraphListener] = []
        self.subcommands: dict[str, Subcommand] = {}
        self.uninstallers: list[Callable[[], None]] = []
        self.subcommands["auto"] = self.set_auto
        self.subcommands["config"] = self.configure

    # --- hook -------------------------------------------------------------------------
    def post_run_cell(self, result: Any = None) -> None:
        """Rebuild the graph after each cell; never raise, report problems once."""
        if self.auto == "off":
            return
        try:
            graph = self.update()
            if self.auto == "on" and self.changes and self.changes.sharing_changed:
                from IPython.display import display

                display(self.bundle(self.display_graph(graph), None), raw=True)  # type: ignore[no-untyped-call]
        except Exception as exc:  # the extension failing must not fail the user's cell
            self.report(f"storage graph not updated ({type(exc).__name__}: {exc})")
            return
        self.notify(graph)

    def update(self) -> StorageGraph:
        """Take a snapshot; remember what changed since the previous one."""
        previous = self.graph
        graph = self.take_snapshot()
        if graph is previous:
            self.changes = None  # nothing changed since the last look
        else:
            self.changes = diff_graphs(previous, graph) if previous is not None else None
            self.graph = graph
        return graph

    def display_graph(
        self, graph: StorageGraph, show_all: bool = False, max_nodes: int | None = None
    ) -> StorageGraph:
        """``graph`` as drawn: insight notes, the interesting part (or all), capped."""
        graph, waste = annotate(graph, self.changes, self.min_waste)
        cap = max_nodes or self.max_nodes
        if not show_all and len(graph.tensors) > FULL_VIEW_UP_TO:
            return interesting_view(graph, self.changes, waste, cap)
        return capped_view(graph, cap)

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

    def set_auto(self, rest: str) -> None:
        """%tensorviews auto [off|scan|on]: what happens after each cell (no value: show it)."""
        from IPython.core.error import UsageError

        if not rest:
            print(f"tensorviews auto: {self.auto}")
            return
        if rest not in AUTO_MODES:
            raise UsageError(f"%tensorviews auto takes one of {', '.join(AUTO_MODES)}")
        self.auto = rest

    def configure(self, rest: str) -> None:
        """%tensorviews config [KEY=VALUE ...]: walk bounds and drawing limits."""
        from IPython.core.error import UsageError

        try:
            settings = parse_config(rest)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        limits = dataclasses.asdict(self.snapshotter.limits)
        for key, value in settings.items():
            if key in limits:
                limits[key] = value
            elif key == "max_nodes":
                self.max_nodes = value
            elif key == "min_waste_bytes":
                self.min_waste = value
        self.snapshotter.limits = WalkLimits(**limits)
        self.snapshotter.invalidate()
        current = {**limits, "max_nodes": self.max_nodes, "min_waste_bytes": self.min_waste}
        print("tensorviews config: " + " ".join(f"{k}={v}" for k, v in current.items()))

    # --- %tensorgraph -------------------------------------------------------------------
    def tensorgraph(self, line: str) -> None:
        """%tensorgraph [NAME ...] [--all] [--max-nodes N] [--format F]: draw the graph.

        By default only what is interesting is drawn (shared storages, overlaps, memory pinned
        by small views, new sharing); names focus on access-path prefixes; ``--all`` draws
        everything, folding whatever is past ``--max-nodes`` into "N more" groups.
        """
        from IPython.core.error import UsageError
        from IPython.display import display

        try:
            args = parse_tensorgraph_args(line)
        except ValueError as exc:
            raise UsageError(f"{exc}. {USAGE}") from None
        try:
            self.snapshotter.invalidate()  # asked for: no shortcut, every object looked at
            graph = self.update()
        except Exception as exc:
            self.report(f"storage graph failed ({type(exc).__name__}: {exc})")
            return
        if args.names:
            missing = [n for n in args.names if not graph.subgraph([n]).tensors]
            if missing:
                raise UsageError(f"no tensor or array named {', '.join(missing)}")
            graph = graph.subgraph(args.names)
        shown = self.display_graph(graph, args.show_all or bool(args.names), args.max_nodes)
        display(self.bundle(shown, args.fmt), raw=True)  # type: ignore[no-untyped-call]

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


@dataclasses.dataclass
class TensorgraphArgs:
    names: list[str]
    fmt: str | None = None  # None: the full bundle (SVG + graph JSON + text)
    show_all: bool = False
    max_nodes: int | None = None


def parse_tensorgraph_args(line: str) -> TensorgraphArgs:
    """Parse ``%tensorgraph`` arguments; ``ValueError`` says what is wrong in one line."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise ValueError(f"cannot parse arguments ({exc})") from None
    args = TensorgraphArgs(names=[])
    i = 0
    while i < len(words):
        word = words[i]
        option, has_value, value = word.partition("=")
        if option in ("--format", "--max-nodes"):
            if not has_value:
                if i + 1 >= len(words):
                    raise ValueError(f"{option} needs a value")
                i += 1
                value = words[i]
            if option == "--format":
                if value not in FORMATS:
                    raise ValueError(f"unknown format {value!r}")
                args.fmt = value
            else:
                if not value.isdigit() or int(value) < 1:
                    raise ValueError("--max-nodes takes a positive whole number")
                args.max_nodes = int(value)
        elif word == "--all":
            args.show_all = True
        elif word.startswith("-"):
            raise ValueError(f"unknown option {word!r}")
        else:
            args.names.append(word)
        i += 1
    return args


CONFIG_KEYS = ("max_depth", "max_items", "probe_items", "max_arrays", "max_nodes",
               "min_waste_bytes")


def parse_config(text: str) -> dict[str, int]:
    """``KEY=VALUE`` pairs of whole numbers, keys from ``CONFIG_KEYS``."""
    settings: dict[str, int] = {}
    for word in text.split():
        key, has_value, value = word.partition("=")
        if key not in CONFIG_KEYS:
            raise ValueError(f"unknown setting {key!r} (known: {', '.join(CONFIG_KEYS)})")
        if not has_value or not value.isdigit():
            raise ValueError(f"{key} takes a whole number: {key}=N")
        settings[key] = int(value)
    return settings


def _name_of(obj: object) -> str:
    return getattr(obj, "__qualname__", type(obj).__name__)


# Each feature module has `install(state) -> None`; it may append to graph_listeners,
# subcommands and uninstallers. Listed here so `%unload_ext` knows every hook.
FEATURES: list[str] = ["kernel_ext.live", "kernel_ext.guard"]


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
