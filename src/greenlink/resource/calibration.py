"""Calibration of a weather year to monthly GHI means (a station's or the scenario's)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from greenlink.errors import InputError, Problem


def monthly_ghi_sums_kwh_m2(data: pd.DataFrame) -> np.ndarray:
    """Monthly GHI sums [kWh/m²] (Jan … Dec) of an hourly weather table (W/m² hour means)."""
    months = pd.DatetimeIndex(data.index).month
    sums = data["ghi"].groupby(np.asarray(months)).sum() / 1000.0
    return np.array([float(sums.get(m, 0.0)) for m in range(1, 13)])


def calibrate_to_monthly_ghi(df: pd.DataFrame,
                             monthly_ghi_kwh_m2: Sequence[float]) -> pd.DataFrame:
    """Scale irradiance month by month so that monthly GHI matches reference values.

    ``ghi``, ``dni`` and ``dhi`` of every hour in month *m* are multiplied by
    ``monthly_ghi_kwh_m2[m] / file_ghi[m]``, where ``file_ghi`` is the monthly sum of the hourly
    GHI [kWh/m²]; other columns are unchanged. The diffuse fraction is kept (a simplification,
    research note §5.3).

    Parameters
    ----------
    df : pandas.DataFrame
        Hourly weather table with ``ghi``, ``dni``, ``dhi`` [W/m²].
    monthly_ghi_kwh_m2 : sequence of 12 float
        Reference monthly GHI [kWh/m²], January to December.

    Returns
    -------
    pandas.DataFrame
        A scaled copy of ``df``.

    Raises
    ------
    InputError
        If there are not 12 non-negative values or a month of the table has no GHI.
    """
    target = np.asarray(list(monthly_ghi_kwh_m2), dtype=float)
    if target.shape != (12,) or not np.all(np.isfinite(target)) or np.any(target < 0):
        raise InputError(Problem(f"monthly GHI must be 12 values ≥ 0, got {list(target)}",
                                 location="weather.monthly_ghi_kwh_m2",
                                 expected="12 monthly GHI sums in kWh/m², January to December"))
    actual = monthly_ghi_sums_kwh_m2(df)
    if np.any(actual <= 0):
        month = int(np.flatnonzero(actual <= 0)[0]) + 1
        raise InputError(Problem(f"the weather data have no GHI in month {month}",
                                 location="weather.ghi", expected="GHI in every month"))
    factor = target / actual
    months = np.asarray(pd.DatetimeIndex(df.index).month)
    per_row = factor[months - 1]
    out = df.copy()
    for column in ("ghi", "dni", "dhi"):
        out[column] = out[column].to_numpy(dtype=float) * per_row
    return out
