"""A brute-force grid search over sizes agrees with the LP optimum on a small case."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from greenlink.optimize.inputs import OptimizationInputs, optimization_inputs
from greenlink.optimize.lp import solve
from greenlink.optimize.model import build_model
from tests.optimize.tiny import park, scenario


def _fixed(oi: OptimizationInputs, pv_kw: float, e_kwh: float, p_kw: float) -> float:
    """Least cost of dispatch with every size fixed."""
    fixed = replace(oi, pv_min_kw=np.array([pv_kw]), pv_max_kw=np.array([pv_kw]),
                    battery_min_kwh=e_kwh, battery_max_kwh=e_kwh, battery_min_kw=p_kw,
                    battery_max_kw=p_kw)
    lp, _ = build_model(fixed)
    sol = solve(lp)
    assert sol.optimal
    return sol.objective


def test_grid_search_agrees_with_lp() -> None:
    hours = np.arange(48)
    pv = np.clip(np.sin((hours % 24 - 6) / 12 * np.pi), 0, None)
    load = 10 + 5 * ((hours % 24 >= 17) & (hours % 24 < 22))
    peak_price = np.where((hours % 24 >= 17) & (hours % 24 < 22), 1.2, 0.6)
    sc = scenario(pv_max_kw=60.0, optimize={
        "rules": "none",
        "pv": {"capex_per_kw_dc": 0.0, "fixed_om_per_kw_year": 2.0 * 8760 / 48},
        "battery": {"capex_per_kw": 0.0, "variable_om_per_kwh": 0.0,
                    "fixed_om_per_kw_year": 0.0, "lifetime_years": 10,
                    "capex_per_kwh": 0.1 * 8760 / 48,
                    "max_energy_kwh": 60.0, "max_power_kw": 20.0}},
        extra={"batteries": [{"id": "bess", "energy_kwh": 1.0, "power_kw": 1.0,
                              "charge_efficiency": 0.95, "discharge_efficiency": 0.95,
                              "soc_min": 0.0, "soc_max": 1.0, "soc_initial": 0.0}]})
    oi = optimization_inputs(park(sc, load, pv, prices=peak_price))
    lp, v = build_model(oi)
    best = solve(lp)
    pv_opt = float(best.x[v.pv_kw[0]])
    e_opt = float(best.x[v.energy_kwh])
    p_opt = float(best.x[v.power_kw])
    # the LP's own sizes, dispatched with the sizes fixed, cost the LP optimum
    assert _fixed(oi, pv_opt, e_opt, p_opt) == pytest.approx(best.objective, rel=1e-7)
    # battery power is free, so a grid over PV and energy at full power suffices; search a
    # coarse grid, then finer ones (5×, 25×) around its best point
    power = 20.0

    def search(pvs: np.ndarray, es: np.ndarray) -> tuple[float, float, float]:
        costs = {(a, b): _fixed(oi, a, b, power) for a, b in itertools.product(pvs, es)}
        (a, b) = min(costs, key=costs.__getitem__)
        return a, b, costs[(a, b)]

    pv_g, e_g, _ = search(np.linspace(0, 60, 13), np.linspace(0, 60, 7))
    pv_g, e_g, _ = search(np.clip(np.linspace(pv_g - 5, pv_g + 5, 11), 0, 60),
                          np.clip(np.linspace(e_g - 10, e_g + 10, 11), 0, 60))
    pv_g, e_g, grid_best = search(np.clip(np.linspace(pv_g - 1, pv_g + 1, 11), 0, 60),
                                  np.clip(np.linspace(e_g - 2, e_g + 2, 11), 0, 60))
    assert best.objective <= grid_best + 1e-6  # the LP searches every size, the grid a few
    assert grid_best - best.objective <= 1e-3 * abs(best.objective)
    assert abs(pv_g - pv_opt) <= 0.2 + 1e-9
    assert abs(e_g - e_opt) <= 0.4 + 1e-9
