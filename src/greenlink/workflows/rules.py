"""Rule sets for the shells: list the shipped ones, load one (id or TOML file), compare two.

The rule sets are data (``greenlink/data/rulesets``) read by :mod:`greenlink.policy.ruleset`; the
CLI's ``rules`` commands and the service's job checks come through here.
"""

from __future__ import annotations

from greenlink.policy.ruleset import RuleSet as RuleSet
from greenlink.policy.ruleset import RuleSetDiff as RuleSetDiff
from greenlink.policy.ruleset import diff as diff
from greenlink.policy.ruleset import list_rulesets as list_rulesets
from greenlink.policy.ruleset import load_ruleset as load_ruleset


def check_builtin_ruleset(ruleset_id: str) -> RuleSet:
    """A shipped rule set by id (what a service job may name; files are refused by the caller)."""
    return load_ruleset(ruleset_id)
