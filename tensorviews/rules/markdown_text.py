"""Markdown and one-line rendering of user text (names, expressions) without breaking markup."""

from __future__ import annotations

import re

_BACKTICKS = re.compile(r"`+")
_WHITESPACE = re.compile(r"\s+")


def one_line(text: str) -> str:
    """Collapse the line breaks and runs of blanks of a multi-line expression."""
    return _WHITESPACE.sub(" ", text).strip()


def code_span(text: str) -> str:
    """Inline code that shows ``text`` verbatim, even when it contains backticks."""
    text = one_line(text)
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    if longest or text.startswith(" ") or text.endswith(" "):
        return f"{fence} {text} {fence}"
    return f"{fence}{text}{fence}"


def code_block(text: str, language: str = "python") -> str:
    """A fenced block whose fence is longer than any backtick run inside ``text``."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"
