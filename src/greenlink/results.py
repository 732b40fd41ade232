"""Annual results of a simulated park: totals, shares, per-user figures, cost (summary.json).

Shares come from the named KPIs of :mod:`greenlink.policy.kpis`, so the summary, the policy check
and the report use one vocabulary.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from greenlink import __version__
from greenlink.dispatch.simulate import balance_error_kwh
from greenlink.inputs import ParkInputs
from greenlink.policy.kpis import compute_kpis

PARK_ENERGY_COLUMNS = [
    "generation_kwh", "load_kwh", "green_to_load_kwh", "green_direct_kwh", "battery_charge_kwh",
    "battery_charge_green_kwh", "battery_discharge_kwh", "battery_discharge_green_kwh",
    "export_kwh", "curtailed_kwh", "import_kwh", "import_over_limit_kwh",
]
SHARE_KPIS = ["green_share_of_consumption", "annual_matched_share", "hourly_matched_share",
              "self_use_share_of_generation", "export_share_of_generation",
              "physically_delivered_share"]


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


def summarise(inputs: ParkInputs, flows: pd.DataFrame) -> dict[str, Any]:
    """The summary.json content (without policy and products, which the caller adds)."""
    sc = inputs.scenario
    user_ids = sc.user_ids
    kpis = compute_kpis(flows, user_ids, period="year")
    lookup = _kpi_lookup(kpis)
    totals = {c: float(flows[c].sum()) for c in PARK_ENERGY_COLUMNS}
    soc = flows["battery_soc_kwh"].to_numpy()
    initial = float(sum(b.energy_kwh * b.soc_initial for b in sc.batteries))
    totals["battery_loss_kwh"] = (totals["battery_charge_kwh"] - totals["battery_discharge_kwh"]
                                  - (float(soc[-1]) - initial if len(soc) else 0.0))
    generation = totals["generation_kwh"]
    shares = {k: lookup.get(("park", k), float("nan")) for k in SHARE_KPIS}
    shares["curtailment_share_of_generation"] = (totals["curtailed_kwh"] / generation
                                                 if generation else 0.0)
    pv_kw = sum(p.capacity_kw_dc for p in sc.pv)
    yields: dict[str, float] = {}
    if pv_kw:
        yields["park"] = float(sum(flows[f"{p.id}.generation_kwh"].sum() for p in sc.pv) / pv_kw)
        for p in sc.pv:
            yields[p.id] = float(flows[f"{p.id}.generation_kwh"].sum() / p.capacity_kw_dc)
    users = []
    for u in sc.users:
        load = float(flows[f"{u.id}.load_kwh"].sum())
        green = float(flows[f"{u.id}.green_kwh"].sum())
        users.append({
            "id": u.id, "name": u.name, "kind": u.kind, "load_kwh": load, "green_kwh": green,
            "grid_kwh": load - green,
            **{k: lookup.get((u.id, k), float("nan")) for k in
               ("green_share_of_consumption", "annual_matched_share", "hourly_matched_share")},
        })
    monthly = flows[[c for c in PARK_ENERGY_COLUMNS if c != "import_over_limit_kwh"]]
    monthly = monthly.groupby(pd.DatetimeIndex(flows.index).strftime("%Y-%m")).sum()
    prices = inputs.price_per_kwh
    import_cost = float(np.dot(flows["import_kwh"].to_numpy(), prices))
    export_revenue = float(flows["export_kwh"].sum() * sc.tariff.export_price_per_kwh)
    grid_only = float(np.dot(flows["load_kwh"].to_numpy(), prices))
    weather = inputs.weather
    return {
        "greenlink_version": __version__,
        "scenario": {
            "name": sc.name, "file": str(inputs.source) if inputs.source else None,
            "year": sc.time.year, "interval_minutes": sc.time.interval_minutes,
            "timezone": sc.site.timezone, "province": sc.site.province,
            "currency": sc.tariff.currency, "allocation_method": sc.allocation.method,
            "battery_colour_rule": sc.allocation.battery_colour_rule,
            "interval_label": "interval_beginning",
        },
        "weather": None if weather is None else {
            "source": weather.source, "time_shift_minutes": weather.time_shift_minutes,
            "calibration": weather.calibration, "notes": list(weather.notes)},
        "capacity": {
            "pv_kw_dc": float(pv_kw), "wind_kw": float(sum(w.capacity_kw for w in sc.wind)),
            "battery_kwh": float(sum(b.energy_kwh for b in sc.batteries)),
            "battery_kw": float(sum(b.power_kw for b in sc.batteries))},
        "specific_yield_kwh_per_kwp": yields,
        "totals_kwh": totals,
        "shares": shares,
        "users": users,
        "monthly_kwh": [{"month": m, **{k: float(v) for k, v in row.items()}}
                        for m, row in monthly.iterrows()],
        "cost": {"currency": sc.tariff.currency, "import_cost": import_cost,
                 "export_revenue": export_revenue, "grid_only_cost": grid_only,
                 "net_cost": import_cost - export_revenue},
        "grid": {"import_over_limit_kwh": totals["import_over_limit_kwh"],
                 "intervals_over_import_limit": int((flows["import_over_limit_kwh"] > 1e-9).sum())},
        "energy_balance_max_abs_error_kwh": float(np.abs(balance_error_kwh(flows)).max()),
    }
