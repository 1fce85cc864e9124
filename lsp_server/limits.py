"""Size limits shared by the `check` CLI and the language server (no pygls here).

The rules' time and memory grow with the text they judge (a 100 MB file took minutes and
gigabytes), so a file or document above the limit is not analysed: the CLI reports it like an
unreadable file, the language server says so once per document.
"""

from __future__ import annotations

import re

# 2 MiB of Python text is about 60,000 lines of ordinary code: every hand-written module fits,
# generated ones (protobuf stubs, vendored bundles) above it are skipped unless asked for.
DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024

_SIZE = re.compile(r"(?P<number>[0-9]+)\s*(?P<unit>[kKmMgG]?)(?:i?[bB])?")
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_size(text: str) -> int:
    """`"2M"`, `"512k"`, `"2MiB"`, `"1048576"` -> bytes (1024-based units); 0 means no limit.

    Raises ValueError with a plain-words reason."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"invalid size {text!r} (use bytes, or a number with k, M or G)")
    return int(match.group("number")) * _UNITS[match.group("unit").lower()]


def too_big(size: int, limit: int) -> bool:
    """Whether `size` bytes exceed `limit` (0: no limit)."""
    return limit > 0 and size > limit


def describe_size(size: int) -> str:
    """A size for messages: `3.1 MiB`, `812 KiB`, `90 bytes`."""
    if size >= 1024**2:
        return f"{size / 1024**2:.1f} MiB"
    if size >= 1024:
        return f"{size // 1024} KiB"
    return f"{size} bytes"
