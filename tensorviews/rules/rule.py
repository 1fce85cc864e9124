"""What a rule is: a code, a one-line summary, and a follower that reads a block's statements
in order and reports a finding where the rule applies.

A rule is one module that defines ``RULE``; ``registry.RULES`` lists them. The analyzer, the
rule codes of the server and the CLI, the settings and the kernel's guard all read the
registry, so a new rule is that module and one line there.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from tensorviews.rules.model import Finding

if TYPE_CHECKING:
    from tensorviews.rules.source_text import SourceText
    from tensorviews.rules.value_types import Scope


class StatementFollower(Protocol):
    """Sees each statement of one block in order, before its own bindings take effect."""

    def feed(self, statement: ast.stmt, scope: Scope) -> Finding | None: ...


@dataclass(frozen=True)
class Rule:
    """One rule. ``checked_at_run_time``: the kernel's guard instruments this rule's
    "possible" findings and reports the first real clobber (the others show only before)."""

    code: str
    summary: str
    follow: Callable[[SourceText], StatementFollower]
    checked_at_run_time: bool = False
