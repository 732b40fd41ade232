"""Realizable dispatch: hand cases where an export price above the valley price, or a battery,
tempt the plain LP into a dispatch no park can run; the realizable optimum, what the relaxed LP
reports about its departures, grid charging with its colour, several batteries, demand charges.

Every expected number is worked out by hand in the comment above it (price 1 per kWh unless
said otherwise, hourly intervals, PV given per kWp).
"""

from __future__ import annotations

import numpy as np
import pytest

from greenlink.workflows.optimise import optimize_park
from tests.optimize.tiny import park, scenario

HOURS_PER_YEAR = 8760.0


def _free_pv(n: int) -> dict:
    return {"capex_per_kw_dc": 0.0, "fixed_om_per_kw_year": 0.0}


def _battery_cost(per_kwh_over_period: float, n: int) -> dict:
    """Battery energy at ``per_kwh_over_period`` over ``n`` hours (with ``discount_rate = 0``
    and a one-year life the annuity is the capex)."""
    return {"capex_per_kwh": per_kwh_over_period * HOURS_PER_YEAR / n, "capex_per_kw": 0.0,
            "fixed_om_per_kw_year": 0.0, "variable_om_per_kwh": 0.0, "lifetime_years": 1}


LOSSLESS = {"id": "bess", "energy_kwh": 1.0, "power_kw": 1.0, "charge_efficiency": 1.0,
            "discharge_efficiency": 1.0, "soc_min": 0.0, "soc_max": 1.0, "soc_initial": 0.0}


def _simultaneous(flows) -> int:
    return int(((flows["import_kwh"] > 1e-6) & (flows["export_kwh"] > 1e-6)).sum())


def _export_temptation(dispatch: str):
    # Load 10 in hours 0 and 1; free PV up to 15 kWp giving 1 kWh/kWp in hour 0 only; import
    # 0.2 in hour 0 (valley) and 1.0 in hour 1; export 0.5 (above the valley), cap 100.
    # Realizable: hour 0 green serves the load (10), the surplus 5 is exported (+2.5); hour 1
    # imports 10 at 1.0. Cost 10 − 2.5 = 7.5.
    # Relaxed LP: hour 0 exports all 15 (+7.5) and imports the load at 0.2 (−2): cost
    # 2 + 10 − 7.5 = 4.5, importing and exporting together in hour 0.
    sc = scenario(battery=False, pv_max_kw=15.0, export_kw=100.0, export_price=0.5,
                  parameters={"spot_market_continuous": True},
                  optimize={"rules": "none", "discount_rate": 0.0, "pv": _free_pv(2),
                            "dispatch": dispatch})
    return optimize_park(park(sc, [10, 10], [1, 0], prices=np.array([0.2, 1.0])))


def test_export_above_the_valley_price_does_not_tempt_the_realizable_dispatch() -> None:
    r = _export_temptation("realizable")
    assert r.sizes.pv_kw_dc["pv"] == pytest.approx(15.0, abs=1e-6)
    assert r.costs["total"] == pytest.approx(7.5, abs=1e-6)
    flows = r.run.flows
    assert flows["green_direct_kwh"].tolist() == pytest.approx([10.0, 0.0], abs=1e-6)
    assert flows["export_kwh"].tolist() == pytest.approx([5.0, 0.0], abs=1e-6)
    assert flows["import_kwh"].tolist() == pytest.approx([0.0, 10.0], abs=1e-6)
    assert _simultaneous(flows) == 0
    assert r.lower_bound is not None and r.lower_bound <= 7.5 + 1e-6


def test_relaxed_lp_reports_its_departures_and_their_worth() -> None:
    r = _export_temptation("relaxed")
    assert r.costs["total"] == pytest.approx(4.5, abs=1e-6)
    dep = r.departures
    assert dep is not None and dep.any
    assert dep.simultaneous_intervals == 1
    assert dep.simultaneous_import_kwh == pytest.approx(10.0, abs=1e-6)
    assert dep.simultaneous_export_kwh == pytest.approx(15.0, abs=1e-6)
    assert dep.green_held_back_kwh == pytest.approx(10.0, abs=1e-6)
    method = r.to_dict()["method"]
    assert method["worth_of_departures"] == pytest.approx(7.5 - 4.5, abs=1e-6)
    assert any("same interval" in m for m in method["departures"]["messages"])


