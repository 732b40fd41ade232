"""Infeasible problems explain themselves; per-user targets; re-simulation reproduces the rules."""

from __future__ import annotations

import numpy as np
import pytest

from greenlink.workflows.optimise import optimize_park, resimulate
from tests.optimize.tiny import park, scenario


def test_infeasible_target_says_which_and_by_how_much() -> None:
    # No battery, PV only in hours 0 and 2: at most half of the load can be green. A 75 % target
    # must relax by 25 points.
    sc = scenario(battery=False, pv_max_kw=10.0, optimize={
        "rules": "none",
        "targets": [{"metric": "green_share_of_consumption", "scope": "park", "min": 0.75}]})
    r = optimize_park(park(sc, [1, 1, 1, 1], [1, 0, 1, 0]))
    assert not r.feasible
    (relax,) = r.relaxations
    assert relax.what == "target_park_green_share_of_consumption"
    assert relax.feasible_threshold == pytest.approx(0.5, abs=1e-6)
    assert relax.shortfall_kwh == pytest.approx(1.0, abs=1e-6)
    assert "25.00 points" in relax.message


def test_import_limit_too_low_is_explained() -> None:
    sc = scenario(battery=False, pv_max_kw=0.5, import_kw=0.5, optimize={"rules": "none"})
    r = optimize_park(park(sc, [1, 1], [0, 0]))
    assert not r.feasible
    (relax,) = r.relaxations
    assert relax.what == "grid.import_limit_kw"
    assert relax.feasible_threshold == pytest.approx(1.0, abs=1e-6)


def test_per_user_hourly_matched_target() -> None:
    # two users; PV only at hour 0. User u1's hourly-matched target 100 % forces its hour-0
    # load (1) to be green and the battery to serve its hour-1 load (1); u0 gets nothing it
    # does not pay for. PV is dearer than the grid, so the optimum gives u1 exactly its target.
    sc = scenario(users=2, pv_max_kw=10.0, optimize={
        "rules": "none", "pv": {"capex_per_kw_dc": 0.0, "fixed_om_per_kw_year": 3 * 8760 / 2},
        "battery": {"capex_per_kwh": 0.0, "capex_per_kw": 0.0, "fixed_om_per_kw_year": 0.0,
                    "variable_om_per_kwh": 0.0, "max_energy_kwh": 10.0},
        "targets": [{"metric": "hourly_matched_share", "scope": "u1", "min": 1.0}]})
    load = np.array([[1.0, 1.0], [1.0, 1.0]])
    r = optimize_park(park(sc, load, [1, 0]))
    assert r.inputs.per_user
    users = {u.id: u.model_dump() for u in r.run.summary.users}
    assert users["u1"]["hourly_matched_share"] == pytest.approx(1.0, abs=1e-6)
    assert users["u0"]["green_share_of_consumption"] == pytest.approx(0.0, abs=1e-6)
    assert r.sizes.pv_kw_dc["pv"] == pytest.approx(2.0, abs=1e-6)


def _week(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    hours = np.arange(24 * 4)
    pv = np.clip(np.sin((hours % 24 - 6) / 12 * np.pi), 0, None) * rng.uniform(0.6, 1.0,
                                                                              len(hours))
    load = np.column_stack([80 + 40 * ((hours % 24 >= 8) & (hours % 24 < 20)),
                            60 + rng.uniform(0, 10, len(hours))])
    return load, pv


def test_resimulation_reproduces_rule_compliance() -> None:
    load, pv = _week()
    sc = scenario(users=2, pv_max_kw=2000.0, export_kw=0.0, price=0.65,
                  parameters={"spot_market_continuous": False},
                  optimize={"battery": {"max_energy_kwh": 3000.0, "max_power_kw": 1000.0},
                            "targets": [{"metric": "green_share_of_consumption",
                                         "scope": "park", "min": 0.5}]})
    r = optimize_park(park(sc, load, pv))
    assert r.feasible
    imposed = {q["id"] for q in r.requirements if q["origin"] == "rule"}
    assert "green_share_of_consumption_min" in imposed
    again = resimulate(r)
    for rule_id in imposed:
        assert r.run.policy.result(rule_id).status == "pass"
        assert again.policy.result(rule_id).status == "pass", rule_id
    assert again.summary.shares.green_share_of_consumption >= 0.5 - 1e-6
