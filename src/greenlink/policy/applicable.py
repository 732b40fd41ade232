"""Which rules of a rule set apply to a scenario on a date — one answer for the policy check and
the optimiser.

:func:`scenario_ruleset` picks the scenario's (or a given) rule set with the scenario's parameter
what-ifs; :func:`scenario_check_date` the date it is checked at; :func:`applicable_rules` the
rules in force on that date, with the resolved parameters and the readings of unclear rule text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from greenlink.policy.kpis import KpiReadings
from greenlink.policy.ruleset import OPERATORS, Rule, RuleSet, Scalar, load_ruleset, override
from greenlink.scenario.model import Scenario

#: Rule-set parameters that are readings of unclear rule text (see :class:`KpiReadings`).
READING_PARAMETERS = ("storage_losses_count_as_self_use", "curtailment_in_denominator")


@dataclass(frozen=True)
class ApplicableRules:
    """The rules of ``ruleset`` on ``check_date``: those that apply and why the others do not."""

    ruleset: RuleSet
    check_date: date
    parameters: dict[str, Scalar | None]
    readings: KpiReadings
    reasons: dict[str, str]  # rule id → why it does not apply

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules that apply, in rule-set order."""
        return tuple(r for r in self.ruleset.rules if r.id not in self.reasons)

    def reason(self, rule: Rule) -> str | None:
        """Why ``rule`` does not apply (``None`` when it does)."""
        return self.reasons.get(rule.id)


def resolve_parameters(ruleset: RuleSet, check_date: date) -> dict[str, Scalar | None]:
    """Parameter values, with ``check_year`` (and ``commissioning_year``) defaulting to the check
    date's year."""
    values: dict[str, Scalar | None] = {k: p.value for k, p in ruleset.parameters.items()}
    if values.get("check_year") is None:
        values["check_year"] = check_date.year
    if values.get("commissioning_year") is None:
        values["commissioning_year"] = values["check_year"]
    return values


def readings_of(ruleset: RuleSet) -> KpiReadings:
    """The KPI readings the rule set's parameters choose."""
    kwargs = {}
    for name in READING_PARAMETERS:
        param = ruleset.parameters.get(name)
        if param is not None and isinstance(param.value, bool):
            kwargs[name] = param.value
    return KpiReadings(**kwargs)


def not_applicable_reason(ruleset: RuleSet, rule: Rule, params: Mapping[str, Scalar | None],
                          check_date: date) -> str | None:
    """Why ``rule`` does not apply on ``check_date`` with ``params`` (``None``: it applies)."""
    in_force = ruleset.dates.in_force
    if in_force is not None and check_date < in_force:
        return f"rule set in force from {in_force.isoformat()}, check date {check_date.isoformat()}"
    if rule.effective_from is not None and check_date < rule.effective_from:
        return f"effective from {rule.effective_from.isoformat()}, check date " \
               f"{check_date.isoformat()}"
    if rule.effective_until is not None and check_date > rule.effective_until:
        return f"effective until {rule.effective_until.isoformat()}, check date " \
               f"{check_date.isoformat()}"
    for cond in rule.applies_if:
        actual = params.get(cond.parameter)
        if actual is None or not OPERATORS[cond.operator](actual, cond.value):
            return f"applies if {cond.parameter} {cond.operator} {cond.value!r}; " \
                   f"{cond.parameter} is {actual!r}"
    return None


def applicable_rules(ruleset: RuleSet, check_date: date) -> ApplicableRules:
    """The rules of ``ruleset`` that apply on ``check_date`` (effective dates, ``applies_if``)."""
    params = resolve_parameters(ruleset, check_date)
    reasons = {}
    for rule in ruleset.rules:
        why = not_applicable_reason(ruleset, rule, params, check_date)
        if why is not None:
            reasons[rule.id] = why
    return ApplicableRules(ruleset=ruleset, check_date=check_date, parameters=params,
                           readings=readings_of(ruleset), reasons=reasons)


def scenario_ruleset(scenario: Scenario, source: Path | None, ruleset: str | None = None,
                     overrides: Mapping[str, object] | None = None) -> RuleSet:
    """The scenario's rule set (or ``ruleset``: a shipped id, or a TOML file relative to the
    scenario file) with the scenario's parameter what-ifs and then ``overrides`` applied."""
    name = ruleset or scenario.policy.ruleset
    path = (source.parent / name) if source is not None and name.endswith(".toml") else name
    rules = load_ruleset(path)
    what_ifs: dict[str, object] = {**scenario.policy.parameters, **(overrides or {})}
    return override(rules, what_ifs) if what_ifs else rules


def scenario_check_date(scenario: Scenario, last_interval_date: date, rules: RuleSet) -> date:
    """``policy.check_date`` of the scenario, or the later of the last interval's date and the
    rule set's in-force date."""
    return scenario.policy.check_date or max(
        d for d in (last_interval_date, rules.dates.in_force) if d is not None)
