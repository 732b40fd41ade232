"""What binds at the optimum, in a planner's words: sizes at their bounds, grid limits, rules and
targets, each with its shadow price (what one more unit of the bound would save a year).

A size at its upper bound with a negative reduced cost ``r`` would lower the cost by ``|r|`` per
unit if the bound rose (per modelled period; divided by the modelled fraction of a year for a
year). A size at zero with a positive reduced cost is not built: it would have to cost ``r`` less
per unit to pay. Battery sizes are read from the final (dispatch) solve; generation sizes, fixed
there, from the sizing solve (the relaxation: an indication, not a promise).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from greenlink.optimize.constraints import Variables
from greenlink.optimize.inputs import OptimizationInputs
from greenlink.optimize.lp import Solution

_REL = 1e-6


def _money(x: float) -> str:
    return f"{x:,.2f}" if abs(x) < 100 else f"{x:,.0f}"


def _count(n: int) -> str:
    return f"{n:,} interval" + ("" if n == 1 else "s")


def _per(frac: float) -> str:
    return "a year" if frac > 0.999 else "over the modelled period"


def _size_record(what: str, key: str, unit: str, value: float, lo: float, hi: float,
                 reduced_cost: float, frac: float, currency: str, source: str
                 ) -> dict[str, Any] | None:
    scale = 1.0 / frac if frac > 0.999 else 1.0
    tol = _REL * max(1.0, abs(hi) if np.isfinite(hi) else 1.0)
    if hi - lo <= tol:
        return None
    per = _per(frac)
    if np.isfinite(hi) and value >= hi - tol:
        worth = max(-reduced_cost, 0.0) * scale
        if worth > 1e-9:
            text = (f"{what} sits at its upper bound {hi:,.0f} {unit}: each further {unit} would "
                    f"save about {_money(worth)} {currency} {per}: raise `{key}` to see if more "
                    "pays")
        else:
            text = (f"{what} sits at its upper bound {hi:,.0f} {unit}; more would not lower the "
                    "cost")
        return {"kind": "size", "what": what, "key": key, "value": value, "bound": hi,
                "side": "upper", "shadow_price": worth, "unit": f"{currency}/{unit} {per}",
                "source": source, "message": text}
    if value <= lo + tol and reduced_cost > 1e-9:
        need = reduced_cost * scale
        word = "not built" if lo <= tol else f"kept at its lower bound {lo:,.0f} {unit}"
        text = (f"{what} is {word}: it would pay only if it cost about {_money(need)} "
                f"{currency} less per {unit} {per}")
        return {"kind": "size", "what": what, "key": key, "value": value, "bound": lo,
                "side": "lower", "shadow_price": need, "unit": f"{currency}/{unit} {per}",
                "source": source, "message": text}
    return None


def _sizes(oi: OptimizationInputs, v: Variables, sol: Solution, currency: str, source: str,
           generation: bool, batteries: bool) -> list[dict[str, Any]]:
    frac = oi.period_fraction
    out = []
    if generation:
        for k, pid in enumerate(oi.pv_ids):
            col = v.pv_kw[k]
            out.append(_size_record(f"PV {pid}", f"pv.{pid}.max_capacity_kw_dc", "kWp",
                                    float(sol.x[col]), float(oi.pv_min_kw[k]),
                                    float(oi.pv_max_kw[k]), float(sol.col_dual[col]), frac,
                                    currency, source))
        for k, wid in enumerate(oi.wind_ids):
            col = v.wind_kw[k]
            out.append(_size_record(f"wind {wid}", f"optimize.wind.max_capacity_kw.{wid}", "kW",
                                    float(sol.x[col]), float(oi.wind_min_kw[k]),
                                    float(oi.wind_max_kw[k]), float(sol.col_dual[col]), frac,
                                    currency, source))
    if batteries:
        many = len(oi.batteries) > 1
        for k, cand in enumerate(oi.batteries):
            name = f"battery {cand.id}" if many else "battery"
            for col, what, key, unit, lo, hi in (
                    (v.energy_kwh[k], f"{name} energy", "optimize.battery.max_energy_kwh", "kWh",
                     cand.min_kwh, cand.max_kwh),
                    (v.power_kw[k], f"{name} power", "optimize.battery.max_power_kw", "kW",
                     cand.min_kw, cand.max_kw)):
                out.append(_size_record(what, key, unit, float(sol.x[col]), lo, hi,
                                        float(sol.col_dual[col]), frac, currency, source))
    return [r for r in out if r is not None]


def _grid(oi: OptimizationInputs, v: Variables, sol: Solution, currency: str
          ) -> list[dict[str, Any]]:
    frac = oi.period_fraction
    scale = 1.0 / frac if frac > 0.999 else 1.0
    per = _per(frac)
    out = []
    has = v.export >= 0
    if oi.export_cap_kwh > 0 and has.any():
        cols = v.export[has]
        x = sol.x[cols]
        at_cap = x >= oi.export_cap_kwh * (1 - _REL) - 1e-9
        worth = float(np.maximum(-sol.col_dual[cols][at_cap], 0.0).sum()) * oi.dt_h * scale
        if at_cap.any() and worth > 1e-9:
            out.append({
                "kind": "grid", "what": "export limit", "key": "grid.export_limit_kw",
                "value": oi.export_cap_kwh / oi.dt_h, "bound": oi.export_cap_kwh / oi.dt_h,
                "side": "upper", "shadow_price": worth, "unit": f"{currency}/kW {per}",
                "source": "dispatch",
                "message": f"the export limit {oi.export_cap_kwh / oi.dt_h:,.0f} kW binds in "
                           f"{_count(int(at_cap.sum()))}: each further kW would earn about "
                           f"{_money(worth)} {currency} {per}: raise `grid.export_limit_kw` "
                           "to see if more pays"})
    if v.import_limit_rows is not None and len(v.import_limit_rows):
        duals = np.abs(sol.row_dual[v.import_limit_rows])
        tight = duals > 1e-9
        worth = float(duals[tight].sum()) * oi.dt_h * scale
        if tight.any() and worth > 1e-9:
            kw = oi.import_limit_kwh / oi.dt_h
            out.append({
                "kind": "grid", "what": "import limit", "key": "grid.import_limit_kw",
                "value": kw, "bound": kw, "side": "upper", "shadow_price": worth,
                "unit": f"{currency}/kW {per}", "source": "dispatch",
                "message": f"the import limit {kw:,.0f} kW binds in {_count(int(tight.sum()))}: "
                           f"each further kW would save about {_money(worth)} "
                           f"{currency} {per}: raise `grid.import_limit_kw` to see if more "
                           "pays"})
    return out


def _rules(oi: OptimizationInputs, requirements: list[dict[str, Any]], currency: str
           ) -> list[dict[str, Any]]:
    frac = oi.period_fraction
    scale = 1.0 / frac if frac > 0.999 else 1.0
    per = _per(frac)
    out = []
    for r in requirements:
        kind = "rule" if r["origin"] == "rule" else "target"
        scope = "the park" if r["scope"] == "park" else f"user {r['scope']}"
        what = f"{kind} {r['id']} ({r['metric'].replace('_', ' ')} {r['operator']} " \
               f"{100 * r['threshold']:g} %, {scope}, {r['period']})"
        if not r["met"]:
            out.append({"kind": kind, "what": what, "key": r["id"], "value": None,
                        "bound": r["threshold"], "side": r["operator"], "shadow_price": None,
                        "unit": f"{currency}/point {per}", "source": "dispatch",
                        "message": f"{what} cannot be met: it must relax by "
                                   f"{r['relax_by_points']:.2f} points"})
        elif r["binding"]:
            worth = r["shadow_price_per_point"] * scale
            out.append({"kind": kind, "what": what, "key": r["id"], "value": r["threshold"],
                        "bound": r["threshold"], "side": r["operator"], "shadow_price": worth,
                        "unit": f"{currency}/point {per}", "source": "dispatch",
                        "message": f"{what} binds: relaxing it by one point would save about "
                                   f"{_money(worth)} {currency} {per}"})
    return out


def what_binds(oi: OptimizationInputs, v: Variables, sol: Solution,
               requirements: list[dict[str, Any]],
               extra_sizing: tuple[OptimizationInputs, Variables, Solution] | None = None
               ) -> list[dict[str, Any]]:
    """Every size at a bound, binding grid limit, rule and target, with a planner's sentence
    (``requirements``: :func:`greenlink.optimize.results.requirement_table`; ``extra_sizing``:
    the solve whose reduced costs price the generation sizes where ``v`` has them fixed)."""
    currency = oi.park.scenario.tariff.currency
    sized_here = len(v.pv_kw) == len(oi.pv_ids) and len(v.wind_kw) == len(oi.wind_ids)
    out = []
    if sized_here:
        out += _sizes(oi, v, sol, currency, v.mode, generation=True, batteries=True)
    else:
        if extra_sizing is not None:
            out += _sizes(*extra_sizing, currency, "sizing", generation=True, batteries=False)
        out += _sizes(oi, v, sol, currency, "dispatch", generation=False, batteries=True)
    out += _grid(oi, v, sol, currency)
    out += _rules(oi, requirements, currency)
    return out
