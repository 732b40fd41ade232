"""Tiny LPs whose optimum is worked out by hand (hourly, a few intervals, price 1/kWh)."""

from __future__ import annotations

import numpy as np
import pytest

from greenlink.optimize.costs import capital_recovery_factor
from greenlink.workflows.optimise import optimize_park
from tests.optimize.tiny import park, scenario

HOURS_PER_YEAR = 8760.0


def _free_battery() -> dict:
    return {"capex_per_kwh": 0.0, "capex_per_kw": 0.0, "fixed_om_per_kw_year": 0.0,
            "variable_om_per_kwh": 0.0}


def _pv_cost(per_kw_over_period: float, n_intervals: int) -> dict:
    """PV O&M such that one kWp costs ``per_kw_over_period`` over the modelled hours."""
    return {"capex_per_kw_dc": 0.0,
            "fixed_om_per_kw_year": per_kw_over_period * HOURS_PER_YEAR / n_intervals}


def test_crf_matches_annuity_formula() -> None:
    # 1000 at 6 % over 10 years: 135.868 per year (standard annuity table)
    assert capital_recovery_factor(0.06, 10) * 1000 == pytest.approx(135.868, abs=1e-3)
    assert capital_recovery_factor(0.0, 4) == pytest.approx(0.25)


def test_pv_sized_to_daytime_load_when_cheaper_than_grid() -> None:
    # load 1 kWh every hour, PV gives 1 kWh/kWp in hours 0 and 2; 1 kWp costs 1 over the period.
    # Each kWp up to 1 saves 2 kWh at price 1 (net −1); above 1 it only curtails. Optimum P = 1,
    # cost = 1 (PV) + 2 (imports in hours 1 and 3) = 3.
    sc = scenario(battery=False, optimize={"rules": "none", "pv": _pv_cost(1.0, 4)})
    r = optimize_park(park(sc, [1, 1, 1, 1], [1, 0, 1, 0]))
    assert r.sizes.pv_kw_dc["pv"] == pytest.approx(1.0, abs=1e-6)
    assert r.costs["total"] == pytest.approx(3.0, abs=1e-6)
    assert r.feasible


def test_no_pv_when_dearer_than_grid() -> None:
    sc = scenario(battery=False, optimize={"rules": "none", "pv": _pv_cost(2.5, 4)})
    r = optimize_park(park(sc, [1, 1, 1, 1], [1, 0, 1, 0]))
    assert r.sizes.pv_kw_dc["pv"] == pytest.approx(0.0, abs=1e-6)
    assert r.costs["total"] == pytest.approx(4.0, abs=1e-6)


def test_free_lossless_battery_shifts_surplus_to_the_night() -> None:
    # PV 2 kWh/kWp at hour 0 only, load 1 per hour over 2 hours; PV 1 per kWp per period.
    # With a free battery P = 1 serves both hours (1 direct, 1 stored): cost 1.
    sc = scenario(optimize={"rules": "none", "pv": _pv_cost(1.0, 2),
                            "battery": _free_battery()})
    r = optimize_park(park(sc, [1, 1], [2, 0]))
    assert r.sizes.pv_kw_dc["pv"] == pytest.approx(1.0, abs=1e-6)
    assert r.costs["total"] == pytest.approx(1.0, abs=1e-6)
    flows = r.run.flows
    assert flows["battery_discharge_kwh"].iloc[1] == pytest.approx(1.0, abs=1e-6)


def test_green_share_rule_binds_and_its_shadow_price() -> None:
    # PV costs 3 per kWp (dearer than the 2 kWh it saves): without rules P = 0. A park target
    # green share ≥ 0.4 needs 1.6 kWh green of 4: P = 0.8, cost 3·0.8 + 2.4 = 4.8. Each extra
    # green kWh costs 1.5 − 1 = 0.5, one point is 0.04 kWh: shadow price 0.02 per point.
    sc = scenario(battery=False, optimize={
        "rules": "none", "pv": _pv_cost(3.0, 4),
        "targets": [{"metric": "green_share_of_consumption", "scope": "park", "min": 0.4}]})
    r = optimize_park(park(sc, [1, 1, 1, 1], [1, 0, 1, 0]))
    assert r.sizes.pv_kw_dc["pv"] == pytest.approx(0.8, abs=1e-6)
    assert r.costs["total"] == pytest.approx(4.8, abs=1e-5)
    (req,) = r.requirements
    assert req["binding"]
    assert req["shadow_price_per_point"] == pytest.approx(0.02, rel=1e-5)


def test_self_use_and_export_rules_by_hand() -> None:
    # Export at 0.5, PV 0.1 per kWp per period, load 1 at hours 0..3, PV 1/kWp at hours 0, 2.
    # Self-use ≥ 0.6: 2 / (2P) ≥ 0.6 → P ≤ 5/3 (curtailment stays in the denominator). Export
    # share ≤ 0.2: x ≤ 0.4 P; beyond P = 1.25 each kWp nets 0.1 − 0.5·0.4 = −0.1, so P = 5/3 and
    # cost = 0.1·5/3 + 2 − 0.5·0.4·5/3 = 2 − 1/6.
    sc = scenario(battery=False, export_kw=10.0, export_price=0.5, optimize={
        "pv": _pv_cost(0.1, 4),
        "rules": ["self_use_share_of_generation_min", "export_share_of_generation_max"]},
        parameters={"spot_market_continuous": True})
    r = optimize_park(park(sc, [1, 1, 1, 1], [1, 0, 1, 0]))
    assert r.sizes.pv_kw_dc["pv"] == pytest.approx(5 / 3, abs=1e-5)
    assert r.costs["total"] == pytest.approx(2 - 1 / 6, abs=1e-5)
    policy = r.run.policy
    for rule in ("self_use_share_of_generation_min", "export_share_of_generation_max"):
        assert policy.result(rule).status == "pass"
    assert policy.result("self_use_share_of_generation_min").value == pytest.approx(0.6, abs=1e-6)
    assert all(q["binding"] for q in r.requirements)


