"""``python -m lsp_server check PATH... [--format json|text]`` (placeholder, being written)."""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    return 0
