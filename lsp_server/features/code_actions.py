"""Code actions: `textDocument/codeAction` offers quick fixes for swap-of-views findings.

Each fix the rules propose (`.clone()`/`.copy()` on exactly the clobbered items, or advanced
indexing `x[[i, j]] = x[[j, i]]` for a swap within one array) becomes a `quickfix` action with
its diagnostic attached and a workspace edit on the file or notebook cell; the first is preferred.

`source.fixAll.tensorviews` (asked for with `only: ["source.fixAll"]`, as VS Code's
`editor.codeActionsOnSave` does) applies every safe fix of the document in one edit: the
preferred fix of each definite finding (a "possible" finding's container may not be an array at
all, so its fix is left to the user), skipping a fix that overlaps one already taken.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from lsp_server.documents import AnalysedDocument
from lsp_server.failures import guarded
from lsp_server.features.diagnostics import to_diagnostic
from lsp_server.positions import UTF16, from_lsp_position, overlaps, to_lsp_range
from tensorviews.rules import Range

if TYPE_CHECKING:
    from lsp_server.options import Settings
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


FIX_ALL = f"{types.CodeActionKind.SourceFixAll.value}.tensorviews"


def fix_all_action(document: AnalysedDocument, encoding: str = UTF16) -> types.CodeAction | None:
    """One action applying every safe fix of the document, or None when there is none."""
    taken: list[Range] = []
    edits: list[types.TextEdit] = []
    for finding in document.findings:
        if finding.severity == "information" or not finding.fixes:
            continue
        fix = finding.fixes[0]
        if any(_overlap(edit.range, other) for edit in fix.edits for other in taken):
            continue
        taken.extend(edit.range for edit in fix.edits)
        edits.extend(
            types.TextEdit(
                range=to_lsp_range(document.lines, edit.range, encoding), new_text=edit.new_text
            )
            for edit in fix.edits
        )
    if not edits:
        return None
    return types.CodeAction(
        title="Tensor Views: fix all swaps of views",
        kind=FIX_ALL,
        edit=types.WorkspaceEdit(changes={document.uri: edits}),
    )


def _overlap(one: Range, other: Range) -> bool:
    # Touching ends do not overlap, except two insertions at the same place (order unclear).
    start, end = (one.line, one.column), (one.end_line, one.end_column)
    other_start, other_end = (other.line, other.column), (other.end_line, other.end_column)
    return (start < other_end and other_start < end) or start == other_start


def admits(context: types.CodeActionContext, kind: str, *, by_default: bool) -> bool:
    """Whether the client's `only` filter admits actions of `kind` (kinds are hierarchical:
    `source.fixAll` admits `source.fixAll.tensorviews`); without a filter, `by_default`."""
    if not context.only:
        return by_default
    return any(kind == wanted or kind.startswith(f"{wanted}.") for wanted in context.only)


@guarded([])
async def on_code_action(
    ls: TensorViewsServer, params: types.CodeActionParams
) -> list[types.CodeAction]:
    """textDocument/codeAction: the rules' fixes for the findings in the selected range, and
    the fix-all source action when asked for."""
    quick = admits(params.context, types.CodeActionKind.QuickFix.value, by_default=True)
    fix_all = admits(params.context, FIX_ALL, by_default=False)
    if not (quick or fix_all):
        return []
    document = await ls.document(params.text_document.uri)
    if document is None:
        return []
    actions = actions_for(document, params.range, ls.settings, ls.encoding) if quick else []
    if fix_all and (action := fix_all_action(document, ls.encoding)) is not None:
        actions.append(action)
    return actions


def register(ls: TensorViewsServer) -> None:
    """Attach the code action handler to `ls`."""
    ls.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]),
    )(on_code_action)
