"""Property (issue 17): for any month of flows and any set of contracts, every tenant's energy
lines add up to its meters to the Wh, every contract's totals are the sums of its lines, every
amount is quantity × price rounded once in its currency and converted once, and every buyer
statement reconciles with its tenant's statement."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from greenlink.economics.fx import parse_fx_csv
from greenlink.economics.money import WH, convert, kwh, money
from greenlink.economics.settlement import settle

from .conftest import tiny_fees, tiny_scenario

FX = parse_fx_csv("date,currency,cny_per_unit\n2025-02-28,EUR,7.8765\n2025-02-28,USD,7.1234\n"
                  "2025-02-27,EUR,7.9\n", "<rates>")
HOURS = 28 * 24


def month_flows(seed: int) -> pd.DataFrame:
    """February 2025, hourly, random: loads, green ≤ load, generation."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2025-02-01", periods=HOURS, freq="60min", tz="Asia/Shanghai",
                          name="interval_start")
    frame = pd.DataFrame(index=index)
    wind = rng.uniform(0, 400, HOURS) * (rng.random(HOURS) > 0.2)
    frame["generation_kwh"] = wind
    frame["w.generation_kwh"] = wind
    grid_total = np.zeros(HOURS)
    for u in ("a", "b"):
        load = rng.uniform(0, 150, HOURS) * (rng.random(HOURS) > 0.05)
        green = load * rng.uniform(0, 1, HOURS) * (rng.random(HOURS) > 0.3)
        frame[f"{u}.load_kwh"] = load
        frame[f"{u}.green_kwh"] = green
        frame[f"{u}.grid_kwh"] = load - green
        grid_total += load - green
    frame["import_kwh"] = grid_total
    frame["export_kwh"] = 0.0
    return frame


@st.composite
def contract(draw, i: int) -> str:
    tenant = draw(st.sampled_from(["a", "b"]))
    kind = draw(st.sampled_from(["pay_as_produced", "baseload", "shaped",
                                 "contracted_capacity"]))
    if kind == "pay_as_produced":
        size = f"share = {draw(st.sampled_from([0.05, 0.1, 0.2]))}"
        seller = "w"
    elif kind == "shaped":
        size = "profile_kw = [" + ", ".join(
            str(draw(st.integers(0, 120))) for _ in range(24)) + "]"
        seller = "park"
    else:
        size = f"power_kw = {draw(st.floats(1, 150)):.3f}"
        seller = "park"
    cap = draw(st.one_of(st.none(), st.decimals(0, 60000, places=3)))
    vmin = draw(st.one_of(st.none(), st.decimals(0, 60000, places=3)))
    if cap is not None and vmin is not None and vmin > cap:
        vmin, cap = cap, vmin
    volume = f"kind = \"{kind}\", {size}"
    if cap is not None:
        volume += f", max_kwh_per_month = {cap}"
    if vmin is not None:
        volume += f", min_kwh_per_month = {vmin}"
    price = draw(st.sampled_from([
        '{ kind = "fixed", price_per_kwh = 0.0537 }',
        '{ kind = "fixed", periods = [{ start = "00:00", end = "07:30", price_per_kwh = 0.3 },'
        ' { start = "07:30", end = "24:00", price_per_kwh = 0.0451 }] }',
        '{ kind = "indexed", discount = 0.13, adder_per_kwh = 0.007 }',
        '{ kind = "collar", discount = 0.1, floor_per_kwh = 0.06, cap_per_kwh = 0.9 }']))
    currency = draw(st.sampled_from(["CNY", "EUR", "USD"]))
    structure = draw(st.sampled_from([None, None, "sleeved", "virtual", "bundled"]))
    comp = draw(st.sampled_from(['{ compensation = "none" }',
                                 '{ compensation = "grid_price_difference" }',
                                 '{ compensation = "fixed", price_per_kwh = 0.011 }']))
    start = draw(st.integers(1, 28))
    lines = [
        "[[contracts]]", 'type = "ppa"', f'id = "c{i}"', f'seller = "{seller}"',
        f"volume = {{ {volume} }}", f"price = {price}", f'currency = "{currency}"',
        f"shortfall = {comp}", f"take_or_pay_price_per_kwh = {draw(st.sampled_from([0, 0.02]))}",
        f"capacity_price_per_kw_month = {draw(st.sampled_from([0, 3.3]))}",
        f"term = {{ start = 2025-02-{start:02d}, end = 2025-12-31 }}"]
    if structure is None:
        lines.append(f'buyer = "{tenant}"')
        take = draw(st.booleans())
        lines.append(f'surplus = {{ take = {str(take).lower()}, price = "fixed", '
                     'price_per_kwh = 0.2 }')
    else:
        lines += [f'buyer = {{ id = "x{i}", country = "DE" }}', f'delivered_to = "{tenant}"',
                  f'structure = "{structure}"']
        if structure == "sleeved":
            lines.append('onward = { price = "' + draw(st.sampled_from(["contract", "fixed",
                                                                      "tariff"]))
                         + '", price_per_kwh = 0.41 }')
    return "\n".join(lines) + "\n"


