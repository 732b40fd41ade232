"""Policy rule sets as versioned data: load, validate, list, override and diff TOML rule files.

A rule set names its metrics only through the KPI registry (:mod:`greenlink.policy.kpis`) and
its operators through :data:`OPERATORS`; nothing in a rule file is ever evaluated as code.
The file format is described in ``docs/rulesets.md``.
"""

from __future__ import annotations

import operator as _op
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from greenlink.errors import InputError, Problem, ProblemList
from greenlink.policy.kpis import KPI_FUNCTIONS, PARK_ONLY_KPIS, STRUCTURAL_KPIS, kpi_kind
from greenlink.scenario.base import percent_as_fraction_message
from greenlink.tomlfile import load_toml, shipped_or_path, shipped_tomls, validate_toml_data

Scalar = bool | int | float | str
Operator = Literal[">=", "<=", "=="]
Confidence = Literal["official_text", "secondary", "assumption"]

#: The fixed operator table (comparison used by rules and by ``applies_if`` conditions).
OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": _op.ge,
    "<=": _op.le,
    "==": _op.eq,
}

_MODEL_CONFIG = ConfigDict(extra="forbid", frozen=True)


class Source(BaseModel):
    """A document a rule set rests on."""

    model_config = _MODEL_CONFIG

    id: str
    title: str
    url: str | None = None
    note: str | None = None


class Dates(BaseModel):
    """Dates of the document (``in_force`` gates every rule)."""

    model_config = _MODEL_CONFIG

    announced: date | None = None
    published: date | None = None
    in_force: date | None = None
    note: str | None = None


class Parameter(BaseModel):
    """A rule-set parameter: a reading of unclear text, a switch, or an input such as a year.

    ``value = None`` (key left out) means "not set": ``check_year`` then comes from the check date
    and ``commissioning_year`` from ``check_year``.
    """

    model_config = _MODEL_CONFIG

    type: Literal["bool", "int", "float", "str"]
    value: Scalar | None = None
    choices: list[Scalar] | None = None
    description: str = ""
    source: str | None = None
    confidence: Confidence | None = None


class Condition(BaseModel):
    """``parameter <operator> value``; all conditions of a rule must hold for it to apply."""

    model_config = _MODEL_CONFIG

    parameter: str
    operator: Operator
    value: Scalar


class Rule(BaseModel):
    """One check: ``metric <operator> threshold`` per scope and period."""

    model_config = _MODEL_CONFIG

    id: str
    title: str
    metric: str
    operator: Operator
    threshold: Scalar
    scope: Literal["park", "each_user"] = "park"
    period: Literal["year", "month"] = "year"
    clause_zh: str | None = None
    clause_en: str
    source: str
    confidence: Confidence
    applies_if: list[Condition] = Field(default_factory=list)
    effective_from: date | None = None
    effective_until: date | None = None
    note: str | None = None


