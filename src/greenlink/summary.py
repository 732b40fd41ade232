"""The typed result of a run: :class:`RunSummary` (``summary.json``) and the views of it.

A run's summary is built once, by :func:`greenlink.workflows.run.run_scenario` (or the optimise
workflow), from typed sections; nothing mutates it afterwards (the models are frozen). Its JSON
Schema is published in ``docs/summary.schema.json`` (``greenlink schema --summary``).

Ratios whose denominator is zero (a park with no generation has no self-use share) are ``None``
in memory and ``null`` in JSON — never ``NaN``, which is not JSON.

Views are allow-lists: :class:`TenantSummary` names every field a tenant may see, so a section
added to :class:`RunSummary` later is invisible to tenants until someone adds it there.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict

from greenlink.jsonio import to_jsonable

Scalar = str | float | int | bool | None


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalar
        return _finite_or_none(value.item())
    return value


#: A ratio or other derived number that may be undefined (``None`` ⇔ JSON ``null``).
MaybeNumber = Annotated[float | None, BeforeValidator(_finite_or_none)]
#: A table row as JSON-ready values.
Record = Annotated[dict[str, Any], BeforeValidator(to_jsonable)]


class Section(BaseModel):
    """Base of every summary section: frozen, no unknown keys, energies finite."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class ScenarioInfo(Section):
    name: str
    file: str | None
    year: int
    interval_minutes: int
    timezone: str
    province: str | None
    currency: str
    allocation_method: str
    battery_colour_rule: str
    interval_label: Literal["interval_beginning"] = "interval_beginning"
    hour_key: Literal["local_clock_hour"] = "local_clock_hour"


class WeatherInfo(Section):
    source: str
    time_shift_minutes: float
    calibration: str | None
    notes: list[str]


class Capacity(Section):
    pv_kw_dc: float
    wind_kw: float
    battery_kwh: float
    battery_kw: float


class ParkEnergy(Section):
    """Sums of the park energy columns of the flows table over a period [kWh]."""

    generation_kwh: float
    load_kwh: float
    green_to_load_kwh: float
    green_direct_kwh: float
    battery_charge_kwh: float
    battery_charge_green_kwh: float
    battery_discharge_kwh: float
    battery_discharge_green_kwh: float
    export_kwh: float
    curtailed_kwh: float
    import_kwh: float


class Totals(ParkEnergy):
    """The year's sums [kWh], the import above the connection limit and the battery losses."""

    import_over_limit_kwh: float
    battery_loss_kwh: float


class Shares(Section):
    """Park KPIs as fractions 0..1 (``None`` where the denominator is 0)."""

    green_share_of_consumption: MaybeNumber
    annual_matched_share: MaybeNumber
    hourly_matched_share: MaybeNumber
    self_use_share_of_generation: MaybeNumber
    export_share_of_generation: MaybeNumber
    physically_delivered_share: MaybeNumber
    curtailment_share_of_generation: MaybeNumber


class UserSummary(Section):
    id: str
    name: str
    kind: str
    load_kwh: float
    green_kwh: float
    grid_kwh: float
    green_share_of_consumption: MaybeNumber
    annual_matched_share: MaybeNumber
    hourly_matched_share: MaybeNumber


class MonthTotals(ParkEnergy):
    """One calendar month (local time) of the park energy columns [kWh]."""

    month: str


class Cost(Section):
    """Energy cost of the year at the scenario tariff (money in ``currency``); the demand
    charge is the tariff's price on each month's peak import (also in ``grid_only_cost``, on
    the peak load)."""

    currency: str
    import_cost: float
    export_revenue: float
    demand_charge: float = 0.0
    grid_only_cost: float
    net_cost: float


class GridLimits(Section):
    import_over_limit_kwh: float
    intervals_over_import_limit: int


class RuleSetInfo(Section):
    id: str
    version: str
    title: str
    document_number: str


class Clause(Section):
    zh: str | None
    en: str


class RuleVerdict(Section):
    rule_id: str
    title: str
    kpi: str
    operator: str
    threshold: Scalar
    scope: str
    period: str
    value: Annotated[Scalar, BeforeValidator(_finite_or_none)]
    margin: MaybeNumber
    passed: bool | None
    status: str
    confidence: str
    clause: Clause
    source: str
    rests_on_assumption: bool
    reason: str | None


class PolicySummary(Section):
    ruleset: RuleSetInfo
    check_date: str
    parameters: dict[str, Scalar]
    readings: dict[str, bool]
    all_passed: bool
    rests_on_assumption: bool
    results: list[RuleVerdict]


