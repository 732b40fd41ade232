"""The time axis of a flows table: interval-beginning labels, tz-aware, one hour key.

Conventions (stated once, enforced here):

* every row is labelled by the **beginning** of its interval (``interval_start``), tz-aware;
* the intervals of a table are regular (15 min or 1 h) and appear once each;
* an **hour** is a clock hour of the scenario's local time zone: :func:`hour_key` gives, for each
  row, the instant at which its local clock hour began. For whole-hour zones (China, UTC+8) this
  is the UTC hour as well; for half-hour zones (India, UTC+5:30) the local clock hour starts at
  half past a UTC hour, and that is the hour greenlink matches and certifies. Across a
  daylight-saving change the two 01:00 hours are kept apart (keys are instants, not wall times).
"""

from __future__ import annotations

import pandas as pd

from greenlink.errors import InputError, Problem
from greenlink.flows.schema import INTERVAL_START


def year_index(year: int, interval_minutes: int, timezone: str) -> pd.DatetimeIndex:
    """Interval-beginning labels of one calendar year in ``timezone`` (fixed steps in UTC)."""
    start = pd.Timestamp(year=year, month=1, day=1, tz=timezone)
    end = pd.Timestamp(year=year + 1, month=1, day=1, tz=timezone)
    return pd.date_range(start, end, freq=f"{interval_minutes}min", inclusive="left",
                         name=INTERVAL_START)


def normalise(frame: pd.DataFrame, timezone: str | None = None, *,
              file: str | None = None) -> pd.DataFrame:
    """The flows table indexed by its tz-aware ``interval_start``, sorted, each interval once.

    Parameters
    ----------
    frame
        A flows table with ``interval_start`` as its index or as a column.
    timezone
        Convert the index to this zone (the scenario's); ``None`` keeps the table's own zone.
    file
        Name of the file the table came from, for error messages.

    Raises
    ------
    InputError
        No time stamps, naive time stamps, or an interval that appears twice.
    """
    if INTERVAL_START in frame.columns:
        frame = frame.set_index(INTERVAL_START)
    index = frame.index
    if not isinstance(index, pd.DatetimeIndex):
        try:
            index = pd.DatetimeIndex(index)
        except (TypeError, ValueError):
            raise InputError(Problem("flows table has no time stamps", file=file,
                                     location=INTERVAL_START,
                                     expected="a column or index of interval-beginning "
                                              "timestamps")) from None
    if index.tz is None:
        raise InputError(Problem(f"{INTERVAL_START} is not timezone-aware", file=file,
                                 location=INTERVAL_START,
                                 expected="timestamps with a UTC offset, "
                                          "e.g. 2025-01-01T00:00:00+08:00"))
    if timezone is not None and str(index.tz) != timezone:
        index = index.tz_convert(timezone)
    out = frame.set_axis(index.rename(INTERVAL_START), axis=0)
    if not out.index.is_monotonic_increasing:
        out = out.sort_index()
    if out.index.has_duplicates:
        first = out.index[out.index.duplicated()][0]
        raise InputError(Problem(f"interval {first.isoformat()} appears more than once",
                                 file=file, location=INTERVAL_START,
                                 expected="one row per interval"))
    return out


def time_index(frame: pd.DataFrame) -> pd.DatetimeIndex:
    """The tz-aware interval starts of a flows table (index or ``interval_start`` column)."""
    if INTERVAL_START in frame.columns:
        index = pd.DatetimeIndex(frame[INTERVAL_START])
    elif isinstance(frame.index, pd.DatetimeIndex):
        index = frame.index
    else:
        raise InputError(Problem("flows table has no interval_start index or column",
                                 location=INTERVAL_START,
                                 expected="tz-aware interval-beginning timestamps"))
    if index.tz is None:
        raise InputError(Problem(f"{INTERVAL_START} is not timezone-aware",
                                 location=INTERVAL_START,
                                 expected="tz-aware timestamps, e.g. 2025-01-01T00:00+08:00"))
    return index


def interval_hours(index: pd.DatetimeIndex) -> float:
    """Length of one interval in hours (median spacing; 1 h for a single row)."""
    if len(index) < 2:
        return 1.0
    steps = pd.Series(index[1:] - index[:-1])
    return float(steps.median().total_seconds()) / 3600.0


def hour_key(index: pd.DatetimeIndex, timezone: str | None = None) -> pd.DatetimeIndex:
    """Start of the local clock hour of each interval start, as tz-aware instants.

    Parameters
    ----------
    index
        tz-aware interval starts.
    timezone
        The scenario's zone, whose clock defines the hours; ``None``: the index's own zone.
    """
    local = index.tz_convert(timezone) if timezone is not None else index
    if local.tz is None:
        raise InputError(Problem("hour_key needs timezone-aware time stamps",
                                 location=INTERVAL_START, expected="tz-aware timestamps"))
    into_hour = (pd.to_timedelta(local.minute, unit="min") + pd.to_timedelta(local.second, unit="s")
                 + pd.to_timedelta(local.microsecond, unit="us")
                 + pd.to_timedelta(local.nanosecond, unit="ns"))
    return pd.DatetimeIndex(local - into_hour, name="hour_start").as_unit(local.unit)


def period_rows(table: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp,
                interval_minutes: int, *, what: str, data: str = "data",
                file: str | None = None) -> pd.DataFrame:
    """The rows of ``[start, end)`` of a normalised table, checked complete: every interval of
    the period at ``interval_minutes``, each once, in order.

    Raises
    ------
    InputError
        No row in the period, or some intervals missing (how many, and the first).
    """
    step = f"{interval_minutes}min"
    expected = pd.date_range(start, end, freq=step, inclusive="left", name=INTERVAL_START)
    index = time_index(table)
    rows = table.loc[(index >= start) & (index < end)]
    if rows.empty:
        raise InputError(Problem(f"no {data} for {what}", file=file, location=INTERVAL_START,
                                 expected=f"{len(expected)} intervals of {step}"))
    absent = expected.difference(pd.DatetimeIndex(rows.index))
    if len(absent):
        raise InputError(Problem(f"{what}: {len(absent)} of {len(expected)} intervals have no "
                                 f"{data} (first {absent[0].isoformat()})", file=file,
                                 location=INTERVAL_START,
                                 expected=f"every {step} interval of the period"))
    return rows.loc[expected]
