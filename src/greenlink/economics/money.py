"""Rounding rules for statements: energy to the Wh, money to the cent, splits that add up.

This is the one module that rounds money (settlement lines, unit prices, CBAM costs in EUR, …):
everything else calls these functions. Rounding is decimal half-up (``0.125 → 0.13``), never
Python's float ``round`` (banker's rounding on the binary value: ``round(0.125, 2) == 0.12``,
``round(2.675, 2) == 2.67``). A float is taken at its shortest decimal ``repr`` first.

* Energy quantities are stated in kWh with 3 decimals (1 Wh). Quantities that must add up to a
  metered total are apportioned with the largest-remainder method, so that they do exactly.
* Unit prices are stated with 6 decimals.
* Every line amount is ``quantity × unit price`` rounded half-up to the cent (``ROUND_HALF_UP``);
  totals are sums of rounded lines.
* A park-level amount split among tenants is apportioned in cents with the largest-remainder
  method, so that the tenants' shares add up to the park amount exactly.
* Amounts held as floats (CBAM costs in EUR) are rounded the same way per line
  (:func:`money_float`); a total is the sum of its rounded lines (:func:`money_total`).
* Every amount is in a currency and is rounded to that currency's minor unit (ISO 4217: CNY,
  EUR, USD to the cent, JPY and KRW to the unit; :data:`MINOR_UNITS`). An amount converted into
  another currency is the **rounded** amount × the exchange rate, rounded once more, half-up, in
  the target currency (:func:`convert`): a line is rounded once in its own currency, and its
  equivalent once in the settlement currency.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
WH = Decimal("0.001")
PRICE_STEP = Decimal("0.000001")
ROUNDING_RULE = ("energy in kWh to 3 decimals (largest remainder so that lines add up to the "
                 "meter); unit prices to 6 decimals; each line amount = quantity × unit price "
                 "rounded half-up to the cent of the line's currency; a line in another "
                 "currency is converted as (rounded amount) × FX rate, rounded half-up once in "
                 "the settlement currency; totals are sums of lines; park-level charges are "
                 "split among tenants in cents by largest remainder")

#: Decimal places of the minor unit of a currency (ISO 4217); 2 for any currency not listed.
MINOR_UNITS: dict[str, int] = {"CNY": 2, "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "HKD": 2,
                               "SGD": 2, "AUD": 2, "CAD": 2, "SEK": 2, "NOK": 2, "DKK": 2,
                               "PLN": 2, "JPY": 0, "KRW": 0, "HUF": 2}


def _decimal(value: Decimal | float) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(repr(float(value)))


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of a currency: ``0.01`` for CNY/EUR/USD, ``1`` for JPY."""
    return Decimal(1).scaleb(-MINOR_UNITS.get(currency, 2))


def money(value: Decimal | float, currency: str | None = None) -> Decimal:
    """Round half-up to the cent (a float at its ``repr``: ``money(2.675) == Decimal("2.68")``),
    or to the minor unit of ``currency`` (``money(2.5, "JPY") == Decimal("3")``)."""
    step = CENT if currency is None else minor_unit(currency)
    return _decimal(value).quantize(step, rounding=ROUND_HALF_UP)


def convert(amount: Decimal, rate: Decimal, currency: str) -> Decimal:
    """An amount (already rounded in its own currency) × an exchange rate [target per unit],
    rounded half-up once to the minor unit of the target ``currency``."""
    return money(amount * rate, currency)


def money_float(value: float) -> float:
    """:func:`money` for amounts held as floats (NaN stays NaN): the float of the cent value."""
    number = float(value)
    return number if math.isnan(number) else float(money(number))


def money_total(values: Iterable[Decimal | float]) -> float:
    """Sum of the lines, each rounded to the cent first, added exactly (as decimals)."""
    return float(sum((money(v) for v in values if not (isinstance(v, float) and math.isnan(v))),
                     Decimal("0.00")))


def kwh(value: float) -> Decimal:
    """A float energy [kWh] rounded half-up to the Wh."""
    return Decimal(repr(float(value))).quantize(WH, rounding=ROUND_HALF_UP)


def unit_price(value: Decimal | float) -> Decimal:
    """A price rounded half-up to 6 decimals."""
    return _decimal(value).quantize(PRICE_STEP, rounding=ROUND_HALF_UP)


def _largest_remainder(weights: Sequence[float], total_units: int) -> list[int]:
    """Integer parts proportional to ``weights`` that add up to ``total_units`` exactly."""
    w = [max(float(x), 0.0) for x in weights]
    s = sum(w)
    if not w:
        if total_units:
            raise ValueError("cannot split a non-zero total among no parts")
        return []
    if s <= 0:
        w = [1.0] * len(w)
        s = float(len(w))
    exact = [x / s * total_units for x in w]
    base = [math.floor(x) for x in exact]
    rest = total_units - sum(base)
    order = sorted(range(len(w)), key=lambda i: (-(exact[i] - base[i]), i))
    for i in range(rest):
        base[order[i % len(order)]] += 1
    return base


def apportion_kwh(values_kwh: Sequence[float], total_kwh: Decimal) -> list[Decimal]:
    """Round energies to the Wh so that they add up to ``total_kwh`` exactly.

    The parts are the values' Wh floors plus one Wh for the largest remainders (values are
    expected to add up to ``total_kwh`` within float error; the total wins).
    """
    units = int((total_kwh / WH).to_integral_value())
    if units == 0:
        return [Decimal("0.000") for _ in values_kwh]
    return [Decimal(u) * WH for u in _largest_remainder(values_kwh, units)]


def apportion_money(amount: Decimal, weights: Sequence[float]) -> list[Decimal]:
    """Split ``amount`` (in cents) proportionally to ``weights`` so the parts add up exactly."""
    cents = int((money(amount) / CENT).to_integral_value())
    sign = -1 if cents < 0 else 1
    return [Decimal(sign * c) * CENT for c in _largest_remainder(weights, abs(cents))]


def quantity(value: Decimal | float) -> Decimal:
    """A billed quantity that is not energy (kW·month, an allocation basis) to 3 decimals,
    half-up, as stated on a statement line."""
    return _decimal(value).quantize(WH, rounding=ROUND_HALF_UP)
