"""IPython glue: the post-run-cell hook and the ``%tensorgraph`` / ``%tensorviews`` magics.

Thin on purpose: the analysis is the cores' ``Snapshotter``, what is shown is the cores'
``view``, the drawing is the cores' renderer. Nothing here may raise into a user's cell: every
failure becomes one short line on stderr, printed once per distinct problem, and the cell's own
result is left alone. The extension keeps no reference to user objects; graphs are plain data.
The magics are an IPython ``Magics`` class with ``magic_arguments``, so ``%tensorgraph --help``
and argument errors come from IPython itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import sys
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

from tensorviews.graph.model import MIME_TYPE, StorageGraph
from tensorviews.graph.namespace_walk import WalkLimits, is_ipython_name
from tensorviews.graph.scan import Snapshotter
from tensorviews.insight import DEFAULT_MIN_WASTE, GraphChanges, diff_graphs
from tensorviews.render.dot import GraphvizMissing
from tensorviews.view import DEFAULT_MAX_NODES, ViewOptions, view, view_document

FORMATS = ("svg", "dot", "json", "text")
AUTO_MODES = ("off", "scan", "on")
_STATE_ATTR = "_tensorviews_state"

GraphListener = Callable[[StorageGraph], None]
Subcommand = Callable[[str], None]  # receives the rest of the `%tensorviews <name> ...` line
StatusLine = Callable[[], str]  # one line of `%tensorviews` alone: a feature's settings


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
        self.snapshotter = Snapshotter()
        self.graph: StorageGraph | None = None
        self.changes: GraphChanges | None = None
        self.reported: set[str] = set()
        self._name_rule: tuple[tuple[int, int], Callable[[str], bool]] | None = None
        self.auto = "scan"
        self.max_nodes = DEFAULT_MAX_NODES
        self.min_waste = DEFAULT_MIN_WASTE
        # Features (guard, live channel, ...) plug in here instead of editing the hook:
        # listeners get every new graph; subcommands extend the `%tensorviews` magic.
        self.graph_listeners: list[GraphListener] = []
        self.subcommands: dict[str, Subcommand] = {}
        self.status_lines: list[StatusLine] = []
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

    def notify(self, graph: StorageGraph) -> None:
        for listener in self.graph_listeners:
            try:
                listener(graph)
            except Exception as exc:
                self.report(f"{_name_of(listener)} failed ({type(exc).__name__}: {exc})")

    def take_snapshot(self) -> StorageGraph:
        graph = self.snapshotter.snapshot(self.shell.user_ns, skip=self.name_rule())
        for problem in graph.problems:
            self.report(problem)
        return graph

    def name_rule(self) -> Callable[[str], bool]:
        """Which top-level names are not the user's: IPython's own and its hidden ones. The
        same function while the hidden names are the same, so the snapshotter asks it once
        per new name rather than for every name after every cell."""
        hidden = getattr(self.shell, "user_ns_hidden", {})
        key = (id(hidden), len(hidden))
        if self._name_rule is None or self._name_rule[0] != key:

            def skip(name: str) -> bool:
                return name in hidden or is_ipython_name(name)

            self._name_rule = (key, skip)
        return self._name_rule[1]

    def report(self, line: str) -> None:
        if line not in self.reported:
            self.reported.add(line)
            print(f"tensorviews: {line}", file=sys.stderr)

    def set_auto(self, rest: str) -> None:
        """%tensorviews auto [off|scan|on]: what happens after each cell (no value: show it)."""
        if not rest:
            print(f"tensorviews auto: {self.auto}")
            return
        if rest not in AUTO_MODES:
            raise UsageError(f"%tensorviews auto takes one of {', '.join(AUTO_MODES)}")
        self.auto = rest
        print(f"tensorviews auto: {self.auto}")

    def configure(self, rest: str) -> None:
        """%tensorviews config [KEY=VALUE ...]: walk bounds and drawing limits."""
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

    # --- drawing ------------------------------------------------------------------------
    def view_options(self, show_all: bool = False, max_nodes: int | None = None) -> ViewOptions:
        return ViewOptions(
            show_all=show_all, max_nodes=max_nodes or self.max_nodes, min_waste=self.min_waste
        )

    def display_graph(
        self, graph: StorageGraph, show_all: bool = False, max_nodes: int | None = None
    ) -> StorageGraph:
        """``graph`` as every face draws it (the cores' ``view``), with this shell's settings
        and the changes since the previous cell."""
        return view(graph, self.changes, self.view_options(show_all, max_nodes))

    def status(self) -> list[str]:
        """What ``%tensorviews`` alone prints: one line per setting group."""
        limits = dataclasses.asdict(self.snapshotter.limits)
        config = {**limits, "max_nodes": self.max_nodes, "min_waste_bytes": self.min_waste}
        lines = [f"tensorviews auto: {self.auto}"]
        for provider in self.status_lines:
            try:
                lines.append(provider())
            except Exception as exc:
                lines.append(f"{_name_of(provider)} failed ({type(exc).__name__}: {exc})")
        lines.append("tensorviews config: " + " ".join(f"{k}={v}" for k, v in config.items()))
        return lines

    def bundle(self, graph: StorageGraph, fmt: str | None) -> dict[str, Any]:
        if fmt == "text":
            return {"text/plain": graph.to_text()}
        if fmt == "dot":
            return {"text/plain": graph.to_dot()}
        if fmt == "json":
            data = view_document(graph)
            return {MIME_TYPE: data, "application/json": data, "text/plain": graph.to_json(2)}
        bundle: dict[str, Any] = {"text/plain": graph.to_text()}
        if fmt is None:
            bundle[MIME_TYPE] = view_document(graph)
        try:
            bundle["image/svg+xml"] = graph.to_svg()
        except GraphvizMissing as exc:
            self.report(str(exc))
        return bundle


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError(text)
    return int(text)


_positive_int.__name__ = "positive whole number"  # what argparse names in its one-line error


@magics_class
class TensorViewsMagics(Magics):
    """``%tensorgraph`` and ``%tensorviews``, bound to one shell's ``TensorViews`` state."""

    def __init__(self, shell: Any, state: TensorViews) -> None:
        super().__init__(shell)
        self.state = state

    @magic_arguments()
    @argument("-h", "--help", action="store_true", help="show this help and exit")
    @argument("names", nargs="*", metavar="NAME",
              help="draw only these names (access-path prefixes work: model.encoder)")
    @argument("--all", dest="show_all", action="store_true",
              help="draw everything, not just what shares or wastes memory (still capped)")
    @argument("--max-nodes", type=_positive_int, default=None, metavar="N",
              help="draw at most N tensors; the rest fold into 'N more' groups")
    @argument("--format", choices=FORMATS, default=None,
              help="one format instead of the bundle (SVG + graph JSON + text)")
    @line_magic
    def tensorgraph(self, line: str) -> None:
        """Draw the storage graph of this namespace's tensors and arrays.

        By default only what is interesting is drawn (shared storages, overlaps, memory pinned
        by small views, new sharing) once there are more than 40 tensors.
        """
        args = parse_argstring(self.tensorgraph, line)
        if args.help:
            print(self.tensorgraph.__doc__)
            return
        state = self.state
        try:
            state.snapshotter.invalidate()  # asked for: no shortcut, every object looked at
            graph = state.update()
        except Exception as exc:
            state.report(f"storage graph failed ({type(exc).__name__}: {exc})")
            return
        if args.names:
            missing = [n for n in args.names if not graph.subgraph([n]).tensors]
            if missing:
                raise UsageError(f"no tensor or array named {', '.join(missing)}")
            graph = graph.subgraph(args.names)
        shown = state.display_graph(graph, args.show_all or bool(args.names), args.max_nodes)
        display(state.bundle(shown, args.format), raw=True)  # type: ignore[no-untyped-call]

    @magic_arguments()
    @argument("-h", "--help", action="store_true", help="show this help and exit")
    @argument("words", nargs="*", metavar="SUBCOMMAND [VALUE ...]",
              help="auto off|scan|on; guard warn|error|fix|off; live on|off|status; "
                   "config KEY=VALUE ...; nothing: print every setting")
    @line_magic
    def tensorviews(self, line: str) -> None:
        """Settings of the Tensor Views extension; alone, print them all."""
        args = parse_argstring(self.tensorviews, line)
        if args.help:
            print(self.tensorviews.__doc__)
            return
        words = args.words
        if not words:
            print("\n".join(self.state.status()))
            return
        command = self.state.subcommands.get(words[0])
        if command is None:
            known = ", ".join(sorted(self.state.subcommands))
            raise UsageError(f"unknown %tensorviews subcommand {words[0]!r} (known: {known})")
        command(" ".join(words[1:]))


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
    shell.register_magics(TensorViewsMagics(shell, state))
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
    # IPython has no call to unregister a Magics instance: forget its magics and the instance.
    shell.magics_manager.magics["line"].pop("tensorgraph", None)
    shell.magics_manager.magics["line"].pop("tensorviews", None)
    shell.magics_manager.registry.pop(TensorViewsMagics.__name__, None)
    setattr(shell, _STATE_ATTR, None)
