"""Lifetime project finance: yearly cash flows, NPV, IRR, payback, LCOE, LCOS, debt and DSCR.

A pure calculation on yearly money lines; it knows nothing of parks or flows. The finance
workflow (:mod:`greenlink.workflows.finance`) turns a simulated or optimised park into the lines
(capex, avoided grid purchases, export revenue, direct-line fees, O&M, battery augmentation) and
calls :func:`cash_flows`.

Conventions (docs/finance.md):

* Year 0 is construction (initial capex, debt drawn); years 1…N are operating years.
* Every line gives its amounts at year-1 prices; the amount of operating year ``y`` is
  ``base[y] · (1 + e)^(y − 1)`` with ``e`` the line's nominal escalation per year. Year 0 is not
  escalated.
* Money is nominal. The discount rate is ``(1 + real rate)(1 + inflation) − 1``.
* Income tax is on EBITDA − depreciation (− interest for the equity view). A loss is carried
  forward for a number of years, or offsets other income of the owner (a negative tax).
* Capex of year ``t`` is depreciated straight-line over years ``t+1 … t+D`` (capped at N), down
  to its residual value.
* Project cash flow: unlevered and after tax (no interest deduction). Equity cash flow: after
  debt service and the tax with interest deducted. NPV of both at the same discount rate.
* LCOE, LCOS: discounted costs (before tax) over discounted energy, nominal and real (energy
  discounted at the real rate), per asset group.

Amounts are floats; nothing here rounds (money is rounded only where it is stated, by
:mod:`greenlink.economics.money`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

LineKind = Literal["revenue", "opex", "capex"]
Repayment = Literal["annuity", "equal_principal", "sculpted"]
LossTreatment = Literal["carry_forward", "offset"]


@dataclass(frozen=True)
class Line:
    """One money line over years 0…N.

    Attributes
    ----------
    name : str
        Column name in the yearly table (e.g. ``"savings"``, ``"om_fixed"``, ``"capex_pv"``).
    kind : {"revenue", "opex", "capex"}
        Revenue (positive), operating cost or capital expenditure (both entered positive).
    base : array of N+1 floats
        Amounts at year-1 prices, index = year (0 = construction).
    escalation : float
        Nominal change per year of the price behind the line (0.02 = +2 %/yr).
    groups : tuple of str
        Groups whose levelised cost counts the line (``"generation"``, ``"battery"``,
        ``"green_supply"``); empty for park-level lines. ``"all"`` counts every cost line.
    depreciation_years : int or None
        Capex only: straight-line tax life; None = expensed (not depreciated).
    """

    name: str
    kind: LineKind
    base: np.ndarray
    escalation: float = 0.0
    groups: tuple[str, ...] = ()
    depreciation_years: int | None = None


@dataclass(frozen=True)
class TaxTerms:
    rate: float = 0.25
    residual_fraction: float = 0.0
    losses: LossTreatment = "carry_forward"
    loss_carryforward_years: int = 5
    exempt_years: int = 0
    half_rate_years: int = 0

    def rate_in(self, year: int) -> float:
        """Income tax rate of operating year ``year`` (tax holiday: exempt, then half rate)."""
        if year <= self.exempt_years:
            return 0.0
        if year <= self.exempt_years + self.half_rate_years:
            return self.rate / 2.0
        return self.rate


@dataclass(frozen=True)
class DebtTerms:
    fraction: float = 0.0
    tenor_years: int = 15
    interest_rate: float = 0.035
    repayment: Repayment = "annuity"
    target_dscr: float = 1.30


@dataclass(frozen=True)
class Terms:
    """Everything of the finance case that is not a money line."""

    years: int
    real_discount_rate: float
    inflation: float
    tax: TaxTerms = field(default_factory=TaxTerms)
    debt: DebtTerms = field(default_factory=DebtTerms)

    @property
    def discount_rate(self) -> float:
        """Nominal discount rate ``(1 + r)(1 + i) − 1``."""
        return (1.0 + self.real_discount_rate) * (1.0 + self.inflation) - 1.0


@dataclass(frozen=True)
class FinanceResult:
    """The yearly table and the headline figures of a finance case."""

    table: pd.DataFrame  # one row per year 0…N
    npv_project: float
    npv_equity: float
    irr_project: float | None
    irr_equity: float | None
    payback_years: float | None
    discounted_payback_years: float | None
    lcoe: dict[str, float | None]  # per group and "all", nominal and real
    debt_amount: float
    min_dscr: float | None
    mean_dscr: float | None
    discount_rate: float
    notes: tuple[str, ...]

    def headline(self) -> dict[str, float | None]:
        return {"npv_project": self.npv_project, "npv_equity": self.npv_equity,
                "irr_project": self.irr_project, "irr_equity": self.irr_equity,
                "payback_years": self.payback_years,
                "discounted_payback_years": self.discounted_payback_years,
                "debt_amount": self.debt_amount, "min_dscr": self.min_dscr,
                "mean_dscr": self.mean_dscr, "discount_rate": self.discount_rate}


# -------------------------------------------------------------------------------- primitives
def npv(rate: float, flows: Sequence[float] | np.ndarray) -> float:
    """Net present value of flows at years 0, 1, 2, … (year 0 not discounted).

    >>> round(npv(0.1, [-100.0, 110.0]), 9)
    0.0
    """
    cf = np.asarray(flows, dtype=float)
    return float(np.sum(cf / (1.0 + rate) ** np.arange(cf.size)))


def irr(flows: Sequence[float] | np.ndarray) -> float | None:
    """Internal rate of return: the rate where :func:`npv` is 0; None if there is none in
    (−99 %, +1000 %) (no sign change, or no root).

    The root is found by bisection refined with Brent's method on ``npv(r)``; with one sign
    change of the flows (an investment, then returns) the root is unique.

    >>> round(irr([-100.0, 60.0, 60.0]), 6)
    0.130662
    """
    from scipy.optimize import brentq

    cf = np.asarray(flows, dtype=float)
    if not (cf.min() < 0 < cf.max()):
        return None
    grid = np.concatenate((np.linspace(-0.99, 0.0, 100, endpoint=False),
                           np.linspace(0.0, 1.0, 201), np.linspace(1.05, 10.0, 180)))
    values = np.array([npv(r, cf) for r in grid])
    sign = np.flatnonzero(np.sign(values[:-1]) * np.sign(values[1:]) <= 0)
    if sign.size == 0:
        return None
    # the root closest to 0 % (a conventional project has one)
    i = int(sign[np.argmin(np.abs(grid[sign]))])
    if values[i] == 0:
        return float(grid[i])
    return float(brentq(lambda r: npv(r, cf), grid[i], grid[i + 1], xtol=1e-12, maxiter=200))


def payback(flows: Sequence[float] | np.ndarray) -> float | None:
    """Years until the cumulative flow turns non-negative for good, interpolated within the
    year (flows at years 0…N, each spread evenly over its year); None if it never does."""
    cf = np.asarray(flows, dtype=float)
    cumulative = np.cumsum(cf)
    if cumulative[-1] < 0:
        return None
    negative = np.flatnonzero(cumulative < 0)
    if negative.size == 0:
        return 0.0
    last = int(negative[-1])  # cumulative turns ≥ 0 during year last+1
    return float(last + (-cumulative[last]) / cf[last + 1])


def annuity_payment(principal: float, rate: float, years: int) -> float:
    """Level yearly payment that repays ``principal`` with interest in ``years`` years."""
    if years <= 0 or principal == 0:
        return 0.0
    if rate == 0:
        return principal / years
    return principal * rate / (1.0 - (1.0 + rate) ** -years)


def escalate(base: np.ndarray, rate: float) -> np.ndarray:
    """Nominal amounts: ``base[y] · (1 + rate)^(y − 1)`` for y ≥ 1, year 0 unchanged."""
    years = np.arange(base.size)
    factor = np.where(years >= 1, (1.0 + rate) ** np.maximum(years - 1, 0), 1.0)
    return np.asarray(base, dtype=float) * factor


def straight_line(amount: float, spent_in: int, depreciation_years: int, residual: float,
                  n_years: int) -> np.ndarray:
    """Depreciation of capex spent in year ``spent_in`` over years ``spent_in+1 …``."""
    out = np.zeros(n_years + 1)
    if depreciation_years <= 0 or amount == 0:
        return out
    per_year = amount * (1.0 - residual) / depreciation_years
    first = spent_in + 1
    last = min(spent_in + depreciation_years, n_years)
    if first <= last:
        out[first:last + 1] = per_year
    return out


# -------------------------------------------------------------------------------- tax and debt
def _tax(taxable: np.ndarray, terms: TaxTerms) -> np.ndarray:
    """Tax of each year (year 0: none) with losses carried forward or offset."""
    n = taxable.size - 1
    tax = np.zeros(n + 1)
    pool: list[list[float]] = []  # [year of loss, remaining loss]
    for y in range(1, n + 1):
        income = float(taxable[y])
        rate = terms.rate_in(y)
        if terms.losses == "offset":
            tax[y] = income * rate
            continue
        pool = [p for p in pool if y - p[0] <= terms.loss_carryforward_years and p[1] > 0]
        if income < 0:
            pool.append([y, -income])
            continue
        for p in pool:  # oldest losses first
            used = min(p[1], income)
            p[1] -= used
            income -= used
        tax[y] = income * rate
    return tax


@dataclass(frozen=True)
class _Debt:
    amount: float
    interest: np.ndarray
    principal: np.ndarray

    @property
    def service(self) -> np.ndarray:
        return self.interest + self.principal


def _schedule(amount: float, terms: DebtTerms, n: int,
              service: np.ndarray | None = None) -> _Debt:
    """Interest and principal of each year for an annuity, equal-principal or given (sculpted)
    debt-service profile."""
    interest = np.zeros(n + 1)
    principal = np.zeros(n + 1)
    balance = amount
    tenor = min(terms.tenor_years, n)
    payment = annuity_payment(amount, terms.interest_rate, tenor)
    for y in range(1, tenor + 1):
        interest[y] = balance * terms.interest_rate
        if terms.repayment == "annuity":
            principal[y] = payment - interest[y]
        elif terms.repayment == "equal_principal":
            principal[y] = amount / tenor
        else:
            principal[y] = (0.0 if service is None else service[y]) - interest[y]
        if y == tenor:
            principal[y] = balance
        balance -= principal[y]
    return _Debt(amount, interest, principal)


# -------------------------------------------------------------------------------- the model
def cash_flows(lines: Sequence[Line], terms: Terms,
               energy_kwh: Mapping[str, np.ndarray] | None = None) -> FinanceResult:
    """Yearly cash flows and the headline figures of a finance case.

    Parameters
    ----------
    lines : sequence of Line
        Revenue, operating-cost and capex lines, each with N+1 amounts at year-1 prices.
    terms : Terms
        Life, discount rate, inflation, tax and debt.
    energy_kwh : mapping of asset group → array of N+1 kWh, optional
        Energy delivered per year (year 0: 0) of each group of :attr:`Line.groups` for the
        levelised costs, e.g. ``{"green_supply": green energy used + exported, "battery":
        battery discharge}``; ``"all"`` divides every cost line.

    Returns
    -------
    FinanceResult
        The yearly table (columns: one per line, ``revenue``, ``opex``, ``ebitda``, ``capex``,
        ``depreciation``, ``taxable_income_project``, ``tax_project``, ``cash_flow_project``,
        ``debt_interest``, ``debt_principal``, ``debt_service``, ``taxable_income_equity``,
        ``tax_equity``, ``cfads``, ``dscr``, ``cash_flow_equity``, cumulative and discounted
        columns) and the figures.
    """
    n = terms.years
    for line in lines:
        if line.base.shape != (n + 1,):
            raise ValueError(f"line {line.name!r} has {line.base.size} values, expected {n + 1}")
    nominal = {line.name: escalate(line.base, line.escalation) for line in lines}
    table = pd.DataFrame({"year": np.arange(n + 1)})
    for line in lines:
        table[line.name] = nominal[line.name]

    def total(kind: str) -> np.ndarray:
        parts = [nominal[x.name] for x in lines if x.kind == kind]
        return np.sum(parts, axis=0) if parts else np.zeros(n + 1)

    revenue, opex, capex = total("revenue"), total("opex"), total("capex")
    depreciation = np.zeros(n + 1)
    for line in lines:
        if line.kind == "capex" and line.depreciation_years:
            for year in np.flatnonzero(nominal[line.name]):
                depreciation += straight_line(float(nominal[line.name][year]), int(year),
                                              line.depreciation_years,
                                              terms.tax.residual_fraction, n)
        elif line.kind == "capex":  # expensed
            depreciation += np.where(np.arange(n + 1) >= 1, nominal[line.name], 0.0)
    ebitda = revenue - opex
    taxable_project = np.where(np.arange(n + 1) >= 1, ebitda - depreciation, 0.0)
    tax_project = _tax(taxable_project, terms.tax)
    cash_project = ebitda - capex - tax_project
    cash_project[0] = -capex[0] + ebitda[0]

    debt, notes = _size_debt(terms, capex[0], ebitda, capex, depreciation)
    taxable_equity = np.where(np.arange(n + 1) >= 1, ebitda - depreciation - debt.interest, 0.0)
    tax_equity = _tax(taxable_equity, terms.tax)
    cfads = ebitda - np.where(np.arange(n + 1) >= 1, capex, 0.0) - tax_equity
    cfads[0] = 0.0
    service = debt.service
    with np.errstate(divide="ignore", invalid="ignore"):
        dscr = np.where(service > 0, cfads / np.where(service > 0, service, 1.0), np.nan)
    cash_equity = cfads - service
    cash_equity[0] = -(capex[0] - debt.amount) + ebitda[0]

    rate = terms.discount_rate
    discount = (1.0 + rate) ** -np.arange(n + 1)
    table["revenue"] = revenue
    table["opex"] = opex
    table["ebitda"] = ebitda
    table["capex"] = capex
    table["depreciation"] = depreciation
    table["taxable_income_project"] = taxable_project
    table["tax_project"] = tax_project
    table["cash_flow_project"] = cash_project
    table["cumulative_project"] = np.cumsum(cash_project)
    table["discounted_project"] = cash_project * discount
    table["debt_interest"] = debt.interest
    table["debt_principal"] = debt.principal
    table["debt_service"] = service
    table["taxable_income_equity"] = taxable_equity
    table["tax_equity"] = tax_equity
    table["cfads"] = cfads
    table["dscr"] = dscr
    table["cash_flow_equity"] = cash_equity
    table["discount_factor"] = discount

    valid_dscr = dscr[np.isfinite(dscr)]
    min_dscr = float(valid_dscr.min()) if valid_dscr.size else None
    if min_dscr is not None and min_dscr < terms.debt.target_dscr - 1e-9:
        notes.append(f"minimum DSCR {min_dscr:.2f} is below the target "
                     f"{terms.debt.target_dscr:.2f}: the debt is too large for the cash flow")
    return FinanceResult(
        table=table,
        npv_project=npv(rate, cash_project), npv_equity=npv(rate, cash_equity),
        irr_project=irr(cash_project), irr_equity=irr(cash_equity),
        payback_years=payback(cash_project),
        discounted_payback_years=payback(cash_project * discount),
        lcoe=_levelised(lines, nominal, terms, energy_kwh or {}),
        debt_amount=debt.amount, min_dscr=min_dscr,
        mean_dscr=float(valid_dscr.mean()) if valid_dscr.size else None,
        discount_rate=rate, notes=tuple(notes))


def _size_debt(terms: Terms, initial_capex: float, ebitda: np.ndarray, capex: np.ndarray,
               depreciation: np.ndarray) -> tuple[_Debt, list[str]]:
    """The debt and its schedule: a fraction of the initial capex, or (sculpted) the most the
    cash flow carries at the target DSCR, capped at that fraction."""
    d = terms.debt
    n = terms.years
    notes: list[str] = []
    cap = d.fraction * initial_capex
    if cap <= 0:
        return _schedule(0.0, d, n), notes
    if d.repayment != "sculpted":
        return _schedule(cap, d, n), notes
    tenor = min(d.tenor_years, n)
    years = np.arange(n + 1)
    in_tenor = (years >= 1) & (years <= tenor)
    interest = np.zeros(n + 1)
    debt = _schedule(0.0, d, n)
    for _ in range(50):  # tax depends on interest, interest on the debt: fixed point
        taxable = np.where(years >= 1, ebitda - depreciation - interest, 0.0)
        cfads = ebitda - np.where(years >= 1, capex, 0.0) - _tax(taxable, terms.tax)
        service = np.where(in_tenor, np.maximum(cfads, 0.0) / d.target_dscr, 0.0)
        capacity = float(np.sum(service / (1.0 + d.interest_rate) ** years))
        amount = min(cap, capacity)
        if capacity > 0:
            service = service * (amount / capacity)
        debt = _schedule(amount, d, n, service)
        if np.allclose(debt.interest, interest, rtol=1e-10, atol=1e-6):
            break
        interest = debt.interest
    if debt.amount < cap - 1e-6:
        notes.append(f"sculpted at DSCR {d.target_dscr:.2f}, the cash flow carries a debt of "
                     f"{debt.amount:,.0f}, less than {d.fraction:.0%} of the capex ({cap:,.0f})")
    return debt, notes


def _levelised(lines: Sequence[Line], nominal: Mapping[str, np.ndarray], terms: Terms,
               energy_kwh: Mapping[str, np.ndarray]) -> dict[str, float | None]:
    """Discounted costs (capex + opex of the group, before tax) over discounted energy."""
    out: dict[str, float | None] = {}
    years = np.arange(terms.years + 1)
    nominal_discount = (1.0 + terms.discount_rate) ** -years
    real_discount = (1.0 + terms.real_discount_rate) ** -years
    for group, energy in energy_kwh.items():
        costs = [nominal[x.name] for x in lines if x.kind in ("opex", "capex")
                 and (group == "all" or group in x.groups)]
        if not costs:
            continue
        pv_cost = float(np.sum(np.sum(costs, axis=0) * nominal_discount))
        e = np.asarray(energy, dtype=float)
        pv_nominal, pv_real = float(np.sum(e * nominal_discount)), float(np.sum(e * real_discount))
        out[f"{group}_nominal_per_kwh"] = pv_cost / pv_nominal if pv_nominal > 0 else None
        out[f"{group}_real_per_kwh"] = pv_cost / pv_real if pv_real > 0 else None
    return out
