"""``python -m lsp_server check PATH...``: report swap-of-views findings, ruff-style.

Checks ``.py`` and ``.ipynb`` files (directories are searched for both, each real file once).
Output positions use 1-based lines and 1-based character columns, like ruff; ``end_column`` is
exclusive. In notebooks, ``cell`` is the cell's index among all cells and lines count from the
cell's start. ``--format`` is ``text`` (default), ``json`` or ``sarif`` (SARIF 2.1.0).

A file that cannot be checked (unreadable, not UTF-8 without a coding comment, not a notebook,
above ``--max-file-size``) is reported, as one line on stderr in text mode and as a ``TV000``
entry in JSON (a tool notification in SARIF), and every other file is still checked.

Exit status: 0 when no finding is a warning or an error and every file could be read; 1 when
some finding is a warning or an error, or some file could not be checked; 2 on usage errors
(one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from lsp_server.discovery import Candidate, discover, reason
from lsp_server.limits import DEFAULT_MAX_FILE_SIZE, describe_size, parse_size, too_big
from lsp_server.reports import Reported, Unreadable
from tensorviews.rules import RULE_CODES, find_swap_hazards, find_swap_hazards_in_cells
from tensorviews.rules.model import SEVERITY_RANK
from tensorviews.rules.notebook_cells import NotebookError, code_cells

# A notebook's JSON carries outputs (images, tables) besides its code: the size limit applies to
# the code cells' text, and the file itself may be this many times larger.
NOTEBOOK_FILE_FACTOR = 32


class UsageError(Exception):
    """A command-line problem reported as exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


@dataclass(frozen=True)
class Outcome:
    """What checking one file gave: findings, or why it could not be checked."""

    reported: tuple[Reported, ...] = ()
    unreadable: Unreadable | None = None


