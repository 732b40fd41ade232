"""Issue 17: cross-border PPAs, currencies and FX, and terms that mean one thing.

Every expected figure is worked out by hand in the comments, independently of the code, on the
tiny hourly park of ``conftest.py`` (users a and b, wind plant w, tariff flat 0.5 / peak 1.0
CNY/kWh with peak 18:00-22:00, product P of user a at 100 kWh/t) in January 2025: 31 days,
744 hours, of which 31 × 4 = 124 peak and 620 flat.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from greenlink.economics.fees import CapacityCharge, EnergyFee, FeeSchedule
from greenlink.economics.fx import parse_fx_csv
from greenlink.economics.money import convert, money
from greenlink.economics.settlement import settle
from greenlink.errors import InputError

from .conftest import tiny_fees, tiny_flows, tiny_scenario

D = Decimal
HOURS, PEAK, FLAT = 744, 124, 620
# test rates: 1 EUR = 7.8765 CNY, 1 USD = 7.1000 CNY on 31 January 2025 (the month-end rule)
FX = parse_fx_csv("date,currency,cny_per_unit,status,source\n"
                  "2025-01-31,EUR,7.8765,published,test\n"
                  "2025-01-31,USD,7.1000,published,test\n"
                  "2025-02-05,EUR,7.9000,published,test\n", "<test rates>")
NO_FEES = tiny_fees("0")


def _line(lines, kind, period=None):
    found = [ln for ln in lines if ln.kind == kind and (period is None or ln.period == period)]
    assert len(found) == 1, (kind, period, lines)
    return found[0]


def day_night_flows() -> pd.DataFrame:
    """January with a: load 100 kWh/h (green 60, grid 40) from 00:00 to 12:00, load 50 (all of
    it green) from 12:00 to 24:00; b as in tiny_flows (load 100, green 50, grid 50)."""
    frame = tiny_flows(months=1)
    morning = frame.index.hour < 12
    frame["a.load_kwh"] = np.where(morning, 100.0, 50.0)
    frame["a.green_kwh"] = np.where(morning, 60.0, 50.0)
    frame["a.grid_kwh"] = np.where(morning, 40.0, 0.0)
    frame["import_kwh"] = frame["a.grid_kwh"] + frame["b.grid_kwh"]
    return frame


EUR_BASELOAD = """
[[contracts]]
type = "ppa"
id = "eur-a"
seller = "park"
buyer = "a"
currency = "EUR"
volume = { kind = "baseload", power_kw = 80, min_kwh_per_month = 50000 }
price = { kind = "fixed", price_per_kwh = 0.05 }
take_or_pay_price_per_kwh = 0.02
shortfall = { compensation = "grid_price_difference" }
surplus = { take = false }
term = { start = 2025-01-01, end = 2025-12-31 }
"""


def test_two_currencies_seller_shortfall_and_buyer_undertake_by_hand():
    s = settle(day_night_flows(), tiny_scenario(EUR_BASELOAD), "2025-01", fees=NO_FEES, fx=FX)
    a = s.statement("a")
    # contracted 80 kWh/h, 24 × 31 × 80 = 59,520 kWh.
    # 00-12 h: load 100, green 60 → delivered 60; the load could take 80: 20 seller shortfall.
    # 12-24 h: load 50 = green 50 → delivered 50; the load leaves 50 < 80: 30 buyer under-take.
    # delivered 31 × (12 × 60 + 12 × 50) = 40,920; shortfall 31 × 12 × 20 = 7,440;
    # under-take 31 × 12 × 30 = 11,160; 40,920 + 7,440 + 11,160 = 59,520.
    (t,) = a.contracts
    assert (t.contracted_kwh, t.delivered_kwh, t.shortfall_kwh, t.undertake_kwh,
            t.above_cap_kwh) == (D(59520), D(40920), D(7440), D(11160), D(0))
    # energy at 0.05 EUR/kWh, one price → one line "all hours": 40,920 × 0.05 = 2,046.00 EUR;
    # in CNY 2,046.00 × 7.8765 = 16,115.319 → 16,115.32
    energy = _line(a.lines, "ppa_energy")
    assert (energy.period, energy.quantity, energy.amount, energy.currency) == (
        "all hours", D(40920), D("2046.00"), "EUR")
    assert (energy.fx_rate, energy.amount_local) == (D("7.8765"), D("16115.32"))
    assert (energy.payer, energy.payee) == ("a", "park operator")
    # seller shortfall, all of it 00-12 h (flat): replacement cost = tariff in EUR − price
    # = 0.5 / 7.8765 − 0.05 = 0.0134799… → 0.013480 EUR/kWh; 7,440 × 0.013480 = 100.2912
    # → −100.29 EUR; in CNY −100.29 × 7.8765 = −789.934… → −789.93; paid by the seller
    credit = _line(a.lines, "shortfall_credit", "flat")
    assert (credit.quantity, credit.unit_price, credit.amount, credit.amount_local) == (
        D(7440), D("-0.013480"), D("-100.29"), D("-789.93"))
    assert (credit.payer, credit.payee) == ("park operator", "a")
    # the buyer's under-take is on a line too (no price: it is what take-or-pay bills)
    assert _line(a.lines, "under_take").quantity == D(11160)
    # take-or-pay on minimum − delivered − seller shortfall = 50,000 − 40,920 − 7,440 = 1,640
    # kWh (before issue 17: 50,000 − 40,920 = 9,080, billing the seller's own shortfall too);
    # 1,640 × 0.02 = 32.80 EUR → 32.80 × 7.8765 = 258.3492 → 258.35 CNY
    top = _line(a.lines, "take_or_pay")
    assert (top.quantity, top.amount, top.amount_local) == (D(1640), D("32.80"), D("258.35"))
    assert "50,000 kWh × 31/31 days = 50,000 kWh" in top.description  # plain notation
    # grid 31 × 12 × 40 = 14,880 kWh, all flat: 7,440.00 CNY
    grid = _line(a.lines, "grid_import")
    assert (grid.quantity, grid.amount, grid.currency, grid.fx_rate) == (
        D(14880), D("7440.00"), "CNY", None)
    # per currency: EUR 2,046.00 − 100.29 + 32.80 = 1,978.51; CNY 7,440.00
    assert a.totals_by_currency == {"CNY": D("7440.00"), "EUR": D("1978.51")}
    # in CNY the sum of the lines' equivalents: 16,115.32 + 7,440.00 − 789.93 + 258.35
    # = 23,023.74 (converting the EUR total instead would give 1,978.51 × 7.8765 = 15,583.734
    # → 15,583.73 + 7,440.00 = 23,023.73: each line is rounded once, the total is their sum)
    assert a.total == D("23023.74")
    assert a.energy_kwh == a.meters.load_kwh == D(31 * (1200 + 600))


def test_capped_contract_with_surplus_every_contracted_kwh_on_a_line():
    contracts = """