def _battery_temptation(grid_charging: bool, dispatch: str = "realizable"):
    # Load 10 in hours 0 and 1, free PV up to 10 kWp (1 kWh/kWp in hour 0), a free lossless
    # battery up to 100 kWh; import 0.2 in hour 0, 1.0 in hour 1; no export.
    sc = scenario(pv_max_kw=10.0, extra={"batteries": [{**LOSSLESS,
                                                        "grid_charging": grid_charging}]},
                  optimize={"rules": "none", "discount_rate": 0.0, "pv": _free_pv(2),
                            "dispatch": dispatch,
                            "battery": {**_battery_cost(0.0, 2), "max_energy_kwh": 100.0,
                                        "max_power_kw": 100.0}})
    return optimize_park(park(sc, [10, 10], [1, 0], prices=np.array([0.2, 1.0])))


def test_battery_never_charges_from_green_the_loads_need() -> None:
    # Realizable: the 10 kWh of hour 0 all serve the load; nothing is left over to store, so
    # hour 1 imports 10 at 1.0: cost 10 (the battery stays empty).
    # The relaxed LP stores the PV (10) and imports the load at 0.2, then discharges: cost 2,
    # "grid charging in effect" though grid_charging = false.
    real = _battery_temptation(False)
    assert real.costs["total"] == pytest.approx(10.0, abs=1e-6)
    assert float(real.run.flows["battery_charge_kwh"].sum()) == pytest.approx(0.0, abs=1e-6)
    relaxed = _battery_temptation(False, "relaxed")
    assert relaxed.costs["total"] == pytest.approx(2.0, abs=1e-6)
    assert relaxed.departures is not None
    assert relaxed.departures.charged_while_importing_kwh == pytest.approx(10.0, abs=1e-6)


def test_grid_charging_when_allowed_keeps_the_grid_colour() -> None:
    # grid_charging = true: the battery charges 10 kWh from the grid in hour 0 (the cheapest
    # period, no green left over) at 0.2 and serves hour 1: cost 2. That energy is grid energy:
    # hour 1 is not green, the green share is 10 / 20 = 50 %.
    r = _battery_temptation(True)
    assert r.costs["total"] == pytest.approx(2.0, abs=1e-6)
    flows = r.run.flows
    assert flows["battery_charge_kwh"].tolist() == pytest.approx([10.0, 0.0], abs=1e-6)
    assert flows["battery_charge_green_kwh"].tolist() == pytest.approx([0.0, 0.0], abs=1e-6)
    assert flows["battery_discharge_green_kwh"].tolist() == pytest.approx([0.0, 0.0], abs=1e-6)
    assert flows["green_to_load_kwh"].tolist() == pytest.approx([10.0, 0.0], abs=1e-6)
    assert flows["import_kwh"].tolist() == pytest.approx([10.0, 0.0], abs=1e-6)
    assert r.run.summary.shares.green_share_of_consumption == pytest.approx(0.5, abs=1e-9)


def test_several_batteries_keep_their_own_parameters() -> None:
    # Load 10 in hours 0 and 1, PV free up to 20 kWp (1 kWh/kWp in hour 0): 10 kWh left over
    # in hour 0. Battery "good" is lossless but holds at most 2 kWh; battery "lossy" (η 0.8 each
    # way) up to 100 kWh; energy costs 0.001 per kWh over the period (so the sizes are unique).
    # Each kWh of surplus in "good" saves 1 in hour 1, in "lossy" 0.64: "good" takes 2, "lossy"
    # the other 8 (stores 6.4, delivers 5.12). Hour 1 imports 10 − 2 − 5.12 = 2.88.
    # Cost 2.88 + 0.001 · (2 + 6.4) = 2.8884. (Merged into the first battery's parameters, as
    # the optimiser once did, the park would store all 10 losslessly: cost ≈ 0.)
    good = {**LOSSLESS, "id": "good"}
    lossy = {**LOSSLESS, "id": "lossy", "charge_efficiency": 0.8, "discharge_efficiency": 0.8}
    sc = scenario(pv_max_kw=20.0, extra={"batteries": [good, lossy]},
                  optimize={"rules": "none", "discount_rate": 0.0, "pv": _free_pv(2),
                            "battery": {**_battery_cost(0.001, 2), "max_energy_kwh": {
                                "good": 2.0, "lossy": 100.0}, "max_power_kw": 100.0}})
    r = optimize_park(park(sc, [10, 10], [1, 0]))
    assert r.sizes.batteries["good"]["energy_kwh"] == pytest.approx(2.0, abs=1e-6)
    assert r.sizes.batteries["lossy"]["energy_kwh"] == pytest.approx(6.4, abs=1e-6)
    assert r.costs["total"] == pytest.approx(2.8884, abs=1e-6)
    flows = r.run.flows
    assert flows["battery_discharge_kwh"].tolist() == pytest.approx([0.0, 7.12], abs=1e-6)
    assert {"good.soc_kwh", "lossy.soc_kwh"} <= set(flows.columns)


