"""What to size and optimise, with costs and targets (issue: optimal sizing and dispatch).

Extension module of the scenario: the models here are referenced by
:class:`greenlink.scenario.model.Scenario`; :func:`cross_check` adds the checks that need the
whole scenario.

Every cost left out (``None``) takes its default from ``greenlink/data/costs/defaults.toml``
(sources and confidence in ``SOURCES.md`` there); money is in the tariff's currency. The
direct-line fees are not costs of this table: they come from the fee schedule settlement bills
(:mod:`greenlink.economics.fees`), see ``fees``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from greenlink.scenario.base import Fraction, Id, NonNegative, Strict


class PVCosts(Strict):
    """Cost of PV capacity (every candidate plant; its bound is ``pv.max_capacity_kw_dc``)."""

    capex_per_kw_dc: NonNegative | None = Field(None, description="installed cost per kWp")
    fixed_om_per_kw_year: NonNegative | None = Field(None, description="O&M per kWp and year")
    lifetime_years: int | None = Field(None, ge=1, le=60)


class BatteryCosts(Strict):
    """Cost and bounds of the battery; energy (kWh) and power (kW) are sized separately."""

    capex_per_kwh: NonNegative | None = Field(None, description="energy part of installed cost")
    capex_per_kw: NonNegative | None = Field(None, description="power part (PCS, grid connection)")
    fixed_om_per_kw_year: NonNegative | None = None
    variable_om_per_kwh: NonNegative | None = Field(None, description="per kWh discharged")
    lifetime_years: int | None = Field(None, ge=1, le=40)
    max_energy_kwh: NonNegative | None = Field(None, description="upper bound; default 10 h of the "
                                               "peak load where the scenario has a battery, else "
                                               "no battery unless this is given")
    max_power_kw: NonNegative | None = None


class WindCosts(Strict):
    """Cost of wind capacity; wind plants are candidates up to ``max_capacity_kw``."""

    capex_per_kw: NonNegative | None = None
    fixed_om_per_kw_year: NonNegative | None = None
    lifetime_years: int | None = Field(None, ge=1, le=60)
    max_capacity_kw: dict[str, NonNegative] = Field(
        default_factory=dict, description="per wind plant id; plants not listed keep their "
        "capacity fixed")


class Target(Strict):
    """A user's green-power target: ``metric(scope) ≥ min`` over the year."""

    metric: Literal["green_share_of_consumption", "annual_matched_share",
                    "hourly_matched_share"] = "hourly_matched_share"
    scope: str = Field("park", description="'park' or a user id")
    min: Fraction


class OptimizationSpec(Strict):
    """Sizing and dispatch optimisation: costs, targets and which rules to impose."""

    id: Id = "optimize"
    discount_rate: Fraction | None = Field(None, description="real discount rate per year")
    pv: PVCosts = PVCosts()
    battery: BatteryCosts = BatteryCosts()
    wind: WindCosts = WindCosts()
    fees: str = Field(
        "schedule", min_length=1,
        description="direct-line fees (发改价格〔2025〕1192号) in the objective: 'schedule' = the "
        "fee schedule settlement bills (data/fees/<site.province>.toml, each fee from the first "
        "month it is in effect), 'none' = no fees, or a fee TOML file as for `greenlink settle "
        "--fees` (relative to the scenario file)")
    carbon_price_per_t: NonNegative = Field(0.0, description="price on grid-import emissions "
                                            "(provincial grid factor), per tCO2")
    demand_charge_per_kw_month: NonNegative = Field(0.0, description="charge on each month's "
                                                    "peak import power")
    targets: list[Target] = Field(default_factory=list)
    rules: Literal["all", "none"] | list[str] = Field(
        "all", description="which of the active rule set's ratio rules become constraints: all, "
        "none or a list of rule ids")
    penalty_per_kwh: NonNegative = Field(
        100.0, description="price of each kWh by which a rule or target is missed (elastic "
        "slack); large, so that a slack is used only when the problem is infeasible")


def cross_check(scenario: Any) -> list[str]:
    """Targets and wind bounds must name users and plants of the scenario."""
    spec = getattr(scenario, "optimize", None)
    if spec is None:
        return []
    errors: list[str] = []
    users = {u.id for u in scenario.users}
    for i, target in enumerate(spec.targets):
        if target.scope != "park" and target.scope not in users:
            errors.append(f"optimize.targets[{i}].scope {target.scope!r} is not 'park' or a user "
                          f"id (users: {', '.join(sorted(users))})")
    winds = {w.id for w in scenario.wind}
    for wid in spec.wind.max_capacity_kw:
        if wid not in winds:
            errors.append(f"optimize.wind.max_capacity_kw names {wid!r}, which is not a wind "
                          f"plant (wind plants: {', '.join(sorted(winds)) or 'none'})")
    return errors
