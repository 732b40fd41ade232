"""Turn an LP solution into sizes, a flows table (docs/formats.md), costs and shadow prices."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from greenlink import flows
from greenlink.dispatch.allocation import allocate
from greenlink.dispatch.simulate import DispatchResult, flows_table
from greenlink.inputs import ParkInputs
from greenlink.optimize.constraints import Variables
from greenlink.optimize.inputs import OptimizationInputs
from greenlink.optimize.lp import Solution

_TOL_KWH = 1e-6


@dataclass(frozen=True)
class Sizes:
    """Chosen capacities: PV per plant (kWp), wind per plant (kW), battery energy and power."""

    pv_kw_dc: dict[str, float]
    wind_kw: dict[str, float]
    battery_kwh: float
    battery_kw: float

    def to_dict(self) -> dict[str, Any]:
        return {"pv_kw_dc": self.pv_kw_dc, "wind_kw": self.wind_kw,
                "battery_kwh": self.battery_kwh, "battery_kw": self.battery_kw}


def _val(sol: Solution, cols: np.ndarray | None) -> np.ndarray:
    if cols is None:
        return np.zeros(0)
    return np.maximum(sol.x[cols], 0.0)


def sizes_of(oi: OptimizationInputs, v: Variables, sol: Solution) -> Sizes:
    """Capacities at the optimum (values below 1e-6 kW read as 0)."""
    def clean(x: float) -> float:
        return float(x) if abs(x) > 1e-6 else 0.0

    return Sizes(
        pv_kw_dc={p: clean(sol.x[c]) for p, c in zip(oi.pv_ids, v.pv_kw, strict=True)},
        wind_kw={w: clean(sol.x[c]) for w, c in zip(oi.wind_ids, v.wind_kw, strict=True)},
        battery_kwh=clean(sol.x[v.energy_kwh]) if v.energy_kwh is not None else 0.0,
        battery_kw=clean(sol.x[v.power_kw]) if v.power_kw is not None else 0.0)


def sized_inputs(oi: OptimizationInputs, sizes: Sizes) -> ParkInputs:
    """The simulation inputs with the chosen capacities (scenario and generation series)."""
    park = oi.park
    sc = park.scenario
    pv = [p.model_copy(update={"capacity_kw_dc": sizes.pv_kw_dc[p.id]}) for p in sc.pv]
    wind = [w.model_copy(update={"capacity_kw": sizes.wind_kw[w.id]}) for w in sc.wind]
    batteries = []
    if oi.battery is not None and sizes.battery_kwh > 0 and sizes.battery_kw > 0:
        batteries = [oi.battery.model_copy(update={
            "energy_kwh": sizes.battery_kwh, "power_kw": sizes.battery_kw,
            "grid_charging": False})]
    scenario = sc.model_copy(update={"pv": pv, "wind": wind, "batteries": batteries})
    generation = {pid: oi.pv_kwh_per_kw[k] * sizes.pv_kw_dc[pid]
                  for k, pid in enumerate(oi.pv_ids)}
    generation.update({wid: oi.wind_kwh_per_kw[k] * sizes.wind_kw[wid]
                       for k, wid in enumerate(oi.wind_ids)})
    return replace(park, scenario=scenario, generation_kwh=generation)


def dispatch_of(oi: OptimizationInputs, v: Variables, sol: Solution, sizes: Sizes
                ) -> DispatchResult:
    """The LP dispatch as a :class:`DispatchResult`; aggregated users are split by the
    scenario's allocation method (direct green first, then battery discharge)."""
    sc = oi.park.scenario
    n_t = oi.n_intervals
    load = oi.load_kwh
    gen = sum((oi.pv_kwh_per_kw[k] * sizes.pv_kw_dc[p] for k, p in enumerate(oi.pv_ids)),
              np.zeros(n_t))
    gen = gen + sum((oi.wind_kwh_per_kw[k] * sizes.wind_kw[w] for k, w in enumerate(oi.wind_ids)),
                    np.zeros(n_t))
    direct = _val(sol, v.direct)
    discharge = _val(sol, v.discharge) if v.discharge is not None else np.zeros_like(direct)
    if not oi.per_user and load.shape[1] > 1:
        kwargs = {"shares": np.array([u.share or 0.0 for u in sc.users]),
                  "priorities": np.array([u.priority or 1 for u in sc.users]),
                  "entitlements": np.array([(u.contracted_kw or 0.0) * oi.dt_h
                                            for u in sc.users])}
        method = sc.allocation.method
        direct = allocate(direct.sum(axis=1), load, method, **kwargs)
        discharge = allocate(discharge.sum(axis=1), np.maximum(load - direct, 0.0), method,
                             **kwargs)
    direct = np.minimum(direct, load)
    discharge = np.minimum(discharge, np.maximum(load - direct, 0.0))
    charge = _val(sol, v.charge) if v.charge is not None else np.zeros(n_t)
    soc = _val(sol, v.soc) if v.soc is not None else np.zeros(n_t)
    if v.soc is not None and oi.battery is not None:  # the LP's s counts from σ_min E
        soc = soc + oi.battery.soc_min * sizes.battery_kwh
    export = _val(sol, v.export) if v.export is not None else np.zeros(n_t)
    curtailed = np.maximum(gen - direct.sum(axis=1) - charge - export, 0.0)
    green = direct + discharge
    grid_import = load.sum(axis=1) - green.sum(axis=1)
    limit = oi.import_limit_kwh
    dis = discharge.sum(axis=1)
    return DispatchResult(
        generation=gen, load=load.sum(axis=1), green_direct=direct.sum(axis=1),
        green_to_load=green.sum(axis=1), battery_charge=charge, battery_charge_green=charge,
        battery_discharge=dis, battery_discharge_green=dis, battery_soc=soc,
        battery_soc_green=soc, battery_soc_each=soc[:, None] if v.soc is not None and
        sizes.battery_kwh > 0 else np.zeros((n_t, 0)),
        export=export, curtailed=curtailed, grid_import=grid_import,
        import_over_limit=np.maximum(grid_import - limit, 0.0), user_load=load, user_green=green)