[[contracts]]
type = "ppa"
id = "cap-b"
seller = "park"
buyer = "b"
volume = { kind = "baseload", power_kw = 40, max_kwh_per_month = 20000 }
price = { kind = "fixed", price_per_kwh = 0.4 }
shortfall = { compensation = "none" }
surplus = { take = true, price = "fixed", price_per_kwh = 0.3 }
term = { start = 2025-01-01, end = 2025-12-31 }
"""
    s = settle(tiny_flows(), tiny_scenario(contracts), "2025-01", fees=NO_FEES)
    b = s.statement("b")
    # b receives 50 green kWh/h. 40 kWh/h go to the block until 20,000 kWh (hour 500) — the
    # cap is reached at the end of the 500th hour; from then on the block's 40 kWh/h for the
    # 244 hours left (9,760 kWh) are above the cap. Surplus: 10 kWh/h for 500 h + 50 kWh/h
    # for 244 h = 5,000 + 12,200 = 17,200 kWh at 0.3.
    (t,) = b.contracts
    assert (t.contracted_kwh, t.delivered_kwh, t.above_cap_kwh, t.surplus_kwh) == (
        D(29760), D(20000), D(9760), D(17200))
    assert sum(ln.quantity for ln in b.lines if ln.kind == "ppa_energy") == D(20000)
    above = _line(b.lines, "above_cap")
    assert (above.quantity, above.amount) == (D(9760), D("0.00"))
    assert "monthly cap of 20,000 kWh" in above.description
    assert _line(b.lines, "ppa_surplus").amount == D("5160.00")  # 17,200 × 0.3
    assert _line(b.lines, "ppa_energy").amount == D("8000.00")  # 20,000 × 0.4
    assert b.green_lines_kwh == D(50 * HOURS)


def _fees_from_the_15th() -> FeeSchedule:
    fee = EnergyFee(id="sys", name="System operation", name_zh="", base="grid_kwh",
                    price_per_kwh=D("0.01"), effective_from=date(2025, 1, 15), confidence="t")
    td = CapacityCharge(effective_from=date(2025, 1, 15),
                        policy_capacity_price_per_kw_month=D(10), energy_td_price_per_kwh=D("0.05"),
                        average_load_rate=D("0.5"), hours_per_month=D(730),
                        allocation="grid_kwh", confidence="t")
    return FeeSchedule(province="T", currency="CNY", source="t", file="<t>", td_capacity=td,
                       energy_fees=(fee,))


def test_fee_and_capacity_charge_from_the_15th_by_hand():
    s = settle(day_night_flows(), tiny_scenario(""), "2025-01", fees=_fees_from_the_15th())
    # 15-31 January: 17 of 31 days. a's grid: 12 h × 40 = 480 kWh a day → 17 × 480 = 8,160
    # kWh × 0.01 = 81.60; b's grid 24 × 50 = 1,200 a day → 20,400 kWh × 0.01 = 204.00
    # (before issue 17: nothing was charged in January although the fee applies from the 15th)
    fee_a = _line(s.statement("a").lines, "fee")
    assert (fee_a.quantity, fee_a.amount) == (D(8160), D("81.60"))
    assert "17 of 31 days" in fee_a.description
    assert _line(s.statement("b").lines, "fee").amount == D("204.00")
    # T&D capacity charge: (10 + 0.05 × 0.5 × 730) = 28.25 per kW·month × 1,000 kW = 28,250
    # a month; × 17/31 = 15,491.935… → 15,491.94. Split by grid kWh of the days in effect,
    # a 8,160 : b 20,400 in cents: 1,549,194 × 8,160/28,560 = 442,626.86 and × 20,400/28,560
    # = 1,106,567.14; floors add up to 1,549,193, the cent left goes to the larger remainder
    # (a): 4,426.27 + 11,065.67 = 15,491.94
    assert s.park.td_capacity_charge == D("15491.94")
    assert _line(s.statement("a").lines, "td_capacity").amount == D("4426.27")
    assert _line(s.statement("b").lines, "td_capacity").amount == D("11065.67")
    assert any("charged from 2025-01-15, 17 of 31 days" in n for n in s.notes)
    # planning: judged at one date for the whole month
    early = settle(day_night_flows(), tiny_scenario(""), "2025-01", fees=_fees_from_the_15th(),
                   fees_as_of=date(2025, 1, 1))
    assert not [ln for ln in early.statement("a").lines if ln.kind in ("fee", "td_capacity")]
    whole = settle(day_night_flows(), tiny_scenario(""), "2025-01", fees=_fees_from_the_15th(),
                   fees_as_of=date(2025, 1, 15))
    assert _line(whole.statement("a").lines, "fee").quantity == D(31 * 480)


def test_partial_month_contract_prorates_capacity_fee_and_minimum_in_plain_notation():
    contracts = """
