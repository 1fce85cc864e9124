"""Kernel snapshot files in ``<jupyter runtime dir>/tensorviews/``: write, read, clean up.

The file format (``tensorviews.snapshot/1``) is the contract between a kernel and its readers
(the language server, the jupyter-server extension): one JSON object per kernel,
``kernel-<kernel id>.json``, with the kernel id, its pid, the notebook path when known, the time
and a sequence number, a ``names`` summary and the ``tensorviews.graph/1`` graph. Writes go to a
temporary file in the same folder and are moved into place with ``os.replace``, so a reader
sees the old file or the new one, never half of one. No IPython here.

The folder may sit in a runtime directory other users can write to, so nothing in it is
trusted by its name alone:

- the folder must be a real directory (not a symlink), owned by this user, mode 0700; anything
  else is refused with one line (``UnsafeFolder``), never repaired: no chmod, no delete through
  a link. It is opened once (``O_NOFOLLOW``) and every file operation is relative to that open
  folder, so swapping the folder for a link half-way cannot redirect a write or a delete;
- a file is read only if it is a regular file owned by this user, not a link, and at most
  ``MAX_SNAPSHOT_BYTES``: it is opened ``O_NONBLOCK | O_NOFOLLOW`` (a FIFO cannot hang the
  open) and checked with ``fstat`` on the open descriptor (what was checked is what is read);
- cleanup removes only regular files this user owns, and only the file it read.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SNAPSHOT_SCHEMA = "tensorviews.snapshot/1"
FOLDER_NAME = "tensorviews"
PREFIX = "kernel-"
SUFFIX = ".json"
FOLDER_MODE = 0o700
# Readers refuse bigger files: a capped view plus a bounded names summary stays far below
# (10,000 tensors: about 3 MB), and parsing a bigger one would stall a reader.
MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024
_TEMP_PREFIX = ".tmp-"
# POSIX flags (getattr: the module still imports where they are missing; there the folder
# cannot be opened as checked, so nothing is read or written).
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _NOFOLLOW | _CLOEXEC
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW | _CLOEXEC


class UnsafeFolder(Exception):
    """The snapshot folder is not a private directory of this user; its message is one line
    that says what is wrong and how to fix it."""


def snapshot_dir(runtime_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder of snapshot files (``JUPYTER_RUNTIME_DIR`` is honoured by jupyter_core)."""
    if runtime_dir is None:
        from jupyter_core.paths import jupyter_runtime_dir

        runtime_dir = jupyter_runtime_dir()
    return Path(runtime_dir) / FOLDER_NAME


def snapshot_path(folder: Path, kernel_id: str) -> Path:
    return folder / f"{PREFIX}{_safe(kernel_id)}{SUFFIX}"


def ensure_private_dir(folder: Path) -> None:
    """Create the folder (0700) if it is missing; raise ``UnsafeFolder`` if what is there is
    not a private directory of this user."""
    folder.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=FOLDER_MODE)
    with _private_folder(folder):
        pass


@contextlib.contextmanager
def _private_folder(folder: Path) -> Iterator[int]:
    """The folder opened without following a link, checked on the open descriptor."""
    try:
        fd = os.open(folder, _DIR_FLAGS)
    except OSError as error:
        if error.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
        # Linux says ENOTDIR for a link under O_DIRECTORY | O_NOFOLLOW: tell the two apart.
        if os.path.islink(folder):
            raise UnsafeFolder(
                f"snapshot folder {folder} is a symlink; refusing it (remove the link)"
            ) from None
        raise UnsafeFolder(
            f"snapshot folder {folder} is not a directory; refusing it (remove it)"
        ) from None
    try:
        info = os.fstat(fd)
        if info.st_uid != _my_uid():
            raise UnsafeFolder(
                f"snapshot folder {folder} belongs to uid {info.st_uid}, not to this user"
                f" (uid {_my_uid()}); refusing it"
            )
        mode = stat.S_IMODE(info.st_mode)
        if mode != FOLDER_MODE:
            raise UnsafeFolder(
                f"snapshot folder {folder} has mode {mode:04o}, not 0700; refusing it"
                f" (chmod 700 {folder})"
            )
        yield fd
    finally:
        os.close(fd)


