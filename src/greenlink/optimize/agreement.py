"""Optimise and simulate agree: the optimiser's dispatch against ``simulate`` at the same sizes.

Both dispatches send green straight to the loads first (the realizable dispatch, docs/optimize.md)
and share every cost (:func:`greenlink.optimize.results.cost_breakdown` prices both). They may
still differ where the optimiser has a choice the rule-based simulator makes by rule: when to
discharge a battery (``simulate`` discharges at the first deficit, the optimiser against the
tariff), whether green left over is stored or exported, how several batteries share the work,
when to charge from the grid, and the year's ends (``simulate`` starts at ``soc_initial``, the
optimiser's year is cyclic). :func:`compare` puts both side by side: they *agree* when every
share differs by at most 0.1 point and the cost by at most 0.5 %; otherwise the reasons are named
with their sizes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from greenlink import flows
from greenlink.optimize.inputs import OptimizationInputs
from greenlink.optimize.results import Sizes, cost_breakdown
from greenlink.policy.kpis import (
    annual_matched_share,
    export_share_of_generation,
    green_share_of_consumption,
    hourly_matched_share,
    self_use_share_of_generation,
)

#: Largest difference of a share (percentage points) and of the cost (relative) that agree.
KPI_POINTS = 0.1
COST_SHARE = 0.005

_PARK_KPIS = {
    "green_share_of_consumption": green_share_of_consumption,
    "hourly_matched_share": hourly_matched_share,
    "annual_matched_share": annual_matched_share,
    "self_use_share_of_generation": self_use_share_of_generation,
    "export_share_of_generation": export_share_of_generation,
}
_USER_KPIS = {"green_share_of_consumption": green_share_of_consumption,
              "hourly_matched_share": hourly_matched_share}


@dataclass(frozen=True)
class Agreement:
    """The two dispatches side by side."""

    agree: bool
    kpis: list[dict[str, Any]]
    cost: dict[str, float]
    reasons: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"agree": self.agree, "kpi_tolerance_points": KPI_POINTS,
                "cost_tolerance": COST_SHARE, "kpis": self.kpis, "cost": self.cost,
                "reasons": self.reasons}

    @property
    def message(self) -> str:
        worst = max((abs(k["difference_points"]) for k in self.kpis
                     if k["difference_points"] is not None), default=0.0)
        head = (f"re-simulated with simulate at these sizes: shares within {worst:.2f} points, "
                f"cost {100 * self.cost['relative_difference']:+.2f} %")
        return head if self.agree else head + " — " + "; ".join(self.reasons)


def _kpis(oi: OptimizationInputs, table: pd.DataFrame) -> dict[tuple[str, str], float]:
    out = {}
    for name, fn in _PARK_KPIS.items():
        out[("park", name)] = float(fn(table, readings=oi.readings))
    if len(oi.user_ids) > 1:
        for u in oi.user_ids:
            for name, fn in _USER_KPIS.items():
                out[(u, name)] = float(fn(table, u, readings=oi.readings))
    return out


def _by_period(oi: OptimizationInputs, values: np.ndarray) -> dict[str, float]:
    periods = np.asarray(oi.park.tariff_period, dtype=object)
    return {str(p): float(values[periods == p].sum()) for p in dict.fromkeys(periods)}


def _mwh(x: float) -> str:
    return f"{x / 1000:,.0f} MWh" if abs(x) >= 10_000 else f"{x:,.0f} kWh"


def _reasons(oi: OptimizationInputs, sizes: Sizes, lp: pd.DataFrame, sim: pd.DataFrame,
             lp_cost: dict[str, float], sim_cost: dict[str, float]) -> list[str]:
    out = []
    col = flows.BATTERY_DISCHARGE_KWH
    lp_dis = _by_period(oi, lp[col].to_numpy(dtype=float))
    sim_dis = _by_period(oi, sim[col].to_numpy(dtype=float))
    prices = {str(p): float(np.mean(oi.tariff_price_per_kwh[np.asarray(
        oi.park.tariff_period, dtype=object) == p])) for p in lp_dis}
    middle = (min(prices.values()) + max(prices.values())) / 2 if prices else 0.0
    cheap = [p for p in prices if prices[p] < middle - 1e-12]
    moved = sum(sim_dis[p] - lp_dis[p] for p in cheap)
    total_dis = float(lp[col].sum() + sim[col].sum())
    if cheap and total_dis > 0 and abs(moved) > 1e-3 * total_dis:
        where = ", ".join(cheap)
        out.append(f"battery timing: simulate discharges at the first deficit "
                   f"({_mwh(sum(sim_dis[p] for p in cheap))} in {where} hours), the optimiser "
                   f"against the tariff ({_mwh(sum(lp_dis[p] for p in cheap))} there)")
    for column, what in ((flows.EXPORT_KWH, "export"), (flows.CURTAILED_KWH, "curtailment"),
                         (flows.BATTERY_CHARGE_KWH, "battery charge")):
        a, b = float(lp[column].sum()), float(sim[column].sum())
        if abs(a - b) > 1e-3 * max(abs(a), abs(b), 1.0):
            out.append(f"{what}: optimiser {_mwh(a)}, simulate {_mwh(b)}")
    grid_lp = float((lp[flows.BATTERY_CHARGE_KWH] - lp[flows.BATTERY_CHARGE_GREEN_KWH]).sum())
    grid_sim = float((sim[flows.BATTERY_CHARGE_KWH] - sim[flows.BATTERY_CHARGE_GREEN_KWH]).sum())
    if abs(grid_lp - grid_sim) > 1.0:
        out.append(f"grid charging: optimiser {_mwh(grid_lp)} in intervals of its choice, "
                   f"simulate {_mwh(grid_sim)} whenever the cheapest period has no green left")
    start = sum(sizes.batteries.get(c.id, {}).get("energy_kwh", 0.0)
                * (c.spec.soc_initial - c.spec.soc_min) for c in oi.batteries)
    if start > 1.0:
        out.append(f"year start: simulate begins with {_mwh(start)} stored above the minimum "
                   "(soc_initial), free to use; the optimiser's year is cyclic")
    if len(oi.park.scenario.batteries) > 1:
        out.append("several batteries: simulate charges and discharges them in the scenario's "
                   "order, the optimiser shares the work at least cost")
    soc_lp = lp[flows.BATTERY_SOC_KWH].to_numpy(dtype=float)
    soc_sim = sim[flows.BATTERY_SOC_KWH].to_numpy(dtype=float)
    if len(soc_sim) and abs(soc_sim[-1] - soc_lp[-1]) > 1.0:
        out.append(f"year ends: simulate starts at soc_initial and ends with "
                   f"{_mwh(float(soc_sim[-1]))} stored, the optimiser's year is cyclic "
                   f"({_mwh(float(soc_lp[-1]))})")
    diffs = sorted(((k, sim_cost[k] - lp_cost[k]) for k in lp_cost
                    if k not in ("total", "penalties_for_missed_rules")),
                   key=lambda kv: -abs(kv[1]))
    terms = [f"{k.replace('_', ' ')} {d:+,.0f}" for k, d in diffs[:3] if abs(d) > 0.5]
    if terms:
        out.append("cost of simulate against the optimiser: " + ", ".join(terms))
    return out


def compare(oi: OptimizationInputs, sizes: Sizes, lp_flows: pd.DataFrame,
            sim_flows: pd.DataFrame) -> Agreement:
    """The optimiser's flows against ``simulate``'s at the same sizes (see the module text)."""
    a, b = _kpis(oi, lp_flows), _kpis(oi, sim_flows)
    rows = []
    ok = True
    for (scope, name), lp_value in a.items():
        sim_value = b[(scope, name)]
        diff = None
        if np.isfinite(lp_value) and np.isfinite(sim_value):
            diff = 100.0 * (sim_value - lp_value)
            ok &= abs(diff) <= KPI_POINTS + 1e-9
        rows.append({"scope": scope, "kpi": name, "optimiser": lp_value, "simulate": sim_value,
                     "difference_points": diff})
    lp_cost = cost_breakdown(oi, lp_flows, sizes)
    sim_cost = cost_breakdown(oi, sim_flows, sizes)
    rel = (sim_cost["total"] - lp_cost["total"]) / max(abs(lp_cost["total"]), 1e-12)
    ok &= abs(rel) <= COST_SHARE + 1e-12
    cost = {"optimiser": lp_cost["total"], "simulate": sim_cost["total"],
            "difference": sim_cost["total"] - lp_cost["total"], "relative_difference": rel}
    reasons = [] if ok else _reasons(oi, sizes, lp_flows, sim_flows, lp_cost, sim_cost)
    if not ok and not reasons:
        reasons = ["the dispatches differ in timing only (same totals)"]
    return Agreement(agree=bool(ok), kpis=rows, cost=cost, reasons=reasons)
