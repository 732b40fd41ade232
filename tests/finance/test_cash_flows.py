"""Hand-computed cash-flow cases for :mod:`greenlink.economics.finance`.

Every expected number is worked out in the comments from the case's inputs, not copied from the
code's output.
"""

from __future__ import annotations

import numpy as np
import pytest

from greenlink.economics.finance import (
    DebtTerms,
    Line,
    TaxTerms,
    Terms,
    annuity_payment,
    cash_flows,
    irr,
    npv,
    payback,
)


def _line(name: str, kind: str, values: list[float], **kw: object) -> Line:
    return Line(name=name, kind=kind, base=np.array(values, dtype=float), **kw)  # type: ignore[arg-type]


def test_two_years_no_tax_no_debt() -> None:
    # capex 1000 in year 0; revenue 600 at year-1 prices escalating 10 %/yr -> 600, 660;
    # O&M 100/yr flat. No tax, no debt, real rate 5 %, no inflation -> discount rate 5 %.
    lines = [
        _line("capex_pv", "capex", [1000, 0, 0], groups=("generation",), depreciation_years=2),
        _line("savings", "revenue", [0, 600, 600], escalation=0.10),
        _line("om", "opex", [0, 100, 100], groups=("generation",)),
    ]
    terms = Terms(years=2, real_discount_rate=0.05, inflation=0.0, tax=TaxTerms(rate=0.0))
    energy = {"generation": np.array([0.0, 1000.0, 1000.0])}
    r = cash_flows(lines, terms, energy)
    t = r.table
    # year 2 revenue: 600 * 1.1 = 660
    np.testing.assert_allclose(t["revenue"], [0, 600, 660])
    # project cash flow: -1000; 600 - 100 = 500; 660 - 100 = 560
    np.testing.assert_allclose(t["cash_flow_project"], [-1000, 500, 560])
    # no debt: equity = project
    np.testing.assert_allclose(t["cash_flow_equity"], [-1000, 500, 560])
    # NPV = -1000 + 500/1.05 + 560/1.05^2 = -1000 + 476.190476 + 507.936508 = -15.873016
    assert r.npv_project == pytest.approx(-15.873016, abs=1e-6)
    # IRR: with x = 1/(1+r): 560 x^2 + 500 x - 1000 = 0
    #   x = (-500 + sqrt(500^2 + 4*560*1000)) / (2*560) = (-500 + 1577.973384) / 1120
    #     = 0.962476236 -> r = 1/x - 1 = 0.038986
    assert r.irr_project == pytest.approx(0.038986, abs=1e-6)
    # payback: cumulative -1000, -500, +60 -> 1 + 500/560 = 1.892857 years
    assert r.payback_years == pytest.approx(1.892857, abs=1e-6)
    # discounted payback: discounted cumulative ends at -15.87 < 0 -> never
    assert r.discounted_payback_years is None
    # LCOE = (1000 + 100/1.05 + 100/1.05^2) / (1000/1.05 + 1000/1.05^2)
    #      = (1000 + 95.238095 + 90.702948) / (952.380952 + 907.029478)
    #      = 1185.941043 / 1859.410431 = 0.637805
    assert r.lcoe["generation_nominal_per_kwh"] == pytest.approx(0.637805, abs=1e-6)
    assert r.debt_amount == 0 and r.min_dscr is None


def test_two_years_with_tax_and_debt() -> None:
    # capex 1000 (tax life 2 years, no residual); revenue 800/yr; O&M 100/yr; tax 25 %;
    # debt 50 % of capex = 500 over 2 years at 10 %, level payments; discount rate 8 %.
    lines = [
        _line("capex_pv", "capex", [1000, 0, 0], groups=("generation",), depreciation_years=2),
        _line("savings", "revenue", [0, 800, 800]),
        _line("om", "opex", [0, 100, 100], groups=("generation",)),
    ]
    terms = Terms(years=2, real_discount_rate=0.08, inflation=0.0,
                  tax=TaxTerms(rate=0.25),
                  debt=DebtTerms(fraction=0.5, tenor_years=2, interest_rate=0.10,
                                 repayment="annuity", target_dscr=1.3))
    r = cash_flows(lines, terms)
    t = r.table
    # depreciation 1000/2 = 500 per year
    np.testing.assert_allclose(t["depreciation"], [0, 500, 500])
    # project: EBITDA 700, taxable 700 - 500 = 200, tax 50, cash flow 650
    np.testing.assert_allclose(t["tax_project"], [0, 50, 50])
    np.testing.assert_allclose(t["cash_flow_project"], [-1000, 650, 650])
    # annuity: 500 * 0.1 / (1 - 1.1^-2) = 50 / 0.173554 = 288.095238
    assert annuity_payment(500, 0.10, 2) == pytest.approx(288.095238, abs=1e-6)
    # year 1: interest 50, principal 238.095238; balance 261.904762
    # year 2: interest 26.190476, principal 261.904762
    np.testing.assert_allclose(t["debt_interest"], [0, 50, 26.190476], atol=1e-6)
    np.testing.assert_allclose(t["debt_principal"], [0, 238.095238, 261.904762], atol=1e-6)
    # equity tax: y1 (700 - 500 - 50) * 0.25 = 37.5; y2 (700 - 500 - 26.190476) * 0.25 = 43.452381
    np.testing.assert_allclose(t["tax_equity"], [0, 37.5, 43.452381], atol=1e-6)
    # CFADS = 700 - tax: 662.5, 656.547619; DSCR = CFADS / 288.095238 = 2.299587, 2.278926
    np.testing.assert_allclose(t["cfads"], [0, 662.5, 656.547619], atol=1e-6)
    assert r.min_dscr == pytest.approx(2.278926, abs=1e-6)
    # equity: -(1000 - 500) = -500; 662.5 - 288.095238 = 374.404762; 656.547619 - 288.095238
    #   = 368.452381
    np.testing.assert_allclose(t["cash_flow_equity"], [-500, 374.404762, 368.452381], atol=1e-6)
    # NPV project = -1000 + 650/1.08 + 650/1.1664 = -1000 + 601.851852 + 557.270233 = 159.122085
    assert r.npv_project == pytest.approx(159.122085, abs=1e-6)
    # NPV equity = -500 + 374.404762/1.08 + 368.452381/1.1664
    #            = -500 + 346.671076 + 315.888530 = 162.559606
    assert r.npv_equity == pytest.approx(162.559606, abs=1e-5)
    # project IRR: 650 x^2 + 650 x - 1000 = 0, x = (-650 + sqrt(650^2 + 4*650*1000)) / 1300
    #   = (-650 + sqrt(3022500)) / 1300 = (-650 + 1738.533866) / 1300 = 0.837334 -> r = 0.194267
    assert r.irr_project == pytest.approx(0.194267, abs=1e-6)


