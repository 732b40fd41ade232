"""Cost parameters of the optimiser: scenario values over the shipped defaults, and annuities.

Defaults: ``greenlink/data/costs/defaults.toml`` (sources in ``SOURCES.md`` there). The
direct-line fees are not here: the optimiser takes them from the fee schedule settlement bills
(:func:`greenlink.optimize.inputs.fee_arrays`).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from greenlink.scenario.base import Fraction, NonNegative
from greenlink.scenario.optimization import OptimizationSpec
from greenlink.tomlfile import load_toml


def capital_recovery_factor(rate: float, years: int) -> float:
    """Annuity factor ``r (1+r)^n / ((1+r)^n − 1)`` (``1/n`` when ``r = 0``), per year.

    Examples
    --------
    >>> round(capital_recovery_factor(0.0, 10), 6)
    0.1
    """
    if years <= 0:
        raise ValueError("lifetime must be at least one year")
    if rate == 0:
        return 1.0 / years
    growth = (1.0 + rate) ** years
    return rate * growth / (growth - 1.0)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _PVDefaults(_Section):
    capex_per_kw_dc: NonNegative
    fixed_om_per_kw_year: NonNegative
    lifetime_years: int = Field(ge=1, le=60)


class _BatteryDefaults(_Section):
    capex_per_kwh: NonNegative
    capex_per_kw: NonNegative
    fixed_om_per_kw_year: NonNegative
    variable_om_per_kwh: NonNegative
    lifetime_years: int = Field(ge=1, le=40)


class _WindDefaults(_Section):
    capex_per_kw: NonNegative
    fixed_om_per_kw_year: NonNegative
    lifetime_years: int = Field(ge=1, le=60)


class _CostDefaults(_Section):
    """``data/costs/defaults.toml``: every key of the scenario's cost tables, with a value."""

    currency: str = "CNY"
    discount_rate: Fraction
    pv: _PVDefaults
    battery: _BatteryDefaults
    wind: _WindDefaults


def _defaults_path() -> Path:
    return Path(str(resources.files("greenlink") / "data" / "costs" / "defaults.toml"))


def default_costs() -> dict[str, Any]:
    """The shipped defaults (validated ``defaults.toml`` as a dict)."""
    return load_toml(_defaults_path(), _CostDefaults, kind="cost defaults file",
                     expected="the tables of data/costs/defaults.toml").model_dump()


@dataclass(frozen=True)
class CostParameters:
    """Annualised unit costs (per year, in the tariff's currency) and other charges.

    ``*_per_kw_year`` = capex × CRF(discount rate, lifetime) + fixed O&M.
    """

    discount_rate: float
    pv_per_kw_year: float
    battery_per_kwh_year: float
    battery_per_kw_year: float
    battery_variable_per_kwh: float
    wind_per_kw_year: float
    carbon_price_per_t: float
    penalty_per_kwh: float
    raw: dict[str, Any]


def resolve_costs(spec: OptimizationSpec | None) -> CostParameters:
    """Scenario values where given, shipped defaults otherwise; annuities computed."""
    spec = spec or OptimizationSpec()
    d = default_costs()

    def pick(section: str, key: str) -> float:
        given = getattr(getattr(spec, section), key)
        return float(d[section][key] if given is None else given)

    rate = float(d["discount_rate"] if spec.discount_rate is None else spec.discount_rate)
    life = {s: int(pick(s, "lifetime_years")) for s in ("pv", "battery", "wind")}
    crf = {s: capital_recovery_factor(rate, n) for s, n in life.items()}
    raw = {s: {k: pick(s, k) for k in d[s]} for s in ("pv", "battery", "wind")}
    return CostParameters(
        discount_rate=rate,
        pv_per_kw_year=pick("pv", "capex_per_kw_dc") * crf["pv"] + pick("pv",
                                                                         "fixed_om_per_kw_year"),
        battery_per_kwh_year=pick("battery", "capex_per_kwh") * crf["battery"],
        battery_per_kw_year=pick("battery", "capex_per_kw") * crf["battery"]
        + pick("battery", "fixed_om_per_kw_year"),
        battery_variable_per_kwh=pick("battery", "variable_om_per_kwh"),
        wind_per_kw_year=pick("wind", "capex_per_kw") * crf["wind"]
        + pick("wind", "fixed_om_per_kw_year"),
        carbon_price_per_t=float(spec.carbon_price_per_t),
        penalty_per_kwh=float(spec.penalty_per_kwh),
        raw={"discount_rate": rate, **raw, "lifetimes_years": life, "crf": crf},
    )