[[contracts]]
type = "ppa"
id = "cap-a"
seller = "w"
buyer = "a"
volume = { kind = "contracted_capacity", power_kw = 30, min_kwh_per_month = 1000000 }
price = { kind = "indexed", discount = 0.0 }
capacity_price_per_kw_month = 2.0
take_or_pay_price_per_kwh = 0.001
term = { start = 2025-01-15, end = 2025-12-31 }
"""
    s = settle(tiny_flows(), tiny_scenario(contracts), "2025-01", fees=NO_FEES)
    a = s.statement("a")
    # 17 of 31 days: capacity 30 kW × 17/31 = 16.4516… → 16.452 kW·month × 2.0 = 32.90
    fee = _line(a.lines, "capacity_fee")
    assert (fee.quantity, fee.amount) == (D("16.452"), D("32.90"))
    assert "30 kW × 17/31 days" in fee.description
    # minimum 1,000,000 × 17/31 = 548,387.096…→ 548,387.097 kWh; delivered 30 kWh/h × 17 × 24
    # = 12,240; no seller shortfall (60 green ≥ 30): 536,147.097 kWh × 0.001 = 536.147… → 536.15
    top = _line(a.lines, "take_or_pay")
    assert (top.quantity, top.amount) == (D("536147.097"), D("536.15"))
    assert "1,000,000 kWh × 17/31 days = 548,387.097 kWh" in top.description
    assert "e+" not in top.description


SLEEVED = """
[[contracts]]
type = "ppa"
id = "eu-a"
seller = "w"
buyer = { id = "buyer-x", name = "Buyer X BV", country = "NL", registry_account = "buyer-x", \
gec_holder = "Buyer X BV" }
delivered_to = "a"
structure = "sleeved"
currency = "EUR"
volume = { kind = "pay_as_produced", share = 0.25 }
price = { kind = "fixed", price_per_kwh = 0.06 }
onward = { price = "fixed", price_per_kwh = 0.4 }
term = { start = 2025-01-01, end = 2025-12-31 }
"""


def test_sleeved_eur_ppa_with_overseas_buyer_both_statements_by_hand():
    s = settle(tiny_flows(months=1), tiny_scenario(SLEEVED), "2025-01", fees=NO_FEES, fx=FX)
    a = s.statement("a")
    # 25 % of w's 200 kWh/h = 50 kWh/h, all of it taken by a (green 60): 37,200 kWh.
    # a pays Buyer X the onward price 0.4 CNY: 37,200 × 0.4 = 14,880.00 CNY
    energy = _line(a.lines, "ppa_energy")
    assert (energy.quantity, energy.amount, energy.currency) == (D(37200), D("14880.00"), "CNY")
    assert (energy.payer, energy.payee) == ("a", "buyer-x")
    # the other 10 kWh/h are a's uncontracted green (an overseas PPA takes no surplus)
    assert sum(ln.quantity for ln in a.lines if ln.kind == "uncontracted_green") == D(7440)
    assert a.attributes_transferred_kwh == D(37200)
    assert any("belong to buyer-x" in n for n in a.notes)
    (b,) = s.buyer_statements
    assert (b.buyer_id, b.tenant, b.structure, b.currency) == ("buyer-x", "a", "sleeved", "EUR")
    # Buyer X pays plant w 37,200 × 0.06 = 2,232.00 EUR = 17,580.348 → 17,580.35 CNY, and
    # receives 14,880.00 CNY from a: net 2,700.35 CNY
    bought = _line(b.lines, "contract_energy")
    assert (bought.amount, bought.amount_local, bought.payer, bought.payee) == (
        D("2232.00"), D("17580.35"), "buyer-x", "plant w")
    onward = _line(b.lines, "onward_energy")
    assert (onward.amount, onward.payer, onward.payee) == (D("-14880.00"), "a", "buyer-x")
    assert b.totals_by_currency == {"CNY": D("-14880.00"), "EUR": D("2232.00")}
    assert b.total_local == D("2700.35")
    # attributes: certificates hour by hour 50,000 Wh × 744 = 37,200,000 Wh; GECs whole MWh:
    # 37 (200 kWh below a whole MWh)
    at = b.attributes
    assert (at.certificates_wh, at.gec, at.gec_remainder_kwh) == (37_200_000, 37, D(200))
    assert "Buyer X BV holds the right to claim these 37,200 kWh" in at.claim
    assert b.reconciled and all(c.startswith("ok: ") for c in b.checks)
    assert b.fx is not None and b.fx.fixing_dates == (date(2025, 1, 31),)
    # a's own green supply agreement may not use the 37,200 kWh whose attributes it sold
    gsa = """
