"""Wind output from a capacity-factor series, moved onto the scenario intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from greenlink.errors import InputError, Problem


def _interval_grid_s(index: pd.DatetimeIndex, what: str, location: str,
                     max_step_s: float) -> tuple[np.ndarray, float]:
    """Start seconds (UTC epoch) of a tz-aware, regular, interval-beginning index, and its step."""
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise InputError(Problem(f"the {what} has no time zone", location=location,
                                 expected="a timezone-aware, interval-beginning DatetimeIndex"))
    if len(index) < 2:
        raise InputError(Problem(f"the {what} has {len(index)} intervals", location=location,
                                 expected="a year of 15- or 60-min intervals"))
    starts = index.as_unit("s").asi8.astype(float)
    steps = np.diff(starts)
    step = float(steps[0])
    if step <= 0 or step > max_step_s or not np.all(steps == step):
        bad = int(np.flatnonzero(steps != step)[0]) + 1 if np.any(steps != step) else 0
        raise InputError(Problem(f"the {what} is not regular (at {index[bad]})",
                                 location=location,
                                 expected=f"increasing intervals of equal length ≤ "
                                          f"{max_step_s / 60:.0f} min"))
    return starts, step


def wind_energy_kwh(capacity_factor: pd.Series, capacity_kw: float,
                    index: pd.DatetimeIndex) -> np.ndarray:
    """AC energy [kWh] of a wind plant per target interval from its capacity factor.

    The capacity factor is taken as constant over each of its own intervals; the energy of a
    target interval is ``capacity_kw`` times the time integral of the capacity factor over it
    [h]. The series is treated as periodic over its own span, so a target year in another time
    zone (hours spilling over either end) wraps around, and a target index covering the same
    span gets exactly the series' total energy.

    Parameters
    ----------
    capacity_factor : pandas.Series
        Capacity factor [-], 0…1, tz-aware interval-beginning index, regular hourly or 15-min
        (any regular step ≤ 60 min).
    capacity_kw : float
        Rated power [kW].
    index : pandas.DatetimeIndex
        Target intervals: tz-aware, interval-beginning, regular (e.g. 15 or 60 min).

    Returns
    -------
    numpy.ndarray
        Energy [kWh] per interval of ``index``.

    Raises
    ------
    InputError
        If capacity factors are missing or outside 0…1, an index is naive or irregular, or the
        capacity is negative.
    """
    if not capacity_kw >= 0:
        raise InputError(Problem(f"wind capacity {capacity_kw} kW", location="wind.capacity_kw",
                                 expected="a rated power ≥ 0 kW"))
    if not isinstance(capacity_factor, pd.Series):
        raise InputError(Problem("the wind capacity factor is not a time series",
                                 location="wind.capacity_factor",
                                 expected="a pandas Series with a tz-aware time index"))
    cf_index = capacity_factor.index
    if not isinstance(cf_index, pd.DatetimeIndex):
        raise InputError(Problem("the wind capacity factor has no time index",
                                 location="wind.capacity_factor",
                                 expected="a timezone-aware, interval-beginning DatetimeIndex"))
    values = pd.to_numeric(capacity_factor, errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0.0) | (values > 1.0))
    if bad.size:
        first = int(bad[0])
        raise InputError(Problem(
            f"capacity factor {capacity_factor.iloc[first]} at {cf_index[first]} "
            f"({bad.size} values affected)", location=f"wind.capacity_factor row {first + 1}",
            expected="capacity factors between 0 and 1"))
    cf_starts, cf_step = _interval_grid_s(cf_index, "wind capacity-factor series",
                                          "wind.capacity_factor", 3600.0)
    starts, step = _interval_grid_s(index, "target time index", "index", 3600.0)

    # cumulative integral F(t) [h] of the periodic step function, evaluated at interval edges
    origin = cf_starts[0]
    period_s = cf_step * len(values)
    edges_cum_h = np.concatenate(([0.0], np.cumsum(values) * cf_step / 3600.0))
    total_h = float(edges_cum_h[-1])
    knots_s = np.arange(len(values) + 1) * cf_step

    def cumulative_h(t_s: np.ndarray) -> np.ndarray:
        rel = t_s - origin
        turns = np.floor(rel / period_s)
        return turns * total_h + np.interp(rel - turns * period_s, knots_s, edges_cum_h)

    edges_s = np.concatenate((starts, [starts[-1] + step]))
    return np.diff(cumulative_h(edges_s)) * capacity_kw
