"""textDocument/codeAction: quick fixes whose edits really repair the swap (run with torch)."""

from __future__ import annotations

from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tensorviews.rules import apply_text_edits, find_swap_hazards
from tests.lsp.conftest import (
    apply_edits,
    diagnostics_of,
    file_uri,
    open_file,
    replace_text,
    rng,
    start,
)

TWO_TENSORS = "import torch\n\na = torch.zeros(3)\nb = torch.ones(3)\na[0], b[0] = b[0], a[0]\n"
ONE_TENSOR = "import torch\n\nx = torch.arange(4)\nx[0], x[1] = x[1], x[0]\n"
ROWS = "import torch\n\nm = torch.arange(6).reshape(3, 2)\nm[0], m[2] = m[2], m[0]\n"
TEMPORARY = (
    "import numpy as np\n\nm = np.arange(6).reshape(3, 2)\ntmp = m[0]\nm[0] = m[2]\nm[2] = tmp\n"
)


async def quick_fixes(
    client: LanguageClient,
    uri: str,
    line: int,
    diagnostics: list[types.Diagnostic],
    character: int = 3,
) -> list[types.CodeAction]:
    """The code actions for a cursor at (line, character), as an editor's lightbulb asks."""
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=rng(line, character, line, character),
            context=types.CodeActionContext(diagnostics=diagnostics),
        )
    )
    assert result is not None
    return [action for action in result if isinstance(action, types.CodeAction)]


def run(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(source, "<fixed>", "exec"), namespace)  # the user's own code, fixed
    return namespace


@pytest.mark.asyncio
async def test_actions_are_quick_fixes_with_the_diagnostic_attached(client: LanguageClient) -> None:
    uri = file_uri("actions.py")
    open_file(client, uri, TWO_TENSORS)
    diagnostics = await diagnostics_of(client, uri, lambda d: len(d) == 1)
    (finding,) = find_swap_hazards(TWO_TENSORS)

    actions = await quick_fixes(client, uri, 4, diagnostics)

    assert [action.title for action in actions] == [fix.title for fix in finding.fixes]
    assert all(action.kind == types.CodeActionKind.QuickFix for action in actions)
    assert [action.is_preferred for action in actions] == [True] + [False] * (len(actions) - 1)
    assert all(action.diagnostics == tuple(diagnostics) for action in actions)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("source", "line", "check"),
    [
        (
            TWO_TENSORS,
            4,
            lambda ns: ns["a"].tolist() == [1, 0, 0] and ns["b"].tolist() == [0, 1, 1],
        ),
        (ONE_TENSOR, 3, lambda ns: ns["x"].tolist() == [1, 0, 2, 3]),
        (ROWS, 3, lambda ns: ns["m"].tolist() == [[4, 5], [2, 3], [0, 1]]),
        (TEMPORARY, 5, lambda ns: ns["m"].tolist() == [[4, 5], [2, 3], [0, 1]]),
    ],
    ids=["two-tensors", "one-tensor", "rows", "numpy-temporary-TV002"],
)
async def test_every_fix_clears_the_diagnostic_and_really_swaps(
    client: LanguageClient, source: str, line: int, check: object
) -> None:
    assert callable(check)
    assert not check(run(source)), "the unfixed code must show the bug"
    uri = file_uri("fix.py")
    open_file(client, uri, source)
    diagnostics = await diagnostics_of(client, uri, lambda d: len(d) == 1)
    # The cursor on the line's last character: inside a TV001 statement and on a TV002 read.
    last = len(source.splitlines()[line]) - 1
    actions = await quick_fixes(client, uri, line, diagnostics, character=last)
    assert actions

    version = 1
    for action in actions:
        assert action.edit is not None and action.edit.changes is not None
        fixed = apply_edits(source, action.edit.changes[uri])
        version += 1
        replace_text(client, uri, fixed, version)
        assert await diagnostics_of(client, uri, lambda d: len(d) == 0) == [], action.title
        assert check(run(fixed)), f"{action.title!r} did not swap:\n{fixed}"
        version += 1
        replace_text(client, uri, source, version)
        await diagnostics_of(client, uri, lambda d: len(d) == 1)


