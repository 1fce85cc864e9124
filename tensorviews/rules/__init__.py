"""Swap-of-views rules (TV001, TV002): pure ``ast`` analysis shared by the server, kernel and CLI.

``find_swap_hazards(source)`` judges one module; ``find_swap_hazards_in_cells(cells)`` judges a
notebook, letting types flow from earlier cells into later ones. Neither ever raises.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from tensorviews.rules.analyzer import analyze_sources
from tensorviews.rules.fixes import copy_fixed_statement
from tensorviews.rules.model import (
    Clobber,
    ContainerKind,
    Finding,
    Fix,
    Range,
    RelatedLocation,
    Severity,
    TextEdit,
    apply_text_edits,
    split_lines,
)
from tensorviews.rules.notebook_cells import python_only
from tensorviews.rules.registry import RULE_CODES, RULES, RULES_BY_CODE
from tensorviews.rules.rule import Rule

__all__ = [
    "RULES",
    "RULES_BY_CODE",
    "RULE_CODES",
    "Clobber",
    "ContainerKind",
    "Finding",
    "Fix",
    "Range",
    "RelatedLocation",
    "Rule",
    "Severity",
    "TextEdit",
    "apply_text_edits",
    "copy_fixed_statement",
    "find_swap_hazards",
    "find_swap_hazards_in_cells",
    "python_only",
    "split_lines",
]


def find_swap_hazards(
    source: str,
    *,
    known_types: Mapping[str, ContainerKind] | None = None,
    enabled: Collection[str] | None = None,
    known_ndims: Mapping[str, int] | None = None,
) -> list[Finding]:
    """Find swap-of-views hazards in one Python module's text.

    ``known_types`` gives the real kind of top-level names (e.g. from a live kernel) and wins over
    inference for them; ``known_ndims`` optionally gives their number of dimensions (it decides
    numpy element access vs row access). ``enabled`` restricts the rule codes (default: all).
    Syntax errors are tolerated: findings of the parts that still parse are kept.
    """
    return analyze_sources([source], known_types, enabled, known_ndims)[0]


def find_swap_hazards_in_cells(
    cells: Sequence[str],
    *,
    known_types: Mapping[str, ContainerKind] | None = None,
    enabled: Collection[str] | None = None,
    known_ndims: Mapping[str, int] | None = None,
) -> list[list[Finding]]:
    """Find hazards in notebook cells, in order; types flow from earlier cells to later ones.

    Returns one list per cell; ranges are relative to their cell.
    """
    return analyze_sources(list(cells), known_types, enabled, known_ndims)