@dataclass(frozen=True)
class Options:
    """The parsed command line."""

    paths: tuple[str, ...]
    format: str
    enabled: frozenset[str]
    max_file_size: int


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["check"]:
        args = args[1:]
    try:
        options = parse_options(args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    reported: list[Reported] = []
    unreadable: list[Unreadable] = []
    for candidate in discover(options.paths):
        outcome = check_candidate(candidate, options)
        reported.extend(outcome.reported)
        if outcome.unreadable is not None:
            unreadable.append(outcome.unreadable)
            if options.format == "text":
                print(outcome.unreadable.as_text(), file=sys.stderr, flush=True)
    write_report(options.format, reported, unreadable)
    serious = any(SEVERITY_RANK[item.finding.severity] >= 1 for item in reported)
    return 1 if serious or unreadable else 0


def write_report(form: str, reported: list[Reported], unreadable: list[Unreadable]) -> None:
    if form == "json":
        entries = [item.as_json() for item in unreadable] + [item.as_json() for item in reported]
        print(json.dumps(entries, indent=2, ensure_ascii=False))
    elif form == "sarif":
        from lsp_server.sarif import sarif_log

        print(json.dumps(sarif_log(reported, unreadable), indent=2, ensure_ascii=False))
    else:
        for item in reported:
            print(item.as_text())


def parse_options(args: Sequence[str]) -> Options:
    """The command line -> options; raises UsageError (exit 2) with one line."""
    parser = _Parser(
        prog="python -m lsp_server check",
        description="Report swap-of-views findings (" + ", ".join(RULE_CODES) + ") in .py and "
        ".ipynb files. A '# noqa' or '# noqa: TV001' comment on the reported line silences it.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    parser.add_argument("--format", choices=["text", "json", "sarif"], default="text")
    parser.add_argument(
        "--select",
        action="append",
        metavar="CODES",
        help="only these rules: comma-separated codes or prefixes (TV001, TV, ALL); default ALL",
    )
    parser.add_argument(
        "--ignore",
        action="append",
        metavar="CODES",
        help="leave out these rules (applied after --select)",
    )
    parser.add_argument(
        "--max-file-size",
        default=str(DEFAULT_MAX_FILE_SIZE),
        metavar="SIZE",
        help="skip (and report) files with more Python text than this: bytes, or a number with "
        "k, M or G; 0 for no limit (default: 2M)",
    )
    namespace = parser.parse_args(args)
    selected = select_codes(namespace.select, "--select") if namespace.select else set(RULE_CODES)
    ignored = select_codes(namespace.ignore, "--ignore") if namespace.ignore else set()
    try:
        limit = parse_size(namespace.max_file_size)
    except ValueError as error:
        raise UsageError(f"--max-file-size: {error}") from error
    return Options(
        paths=tuple(namespace.paths),
        format=namespace.format,
        enabled=frozenset(selected - ignored),
        max_file_size=limit,
    )


def select_codes(values: Sequence[str], option: str) -> set[str]:
    """Comma-separated codes or prefixes (ruff's way: `TV` is every TV rule, `ALL` all of them);
    one that names no rule of the registry is a usage error."""
    codes: set[str] = set()
    for value in values:
        for token in filter(None, (part.strip() for part in value.split(","))):
            if token == "ALL":
                codes.update(RULE_CODES)
                continue
            matching = {code for code in RULE_CODES if code.startswith(token)}
            if not matching:
                raise UsageError(
                    f"{option}: unknown rule code {token!r} (known: {', '.join(RULE_CODES)})"
                )
            codes.update(matching)
    return codes


def check_candidate(candidate: Candidate, options: Options) -> Outcome:
    """Check one file found by `discover`; never raises for a bad file."""
    shown = str(candidate.path)
    if candidate.problem is not None:
        return Outcome(unreadable=Unreadable(shown, f"cannot read: {candidate.problem}"))
    limit = options.max_file_size
    notebook = candidate.path.suffix == ".ipynb"
    file_limit = limit * NOTEBOOK_FILE_FACTOR if notebook else limit
    if too_big(candidate.size, file_limit):
        return Outcome(unreadable=Unreadable(shown, _too_big(candidate.size, limit)))
    try:
        data = _read_at_most(candidate.path, file_limit)
        if notebook:
            return _check_notebook(shown, data, options)
        source = decode_python(data)
    except OSError as error:
        return Outcome(unreadable=Unreadable(shown, f"cannot read: {reason(error)}"))
    except (NotebookError, _TooBig, _NotText) as error:
        return Outcome(unreadable=Unreadable(shown, str(error)))
    findings = find_swap_hazards(source, enabled=sorted(options.enabled))
    return Outcome(reported=tuple(Reported(shown, None, finding) for finding in findings))


def _check_notebook(shown: str, data: bytes, options: Options) -> Outcome:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotebookError(f"invalid notebook: not UTF-8 ({error.reason})") from error
    cells = code_cells(text)
    size = sum(len(cell.source.encode("utf-8", "surrogatepass")) for cell in cells)
    if too_big(size, options.max_file_size):
        raise _TooBig(_too_big(size, options.max_file_size, "of code cells"))
    per_cell = find_swap_hazards_in_cells(
        [cell.source for cell in cells], enabled=sorted(options.enabled)
    )
    return Outcome(
        reported=tuple(
            Reported(shown, cell.index, finding)
            for cell, findings in zip(cells, per_cell, strict=True)
            for finding in findings
        )
    )


class _TooBig(Exception):
    pass


class _NotText(Exception):
    pass


def _too_big(size: int, limit: int, what: str = "") -> str:
    return (
        f"not checked: {describe_size(size)}{' ' + what if what else ''} is above the "
        f"{describe_size(limit)} limit (--max-file-size)"
    )


def _read_at_most(path: Path, limit: int) -> bytes:
    """The file's bytes; a file that grew past the limit since it was listed is refused."""
    with path.open("rb") as handle:
        data = handle.read(limit + 1) if limit > 0 else handle.read()
    if too_big(len(data), limit):
        raise _TooBig(_too_big(len(data), limit))
    return data


def decode_python(data: bytes) -> str:
    """Python source bytes -> text, honouring a PEP 263 coding comment (UTF-8 otherwise)."""
    try:
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError as error:  # a bad coding comment, or non-UTF-8 bytes on line 1 or 2
            if not _decodes(data):
                encoding = "utf-8"  # decoding below says where the bad byte is
            else:
                raise _NotText(f"cannot read: {error}") from error
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise _NotText(
            f"cannot read: not valid {error.encoding} (byte 0x{data[error.start]:02x} on line "
            f"{line}); add a coding comment such as '# -*- coding: latin-1 -*-'"
        ) from error
    # Universal newlines, as Python reads a module; a BOM is not part of the code.
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
