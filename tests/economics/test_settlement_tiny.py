"""Settlement of a tiny park whose statements are worked out by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from greenlink.economics.settlement import settle
from greenlink.errors import InputError

from .conftest import tiny_fees, tiny_flows, tiny_scenario

HOURS = 31 * 24  # January
PEAK_HOURS = 31 * 4  # 18:00-22:00
FLAT_HOURS = HOURS - PEAK_HOURS


def _line(statement, kind, period=None):
    found = [ln for ln in statement.lines if ln.kind == kind
             and (period is None or ln.period == period)]
    assert len(found) == 1, (kind, period, statement.lines)
    return found[0]


def test_pay_as_produced_share_surplus_grid_and_fee_by_hand():
    s = settle(tiny_flows(), tiny_scenario(), "2025-01", fees=tiny_fees())
    a = s.statement("a")
    # contracted 25 % of 200 kWh = 50 kWh/h, all delivered; 10 kWh/h surplus at the contract price
    delivered = _line(a, "ppa_energy")
    assert delivered.quantity == Decimal(50 * HOURS)
    assert delivered.amount == Decimal(50 * HOURS) * Decimal("0.4")
    surplus = _line(a, "ppa_surplus")
    assert surplus.quantity == Decimal(10 * HOURS)
    assert surplus.amount == Decimal(10 * HOURS) * Decimal("0.4")
    assert _line(a, "grid_import", "flat").amount == Decimal(40 * FLAT_HOURS) * Decimal("0.5")
    assert _line(a, "grid_import", "peak").amount == Decimal(40 * PEAK_HOURS) * Decimal("1.0")
    assert _line(a, "fee").amount == Decimal(40 * HOURS) * Decimal("0.01")
    expected = (Decimal(60 * HOURS) * Decimal("0.4") + Decimal(40 * FLAT_HOURS) * Decimal("0.5")
                + Decimal(40 * PEAK_HOURS) + Decimal(40 * HOURS) * Decimal("0.01"))
    assert a.total == expected
    assert a.energy_kwh == a.meters.load_kwh == Decimal(100 * HOURS)
    assert not [ln for ln in a.lines if ln.kind == "shortfall_credit"]  # compensation none


def test_baseload_indexed_price_and_shortfall_credit_by_hand():
    s = settle(tiny_flows(), tiny_scenario(), "2025-01", fees=tiny_fees())
    b = s.statement("b")
    # block 80 kWh/h, 50 green delivered, 30 short; price = tariff × 0.8
    assert _line(b, "ppa_energy", "flat").unit_price == Decimal("0.4")
    assert _line(b, "ppa_energy", "peak").amount == Decimal(50 * PEAK_HOURS) * Decimal("0.8")
    flat_credit = _line(b, "shortfall_credit", "flat")
    assert flat_credit.quantity == Decimal(30 * FLAT_HOURS)
    assert flat_credit.amount == -Decimal(30 * FLAT_HOURS) * Decimal("0.1")
    assert _line(b, "shortfall_credit", "peak").amount == -Decimal(30 * PEAK_HOURS) * Decimal(
        "0.2")
    totals = b.contracts[0]
    assert (totals.contracted_kwh, totals.delivered_kwh, totals.shortfall_kwh) == (
        Decimal(80 * HOURS), Decimal(50 * HOURS), Decimal(30 * HOURS))
    d = Decimal
    expected = (d(50 * FLAT_HOURS) * d("0.4") + d(50 * PEAK_HOURS) * d("0.8")
                - d(30 * FLAT_HOURS) * d("0.1") - d(30 * PEAK_HOURS) * d("0.2")
                + d(50 * FLAT_HOURS) * d("0.5") + d(50 * PEAK_HOURS)
                + d(50 * HOURS) * d("0.01"))
    assert b.total == expected


def test_buyer_view_assigns_shipments_never_more_than_matched():
    s = settle(tiny_flows(), tiny_scenario(), "2025-01", fees=tiny_fees())
    (period,) = s.buyers
    matched = Decimal(60 * HOURS)  # a's green energy in January: 44 640 kWh
    assert period.matched_green_kwh == matched
    s1, s2 = period.shipments
    assert s1.assigned_kwh == Decimal(200 * 100)  # asked 20 000 kWh, all of it
    assert s2.requested_kwh == Decimal(500 * 100)
    assert s2.assigned_kwh == matched - Decimal(20000)  # only what is left
    assert period.unassigned_kwh == 0
    assert (s1.certificates, s2.certificates) == (20, 24)
    # February has no shipment: the agreement's whole pool stays unassigned
    (feb,) = settle(tiny_flows(), tiny_scenario(), "2025-02", fees=tiny_fees()).buyers
    assert feb.assigned_kwh == 0
    assert feb.unassigned_kwh == feb.available_kwh == Decimal(60 * 24 * 28)


def test_fees_not_charged_before_effective_date():
    from dataclasses import replace
    from datetime import date

    fees = tiny_fees()
    late = replace(fees, energy_fees=(replace(fees.energy_fees[0],
                                              effective_from=date(2025, 2, 1)),))
    jan = settle(tiny_flows(), tiny_scenario(), "2025-01", fees=late)
    assert not [ln for ln in jan.statement("a").lines if ln.kind == "fee"]
    assert any("not charged before 2025-02-01" in n for n in jan.notes)
    feb_as_of = settle(tiny_flows(), tiny_scenario(), "2025-01", fees=late,
                       fees_as_of=date(2025, 3, 1))
    assert [ln for ln in feb_as_of.statement("a").lines if ln.kind == "fee"]


def test_capacity_charge_formula_and_split_add_up():
    from greenlink.economics.fees import capacity_charge_month, load_fee_schedule
    from greenlink.economics.money import money

    fees = load_fee_schedule("CN-JS")
    td = fees.td_capacity
    assert td is not None
    per_kw = (td.policy_capacity_price_per_kw_month
              + td.energy_td_price_per_kwh * td.average_load_rate * Decimal(730))
    assert capacity_charge_month(td, 1000.0) == per_kw * 1000
    s = settle(tiny_flows(), tiny_scenario(), "2025-01", fees=fees,
               fees_as_of=td.effective_from)
    shares = [ln.amount for st in s.statements for ln in st.lines if ln.kind == "td_capacity"]
    assert sum(shares) == s.park.td_capacity_charge == money(per_kw * 1000)
    # allocated by grid kWh: a 40, b 50 per hour
    assert abs(shares[0] / sum(shares) - Decimal(40) / Decimal(90)) < Decimal("0.0001")


def test_incomplete_and_missing_months_are_errors():
    flows = tiny_flows()
    with pytest.raises(InputError, match="no meter data for 2025-05"):
        settle(flows, tiny_scenario(), "2025-05", fees=tiny_fees())
    with pytest.raises(InputError, match="intervals have no meter data"):
        settle(flows.drop(flows.index[100]), tiny_scenario(), "2025-01", fees=tiny_fees())
    gap = flows.copy()
    gap.iloc[5, gap.columns.get_loc("a.green_kwh")] = float("nan")
    with pytest.raises(InputError, match=r"missing values in 'a\.green_kwh'"):
        settle(gap, tiny_scenario(), "2025-01", fees=tiny_fees())
    with pytest.raises(InputError, match=r"no column 'w\.generation_kwh'"):
        settle(flows.drop(columns="w.generation_kwh"), tiny_scenario(), "2025-01",
               fees=tiny_fees())
    with pytest.raises(InputError, match="is not a month"):
        settle(flows, tiny_scenario(), "2025-1", fees=tiny_fees())
    with pytest.raises(InputError, match="timezone-aware"):
        settle(flows.tz_localize(None), tiny_scenario(), "2025-01", fees=tiny_fees())


def test_fee_schedule_in_another_currency_is_an_error():
    from dataclasses import replace

    with pytest.raises(InputError, match="fee schedule is in EUR"):
        settle(tiny_flows(), tiny_scenario(), "2025-01",
               fees=replace(tiny_fees(), currency="EUR"))


def test_contracted_capacity_fee_take_or_pay_and_monthly_cap_by_hand():
    contracts = """
