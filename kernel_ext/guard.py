"""The kernel guard: swap-of-views statements caught before (and while) a cell runs.

``%tensorviews guard warn|error|fix|off`` (``warn`` by default; no argument prints the mode).

How it hooks into IPython, and why:
- An ``input_transformers_post`` function sees the exact Python text IPython will parse (magics
  already turned into calls, so ``%``/``!``/``%%`` lines never break the analysis). It runs
  the rules on that text (cached: ipykernel transforms a cell twice), in ``fix`` mode returns
  it with the rules' first fix applied to each certain finding, and registers the AST hook
  only when the cell has something to show or instrument. It displays nothing itself.
- An ``ast_transformers`` entry runs once per execution, on the tree parsed from that text
  (checked by a fingerprint of the top-level statements, so ``%timeit``'s setup or a silent
  request is never mistaken for the cell). There it shows the warnings (``warn``), announces
  rewrites (``fix``), or rejects the cell (``error``: an ``InputRejected`` whose
  ``_render_traceback_`` is our one message, so nothing runs, no traceback, and "run all"
  stops like on any error), and instruments the "possible" TV001 statements
  (``guard_instrument``) so that ``guard_runtime`` reports an actual clobber once, when it
  happens. TV002 "possible" findings are not confirmed at run time (they show nothing).
- Types: the names the cell uses, looked up in the live namespace (``guard_types``); names the
  cell assigns itself are what the rules infer. Certain findings (severity error) warn before
  the run; possible ones are left to the run-time check, so a list or a numpy scalar swap
  inside an unannotated function never warns.
- A syntax error gives no analysis: the user sees Python's own error. Any failure of the guard
  becomes one ``state.report`` line and the cell runs as written.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from IPython.core.error import InputRejected, UsageError

from kernel_ext.extension import TensorViews
from kernel_ext.guard_instrument import SwapInstrumenter
from kernel_ext.guard_render import blocked_lines, rewrite_bundle, runtime_bundle, warning_bundle
from kernel_ext.guard_runtime import RuntimeClobber, Site, SwapStopped, installed_runtime
from kernel_ext.guard_types import namespace_facts, used_paths
from tensorviews.rules import (
    RULES_BY_CODE,
    Finding,
    apply_text_edits,
    find_swap_hazards_in_cells,
)

MODES = ("warn", "error", "fix", "off")
DESCRIPTIONS = {
    "warn": "swaps of views are reported before they run, and at run time",
    "error": "cells with a swap of views are not run, and a swap found at run time stops the cell",
    "fix": "swaps of views are corrected before they run, and at run time",
    "off": "nothing is checked",
}
# A leading ``%tensorviews guard MODE`` line, as IPython hands it to the input transformers.
_LEADING_MODE = re.compile(
    r"\s*get_ipython\(\)\.run_line_magic\(['\"]tensorviews['\"], ['\"]guard\s+(\w+)\s*['\"]\)")
Fingerprint = tuple[tuple[str, int, int, int | None, int | None], ...]


class SwapBlocked(InputRejected):  # type: ignore[misc]
    """``error`` mode: the cell holds a swap of views and was not run."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines

    def _render_traceback_(self) -> list[str]:
        return self.lines  # shown instead of a traceback, in terminals and notebooks alike


@dataclass
class Analysis:
    """The rules' verdict on one cell text."""

    fingerprint: Fingerprint
    certain: list[Finding]
    possible: list[Finding]
    rewrites: list[tuple[int, str, Finding]] = field(default_factory=list)  # fix mode


def fingerprint(tree: ast.Module) -> Fingerprint:
    return tuple(
        (type(s).__name__, s.lineno, s.col_offset, s.end_lineno, s.end_col_offset)
        for s in tree.body
    )


