"""Evaluate a rule set against flows and structural facts: one verdict per rule, scope and period.

Metrics come from the KPI registry, comparisons from the fixed operator table; rule text is never
executed. A rule that does not apply (before its effective date, or switched off by a parameter
such as the 2030 reading) is reported with status ``not_applicable`` and the reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from greenlink.errors import InputError, Problem
from greenlink.policy.applicable import applicable_rules
from greenlink.policy.kpis import (
    KPI_FUNCTIONS,
    KPI_READING_PARAMETERS,
    STRUCTURAL_KPIS,
    KpiReadings,
    Period,
    prepare_flows,
    split_periods,
)
from greenlink.policy.ruleset import OPERATORS, Rule, RuleSet, Scalar, load_ruleset, override
from greenlink.units import SHARE_TOLERANCE

Status = Literal["pass", "fail", "not_applicable", "no_data"]


@dataclass(frozen=True)
class RuleResult:
    """The verdict of one rule for one scope and period.

    ``margin`` is signed so that positive (or zero) means pass: ``value − threshold`` for ``>=``,
    ``threshold − value`` for ``<=``, ``−|value − threshold|`` for ``==`` on numbers and ``None``
    for ``==`` on booleans or text. ``passed`` is ``None`` unless the rule was checked.
    """

    rule_id: str
    title: str
    kpi: str
    operator: str
    threshold: Scalar
    scope: str
    period: str
    value: Scalar | None
    margin: float | None
    passed: bool | None
    status: Status
    confidence: str
    clause_zh: str | None
    clause_en: str
    source: str
    rests_on_assumption: bool
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        value = self.value
        if isinstance(value, float) and math.isnan(value):
            value = None
        return {
            "rule_id": self.rule_id, "title": self.title, "kpi": self.kpi,
            "operator": self.operator, "threshold": self.threshold, "scope": self.scope,
            "period": self.period, "value": value, "margin": self.margin, "passed": self.passed,
            "status": self.status, "confidence": self.confidence,
            "clause": {"zh": self.clause_zh, "en": self.clause_en}, "source": self.source,
            "rests_on_assumption": self.rests_on_assumption, "reason": self.reason,
        }


@dataclass(frozen=True)
class PolicyReport:
    """All verdicts of one rule set.

    ``all_passed`` is true only when every applicable verdict passed and none lacked data.
    """

    ruleset_id: str
    ruleset_version: str
    ruleset_title: str
    document_number: str
    check_date: date
    parameters: dict[str, Scalar | None]
    readings: KpiReadings
    results: tuple[RuleResult, ...] = field(default_factory=tuple)

    @property
    def all_passed(self) -> bool:
        return all(r.status in ("pass", "not_applicable") for r in self.results)

    @property
    def failed(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.results if r.status == "fail")

    def result(self, rule_id: str, scope: str = "park", period: str | None = None
               ) -> RuleResult:
        """The (first) verdict of ``rule_id`` for this scope and period."""
        for r in self.results:
            if r.rule_id == rule_id and r.scope == scope and (period is None or r.period == period):
                return r
        raise KeyError((rule_id, scope, period))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ruleset": {"id": self.ruleset_id, "version": self.ruleset_version,
                        "title": self.ruleset_title, "document_number": self.document_number},
            "check_date": self.check_date.isoformat(),
            "parameters": dict(self.parameters),
            "readings": self.readings.to_dict(),
            "all_passed": self.all_passed,
            "rests_on_assumption": any(r.rests_on_assumption and r.status in ("pass", "fail")
                                       for r in self.results),
            "results": [r.to_dict() for r in self.results],
        }


# ---------------------------------------------------------------------------------------------


def _margin(op: str, value: Scalar, threshold: Scalar) -> float | None:
    if isinstance(value, bool) or isinstance(threshold, bool) or isinstance(value, str) \
            or isinstance(threshold, str):
        return None
    v, t = float(value), float(threshold)
    if op == ">=":
        return v - t
    if op == "<=":
        return t - v
    return -abs(v - t)


def _compare(op: str, value: Scalar, threshold: Scalar) -> bool:
    margin = _margin(op, value, threshold)
    if margin is not None:
        return margin >= -SHARE_TOLERANCE
    return bool(OPERATORS[op](value, threshold))


def _rests_on_assumption(ruleset: RuleSet, rule: Rule) -> bool:
    if rule.confidence == "assumption":
        return True
    names = {c.parameter for c in rule.applies_if}
    names |= set(KPI_READING_PARAMETERS.get(rule.metric, ()))
    return any(ruleset.parameters[n].confidence == "assumption"
               for n in names if n in ruleset.parameters)


def _structural_value(name: str, structural: Mapping[str, object]) -> Scalar | None:
    if name not in structural or structural[name] is None:
        return None
    value = structural[name]
    kind = STRUCTURAL_KPIS[name]
    ok = (isinstance(value, bool) if kind == "bool" else
          isinstance(value, int | float) and not isinstance(value, bool) if kind == "number" else
          isinstance(value, str))
    if not ok:
        raise InputError(Problem(f"structural KPI {name!r} has value {value!r}",
                                 location=f"structural.{name}", expected=f"a {kind}"))
    return value  # type: ignore[return-value]


def default_check_date(flows: pd.DataFrame) -> date:
    """Local calendar date of the last interval in the flows."""
    frame = prepare_flows(flows)
    if len(frame) == 0:
        raise InputError(Problem("flows table is empty", expected="at least one interval"))
    return frame.index[-1].date()  # type: ignore[no-any-return]


def evaluate(ruleset: RuleSet | str | Path, flows: pd.DataFrame, user_ids: list[str],
             structural: Mapping[str, object] | None = None,
             overrides: Mapping[str, object] | None = None, *,
             check_date: date | None = None, timezone: str | None = None) -> PolicyReport:
    """Check every rule of a rule set.

    Parameters
    ----------
    ruleset
        A loaded :class:`RuleSet`, a shipped rule-set id or a path to a TOML rule file.
    flows
        Flows table of ``docs/formats.md``.
    user_ids
        Users of the park (for ``each_user`` rules).
    structural
        Structural KPIs (``connection_voltage_kv``, ``reverse_flow_allowed``, ``users_count`` ...).
        A rule on a structural KPI not given gets status ``no_data``.
    overrides
        What-ifs: ``{rule_id: threshold}`` or ``{parameter: value}`` (see
        :func:`greenlink.policy.ruleset.override`).
    check_date
        Date the rules are checked at (effective dates, ``check_year``). Default: the local date
        of the last interval of the flows.
    timezone
        The scenario's zone, whose clock hours and calendar periods the KPIs use (``None``: the
        flows' own zone).

    Returns
    -------
    PolicyReport
        One :class:`RuleResult` per rule, scope and period, in rule order.
    """
    rs = ruleset if isinstance(ruleset, RuleSet) else load_ruleset(ruleset)
    if overrides:
        rs = override(rs, overrides)
    structural = dict(structural or {})
    unknown = sorted(set(structural) - set(STRUCTURAL_KPIS))
    if unknown:
        raise InputError([Problem(f"unknown structural KPI {k!r}", location=f"structural.{k}",
                                  expected="one of " + ", ".join(STRUCTURAL_KPIS))
                          for k in unknown])
    frame = prepare_flows(flows, user_ids, timezone)
    when = check_date or default_check_date(frame)
    applicable = applicable_rules(rs, when)
    params, readings = applicable.parameters, applicable.readings
    periods: dict[Period, list[tuple[str, pd.DataFrame, float | None]]] = {}

    results: list[RuleResult] = []
    for rule in rs.rules:
        base: dict[str, Any] = {
            "rule_id": rule.id, "title": rule.title, "kpi": rule.metric,
            "operator": rule.operator, "threshold": rule.threshold,
            "confidence": rule.confidence, "clause_zh": rule.clause_zh,
            "clause_en": rule.clause_en, "source": rule.source,
            "rests_on_assumption": _rests_on_assumption(rs, rule),
        }
        is_structural = rule.metric in STRUCTURAL_KPIS
        reason = applicable.reason(rule)
        if is_structural:
            cells: list[tuple[str, str, Scalar | None]] = []
            if reason is None:
                cells.append(("park", "static", _structural_value(rule.metric, structural)))
            else:
                cells.append(("park", "static", None))
        else:
            if rule.period not in periods:
                periods[rule.period] = split_periods(frame, rule.period)
            scopes: list[str | None] = [None] if rule.scope == "park" else list(user_ids)
            func = KPI_FUNCTIONS[rule.metric]
            cells = []
            for label, part, soc_start in periods[rule.period]:
                for scope in scopes:
                    kpi_value = None if reason is not None else func(
                        part, scope, soc_green_start_kwh=soc_start, readings=readings)
                    cells.append((scope or "park", label, kpi_value))
            if not scopes:
                results.append(RuleResult(**base, scope="each_user", period=rule.period,
                                          value=None, margin=None, passed=None,
                                          status="no_data", reason="no users given"))
        for scope_name, label, value in cells:
            if reason is not None:
                results.append(RuleResult(**base, scope=scope_name, period=label, value=None,
                                          margin=None, passed=None, status="not_applicable",
                                          reason=reason))
            elif value is None or (isinstance(value, float) and math.isnan(value)):
                why = ("structural KPI not supplied" if is_structural
                       else "undefined: denominator is 0 in this period")
                results.append(RuleResult(**base, scope=scope_name, period=label, value=value,
                                          margin=None, passed=None, status="no_data", reason=why))
            else:
                passed = _compare(rule.operator, value, rule.threshold)
                results.append(RuleResult(**base, scope=scope_name, period=label, value=value,
                                          margin=_margin(rule.operator, value, rule.threshold),
                                          passed=passed, status="pass" if passed else "fail"))
    return PolicyReport(
        ruleset_id=rs.id, ruleset_version=rs.version, ruleset_title=rs.title,
        document_number=rs.document_number, check_date=when, parameters=params,
        readings=readings, results=tuple(results))