class RuleSet(BaseModel):
    """A versioned policy rule set (one notice, or one province's implementation)."""

    model_config = _MODEL_CONFIG

    id: str
    version: str
    title: str
    title_en: str
    issuing_bodies: list[str]
    document_number: str
    companion_documents: list[str] = Field(default_factory=list)
    status: Literal["announced", "draft", "in_force", "superseded"]
    dates: Dates
    sources: list[Source] = Field(default_factory=list)
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    rules: list[Rule]
    note: str | None = None
    path: str | None = Field(default=None, exclude=True)

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id (``InputError`` listing the known ids otherwise)."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise InputError(Problem(f"rule set {self.id!r} has no rule {rule_id!r}", file=self.path,
                                 expected="one of " + ", ".join(r.id for r in self.rules)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (dates as ISO text)."""
        return self.model_dump(mode="json", exclude_none=True)


# ---------------------------------------------------------------------------------------------
# validation


def _type_ok(kind: str, value: object) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("float", "number"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, str)


def _check_semantics(ruleset: RuleSet, file: str | None) -> None:
    problems = ProblemList()
    params = ruleset.parameters
    for name, param in params.items():
        where = f"parameters.{name}"
        if param.value is not None and not _type_ok(param.type, param.value):
            problems.add(f"value {param.value!r} is not of type {param.type}", file, where,
                         f"a {param.type}")
        elif param.type == "float" and is_share_metric(name):
            share = share_problem(param.value, "value", file, where + ".value")
            if share is not None:
                problems.problems.append(share)
        if param.choices is not None and param.value is not None \
                and param.value not in param.choices:
            problems.add(f"value {param.value!r} is not one of the choices", file, where,
                         "one of " + ", ".join(map(repr, param.choices)))
    seen: set[str] = set()
    for i, rule in enumerate(ruleset.rules):
        where = f"rules[{i}] (id {rule.id!r})"
        if rule.id in seen:
            problems.add(f"duplicate rule id {rule.id!r}", file, where, "unique rule ids")
        seen.add(rule.id)
        if rule.id in params:
            problems.add(f"rule id {rule.id!r} is also a parameter name", file, where,
                         "rule ids distinct from parameter names")
        kind = kpi_kind(rule.metric)
        if kind is None:
            known = sorted(KPI_FUNCTIONS) + sorted(STRUCTURAL_KPIS)
            problems.add(f"unknown metric {rule.metric!r}", file, where + ".metric",
                         "one of " + ", ".join(known))
        else:
            if not _type_ok(kind, rule.threshold):
                problems.add(f"threshold {rule.threshold!r} does not fit metric {rule.metric!r}",
                             file, where + ".threshold", f"a {kind}")
            elif is_share_metric(rule.metric):
                share = share_problem(rule.threshold, "threshold", file, where + ".threshold")
                if share is not None:
                    problems.problems.append(share)
            if kind != "number" and rule.operator != "==":
                problems.add(f"operator {rule.operator!r} on a {kind} metric", file,
                             where + ".operator", "'=='")
            if rule.scope == "each_user" and (rule.metric in PARK_ONLY_KPIS
                                              or rule.metric in STRUCTURAL_KPIS):
                problems.add(f"metric {rule.metric!r} has no per-user value", file,
                             where + ".scope", "'park'")
        for j, cond in enumerate(rule.applies_if):
            cwhere = f"{where}.applies_if[{j}]"
            if cond.parameter not in params:
                problems.add(f"unknown parameter {cond.parameter!r}", file, cwhere,
                             "one of " + ", ".join(sorted(params)) if params else
                             "a parameter declared under [parameters]")
            elif not _type_ok(params[cond.parameter].type, cond.value):
                problems.add(f"value {cond.value!r} does not fit parameter {cond.parameter!r}",
                             file, cwhere, f"a {params[cond.parameter].type}")
    problems.raise_if_any()


def ruleset_from_dict(data: Mapping[str, Any], file: str | None = None) -> RuleSet:
    """Validate a parsed rule-set mapping.

    Raises
    ------
    InputError
        Naming the file and the rule (index and id) of every problem found.
    """
    ruleset = validate_toml_data(data, RuleSet, name=file or "<rule set>", id_key="id")
    return _checked(ruleset, file)


def _checked(ruleset: RuleSet, file: str | None) -> RuleSet:
    ruleset = ruleset.model_copy(update={"path": file})
    _check_semantics(ruleset, file)
    return ruleset


def load_ruleset_file(path: str | Path) -> RuleSet:
    """Load and validate one rule-set TOML file."""
    ruleset = load_toml(path, RuleSet, kind="rule-set file",
                        expected="a TOML rule-set file (docs/rulesets.md)", id_key="id")
    return _checked(ruleset, str(path))


def shipped_ruleset_paths() -> dict[str, Path]:
    """Shipped rule set files by id (file stem)."""
    return shipped_tomls("data", "rulesets")


def list_rulesets() -> list[RuleSet]:
    """Every shipped rule set, sorted by id."""
    return [load_ruleset_file(p) for p in shipped_ruleset_paths().values()]


def load_ruleset(id_or_path: str | Path) -> RuleSet:
    """A shipped rule set by id, or a rule-set TOML file by path.

    Raises
    ------
    InputError
        Unknown id (listing the known ids), unreadable or invalid file.
    """
    path = shipped_or_path(id_or_path, shipped_ruleset_paths(), what="rule set", location="ruleset")
    return load_ruleset_file(path)


# ---------------------------------------------------------------------------------------------
# what-ifs


# user-facing texts of the share checks (one place, for translation later)
_EXPECTED_SHARE = "a share 0..1: {key} = {fraction:g} (or, on the command line, {key}={value:g}%)"
_MSG_SHARE_RANGE = "share {value:g} is outside 0..1"
_EXPECTED_SHARE_RANGE = "a share 0..1 (0.2 = 20 %)"


def is_share_metric(metric: str) -> bool:
    """Whether a metric is a share 0..1 (every ratio KPI, and ``*_share*`` structural ones)."""
    return metric in KPI_FUNCTIONS or "_share" in metric


def share_problem(value: object, key: str, file: str | None = None,
                  location: str | None = None) -> Problem | None:
    """A problem when ``value`` cannot be a share 0..1: a percentage number (20 for 20 %) gets
    its fix spelled out; ``None`` when it is a share."""
    if not isinstance(value, int | float) or isinstance(value, bool) or 0 <= value <= 1:
        return None
    message = percent_as_fraction_message(float(value))
    if message is not None:
        return Problem(message, file=file, location=location or key,
                       expected=_EXPECTED_SHARE.format(key=key, fraction=value / 100,
                                                       value=value))
    return Problem(_MSG_SHARE_RANGE.format(value=value), file=file, location=location or key,
                   expected=_EXPECTED_SHARE_RANGE)


def _percent_text(value: object) -> object:
    """``"20%"`` / ``"20 %"`` (text, as from ``--set``) as the share 0.2; other values as they
    are."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return float(value.strip()[:-1].strip()) / 100.0
        except ValueError:
            return value
    return value