def test_no_reverse_flow_rule_forbids_export() -> None:
    # Export would pay (0.5/kWh > PV cost), but without a continuous spot market 650 forbids it.
    sc = scenario(battery=False, export_kw=10.0, export_price=0.5, optimize={
        "pv": _pv_cost(0.1, 4), "rules": ["no_reverse_flow_setup", "no_reverse_flow_energy"]},
        parameters={"spot_market_continuous": False})
    r = optimize_park(park(sc, [1, 1, 1, 1], [1, 0, 1, 0]))
    assert float(r.run.flows["export_kwh"].sum()) == pytest.approx(0.0, abs=1e-9)
    assert r.sizes.pv_kw_dc["pv"] == pytest.approx(1.0, abs=1e-6)


def test_battery_efficiency_and_soc_window() -> None:
    # η_c = η_d = 0.9, SoC window 10–90 %: to discharge 1 kWh one stores 1/0.9 and charges
    # 1/0.81; usable energy 80 % of E → E = (1/0.9)/0.8. Battery energy costs 1 per kWh,
    # power is free; PV free. Grid price 10 makes storing worth it.
    bat = {"id": "bess", "energy_kwh": 1.0, "power_kw": 1.0, "charge_efficiency": 0.9,
           "discharge_efficiency": 0.9, "soc_min": 0.1, "soc_max": 0.9, "soc_initial": 0.5}
    sc = scenario(price=10.0, optimize={
        "rules": "none", "pv": _pv_cost(0.0, 2),
        "battery": {**_free_battery(), "capex_per_kwh": 2 * HOURS_PER_YEAR / 2 / 2,
                    "lifetime_years": 1}}, extra={"batteries": [bat]})
    # capex per kWh K with CRF(6 %, 1 y) = 1.06: per period cost = K·1.06·2/8760
    r = optimize_park(park(sc, [1, 1], [5, 0]))
    e = r.sizes.battery_kwh
    assert e == pytest.approx((1 / 0.9) / 0.8, rel=1e-6)
    flows = r.run.flows
    assert flows["battery_charge_kwh"].iloc[0] == pytest.approx(1 / 0.81, rel=1e-6)
    assert flows["import_kwh"].sum() == pytest.approx(0.0, abs=1e-6)


def test_rules_hold_on_the_optimised_flows_multi_interval() -> None:
    # a week, hourly: sinusoidal PV, flat load; 650 ratios as constraints must pass the checker
    hours = np.arange(24 * 7)
    pv = np.clip(np.sin((hours % 24 - 6) / 12 * np.pi), 0, None)
    load = np.full(len(hours), 100.0)
    sc = scenario(pv_max_kw=1000.0, export_kw=50.0, export_price=0.39, price=0.65,
                  parameters={"spot_market_continuous": True},
                  optimize={"battery": {"max_energy_kwh": 2000.0, "max_power_kw": 500.0}})
    r = optimize_park(park(sc, load, pv))
    ratio_rules = {q["id"] for q in r.requirements}
    assert {"self_use_share_of_generation_min", "green_share_of_consumption_min",
            "export_share_of_generation_max"} <= ratio_rules
    for rule_id in ratio_rules:
        assert r.run.policy.result(rule_id).status == "pass", rule_id
    balance = (r.run.flows["generation_kwh"] + r.run.flows["battery_discharge_kwh"]
               + r.run.flows["import_kwh"] - r.run.flows["load_kwh"]
               - r.run.flows["battery_charge_kwh"] - r.run.flows["export_kwh"]
               - r.run.flows["curtailed_kwh"])
    assert np.abs(balance).max() < 1e-6


def test_self_use_rule_with_a_soc_floor_holds_on_the_flows() -> None:
    # The flows of the optimum carry the green energy above the floor (the floor σ_min E is the
    # initial charge: grid energy), and the KPI starts the year with no green stored: the LP's
    # self-use row must count it as the checker does. Export pays almost the grid price, so the
    # 650 self-use rule (≥ 60 %) binds and the checker must read exactly the threshold the LP
    # imposed.
    bat = {"id": "bess", "energy_kwh": 1.0, "power_kw": 1.0, "charge_efficiency": 0.9,
           "discharge_efficiency": 0.9, "soc_min": 0.2, "soc_max": 1.0, "soc_initial": 0.5}
    hours = np.arange(48)
    pv = np.clip(np.sin((hours % 24 - 6) / 12 * np.pi), 0, None)
    sc = scenario(pv_max_kw=500.0, export_kw=100.0, export_price=0.9,
                  parameters={"spot_market_continuous": True}, extra={"batteries": [bat]},
                  optimize={"rules": ["self_use_share_of_generation_min"],
                            "pv": _pv_cost(0.1, len(hours)),
                            "battery": {**_free_battery(), "max_energy_kwh": 100.0,
                                        "max_power_kw": 100.0}})
    r = optimize_park(park(sc, np.full(len(hours), 10.0), pv))
    (req,) = r.requirements
    assert req["binding"]
    assert r.sizes.battery_kwh > 0
    result = r.run.policy.result("self_use_share_of_generation_min")
    assert result.status == "pass"
    assert result.value == pytest.approx(0.6, abs=1e-6)
    # the floor (0.2 of the battery) is stored energy but never green
    flows = r.run.flows
    floor = 0.2 * r.sizes.battery_kwh
    assert (flows["battery_soc_kwh"] - flows["battery_soc_green_kwh"] >= floor - 1e-6).all()
