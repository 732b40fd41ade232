"""Money is rounded in one place (economics.money): half-up with decimals, once per line; a
report's total is the sum of its rounded lines."""

from __future__ import annotations

from decimal import Decimal

from greenlink.economics.money import money, money_float, money_total, unit_price
from greenlink.economics.settlement import settle
from greenlink.economics.statements import contract_dict, settlement_dict, statement_dict

from .conftest import tiny_fees, tiny_flows, tiny_scenario


def test_half_up_with_decimals_not_float_bankers_rounding() -> None:
    assert money(Decimal("0.125")) == Decimal("0.13")
    assert money(Decimal("0.135")) == Decimal("0.14")
    assert money(Decimal("-0.125")) == Decimal("-0.13")  # half away from zero
    # a float is taken at its decimal repr, not at its binary value
    assert round(0.125, 2) == 0.12 and money(0.125) == Decimal("0.13")
    assert round(2.675, 2) == 2.67 and money(2.675) == Decimal("2.68")
    assert money_float(2.675) == 2.68
    assert unit_price(Decimal("0.0000125")) == Decimal("0.000013")
    assert unit_price(0.0000125) == Decimal("0.000013")


def test_total_is_the_sum_of_rounded_lines() -> None:
    # two lines of 0.125: each is 0.13, the total 0.26 (not the rounded sum 0.25)
    assert money_total([0.125, 0.125]) == 0.26
    assert money_total([Decimal("0.125"), Decimal("0.135")]) == 0.27
    assert money(Decimal("0.125") + Decimal("0.125")) == Decimal("0.25")


def test_settlement_lines_rounded_once_and_totals_add_up() -> None:
    s = settle(tiny_flows(), tiny_scenario(), "2025-01", fees=tiny_fees("0.0123456789"))
    for st in s.statements:
        for ln in st.lines:
            assert ln.unit_price == unit_price(ln.unit_price)  # stated to 6 decimals
            assert ln.amount == money(ln.amount)  # to the cent
            if not ln.allocated:
                assert ln.amount == money(ln.quantity * ln.unit_price), ln  # once, per line
        doc = statement_dict(s, st)
        assert Decimal(doc["total"]) == sum((Decimal(x["amount"]) for x in doc["lines"]),
                                            Decimal(0))
    fee = next(ln for ln in s.statement("a").lines if ln.kind == "fee")
    assert fee.unit_price == Decimal("0.012346")  # the stated price is the one billed
    park = settlement_dict(s)
    assert Decimal(park["park"]["tenants_total"]) == sum(
        (Decimal(t["total"]) for t in park["tenants"]), Decimal(0))
    doc = contract_dict(s, "wind-a")
    assert Decimal(doc["total"]) == sum((Decimal(x["amount"]) for x in doc["lines"]),
                                        Decimal(0))