[[contracts]]
type = "green_supply"
id = "gsa"
seller = "a"
buyer = { id = "eu", country = "DE" }
term = { start = 2025-01-01, end = 2025-12-31 }
shipments = [{ id = "S1", month = "2025-01", sku = "P", quantity_t = 200 }]
"""
    s2 = settle(tiny_flows(months=1), tiny_scenario(SLEEVED + gsa), "2025-01", fees=NO_FEES,
                fx=FX)
    (period,) = s2.buyers
    # pool = 60 × 744 green − 37,200 transferred = 7,440 kWh; S1 asks 200 t × 100 = 20,000
    assert period.matched_green_kwh == D(7440)
    assert period.shipments[0].assigned_kwh == D(7440)


def test_virtual_usd_ppa_difference_changes_direction_by_hand():
    contracts = """
[[contracts]]
type = "ppa"
id = "vppa-b"
seller = "w"
buyer = { id = "cloud-us", name = "Cloud US Inc", country = "US" }
delivered_to = "b"
structure = "virtual"
currency = "USD"
volume = { kind = "baseload", power_kw = 40 }
price = { kind = "fixed", price_per_kwh = 0.08 }
term = { start = 2025-01-01, end = 2025-12-31 }
"""
    s = settle(tiny_flows(months=1), tiny_scenario(contracts), "2025-01", fees=NO_FEES, fx=FX)
    b = s.statement("b")
    # b takes 40 kWh/h from w at the grid tariff, paid to the seller in CNY:
    # flat 40 × 620 = 24,800 × 0.5 = 12,400.00; peak 40 × 124 = 4,960 × 1.0 = 4,960.00
    assert _line(b.lines, "ppa_energy", "flat").amount == D("12400.00")
    assert _line(b.lines, "ppa_energy", "peak").payee == "plant w"
    (v,) = s.buyer_statements
    # difference 0.08 USD − tariff / 7.1: flat 0.08 − 0.0704225… = 0.009577 USD/kWh ×
    # 24,800 = 237.5096 → 237.51 USD, the buyer pays (1,686.321 → 1,686.32 CNY); peak 0.08 −
    # 0.1408450… = −0.060845 × 4,960 = −301.7912 → −301.79 USD, the seller pays
    # (−2,142.709 → −2,142.71 CNY)
    flat = _line(v.lines, "cfd_difference", "flat")
    peak = _line(v.lines, "cfd_difference", "peak")
    assert (flat.unit_price, flat.amount, flat.amount_local, flat.payer) == (
        D("0.009577"), D("237.51"), D("1686.32"), "cloud-us")
    assert (peak.unit_price, peak.amount, peak.amount_local, peak.payer, peak.payee) == (
        D("-0.060845"), D("-301.79"), D("-2142.71"), "plant w", "cloud-us")
    assert v.totals_by_currency == {"USD": D("-64.28")}
    assert v.reconciled


def test_bundled_ppa_assigns_attributes_to_shipments_and_consigns_the_energy():
    contracts = """
