"""The optimiser bills the direct-line fees settlement bills: for a tiny park over a year, its fee
cost equals the fee lines of the 12 monthly settlements of its own optimum (to their rounding,
half a cent per line), and both equal the fees worked out by hand from the fee file's numbers."""

from __future__ import annotations

import tomllib
from collections import defaultdict
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from greenlink.economics.fees import load_fee_schedule
from greenlink.economics.settlement import settle
from greenlink.workflows.optimise import OptimizationResult, optimize_park
from tests.optimize.tiny import park, scenario

HALF_CENT = 0.005
MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]


def _year_park(fees: str, *, battery: bool) -> tuple[Any, OptimizationResult]:
    hours = np.arange(8760)
    pv = np.clip(np.sin((hours % 24 - 6) / 12 * np.pi), 0, None)
    load = np.column_stack([np.full(8760, 100.0), 40.0 + 20.0 * (hours % 24 >= 18)])
    spec: dict[str, Any] = {"rules": "none", "fees": fees}
    if battery:
        spec["battery"] = {"max_energy_kwh": 200.0, "max_power_kw": 50.0}
    sc = scenario(users=2, pv_max_kw=300.0, battery=battery, import_kw=400.0, optimize=spec)
    result = optimize_park(park(sc, load, pv))
    assert result.solution.optimal
    return sc, result


def _settled_fee_lines(flows: pd.DataFrame, sc: Any, fee_file: Path | None
                       ) -> tuple[dict[str, Decimal], dict[str, int]]:
    """Fee lines of 12 monthly settlements, summed per fee (description) and counted."""
    fees = load_fee_schedule(path=fee_file) if fee_file else None
    total: dict[str, Decimal] = defaultdict(Decimal)
    lines: dict[str, int] = defaultdict(int)
    for month in MONTHS:
        for st in settle(flows, sc, month, fees=fees).statements:
            for ln in st.lines:
                if ln.kind in ("fee", "td_capacity"):
                    key = "td_capacity" if ln.kind == "td_capacity" else ln.description
                    total[key] += ln.amount
                    lines[key] += 1
    return total, lines


def _by_hand(table: dict[str, Any], flows: pd.DataFrame, capacity_kw: float) -> dict[str, float]:
    """Fees per fee name from the TOML numbers: base energy of the months a fee is in effect ×
    its price; the capacity charge (policy price + T&D price × load rate × hours) × kW a month."""
    local = pd.DatetimeIndex(flows["interval_start"]).tz_convert("Asia/Shanghai")
    month_start = [date(t.year, t.month, 1) for t in local]
    base = {"grid_kwh": flows["import_kwh"].to_numpy(), "load_kwh": flows["load_kwh"].to_numpy(),
            "green_kwh": flows["green_to_load_kwh"].to_numpy()}
    out = {}
    for fee in table["energy_fees"]:
        on = np.array([m >= fee["effective_from"] for m in month_start])
        out[fee["name"]] = float(fee["price_per_kwh"] * base[fee["base"]][on].sum())
    td = table["td_capacity"]
    per_kw_month = (td["policy_capacity_price_per_kw_month"]
                    + td["energy_td_price_per_kwh"] * td["average_load_rate"]
                    * td["hours_per_month"])
    months_in_effect = sum(date(2026, m, 1) >= td["effective_from"] for m in range(1, 13))
    out["td_capacity"] = per_kw_month * capacity_kw * months_in_effect
    return out


def _optimiser_fees(result: OptimizationResult) -> dict[str, float]:
    names = {f"fee_{i}": n for i, n, _b, _p in result.inputs.fees.energy}
    out = {names[k]: v for k, v in result.costs.items() if k in names}
    out["td_capacity"] = result.costs["td_capacity_charge"]
    return out


def _check(result: OptimizationResult, sc: Any, table: dict[str, Any], fee_file: Path | None
           ) -> None:
    flows = result.run.flows.reset_index() if "interval_start" not in result.run.flows else \
        result.run.flows
    optimiser = _optimiser_fees(result)
    settled, lines = _settled_fee_lines(flows, sc, fee_file)
    hand = _by_hand(table, flows, sc.grid.connection_capacity_kw)
    assert set(optimiser) == set(hand) >= set(settled)
    for name, value in optimiser.items():
        assert value == pytest.approx(hand[name], rel=1e-9, abs=1e-6), name
        # each settled line is rounded half-up to the cent once: at most half a cent apart
        assert abs(value - float(settled.get(name, 0))) <= HALF_CENT * lines.get(name, 0) + 1e-6, \
            name
    assert sum(optimiser.values()) > 0