def folder_problem(folder: Path) -> str | None:
    """Why the folder is refused (one line), or None when it is private or does not exist."""
    try:
        with _private_folder(folder):
            return None
    except UnsafeFolder as unsafe:
        return str(unsafe)
    except OSError:
        return None


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step; the file is created 0600.

    Raises ``UnsafeFolder`` when ``path``'s folder is not private (see the module's note)."""
    data = text.encode("utf-8")
    with _private_folder(path.parent) as folder_fd:
        temp = f"{_TEMP_PREFIX}{secrets.token_hex(8)}{SUFFIX}"
        fd = os.open(
            temp,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC,
            0o600,
            dir_fd=folder_fd,
        )
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temp, path.name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=folder_fd)
            raise


def read_private_file(path: Path, max_bytes: int = MAX_SNAPSHOT_BYTES) -> bytes | None:
    """The bytes of ``path`` if it is a regular file of this user, not a link, in a private
    folder, and at most ``max_bytes`` long; None otherwise. Never blocks on a FIFO."""
    try:
        with _private_folder(path.parent) as folder_fd:
            found = _read_in(folder_fd, path.name, max_bytes)
    except (UnsafeFolder, OSError):
        return None
    return None if found is None else found[0]


def _read_in(folder_fd: int, name: str, max_bytes: int) -> tuple[bytes, os.stat_result] | None:
    """Read ``name`` in the open folder under the rules above; its bytes and its ``fstat``."""
    try:
        fd = os.open(name, _READ_FLAGS, dir_fd=folder_fd)
    except OSError:  # gone, a link (ELOOP), no permission
        return None
    try:
        info = os.fstat(fd)
        if (
            not stat.S_ISREG(info.st_mode)
            or info.st_uid != _my_uid()
            or info.st_size > max_bytes
        ):
            return None
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:  # the file may grow after fstat: read at most one past the cap
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return (None if size > max_bytes else (b"".join(chunks), info))
    except OSError:
        return None
    finally:
        os.close(fd)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class KernelSnapshot:
    """One parsed snapshot file."""

    path: Path
    kernel_id: str
    pid: int
    notebook_path: str | None
    time: float
    seq: int
    names: dict[str, dict[str, Any]]
    graph: dict[str, Any]


def parse_snapshot(path: Path, text: str | bytes) -> KernelSnapshot | None:
    """The snapshot in ``text``, or None when it is not one (another schema, bad JSON)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("schema") != SNAPSHOT_SCHEMA:
        return None
    names = data.get("names")
    graph = data.get("graph")
    notebook = data.get("notebookPath")
    try:
        return KernelSnapshot(
            path=path,
            kernel_id=str(data["kernelId"]),
            pid=int(data["pid"]),
            notebook_path=notebook if isinstance(notebook, str) else None,
            time=float(data["time"]),
            seq=int(data["seq"]),
            names=names if isinstance(names, dict) else {},
            graph=graph if isinstance(graph, dict) else {},
        )
    except (KeyError, TypeError, ValueError, OverflowError):
        return None


def read_snapshot(path: Path) -> KernelSnapshot | None:
    """Parse one snapshot file; None if it vanished, is not a snapshot, or is refused (a link,
    a FIFO or other special file, another user's, over ``MAX_SNAPSHOT_BYTES``, in a folder
    that is not private)."""
    data = read_private_file(path)
    return None if data is None else parse_snapshot(path, data)


def snapshot_files(folder: Path) -> list[Path]:
    """The snapshot files in ``folder``: regular files named ``kernel-*.json`` (no temporary
    files, no links, no FIFOs); none when the folder is refused."""
    try:
        with _private_folder(folder) as folder_fd:
            return [folder / name for name in _candidates(folder_fd)]
    except (UnsafeFolder, OSError):
        return []


def _candidates(folder_fd: int) -> list[str]:
    names = []
    with os.scandir(folder_fd) as entries:
        for entry in entries:
            if not (entry.name.startswith(PREFIX) and entry.name.endswith(SUFFIX)):
                continue
            with contextlib.suppress(OSError):
                if entry.is_file(follow_symlinks=False):
                    names.append(entry.name)
    return names


def remove_dead(folder: Path, keep: Path | None = None) -> list[Path]:
    """Delete snapshot files whose kernel process is gone; return what was removed.

    Only regular files of this user that parse as snapshots are removed (files of another
    version are left alone), and only the very file that was read (same inode)."""
    removed: list[Path] = []
    try:
        with _private_folder(folder) as folder_fd:
            for name in _candidates(folder_fd):
                if keep is not None and name == keep.name:
                    continue
                found = _read_in(folder_fd, name, MAX_SNAPSHOT_BYTES)
                if found is None:
                    continue
                data, info = found
                snapshot = parse_snapshot(folder / name, data)
                if snapshot is None or pid_alive(snapshot.pid):
                    continue
                if _unlink_if_same(folder_fd, name, info):
                    removed.append(folder / name)
    except (UnsafeFolder, OSError):
        pass
    return removed


def remove_snapshot(path: Path) -> bool:
    """Delete one snapshot file if it is a regular file of this user in a private folder;
    whether it was removed. Never deletes through a link."""
    try:
        with _private_folder(path.parent) as folder_fd:
            try:
                info = os.stat(path.name, dir_fd=folder_fd, follow_symlinks=False)
            except OSError:
                return False
            return _unlink_if_same(folder_fd, path.name, info)
    except (UnsafeFolder, OSError):
        return False


def _unlink_if_same(folder_fd: int, name: str, seen: os.stat_result) -> bool:
    try:
        now = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
    except OSError:
        return False
    if (
        not stat.S_ISREG(now.st_mode)
        or now.st_uid != _my_uid()
        or (now.st_dev, now.st_ino) != (seen.st_dev, seen.st_ino)
    ):
        return False
    try:
        os.unlink(name, dir_fd=folder_fd)
    except OSError:
        return False
    return True


def _my_uid() -> int:
    # No owners to compare without POSIX uids: every folder is refused there.
    return os.geteuid() if hasattr(os, "geteuid") else -1


def _safe(kernel_id: str) -> str:
    # Kernel ids are UUIDs; anything else is reduced to a harmless file name.
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in kernel_id)[:128] or "unknown"