[[contracts]]
type = "ppa"
id = "bundle-a"
seller = "w"
buyer = { id = "brand", name = "Brand GmbH", country = "DE" }
delivered_to = "a"
structure = "bundled"
currency = "EUR"
volume = { kind = "pay_as_produced", share = 0.25 }
price = { kind = "fixed", price_per_kwh = 0.07 }
attributes = { per = "shipment", shipments = [
  { id = "S1", month = "2025-01", sku = "P", quantity_t = 200 },
  { id = "S2", month = "2025-01", sku = "P", quantity_t = 300 },
  { id = "S3", month = "2025-02", sku = "P", quantity_t = 10 }] }
term = { start = 2025-01-01, end = 2025-12-31 }
"""
    s = settle(tiny_flows(months=1), tiny_scenario(contracts), "2025-01", fees=NO_FEES, fx=FX)
    # the energy (37,200 kWh) is consigned: a pays nothing for it, the buyer pays the seller
    # 37,200 × 0.07 = 2,604.00 EUR
    consigned = _line(s.statement("a").lines, "ppa_energy")
    assert (consigned.quantity, consigned.amount, consigned.payee) == (D(37200), D("0.00"),
                                                                       "brand")
    (b,) = s.buyer_statements
    assert _line(b.lines, "contract_energy").amount == D("2604.00")
    # shipments of January: S1 200 t × 100 kWh/t = 20,000 kWh; S2 asks 30,000, 17,200 are left
    s1, s2 = b.attributes.shipments
    assert (s1.assigned_kwh, s2.assigned_kwh, s1.certificates, s2.certificates) == (
        D(20000), D(17200), 20, 17)
    assert b.attributes.unassigned_kwh == 0
    assert b.reconciled


def test_missing_rate_is_an_error_naming_the_date_and_rules():
    feb_only = parse_fx_csv("date,currency,cny_per_unit\n2025-02-05,EUR,7.9\n", "rates.csv")
    with pytest.raises(InputError, match=r"no EUR exchange rate for 2025-01-31 \(the last day "
                                         r"of 2025-01\)"):
        settle(day_night_flows(), tiny_scenario(EUR_BASELOAD), "2025-01", fees=NO_FEES,
               fx=feb_only)
    # month end on a holiday: 28-31 January 2025 had no central parity (Spring Festival); the
    # rule takes the last one published before, 27 January
    holiday = parse_fx_csv("date,currency,cny_per_unit\n2025-01-27,EUR,7.5\n", "rates.csv")
    rate = holiday.rate("EUR", "month_end", "2025-01")
    assert (rate.rate, rate.fixing_dates, rate.wanted) == (D("7.5"), (date(2025, 1, 27),),
                                                           date(2025, 1, 31))
    # the invoice date rule: the 5th of the following month
    assert FX.rate("EUR", "invoice_date", "2025-01").rate == D("7.9000")
    # the month average: (7.8765 + 7.9000) / 2 only over rates published in the month
    avg = parse_fx_csv("date,currency,cny_per_unit\n2025-01-02,EUR,7.5\n2025-01-31,EUR,7.6\n"
                       "2025-02-03,EUR,9\n", "r.csv").rate("EUR", "month_average", "2025-01")
    assert avg.rate == D("7.5500")
    # more than 10 days without a rate: an error, never a silently old rate
    with pytest.raises(InputError, match="2025-01-31"):
        parse_fx_csv("date,currency,cny_per_unit\n2025-01-20,EUR,7.5\n", "r.csv").rate(
            "EUR", "month_end", "2025-01")
    with pytest.raises(InputError, match="row 2"):
        parse_fx_csv("date,currency,cny_per_unit\n2025-13-01,EUR,7.5\n", "r.csv")


def test_shipped_series_states_its_sources_and_flags_placeholders():
    from greenlink.economics.fx import load_fx_series

    series = load_fx_series()
    # a published value with its source: 16 July 2025, Euro 100 = 831.57 yuan (Xinhua)
    july = series.rate("EUR", "month_average", "2025-07")
    assert D("8.3157") in {f.cny_per_unit for f in series.fixings["EUR"]
                           if f.day == date(2025, 7, 16)}
    assert july.unverified  # the month end of July is a placeholder
    end = series.rate("EUR", "month_end", "2025-07")
    assert end.unverified and "UNVERIFIED" in end.describe()
    assert all(f.source for c in series.currencies() for f in series.fixings[c])


def test_overseas_contract_checks():
    bad_tenant = SLEEVED.replace('delivered_to = "a"', 'delivered_to = "nobody"')
    with pytest.raises(InputError, match="delivered_to 'nobody' is not a user"):
        tiny_scenario(bad_tenant)
    with pytest.raises(InputError, match="needs structure"):
        tiny_scenario(SLEEVED.replace('structure = "sleeved"\n', ""))
    with pytest.raises(InputError, match=r"surplus\.take must be false"):
        tiny_scenario(SLEEVED + 'surplus = { take = true }\n')
    with pytest.raises(InputError, match="is a user's id"):
        tiny_scenario(SLEEVED.replace('id = "buyer-x"', 'id = "b"'))
    with pytest.raises(InputError, match="needs a buyer outside the park"):
        tiny_scenario(EUR_BASELOAD + 'structure = "virtual"\n')


def test_buyer_statement_files(tmp_path):
    import json

    from greenlink.economics.statements import write_settlement

    s = settle(tiny_flows(months=1), tiny_scenario(SLEEVED), "2025-01", fees=NO_FEES, fx=FX)
    write_settlement(s, tmp_path)
    folder = tmp_path / "2025-01" / "buyers"
    data = json.loads((folder / "eu-a.json").read_text())
    assert data["fx"]["cny_per_unit"] == "7.8765"
    assert data["fx"]["stated_source"] == "PBOC/CFETS central parity"
    assert data["totals_by_currency"] == {"CNY": "-14880.00", "EUR": "2232.00"}
    assert data["attributes"]["gec"] == 37
    assert data["reconciliation"]["reconciled"] is True
    html = (folder / "eu-a.html").read_text()
    assert "2,232.00 EUR" in html and "7.8765" in html and "buyer-x → plant w" in html
    assert (folder / "eu-a.pdf").read_bytes().startswith(b"%PDF")
    tenant = json.loads((tmp_path / "2025-01" / "tenants" / "a.json").read_text())
    assert tenant["attributes_transferred_kwh"] == "37200.000"


def test_park_import_equals_tenants_grid_lines():
    s = settle(day_night_flows(), tiny_scenario(EUR_BASELOAD), "2025-01", fees=NO_FEES, fx=FX)
    grid = sum(ln.quantity for st in s.statements for ln in st.lines if ln.kind == "grid_import")
    # a 14,880 + b 37,200 = 52,080 kWh; no battery charging from the grid
    assert s.park.import_kwh == s.park.tenants_grid_kwh == grid == D(52080)
    assert s.park.import_rounding_kwh == 0


def test_line_rounding_once_per_line_in_its_currency():
    assert convert(D("2046.00"), D("7.8765"), "CNY") == D("16115.32")
    assert money(D("2.5"), "JPY") == D("3") and money(D("-0.125"), "EUR") == D("-0.13")
    line_sum = convert(D("2046.00"), D("7.8765"), "CNY") + convert(D("-100.29"), D("7.8765"),
                                                                  "CNY")
    assert line_sum == D("15325.39")  # 16,115.32 − 789.93


def test_green_supply_share_is_rounded_down():
    # a claim rule: 1,000.001 kWh × 0.5 = 500.0005 → 500.000 (half-up would give 500.001)
    from greenlink.economics.buyers import assign_green

    sc = tiny_scenario("""