def _coerce(value: object, kind: str, key: str) -> Scalar:
    """Accept a typed value or the text of one (as given to ``--set key=value``)."""
    if isinstance(value, str) and kind != "str" and kind != "text":
        text = value.strip().lower()
        try:
            if kind == "bool":
                if text in ("true", "yes", "1"):
                    return True
                if text in ("false", "no", "0"):
                    return False
                raise ValueError(text)
            if kind == "int":
                return int(text)
            return float(text)
        except ValueError:
            raise InputError(Problem(f"cannot read {value!r} as a {kind}", location=key,
                                     expected=f"a {kind}")) from None
    if kind == "float" and _type_ok("int", value):
        return float(value)  # type: ignore[arg-type]
    if not _type_ok(kind, value):
        raise InputError(Problem(f"value {value!r} does not fit {key!r}", location=key,
                                 expected=f"a {kind}"))
    return value  # type: ignore[return-value]


def override(ruleset: RuleSet, changes: Mapping[str, object]) -> RuleSet:
    """A copy with rule thresholds and/or parameter values replaced (what-ifs).

    Parameters
    ----------
    ruleset
        The rule set to change (left unchanged).
    changes
        ``{rule_id: new threshold}`` or ``{parameter_name: new value}``. Values may be typed or
        text (``"0.65"``, ``"true"``) and are checked against the threshold's metric kind or the
        parameter's type and choices.

    Raises
    ------
    InputError
        Unknown key (listing rule ids and parameter names) or a value of the wrong type.
    """
    rules = {r.id: r for r in ruleset.rules}
    params = dict(ruleset.parameters)
    new_rules = dict(rules)
    for key, raw in changes.items():
        if key in rules:
            kind = kpi_kind(rules[key].metric) or "number"
            share = is_share_metric(rules[key].metric)
            value = _coerce(_percent_text(raw) if share else raw, kind, key)
            problem = share_problem(value, key, ruleset.path) if share else None
            if problem is not None:
                raise InputError(problem)
            new_rules[key] = rules[key].model_copy(update={"threshold": value})
        elif key in params:
            param = params[key]
            share = param.type == "float" and is_share_metric(key)
            value = _coerce(_percent_text(raw) if share else raw, param.type, key)
            problem = share_problem(value, key, ruleset.path) if share else None
            if problem is not None:
                raise InputError(problem)
            if param.choices is not None and value not in param.choices:
                raise InputError(Problem(f"value {value!r} is not a choice of {key!r}",
                                         location=key, file=ruleset.path,
                                         expected="one of " + ", ".join(map(repr, param.choices))))
            params[key] = param.model_copy(update={"value": value})
        else:
            raise InputError(Problem(
                f"rule set {ruleset.id!r} has no rule or parameter {key!r}", location=key,
                file=ruleset.path, expected="a rule id (" + ", ".join(rules) + ") or parameter ("
                + ", ".join(params) + ")"))
    return ruleset.model_copy(update={"rules": [new_rules[r.id] for r in ruleset.rules],
                                      "parameters": params})


