"""Kernel snapshot files in ``<jupyter runtime dir>/tensorviews/``: write, read, clean up.

The file format (``tensorviews.snapshot/1``) is the contract between a kernel and its readers
(the language server, the jupyter-server extension): one JSON object per kernel,
``kernel-<kernel id>.json``, with the kernel id, its pid, the notebook path when known, the time
and a sequence number, a ``names`` summary and the ``tensorviews.graph/1`` graph. Writes go to a
temporary file in the same folder and are moved into place with ``os.replace``, so a reader
sees the old file or the new one, never half of one. No IPython here.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SNAPSHOT_SCHEMA = "tensorviews.snapshot/1"
FOLDER_NAME = "tensorviews"
PREFIX = "kernel-"
SUFFIX = ".json"
_TEMP_PREFIX = ".tmp-"


def snapshot_dir(runtime_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder of snapshot files (``JUPYTER_RUNTIME_DIR`` is honoured by jupyter_core)."""
    if runtime_dir is None:
        from jupyter_core.paths import jupyter_runtime_dir

        runtime_dir = jupyter_runtime_dir()
    return Path(runtime_dir) / FOLDER_NAME


def ensure_private_dir(folder: Path) -> None:
    """Create the folder readable by its owner only (it holds names from users' code)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o777 != 0o700:
        os.chmod(folder, 0o700)


def snapshot_path(folder: Path, kernel_id: str) -> Path:
    return folder / f"{PREFIX}{_safe(kernel_id)}{SUFFIX}"


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step; the file is created 0600 (mkstemp)."""
    fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


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


def parse_snapshot(path: Path, text: str) -> KernelSnapshot | None:
    """The snapshot in ``text``, or None when it is not one (another schema, bad JSON)."""
    try:
        data = json.loads(text)
    except ValueError:
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
    except (KeyError, TypeError, ValueError):
        return None


def read_snapshot(path: Path) -> KernelSnapshot | None:
    """Parse one snapshot file; None if it vanished or is not a snapshot."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    return parse_snapshot(path, text)


def snapshot_files(folder: Path) -> list[Path]:
    """The snapshot files in ``folder`` (temporary files excluded)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    return [
        Path(entry.path)
        for entry in entries
        if entry.name.startswith(PREFIX) and entry.name.endswith(SUFFIX)
    ]


def remove_dead(folder: Path, keep: Path | None = None) -> list[Path]:
    """Delete snapshot files whose kernel process is gone; return what was removed."""
    removed: list[Path] = []
    for path in snapshot_files(folder):
        if path == keep:
            continue
        snapshot = read_snapshot(path)
        # Files that do not parse may be another version's: left alone.
        if snapshot is None or pid_alive(snapshot.pid):
            continue
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed


def _safe(kernel_id: str) -> str:
    # Kernel ids are UUIDs; anything else is reduced to a harmless file name.
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in kernel_id)[:128] or "unknown"