@pytest.mark.asyncio
async def test_fix_edits_are_in_utf16_on_non_ascii_lines(client: LanguageClient) -> None:
    source = (
        "import torch\na = torch.zeros(2)\nb = torch.ones(2)\nä = 'ü😀'; a[0], b[0] = b[0], a[0]\n"
    )
    uri = file_uri("fix-unicode.py")
    open_file(client, uri, source)
    diagnostics = await diagnostics_of(client, uri, lambda d: len(d) == 1)
    (finding,) = find_swap_hazards(source)

    (action, *_) = await quick_fixes(client, uri, 3, diagnostics, character=20)

    assert action.edit is not None and action.edit.changes is not None
    # Applied by UTF-16 units (the client's way) == applied by code points (the rules' way).
    assert apply_edits(source, action.edit.changes[uri]) == apply_text_edits(
        source, finding.fixes[0].edits
    )


@pytest.mark.asyncio
async def test_no_actions_away_from_findings_or_for_other_kinds(client: LanguageClient) -> None:
    uri = file_uri("no-actions.py")
    open_file(client, uri, TWO_TENSORS)
    diagnostics = await diagnostics_of(client, uri, lambda d: len(d) == 1)
    assert await quick_fixes(client, uri, 2, []) == []
    refactors = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=rng(4, 3, 4, 3),
            context=types.CodeActionContext(
                diagnostics=diagnostics, only=[types.CodeActionKind.Refactor]
            ),
        )
    )
    assert refactors == ()


SEVERAL = (
    "import numpy as np\nimport torch\n\n"
    "a = torch.zeros(3)\nb = torch.ones(3)\na[0], b[0] = b[0], a[0]\n"
    "m = np.arange(6).reshape(3, 2)\ntmp = m[0]\nm[0] = m[2]\nm[2] = tmp\n"
    "def maybe(x, y):\n    x[0], y[0] = y[0], x[0]\n"
)


async def source_actions(
    client: LanguageClient, uri: str, only: list[str]
) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=rng(0, 0, 0, 0),
            context=types.CodeActionContext(
                diagnostics=[], only=only, trigger_kind=types.CodeActionTriggerKind.Automatic
            ),
        )
    )
    assert result is not None
    return [action for action in result if isinstance(action, types.CodeAction)]


@pytest.mark.asyncio
async def test_fix_all_repairs_every_definite_finding_in_one_edit(
    bare_client: LanguageClient,
) -> None:
    client = bare_client
    initialized = await start(client)
    kinds = initialized.capabilities.code_action_provider
    assert isinstance(kinds, types.CodeActionOptions) and kinds.code_action_kinds is not None
    assert "source.fixAll.tensorviews" in kinds.code_action_kinds
    uri = file_uri("fix-all.py")
    open_file(client, uri, SEVERAL)
    diagnostics = await diagnostics_of(client, uri, lambda d: len(d) == 3)
    assert sorted(d.severity for d in diagnostics) == [1, 1, 3]  # two definite, one possible

    (action,) = await source_actions(client, uri, [types.CodeActionKind.SourceFixAll])

    assert action.kind == "source.fixAll.tensorviews"
    assert action.edit is not None and action.edit.changes is not None
    fixed = apply_edits(SEVERAL, action.edit.changes[uri])
    namespace = run(fixed)
    assert namespace["a"].tolist() == [1, 0, 0] and namespace["b"].tolist() == [0, 1, 1]
    assert namespace["m"].tolist() == [[4, 5], [2, 3], [0, 1]]
    assert "x[0], y[0] = y[0], x[0]" in fixed  # the possible finding is left to the user
    replace_text(client, uri, fixed, 2)
    remaining = await diagnostics_of(client, uri, lambda d: len(d) == 1)
    assert remaining[0].severity == types.DiagnosticSeverity.Information
    assert await source_actions(client, uri, ["source.fixAll"]) == []  # nothing safe left


@pytest.mark.asyncio
async def test_fix_all_only_when_asked(client: LanguageClient) -> None:
    uri = file_uri("fix-all-unasked.py")
    open_file(client, uri, SEVERAL)
    await diagnostics_of(client, uri, lambda d: len(d) == 3)
    lightbulb = await quick_fixes(client, uri, 5, [])
    assert lightbulb and all(a.kind == types.CodeActionKind.QuickFix for a in lightbulb)
    assert await source_actions(client, uri, [types.CodeActionKind.Source]) != []
    assert await source_actions(client, uri, [types.CodeActionKind.SourceOrganizeImports]) == []
