"""The rule registry: every rule the project has, in code order."""

from __future__ import annotations

from tensorviews.rules import swap_in_one_statement, swap_through_temporary
from tensorviews.rules.rule import Rule

RULES: tuple[Rule, ...] = (swap_in_one_statement.RULE, swap_through_temporary.RULE)
RULE_CODES: tuple[str, ...] = tuple(rule.code for rule in RULES)
RULES_BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}
