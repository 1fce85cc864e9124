"""Code actions: `textDocument/codeAction` offers quick fixes for swap-of-views findings.

Each fix the rules propose (`.clone()`/`.copy()` on exactly the clobbered items, or advanced
indexing `x[[i, j]] = x[[j, i]]` for a swap within one array) becomes a `quickfix` action with
its diagnostic attached and a workspace edit on the file or notebook cell; the first is preferred.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from lsp_server.documents import AnalysedDocument
from lsp_server.failures import guarded
from lsp_server.features.diagnostics import to_diagnostic
from lsp_server.positions import UTF16, from_lsp_position, overlaps, to_lsp_range

if TYPE_CHECKING:
    from lsp_server.features.settings import Settings
    from lsp_server.server import TensorViewsServer


def actions_for(
    document: AnalysedDocument,
    selection: types.Range,
    settings: Settings,
    encoding: str = UTF16,
) -> list[types.CodeAction]:
    """Quick fixes for every finding that touches the selection."""
    start = from_lsp_position(document.lines, selection.start, encoding)
    end = from_lsp_position(document.lines, selection.end, encoding)
    actions: list[types.CodeAction] = []
    for finding in document.findings:
        if not overlaps(finding.range, start, end):
            continue
        diagnostic = to_diagnostic(finding, document, settings, encoding)
        for fix in finding.fixes:
            edits = [
                types.TextEdit(
                    range=to_lsp_range(document.lines, edit.range, encoding),
                    new_text=edit.new_text,
                )
                for edit in fix.edits
            ]
            actions.append(
                types.CodeAction(
                    title=fix.title,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    is_preferred=not actions,
                    edit=types.WorkspaceEdit(changes={document.uri: edits}),
                )
            )
    return actions


def wants_quick_fixes(context: types.CodeActionContext) -> bool:
    """Whether the client's `only` filter (if any) admits quick fixes."""
    if not context.only:
        return True
    return any(types.CodeActionKind.QuickFix.value.startswith(kind) for kind in context.only)


@guarded([])
def on_code_action(ls: TensorViewsServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """textDocument/codeAction: the rules' fixes for the findings in the selected range."""
    document = ls.document(params.text_document.uri)
    if document is None or not wants_quick_fixes(params.context):
        return []
    return actions_for(document, params.range, ls.settings, ls.encoding)


def register(ls: TensorViewsServer) -> None:
    """Attach the code action handler to `ls`."""
    ls.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )(on_code_action)
