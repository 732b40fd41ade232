"""Which instant an hourly weather value belongs to: the time shift that fits the data to the
sun (weather files disagree by up to 1.5 h, research note ``weather-data.md`` §2.4)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from greenlink.errors import InputError, Problem


def _clearsky_ghi(times: pd.DatetimeIndex, latitude: float, longitude: float,
                  altitude_m: float) -> np.ndarray:
    """Ineichen clear-sky GHI [W/m²] at ``times`` (pvlib's bundled Linke turbidity grid)."""
    from pvlib.location import Location

    location = Location(latitude, longitude, altitude=altitude_m)
    return location.get_clearsky(times, model="ineichen")["ghi"].to_numpy(dtype=float)


def detect_time_shift_minutes(ghi: pd.Series, latitude: float, longitude: float,
                              altitude_m: float, step_minutes: int = 15,
                              max_minutes: int = 90, clear_day_fraction: float = 0.15) -> int:
    """Fit the offset between the time stamps of hourly GHI and the sun.

    For each candidate offset ``o`` in ``-max_minutes … +max_minutes`` (steps of
    ``step_minutes``) the Ineichen clear-sky GHI is evaluated at ``label + o``; on the clearest
    days (highest ratio of daily GHI to daily clear-sky GHI) the Pearson correlation of measured
    and clear-sky GHI is computed, and the offset with the highest correlation wins.

    Parameters
    ----------
    ghi : pandas.Series
        Hourly GHI [W/m²] with a timezone-aware, interval-beginning index (one year).
    latitude, longitude : float
        Site coordinates [°, north and east positive].
    altitude_m : float
        Site altitude [m].
    step_minutes : int, default 15
        Resolution of the search [min].
    max_minutes : int, default 90
        Largest offset tried in each direction [min].
    clear_day_fraction : float, default 0.15
        Fraction of days (the clearest) used for the fit.

    Returns
    -------
    int
        Offset [min]: the solar time of each value is ``label + offset``.

    Raises
    ------
    InputError
        If the series has no time zone, too few daylight values, or bad search settings.
    """
    if not isinstance(ghi.index, pd.DatetimeIndex) or ghi.index.tz is None:
        raise InputError(Problem("GHI series needs a timezone-aware time index",
                                 location="weather.ghi", expected="a tz-aware DatetimeIndex"))
    if step_minutes <= 0 or max_minutes < 0:
        raise InputError(Problem(f"bad shift search: step {step_minutes} min, "
                                 f"max {max_minutes} min", location="weather.time_shift",
                                 expected="step > 0 and max ≥ 0 minutes"))
    values = ghi.to_numpy(dtype=float)
    index = pd.DatetimeIndex(ghi.index)
    finite = np.isfinite(values)
    if np.count_nonzero(finite & (values > 0)) < 240:
        raise InputError(Problem("too few daylight GHI values to fit the time shift",
                                 location="weather.ghi", expected="one year of hourly GHI"))
    # pick the clearest days with the sun at the interval centre (daily sums barely depend on it)
    clear_mid = _clearsky_ghi(index + pd.Timedelta(minutes=30), latitude, longitude, altitude_m)
    day = index.normalize()
    daily = pd.DataFrame({"ghi": np.where(finite, values, 0.0), "cs": clear_mid}).groupby(
        np.asarray(day)).sum()
    ratio = (daily["ghi"] / daily["cs"].where(daily["cs"] > 0)).dropna()
    n_days = max(5, round(clear_day_fraction * len(ratio)))
    clear_days = ratio.sort_values(ascending=False).index[:n_days]
    mask = np.isin(np.asarray(day), np.asarray(clear_days)) & finite
    sel_index = index[mask]
    sel_values = values[mask]

    best_offset, best_corr = 0, -math.inf
    offsets = range(-(max_minutes // step_minutes) * step_minutes, max_minutes + 1,
                    step_minutes)
    for offset in offsets:
        clear = _clearsky_ghi(sel_index + pd.Timedelta(minutes=offset), latitude, longitude,
                              altitude_m)
        if np.std(clear) == 0 or np.std(sel_values) == 0:
            continue
        corr = float(np.corrcoef(sel_values, clear)[0, 1])
        # prefer the smaller |offset| on (numerical) ties
        if corr > best_corr + 1e-9 or (abs(corr - best_corr) <= 1e-9
                                       and abs(offset) < abs(best_offset)):
            best_offset, best_corr = offset, corr
    return int(best_offset)
