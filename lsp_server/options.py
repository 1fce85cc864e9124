"""The user's options for the language server, as plain data (no pygls here).

Kept apart from `features.settings` (which reads them from the client) because a `Snapshot`
carries them to the analysis worker process, which then needs only this module and the rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from lsp_server.limits import DEFAULT_MAX_FILE_SIZE
from tensorviews.rules import RULE_CODES

KNOWN_CODES = frozenset(RULE_CODES)


@dataclass(frozen=True)
class Settings:
    """What the user chose; the defaults report every rule, "possible" findings as information,
    and analyse documents up to 2 MiB."""

    enabled: frozenset[str] = KNOWN_CODES
    possible_severity: str = "information"
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
