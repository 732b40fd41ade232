"""The implied bounds — on charge and state-of-charge columns (:func:`implied_caps`) and the
lower side of the battery power rows — change no optimum and never bind: they only give the
interior-point solver a finite box.

Oracle: the same LP without them (the columns' bounds as before: the store cap, or none; the
power rows one-sided), solved exactly (dual simplex) on random small parks in every mode.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greenlink.optimize import model
from greenlink.optimize.constraints import DISPATCH, RELAXED, SIZING
from greenlink.optimize.inputs import optimization_inputs
from greenlink.optimize.lp import INF, solve
from tests.optimize.test_realizable_property import parks
from tests.optimize.tiny import park, scenario


def _without_caps(oi: object, store_cap: np.ndarray) -> tuple[list, list, list]:
    n_b = len(oi.batteries)  # type: ignore[attr-defined]
    n_t = len(store_cap)
    return [store_cap] * n_b, [np.full(n_t, INF)] * n_b, [INF] * n_b


def _build(oi: object, mode: str) -> tuple:
    if mode == DISPATCH:
        pv = np.asarray(oi.pv_max_kw) / 2  # type: ignore[attr-defined]
        return model.build_model(oi, mode, pv_kw=pv, wind_kw=np.zeros(0))  # type: ignore[arg-type]
    return model.build_model(oi, mode)  # type: ignore[arg-type]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parks(), st.sampled_from([RELAXED, SIZING, DISPATCH]))
def test_implied_bounds_change_no_optimum_and_never_bind(case: tuple, mode: str) -> None:
    _sc, inputs, _grid = case
    oi = replace(optimization_inputs(inputs), dispatch=mode)
    lp, v = _build(oi, mode)
    sol = solve(lp, solver="simplex")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(model, "implied_caps", _without_caps)
        lp0, _ = _build(oi, mode)
    power = [rows for name, rows in lp0.row_blocks.items() if name.endswith("_power")]
    start = 0
    for block in lp0._rlo:  # the power rows one-sided again
        block_rows = np.arange(start, start + len(block))
        for rows in power:
            block[np.isin(block_rows, rows)] = -INF
        start += len(block)
    sol0 = solve(lp0, solver="simplex")
    assert sol.optimal and sol0.optimal
    assert sol.objective == pytest.approx(sol0.objective, rel=1e-9, abs=1e-7)
    upper = np.concatenate(lp._ub)
    for block in (v.charge, v.grid_charge, v.soc, v.soc_grid):
        cols = block[block >= 0]
        cols = cols[upper[cols] > 0]  # a column fixed at 0 has nothing to bind
        slack = upper[cols] - sol.x[cols]
        # a bound that binds would take a dual from the row it is implied by
        assert (slack > 1e-6 * np.maximum(upper[cols], 1.0)).all()
        # strictly between its bounds a column has no reduced cost (the bound holds no dual)
        inside = sol.x[cols] > 1e-7
        assert np.abs(sol.col_dual[cols][inside]).max(initial=0.0) < 1e-9
    start, index, value = lp.matrix()
    a = sp.csc_matrix((value, index, start), shape=(lp.n_rows, lp.n_cols))
    activity = a @ sol.x
    lower = np.concatenate(lp._rlo) if lp.n_rows else np.zeros(0)
    for name, rows in lp.row_blocks.items():
        if name.endswith("_power"):
            assert (lower[rows] < 0).all() and np.isfinite(lower[rows]).all()
            assert (activity[rows] - lower[rows] > 1e-6 * np.abs(lower[rows])).all()


def test_the_caps_by_hand() -> None:
    """20 kW / 60 kWh battery, window 0.8, PV ≤ 60 kWp: green charge per hour ≤
    min(60 × profile, 20) widened by 0.1 % and 1 Wh, grid charge ≤ 20 likewise; state ≤ 48 kWh
    widened likewise; the power row ≥ −20 widened likewise."""
    bat = [{"id": "bess", "energy_kwh": 1.0, "power_kw": 1.0, "charge_efficiency": 0.95,
            "discharge_efficiency": 0.95, "soc_min": 0.1, "soc_max": 0.9, "soc_initial": 0.1,
            "grid_charging": True}]
    sc = scenario(pv_max_kw=60.0, battery=False, optimize={
        "rules": "none", "battery": {"max_energy_kwh": 60.0, "max_power_kw": 20.0}},
        extra={"batteries": bat})
    sun = np.array([0.0, 0.1, 0.5, 0.9])
    oi = optimization_inputs(park(sc, np.full(4, 10.0), sun))
    green, grid, state = model.implied_caps(oi, np.full(4, INF))
    np.testing.assert_allclose(green[0], np.array([0.0, 6.0, 20.0, 20.0]) * 1.001 + 0.001)
    np.testing.assert_allclose(grid[0], np.full(4, 20.0 * 1.001 + 0.001))
    assert state[0] == pytest.approx(48.0 * 1.001 + 0.001)
    lp, _v = model.build_model(oi)
    (rows,) = [r for name, r in lp.row_blocks.items() if name.endswith("_power")]
    np.testing.assert_allclose(np.concatenate(lp._rlo)[rows], -(20.0 * 1.001 + 0.001))


@st.composite
def cycling_parks(draw: st.DrawFn) -> tuple:
    """A fast battery (up to 10 C) and the rule set's self-use share: charging counts as
    self-use, so the LP may charge and discharge in one interval to meet the rule — more
    charge in an interval than the battery holds."""
    n = 24 * draw(st.integers(1, 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    hours = np.arange(n) % 24
    sun = np.clip(np.sin((hours - 6) / 12 * np.pi), 0, None) * rng.uniform(0.5, 1.0, n)
    load = rng.uniform(2.0, 6.0, n)
    max_kwh = draw(st.floats(2.0, 20.0))
    spec = {"rules": "all", "pv": {"capex_per_kw_dc": 0.0, "fixed_om_per_kw_year": 0.0},
            "battery": {"capex_per_kwh": 0.01 * 8760 / n, "capex_per_kw": 0.0,
                        "fixed_om_per_kw_year": 0.0, "variable_om_per_kwh": 0.0,
                        "max_energy_kwh": max_kwh,
                        "max_power_kw": max_kwh * draw(st.floats(0.5, 10.0))},
            "penalty_per_kwh": draw(st.sampled_from([1.0, 100.0]))}
    bat = [{"id": "bess", "energy_kwh": 1.0, "power_kw": 1.0, "charge_efficiency": 0.9,
            "discharge_efficiency": 0.9, "soc_min": 0.1, "soc_max": 0.9, "soc_initial": 0.1}]
    sc = scenario(pv_max_kw=draw(st.floats(5.0, 60.0)), battery=False, export_kw=0.0,
                  optimize=spec, extra={"batteries": bat})
    return sc, park(sc, load, sun), False


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cycling_parks(), st.sampled_from([RELAXED, SIZING, DISPATCH]))
def test_implied_bounds_hold_where_the_lp_cycles_the_battery(case: tuple, mode: str) -> None:
    test_implied_bounds_change_no_optimum_and_never_bind.hypothesis.inner_test(case, mode)
