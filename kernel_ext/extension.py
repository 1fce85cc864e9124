"""IPython glue: the post-run-cell hook and the ``%tensorgraph`` magic.

Thin on purpose: the analysis is ``Snapshotter`` (no IPython), the drawing is ``render_dot``
and ``render_text``. Nothing here may raise into a user's cell: every failure becomes one
short line on stderr, printed once per distinct problem, and the cell's own result is left
alone. The extension keeps no reference to user objects; graphs are plain data.
"""

from __future__ import annotations

import shlex
import sys
from typing import Any

from kernel_ext.graph import MIME_TYPE, StorageGraph
from kernel_ext.namespace_walk import is_ipython_name
from kernel_ext.render_dot import GraphvizMissing
from kernel_ext.snapshot import Snapshotter

FORMATS = ("svg", "dot", "json", "text")
USAGE = "usage: %tensorgraph [NAME ...] [--format svg|dot|json|text]"
_STATE_ATTR = "_tensorviews_state"


class TensorViews:
    """Per-shell state: the snapshotter (weak caches only) and the last graph."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.snapshotter = Snapshotter()
        self.graph: StorageGraph | None = None
        self.reported: set[str] = set()

    # --- hook -------------------------------------------------------------------------
    def post_run_cell(self, result: Any = None) -> None:
        """Rebuild the graph after each cell; never raise, report problems once."""
        try:
            self.graph = self.take_snapshot()
        except Exception as exc:  # the extension failing must not fail the user's cell
            self.report(f"storage graph not updated ({type(exc).__name__}: {exc})")

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
        display(self.bundle(graph, fmt), raw=True)

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


def load(shell: Any) -> None:
    if getattr(shell, _STATE_ATTR, None) is not None:
        return  # already loaded: %load_ext twice must not register hooks twice
    state = TensorViews(shell)
    setattr(shell, _STATE_ATTR, state)
    shell.events.register("post_run_cell", state.post_run_cell)
    shell.register_magic_function(state.tensorgraph, "line", "tensorgraph")


def unload(shell: Any) -> None:
    state: TensorViews | None = getattr(shell, _STATE_ATTR, None)
    if state is None:
        return
    try:
        shell.events.unregister("post_run_cell", state.post_run_cell)
    except ValueError:
        pass
    shell.magics_manager.magics["line"].pop("tensorgraph", None)
    setattr(shell, _STATE_ATTR, None)
