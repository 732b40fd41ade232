"""Numbers as the reports write them: plain notation (never ``1e-12`` or ``1.2e+07``), thousands
separated by commas, years as written (``2026``, never ``2,026``).

One home for the report modules (html, optimisation, finance, risk); the summary files keep
full precision.
"""

from __future__ import annotations

import math
from typing import cast

MISSING = "–"

#: Below this magnitude a value prints as "< 0.0001" (a rounding residue, not a quantity).
SMALLEST_SHOWN = 1e-4


def is_number(value: object) -> bool:
    """True for real numbers (not booleans, not NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not (isinstance(value, float) and math.isnan(value))


def _significant(number: float, digits: int) -> str:
    """``number`` with ``digits`` significant digits in fixed notation, trailing zeros dropped
    (``0.00681``, ``3.42``, ``0.5``)."""
    places = max(0, digits - 1 - math.floor(math.log10(abs(number))))
    text = f"{number:.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_number(value: object) -> str:
    """A number for a table: plain notation, thousands separators, about three significant
    digits (``48,656,581``, ``110.0``, ``0.388``); magnitudes below 0.0001 as ``< 0.0001``."""
    if not is_number(value):
        return MISSING if value is None or isinstance(value, float) else str(value)
    number = float(cast(float, value))
    if math.isinf(number):
        return "∞" if number > 0 else "−∞"
    if isinstance(value, int) or abs(number) >= 1000:
        return f"{number:,.0f}"
    if abs(number) >= 10:
        return f"{number:,.1f}"
    if number == 0:
        return "0"
    if abs(number) < SMALLEST_SHOWN:
        return f"< {SMALLEST_SHOWN:.4f}" if number > 0 else f"> −{SMALLEST_SHOWN:.4f}"
    return _significant(number, 3)


def format_fixed(value: object, digits: int = 0) -> str:
    """A number with ``digits`` decimals and thousands separators (``12,930,000``; never
    exponent notation)."""
    if not is_number(value) or math.isinf(float(cast(float, value))):
        return MISSING
    return f"{float(cast(float, value)):,.{digits}f}"


def is_year_key(key: str) -> bool:
    """True for record keys that hold a calendar year (``year``, ``grid_factor_year`` …)."""
    k = key.lower()
    if "per_year" in k or k.endswith("_years"):
        return False  # a rate (tonnes_per_year) or a duration
    return k == "year" or k.endswith("_year") or k.startswith("year_")


def format_year(value: object) -> str:
    """A calendar year as written: ``2026`` (an integral number without separators)."""
    if is_number(value) and float(cast(float, value)).is_integer():
        return str(int(cast(float, value)))
    return MISSING if value is None else str(value)