def test_losses_carried_forward_or_offset() -> None:
    # revenue 300 then 900; depreciation 500/yr; tax 25 %.
    # carry forward: y1 taxable -200 (no tax, loss kept), y2 400 - 200 = 200 -> tax 50
    # offset: y1 -200 * 0.25 = -50 (a tax benefit), y2 400 * 0.25 = 100
    lines = [_line("capex", "capex", [1000, 0, 0], depreciation_years=2),
             _line("revenue", "revenue", [0, 300, 900])]
    carry = cash_flows(lines, Terms(years=2, real_discount_rate=0.0, inflation=0.0,
                                    tax=TaxTerms(rate=0.25, losses="carry_forward")))
    np.testing.assert_allclose(carry.table["tax_project"], [0, 0, 50])
    offset = cash_flows(lines, Terms(years=2, real_discount_rate=0.0, inflation=0.0,
                                     tax=TaxTerms(rate=0.25, losses="offset")))
    np.testing.assert_allclose(offset.table["tax_project"], [0, -50, 100])


def test_loss_expires_and_tax_holiday() -> None:
    # a loss of 100 in year 1 may be used for 1 year only: year 3's profit pays full tax.
    lines = [_line("revenue", "revenue", [0, -100, 0, 100])]
    r = cash_flows(lines, Terms(years=3, real_discount_rate=0.0, inflation=0.0,
                                tax=TaxTerms(rate=0.2, loss_carryforward_years=1)))
    np.testing.assert_allclose(r.table["tax_project"], [0, 0, 0, 20])
    # holiday: year 1 exempt, year 2 half rate (10 %), year 3 full (20 %) on 100/yr
    lines = [_line("revenue", "revenue", [0, 100, 100, 100])]
    r = cash_flows(lines, Terms(years=3, real_discount_rate=0.0, inflation=0.0,
                                tax=TaxTerms(rate=0.2, exempt_years=1, half_rate_years=1)))
    np.testing.assert_allclose(r.table["tax_project"], [0, 0, 10, 20])


def test_sculpted_debt_meets_target_dscr() -> None:
    lines = [_line("capex", "capex", [1000] + [0] * 10, depreciation_years=10),
             _line("revenue", "revenue", [0] + [200] * 10, escalation=0.02)]
    terms = Terms(years=10, real_discount_rate=0.05, inflation=0.0, tax=TaxTerms(rate=0.25),
                  debt=DebtTerms(fraction=0.9, tenor_years=8, interest_rate=0.05,
                                 repayment="sculpted", target_dscr=1.4))
    r = cash_flows(lines, terms)
    dscr = r.table["dscr"].to_numpy()[1:9]
    np.testing.assert_allclose(dscr, 1.4, rtol=1e-6)
    assert 0 < r.debt_amount < 900  # the cash flow carries less than 90 % of the capex
    assert r.table["debt_principal"].sum() == pytest.approx(r.debt_amount)
    assert any("sculpted" in n for n in r.notes)


def test_primitives() -> None:
    # -100 now, +110 in a year at 10 %: NPV 0, IRR 10 %
    assert npv(0.10, [-100, 110]) == pytest.approx(0.0, abs=1e-12)
    assert irr([-100, 110]) == pytest.approx(0.10, abs=1e-10)
    assert irr([100, 110]) is None  # no investment, no rate
    # cumulative -100, -40, +20: payback 1 + 40/60
    assert payback([-100, 60, 60]) == pytest.approx(1 + 40 / 60)
    assert payback([-100, 10, 10]) is None
