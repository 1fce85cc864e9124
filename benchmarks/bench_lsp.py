"""Language server latency through the real stdio protocol, with jedi-language-server as the peer.

    python benchmarks/bench_lsp.py [--lines 10000] [--changes 15] [--hovers 100]
                                   [--big-lines 50000] [--edits 30000]

On a generated module of about 10,000 lines with swaps in it, measures: the rules' time next to
`ast.parse` of the same text (in process), didChange -> publishDiagnostics latency (median; it
includes the server's debounce, shown separately), and hover latency p50/p95 for Tensor Views and,
on the same file and positions, jedi-language-server (from `.venv-peer`, see
scripts/peer-venv.sh). Then, on a fresh server each: hover latency on a small document while a
`--big-lines` document is being analysed, as a ratio to the same hover with the server idle
(measured just before); and the server's resident memory (VmRSS) before and after `--edits`
incremental edits (typing a character and deleting it, a hover after every 1,000). Prints a
table and writes benchmarks/results/lsp.json.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

REPO = Path(__file__).resolve().parents[1]
PEER = REPO / ".venv-peer" / "bin" / "jedi-language-server"
RESULTS = REPO / "benchmarks" / "results" / "lsp.json"
URI = (REPO / "benchmarks" / "generated_module.py").as_uri()
SMALL_URI = (REPO / "benchmarks" / "small_module.py").as_uri()
SMALL = "import torch\na = torch.zeros(3)\nb = torch.ones(3)\na[0], b[0] = b[0], a[0]\n"

BLOCK = '''

def block_{i}(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Block {i}: some tensor work{swap_note}."""
    a = torch.zeros(8)
    b = torch.ones(8)
    z = x * 2 + y
    if z.sum() > 0:
        z = z.relu()
    {statement}
    return z + a.sum() + b.sum()
