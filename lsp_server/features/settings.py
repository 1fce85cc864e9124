"""Settings: `initialize` (initializationOptions) and `workspace/didChangeConfiguration`.

The client sends options under the key `tensorviews`:

    {"tensorviews": {"rules": {"enabled": ["TV001"], "disabled": ["TV002"]},
                     "possibleSeverity": "information" | "warning" | "hint" | "off",
                     "maxFileSize": 2097152 | "2M" | 0}}

`possibleSeverity` is the severity of findings whose container's type cannot be known statically.
`maxFileSize` (bytes of UTF-8 text, or a size such as "512k"; 0: no limit) bounds the file or
notebook the server analyses; above it the document is not checked and the user is told once.
An invalid option is reported with a `window/showMessage` warning and replaced by its default;
the valid ones still apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from lsprotocol import types

from lsp_server.failures import guarded
from lsp_server.features.diagnostics import schedule_all
from lsp_server.limits import DEFAULT_MAX_FILE_SIZE, parse_size
from lsp_server.options import KNOWN_CODES, Settings

if TYPE_CHECKING:
    from lsp_server.server import TensorViewsServer

POSSIBLE_SEVERITIES = ("information", "warning", "hint", "off")
SECTION = "tensorviews"


def parse_settings(raw: object) -> tuple[Settings, list[str]]:
    """Client options -> settings, plus one plain-words problem per invalid option."""
    if raw is None:
        return Settings(), []
    if isinstance(raw, Mapping) and SECTION in raw:
        raw = raw[SECTION]
    if raw is None:
        return Settings(), []
    if not isinstance(raw, Mapping):
        return Settings(), [f"`{SECTION}` must be an object, got {_kind(raw)}"]
    problems = [f"unknown option `{SECTION}.{key}`" for key in raw if key not in _OPTIONS]
    enabled = _parse_rules(raw.get("rules"), problems)
    severity = raw.get("possibleSeverity", Settings.possible_severity)
    if severity not in POSSIBLE_SEVERITIES:
        problems.append(
            f"`{SECTION}.possibleSeverity` must be one of {', '.join(POSSIBLE_SEVERITIES)}; "
            f"got {severity!r}"
        )
        severity = Settings.possible_severity
    limit = _parse_size(raw.get("maxFileSize"), problems)
    return (
        Settings(enabled=enabled, possible_severity=severity, max_file_size=limit),
        problems,
    )


_OPTIONS = frozenset({"rules", "possibleSeverity", "maxFileSize"})


def _parse_size(raw: object, problems: list[str]) -> int:
    if raw is None:
        return DEFAULT_MAX_FILE_SIZE
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return raw
    if isinstance(raw, str):
        try:
            return parse_size(raw)
        except ValueError as error:
            problems.append(f"`{SECTION}.maxFileSize`: {error}")
            return DEFAULT_MAX_FILE_SIZE
    problems.append(
        f"`{SECTION}.maxFileSize` must be a number of bytes (0: no limit) or a size such as "
        f"\"2M\", got {_kind(raw)}"
    )
    return DEFAULT_MAX_FILE_SIZE


def _parse_rules(raw: object, problems: list[str]) -> frozenset[str]:
    """`rules.enabled` (default: all) minus `rules.disabled`."""
    if raw is None:
        return KNOWN_CODES
    if not isinstance(raw, Mapping):
        problems.append(f"`{SECTION}.rules` must be an object, got {_kind(raw)}")
        return KNOWN_CODES
    problems.extend(f"unknown option `{SECTION}.rules.{key}`" for key in raw if key not in _LISTS)
    enabled = _codes(raw.get("enabled"), "enabled", problems, default=KNOWN_CODES)
    disabled = _codes(raw.get("disabled"), "disabled", problems, default=frozenset())
    return enabled - disabled


_LISTS = ("enabled", "disabled")


def _codes(
    raw: object, name: str, problems: list[str], *, default: frozenset[str]
) -> frozenset[str]:
    if raw is None:
        return default
    if not isinstance(raw, list) or not all(isinstance(code, str) for code in raw):
        problems.append(f"`{SECTION}.rules.{name}` must be a list of rule codes, got {_kind(raw)}")
        return default
    unknown = sorted(set(raw) - KNOWN_CODES)
    if unknown:
        problems.append(
            f"`{SECTION}.rules.{name}` has unknown rule codes {', '.join(unknown)} "
            f"(known: {', '.join(sorted(KNOWN_CODES))})"
        )
        return default
    return frozenset(raw)


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def apply_settings(ls: TensorViewsServer, raw: object) -> None:
    """Adopt the client's options, warning the user about invalid ones."""
    settings, problems = parse_settings(raw)
    if problems:
        ls.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Warning,
                message="Tensor Views: invalid settings, defaults used instead: "
                + "; ".join(problems),
            )
        )
    if settings != ls.settings:
        ls.settings = settings
        schedule_all(ls)  # the documents already open show the new settings


@guarded(None)
def on_initialize(ls: TensorViewsServer, params: types.InitializeParams) -> None:
    """initialize: adopt `initializationOptions` (showMessage is allowed before the reply)."""
    apply_settings(ls, params.initialization_options)


@guarded(None)
def on_did_change_configuration(
    ls: TensorViewsServer, params: types.DidChangeConfigurationParams
) -> None:
    """workspace/didChangeConfiguration: adopt the new options and republish diagnostics."""
    apply_settings(ls, params.settings)


def register(ls: TensorViewsServer) -> None:
    """Attach the settings handlers to `ls`."""
    ls.feature(types.INITIALIZE)(on_initialize)
    ls.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(on_did_change_configuration)
