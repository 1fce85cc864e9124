"""Problem lines: what a snapshot could not read, one line per kind rather than per object.

A sharded 32-layer model can hold a thousand tensors that fail the same way; a thousand
identical lines on stderr hide everything else. Objects of one type failing for one reason
become one line naming a few of them: ``194 DTensors not drawn: model.h.0.*, model.h.1.*,
... (Reason)``.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_NAMES = 3


@dataclass(frozen=True, slots=True)
class Problem:
    name: str  # the object's first access path
    kind: str  # its type name: "DTensor", "Tensor", "object"
    what: str  # "not drawn", "skipped"
    reason: str  # one line


def grouped_problems(problems: list[Problem]) -> list[str]:
    """One line per (kind, what, reason), in first-seen order."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for p in problems:
        groups.setdefault((p.kind, p.what, p.reason), []).append(p.name)
    lines = []
    for (kind, what, reason), names in groups.items():
        if len(names) == 1:
            lines.append(f"{names[0]}: {what} ({reason})")
        else:
            lines.append(f"{len(names)} {_plural(kind)} {what}: {_names(names)} ({reason})")
    return lines


def _plural(kind: str) -> str:
    return kind + ("es" if kind.endswith(("s", "x")) else "s")


def _names(names: list[str]) -> str:
    """A few distinct prefixes: ``model.h.0.*`` for the names under ``model.h.0``."""
    shown: list[str] = []
    for name in names:
        cut = max(name.rfind("."), name.rfind("["))
        label = name[:cut] + ".*" if cut > 0 and name[cut] == "." else name
        if cut > 0 and name[cut] == "[":
            label = name[:cut] + "[*]"
        if label not in shown:
            shown.append(label)
        if len(shown) > MAX_NAMES:
            break
    more = ", ..." if len(shown) > MAX_NAMES else ""
    return ", ".join(shown[:MAX_NAMES]) + more
