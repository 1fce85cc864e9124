"""The Tensor Views language server: pygls glue between open documents and the pure rules.

`TensorViewsServer` keeps the user's settings, takes snapshots of `.py` files and notebooks,
and analyses them in worker processes, never on the event loop nor under its GIL (`ast.parse`
of a big module holds the GIL for its whole run): every request stays answerable while a big
document is being judged. Per file or notebook one analysis runs at a time, always of
the latest text (edits made meanwhile are folded into the next run); results are cached by
their inputs. Diagnostics are published after a short debounce. Each LSP feature lives in
`lsp_server.features.<name>` and registers its handlers in `create_server`.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import BinaryIO

from lsprotocol import types
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from lsp_server.documents import AnalysedDocument, Snapshot, Source, analyse, warm_up
from lsp_server.live_state import LiveKernels, known_types
from lsp_server.options import Settings
from lsp_server.transport import TensorViewsProtocol, serve
from lsp_server.version import NAME, server_version

logger = logging.getLogger(__name__)

NOTEBOOK_SYNC = types.NotebookDocumentSyncOptions(
    notebook_selector=[
        types.NotebookDocumentFilterWithCells(
            notebook="jupyter-notebook", cells=[types.NotebookCellLanguage(language="python")]
        )
    ]
)
PYTHON_LANGUAGE = "python"


class TensorViewsServer(LanguageServer):
    """Language server that reports swap-of-views hazards in Python files and notebooks."""

    debounce_s = 0.2
    # Analyses of different documents run side by side, so a small one is not queued behind a
    # big one.
    analysis_workers = 2

    def __init__(self) -> None:
        super().__init__(
            name=NAME,
            version=server_version(),
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            notebook_document_sync=NOTEBOOK_SYNC,
            protocol_cls=TensorViewsProtocol,
        )
        self.settings = Settings()
        self._analyses: dict[str, tuple[tuple[object, ...], tuple[AnalysedDocument, ...]]] = {}
        self._running: dict[str, tuple[tuple[object, ...], asyncio.Future[object]]] = {}
        self.analysis_pool = self._new_pool()
        # Documents whose user was told they are too big to check (told once per document).
        self.told_too_big: set[str] = set()
        # Debounce timers and the URIs last published, per file or notebook (see diagnostics).
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.published: dict[str, set[str]] = {}
        # Running kernels' snapshot files (see features.live_kernels), polled after `initialized`.
        self.live = LiveKernels()
        self.live_task: asyncio.Task[None] | None = None

    @property
    def encoding(self) -> str:
        """Position encoding negotiated with the client (UTF-16 unless it asked otherwise)."""
        return str(self.workspace.position_encoding or types.PositionEncodingKind.Utf16)

    def key_for(self, uri: str) -> str:
        """The unit of analysis holding `uri`: its notebook for a cell, else the file itself."""
        notebook = self.workspace.get_notebook_document(cell_uri=uri)
        return notebook.uri if notebook is not None else uri

    def snapshot(self, key: str) -> Snapshot | None:
        """The current text of a file, or of a notebook's Python cells, with the real types of
        its live kernel's names when one runs it; None once closed."""
        kinds, ndims = known_types(self.live.match(key))
        known = tuple(sorted(kinds.items()))
        dims = tuple(sorted(ndims.items()))
        notebook = self.workspace.get_notebook_document(notebook_uri=key)
        if notebook is not None:
            cells = [
                self.workspace.get_text_document(cell.document)
                for cell in notebook.cells
                if cell.kind == types.NotebookCellKind.Code
            ]
            sources = tuple(
                Source(uri=cell.uri, version=cell.version, text=cell.source)
                for cell in cells
                if (cell.language_id or PYTHON_LANGUAGE) == PYTHON_LANGUAGE
            )
            return Snapshot(
                key=key, sources=sources, is_notebook=True, settings=self.settings,
                known_types=known, known_ndims=dims,
            )
        if key not in self.workspace.text_documents:
            return None
        document = self.workspace.get_text_document(key)
        source = Source(uri=document.uri, version=document.version, text=document.source)
        return Snapshot(
            key=key, sources=(source,), is_notebook=False, settings=self.settings,
            known_types=known, known_ndims=dims,
        )

    def remember(self, snapshot: Snapshot, documents: tuple[AnalysedDocument, ...]) -> None:
        """Cache an analysis for hovers and code actions."""
        self._analyses[snapshot.key] = (snapshot.stamp, documents)

    def cached(self, snapshot: Snapshot) -> tuple[AnalysedDocument, ...] | None:
        """The cached analysis of exactly this snapshot's inputs, if there is one."""
        stamp, documents = self._analyses.get(snapshot.key, ((), ()))
        return documents if stamp == snapshot.stamp else None

    async def analysis(self, key: str) -> tuple[AnalysedDocument, ...] | None:
        """The analysis of a file or notebook's current text (None once closed).

        Runs in a worker process. While one runs for this key, callers wait for it and then
        analyse the text as it is by then: of many edits made during a long run, only the
        latest is analysed next."""
        loop = asyncio.get_running_loop()
        while True:
            snapshot = self.snapshot(key)
            if snapshot is None:
                return None
            documents = self.cached(snapshot)
            if documents is not None:
                return documents
            stamp, running = self._running.get(key, ((), None))
            if running is None:
                running = self._start(loop, key, snapshot)
                stamp = snapshot.stamp
            await asyncio.wait([running])  # our caller's cancellation leaves the run alone
            if stamp == snapshot.stamp and (error := running.exception()) is not None:
                raise error

    def _new_pool(self) -> ProcessPoolExecutor:
        # "spawn": forking a process that runs threads (the reader, pygls' pool) is unsafe.
        return ProcessPoolExecutor(
            max_workers=self.analysis_workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=exit_with_parent, initargs=(os.getpid(),),
        )

    def _start(
        self, loop: asyncio.AbstractEventLoop, key: str, snapshot: Snapshot
    ) -> asyncio.Future[object]:
        pool = self.analysis_pool
        try:
            running: asyncio.Future[object] = loop.run_in_executor(pool, analyse, snapshot)
        except BrokenProcessPool:  # a worker died (killed, out of memory): start afresh
            pool = self.analysis_pool = self._new_pool()
            running = loop.run_in_executor(pool, analyse, snapshot)
        self._running[key] = (snapshot.stamp, running)

        def finished(done: asyncio.Future[object]) -> None:
            if self._running.get(key, ((), None))[1] is done:
                del self._running[key]
            if done.cancelled():
                return
            if isinstance(done.exception(), BrokenProcessPool) and self.analysis_pool is pool:
                self.analysis_pool = self._new_pool()  # the next analysis gets a live worker
            if done.exception() is not None:
                return
            if self.snapshot(key) is not None:  # still open
                result = done.result()
                assert isinstance(result, tuple)
                self.remember(snapshot, result)

        running.add_done_callback(finished)
        return running

    async def document(self, uri: str) -> AnalysedDocument | None:
        """The up-to-date analysis of one file or cell."""
        documents = await self.analysis(self.key_for(uri))
        if documents is None:
            return None
        return next((doc for doc in documents if doc.uri == uri), None)

    def forget(self, key: str) -> None:
        """Drop a closed document's cache and pending work."""
        self._analyses.pop(key, None)
        self.told_too_big.discard(key)
        if (task := self.pending.pop(key, None)) is not None:
            task.cancel()

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve over stdio with bounded framing (see `lsp_server.transport`)."""
        self._stop_event = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        assert isinstance(self.protocol, TensorViewsProtocol)
        self.analysis_pool.submit(warm_up)  # the worker starts while the client initializes
        try:
            asyncio.run(serve(self.protocol, stdin or sys.stdin.buffer))
        except BrokenPipeError:
            logger.error("the client closed the connection")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        """Stop: running analyses are abandoned, queued ones dropped."""
        self.analysis_pool.shutdown(wait=False, cancel_futures=True)
        super().shutdown()  # type: ignore[no-untyped-call]


def create_server() -> TensorViewsServer:
    """A server with every feature registered."""
    from lsp_server.features import (
        code_actions,
        diagnostics,
        hover,
        live_kernels,
        notebooks,
        settings,
    )

    ls = TensorViewsServer()
    for feature in (settings, diagnostics, notebooks, hover, code_actions, live_kernels):
        feature.register(ls)
    return ls


def exit_with_parent(parent: int) -> None:
    """In an analysis worker: end when the server is gone. A server ended by a signal (an
    editor or jupyter-lsp stopping it) runs no clean-up, and its workers, which hold the
    server's stdout and stderr, would outlive it and keep the editor's pipes open."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