@st.composite
def contract_set(draw) -> str:
    n = draw(st.integers(0, 4))
    return "".join(draw(contract(i)) for i in range(n))


def _sum(lines) -> Decimal:
    return sum((ln.quantity for ln in lines), Decimal("0.000"))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), contracts=contract_set())
def test_lines_add_up_to_meters_and_contract_totals_to_their_lines(seed, contracts):
    flows = month_flows(seed)
    sc = tiny_scenario(contracts)
    s = settle(flows, sc, "2025-02", fees=tiny_fees("0.0123"), fx=FX)
    buyer_lines = {b.contract_id: b.lines for b in s.buyer_statements}
    for stmt in s.statements:
        u = stmt.tenant
        load, green = kwh(flows[f"{u}.load_kwh"].sum()), kwh(flows[f"{u}.green_kwh"].sum())
        assert stmt.energy_kwh == stmt.meters.load_kwh == load
        assert stmt.green_lines_kwh == stmt.meters.green_kwh == green
        assert _sum(ln for ln in stmt.lines if ln.kind == "grid_import") == load - green
        assert stmt.total == sum((ln.amount_local for ln in stmt.lines), Decimal(0))
        for ln in stmt.lines:
            if not ln.allocated:
                assert ln.amount == money(ln.quantity * ln.unit_price, ln.currency), ln
            assert ln.amount_local == (ln.amount if ln.fx_rate is None
                                       else convert(ln.amount, ln.fx_rate, "CNY"))
        for t in stmt.contracts:
            mine = [ln for ln in stmt.lines if ln.contract_id == t.contract_id]
            assert t.delivered_kwh == _sum(ln for ln in mine if ln.kind == "ppa_energy")
            assert t.surplus_kwh == _sum(ln for ln in mine if ln.kind == "ppa_surplus")
            volume = buyer_lines.get(t.contract_id, mine)
            assert t.shortfall_kwh == _sum(ln for ln in volume if ln.kind == "shortfall_credit")
            assert t.undertake_kwh == _sum(ln for ln in volume if ln.kind == "under_take")
            assert t.above_cap_kwh == _sum(ln for ln in volume if ln.kind == "above_cap")
            assert t.contracted_kwh == (t.delivered_kwh + t.shortfall_kwh + t.undertake_kwh
                                        + t.above_cap_kwh)
            ppa = next(c for c in sc.contracts if c.id == t.contract_id)
            cap = ppa.volume.max_kwh_per_month
            if cap is not None and t.above_cap_kwh > 0:
                # a capped contract is billed its cap, to the Wh
                assert t.delivered_kwh == Decimal(repr(cap)).quantize(WH)
    for b in s.buyer_statements:
        assert b.reconciled, b.checks
        for ln in b.lines:
            assert ln.amount == money(ln.quantity * ln.unit_price, ln.currency), ln
