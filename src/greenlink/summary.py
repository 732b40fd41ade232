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

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

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
    file: str | None  # the scenario file's name (never a server path)
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
    notes: tuple[str, ...]


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
    results: tuple[RuleVerdict, ...]

    def restricted_to(self, scopes: set[str]) -> PolicySummary:
        """The verdicts of ``scopes`` only, with ``all_passed`` and ``rests_on_assumption``
        computed again over them (the same rules as :class:`greenlink.policy.evaluate.
        PolicyReport`), so they say nothing about the verdicts left out."""
        kept = [r for r in self.results if r.scope in scopes]
        return self.model_copy(update={
            "results": kept,
            "all_passed": all(r.status in ("pass", "not_applicable") for r in kept),
            "rests_on_assumption": any(r.rests_on_assumption and r.status in ("pass", "fail")
                                       for r in kept)})


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
    """Per installation: SEE per process (route, missing evidence), liability, exposure — all
    period values of the processes over ``reporting_period``."""

    id: str
    user: str
    reporting_period: str = ""
    processes: tuple[Record, ...]
    assumptions: tuple[str, ...]
    liability_per_year: tuple[Record, ...] | None = None
    exposure_by_sku: tuple[Record, ...] | None = None


class RegimeReading(Section):
    """A rule of a footprint regime read where the text is not settled."""

    rule: str
    value: Scalar
    confidence: str
    description: str


class ProductFootprintSummary(Section):
    """A product's footprint per declared unit under a regime other than CBAM (e.g. the EU
    Battery Regulation per kWh), beside its CBAM exposure (none when it is not a CBAM good).
    Per tonne in t CO2e/t, per any other unit in kg CO2e per unit (``unit``)."""

    sku: str
    name: str
    user: str
    cn_code: str
    regime: str
    regime_title: str
    regime_status: str
    declared_unit: str
    unit: str
    units_per_t: float
    electricity_mwh_per_unit: MaybeNumber
    green_share_counted: MaybeNumber
    ef_green_t_per_mwh: MaybeNumber
    ef_rest_t_per_mwh: MaybeNumber
    ef_rest_source: str
    electricity: MaybeNumber
    electricity_grid_only: MaybeNumber
    direct: MaybeNumber
    materials: MaybeNumber
    total: MaybeNumber
    boundary: str
    readings: tuple[RegimeReading, ...]
    notes: tuple[str, ...]
    cbam_good: bool
    cbam_exposure_eur: float
    cbam_note: str


class CbamSummary(Section):
    installations: tuple[CbamInstallationSummary, ...]
    footprints: tuple[ProductFootprintSummary, ...] = ()


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
    requirements: tuple[Record, ...]
    binding: tuple[Record, ...] = ()
    relaxations_needed: tuple[Record, ...]
    rule_notes: tuple[str, ...]
    cost_parameters: dict[str, Any]
    direct_line_fees: dict[str, Any]
    demand_charge_per_kw_month: float = 0.0
    users_modelled_separately: bool
    method: Record = {}
    agreement: Record | None = None
    solver: dict[str, Any]


class FinanceSummary(Section):
    """Lifetime finance of the park (docs/finance.md): headline figures, the terms used and the
    yearly cash flow. Money in ``currency``, nominal; rates per year as fractions."""

    currency: str
    project_life_years: int
    discount_rate_nominal: float
    real_discount_rate: float
    inflation: float
    sized_by_optimiser: bool
    initial_capex: float
    npv_project: float
    npv_equity: float
    irr_project: MaybeNumber
    irr_equity: MaybeNumber
    payback_years: MaybeNumber
    discounted_payback_years: MaybeNumber
    lcoe_green_supply_nominal_per_kwh: MaybeNumber
    lcoe_green_supply_real_per_kwh: MaybeNumber
    lcoe_generation_nominal_per_kwh: MaybeNumber
    lcos_nominal_per_kwh: MaybeNumber
    lcos_real_per_kwh: MaybeNumber
    debt_amount: float
    min_dscr: MaybeNumber
    mean_dscr: MaybeNumber
    year1_savings: float
    year1_export_revenue: float
    year1_fees: float
    fees_source: str
    terms: dict[str, Any]
    notes: tuple[str, ...]
    yearly: tuple[Record, ...]


class RiskMetric(Section):
    """Distribution of one park quantity over the weather years. ``levels["P90"]`` is the level
    at least as good as the year's in 90 % of years (the 10th percentile where low is bad)."""

    name: str
    low_is_bad: bool
    mean: MaybeNumber
    std: MaybeNumber
    levels: dict[str, MaybeNumber]
    minimum: MaybeNumber
    maximum: MaybeNumber


class RiskRule(Section):
    """One rule over the weather years: how often it fails, its KPI at P50 and P90, and by how
    much the KPI must improve to hold at P90 (``margin_needed_at_p90`` > 0: it fails in more
    than one year in ten)."""

    rule_id: str
    scope: str
    kpi: str
    operator: str | None
    threshold: MaybeNumber
    years_checked: int
    failure_probability: float
    p50: MaybeNumber
    p90: MaybeNumber
    margin_needed_at_p90: MaybeNumber


class RiskSummary(Section):
    """``risk.json``: compliance risk of a park from many weather years (docs/risk.md)."""

    source: str
    years: int
    years_failed_to_run: int
    probability_all_rules_pass: MaybeNumber
    metrics: tuple[RiskMetric, ...]
    rules: tuple[RiskRule, ...]


class RunSummary(Section):
    """``summary.json``: what one simulation (or optimisation) of a scenario year produced."""

    greenlink_version: str
    scenario: ScenarioInfo
    weather: WeatherInfo | None
    capacity: Capacity
    specific_yield_kwh_per_kwp: dict[str, MaybeNumber]
    totals_kwh: Totals
    shares: Shares
    users: tuple[UserSummary, ...]
    monthly_kwh: tuple[MonthTotals, ...]
    cost: Cost
    grid: GridLimits
    energy_balance_max_abs_error_kwh: float
    policy: PolicySummary | None = None
    products: tuple[ProductRow, ...] = ()
    cbam: CbamSummary | None = None
    optimization: OptimizationSummary | None = None
    warnings: tuple[str, ...] = Field(
        (), description="inputs that look wrong but may be right (a unit mistake?), each once")
    finance: FinanceSummary | None = None  # park operator only: not in TenantSummary

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
    users: tuple[UserSummary, ...]
    monthly_kwh: tuple[MonthTotals, ...]
    energy_balance_max_abs_error_kwh: float
    policy: PolicySummary | None = None
    products: tuple[ProductRow, ...] = ()
    cbam: CbamSummary | None = None


def tenant_view(summary: RunSummary, user_id: str) -> TenantSummary:
    """The part of ``summary`` that the tenant ``user_id`` may see (allow-list)."""
    policy = summary.policy
    if policy is not None:
        policy = policy.restricted_to({"park", user_id})
    cbam = summary.cbam
    if cbam is not None:
        cbam = CbamSummary(installations=tuple(i for i in cbam.installations if i.user == user_id),
                           footprints=tuple(f for f in cbam.footprints if f.user == user_id))
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
