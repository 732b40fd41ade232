"""A synthetic hourly weather year from 12 monthly means: arguments checked, stages assembled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pvlib
from numpy.typing import NDArray

from greenlink.errors import ProblemList
from greenlink.resource.synthetic.daily import daily_clearness
from greenlink.resource.synthetic.hourly import hourly_clearness
from greenlink.resource.synthetic.sky import SAMPLES_PER_HOUR, _hour_mean_sky, fill_to_totals
from greenlink.resource.synthetic.temperature import air_temperature, default_monthly_temp_c

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

WIND_SPEED_M_S = 2.0
"""Constant wind speed of the synthetic year (m/s)."""

_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _as_floats(values: object) -> FloatArray | None:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return None
    return arr if arr.ndim == 1 else None


def _check_arguments(latitude: float, longitude: float, altitude_m: float, timezone: str,
                     year: int, monthly_ghi_kwh_m2: Sequence[float], seed: int,
                     monthly_temp_c: Sequence[float] | None) -> FloatArray:
    problems = ProblemList()
    for name, value, lo, hi in (("latitude", latitude, -90.0, 90.0),
                                ("longitude", longitude, -180.0, 180.0),
                                ("altitude_m", altitude_m, -500.0, 9000.0)):
        try:
            ok = lo <= float(value) <= hi
        except (TypeError, ValueError):
            ok = False
        if not ok:
            problems.add(f"{name} = {value!r} is out of range", location=name,
                         expected=f"a number in [{lo:g}, {hi:g}]")
    if isinstance(year, bool) or not isinstance(year, int | np.integer) or not 1900 <= year <= 2200:
        problems.add(f"year = {year!r} is not valid", location="year",
                     expected="an integer year in [1900, 2200]")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        problems.add(f"seed = {seed!r} is not valid", location="seed",
                     expected="a non-negative integer")
    try:
        pd.Timestamp("2000-01-01", tz=timezone)
    except Exception:
        problems.add(f"unknown time zone {timezone!r}", location="timezone",
                     expected="an IANA time-zone name such as 'Asia/Shanghai'")
    ghi = _as_floats(monthly_ghi_kwh_m2)
    if ghi is None or ghi.size != 12:
        problems.add("monthly GHI must be 12 numbers (Jan…Dec)", location="monthly_ghi_kwh_m2",
                     expected="12 monthly sums of global horizontal irradiation in kWh/m²")
        ghi = None
    else:
        for m in np.flatnonzero(~np.isfinite(ghi) | (ghi < 0)):
            problems.add(f"{_MONTH_NAMES[m]} GHI {ghi[m]!r} kWh/m² is negative or not a number",
                         location=f"monthly_ghi_kwh_m2[{m}]", expected="a finite value ≥ 0")
    if monthly_temp_c is not None:
        temp = _as_floats(monthly_temp_c)
        if temp is None or temp.size != 12:
            problems.add("monthly temperatures must be 12 numbers (Jan…Dec)",
                         location="monthly_temp_c", expected="12 monthly means in °C")
        else:
            for m in np.flatnonzero(~np.isfinite(temp) | (temp < -70) | (temp > 50)):
                problems.add(f"{_MONTH_NAMES[m]} temperature {temp[m]!r} °C is implausible",
                             location=f"monthly_temp_c[{m}]",
                             expected="a monthly mean in [-70, 50] °C")
    problems.raise_if_any()
    assert ghi is not None
    return ghi


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Sky:
    """What a synthetic year needs of the sky, the same for every seed (cached)."""

    index: pd.DatetimeIndex
    clear_w: FloatArray
    extra_w: FloatArray
    sin_h: FloatArray
    zenith_centre: FloatArray
    dni_extra_centre: FloatArray
    solar_time_centre: FloatArray


@lru_cache(maxsize=8)
def _sky(latitude: float, longitude: float, altitude_m: float, timezone: str,
         year: int) -> _Sky:
    index = pd.date_range(pd.Timestamp(year, 1, 1), pd.Timestamp(year + 1, 1, 1), freq="h",
                          tz=timezone, inclusive="left")
    clear_w, extra_w = _hour_mean_sky(latitude, longitude, altitude_m, index, SAMPLES_PER_HOUR)
    centre = index + pd.Timedelta(minutes=30)
    location = pvlib.location.Location(latitude, longitude, tz="UTC", altitude=altitude_m)
    zenith = location.get_solarposition(centre)["zenith"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        sin_h = extra_w / pvlib.irradiance.get_extra_radiation(index).to_numpy(dtype=float)
    utc = centre.tz_convert("UTC")
    utc_hours = (utc.hour + utc.minute / 60.0).to_numpy(dtype=float)
    eot_min = np.asarray(pvlib.solarposition.equation_of_time_spencer71(utc.day_of_year),
                         dtype=float)
    solar_time = np.mod(utc_hours + longitude / 15.0 + eot_min / 60.0, 24.0)
    sky = _Sky(index=index, clear_w=clear_w, extra_w=extra_w, sin_h=sin_h,
               zenith_centre=zenith,
               dni_extra_centre=pvlib.irradiance.get_extra_radiation(centre).to_numpy(
                   dtype=float),
               solar_time_centre=solar_time)
    for arr in (clear_w, extra_w, sin_h, zenith, sky.dni_extra_centre, solar_time):
        arr.setflags(write=False)
    return sky


def synthetic_weather(latitude: float, longitude: float, altitude_m: float, timezone: str,
                      year: int, monthly_ghi_kwh_m2: Sequence[float], seed: int,
                      monthly_temp_c: Sequence[float] | None = None,
                      daily_kt_lag1: float | None = None,
                      interannual: bool = False) -> pd.DataFrame:
    """Generate a synthetic hourly weather year from 12 monthly GHI sums.

    Parameters
    ----------
    latitude, longitude : float
        Site coordinates in degrees (north, east positive).
    altitude_m : float
        Site elevation above sea level (m); used for the clear-sky model.
    timezone : str
        IANA time zone of the output index, e.g. ``"Asia/Shanghai"``. Days (for the daily
        Markov chain) are calendar days in this zone, so use the site's local zone.
    year : int
        Calendar year (1900–2200); sets the length (8760 or 8784 h) and the sun positions.
    monthly_ghi_kwh_m2 : sequence of 12 float
        Global horizontal irradiation summed over each month Jan…Dec (kWh/m²), each ≥ 0 and not
        above the month's clear-sky irradiation.
    seed : int
        Seed of the ``numpy.random.Generator`` that makes every random draw; the same seed and
        inputs give an identical year.
    monthly_temp_c : sequence of 12 float, optional
        Monthly mean air temperature Jan…Dec (°C). If None, a rough latitude/altitude-based
        default is used (:func:`default_monthly_temp_c`); it is not a climatology, so pass
        station normals when they are known.
    daily_kt_lag1 : float, optional
        Lag-1 autocorrelation of daily clearness to give the year, e.g. the station's
        (:func:`greenlink.resource.stations.station_daily_kt`; Nanjing 0.46); None keeps the
        Markov library's own (≈ 0.3, ≈ 0.25 after the monthly rescaling).
    interannual : bool, default False
        False: a typical year whose monthly sums equal ``monthly_ghi_kwh_m2``. True: one
        possible year, whose monthly sums spread around them as the daily process makes them
        (``monthly_ghi_kwh_m2`` is their long-run mean): what many-year risk runs draw.

    Returns
    -------
    pandas.DataFrame
        One row per hour of the calendar year in ``timezone`` (8760 or 8784 rows), tz-aware,
        labelled at the interval beginning; values are means over the hour (centred at
        label + 30 min). Columns:

        * ``ghi`` — global horizontal irradiance (W/m²),
        * ``dni`` — direct normal irradiance (W/m²),
        * ``dhi`` — diffuse horizontal irradiance (W/m²),
        * ``temp_air`` — air temperature (°C),
        * ``wind_speed`` — wind speed at 10 m (m/s), constant 2 m/s.

    Raises
    ------
    greenlink.errors.InputError
        If an argument is out of range: not exactly 12 finite, non-negative monthly values, a
        month above its clear-sky irradiation, an unknown time zone, a bad seed or year.

    Notes
    -----
    *Daily.* The monthly-mean clearness index is
    :math:`K_{t,m} = H_m / \\sum_{d∈m} H_{0,d}` with :math:`H_{0,d}` the daily extraterrestrial
    horizontal irradiation. :func:`daily_clearness` draws :math:`Kt_d` from the Aguiar MTM
    library [1]_; the daily irradiation :math:`H_d = Kt_d H_{0,d}` is then rescaled per month to
    the input sum while no day exceeds its clear-sky irradiation :math:`H_{cs,d}` (iterative
    proportional rescaling of the days below the bound, "water filling").

    *Hourly.* :func:`hourly_clearness` draws :math:`kt_h` with the TAG model [2]_, bounded by
    the clear-sky :math:`kt_{cs,h} = G_{cs,h}/G_{0h,h}`; :math:`G_h = kt_h G_{0h,h}` is rescaled
    per day to :math:`H_d` in the same capped way, so :math:`0 ≤ G_h ≤ G_{cs,h}` and the
    monthly sums match the input. :math:`G_{cs}` (Ineichen-Perez [3]_ with pvlib's Linke
    turbidity) and :math:`G_{0h}` are hour means of six 10-minute samples. GHI is 0 whenever the
    sun is below the horizon for the whole hour.

    *Components.* DNI and DHI from pvlib ``erbs_driesse`` [4]_ with the zenith angle at the
    centre of the hour (label + 30 min), so that :math:`DHI + DNI \\cos θ_z = GHI` there; DNI is
    0 for zenith angles above 87°.

    *Temperature.* Monthly means are placed at mid-month and interpolated linearly (periodic)
    to daily means :math:`\\bar T_d`; the hourly value is
    :math:`T = \\bar T_d + (ΔT/2) \\sin(2π (t_{sol} − 9)/24)` with :math:`t_{sol}` the apparent
    solar time (h) at the hour centre and :math:`ΔT` = 8 K, i.e. a minimum at 03:00 and a
    maximum at 15:00 solar time.

    References
    ----------
    .. [1] R. Aguiar, M. Collares-Pereira, J. P. Conde, "Simple procedure for generating
       sequences of daily radiation values using a library of Markov transition matrices",
       Solar Energy 40(3), 269-279, 1988.
    .. [2] R. Aguiar, M. Collares-Pereira, "TAG: a time-dependent, autoregressive, Gaussian model
       for generating synthetic hourly radiation", Solar Energy 49(3), 167-174, 1992.
    .. [3] P. Ineichen, R. Perez, "A new airmass independent formulation for the Linke turbidity
       coefficient", Solar Energy 73(3), 151-157, 2002.
    .. [4] A. Driesse, A. Jensen, R. Perez, "A continuous form of the Perez diffuse sky model for
       forward and reverse transposition", Solar Energy 267, 112093, 2024
       (doi:10.1016/j.solener.2023.112093); D. G. Erbs, S. A. Klein, J. A. Duffie, "Estimation of
       the diffuse radiation fraction for hourly, daily and monthly-average global radiation",
       Solar Energy 28(4), 293-302, 1982.
    """
    ghi_month_kwh = _check_arguments(latitude, longitude, altitude_m, timezone, year,
                                     monthly_ghi_kwh_m2, seed, monthly_temp_c)
    sky = _sky(float(latitude), float(longitude), float(altitude_m), timezone, int(year))
    index, clear_w, extra_w = sky.index, sky.clear_w, sky.extra_w
    cap_w: FloatArray = np.where(extra_w > 0, clear_w, 0.0).astype(float)

    month = index.month.to_numpy(dtype=np.int64) - 1
    day = index.day_of_year.to_numpy(dtype=np.int64) - 1
    n_days = int(day.max()) + 1
    day_month = np.zeros(n_days, dtype=np.int64)
    day_month[day] = month
    days_per_month = np.bincount(day_month, minlength=12)

    h0_day_wh = np.bincount(day, extra_w, minlength=n_days).astype(float)
    cap_day_wh = np.bincount(day, cap_w, minlength=n_days).astype(float)
    h0_month_wh = np.bincount(day_month, h0_day_wh, minlength=12)
    cap_month_wh = np.bincount(day_month, cap_day_wh, minlength=12)
    ghi_month_wh = ghi_month_kwh * 1000.0

    problems = ProblemList()
    for m in np.flatnonzero(ghi_month_wh > cap_month_wh * (1.0 + 1e-9)):
        problems.add(f"{_MONTH_NAMES[m]} GHI {ghi_month_kwh[m]:g} kWh/m² is above the clear-sky "
                     f"irradiation of the site ({cap_month_wh[m] / 1000.0:.1f} kWh/m²)",
                     location=f"monthly_ghi_kwh_m2[{m}]",
                     expected=f"at most {cap_month_wh[m] / 1000.0:.1f} kWh/m²")
    problems.raise_if_any()

    rng = np.random.default_rng(int(seed))
    with np.errstate(divide="ignore", invalid="ignore"):
        monthly_kt = np.where(h0_month_wh > 0, ghi_month_wh / h0_month_wh, 0.0)
    kt_day = daily_clearness(monthly_kt, days_per_month, rng, kt_initial=float(monthly_kt[-1]),
                             lag1=daily_kt_lag1, exact_means=not interannual)
    if interannual:
        # each month keeps the sum of its draws, no day above its clear-sky irradiation
        ghi_day_wh = np.minimum(kt_day * h0_day_wh, cap_day_wh)
    else:
        ghi_day_wh = fill_to_totals(kt_day * h0_day_wh, cap_day_wh, day_month, ghi_month_wh)

    with np.errstate(divide="ignore", invalid="ignore"):
        kt_day_final = np.where(h0_day_wh > 0, ghi_day_wh / h0_day_wh, 0.0)
        kt_clear = np.where(extra_w > 0, cap_w / extra_w, 0.0)
    kt_hour = hourly_clearness(kt_day_final, day, sky.sin_h, rng, kt_max=kt_clear)
    ghi = fill_to_totals(kt_hour * extra_w, cap_w, day, ghi_day_wh)

    parts = pvlib.irradiance.erbs_driesse(ghi, sky.zenith_centre,
                                          dni_extra=sky.dni_extra_centre)
    dni = np.clip(np.nan_to_num(np.asarray(parts["dni"], dtype=float)), 0.0, None)
    dhi = np.clip(np.nan_to_num(np.asarray(parts["dhi"], dtype=float)), 0.0, ghi)

    temp = np.asarray(default_monthly_temp_c(latitude, altitude_m) if monthly_temp_c is None
                      else monthly_temp_c, dtype=float)
    temp_air = air_temperature(temp, index, sky.solar_time_centre, n_days)

    return pd.DataFrame({"ghi": ghi, "dni": dni, "dhi": dhi, "temp_air": temp_air,
                         "wind_speed": np.full(len(index), WIND_SPEED_M_S)}, index=index)


