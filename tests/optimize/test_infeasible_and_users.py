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


def _two_users(method: str, target: float = 1.0) -> dict:
    extra = {"allocation": {"method": method}}
    users = [{"id": f"u{j}", "load": {"path": "x.csv", "column": f"u{j}"}} for j in range(2)]
    if method == "priority":
        users[1]["priority"] = 1
        users[0]["priority"] = 2
    extra["users"] = users
    return {"users": 2, "pv_max_kw": 10.0, "extra": extra, "optimize": {
        "rules": "none", "pv": {"capex_per_kw_dc": 0.0, "fixed_om_per_kw_year": 3 * 8760 / 2},
        "battery": {"capex_per_kwh": 0.0, "capex_per_kw": 0.0, "fixed_om_per_kw_year": 0.0,
                    "variable_om_per_kwh": 0.0, "max_energy_kwh": 10.0},
        "targets": [{"metric": "hourly_matched_share", "scope": "u1", "min": target}]}}


def test_per_user_hourly_matched_target() -> None:
    # Two users with 1 kWh each in hours 0 and 1; PV only in hour 0 (1 kWh per kWp, 3 per kWp
    # over the period, dearer than the grid at 1); a free lossless battery. User u1's hourly-
    # matched target 100 % needs its load green in both hours. Pro rata gives each user half
    # of the park's green in every interval (the method, not a choice of the optimiser), so
    # the park must be all green: hour 0 direct 2, hour 1 from the battery 2, so PV = 4 and
    # cost 3 · 4 = 12, and u0 is all green too. (This test once expected PV = 2 with u0 getting
    # no green at all: a split pro rata does not allow, so no park could dispatch it.)
    sc = scenario(**_two_users("pro_rata"))
    load = np.array([[1.0, 1.0], [1.0, 1.0]])
    r = optimize_park(park(sc, load, [1, 0]))
    assert not r.inputs.per_user  # pro rata: the park columns are exact for every user
    users = {u.id: u.model_dump() for u in r.run.summary.users}
    assert users["u1"]["hourly_matched_share"] == pytest.approx(1.0, abs=1e-6)
    assert users["u0"]["green_share_of_consumption"] == pytest.approx(1.0, abs=1e-6)
    assert r.sizes.pv_kw_dc["pv"] == pytest.approx(4.0, abs=1e-6)
    assert r.costs["total"] == pytest.approx(12.0, abs=1e-5)


def test_per_user_target_under_priority_allocation() -> None:
    # The same park with u1 served first (priority 1). Hour 0: direct green goes to u1 (1 kWh)
    # and then to u0 (1 kWh) before anything is stored, so storing 1 kWh for u1's hour 1 needs
    # a third kWh: PV = 3. Hour 1: the battery's 1 kWh goes to u1 first; u0 imports 1 kWh.
    # Cost 3 · 3 + 1 = 10; u0 is green in hour 0 only (share 0.5).
    sc = scenario(**_two_users("priority"))
    load = np.array([[1.0, 1.0], [1.0, 1.0]])
    r = optimize_park(park(sc, load, [1, 0]))
    assert r.inputs.per_user
    users = {u.id: u.model_dump() for u in r.run.summary.users}
    assert users["u1"]["hourly_matched_share"] == pytest.approx(1.0, abs=1e-6)
    assert users["u0"]["green_share_of_consumption"] == pytest.approx(0.5, abs=1e-6)
    assert r.sizes.pv_kw_dc["pv"] == pytest.approx(3.0, abs=1e-6)
    assert r.costs["total"] == pytest.approx(10.0, abs=1e-5)


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


def test_per_user_discharge_split_departing_from_the_method_is_stated() -> None:
    # Priority u1 first, but u0 has the target: the optimiser may give the battery's discharge
    # to u0 (priority would give it to u1 first); the output says so.
    sc = scenario(**_two_users("priority"))
    sc = sc.model_copy(update={"optimize": sc.optimize.model_copy(update={"targets": [
        type(sc.optimize.targets[0])(metric="hourly_matched_share", scope="u0", min=1.0)]})})
    r = optimize_park(park(sc, np.array([[1.0, 1.0], [1.0, 1.0]]), [1, 0]))
    assert r.inputs.per_user
    users = {u.id: u.model_dump() for u in r.run.summary.users}
    assert users["u0"]["hourly_matched_share"] == pytest.approx(1.0, abs=1e-6)
    departure = r.to_dict()["method"]["allocation_departure"]
    assert departure["kwh"] == pytest.approx(1.0, abs=1e-6)
    assert "'priority'" in departure["message"]
