"""Annual results of a simulated (or optimised) park, assembled into one typed
:class:`~greenlink.summary.RunSummary`.

Shares come from the named KPIs of :mod:`greenlink.policy.kpis`, so the summary, the policy check
and the report use one vocabulary. :func:`summarise` is the one function that builds a summary;
workflows pass it every section they computed (policy, products, CBAM, optimisation) at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from greenlink import __version__, flows
from greenlink.dispatch.demand import demand_charge, month_labels
from greenlink.inputs import ParkInputs
from greenlink.policy.kpis import compute_kpis
from greenlink.summary import (
    Capacity,
    CbamSummary,
    Cost,
    GridLimits,
    MonthTotals,
    OptimizationSummary,
    PolicySummary,
    ProductRow,
    RunSummary,
    ScenarioInfo,
    Shares,
    Totals,
    UserSummary,
    WeatherInfo,
)
from greenlink.units import NEGATIVE_NOISE_KWH

#: Park KPIs reported in ``shares`` (curtailment share is computed here from totals).
SHARE_KPIS = ("green_share_of_consumption", "annual_matched_share", "hourly_matched_share",
              "self_use_share_of_generation", "export_share_of_generation",
              "physically_delivered_share")
USER_SHARE_KPIS = ("green_share_of_consumption", "annual_matched_share", "hourly_matched_share")


def structural_kpis(inputs: ParkInputs) -> dict[str, Any]:
    """What the scenario *is* (capacities, connection, users), for structural rules."""
    sc = inputs.scenario
    return {
        "green_capacity_kw": float(sum(p.capacity_kw_dc for p in sc.pv)
                                   + sum(w.capacity_kw for w in sc.wind)),
        "storage_energy_kwh": float(sum(b.energy_kwh for b in sc.batteries)),
        "storage_power_kw": float(sum(b.power_kw for b in sc.batteries)),
        "connection_voltage_kv": float(sc.grid.voltage_kv),
        "grid_import_limit_kw": float(sc.grid.import_limit_kw),
        "grid_export_limit_kw": float(sc.grid.export_limit_kw if sc.grid.reverse_flow_allowed
                                      else 0.0),
        "reverse_flow_allowed": bool(sc.grid.reverse_flow_allowed),
        "users_count": len(sc.users),
        "meter_interval_minutes_max": int(sc.time.interval_minutes),
    }


def _kpi_lookup(kpis: pd.DataFrame) -> dict[tuple[str, str], float]:
    year = kpis[kpis["period"] == kpis["period"].iloc[0]] if len(kpis) else kpis
    return {(str(r.scope), str(r.kpi)): float(r.value)  # type: ignore[arg-type]
            for r in year.itertuples()}


def _clean(value: float) -> float:
    """A total with float noise below zero read as 0 (docs/formats.md)."""
    return 0.0 if -NEGATIVE_NOISE_KWH <= value < 0.0 else float(value)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def summarise(inputs: ParkInputs, table: pd.DataFrame, *, kpis: pd.DataFrame | None = None,
              policy: dict[str, Any] | None = None, products: Sequence[dict[str, Any]] = (),
              cbam: dict[str, Any] | None = None,
              optimization: dict[str, Any] | None = None) -> RunSummary:
    """The run's :class:`RunSummary` from the inputs, the flows table and the sections the
    workflow computed (each as its JSON-ready dict or records).

    ``kpis`` are the year's KPIs of :func:`greenlink.policy.kpis.compute_kpis` (computed here
    when not given).
    """
    sc = inputs.scenario
    if kpis is None:
        kpis = compute_kpis(table, sc.user_ids, period="year", timezone=sc.site.timezone)
    lookup = _kpi_lookup(kpis)
    totals = {c: _clean(float(table[c].sum())) for c in flows.PARK_ENERGY_COLUMNS}
    soc = table[flows.BATTERY_SOC_KWH].to_numpy()
    initial = float(sum(b.energy_kwh * b.soc_initial for b in sc.batteries))
    totals["battery_loss_kwh"] = _clean(
        totals[flows.BATTERY_CHARGE_KWH] - totals[flows.BATTERY_DISCHARGE_KWH]
        - (float(soc[-1]) - initial if len(soc) else 0.0))
    generation = totals[flows.GENERATION_KWH]
    shares = {k: lookup.get(("park", k)) for k in SHARE_KPIS}
    shares["curtailment_share_of_generation"] = _ratio(totals[flows.CURTAILED_KWH], generation)
    pv_kw = sum(p.capacity_kw_dc for p in sc.pv)
    yields: dict[str, float | None] = {}
    if pv_kw:
        pv_kwh = {p.id: float(table[flows.generator_generation(p.id)].sum()) for p in sc.pv}
        yields["park"] = sum(pv_kwh.values()) / pv_kw
        for p in sc.pv:
            yields[p.id] = _ratio(pv_kwh[p.id], p.capacity_kw_dc)
    users = []
    for u in sc.users:
        load = _clean(float(table[flows.user_load(u.id)].sum()))
        green = _clean(float(table[flows.user_green(u.id)].sum()))
        users.append(UserSummary(
            id=u.id, name=u.name, kind=u.kind, load_kwh=load, green_kwh=green,
            grid_kwh=_clean(load - green),
            **{k: lookup.get((u.id, k)) for k in USER_SHARE_KPIS}))
    month_columns = [c for c in flows.PARK_ENERGY_COLUMNS if c != flows.IMPORT_OVER_LIMIT_KWH]
    monthly = table[month_columns].groupby(
        pd.DatetimeIndex(table.index).strftime("%Y-%m")).sum()
    prices = inputs.price_per_kwh
    import_cost = float(np.dot(table[flows.IMPORT_KWH].to_numpy(), prices))
    export_revenue = float(table[flows.EXPORT_KWH].sum() * sc.tariff.export_price_per_kwh)
    grid_only = float(np.dot(table[flows.LOAD_KWH].to_numpy(), prices))
    months = month_labels(pd.DatetimeIndex(table.index), sc.site.timezone)
    price_kw = sc.tariff.demand_charge_per_kw_month
    demand = demand_charge(table[flows.IMPORT_KWH].to_numpy(), inputs.interval_hours, months,
                           price_kw)
    grid_only += demand_charge(table[flows.LOAD_KWH].to_numpy(), inputs.interval_hours, months,
                               price_kw)
    weather = inputs.weather
    over = table[flows.IMPORT_OVER_LIMIT_KWH]
    return RunSummary(
        greenlink_version=__version__,
        scenario=ScenarioInfo(
            name=sc.name, file=inputs.source.name if inputs.source else None,
            year=sc.time.year, interval_minutes=sc.time.interval_minutes,
            timezone=sc.site.timezone, province=sc.site.province, currency=sc.tariff.currency,
            allocation_method=sc.allocation.method,
            battery_colour_rule=sc.allocation.battery_colour_rule),
        weather=None if weather is None else WeatherInfo(
            source=weather.source, time_shift_minutes=weather.time_shift_minutes,
            calibration=weather.calibration, notes=list(weather.notes)),
        capacity=Capacity(
            pv_kw_dc=float(pv_kw), wind_kw=float(sum(w.capacity_kw for w in sc.wind)),
            battery_kwh=float(sum(b.energy_kwh for b in sc.batteries)),
            battery_kw=float(sum(b.power_kw for b in sc.batteries))),
        specific_yield_kwh_per_kwp=yields,
        totals_kwh=Totals(**totals),
        shares=Shares(**shares),
        users=users,
        monthly_kwh=[MonthTotals(month=str(m), **{str(k): _clean(float(v)) for k, v in row.items()})
                     for m, row in monthly.iterrows()],
        cost=Cost(currency=sc.tariff.currency, import_cost=import_cost,
                  export_revenue=export_revenue, demand_charge=demand, grid_only_cost=grid_only,
                  net_cost=import_cost - export_revenue + demand),
        grid=GridLimits(import_over_limit_kwh=totals[flows.IMPORT_OVER_LIMIT_KWH],
                        intervals_over_import_limit=int((over > NEGATIVE_NOISE_KWH).sum())),
        energy_balance_max_abs_error_kwh=float(np.abs(flows.balance_error_kwh(table)).max())
        if len(table) else 0.0,
        policy=None if policy is None else PolicySummary.model_validate(policy),
        products=[ProductRow.model_validate(p) for p in products],
        cbam=None if cbam is None else CbamSummary.model_validate(cbam),
        optimization=None if optimization is None
        else OptimizationSummary.model_validate(optimization),
        warnings=tuple(str(w) for w in inputs.warnings))
