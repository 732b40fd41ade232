"""Footprint regimes as versioned data: which electricity counts, and how, under each set of rules
buyers ask about (CBAM, the EU Battery Regulation, GHG Protocol Scope 2 hourly, PACT).

A regime file (``data/regimes/<id>.toml``, sources in ``data/regimes/SOURCES.md``) is metadata
plus parameters, each with its value, source and confidence, like the policy rule sets
(:mod:`greenlink.policy.ruleset`). The parameters the footprint engine
(:mod:`greenlink.carbon.footprint`) reads are :data:`ELECTRICITY_RULES`; a rule that is not
settled (confidence other than ``official_text``) is a *reading*, and every footprint names the
readings it used. Nothing in a regime file is evaluated as code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from greenlink.errors import InputError, Problem, ProblemList
from greenlink.tomlfile import load_toml, shipped_or_path, shipped_tomls

Scalar = bool | int | float | str
Confidence = Literal["official_text", "secondary", "unverified"]
_CONFIG = ConfigDict(extra="forbid", frozen=True)

#: The electricity rules every regime sets, with their type and allowed values.
ELECTRICITY_RULES: dict[str, tuple[str, tuple[Scalar, ...] | None]] = {
    "direct_line_counted": ("bool", None),
    "ppa_counted": ("bool", None),
    "evidence_required": ("str", ("cbam_d43", "none")),
    "temporal_matching": ("str", ("hour", "month", "period")),
    "residual_factor": ("str", ("grid_default", "location", "national_consumption_mix",
                                "residual_mix")),
    "resolution": ("str", ("period", "batch")),
}


class RegimeSource(BaseModel):
    """A document a regime rests on."""

    model_config = _CONFIG

    id: str
    title: str
    url: str | None = None
    note: str | None = None


class RegimeParameter(BaseModel):
    """One rule of a regime: its value, the choices a reader may set, source and confidence."""

    model_config = _CONFIG

    type: Literal["bool", "str", "float"]
    value: Scalar
    choices: list[Scalar] | None = None
    description: str = ""
    source: str = ""
    confidence: Confidence


class Regime(BaseModel):
    """A footprint regime (one file of ``data/regimes``)."""

    model_config = _CONFIG

    id: str
    version: str
    title: str
    document: str
    status: Literal["in_force", "draft", "proposal"]
    confidence: Confidence
    declared_unit: Literal["t", "kWh", "product"] = Field(
        description="t: per tonne; kWh: per kWh of battery energy; product: the product's own")
    declared_unit_note: str = ""
    cn_prefixes: list[str] = Field(default_factory=list,
                                   description="CN prefixes in scope; empty: any product")
    scope_note: str = ""
    note: str | None = None
    sources: list[RegimeSource] = Field(default_factory=list)
    parameters: dict[str, RegimeParameter]
    path: str | None = Field(default=None, exclude=True)

    def value(self, name: str) -> Scalar:
        """The value of an electricity rule (:data:`ELECTRICITY_RULES`)."""
        return self.parameters[name].value

    def readings(self) -> list[Reading]:
        """The rules that are not settled law (confidence other than ``official_text``)."""
        return [Reading(name, p.value, p.confidence, p.description)
                for name, p in self.parameters.items() if p.confidence != "official_text"]

    def covers(self, cn_code: str) -> bool:
        """Whether a CN code is in the regime's scope (every code when no prefix is set)."""
        return not self.cn_prefixes or any(cn_code.startswith(p) for p in self.cn_prefixes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return self.model_dump(mode="json", exclude_none=True)


@dataclass(frozen=True)
class Reading:
    """A regime rule as read where the text is not settled: name, value, confidence, why."""

    rule: str
    value: Scalar
    confidence: str
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "value": self.value, "confidence": self.confidence,
                "description": self.description}


def _check(regime: Regime, file: str | None) -> Regime:
    problems = ProblemList()
    for name, (kind, choices) in ELECTRICITY_RULES.items():
        where = f"parameters.{name}"
        param = regime.parameters.get(name)
        if param is None:
            problems.add(f"rule {name!r} missing", file, where,
                         f"a [parameters.{name}] table ({kind})")
            continue
        ok = isinstance(param.value, bool) if kind == "bool" else (
            isinstance(param.value, str) if kind == "str" else
            isinstance(param.value, int | float) and not isinstance(param.value, bool))
        if param.type != kind or not ok:
            problems.add(f"rule {name!r} must be a {kind}", file, where, f"type = \"{kind}\"")
        elif choices is not None and param.value not in choices:
            problems.add(f"value {param.value!r} is not a known choice", file, where,
                         "one of " + ", ".join(map(repr, choices)))
        if param.choices is not None and param.value not in param.choices:
            problems.add(f"value {param.value!r} is not one of the file's choices", file, where,
                         "one of " + ", ".join(map(repr, param.choices)))
    problems.raise_if_any()
    return regime.model_copy(update={"path": file})


