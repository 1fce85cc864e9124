"""Hover: `textDocument/hover` on a flagged statement explains the swap-of-views bug.

The Markdown walks through the evaluation order with the user's own names (which store runs
first, which view reads the memory it just overwrote) and shows the fixed line. Anywhere else the
server answers `None`, so other servers' hovers are not crowded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from lsp_server.documents import AnalysedDocument
from lsp_server.failures import guarded
from lsp_server.positions import UTF16, contains, from_lsp_position, to_lsp_range
from tensorviews.rules import Finding

if TYPE_CHECKING:
    from lsp_server.server import TensorViewsServer


def finding_at(
    document: AnalysedDocument, position: types.Position, encoding: str = UTF16
) -> Finding | None:
    """The first finding whose statement contains `position`."""
    line, column = from_lsp_position(document.lines, position, encoding)
    return next((f for f in document.findings if contains(f.range, line, column)), None)


def hover_for(
    document: AnalysedDocument, position: types.Position, encoding: str = UTF16
) -> types.Hover | None:
    """The explanation of the finding under the cursor, as Markdown."""
    finding = finding_at(document, position, encoding)
    if finding is None:
        return None
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=finding.explanation),
        range=to_lsp_range(document.lines, finding.range, encoding),
    )


@guarded(None)
async def on_hover(ls: TensorViewsServer, params: types.HoverParams) -> types.Hover | None:
    """textDocument/hover: explain the flagged statement, and live facts of the name, under
    the cursor."""
    from lsp_server.features.live_kernels import live_hover_text

    document = await ls.document(params.text_document.uri)
    if document is None:
        return None
    hover = hover_for(document, params.position, ls.encoding)
    live = live_hover_text(ls, document, params.position, ls.encoding)
    if live is None:
        return hover
    if hover is None:
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=live)
        )
    assert isinstance(hover.contents, types.MarkupContent)
    return types.Hover(
        contents=types.MarkupContent(
            kind=types.MarkupKind.Markdown, value=f"{live}\n\n---\n\n{hover.contents.value}"
        ),
        range=hover.range,
    )


def register(ls: TensorViewsServer) -> None:
    """Attach the hover handler to `ls`."""
    ls.feature(types.TEXT_DOCUMENT_HOVER)(on_hover)
