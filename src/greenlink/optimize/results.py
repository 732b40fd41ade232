"""Turn an LP solution into sizes, a flows table (docs/formats.md), costs and shadow prices."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from greenlink import flows
from greenlink.dispatch.allocation import allocate
from greenlink.dispatch.demand import month_labels, monthly_peak_kw
from greenlink.dispatch.simulate import DispatchResult, flows_table
from greenlink.inputs import ParkInputs
from greenlink.optimize.constraints import Variables
from greenlink.optimize.inputs import OptimizationInputs
from greenlink.optimize.lp import Solution
from greenlink.optimize.model import allocation_kwargs

_TOL_KWH = 1e-6


@dataclass(frozen=True)
class Sizes:
    """Chosen capacities: PV per plant (kWp), wind per plant (kW), each battery's energy (kWh)
    and power (kW); ``battery_kwh`` and ``battery_kw`` are the batteries' totals."""

    pv_kw_dc: dict[str, float]
    wind_kw: dict[str, float]
    battery_kwh: float
    battery_kw: float
    batteries: dict[str, dict[str, float]]

    def to_dict(self) -> dict[str, Any]:
        return {"pv_kw_dc": self.pv_kw_dc, "wind_kw": self.wind_kw,
                "battery_kwh": self.battery_kwh, "battery_kw": self.battery_kw,
                "batteries": self.batteries}

    def pv_array(self, oi: OptimizationInputs) -> np.ndarray:
        return np.array([self.pv_kw_dc[p] for p in oi.pv_ids], dtype=float)

    def wind_array(self, oi: OptimizationInputs) -> np.ndarray:
        return np.array([self.wind_kw[w] for w in oi.wind_ids], dtype=float)


def _clean(x: float) -> float:
    return float(x) if abs(x) > 1e-6 else 0.0


def _val(sol: Solution, cols: np.ndarray | None) -> np.ndarray:
    """Values of a block (0 where there is no column), never below 0."""
    if cols is None:
        return np.zeros(0)
    cols = np.asarray(cols)
    out = np.zeros(cols.shape)
    has = cols >= 0
    out[has] = np.maximum(sol.x[cols[has]], 0.0)
    return out


def sizes_of(oi: OptimizationInputs, v: Variables, sol: Solution,
             generation: Sizes | None = None) -> Sizes:
    """Capacities at the optimum (values below 1e-6 read as 0); the generation sizes of
    ``generation`` where the LP had them fixed (dispatch mode)."""
    if len(v.pv_kw) == len(oi.pv_ids) and len(v.wind_kw) == len(oi.wind_ids):
        pv = {p: _clean(sol.x[c]) for p, c in zip(oi.pv_ids, v.pv_kw, strict=True)}
        wind = {w: _clean(sol.x[c]) for w, c in zip(oi.wind_ids, v.wind_kw, strict=True)}
    else:
        assert generation is not None
        pv, wind = dict(generation.pv_kw_dc), dict(generation.wind_kw)
    bats = {b.id: {"energy_kwh": _clean(sol.x[e]), "power_kw": _clean(sol.x[p])}
            for b, e, p in zip(oi.batteries, v.energy_kwh, v.power_kw, strict=True)}
    return Sizes(pv_kw_dc=pv, wind_kw=wind,
                 battery_kwh=float(sum(b["energy_kwh"] for b in bats.values())),
                 battery_kw=float(sum(b["power_kw"] for b in bats.values())), batteries=bats)


