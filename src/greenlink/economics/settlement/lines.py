"""Statement lines: kinds, parties, one line's arithmetic, grouping energy by price."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Literal

import numpy as np
import pandas as pd

from greenlink.economics.fx import FxRate
from greenlink.economics.money import (
    apportion_kwh,
    convert,
    money,
    unit_price,
)
from greenlink.scenario.contracts import (
    PPA,
    FixedPrice,
)

LineKind = Literal["ppa_energy", "ppa_surplus", "uncontracted_green", "grid_import",
                   "shortfall_credit", "under_take", "above_cap", "take_or_pay",
                   "capacity_fee", "battery_service", "fee", "td_capacity", "contract_energy",
                   "cfd_difference", "onward_energy", "demand_charge"]
ENERGY_KINDS = frozenset({"ppa_energy", "ppa_surplus", "uncontracted_green", "grid_import"})
#: Lines that state contracted volume not delivered (with or without a price).
VOLUME_KINDS = frozenset({"shortfall_credit", "under_take", "above_cap"})
GRID_COMPANY = "grid company"
PARK_OPERATOR = "park operator"
ZERO_KWH = Decimal("0.000")


def party_of_seller(seller: str) -> str:
    """The seller as a party: ``park operator`` or ``plant <id>``."""
    return PARK_OPERATOR if seller == "park" else f"plant {seller}"


@dataclass(frozen=True)
class Line:
    """One line of a statement.

    ``energy`` lines are metered energy (they add up to the tenant's consumption); the others are
    charges, credits or volume on a basis (kWh, kW·month) that is already counted. ``allocated``
    lines carry a tenant's share of a park-level amount (largest remainder in cents), so their
    amount is not quantity × unit price but adds up over tenants to the park amount.

    ``amount`` is in ``currency``, signed from the statement holder's view (positive: the holder
    pays; negative: it receives); ``payer`` pays ``payee`` (for a credit: the seller pays the
    buyer). ``fx_rate`` is the settlement currency per unit of ``currency`` (``None``: the line
    is in the settlement currency) and ``amount_local`` the amount in the settlement currency.
    """

    kind: LineKind
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal
    contract_id: str | None = None
    period: str = ""
    energy: bool = False
    allocated: bool = False
    currency: str = "CNY"
    fx_rate: Decimal | None = None
    amount_local: Decimal = Decimal("0.00")
    payer: str = ""
    payee: str = ""


def make_line(kind: LineKind, description: str, q: Decimal, price: Decimal, currency: str,
              fx: FxRate | None, local: str, *, unit: str = "kWh",
              contract_id: str | None = None, period: str = "", energy: bool = False,
              payer: str = "", payee: str = "") -> Line:
    """A line: amount = q × price rounded once in ``currency``; its local equivalent converted
    once (:func:`greenlink.economics.money.convert`)."""
    if price == 0:
        price = abs(price)  # no negative zero on a statement
    amount = money(q * price, currency)
    rate = fx.rate if fx is not None and currency != local else None
    local_amount = convert(amount, rate, local) if rate is not None else amount
    return Line(kind=kind, description=description, quantity=q, unit=unit, unit_price=price,
                amount=amount, contract_id=contract_id, period=period, energy=energy,
                currency=currency, fx_rate=rate, amount_local=local_amount, payer=payer,
                payee=payee)


def _neg(value: Decimal) -> Decimal:
    """``-value`` without a negative zero (``0 - 0.00 == 0.00``)."""
    return Decimal(0) - value


def mirrored(line: Line) -> Line:
    """The same line from the other party's view (amount negated, payer and payee kept)."""
    return replace(line, unit_price=_neg(line.unit_price), amount=_neg(line.amount),
                   amount_local=_neg(line.amount_local), energy=False)


def totals_by_currency(lines: Iterable[Line]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for ln in lines:
        out[ln.currency] = out.get(ln.currency, money(0, ln.currency)) + ln.amount
    return dict(sorted(out.items()))



# --------------------------------------------------------------------------- line building

def plain(value: Decimal | float | int) -> str:
    """A number in plain notation with thousands separators: ``1,000,000``, ``16,451.613``."""
    d = value if isinstance(value, Decimal) else Decimal(repr(value))
    if d == d.to_integral_value():
        return f"{int(d):,}"
    return f"{d.normalize():,f}"


def _price_labels(ppa: PPA, periods: np.ndarray, index: pd.DatetimeIndex) -> np.ndarray:
    """Lines follow the price's own structure: one fixed price → ``all hours``; time-of-day
    prices → the contract's periods; a price that follows the tariff → the TOU periods."""
    price = ppa.price
    if isinstance(price, FixedPrice):
        if price.periods is None:
            return np.full(len(index), "all hours", dtype=object)
        minutes = (index.hour * 60 + index.minute).to_numpy()
        out = np.full(len(index), "", dtype=object)
        for p in price.periods:
            s, e = p.minutes()
            out[(minutes >= s) & (minutes < e)] = f"{p.start}–{p.end}"
        return out
    return periods


Group = tuple[str, float, float]  # (label, unit price, energy kWh)


def _groups(energy: np.ndarray, price: np.ndarray, label: np.ndarray) -> list[Group]:
    """(label, price, energy) per distinct (label, unit price: money.unit_price), energy > 0."""
    distinct, where = np.unique(np.asarray(price, dtype=float), return_inverse=True)
    stated = np.array([float(unit_price(p)) for p in distinct])[where.reshape(-1)]
    frame = pd.DataFrame({"label": label, "price": stated, "e": energy})
    frame = frame[frame["e"] > 1e-12]
    if frame.empty:
        return []
    grouped = frame.groupby(["label", "price"], sort=True)["e"].sum()
    return [(str(key[0]), float(key[1]), float(e))  # type: ignore[index]
            for key, e in grouped.items()]


@dataclass(frozen=True)
class _Item:
    """Lines of one kind under one contract: groups by (label, unit price) and their money."""

    kind: LineKind
    description: str
    contract_id: str | None
    groups: list[Group]
    currency: str
    fx: FxRate | None
    payer: str
    payee: str
    sign: int = 1


def _lines(items: Sequence[_Item], total: Decimal, local: str, *, energy: bool) -> list[Line]:
    """Lines of ``items`` whose quantities add up to ``total`` exactly: the total is apportioned
    among the items first (largest remainder), then each item's share among its groups, so that
    an item's lines add up to its own exact energy rounded (a capped contract's lines to its
    cap)."""
    items = [it for it in items if it.groups]
    if not items:
        if total != 0:
            raise ValueError("energy to state but no line to state it on")
        return []
    shares = apportion_kwh([sum(g[2] for g in it.groups) for it in items], total)
    out: list[Line] = []
    for it, share in zip(items, shares, strict=True):
        for (label, price, _e), q in zip(it.groups, apportion_kwh([g[2] for g in it.groups],
                                                                  share), strict=True):
            if q == 0 and not energy:
                continue
            out.append(make_line(it.kind, it.description, q, unit_price(it.sign * price),
                                 it.currency, it.fx, local, contract_id=it.contract_id,
                                 period=label, energy=energy, payer=it.payer, payee=it.payee))
    return [ln for ln in out if ln.quantity != 0]


def _sum_q(lines: Iterable[Line]) -> Decimal:
    return sum((ln.quantity for ln in lines), Decimal("0.000"))