[[contracts]]
type = "green_supply"
id = "gsa"
seller = "a"
buyer = { id = "eu" }
max_share_of_green = 0.5
term = { start = 2025-01-01, end = 2025-12-31 }
""")
    (period,) = assign_green(sc, "2025-01", {"a": D("1000.001"), "b": D(0)})
    assert period.available_kwh == D("500.000")


def test_whatif_counts_only_the_tenants_own_obligations():
    from greenlink.economics.whatif import compare_contracts

    table = compare_contracts(day_night_flows(), {"s": tiny_scenario(EUR_BASELOAD)},
                              fees=NO_FEES, months=["2025-01"], fx=FX)
    row = table.set_index("tenant").loc["a"]
    # shortfall = the seller's 7,440 kWh, not the buyer's under-take 11,160 kWh
    assert row["shortfall_kwh"] == 7440 and row["contracted_kwh"] == 59520
    assert row["cost"] == pytest.approx(23023.74)


def test_settle_command_with_rate_file_and_overseas_buyer(tmp_path):
    from typer.testing import CliRunner

    from greenlink.cli.settle_cmd import contracts_app, settle_app

    from .conftest import TINY_TOML

    scenario = tmp_path / "park.toml"
    scenario.write_text(TINY_TOML.format(contracts=SLEEVED, currency="CNY"))
    flows = tmp_path / "flows.parquet"
    tiny_flows(months=1).reset_index().to_parquet(flows)
    rates = tmp_path / "rates.csv"
    rates.write_text("date,currency,cny_per_unit,source\n2025-01-31,EUR,7.8765,test\n")
    runner = CliRunner()
    args = [str(scenario), "--month", "2025-01", "--flows", str(flows), "--out",
            str(tmp_path / "out"), "--format", "json"]
    result = runner.invoke(settle_app, [*args, "--fx", str(rates)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "buyer-x" in result.output and "2,232.00 EUR" in result.output
    assert "1 EUR = 7.8765 CNY" in result.output
    assert (tmp_path / "out" / "2025-01" / "buyers" / "eu-a.json").is_file()
    # a rate file without the month's rate: exit 2, naming the date
    rates.write_text("date,currency,cny_per_unit\n2025-03-31,EUR,7.9\n")
    result = runner.invoke(settle_app, [*args, "--fx", str(rates)], terminal_width=200)
    assert result.exit_code == 2 and "2025-01-31" in result.output
    listed = runner.invoke(contracts_app, ["list", str(scenario)], terminal_width=200)
    assert listed.exit_code == 0 and "buyer-x (NL)" in listed.output