def sized_inputs(oi: OptimizationInputs, sizes: Sizes) -> ParkInputs:
    """The simulation inputs with the chosen capacities (scenario and generation series); each
    battery keeps its own parameters, ``grid_charging`` included."""
    park = oi.park
    sc = park.scenario
    pv = [p.model_copy(update={"capacity_kw_dc": sizes.pv_kw_dc[p.id]}) for p in sc.pv]
    wind = [w.model_copy(update={"capacity_kw": sizes.wind_kw[w.id]}) for w in sc.wind]
    batteries = []
    for cand in oi.batteries:
        size = sizes.batteries.get(cand.id, {})
        if size.get("energy_kwh", 0.0) > 0 and size.get("power_kw", 0.0) > 0:
            batteries.append(cand.spec.model_copy(update={
                "energy_kwh": size["energy_kwh"], "power_kw": size["power_kw"]}))
    scenario = sc.model_copy(update={"pv": pv, "wind": wind, "batteries": batteries})
    generation = {pid: oi.pv_kwh_per_kw[k] * sizes.pv_kw_dc[pid]
                  for k, pid in enumerate(oi.pv_ids)}
    generation.update({wid: oi.wind_kwh_per_kw[k] * sizes.wind_kw[wid]
                       for k, wid in enumerate(oi.wind_ids)})
    return replace(park, scenario=scenario, generation_kwh=generation)


def _states(oi: OptimizationInputs, sol: Solution, soc: np.ndarray, inflow: np.ndarray,
            outflow: np.ndarray) -> np.ndarray:
    """(K, T) stored energy above the floor after every interval: the LP keeps it only where it
    may bind, the rest follows from the dynamics (forward from the last interval, cyclic)."""
    out = np.zeros(soc.shape)
    for k, cand in enumerate(oi.batteries):
        if not (soc[k] >= 0).any():
            continue
        flow = cand.spec.charge_efficiency * _val(sol, inflow[k]) \
            - _val(sol, outflow[k]) / cand.spec.discharge_efficiency
        kept = soc[k] >= 0
        level = float(sol.x[soc[k][np.nonzero(kept)[0][-1]]])
        path = np.cumsum(flow) + (level - float(np.sum(flow)))  # the year is cyclic
        path[kept] = sol.x[soc[k][kept]]  # the LP's own values where it has them
        out[k] = np.maximum(path, 0.0)
    return out


def dispatch_of(oi: OptimizationInputs, v: Variables, sol: Solution, sizes: Sizes
                ) -> DispatchResult:
    """The LP dispatch as a :class:`DispatchResult`; park columns are split among the users by
    the scenario's allocation method (direct green first, then battery discharge), which for
    pro rata is exactly the LP's ``ρ_tu`` share."""
    sc = oi.park.scenario
    n_t = oi.n_intervals
    load = oi.load_kwh
    gen = oi.generation_kwh(sizes.pv_array(oi), sizes.wind_array(oi))
    direct = _val(sol, v.direct) + v.direct_const
    kept = [k for k, b in enumerate(oi.batteries)
            if sizes.batteries[b.id]["energy_kwh"] > 0 and sizes.batteries[b.id]["power_kw"] > 0]
    dis_green = _val(sol, v.discharge).sum(axis=0)
    dis_grid = _val(sol, v.discharge_grid).sum(axis=0)
    dis = dis_green + dis_grid
    method = sc.allocation.method
    kwargs = allocation_kwargs(oi)
    if v.user_discharge is not None:
        user_direct = np.minimum(direct, load)
        user_green_dis = _val(sol, v.user_discharge)
        room = np.maximum(load - user_direct - user_green_dis, 0.0)
        user_grey = allocate(dis_grid, room, method, **kwargs)
    else:
        user_direct = allocate(direct.sum(axis=1), load, method, **kwargs)
        user_dis = allocate(dis, np.maximum(load - user_direct, 0.0), method, **kwargs)
        green_frac = np.divide(dis_green, dis, out=np.zeros(n_t), where=dis > 1e-12)
        user_green_dis = user_dis * green_frac[:, None]
        user_grey = user_dis - user_green_dis
    charge_green = _val(sol, v.charge).sum(axis=0)
    charge_grid = _val(sol, v.grid_charge).sum(axis=0)
    floors = np.array([oi.batteries[k].spec.soc_min * sizes.batteries[oi.batteries[k].id][
        "energy_kwh"] for k in range(len(oi.batteries))])
    # the floor σ_min·E is the battery's initial charge: grid energy, never claimed as green
    # (docs/formats.md: energy stored at the start of the year counts as grid energy)
    soc_green_each = _states(oi, sol, v.soc, v.charge, v.discharge)
    soc_each = soc_green_each + floors[:, None] \
        + _states(oi, sol, v.soc_grid, v.grid_charge, v.discharge_grid)
    export = _val(sol, v.export)
    green = user_direct + user_green_dis
    d_total = user_direct.sum(axis=1)
    curtailed = np.maximum(gen - d_total - charge_green - export, 0.0)
    grid_import = np.maximum(load.sum(axis=1) - d_total - dis + charge_grid, 0.0)
    limit = oi.import_limit_kwh
    del user_grey  # grid-coloured discharge is part of each user's grid supply
    return DispatchResult(
        generation=gen, load=load.sum(axis=1), green_direct=d_total,
        green_to_load=green.sum(axis=1), battery_charge=charge_green + charge_grid,
        battery_charge_green=charge_green, battery_discharge=dis,
        battery_discharge_green=dis_green, battery_soc=soc_each.sum(axis=0),
        battery_soc_green=soc_green_each.sum(axis=0),
        battery_soc_each=soc_each[kept].T if kept else np.zeros((n_t, 0)),
        export=export, curtailed=curtailed, grid_import=grid_import,
        import_over_limit=np.maximum(grid_import - limit, 0.0), user_load=load, user_green=green)


