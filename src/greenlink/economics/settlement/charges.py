"""Direct-line fees (per kWh, from their effective day), the T&D capacity charge and the
demand charge."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from greenlink import flows
from greenlink.economics.fees import (
    PEAK_KW,
    CapacityCharge,
    FeeSchedule,
    capacity_charge_month,
    days_in_effect,
    in_effect_mask,
)
from greenlink.economics.money import (
    apportion_money,
    kwh,
    money,
    quantity,
    unit_price,
)
from greenlink.economics.settlement.lines import GRID_COMPANY, Line, make_line
from greenlink.economics.settlement.model import MeterTotals, Statement
from greenlink.economics.settlement.month import _Month
from greenlink.scenario.model import Scenario

# --------------------------------------------------------------------------- fees

def _fee_lines(schedule: FeeSchedule, as_of: date | None, m: _Month, meters: MeterTotals,
               load: np.ndarray, green: np.ndarray, grid: np.ndarray, u: str) -> list[Line]:
    """Per-kWh fees: on the whole month's base when in effect all month (or judged in effect
    ``as_of``), on the base of the days from the effective date when it falls in the month."""
    out = []
    totals = {flows.USER_GRID_KWH: meters.grid_kwh, flows.USER_LOAD_KWH: meters.load_kwh,
              flows.USER_GREEN_KWH: meters.green_kwh}
    series = {flows.USER_GRID_KWH: grid, flows.USER_LOAD_KWH: load,
              flows.USER_GREEN_KWH: green}
    for fee in schedule.energy_fees:
        if as_of is not None:
            days = m.days_in_month if fee.in_effect(as_of) else 0
        else:
            days = days_in_effect(fee.effective_from, m.first, m.days_in_month)
        if days == 0:
            continue
        name = fee.name
        if days == m.days_in_month:
            base = totals[fee.base]
        else:
            on = in_effect_mask(fee.effective_from, m.days)
            base = kwh(float(series[fee.base][on].sum()))
            name = f"{fee.name} (from {fee.effective_from}: {days} of {m.days_in_month} days)"
        if base == 0:
            continue
        p = unit_price(fee.price_per_kwh)  # the price stated is the price billed
        out.append(make_line("fee", name, base, p, m.local, None, m.local, period=fee.base,
                             payer=u, payee=GRID_COMPANY))
    return out


def _fee_notes(schedule: FeeSchedule, as_of: date | None, m: _Month) -> list[str]:
    notes = []
    fees: list[tuple[str, date]] = [(f.name, f.effective_from) for f in schedule.energy_fees]
    if schedule.td_capacity is not None:
        fees.append(("T&D capacity charge (NDRC 1192)", schedule.td_capacity.effective_from))
    for name, start in fees:
        if as_of is not None:
            if as_of < start:
                notes.append(f"{name}: not charged before {start} (fees judged as of {as_of})")
            continue
        days = days_in_effect(start, m.first, m.days_in_month)
        if days == 0:
            notes.append(f"{name}: not charged before {start}")
        elif days < m.days_in_month:
            notes.append(f"{name}: charged from {start}, {days} of {m.days_in_month} days of "
                         "the month")
    return notes


def _td_lines(statements: list[Statement], td: CapacityCharge, capacity_kw: float,
              days_on: int, m: _Month, grid: dict[str, float], load: dict[str, float],
              peak: dict[str, float]) -> tuple[list[Statement], Decimal, Decimal]:
    """The T&D capacity charge (pro rata to the days in effect), split among tenants."""
    monthly = capacity_charge_month(td, capacity_kw)
    total = money(monthly * Decimal(days_on) / Decimal(m.days_in_month))
    basis = {flows.USER_GRID_KWH: grid, flows.USER_LOAD_KWH: load, PEAK_KW: peak}[td.allocation]
    users = [s.tenant for s in statements]
    shares = apportion_money(total, [basis[x] for x in users])
    unit = "kW (peak)" if td.allocation == PEAK_KW else "kWh (allocation basis)"
    total_basis = sum(basis.values())
    part = "" if days_on == m.days_in_month else f", {days_on} of {m.days_in_month} days"
    out = []
    for st, share in zip(statements, shares, strict=True):
        q = quantity(basis[st.tenant])
        p = unit_price(float(total) / total_basis if total_basis > 0 else 0.0)
        ln = Line(kind="td_capacity", description="T&D capacity charge (NDRC 1192), share of "
                  f"the park's {total} {m.local}{part}", quantity=q, unit=unit, unit_price=p,
                  amount=share, period=td.allocation, allocated=True, currency=m.local,
                  amount_local=share, payer=st.tenant, payee=GRID_COMPANY)
        out.append(replace(st, lines=(*st.lines, ln)))
    return out, total, td.price_per_kw_month


# --------------------------------------------------------------------------- demand charge

def _demand_charge(rows: pd.DataFrame, scenario: Scenario, h: float
                   ) -> tuple[Decimal, float]:
    """The park's demand charge of the month: ``tariff.demand_charge_per_kw_month`` × the
    month's peak import power (the price simulate reports and the optimiser weighs)."""
    price = scenario.tariff.demand_charge_per_kw_month
    imp = rows[flows.IMPORT_KWH].to_numpy(float) / h
    peak_kw = float(imp.max(initial=0.0))
    if price <= 0 or peak_kw <= 0:
        return Decimal("0.00"), peak_kw
    return money(unit_price(price) * Decimal(repr(peak_kw))), peak_kw


def _with_demand_lines(statements: list[Statement], rows: pd.DataFrame, scenario: Scenario,
                       total: Decimal, peak_kw: float, local: str) -> list[Statement]:
    """Each tenant's share of the demand charge: its grid supply in the interval of the park's
    peak import (its part of the peak), largest remainder in cents."""
    imp = rows[flows.IMPORT_KWH].to_numpy(float)
    at = int(np.argmax(imp))
    basis = [max(float(rows[flows.user_grid(st.tenant)].to_numpy(float)[at]), 0.0)
             for st in statements]
    shares = apportion_money(total, basis if sum(basis) > 0 else [1.0] * len(basis))
    price = unit_price(scenario.tariff.demand_charge_per_kw_month)
    out = []
    for st, share, b in zip(statements, shares, basis, strict=True):
        ln = Line(kind="demand_charge", description=f"demand charge on the park's peak import "
                  f"({peak_kw:,.0f} kW at {price} per kW), share by grid supply in the peak "
                  "interval", quantity=quantity(b), unit="kWh (in the peak interval)",
                  unit_price=price, amount=share, period="month", allocated=True,
                  currency=local, amount_local=share, payer=st.tenant, payee=GRID_COMPANY)
        out.append(replace(st, lines=(*st.lines, ln)))
    return out
