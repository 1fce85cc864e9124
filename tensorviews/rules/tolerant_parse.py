"""Parse Python text that may contain syntax errors, keeping every statement that still parses.

Two strategies, both keep line numbers unchanged (lines are replaced, never removed):
1. patch the offending line (``pass`` at its indentation, or blank it) and parse again;
2. otherwise keep the longest parseable prefix before the error, and recover the rest from the
   next top-level line onwards, recursively.
A parse budget bounds the work on pathological text.
"""

from __future__ import annotations

import ast
import re

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_MAX_PATCHES = 6
_MAX_PARSES = 40
# Lines that continue a statement started above; a recovered suffix must not start there.
_CONTINUATION = re.compile(r"(?:[)\]}]|else\b|elif\b|except\b|finally\b|case\b)")


def parse_tolerant(source: str) -> ast.Module:
    """Parse ``source``; on syntax errors return a module of the statements that still parse."""
    # NUL bytes are rejected by the parser; a space keeps every column in place.
    text = source.replace("\x00", " ")
    result = _try_parse(text)
    if isinstance(result, ast.Module):
        return result
    lines = _LINE.findall(text)
    budget = [_MAX_PARSES]
    patched = _parse_with_patches(lines, result, budget)
    if patched is not None:
        return patched
    return ast.Module(body=_recover(lines, 0, budget), type_ignores=[])


def _try_parse(text: str) -> ast.Module | SyntaxError | None:
    """The module, the SyntaxError, or None when the text cannot be parsed at all."""
    try:
        return ast.parse(text)
    except SyntaxError as error:
        return error
    except (ValueError, RecursionError, MemoryError, OverflowError):
        return None


def _error_index(error: SyntaxError | None, lines: list[str], start: int) -> int | None:
    """0-based index of the line an error points at, clamped to the non-blank text."""
    if error is None or not error.lineno:
        return None
    index = min(error.lineno - 1, len(lines) - 1)
    while index > start and not lines[index].strip():
        index -= 1
    return index if index >= start else None


def _parse_with_patches(
    lines: list[str], error: SyntaxError | None, budget: list[int]
) -> ast.Module | None:
    patched = list(lines)
    touched: set[int] = set()
    for _ in range(_MAX_PATCHES):
        index = _error_index(error, patched, 0)
        if index is None or index in touched or budget[0] <= 0:
            return None
        touched.add(index)
        line = patched[index]
        ending = line[len(line.rstrip("\r\n")) :]
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        message = (error.msg if error else "") or ""
        # An unexpected indent is usually a continuation of the broken line: drop it.
        filler = "" if "indent" in message else f"{indent}pass"
        patched[index] = filler + ending
        budget[0] -= 1
        result = _try_parse("".join(patched))
        if isinstance(result, ast.Module):
            return result
        error = result
    return None


def _blanked(lines: list[str], start: int, end: int) -> str:
    """Lines ``start..end`` with every earlier line left empty, so line numbers stay right."""
    return "\n" * start + "".join(lines[start:end])


def _recover(lines: list[str], start: int, budget: list[int]) -> list[ast.stmt]:
    end = len(lines)
    body: list[ast.stmt] = []
    while end > start and budget[0] > 0:
        budget[0] -= 1
        result = _try_parse(_blanked(lines, start, end))
        if isinstance(result, ast.Module):
            body = result.body
            break
        index = _error_index(result, lines, start)
        if index is None:
            return body
        failing = end
        end = min(index, end - 1)
        if failing == len(lines) and end >= start:
            # The suffix after the first error is recovered separately.
            rest = _next_top_level_line(lines, index + 1)
            if rest is not None:
                return _prefix(lines, start, end, budget) + _recover(lines, rest, budget)
    return body


def _prefix(lines: list[str], start: int, end: int, budget: list[int]) -> list[ast.stmt]:
    while end > start and budget[0] > 0:
        budget[0] -= 1
        result = _try_parse(_blanked(lines, start, end))
        if isinstance(result, ast.Module):
            return result.body
        index = _error_index(result, lines, start)
        if index is None:
            return []
        end = min(index, end - 1)
    return []


def _next_top_level_line(lines: list[str], begin: int) -> int | None:
    for index in range(begin, len(lines)):
        line = lines[index]
        if not line.strip() or line[0] in " \t#" or _CONTINUATION.match(line):
            continue
        return index
    return None
