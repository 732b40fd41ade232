"""Air temperature of a synthetic year: monthly means (given, or rough ones from latitude and
altitude) with a diurnal sine."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

DIURNAL_TEMP_RANGE_K = 8.0
"""Peak-to-peak daily air-temperature swing of the diurnal sine (K)."""

def default_monthly_temp_c(latitude: float, altitude_m: float = 0.0) -> FloatArray:
    """Rough monthly mean air temperatures from latitude and altitude alone.

    Parameters
    ----------
    latitude : float
        Degrees north (negative south).
    altitude_m : float, default 0
        Elevation above sea level (m).

    Returns
    -------
    numpy.ndarray, shape (12,)
        Monthly mean air temperature Jan…Dec (°C).

    Notes
    -----
    A crude fit to East-Asian monsoon-climate stations (Guangzhou, Nanjing, Beijing, Harbin),
    *not* a climatology; pass measured normals wherever they are known:

    .. math::

        \\bar T &= \\min(27, 39 - 0.72\\,|φ|) - 0.0065\\,z \\\\
        A &= \\mathrm{clip}(0.55\\,|φ| - 5, 1.5, 25) \\\\
        T_m &= \\bar T - \\mathrm{sign}(φ)\\, A \\cos(2π (n_m - 15) / 365.25)

    with φ the latitude (°), z the altitude (m, standard lapse rate 6.5 K/km) and n_m the day
    of year of mid-month; the coldest month is January in the north and July in the south.
    For Nanjing (32.0 °N) this gives 3.4 °C in January and 28.5 °C in July (normals: about 2.7
    and 28.1 °C).
    """
    lat = abs(latitude)
    mean = min(27.0, 39.0 - 0.72 * lat) - 0.0065 * altitude_m
    amplitude = float(np.clip(0.55 * lat - 5.0, 1.5, 25.0))
    mid_day = np.array([15.5, 45.0, 74.5, 105.0, 135.5, 166.0,
                        196.5, 227.5, 258.0, 288.5, 319.0, 349.5])
    sign = 1.0 if latitude >= 0 else -1.0
    return mean - sign * amplitude * np.cos(2.0 * np.pi * (mid_day - 15.0) / 365.25)




def air_temperature(monthly_temp_c: FloatArray, index: pd.DatetimeIndex,
                     solar_time: FloatArray, n_days: int) -> FloatArray:
    """Hourly air temperature (°C): interpolated monthly means plus a diurnal sine."""
    year = int(index[0].year)
    mid = np.array([(pd.Timestamp(year, m, 1) - pd.Timestamp(year, 1, 1)).days
                    + pd.Timestamp(year, m, 1).days_in_month / 2.0 for m in range(1, 13)])
    days = np.arange(n_days) + 0.5
    daily = np.interp(days, np.concatenate(([mid[-1] - n_days], mid, [mid[0] + n_days])),
                      np.concatenate(([monthly_temp_c[-1]], monthly_temp_c,
                                      [monthly_temp_c[0]])))
    day = index.day_of_year.to_numpy(dtype=np.int64) - 1
    swing = 0.5 * DIURNAL_TEMP_RANGE_K * np.sin(2.0 * math.pi * (solar_time - 9.0) / 24.0)
    return np.asarray(daily[day] + swing, dtype=float)