'''
SWAP = "a[0], b[0] = b[0], a[0]"
SAFE = "a[0], b[0] = b[0].clone(), a[0].clone()"


def generate(lines: int) -> tuple[str, list[types.Position]]:
    """A module of about `lines` lines (every 5th block swaps wrongly) and hover positions."""
    parts = ["import torch\n"]
    swaps: list[int] = []
    others: list[int] = []
    line = 1
    i = 0
    while line < lines:
        swapping = i % 5 == 0
        text = BLOCK.format(
            i=i, swap_note=" and a swap" if swapping else "", statement=SWAP if swapping else SAFE
        )
        (swaps if swapping else others).append(line + 8)  # the statement line, 0-based
        others.append(line + 6)  # `z = x * 2 + y`
        parts.append(text)
        line += text.count("\n")
        i += 1
    return "".join(parts), [types.Position(line=n, character=5) for n in spaced(swaps, others)]


def spaced(swaps: list[int], others: list[int], count: int = 200) -> list[int]:
    """Half on flagged statements, half elsewhere, spread over the whole file."""
    half = count // 2
    picked = zip(evenly(swaps, half), evenly(others, half), strict=True)
    return [row for pair in picked for row in pair]


def evenly(rows: list[int], n: int) -> list[int]:
    """`n` rows taken at even steps through `rows`."""
    return [rows[k * len(rows) // n] for k in range(n)]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Session:
    """One language server process driven like an editor drives it."""

    def __init__(self, command: list[str], options: Any = None) -> None:
        self.command = command
        self.options = options
        self.client = LanguageClient("tensorviews-bench", "1")
        self.published: dict[int, float] = {}

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)  # type: ignore[untyped-decorator]
        def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            if params.uri == URI and params.version is not None:
                self.published.setdefault(params.version, time.perf_counter())

        @self.client.feature(types.WINDOW_LOG_MESSAGE)  # type: ignore[untyped-decorator]
        def on_log(params: types.LogMessageParams) -> None:
            pass

    async def __aenter__(self) -> Session:
        path = os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(REPO)]))
        await self.client.start_io(*self.command, env={**os.environ, "PYTHONPATH": path})
        self._drain = asyncio.create_task(self._drain_stderr())
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(
                    text_document=types.TextDocumentClientCapabilities(
                        hover=types.HoverClientCapabilities(
                            content_format=[types.MarkupKind.Markdown, types.MarkupKind.PlainText]
                        ),
                        publish_diagnostics=types.PublishDiagnosticsClientCapabilities(
                            version_support=True
                        ),
                    )
                ),
                root_uri=REPO.as_uri(),
                initialization_options=self.options,
            )
        )
        self.client.initialized(types.InitializedParams())
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await asyncio.wait_for(self.client.shutdown_async(None), timeout=10)
            self.client.exit(None)
        finally:
            await self.client.stop()  # type: ignore[no-untyped-call]
            self._drain.cancel()

    async def _drain_stderr(self) -> None:
        """Read the server's stderr so a chatty server never blocks on a full pipe."""
        server = self.client._server
        if server is not None and server.stderr is not None:
            while await server.stderr.readline():
                pass

    def open(self, text: str, uri: str = URI) -> None:
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=text
                )
            )
        )

    async def hover_ms(self, uri: str, position: types.Position) -> float:
        started = time.perf_counter()
        await self.client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=position
            )
        )
        return (time.perf_counter() - started) * 1e3

    def rss_kib(self) -> int:
        """The server's resident memory from /proc/<pid>/status."""
        server = self.client._server
        assert server is not None
        status = Path(f"/proc/{server.pid}/status").read_text(encoding="ascii")
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1])

    async def change_latency(self, version: int, text: str, timeout: float = 60) -> float:
        """Seconds from a full-text didChange to the diagnostics of that very version."""
        started = time.perf_counter()
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        while version not in self.published:
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"no diagnostics for version {version}")
            await asyncio.sleep(0.001)
        return self.published[version] - started

    async def hover_latencies(self, positions: list[types.Position]) -> tuple[list[float], int]:
        """Seconds per hover (one warm-up first) and how many hovers had content."""
        document = types.TextDocumentIdentifier(uri=URI)
        await self.client.text_document_hover_async(
            types.HoverParams(text_document=document, position=positions[0])
        )
        samples, answered = [], 0
        for position in positions:
            started = time.perf_counter()
            hover = await self.client.text_document_hover_async(
                types.HoverParams(text_document=document, position=position)
            )
            samples.append(time.perf_counter() - started)
            answered += hover is not None
        return samples, answered


def rules_vs_parse(text: str, repeats: int = 5) -> dict[str, float]:
    """Best-of-N in-process time of `ast.parse` and of the rules on the same text."""
    from tensorviews.rules import find_swap_hazards

    def best(run: Any) -> float:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
        return min(times)

    parse_s = best(lambda: ast.parse(text))
    rules_s = best(lambda: find_swap_hazards(text))
    return {
        "ast_parse_ms": parse_s * 1e3,
        "rules_ms": rules_s * 1e3,
        "rules_over_parse": rules_s / parse_s,
        "findings": len(find_swap_hazards(text)),
    }


async def measure_ours(text: str, changes: int, hovers: list[types.Position]) -> dict[str, Any]:
    from lsp_server.server import TensorViewsServer

    async with Session([sys.executable, "-m", "lsp_server"]) as session:
        session.open(text)
        latencies = []
        for version in range(2, changes + 2):
            # Alternate a trailing comment so every version differs from the cached one.
            latencies.append(await session.change_latency(version, f"{text}# edit {version}\n"))
        hover_s, answered = await session.hover_latencies(hovers)
    debounce = TensorViewsServer.debounce_s
    median = statistics.median(latencies)
    return {
        "did_change_to_diagnostics_ms_median": median * 1e3,
        "did_change_to_diagnostics_ms_min": min(latencies) * 1e3,
        "debounce_ms": debounce * 1e3,
        "did_change_minus_debounce_ms_median": (median - debounce) * 1e3,
        "hover_ms_p50": percentile(hover_s, 0.5) * 1e3,
        "hover_ms_p95": percentile(hover_s, 0.95) * 1e3,
        "hovers": len(hover_s),
        "hovers_with_content": answered,
    }


async def measure_busy_hover(big_lines: int, hovers: int = 50) -> dict[str, Any]:
    """Hover on a small document: idle (baseline), then while a big document is analysed and a
    hover on the big document waits for that analysis."""
    big, _ = generate(big_lines)
    where = types.Position(line=3, character=2)
    # No size limit here: the point is a big document that really is analysed.
    command = [sys.executable, "-m", "lsp_server"]
    async with Session(command, {"tensorviews": {"maxFileSize": 0}}) as session:
        session.open(SMALL, SMALL_URI)
        await session.hover_ms(SMALL_URI, where)  # warm: the small document is analysed
        idle = [await session.hover_ms(SMALL_URI, where) for _ in range(hovers)]
        started = time.perf_counter()
        session.open(big)  # URI's diagnostics (version 1) mark the end of its analysis
        # A hover on the big document needs its analysis (it waits, rightly); the hovers on the
        # small one must not wait with it (they did: the analysis ran on the event loop).
        big_hover = asyncio.create_task(session.hover_ms(URI, types.Position(line=9, character=4)))
        await asyncio.sleep(0)
        busy: list[float] = []
        while not big_hover.done() or 1 not in session.published:
            busy.append(await session.hover_ms(SMALL_URI, where))
            await asyncio.sleep(0.01)
        big_hover_ms = big_hover.result()
        analysis_s = session.published[1] - started
    idle_p50 = percentile(idle, 0.5)
    busy_p50 = percentile(busy, 0.5) if busy else float("nan")
    return {
        "big_document_lines": big.count("\n"),
        "big_document_bytes": len(big.encode()),
        "big_analysis_s": analysis_s,
        "big_document_hover_ms": big_hover_ms,
        "idle_hover_ms_p50": idle_p50,
        "busy_hover_ms_p50": busy_p50,
        "busy_hover_ms_p95": percentile(busy, 0.95) if busy else float("nan"),
        "busy_hover_ms_max": max(busy, default=float("nan")),
        "busy_hovers": len(busy),
        "busy_over_idle_p50": busy_p50 / idle_p50,
    }


async def measure_edit_memory(edits: int, warmup: int = 3_000) -> dict[str, Any]:
    """VmRSS of the server before and after `edits` incremental edits of a small document."""
    where = types.Position(line=3, character=2)
    async with Session([sys.executable, "-m", "lsp_server"]) as session:
        session.open(SMALL, SMALL_URI)
        version = 1

        async def edit(count: int) -> None:
            nonlocal version
            for done in range(1, count + 1):
                version += 1
                inserting = version % 2 == 0
                session.client.text_document_did_change(
                    types.DidChangeTextDocumentParams(
                        text_document=types.VersionedTextDocumentIdentifier(
                            uri=SMALL_URI, version=version
                        ),
                        content_changes=[
                            types.TextDocumentContentChangePartial(
                                range=types.Range(
                                    start=types.Position(line=1, character=0),
                                    end=types.Position(line=1, character=0 if inserting else 1),
                                ),
                                text="#" if inserting else "",
                            )
                        ],
                    )
                )
                if done % 1_000 == 0:
                    await session.hover_ms(SMALL_URI, where)  # answered after every edit before

        await edit(warmup)
        before = session.rss_kib()
        started = time.perf_counter()
        await edit(edits)
        seconds = time.perf_counter() - started
        after = session.rss_kib()
    return {
        "edits": edits,
        "rss_kib_before": before,
        "rss_kib_after": after,
        "rss_growth_kib": after - before,
        "rss_growth_bytes_per_edit": (after - before) * 1024 / edits,
        "edits_per_s": edits / seconds,
    }


async def measure_peer(text: str, hovers: list[types.Position]) -> dict[str, Any]:
    if not PEER.exists():
        return {"available": False, "reason": f"{PEER} missing: run scripts/peer-venv.sh"}
    try:
        async with Session([str(PEER)]) as session:
            session.open(text)
            hover_s, answered = await session.hover_latencies(hovers)
    except Exception as error:  # the peer is a baseline, never a reason to lose our numbers
        return {"available": False, "reason": f"jedi-language-server failed: {error!r}"}
    return {
        "available": True,
        "server": "jedi-language-server 0.47.0",
        "hover_ms_p50": percentile(hover_s, 0.5) * 1e3,
        "hover_ms_p95": percentile(hover_s, 0.95) * 1e3,
        "hovers": len(hover_s),
        "hovers_with_content": answered,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=15)
    parser.add_argument("--hovers", type=int, default=100)
    parser.add_argument("--big-lines", type=int, default=50_000)
    parser.add_argument("--edits", type=int, default=30_000)
    options = parser.parse_args(argv)

    text, positions = generate(options.lines)
    hovers = positions[:: max(1, len(positions) // options.hovers)][: options.hovers]
    load_before = os.getloadavg()
    in_process = rules_vs_parse(text)
    ours = asyncio.run(measure_ours(text, options.changes, hovers))
    peer = asyncio.run(measure_peer(text, hovers))
    busy = asyncio.run(measure_busy_hover(options.big_lines))
    memory = asyncio.run(measure_edit_memory(options.edits))
    result = {
        "module_lines": text.count("\n"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
            "note": "shared machine: other processes compete for the CPUs",
        },
        "in_process": in_process,
        "tensorviews": ours,
        "jedi_language_server": peer,
        "hover_while_big_document_analysed": busy,
        "memory_over_edits": memory,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print_table(result)
    return 0


def print_table(result: dict[str, Any]) -> None:
    ours, peer, rules = result["tensorviews"], result["jedi_language_server"], result["in_process"]
    rows = [
        ("module", f"{result['module_lines']} lines, {rules['findings']} findings"),
        ("ast.parse (in process)", f"{rules['ast_parse_ms']:.1f} ms"),
        (
            "rules (in process)",
            f"{rules['rules_ms']:.1f} ms ({rules['rules_over_parse']:.2f}x parse)",
        ),
        (
            "didChange -> diagnostics, median",
            f"{ours['did_change_to_diagnostics_ms_median']:.1f} ms "
            f"(incl. {ours['debounce_ms']:.0f} ms debounce; "
            f"{ours['did_change_minus_debounce_ms_median']:.1f} ms without)",
        ),
        (
            "hover p50 / p95, tensorviews",
            f"{ours['hover_ms_p50']:.2f} / {ours['hover_ms_p95']:.2f} ms",
        ),
    ]
    if peer["available"]:
        rows.append(
            (
                "hover p50 / p95, jedi-language-server",
                f"{peer['hover_ms_p50']:.2f} / {peer['hover_ms_p95']:.2f} ms",
            )
        )
    else:
        rows.append(("jedi-language-server", f"unavailable: {peer['reason']}"))
    busy, memory = result["hover_while_big_document_analysed"], result["memory_over_edits"]
    rows.append(
        (
            "hover p50 while big doc analysed",
            f"{busy['busy_hover_ms_p50']:.2f} ms vs {busy['idle_hover_ms_p50']:.2f} ms idle "
            f"({busy['busy_over_idle_p50']:.1f}x; max {busy['busy_hover_ms_max']:.1f} ms; "
            f"{busy['big_document_lines']} lines analysed in {busy['big_analysis_s']:.1f} s)",
        )
    )
    rows.append(
        (
            f"server RSS over {memory['edits']} edits",
            f"{memory['rss_kib_before'] / 1024:.1f} -> {memory['rss_kib_after'] / 1024:.1f} MiB "
            f"({memory['rss_growth_bytes_per_edit']:.0f} bytes/edit; "
            f"{memory['edits_per_s']:.0f} edits/s)",
        )
    )
    machine = result["machine"]
    rows.append(("machine", f"{machine['cpus']} CPUs, load {machine['loadavg_before'][0]:.2f}"))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(f"written to {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    sys.exit(main())