def load_regime_file(path: str | Path) -> Regime:
    """Load and validate one regime TOML file."""
    regime = load_toml(path, Regime, kind="regime file",
                       expected="a TOML regime file (data/regimes/SOURCES.md)", id_key="id")
    return _check(regime, str(path))


def shipped_regime_paths() -> dict[str, Path]:
    """Shipped regime files by id (file stem)."""
    return shipped_tomls("data", "regimes")


def list_regimes() -> list[Regime]:
    """Every shipped regime, sorted by id."""
    return [load_regime_file(p) for p in shipped_regime_paths().values()]


def load_regime(id_or_path: str | Path) -> Regime:
    """A shipped regime by id, or a regime TOML file by path.

    Raises
    ------
    InputError
        Unknown id (listing the known ids), unreadable or invalid file.
    """
    path = shipped_or_path(id_or_path, shipped_regime_paths(), what="regime", location="regime")
    return load_regime_file(path)


def _coerce(value: object, kind: str, key: str) -> Scalar:
    if isinstance(value, str) and kind != "str":
        text = value.strip().lower()
        if kind == "bool" and text in ("true", "false", "yes", "no", "1", "0"):
            return text in ("true", "yes", "1")
        if kind == "float":
            try:
                return float(text)
            except ValueError:
                pass
        raise InputError(Problem(f"cannot read {value!r} as a {kind}", location=key,
                                 expected=f"a {kind}"))
    if kind == "bool" and not isinstance(value, bool):
        raise InputError(Problem(f"value {value!r} does not fit {key!r}", location=key,
                                 expected="true or false"))
    return value  # type: ignore[return-value]


def override(regime: Regime, changes: Mapping[str, object]) -> Regime:
    """A copy with rule values replaced (``--set ppa_counted=true``): the reader's own reading.

    Raises
    ------
    InputError
        Unknown rule, or a value of the wrong type or outside the rule's choices.
    """
    params = dict(regime.parameters)
    for key, raw in changes.items():
        if key not in params:
            raise InputError(Problem(f"regime {regime.id!r} has no rule {key!r}", location=key,
                                     file=regime.path,
                                     expected="one of " + ", ".join(params)))
        param = params[key]
        value = _coerce(raw, param.type, key)
        allowed = param.choices or (ELECTRICITY_RULES.get(key, ("", None))[1])
        if allowed is not None and value not in allowed:
            raise InputError(Problem(f"value {value!r} is not a choice of {key!r}",
                                     location=key, file=regime.path,
                                     expected="one of " + ", ".join(map(repr, allowed))))
        params[key] = param.model_copy(update={
            "value": value, "confidence": "unverified",
            "description": f"set by the user (shipped: {param.value!r}); {param.description}"})
    return _check(regime.model_copy(update={"parameters": params}), regime.path)


@dataclass(frozen=True)
class RegimeChange:
    """One changed field: ``title``, ``parameters.ppa_counted.value`` …"""

    path: str
    a: Any
    b: Any

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "a": self.a, "b": self.b}


@dataclass(frozen=True)
class RegimeDiff:
    """Differences between two regimes."""

    a_id: str
    b_id: str
    changed: tuple[RegimeChange, ...] = ()
    parameters_only_in_a: tuple[str, ...] = ()
    parameters_only_in_b: tuple[str, ...] = ()

    @property
    def identical(self) -> bool:
        return not (self.changed or self.parameters_only_in_a or self.parameters_only_in_b)

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a_id, "b": self.b_id, "identical": self.identical,
                "changed": [c.to_dict() for c in self.changed],
                "parameters_only_in_a": list(self.parameters_only_in_a),
                "parameters_only_in_b": list(self.parameters_only_in_b)}


_META = ("title", "document", "status", "confidence", "declared_unit", "cn_prefixes",
         "version")


def diff(a: Regime, b: Regime) -> RegimeDiff:
    """What differs between two regimes: metadata, and every rule's value and confidence."""
    changes: list[RegimeChange] = []
    for name in _META:
        va, vb = getattr(a, name), getattr(b, name)
        if va != vb:
            changes.append(RegimeChange(name, va, vb))
    for name in sorted(set(a.parameters) & set(b.parameters)):
        pa, pb = a.parameters[name].model_dump(), b.parameters[name].model_dump()
        for field in ("value", "confidence", "source"):
            if pa[field] != pb[field]:
                changes.append(RegimeChange(f"parameters.{name}.{field}", pa[field], pb[field]))
    return RegimeDiff(a.id, b.id, tuple(changes),
                      tuple(sorted(set(a.parameters) - set(b.parameters))),
                      tuple(sorted(set(b.parameters) - set(a.parameters))))
