"""How sizes and shapes are written in every face: ``64.0 MiB``, ``(2, 2)``, ``(3,)``."""

from __future__ import annotations

from collections.abc import Sequence


def format_bytes(n: int | None) -> str:
    if n is None:
        return "? B"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # unreachable; keeps type checkers happy


def format_dims(values: Sequence[int] | None) -> str:
    """Python's tuple spelling, as the user wrote the shape: ``(3,)``, ``(2, 2)``, ``()``."""
    if values is None:
        return "?"
    return "(" + ", ".join(str(v) for v in values) + ("," if len(values) == 1 else "") + ")"
