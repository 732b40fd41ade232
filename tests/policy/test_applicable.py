"""One answer to "which rules apply": the policy check and the optimiser share it."""

from __future__ import annotations

from datetime import date

from greenlink.policy.applicable import applicable_rules
from greenlink.policy.ruleset import load_ruleset, override

RULESET = "cn-ndrc-nea-2025-650"


def test_nothing_applies_before_the_rule_set_is_in_force() -> None:
    rules = load_ruleset(RULESET)  # in force from 2025-05-30
    early = applicable_rules(rules, date(2025, 5, 29))
    assert early.rules == ()
    assert all("in force from 2025-05-30" in r for r in early.reasons.values())


def test_the_2030_rule_applies_only_from_2030() -> None:
    rules = load_ruleset(RULESET)
    in_2026 = {r.id for r in applicable_rules(rules, date(2026, 12, 31)).rules}
    in_2030 = {r.id for r in applicable_rules(rules, date(2030, 12, 31)).rules}
    assert "green_share_of_consumption_min_2030_650" not in in_2026
    assert "green_share_of_consumption_min_2030_650" in in_2030
    assert applicable_rules(rules, date(2030, 12, 31)).parameters["check_year"] == 2030


def test_a_parameter_what_if_switches_rules_off() -> None:
    rules = override(load_ruleset(RULESET), {"project_type": "off_grid"})
    ids = {r.id for r in applicable_rules(rules, date(2026, 6, 30)).rules}
    # applies_if project_type == grid_connected
    assert "self_use_share_of_generation_min" not in ids
    why = applicable_rules(rules, date(2026, 6, 30)).reasons["self_use_share_of_generation_min"]
    assert "project_type" in why and "off_grid" in why
