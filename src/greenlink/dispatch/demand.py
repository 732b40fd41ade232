"""Demand charges: the tariff's charge on each month's peak grid import.

``tariff.demand_charge_per_kw_month`` (per kW and month) times each calendar month's highest
import power (the interval's import ÷ its length, local months of the scenario). One function
for ``simulate``'s cost, the optimiser's objective check and settlement, so the three bill the
same number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def month_labels(index: pd.DatetimeIndex, timezone: str) -> np.ndarray:
    """``YYYY-MM`` of every interval in the scenario's local time."""
    local = index.tz_convert(timezone) if index.tz is not None else index
    return np.array([f"{y:04d}-{m:02d}" for y, m in zip(local.year, local.month, strict=True)])


def monthly_peak_kw(import_kwh: np.ndarray, interval_hours: float, months: np.ndarray
                    ) -> dict[str, float]:
    """Each month's peak import power (kW), in the order the months appear."""
    power = np.asarray(import_kwh, dtype=float) / interval_hours
    return {str(m): float(power[months == m].max(initial=0.0)) for m in dict.fromkeys(months)}


def demand_charge(import_kwh: np.ndarray, interval_hours: float, months: np.ndarray,
                  price_per_kw_month: float) -> float:
    """Σ over months of ``price × peak import`` (0 without a price)."""
    if price_per_kw_month <= 0:
        return 0.0
    return float(price_per_kw_month * sum(monthly_peak_kw(import_kwh, interval_hours,
                                                          months).values()))