def parse_assignments(items: list[str]) -> dict[str, str]:
    """``["a=1", "b=true"]`` → ``{"a": "1", "b": "true"}`` (for ``--set``); values stay text."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(Problem(f"cannot read --set {item!r}", location="--set",
                                     expected="KEY=VALUE"))
        out[key.strip()] = value.strip()
    return out


# ---------------------------------------------------------------------------------------------
# diff


@dataclass(frozen=True)
class FieldChange:
    """One changed field: where (``rules.<id>.threshold``, ``parameters.<name>.value`` ...)."""

    path: str
    a: Any
    b: Any

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "a": self.a, "b": self.b}


@dataclass(frozen=True)
class RuleSetDiff:
    """Differences between two rule sets."""

    a_id: str
    b_id: str
    changed: tuple[FieldChange, ...] = ()
    rules_only_in_a: tuple[str, ...] = ()
    rules_only_in_b: tuple[str, ...] = ()
    parameters_only_in_a: tuple[str, ...] = ()
    parameters_only_in_b: tuple[str, ...] = ()

    @property
    def identical(self) -> bool:
        return not (self.changed or self.rules_only_in_a or self.rules_only_in_b
                    or self.parameters_only_in_a or self.parameters_only_in_b)

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a_id, "b": self.b_id, "identical": self.identical,
                "changed": [c.to_dict() for c in self.changed],
                "rules_only_in_a": list(self.rules_only_in_a),
                "rules_only_in_b": list(self.rules_only_in_b),
                "parameters_only_in_a": list(self.parameters_only_in_a),
                "parameters_only_in_b": list(self.parameters_only_in_b)}


def _flat_changes(prefix: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> list[FieldChange]:
    out = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key), b.get(key)
        if va != vb:
            out.append(FieldChange(f"{prefix}{key}", va, vb))
    return out


def diff(a: RuleSet, b: RuleSet) -> RuleSetDiff:
    """Field-by-field differences of metadata, parameters and rules (rules matched by id)."""
    da, db = a.to_dict(), b.to_dict()
    top_a = {k: v for k, v in da.items() if k not in ("rules", "parameters")}
    top_b = {k: v for k, v in db.items() if k not in ("rules", "parameters")}
    changed = _flat_changes("", top_a, top_b)
    pa, pb = da.get("parameters", {}), db.get("parameters", {})
    for name in sorted(set(pa) & set(pb)):
        changed += _flat_changes(f"parameters.{name}.", pa[name], pb[name])
    ra = {r["id"]: r for r in da["rules"]}
    rb = {r["id"]: r for r in db["rules"]}
    for rid in [r for r in ra if r in rb]:
        changed += _flat_changes(f"rules.{rid}.", ra[rid], rb[rid])
    return RuleSetDiff(
        a_id=a.id, b_id=b.id, changed=tuple(changed),
        rules_only_in_a=tuple(r for r in ra if r not in rb),
        rules_only_in_b=tuple(r for r in rb if r not in ra),
        parameters_only_in_a=tuple(p for p in pa if p not in pb),
        parameters_only_in_b=tuple(p for p in pb if p not in pa),
    )
