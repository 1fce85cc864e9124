"""Settings through initializationOptions and workspace/didChangeConfiguration."""

from __future__ import annotations

from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_server.features.settings import Settings, parse_settings
from tests.lsp.conftest import diagnostics_of, file_uri, open_file, start, wait_for

DEFINITE = "import torch\na = torch.zeros(3)\nb = torch.ones(3)\na[0], b[0] = b[0], a[0]\n"
POSSIBLE = "def swap(a, b):\n    a[0], b[0] = b[0], a[0]\n"


@pytest.mark.parametrize(
    ("raw", "expected", "problems"),
    [
        (None, Settings(), 0),
        ({}, Settings(), 0),
        (
            {"tensorviews": {"rules": {"disabled": ["TV002"]}}},
            Settings(enabled=frozenset({"TV001"})),
            0,
        ),
        (
            {"tensorviews": {"rules": {"enabled": ["TV002"]}}},
            Settings(enabled=frozenset({"TV002"})),
            0,
        ),
        ({"tensorviews": {"possibleSeverity": "off"}}, Settings(possible_severity="off"), 0),
        ({"possibleSeverity": "hint"}, Settings(possible_severity="hint"), 0),
        ({"tensorviews": {"possibleSeverity": "loud"}}, Settings(), 1),
        ({"tensorviews": {"rules": {"enabled": "TV001"}}}, Settings(), 1),
        ({"tensorviews": {"rules": {"disabled": ["TV999"]}}}, Settings(), 1),
        ({"tensorviews": {"rules": ["TV001"], "colour": 1}}, Settings(), 2),
        (
            {"tensorviews": {"rules": {"disabled": ["TV001"]}, "possibleSeverity": 3}},
            Settings(enabled=frozenset({"TV002"})),
            1,
        ),
        ({"tensorviews": "loud"}, Settings(), 1),
        ({"tensorviews": {"maxFileSize": 1000}}, Settings(max_file_size=1000), 0),
        ({"tensorviews": {"maxFileSize": "512k"}}, Settings(max_file_size=512 * 1024), 0),
        ({"tensorviews": {"maxFileSize": 0}}, Settings(max_file_size=0), 0),
        ({"tensorviews": {"maxFileSize": -1}}, Settings(), 1),
        ({"tensorviews": {"maxFileSize": "huge"}}, Settings(), 1),
        ({"tensorviews": {"maxFileSize": True}}, Settings(), 1),
    ],
)
def test_parse_settings(raw: object, expected: Settings, problems: int) -> None:
    settings, found = parse_settings(raw)
    assert (settings, len(found)) == (expected, problems), found


async def start_with(client: LanguageClient, options: Any) -> None:
    await start(client, options={"tensorviews": options})


@pytest.mark.asyncio
async def test_disabled_rule_reports_nothing(bare_client: LanguageClient) -> None:
    await start_with(bare_client, {"rules": {"disabled": ["TV001"]}})
    uri = file_uri("disabled.py")
    open_file(bare_client, uri, DEFINITE)
    assert await diagnostics_of(bare_client, uri) == []
    assert bare_client.messages == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("choice", "severity"),
    [
        ("information", types.DiagnosticSeverity.Information),
        ("warning", types.DiagnosticSeverity.Warning),
        ("hint", types.DiagnosticSeverity.Hint),
    ],
)
async def test_possible_severity(
    bare_client: LanguageClient, choice: str, severity: types.DiagnosticSeverity
) -> None:
    await start_with(bare_client, {"possibleSeverity": choice})
    possible, definite = file_uri("possible.py"), file_uri("definite.py")
    open_file(bare_client, possible, POSSIBLE)
    open_file(bare_client, definite, DEFINITE)
    (diagnostic,) = await diagnostics_of(bare_client, possible, lambda d: len(d) == 1)
    assert diagnostic.severity == severity
    (known,) = await diagnostics_of(bare_client, definite, lambda d: len(d) == 1)
    assert known.severity == types.DiagnosticSeverity.Error  # known types keep their severity


@pytest.mark.asyncio
async def test_possible_findings_can_be_switched_off(bare_client: LanguageClient) -> None:
    await start_with(bare_client, {"possibleSeverity": "off"})
    possible, definite = file_uri("off.py"), file_uri("still-on.py")
    open_file(bare_client, possible, POSSIBLE)
    open_file(bare_client, definite, DEFINITE)
    assert await diagnostics_of(bare_client, definite, lambda d: len(d) == 1)
    assert await diagnostics_of(bare_client, possible) == []


@pytest.mark.asyncio
async def test_configuration_change_republishes(client: LanguageClient) -> None:
    uri = file_uri("reconfigured.py")
    open_file(client, uri, DEFINITE)
    await diagnostics_of(client, uri, lambda d: len(d) == 1)

    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"tensorviews": {"rules": {"enabled": ["TV002"]}}}
        )
    )
    assert await diagnostics_of(client, uri, lambda d: len(d) == 0) == []

    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={}))
    assert len(await diagnostics_of(client, uri, lambda d: len(d) == 1)) == 1


@pytest.mark.asyncio
async def test_invalid_settings_warn_and_fall_back_to_defaults(bare_client: LanguageClient) -> None:
    await start_with(bare_client, {"possibleSeverity": "loud", "rules": {"enabled": "TV001"}})
    await wait_for(lambda: bool(bare_client.messages), "a showMessage warning")
    (message,) = bare_client.messages
    assert message.type == types.MessageType.Warning
    assert "possibleSeverity" in message.message and "rules.enabled" in message.message

    possible, definite = file_uri("defaults-possible.py"), file_uri("defaults-definite.py")
    open_file(bare_client, possible, POSSIBLE)
    open_file(bare_client, definite, DEFINITE)
    (diagnostic,) = await diagnostics_of(bare_client, possible, lambda d: len(d) == 1)
    assert diagnostic.severity == types.DiagnosticSeverity.Information
    assert len(await diagnostics_of(bare_client, definite, lambda d: len(d) == 1)) == 1


@pytest.mark.asyncio
async def test_max_file_size_is_settable(bare_client: LanguageClient) -> None:
    await start_with(bare_client, {"maxFileSize": 50})
    uri = file_uri("limited.py")
    open_file(bare_client, uri, DEFINITE)
    await wait_for(lambda: bool(bare_client.messages), "the size message")
    (message,) = bare_client.messages
    assert message.type == types.MessageType.Warning
    size = len(DEFINITE.encode())
    assert f"does not check this file: {size} bytes is above the 50 bytes limit" in message.message
    assert await diagnostics_of(bare_client, uri) == []
    bare_client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"tensorviews": {"maxFileSize": "1M"}})
    )
    assert len(await diagnostics_of(bare_client, uri, lambda d: len(d) == 1)) == 1