def optimized_flows(oi: OptimizationInputs, v: Variables, sol: Solution, sizes: Sizes
                    ) -> tuple[ParkInputs, pd.DataFrame]:
    """(sized inputs, flows table) of the optimum."""
    inputs = sized_inputs(oi, sizes)
    return inputs, flows_table(inputs, dispatch_of(oi, v, sol, sizes))


def operating_costs(oi: OptimizationInputs, table: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per-interval operating cost terms of a flows table at the optimiser's prices (the terms
    settlement bills, the carbon cost and export revenue); the demand charge is monthly and
    not here."""
    imp = table[flows.IMPORT_KWH].to_numpy(dtype=float)
    fee_base = {flows.USER_GRID_KWH: imp,
                flows.USER_LOAD_KWH: table[flows.LOAD_KWH].to_numpy(dtype=float),
                flows.USER_GREEN_KWH: table[flows.GREEN_TO_LOAD_KWH].to_numpy(dtype=float)}
    return {
        "battery_variable_om": oi.costs.battery_variable_per_kwh
        * table[flows.BATTERY_DISCHARGE_KWH].to_numpy(dtype=float),
        "import_energy_cost": imp * oi.tariff_price_per_kwh,
        "carbon_cost": oi.costs.carbon_price_per_t * oi.grid_ef_t_per_kwh * imp,
        **{f"fee_{fee_id}": price * fee_base[base] for fee_id, _n, base, price in
           oi.fees.energy},
        "td_capacity_charge": oi.fees.capacity,
        "export_revenue": -oi.export_price_per_kwh
        * table[flows.EXPORT_KWH].to_numpy(dtype=float),
    }


def monthly_peak_import_kw(oi: OptimizationInputs, table: pd.DataFrame) -> np.ndarray:
    """Each modelled month's peak import power (kW), as ``simulate`` and settlement read it."""
    months = month_labels(pd.DatetimeIndex(table.index), oi.park.scenario.site.timezone)
    return np.array(list(monthly_peak_kw(table[flows.IMPORT_KWH].to_numpy(dtype=float),
                                         oi.dt_h, months).values()))


def cost_breakdown(oi: OptimizationInputs, table: pd.DataFrame, sizes: Sizes,
                   penalties: float = 0.0) -> dict[str, float]:
    """Every term of the objective, in the tariff's currency over the modelled period, computed
    from the flows (so the same function prices a re-simulation of the sizes)."""
    c = oi.costs
    frac = oi.period_fraction
    out = {
        "pv_annuity_and_om": frac * c.pv_per_kw_year * sum(sizes.pv_kw_dc.values()),
        "wind_annuity_and_om": frac * c.wind_per_kw_year * sum(sizes.wind_kw.values()),
        "battery_energy_annuity": frac * c.battery_per_kwh_year * sizes.battery_kwh,
        "battery_power_annuity_and_om": frac * c.battery_per_kw_year * sizes.battery_kw,
        **{k: float(v.sum()) for k, v in operating_costs(oi, table).items()},
        "demand_charge": oi.demand_charge_per_kw_month
        * float(monthly_peak_import_kw(oi, table).sum()),
        "penalties_for_missed_rules": penalties,
    }
    order = ["pv_annuity_and_om", "wind_annuity_and_om", "battery_energy_annuity",
             "battery_power_annuity_and_om", "battery_variable_om", "import_energy_cost",
             "carbon_cost"]
    out = {k: float(out[k]) for k in order + [k for k in out if k not in order]}
    out["total"] = float(sum(out.values()))
    return out


