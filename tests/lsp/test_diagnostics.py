"""textDocument/didOpen and didChange -> publishDiagnostics, end to end over stdio."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tensorviews.rules import find_swap_hazards
from tests.lsp.conftest import diagnostics_of, file_uri, open_file, replace_text, rng, start

SEED = "import torch\n\na = torch.zeros(3)\nb = torch.ones(3)\na[0], b[0] = b[0], a[0]\n"
SAFE = SEED.replace("= b[0], a[0]", "= b[0].clone(), a[0].clone()")


def message_of(source: str) -> str:
    """The rules' own words for the single finding in `source` (the server must pass them on)."""
    (finding,) = find_swap_hazards(source)
    return finding.message


def expected_seed_diagnostic(uri: str, source: str = SEED, line: int = 4) -> types.Diagnostic:
    return types.Diagnostic(
        range=rng(line, 0, line, 23),
        severity=types.DiagnosticSeverity.Error,
        code="TV001",
        source="tensorviews",
        message=message_of(source),
        related_information=(
            types.DiagnosticRelatedInformation(
                location=types.Location(uri=uri, range=rng(line, 0, line, 4)),
                message="this store runs first and overwrites what a[0] shows",
            ),
        ),
    )


@pytest.mark.asyncio
async def test_open_publishes_the_swap(client: LanguageClient) -> None:
    uri = file_uri("seed.py")
    open_file(client, uri, SEED)
    assert await diagnostics_of(client, uri) == [expected_seed_diagnostic(uri)]


@pytest.mark.asyncio
@pytest.mark.parametrize("profile", ["neovim", "visual-studio-code@v1.65.2"])
async def test_other_client_profiles_get_the_same_diagnostic(
    bare_client: LanguageClient, profile: str
) -> None:
    await start(bare_client, profile=profile)
    uri = file_uri("profile.py")
    open_file(bare_client, uri, SEED)
    assert await diagnostics_of(bare_client, uri) == [expected_seed_diagnostic(uri)]


@pytest.mark.asyncio
async def test_change_clears_then_brings_back_the_diagnostic(client: LanguageClient) -> None:
    uri = file_uri("change.py")
    open_file(client, uri, SEED)
    await diagnostics_of(client, uri, lambda d: len(d) == 1)

    replace_text(client, uri, SAFE, version=2)
    assert await diagnostics_of(client, uri, lambda d: len(d) == 0) == []

    moved = "\n\n" + SEED
    replace_text(client, uri, moved, version=3)
    assert await diagnostics_of(client, uri, lambda d: len(d) == 1) == [
        expected_seed_diagnostic(uri, moved, line=6)
    ]


@pytest.mark.asyncio
async def test_incremental_change_is_applied(client: LanguageClient) -> None:
    uri = file_uri("incremental.py")
    open_file(client, uri, SAFE)
    assert await diagnostics_of(client, uri) == []
    # Delete the last `.clone()` (line 4, after `a[0]`): the swap is broken again.
    start_col = SAFE.splitlines()[4].rindex(".clone()")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=rng(4, start_col, 4, start_col + len(".clone()")), text=""
                )
            ],
        )
    )
    (diagnostic,) = await diagnostics_of(client, uri, lambda d: len(d) == 1)
    assert (diagnostic.code, diagnostic.range) == ("TV001", rng(4, 0, 4, 31))


@pytest.mark.asyncio
async def test_rapid_changes_publish_only_the_latest_version(client: LanguageClient) -> None:
    uri = file_uri("rapid.py")
    open_file(client, uri, SAFE)
    await diagnostics_of(client, uri)
    published: list[types.PublishDiagnosticsParams] = []
    features = client.protocol.fm.features
    store = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def record(params: types.PublishDiagnosticsParams) -> None:
        published.append(params)
        store(params)

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record
    for version in range(2, 12):
        replace_text(client, uri, SEED if version % 2 else SAFE, version=version)
    # Version 11 (odd) has the swap; nothing older than it may be published after it.
    await diagnostics_of(client, uri, lambda d: len(d) == 1)
    assert [p.version for p in published] == [11]


@pytest.mark.asyncio
async def test_non_ascii_columns_are_utf16(client: LanguageClient) -> None:
    source = (
        "import torch\na = torch.zeros(2)\nb = torch.ones(2)\nä = 'ü😀'; a[0], b[0] = b[0], a[0]\n"
    )
    uri = file_uri("unicode.py")
    open_file(client, uri, source)
    (diagnostic,) = await diagnostics_of(client, uri, lambda d: len(d) == 1)
    # `ä = 'ü😀'; ` is 10 code points but 11 UTF-16 units (the emoji is a surrogate pair).
    assert diagnostic.range == rng(3, 11, 3, 34)
    assert diagnostic.related_information is not None
    assert diagnostic.related_information[0].location.range == rng(3, 11, 3, 15)


@pytest.mark.asyncio
async def test_close_clears_diagnostics(client: LanguageClient) -> None:
    uri = file_uri("close.py")
    open_file(client, uri, SEED)
    await diagnostics_of(client, uri, lambda d: len(d) == 1)
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert await diagnostics_of(client, uri, lambda d: len(d) == 0) == []


@pytest.mark.asyncio
async def test_other_languages_are_left_alone(client: LanguageClient) -> None:
    uri = file_uri("notes.md")
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="markdown", version=1, text=SEED
            )
        )
    )
    python = file_uri("after-markdown.py")
    open_file(client, python, SEED)
    await diagnostics_of(client, python)
    assert uri not in client.diagnostics


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("comment", "count"),
    [("  # noqa", 0), ("  # noqa: TV001", 0), ("  # noqa: TV002", 1), ("  # NOQA:TV001", 0)],
)
async def test_noqa_silences_the_line(client: LanguageClient, comment: str, count: int) -> None:
    uri = file_uri(f"noqa-{count}-{len(comment)}.py")
    open_file(client, uri, SEED.rstrip("\n") + comment + "\n")
    published = await diagnostics_of(client, uri)
    assert len(published) == count
