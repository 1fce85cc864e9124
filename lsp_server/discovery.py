"""Which files `check` reads: each real file once, whatever the symlinks (no pygls here).

Directories are searched for `.py` and `.ipynb` files (hidden entries, `__pycache__`,
`node_modules` and `site-packages` skipped). Symlinks are followed, but a file or directory is
identified by its device and inode, so a symlink loop or a second link to a folder already
searched is skipped: every real file is checked once, under the first path that reached it.
A path that cannot be read becomes a `Candidate` with a `problem`, and the walk goes on.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".py", ".ipynb")
_SKIPPED_DIRECTORIES = frozenset({"__pycache__", "node_modules", "site-packages"})


@dataclass(frozen=True)
class Candidate:
    """A file to check, or (with `problem`) a path that cannot be checked and why."""

    path: Path
    size: int = 0
    problem: str | None = None


def reason(error: OSError) -> str:
    """An OSError in plain words, without the path (the caller shows it)."""
    return error.strerror or str(error)


def discover(names: Sequence[str]) -> Iterator[Candidate]:
    """The files named or found under the directories named, each real file once."""
    seen: set[tuple[int, int]] = set()
    for name in names:
        path = Path(name)
        try:
            info = path.stat()
        except OSError as error:
            yield Candidate(path, problem=reason(error))
            continue
        if stat.S_ISDIR(info.st_mode):
            yield from _walk(path, info, seen)
        elif (key := (info.st_dev, info.st_ino)) not in seen:
            seen.add(key)
            yield _file(path, info)


def _file(path: Path, info: os.stat_result) -> Candidate:
    # A FIFO or a device named on the command line would block the run or never end.
    if not stat.S_ISREG(info.st_mode):
        return Candidate(path, problem="not a regular file")
    return Candidate(path, size=info.st_size)


def _walk(top: Path, info: os.stat_result, seen: set[tuple[int, int]]) -> Iterator[Candidate]:
    seen.add((info.st_dev, info.st_ino))
    stack = [top]
    while stack:
        directory = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError as error:
            yield Candidate(directory, problem=reason(error))
            continue
        subdirectories: list[Path] = []
        for entry in entries:
            if entry.name.startswith(".") or entry.name in _SKIPPED_DIRECTORIES:
                continue
            path = Path(entry.path)
            wanted = entry.name.endswith(SUFFIXES)
            try:
                entry_info = path.stat()  # follows symlinks; a loop of links raises ELOOP
            except OSError as error:
                if wanted:
                    yield Candidate(path, problem=reason(error))
                continue
            key = (entry_info.st_dev, entry_info.st_ino)
            if key in seen:
                continue  # already checked under another path, or a loop back up the tree
            if stat.S_ISDIR(entry_info.st_mode):
                seen.add(key)
                subdirectories.append(path)
            elif wanted and stat.S_ISREG(entry_info.st_mode):
                seen.add(key)
                yield Candidate(path, size=entry_info.st_size)
        # Depth first, in name order: the stack pops the first subdirectory next.
        stack.extend(reversed(subdirectories))