def penalties_of(oi: OptimizationInputs, v: Variables, sol: Solution) -> float:
    """Penalty cost of the elastic slacks (missed rules, import above the limit)."""
    total = 0.0
    if v.over_limit is not None:
        total += oi.costs.penalty_per_kwh * float(_val(sol, v.over_limit).sum())
    total += oi.costs.penalty_per_kwh * float(sum(max(sol.x[s], 0.0) for s in v.slack.values()))
    return total


def monthly_costs(oi: OptimizationInputs, table: pd.DataFrame) -> list[dict[str, Any]]:
    """Operating costs month by month (the terms a monthly settlement bills, the carbon cost
    and the demand charge), for comparison with ``greenlink settle``."""
    terms = operating_costs(oi, table)
    labels = month_labels(pd.DatetimeIndex(table.index), oi.park.scenario.site.timezone)
    peaks = monthly_peak_import_kw(oi, table)
    out = []
    for i, label in enumerate(dict.fromkeys(labels)):
        mask = labels == label
        row: dict[str, Any] = {"month": label}
        row.update({k: float(v[mask].sum()) for k, v in terms.items()})
        row["peak_import_kw"] = float(peaks[i]) if i < len(peaks) else 0.0
        row["demand_charge"] = oi.demand_charge_per_kw_month * row["peak_import_kw"]
        row["total"] = float(sum(v for k, v in row.items()
                                 if k not in ("month", "peak_import_kw")))
        out.append(row)
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


def requirement_table(oi: OptimizationInputs, v: Variables, sol: Solution,
                      sizing: tuple[OptimizationInputs, Variables, Solution] | None = None
                      ) -> list[dict[str, Any]]:
    """One record per rule/target row: slack, needed relaxation and shadow price.

    ``shadow_price_per_point`` is what relaxing the threshold by one percentage point saves:
    for the row ``N − k D ≥ 0`` the envelope theorem gives ``∂cost/∂k = y · D(x*)`` with ``y``
    the row dual, so one point is ``|y| · D(x*) / 100``. With the generation fixed in the final
    (dispatch) solve, a rule that the generation sizes meet binds there only through the
    batteries; its price is then read from the ``sizing`` solve, where the sizes decide
    (``shadow_price_source``).
    """
    records = []
    for i, req in enumerate(oi.requirements):
        den = v.req_den[i].value(sol.x)
        slack = max(float(sol.x[v.slack[i]]), 0.0)
        dual = float(sol.row_dual[v.req_rows[i]])
        source = v.mode
        if abs(dual) <= 1e-9 and sizing is not None:
            _soi, sv, ssol = sizing
            dual = float(ssol.row_dual[sv.req_rows[i]])
            den = sv.req_den[i].value(ssol.x)
            source = "sizing"
        relax = slack / den if den > 0 else float("inf") if slack > _TOL_KWH else 0.0
        binding = abs(dual) > 1e-9 and slack <= _TOL_KWH
        records.append({
            "shadow_price_source": source if binding else None,
            "id": req.id, "origin": req.origin, "metric": req.metric, "scope": req.scope,
            "period": req.period, "operator": req.operator, "threshold": req.threshold,
            "met": slack <= _TOL_KWH, "shortfall_kwh": slack,
            "relax_by_points": 100.0 * relax if slack > _TOL_KWH else 0.0,
            "binding": binding,
            "shadow_price_per_point": abs(dual) * den / 100.0 if binding else 0.0,
        })
    return records