def test_shipped_schedule_fees_equal_twelve_settlements() -> None:
    sc, result = _year_park("schedule", battery=False)
    with resources.files("greenlink").joinpath("data/fees/CN-JS.toml").open("rb") as fh:
        table = tomllib.load(fh)
    _check(result, sc, table, None)
    # every fee of the file enters the objective: 2 tenants × 4 fees × 12 months + T&D
    assert len(_optimiser_fees(result)) == len(table["energy_fees"]) + 1
    assert result.solution.objective == pytest.approx(result.costs["total"], rel=1e-9)


FEE_FILE = """
province = "test"
currency = "CNY"
source = "test schedule: a green-energy fee and dates inside the year"

[td_capacity]
effective_from = 2026-04-01
policy_capacity_price_per_kw_month = 10.0
energy_td_price_per_kwh = 0.05
average_load_rate = 0.5
hours_per_month = 730
allocation = "load_kwh"

[[energy_fees]]
id = "grid_fee"
name = "Fee on grid energy"
base = "grid_kwh"
price_per_kwh = 0.0333
effective_from = 2026-07-01

[[energy_fees]]
id = "green_fee"
name = "Fee on green energy"
base = "green_kwh"
price_per_kwh = 0.0123
effective_from = 2026-01-01

[[energy_fees]]
id = "load_fee"
name = "Fee on consumption"
base = "load_kwh"
price_per_kwh = 0.0077
effective_from = 2026-10-01
"""


def test_fee_file_with_dates_in_the_year_and_a_battery(tmp_path: Path) -> None:
    fee_file = tmp_path / "fees.toml"
    fee_file.write_text(FEE_FILE, encoding="utf-8")
    sc, result = _year_park(str(fee_file), battery=True)
    assert result.run.flows["battery_discharge_kwh"].sum() > 0  # green includes the battery
    _check(result, sc, tomllib.loads(FEE_FILE), fee_file)


def test_fees_enter_the_objective() -> None:
    # 1 kWp saves 2 kWh at price 1 and costs 2.05: not worth it without fees; with the grid
    # fees of the shipped schedule (0.035/kWh in 2026) it saves 2.07 and is built
    per_period = {"capex_per_kw_dc": 0.0, "fixed_om_per_kw_year": 2.05 * 8760 / 4}
    sizes = {}
    for fees in ("none", "schedule"):
        sc = scenario(battery=False, optimize={"rules": "none", "pv": per_period, "fees": fees})
        sizes[fees] = optimize_park(park(sc, [1, 1, 1, 1], [1, 0, 1, 0])).sizes.pv_kw_dc["pv"]
    assert sizes["none"] == pytest.approx(0.0, abs=1e-6)
    assert sizes["schedule"] == pytest.approx(1.0, abs=1e-6)


def test_settling_a_month_of_the_optimum_finds_the_optimisers_cost() -> None:
    # A year of two tenants with PV, export at 0.3 (cap 50 kW) and a demand charge of
    # 20 per kW and month, the shipped fee schedule. Settle July of the optimised flows: the
    # tenants' grid energy at the tariff, their direct-line fee lines, the T&D capacity charge
    # and the demand charge, less the park's export revenue, are the optimiser's own operating
    # cost for July (monthly_costs), to the settlement's rounding (half a cent per line).
    hours = np.arange(8760)
    pv = np.clip(np.sin((hours % 24 - 6) / 12 * np.pi), 0, None)
    load = np.column_stack([np.full(8760, 100.0), 40.0 + 20.0 * (hours % 24 >= 18)])
    sc = scenario(users=2, pv_max_kw=300.0, battery=False, import_kw=400.0, export_kw=50.0,
                  export_price=0.3, parameters={"spot_market_continuous": True},
                  optimize={"rules": "none", "fees": "schedule"})
    sc = sc.model_copy(update={"tariff": sc.tariff.model_copy(
        update={"demand_charge_per_kw_month": 20.0})})
    result = optimize_park(park(sc, load, pv))
    month = "2026-07"
    settlement = settle(result.run.flows, sc, month)
    billed = Decimal("0")
    lines = 0
    for st in settlement.statements:
        for ln in st.lines:
            if ln.kind in ("grid_import", "fee", "td_capacity", "demand_charge"):
                billed += ln.amount
                lines += 1
    billed -= settlement.park.export_revenue
    lines += 1
    (row,) = [m for m in result.monthly if m["month"] == month]
    optimiser = row["total"] - row["carbon_cost"] - row["battery_variable_om"]
    assert row["demand_charge"] == pytest.approx(20.0 * row["peak_import_kw"], rel=1e-12)
    assert float(settlement.park.demand_charge) == pytest.approx(row["demand_charge"],
                                                                 abs=HALF_CENT)
    assert abs(float(billed) - optimiser) <= HALF_CENT * lines + 1e-6
    assert row["demand_charge"] > 0 and row["export_revenue"] < 0