class Guard:
    """Per-shell guard: mode, the two IPython hooks, and the run-time listener."""

    def __init__(self, state: TensorViews) -> None:
        self.state = state
        self.shell = state.shell
        self.mode = "warn"
        self.runtime = installed_runtime()
        self.ast_hook = _AstHook(self)
        self._captured: tuple[str, int] | None = None  # (text IPython will parse, In [n])
        self._analysed: tuple[tuple[str, int], Analysis | None] | None = None

    # --- hooks ------------------------------------------------------------------------
    def install(self) -> None:
        self.shell.input_transformers_post.append(self.capture)
        self.runtime.on_clobber = self.on_clobber
        self.runtime.on_problem = self.state.report
        self.runtime.mode = self.mode
        self.state.subcommands["guard"] = self.command
        self.state.status_lines.append(self.status)
        self.state.uninstallers.append(self.uninstall)

    def uninstall(self) -> None:
        if self.capture in self.shell.input_transformers_post:
            self.shell.input_transformers_post.remove(self.capture)
        if self.ast_hook in self.shell.ast_transformers:
            self.shell.ast_transformers.remove(self.ast_hook)
        if self.runtime.on_clobber == self.on_clobber:
            self.runtime.on_clobber = None  # instrumented functions keep running, unchecked
            self.runtime.on_problem = None
        self.state.subcommands.pop("guard", None)
        if self.status in self.state.status_lines:
            self.state.status_lines.remove(self.status)

    def capture(self, lines: list[str]) -> list[str]:
        """Input transformer (last): analyse the text IPython will parse; in fix mode, return
        it fixed. The AST hook is registered only while a cell needs it: IPython walks the
        whole tree (``fix_missing_locations``) whenever any AST transformer is registered."""
        self._captured = None
        leading = _LEADING_MODE.match("".join(lines[:1]))
        if leading is not None and leading.group(1) in MODES:
            self._set_mode(leading.group(1))  # the magic's own line applies to its cell
        if self.mode == "off":
            self._use_ast_hook(False)
            return lines
        try:
            source = "".join(lines)
            count = int(getattr(self.shell, "execution_count", 0) or 0)
            analysis = self.analyse(source, count)
            if self.mode == "fix" and analysis is not None and analysis.rewrites:
                fixed = _apply_fixes(source, analysis)
                fixed_analysis = self.analyse(fixed, count)
                if fixed_analysis is not None:  # a fix must never make a syntax error
                    fixed_analysis.rewrites = analysis.rewrites
                    source, analysis = fixed, fixed_analysis
                    lines = fixed.splitlines(keepends=True)
            self._captured = (source, count)
            self._use_ast_hook(
                analysis is not None
                and bool(analysis.certain or analysis.possible or analysis.rewrites)
            )
        except Exception as exc:
            self.state.report(f"guard skipped a cell ({type(exc).__name__}: {exc})")
        return lines

    def _use_ast_hook(self, wanted: bool) -> None:
        # Never called while IPython iterates ast_transformers (capture runs before parsing).
        present = self.ast_hook in self.shell.ast_transformers
        if wanted and not present:
            self.shell.ast_transformers.append(self.ast_hook)
        elif present and not wanted:
            self.shell.ast_transformers.remove(self.ast_hook)

    def transform(self, node: ast.AST) -> ast.AST:
        """AST transformer: warn / reject / announce, then instrument possible swaps."""
        captured, self._captured = self._captured, None
        if self.mode == "off" or captured is None or not isinstance(node, ast.Module):
            return node
        try:
            analysis = self.analyse(*captured)
            if analysis is None or analysis.fingerprint != fingerprint(node):
                return node
            cell = f"In [{captured[1]}]"
            if self.mode == "error" and analysis.certain:
                blocked = SwapBlocked(blocked_lines(analysis.certain, cell))
            else:
                blocked = None
                self.show(analysis, cell)
            if blocked is None:
                return self.instrument(node, analysis, captured[0], cell)
        except Exception as exc:
            self.state.report(f"guard skipped a cell ({type(exc).__name__}: {exc})")
            return node
        raise blocked

    # --- analysis ---------------------------------------------------------------------
    def analyse(self, source: str, count: int) -> Analysis | None:
        """The rules on ``source`` with the namespace's types (cached: one text per run)."""
        key = (source, count)
        if self._analysed is not None and self._analysed[0] == key:
            return self._analysed[1]
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError):
            result: Analysis | None = None  # Python reports it; we say nothing
        else:
            if not _stores_into_subscript(tree):
                # Both rules need a store into a subscript: most cells have none, and this
                # runs before every cell, so they skip the namespace lookup and the rules.
                self._analysed = (key, Analysis(fingerprint(tree), [], [], []))
                return self._analysed[1]
            facts = namespace_facts(used_paths(tree), self.shell.user_ns)
            cells = ["\n".join(facts.prelude), source]
            findings = find_swap_hazards_in_cells(
                cells, known_types=facts.known_types, known_ndims=facts.known_ndims
            )[1]
            certain = [f for f in findings if f.severity != "information"]
            possible = [f for f in findings if f.severity == "information"
                        and RULES_BY_CODE[f.code].checked_at_run_time]
            rewrites = [(f.fixes[0].edits[0].range.line, f.fixes[0].fixed_statement, f)
                        for f in certain if f.fixes and f.fixes[0].edits]
            result = Analysis(fingerprint(tree), certain, possible, rewrites)
        self._analysed = (key, result)
        return result

    def show(self, analysis: Analysis, cell: str) -> None:
        from IPython.display import display

        if self.mode == "fix":
            for line, fixed, finding in analysis.rewrites:
                display(rewrite_bundle(line, fixed, finding), raw=True)  # type: ignore[no-untyped-call]
        for finding in analysis.certain:  # in fix mode: what the fixes could not repair
            display(warning_bundle(finding, cell), raw=True)  # type: ignore[no-untyped-call]

    def instrument(self, node: ast.Module, analysis: Analysis, source: str, cell: str) -> ast.AST:
        if not analysis.possible:
            return node
        lines = source.splitlines()
        findings: dict[tuple[int, int], Finding] = {}
        for finding in analysis.possible:
            start = finding.range
            text = lines[start.line - 1] if start.line <= len(lines) else ""
            findings[(start.line, len(text[: start.column].encode("utf-8")))] = finding  # bytes

        def site_for(statement: ast.Assign) -> int | None:
            finding = findings[(statement.lineno, statement.col_offset)]
            target, value = statement.targets[0], statement.value
            if not isinstance(target, (ast.Tuple, ast.List)) or not isinstance(
                value, (ast.Tuple, ast.List)
            ):
                return None
            end = finding.range.end_line
            text = "\n".join(lines[finding.range.line - 1 : end]).strip()
            site = Site(cell, finding.range.line, text, finding,
                        tuple(ast.unparse(t) for t in target.elts),
                        tuple(ast.unparse(v) for v in value.elts))
            return self.runtime.add_site(site)

        instrumented: ast.AST = SwapInstrumenter(findings, site_for).visit(node)
        return instrumented

    # --- run time -----------------------------------------------------------------------
    def on_clobber(self, event: RuntimeClobber) -> None:
        from IPython.display import display

        site = event.site

        def text(texts: tuple[str, ...], index: int) -> str:
            return texts[index] if index < len(texts) else "?"

        names = (text(site.items, event.read), text(site.targets, event.written),
                 text(site.targets, event.read))
        bundle = runtime_bundle(site.finding, site.cell, site.line, site.statement, names,
                                event.library, event.fixed)
        if self.mode == "error":
            raise SwapStopped(bundle["text/plain"].splitlines())
        display(bundle, raw=True)  # type: ignore[no-untyped-call]

    # --- %tensorviews guard ---------------------------------------------------------------
    def status(self) -> str:
        return f"tensorviews guard: {self.mode}"

    def command(self, rest: str) -> None:
        """%tensorviews guard [warn|error|fix|off]: set (or show) what the guard does."""
        mode = rest.strip()
        if not mode:
            print(self.status())
            return
        if mode not in MODES:
            raise UsageError(f"unknown guard mode {mode!r} (one of: {', '.join(MODES)})")
        self._set_mode(mode)
        self._captured = None
        print(f"tensorviews guard: {mode} ({DESCRIPTIONS[mode]})")

    def _set_mode(self, mode: str) -> None:
        self.mode = mode
        self.runtime.mode = mode


class _AstHook:
    """What IPython calls (``visit``); a separate object so IPython can list and remove it."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    def visit(self, node: ast.AST) -> ast.AST:
        return self.guard.transform(node)


def _stores_into_subscript(tree: ast.AST) -> bool:
    return any(
        isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store)
        for node in ast.walk(tree)
    )


def _apply_fixes(source: str, analysis: Analysis) -> str:
    edits = []
    taken: list[tuple[tuple[int, int], tuple[int, int]]] = []
    for finding in analysis.certain:
        if not finding.fixes:
            continue
        fix_edits = finding.fixes[0].edits
        spans = [((e.range.line, e.range.column), (e.range.end_line, e.range.end_column))
                 for e in fix_edits]
        if any(a < d and c < b for a, b in spans for c, d in taken):
            continue  # two fixes for one spot: keep the first
        taken += spans
        edits += list(fix_edits)
    return apply_text_edits(source, edits)


def install(state: TensorViews) -> None:
    Guard(state).install()
