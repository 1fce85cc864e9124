"""Diagnostics: `textDocument/didOpen`, `didChange` and `didClose` -> `publishDiagnostics`.

Each swap-of-views finding in an open `.py` file becomes a diagnostic with source `tensorviews`,
its rule code, and related information pointing at the earlier store that clobbers the read.
Changes are debounced (the server's `debounce_s`) and only the latest version is published.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lsprotocol import types

from lsp_server.documents import AnalysedDocument
from lsp_server.failures import guarded, log_failure
from lsp_server.positions import UTF16, to_lsp_range
from lsp_server.related import related_places
from tensorviews.rules import Finding

if TYPE_CHECKING:
    from lsp_server.options import Settings
    from lsp_server.server import TensorViewsServer

SOURCE = "tensorviews"
_SEVERITIES = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}
_PYTHON_SUFFIXES = (".py", ".pyi")


def severity_of(finding: Finding, settings: Settings) -> types.DiagnosticSeverity:
    """The finding's severity; "possible" findings (information) take the user's choice."""
    if finding.severity == "information":
        return _SEVERITIES.get(settings.possible_severity, types.DiagnosticSeverity.Information)
    return _SEVERITIES.get(finding.severity, types.DiagnosticSeverity.Warning)


def to_diagnostic(
    finding: Finding, document: AnalysedDocument, settings: Settings, encoding: str = UTF16
) -> types.Diagnostic:
    """One finding -> one LSP diagnostic, positions in the client's encoding."""
    lines = document.lines
    related = [
        types.DiagnosticRelatedInformation(
            location=types.Location(
                uri=document.uri, range=to_lsp_range(lines, place.range, encoding)
            ),
            message=place.message,
        )
        for place in related_places(finding)
    ]
    return types.Diagnostic(
        range=to_lsp_range(lines, finding.range, encoding),
        severity=severity_of(finding, settings),
        code=finding.code,
        source=SOURCE,
        message=finding.message,
        related_information=related or None,
    )


def diagnostics_for(ls: TensorViewsServer, document: AnalysedDocument) -> list[types.Diagnostic]:
    """Every diagnostic of one analysed file or cell."""
    return [to_diagnostic(f, document, ls.settings, ls.encoding) for f in document.findings]


def schedule(ls: TensorViewsServer, key: str, delay: float | None = None) -> None:
    """(Re)start the debounce timer of a file or notebook: only the latest change publishes."""
    if (task := ls.pending.pop(key, None)) is not None:
        task.cancel()
    wait = ls.debounce_s if delay is None else delay
    ls.pending[key] = asyncio.get_running_loop().create_task(_publish_later(ls, key, wait))


def schedule_all(ls: TensorViewsServer) -> None:
    """Republish every open file and notebook (after a settings change)."""
    for key in list(ls.published):
        schedule(ls, key, delay=0)


async def _publish_later(ls: TensorViewsServer, key: str, delay: float) -> None:
    try:
        await asyncio.sleep(delay)
        # The analysis of the text (and live types) as they are when it returns: inputs that
        # changed while it ran are analysed before it returns. A newer edit cancels this task.
        documents = await ls.analysis(key)
        if documents is not None:
            publish(ls, key, documents)
            tell_if_not_checked(ls, key, documents)
    except Exception as error:
        log_failure(ls, f"diagnostics for {key}", error)
    finally:
        if ls.pending.get(key) is asyncio.current_task():
            del ls.pending[key]


def tell_if_not_checked(
    ls: TensorViewsServer, key: str, documents: tuple[AnalysedDocument, ...]
) -> None:
    """Say once per open document that it is too big to check (a message, not a diagnostic:
    there is nothing wrong at any one line)."""
    reason = next((doc.not_checked for doc in documents if doc.not_checked), None)
    if reason is None or key in ls.told_too_big:
        return
    ls.told_too_big.add(key)
    ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=reason))


def publish(ls: TensorViewsServer, key: str, documents: tuple[AnalysedDocument, ...]) -> None:
    """Send each document's diagnostics, and empty ones to cells that left the notebook."""
    uris = {doc.uri for doc in documents}
    for gone in ls.published.get(key, set()) - uris:
        clear(ls, gone)
    for doc in documents:
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=doc.uri, version=doc.version, diagnostics=diagnostics_for(ls, doc)
            )
        )
    ls.published[key] = uris


def clear(ls: TensorViewsServer, uri: str) -> None:
    """Remove every diagnostic of one document."""
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


def clear_all(ls: TensorViewsServer, key: str) -> None:
    """Forget a closed file or notebook and remove its diagnostics."""
    ls.forget(key)
    for uri in ls.published.pop(key, {key}):
        clear(ls, uri)


def is_python_file(uri: str, language_id: str | None) -> bool:
    """Whether a plain text document is Python the server should check."""
    return language_id == "python" or uri.endswith(_PYTHON_SUFFIXES)


@guarded(None)
def on_did_open(ls: TensorViewsServer, params: types.DidOpenTextDocumentParams) -> None:
    """textDocument/didOpen: publish the file's diagnostics right away."""
    document = params.text_document
    if is_python_file(document.uri, document.language_id):
        schedule(ls, document.uri, delay=0)


@guarded(None)
def on_did_change(ls: TensorViewsServer, params: types.DidChangeTextDocumentParams) -> None:
    """textDocument/didChange: republish once the user pauses typing."""
    uri = params.text_document.uri
    if is_python_file(uri, ls.workspace.get_text_document(uri).language_id):
        schedule(ls, ls.key_for(uri))


@guarded(None)
def on_did_close(ls: TensorViewsServer, params: types.DidCloseTextDocumentParams) -> None:
    """textDocument/didClose: forget the file and clear its diagnostics."""
    clear_all(ls, params.text_document.uri)


def register(ls: TensorViewsServer) -> None:
    """Attach the text document sync handlers to `ls`."""
    ls.feature(types.TEXT_DOCUMENT_DID_OPEN)(on_did_open)
    ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)(on_did_change)
    ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)(on_did_close)