[[contracts]]
type = "ppa"
id = "cap-a"
seller = "w"
buyer = "a"
volume = { kind = "contracted_capacity", power_kw = 30, min_kwh_per_month = 30000 }
price = { kind = "indexed", discount = 0.0 }
capacity_price_per_kw_month = 2.0
take_or_pay_price_per_kwh = 0.1
term = { start = 2025-01-01, end = 2025-12-31 }

[[contracts]]
type = "ppa"
id = "blk-b"
seller = "park"
buyer = "b"
volume = { kind = "baseload", power_kw = 40, max_kwh_per_month = 20000 }
price = { kind = "collar", floor_per_kwh = 0.6, cap_per_kwh = 0.9 }
term = { start = 2025-01-01, end = 2025-12-31 }
shortfall = { compensation = "fixed", price_per_kwh = 0.05 }
surplus = { take = false }
"""
    s = settle(tiny_flows(), tiny_scenario(contracts), "2025-01", fees=tiny_fees("0"))
    a = s.statement("a")
    fee = _line(a, "capacity_fee")
    assert (fee.quantity, fee.unit, fee.amount) == (Decimal(30), "kW·month", Decimal("60.00"))
    top = _line(a, "take_or_pay")
    assert top.quantity == Decimal(30000 - 30 * HOURS)
    assert top.amount == Decimal(30000 - 30 * HOURS) * Decimal("0.1")
    assert not [ln for ln in a.lines if ln.kind == "shortfall_credit"]
    b = s.statement("b")
    # 40 kWh/h until 20 000 kWh are delivered (500 h), then the cap stops deliveries
    assert sum(ln.quantity for ln in b.lines if ln.kind == "ppa_energy") == Decimal(20000)
    assert {ln.unit_price for ln in b.lines if ln.kind == "ppa_energy"} == {
        Decimal("0.6"), Decimal("0.9")}  # collar: flat 0.5 → floor, peak 1.0 → cap
    # green beyond the cap is uncontracted (no surplus taker), billed at the tariff
    assert sum(ln.quantity for ln in b.lines if ln.kind == "uncontracted_green") == Decimal(
        50 * HOURS - 20000)
    assert not [ln for ln in b.lines if ln.kind == "shortfall_credit"]  # 50 green ≥ 40 block