class ProductRow(Section):
    """Carbon first cut of one product (SKU): electricity, green shares, indirect emissions."""

    sku: str
    name: str
    cn_code: str
    user_id: str
    annual_output_t: MaybeNumber
    electricity_kwh_per_t: MaybeNumber
    electricity_mwh_per_year: MaybeNumber
    green_share_annual: MaybeNumber
    green_share_hourly: MaybeNumber
    green_share_of_consumption: MaybeNumber
    ef_t_per_mwh: MaybeNumber
    ef_source: str
    indirect_emissions_grid_t: MaybeNumber
    indirect_emissions_direct_line_t: MaybeNumber
    specific_indirect_grid_t_per_t: MaybeNumber
    specific_indirect_direct_line_t_per_t: MaybeNumber
    direct_emissions_t: MaybeNumber
    specific_direct_t_per_t: MaybeNumber
    is_cbam_good: bool
    sector: str | None
    cbam_counts_indirect: bool | None
    cbam_relevant_indirect_saving_t: MaybeNumber
    cbam_note: str


class CbamInstallationSummary(Section):
    """Per installation: SEE per process (route, missing evidence), liability, exposure."""

    id: str
    user: str
    processes: list[Record]
    assumptions: list[str]
    liability_per_year: list[Record] | None = None
    exposure_by_sku: list[Record] | None = None


class CbamSummary(Section):
    installations: list[CbamInstallationSummary]


class OptimizationSummary(Section):
    """Sizes, costs, what binds, shadow prices, method and diagnosis of an optimisation, and
    its comparison with ``simulate`` at the same sizes (docs/optimize.md)."""

    status: str
    feasible: bool
    objective: MaybeNumber
    currency: str
    period_fraction_of_year: float
    sizes: dict[str, Any]
    cost_breakdown: dict[str, MaybeNumber]
    monthly_costs: list[Record] = []
    lcoe_green_per_kwh: MaybeNumber
    requirements: list[Record]
    binding: list[Record] = []
    relaxations_needed: list[Record]
    rule_notes: list[str]
    cost_parameters: dict[str, Any]
    direct_line_fees: dict[str, Any]
    demand_charge_per_kw_month: float = 0.0
    users_modelled_separately: bool
    method: Record = {}
    agreement: Record | None = None
    solver: dict[str, Any]


class RunSummary(Section):
    """``summary.json``: what one simulation (or optimisation) of a scenario year produced."""

    greenlink_version: str
    scenario: ScenarioInfo
    weather: WeatherInfo | None
    capacity: Capacity
    specific_yield_kwh_per_kwp: dict[str, MaybeNumber]
    totals_kwh: Totals
    shares: Shares
    users: list[UserSummary]
    monthly_kwh: list[MonthTotals]
    cost: Cost
    grid: GridLimits
    energy_balance_max_abs_error_kwh: float
    policy: PolicySummary | None = None
    products: list[ProductRow] = []
    cbam: CbamSummary | None = None
    optimization: OptimizationSummary | None = None

    def to_json(self) -> str:
        """The JSON text of ``summary.json`` (``null`` for undefined ratios)."""
        return self.model_dump_json(indent=2) + "\n"


class TenantSummary(Section):
    """What a tenant (one park user) may see of a run: park-level totals and KPIs, its own user
    row, its own products, rule verdicts for the park and for itself, its own installations.

    This is an allow-list: a section of :class:`RunSummary` not named here never reaches a tenant.
    """

    greenlink_version: str
    scenario: ScenarioInfo
    capacity: Capacity
    totals_kwh: Totals
    shares: Shares
    users: list[UserSummary]
    monthly_kwh: list[MonthTotals]
    energy_balance_max_abs_error_kwh: float
    policy: PolicySummary | None = None
    products: list[ProductRow] = []
    cbam: CbamSummary | None = None


def tenant_view(summary: RunSummary, user_id: str) -> TenantSummary:
    """The part of ``summary`` that the tenant ``user_id`` may see (allow-list)."""
    policy = summary.policy
    if policy is not None:
        policy = policy.model_copy(update={"results": [
            r for r in policy.results if r.scope in ("park", user_id)]})
    cbam = summary.cbam
    if cbam is not None:
        cbam = CbamSummary(installations=[i for i in cbam.installations if i.user == user_id])
    allowed = {name: getattr(summary, name) for name in TenantSummary.model_fields}
    allowed.update(
        users=[u for u in summary.users if u.id == user_id],
        products=[p for p in summary.products if p.user_id == user_id],
        policy=policy, cbam=cbam)
    return TenantSummary(**allowed)


def read_summary(text: str | bytes) -> RunSummary:
    """A :class:`RunSummary` from the text of a ``summary.json``."""
    return RunSummary.model_validate_json(text)


def summary_json_schema() -> dict[str, Any]:
    """JSON Schema of ``summary.json`` (published as docs/summary.schema.json)."""
    schema = RunSummary.model_json_schema(mode="serialization")
    schema["$id"] = "https://greenlink.dev/schema/summary.schema.json"
    schema["title"] = "greenlink run summary (summary.json)"
    return schema