def optimized_flows(oi: OptimizationInputs, v: Variables, sol: Solution, sizes: Sizes
                    ) -> tuple[ParkInputs, pd.DataFrame]:
    """(sized inputs, flows table) of the optimum."""
    inputs = sized_inputs(oi, sizes)
    return inputs, flows_table(inputs, dispatch_of(oi, v, sol, sizes))


def cost_breakdown(oi: OptimizationInputs, v: Variables, sol: Solution, table: pd.DataFrame,
                   sizes: Sizes) -> dict[str, float]:
    """Every term of the objective, in the tariff's currency over the modelled period."""
    c = oi.costs
    frac = oi.period_fraction
    imp = table[flows.IMPORT_KWH].to_numpy()
    fee_base = {flows.USER_GRID_KWH: imp, flows.USER_LOAD_KWH: table[flows.LOAD_KWH].to_numpy(),
                flows.USER_GREEN_KWH: table[flows.GREEN_TO_LOAD_KWH].to_numpy()}
    out = {
        "pv_annuity_and_om": frac * c.pv_per_kw_year * sum(sizes.pv_kw_dc.values()),
        "wind_annuity_and_om": frac * c.wind_per_kw_year * sum(sizes.wind_kw.values()),
        "battery_energy_annuity": frac * c.battery_per_kwh_year * sizes.battery_kwh,
        "battery_power_annuity_and_om": frac * c.battery_per_kw_year * sizes.battery_kw,
        "battery_variable_om": c.battery_variable_per_kwh
        * float(table[flows.BATTERY_DISCHARGE_KWH].sum()),
        "import_energy_cost": float(np.dot(imp, oi.tariff_price_per_kwh)),
        "carbon_cost": c.carbon_price_per_t * oi.grid_ef_t_per_kwh * float(imp.sum()),
        **{f"fee_{fee_id}": float(np.dot(price, fee_base[base]))
           for fee_id, _name, base, price in oi.fees.energy},
        "td_capacity_charge": float(oi.fees.capacity.sum()),
        "demand_charge": float(c.demand_charge_per_kw_month * sol.x[v.peak_kw].sum())
        if v.peak_kw is not None else 0.0,
        "export_revenue": -oi.export_price_per_kwh * float(table[flows.EXPORT_KWH].sum()),
    }
    penalty = 0.0
    if v.over_limit is not None:
        penalty += c.penalty_per_kwh * float(_val(sol, v.over_limit).sum())
    penalty += c.penalty_per_kwh * float(sum(max(sol.x[s], 0.0) for s in v.slack.values()))
    out["penalties_for_missed_rules"] = penalty
    out = {k: float(x) for k, x in out.items()}
    out["total"] = float(sum(out.values()))
    return out


def levelised_green_cost(costs: dict[str, float], table: pd.DataFrame) -> float:
    """Cost of the green supply per kWh of green energy used or sold.

    ``(PV + wind + battery annuities, O&M and variable O&M) ÷ (Σ green_to_load + Σ export)``.
    """
    green_cost = sum(costs[k] for k in ("pv_annuity_and_om", "wind_annuity_and_om",
                                        "battery_energy_annuity", "battery_power_annuity_and_om",
                                        "battery_variable_om"))
    energy = float(table[flows.GREEN_TO_LOAD_KWH].sum() + table[flows.EXPORT_KWH].sum())
    return green_cost / energy if energy > 0 else float("nan")


def requirement_table(oi: OptimizationInputs, v: Variables, sol: Solution) -> list[dict[str, Any]]:
    """One record per rule/target row: slack, needed relaxation and shadow price.

    ``shadow_price_per_point`` is what relaxing the threshold by one percentage point saves:
    for the row ``N − k D ≥ 0`` the envelope theorem gives ``∂cost/∂k = y · D(x*)`` with ``y``
    the row dual, so one point is ``|y| · D(x*) / 100``.
    """
    records = []
    for i, req in enumerate(oi.requirements):
        den = v.req_den[i].value(sol.x)
        slack = max(float(sol.x[v.slack[i]]), 0.0)
        dual = float(sol.row_dual[v.req_rows[i]])
        relax = slack / den if den > 0 else float("inf") if slack > _TOL_KWH else 0.0
        binding = abs(dual) > 1e-9 and slack <= _TOL_KWH
        records.append({
            "id": req.id, "origin": req.origin, "metric": req.metric, "scope": req.scope,
            "period": req.period, "operator": req.operator, "threshold": req.threshold,
            "met": slack <= _TOL_KWH, "shortfall_kwh": slack,
            "relax_by_points": 100.0 * relax if slack > _TOL_KWH else 0.0,
            "binding": binding,
            "shadow_price_per_point": abs(dual) * den / 100.0 if binding else 0.0,
        })
    return records
