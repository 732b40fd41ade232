"""Done-when test of issue 7: every tenant's statement of every month of the example year
reconciles to the kWh with the meters (flows) and to the cent with the prices."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from greenlink.economics.money import kwh, money
from greenlink.economics.settlement import ENERGY_KINDS
from greenlink.economics.whatif import settle_year
from greenlink.inputs import tariff_periods

MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]


@pytest.fixture(scope="module")
def year(example_loaded, example_flows):
    return settle_year(example_flows, example_loaded.scenario, MONTHS)


def test_twelve_months_five_tenants(year, example_loaded):
    assert [s.month for s in year] == MONTHS
    assert all(len(s.statements) == len(example_loaded.scenario.users) for s in year)


def test_energy_reconciles_to_the_kwh_with_the_meters(year, example_flows):
    local = example_flows.index.tz_convert("Asia/Shanghai").strftime("%Y-%m")
    for s in year:
        rows = example_flows[local == s.month]
        for st in s.statements:
            load = kwh(rows[f"{st.tenant}.load_kwh"].sum())
            green = kwh(rows[f"{st.tenant}.green_kwh"].sum())
            assert st.meters.load_kwh == load, (s.month, st.tenant)
            assert st.energy_kwh == load, (s.month, st.tenant)
            assert st.green_lines_kwh == green == st.meters.green_kwh
            grid_lines = sum(ln.quantity for ln in st.lines if ln.kind == "grid_import")
            assert grid_lines == load - green
            # per contract: delivered + surplus on the lines = the contract's totals
            for c in st.contracts:
                on_lines = sum(ln.quantity for ln in st.lines if ln.contract_id == c.contract_id
                               and ln.energy)
                assert abs(on_lines - (c.delivered_kwh + c.surplus_kwh)) <= Decimal("0.01")


def test_amounts_reconcile_to_the_cent_with_the_prices(year):
    for s in year:
        for st in s.statements:
            for ln in st.lines:
                assert ln.amount == money(ln.amount)
                if not ln.allocated:
                    assert ln.amount == money(ln.quantity * ln.unit_price), ln
                assert ln.energy == (ln.kind in ENERGY_KINDS)
            assert st.total == sum(ln.amount for ln in st.lines)
        assert s.park.tenants_total == sum(st.total for st in s.statements)
        td = [ln.amount for st in s.statements for ln in st.lines if ln.kind == "td_capacity"]
        assert sum(td, Decimal(0)) == s.park.td_capacity_charge
        assert bool(td) == (s.month >= "2025-10")  # NDRC 1192 in force from 2025-10-01


def test_grid_import_amount_matches_interval_prices(year, example_loaded, example_flows):
    """Independent check: Σ_t grid_kWh_t × tariff_t equals the grid lines within rounding."""
    sc = example_loaded.scenario
    periods = tariff_periods(sc.tariff, example_flows.index)
    prices = np.array([sc.tariff.prices_per_kwh[p] for p in periods])
    local = example_flows.index.tz_convert(sc.site.timezone).strftime("%Y-%m")
    for s in year:
        mask = np.asarray(local == s.month)
        for st in s.statements:
            exact = float((example_flows[f"{st.tenant}.grid_kwh"].to_numpy()[mask]
                           * prices[mask]).sum())
            lines = [ln for ln in st.lines if ln.kind == "grid_import"]
            assert {float(ln.unit_price) for ln in lines} <= set(sc.tariff.prices_per_kwh.values())
            tolerance = len(lines) * (0.005 + 0.001 * max(prices)) + 1e-6
            assert abs(float(sum(ln.amount for ln in lines)) - exact) <= tolerance


def test_year_totals_match_the_flows(year, example_flows, example_loaded):
    for user in example_loaded.scenario.user_ids:
        statements = [s.statement(user) for s in year]
        assert abs(float(sum(st.meters.load_kwh for st in statements))
                   - example_flows[f"{user}.load_kwh"].sum()) < 0.001 * 12


def test_buyers_never_get_more_than_matched(year):
    assigned_any = False
    for s in year:
        for b in s.buyers:
            assert b.assigned_kwh <= b.available_kwh <= b.matched_green_kwh
            assert b.assigned_kwh + b.unassigned_kwh == b.available_kwh
            assert b.certificates * 1000 <= b.assigned_kwh
            assert sum(x.assigned_kwh for x in b.shipments) == b.assigned_kwh
            assert all(x.assigned_kwh <= x.requested_kwh for x in b.shipments)
            assigned_any |= b.assigned_kwh > 0
    assert assigned_any


def test_park_import_is_the_tenants_grid_lines_and_the_battery(year):
    """Issue 17: the park's import = Σ tenants' grid lines + grid energy into the battery −
    stored grid energy the battery gave back to tenants (January: the initial charge, 40,000 kWh
    × 0.5 × 0.95 discharge efficiency = 19,000 kWh), to the Wh; the metered column differs by
    the tenants' own rounding only."""
    for s in year:
        p = s.park
        grid = sum(ln.quantity for st in s.statements for ln in st.lines
                   if ln.kind == "grid_import")
        assert p.tenants_grid_kwh == grid
        assert p.import_kwh == grid + p.battery_grid_charge_kwh - p.battery_grey_discharge_kwh
        assert abs(p.import_rounding_kwh) <= Decimal("0.0005") * (len(s.statements) + 2)
    assert year[0].park.battery_grey_discharge_kwh == Decimal(19000)


def test_overseas_buyer_statement_every_month(year):
    """The example's EUR PPA with an overseas buyer: a buyer statement each month, converted at
    the month-end rate, reconciled with the fastener plant's statement."""
    for s in year:
        (b,) = s.buyer_statements
        assert (b.contract_id, b.currency, b.tenant) == ("ground-fasteners-eu", "EUR",
                                                         "steel_fasteners")
        assert b.reconciled, b.checks
        assert b.fx is not None and b.fx.rule == "month_end"
        assert b.volume.delivered_kwh <= Decimal(200000)  # the monthly cap
        st = s.statement("steel_fasteners")
        assert st.attributes_transferred_kwh == b.volume.delivered_kwh
        for ln in b.lines:
            if ln.currency == "EUR":
                assert ln.amount_local == money(ln.amount * b.fx.rate)
    assert any(b.volume.above_cap_kwh > 0 for s in year for b in s.buyer_statements)