def test_two_batteries_each_at_its_own_bound() -> None:
    # The same park with both free and lossless but "a" limited to 3 kWh and "b" to 4 kWh:
    # surplus 10, both fill (3 + 4 = 7 delivered in hour 1), hour 1 imports 3: cost 3.
    a = {**LOSSLESS, "id": "a"}
    b = {**LOSSLESS, "id": "b"}
    sc = scenario(pv_max_kw=20.0, extra={"batteries": [a, b]},
                  optimize={"rules": "none", "discount_rate": 0.0, "pv": _free_pv(2),
                            "battery": {**_battery_cost(0.0, 2),
                                        "max_energy_kwh": {"a": 3.0, "b": 4.0},
                                        "max_power_kw": 100.0}})
    r = optimize_park(park(sc, [10, 10], [1, 0]))
    assert r.sizes.batteries["a"]["energy_kwh"] == pytest.approx(3.0, abs=1e-6)
    assert r.sizes.batteries["b"]["energy_kwh"] == pytest.approx(4.0, abs=1e-6)
    assert r.costs["total"] == pytest.approx(3.0, abs=1e-6)
    messages = " ".join(b["message"] for b in r.binding)
    assert "battery a energy sits at its upper bound 3 kWh" in messages
    assert "raise `optimize.battery.max_energy_kwh`" in messages


def test_demand_charge_is_shaved_by_grid_charging() -> None:
    # No PV. Load 10 then 30 (flat price 1); a lossless battery that may charge from the grid
    # (every hour is the cheapest period), energy at 1 per kWh over the period, power free; a
    # demand charge of 5 per kW and month. Shaving δ: imports 10 + δ and 30 − δ, peak
    # max(10 + δ, 30 − δ); each kWh of δ saves 5 of demand charge and costs 1: δ = 10, peak 20.
    # Cost: energy 40, demand 5 · 20 = 100, battery 10: 150 (without a battery 40 + 150 = 190).
    sc = scenario(extra={"batteries": [{**LOSSLESS, "grid_charging": True}]},
                  optimize={"rules": "none", "discount_rate": 0.0,
                            "battery": {**_battery_cost(1.0, 2), "max_energy_kwh": 100.0}})
    sc = sc.model_copy(update={"tariff": sc.tariff.model_copy(
        update={"demand_charge_per_kw_month": 5.0}), "pv": []})
    r = optimize_park(park(sc, [10, 30], np.zeros(2)))
    assert r.sizes.battery_kwh == pytest.approx(10.0, abs=1e-6)
    assert r.costs["demand_charge"] == pytest.approx(100.0, abs=1e-6)
    assert r.costs["total"] == pytest.approx(150.0, abs=1e-6)
    # simulate reports the demand charge of its own dispatch with the same price
    assert r.run.summary.cost.demand_charge == pytest.approx(100.0, abs=1e-6)


def test_what_binds_names_the_import_limit_and_its_price() -> None:
    # No PV; load 10 then 30 with an import limit of 20 kW; a free lossless battery may charge
    # from the grid (flat price 1: every hour is the cheapest): it must carry 10 kWh from hour 0
    # to hour 1. Energy cost 40. Battery energy costs 1 per kWh over the period (10); one more
    # kW of import limit would let hour 1 import one more kWh and the battery store one less:
    # it saves 1 over the modelled period.
    sc = scenario(import_kw=20.0, extra={"batteries": [{**LOSSLESS, "grid_charging": True}]},
                  optimize={"rules": "none", "discount_rate": 0.0,
                            "battery": {**_battery_cost(1.0, 2), "max_energy_kwh": 100.0}})
    sc = sc.model_copy(update={"pv": []})
    r = optimize_park(park(sc, [10, 30], np.zeros(2)))
    assert r.feasible and r.costs["total"] == pytest.approx(50.0, abs=1e-6)
    (limit,) = [b for b in r.binding if b["key"] == "grid.import_limit_kw"]
    assert limit["shadow_price"] == pytest.approx(1.0, abs=1e-6)
    assert "the import limit 20 kW binds in 1 interval:" in limit["message"]
