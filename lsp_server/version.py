"""The package's name and version, for the server's `initialize` answer and the CLI's reports."""

from __future__ import annotations

import importlib.metadata

NAME = "tensorviews"


def server_version() -> str:
    """The installed package's version (the source tree's when not installed)."""
    try:
        return importlib.metadata.version(NAME)
    except importlib.metadata.PackageNotFoundError:
        return "0.1.0"
