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

from pydantic import Field, field_validator

from greenlink.scenario.base import Fraction, Id, NonNegative, Strict


class PVCosts(Strict):
    """Cost of PV capacity (every candidate plant; its bound is ``pv.max_capacity_kw_dc``)."""

    capex_per_kw_dc: NonNegative | None = Field(None, description="installed cost per kWp")
    fixed_om_per_kw_year: NonNegative | None = Field(None, description="O&M per kWp and year")
    lifetime_years: int | None = Field(None, ge=1, le=60)


#: A bound for every battery (a number) or per battery id (a table ``{ bess = 120000 }``).
BatteryBound = NonNegative | dict[str, NonNegative]


class BatteryCosts(Strict):
    """Cost and bounds of the batteries; each battery's energy (kWh) and power (kW) are sized
    separately, with its own efficiencies and state-of-charge window from ``[[batteries]]``."""

    capex_per_kwh: NonNegative | None = Field(None, description="energy part of installed cost")
    capex_per_kw: NonNegative | None = Field(None, description="power part (PCS, grid connection)")
    fixed_om_per_kw_year: NonNegative | None = None
    variable_om_per_kwh: NonNegative | None = Field(None, description="per kWh discharged")
    lifetime_years: int | None = Field(None, ge=1, le=40)
    max_energy_kwh: BatteryBound | None = Field(
        None, description="upper bound of each battery's energy (a number for every battery, or "
        "a table by battery id); default 10 h of the peak load or the battery's own energy, "
        "whichever is larger, where the scenario has batteries, else no battery unless this is "
        "given")
    max_power_kw: BatteryBound | None = Field(
        None, description="upper bound of each battery's power (a number, or a table by battery "
        "id); default twice the peak load or the battery's own power, whichever is larger")


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
    demand_charge_per_kw_month: NonNegative | None = Field(
        None, description="moved to tariff.demand_charge_per_kw_month, the one price that "
        "simulate, settle and the optimiser all use; giving it here is an error",
        json_schema_extra={"deprecated": True})
    dispatch: Literal["realizable", "relaxed"] = Field(
        "realizable", description="realizable: in every interval green energy serves the loads "
        "under the allocation method before it is stored or exported, batteries charge from "
        "green energy left over (from the grid only where grid_charging = true) and the park "
        "never imports and exports together (docs/optimize.md); relaxed: the plain LP, which "
        "may do all three (its departures are reported)")
    gap_tolerance: Fraction = Field(
        0.005, description="the realizable optimum is proven within this relative gap of the "
        "least cost (sizes are refined until it is, or the refinement budget is spent)")
    targets: list[Target] = Field(default_factory=list)
    rules: Literal["all", "none"] | list[str] = Field(
        "all", description="which of the active rule set's ratio rules become constraints: all, "
        "none or a list of rule ids")
    penalty_per_kwh: NonNegative = Field(
        100.0, description="price of each kWh by which a rule or target is missed (elastic "
        "slack); large, so that a slack is used only when the problem is infeasible")


    @field_validator("demand_charge_per_kw_month")
    @classmethod
    def _moved(cls, value: float | None) -> float | None:
        if value is not None:
            raise ValueError("optimize.demand_charge_per_kw_month has moved to "
                             "tariff.demand_charge_per_kw_month (simulate, settle and the "
                             "optimiser bill the same demand charge)")
        return value


def cross_check(scenario: Any) -> list[str]:
    """Targets, wind and battery bounds must name users, plants and batteries of the
    scenario."""
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
    batteries = {b.id for b in scenario.batteries}
    for key in ("max_energy_kwh", "max_power_kw"):
        bound = getattr(spec.battery, key)
        for bid in bound if isinstance(bound, dict) else {}:
            if bid not in batteries:
                errors.append(f"optimize.battery.{key} names {bid!r}, which is not a battery "
                              f"(batteries: {', '.join(sorted(batteries)) or 'none'})")
    return errors
