"""Time series of a scenario: reading CSV/xlsx/Parquet series onto the year's interval index
(:func:`greenlink.flows.year_index`).

greenlink labels every interval by its **beginning**, timezone-aware. A series file must have a
timestamp column whose values carry a UTC offset (or the reference names the zone they are local
to), one row per interval of the scenario year (or of ``reuse_year``), no gaps, no duplicates,
sorted, numeric and finite. Hourly files are spread evenly onto a 15-minute year and 15-minute
files summed onto an hourly one. Files are read by :mod:`greenlink.tablefile` (CSV in UTF-8, GBK
or GB18030, xlsx, Parquet; Chinese column names; decimal commas where the reference says so).

When the time stamps do not cover the year the message says why it looks so: shifted by a whole
number of hours against the site's zone (local times written as UTC), another year's data (with
the ``reuse_year`` fix), a leap year's rows for a common year.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from greenlink.errors import InputError, Problem, ProblemList
from greenlink.flows import year_index
from greenlink.scenario.model import SeriesRef
from greenlink.tablefile import Table, TableSource, parse_datetimes
from greenlink.tablefile import read_table as _read_any

_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
#: A unit at the end of a column name: ``load_kw``, ``负荷(kW)``, ``功率（兆瓦）``, ``用电量/MWh``.
_UNIT_IN_NAME = re.compile(
    r"(?:_|[\s(（\[【/])(kwh|kw|mwh|mw|千瓦时|千瓦|兆瓦时|兆瓦)[)）\]】]?\s*$", re.IGNORECASE)
_UNIT_NAMES = {"kw": "kW", "kwh": "kWh", "mw": "MW", "mwh": "MWh", "千瓦": "kW", "千瓦时": "kWh",
               "兆瓦": "MW", "兆瓦时": "MWh"}

# user-facing texts of this module (one place, for translation later)
_MSG_SHIFTED = ("the file looks shifted by {shift} against the year in {tz} (UTC{offset}): it "
                "starts at {first} instead of {start} local time — local clock times written "
                "with a UTC offset of +00:00, or a year counted in another zone?")
_FIX_SHIFTED = ("time stamps with the site's offset (e.g. {example}), or naive local times with "
                "timezone = \"{tz}\" on the series")
_MSG_OTHER_YEAR = "the file holds {file_year}{leap}, the scenario year is {year}"
_FIX_OTHER_YEAR = ("reuse_year = {file_year} on the series to use that year's data for {year} "
                   "({how}), or a file of {year}")
_MSG_LEAP_ROWS = ("{rows} rows are a leap year's worth (366 days) but {year} has 365 days")
_FIX_LEAP_ROWS = ("the rows of {year} only; to reuse a leap year's data give its own time stamps "
                  "and reuse_year = <that year> on the series (29 February is dropped)")
_HINT_DECIMAL_COMMA = "; a decimal comma? set decimal = \",\" on the series"
_MSG_PERCENT_CF = ("capacity factor {value:g} above 1 at {row}: it looks like percent; greenlink "
                   "reads fractions (45 % = 0.45)")


@lru_cache(maxsize=16)
def _read_table(path: Path, mtime: float, sheet: str | None, decimal: str) -> Table:
    return _read_any(path, sheet=sheet, decimal=decimal)  # type: ignore[arg-type]


def _path(ref: SeriesRef, base_dir: Path) -> Path:
    return (base_dir / ref.path) if not Path(ref.path).is_absolute() else Path(ref.path)


def read_table(path: Path, sheet: str | None = None, decimal: str = ".") -> Table:
    """A series file as read (cached by path, modification time, sheet and decimal mark)."""
    if not path.is_file():
        raise InputError(Problem("series file not found", file=str(path),
                                 expected="an existing CSV, xlsx or Parquet file"))
    return _read_table(path.resolve(), path.stat().st_mtime, sheet, decimal)


def series_source(ref: SeriesRef, base_dir: Path) -> TableSource:
    """How the file of ``ref`` is read: format, detected encoding, separator, sheet."""
    source = read_table(_path(ref, base_dir), ref.sheet, ref.decimal).source
    return TableSource(str(_path(ref, base_dir)), source.format, source.encoding,
                       source.separator, source.decimal, source.sheet, source.header_line)


def _parse_timestamps(raw: pd.Series, ref: SeriesRef, file: str, source: TableSource,
                      timezone: str) -> pd.DatetimeIndex:
    col = ref.timestamp_column
    if pd.api.types.is_datetime64_any_dtype(raw):
        ts = pd.DatetimeIndex(raw)
        if ts.tz is None and ref.timezone is None:
            raise InputError(Problem(f"time stamps in column {col!r} have no time zone", file=file,
                                     expected="tz-aware time stamps, or 'timezone' on the series"))
        if ts.tz is None:
            return _localize(ts, ref, file, source)
        return ts.tz_convert(timezone)
    text = raw.astype(str).str.strip()
    has_offset = text.str.contains(_OFFSET)
    if ref.timezone is None:
        if not has_offset.all():
            i = int(np.argmin(has_offset.to_numpy()))
            raise InputError(Problem(
                f"time stamp {text.iloc[i]!r} has no time zone / UTC offset", file=file,
                location=f"{source.row(i)}, column {col!r}",
                expected="ISO 8601 with offset such as 2025-01-01T00:00:00+08:00, or set "
                         "'timezone' on the series"))
        try:
            ts = pd.DatetimeIndex(pd.to_datetime(text, utc=True, format="ISO8601"))
        except (ValueError, TypeError) as exc:
            raise InputError(Problem(f"unreadable time stamp: {exc}", file=file,
                                     location=f"column {col!r}",
                                     expected="ISO 8601 time stamps")) from None
        return ts.tz_convert(timezone)
    try:
        naive = parse_datetimes(text)
    except (ValueError, TypeError) as exc:
        raise InputError(Problem(f"unreadable time stamp: {exc}", file=file,
                                 location=f"column {col!r}",
                                 expected="ISO 8601 time stamps (or 2025/1/1 0:00)")) from None
    if naive.tz is not None:
        return naive.tz_convert(timezone)
    return _localize(naive, ref, file, source).tz_convert(timezone)


def _localize(naive: pd.DatetimeIndex, ref: SeriesRef, file: str,
              source: TableSource) -> pd.DatetimeIndex:
    assert ref.timezone is not None
    gap = naive.tz_localize(ref.timezone, nonexistent="NaT", ambiguous="NaT")
    bad = np.flatnonzero(gap.isna())
    if len(bad):
        i = int(bad[0])
        try:
            naive[i:i + 1].tz_localize(ref.timezone, nonexistent="raise", ambiguous="NaT")
            kind = "is ambiguous (DST overlap: that local time happens twice)"
        except Exception:
            kind = "falls in the DST gap (that local time does not exist)"
        raise InputError(Problem(
            f"local time {naive[i]} {kind} in {ref.timezone}", file=file,
            location=f"{source.row(i)}, column {ref.timestamp_column!r}",
            expected="time stamps with a UTC offset, which are never ambiguous"))
    return gap


def _hours(delta: pd.Timedelta) -> str:
    minutes = abs(int(delta.total_seconds() // 60))
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _coverage_problem(ts: pd.DatetimeIndex, own_index: pd.DatetimeIndex, year: int, step: int,
                      ref: SeriesRef, file: str) -> Problem:
    """Why the time stamps do not cover the year, with the likeliest cause and its fix."""
    missing = own_index.difference(ts)
    extra = ts.difference(own_index)
    detail = []
    if len(missing):
        detail.append(f"{len(missing)} interval(s) missing, first {missing[0]}")
    if len(extra):
        detail.append(f"{len(extra)} outside the year {year}, first {extra[0]}")
    message = f"{len(ts)} rows do not cover the year: " + "; ".join(detail)
    expected = (f"{len(own_index)} {step}-minute rows from {own_index[0]} to {own_index[-1]}")
    tz = str(own_index.tz)
    years = pd.Index(ts.year).unique()
    if len(ts) == len(own_index) and len(ts):
        delta = ts[0] - own_index[0]
        if delta != pd.Timedelta(0) and bool(
                (ts.as_unit("ns").asi8 - own_index.as_unit("ns").asi8 == delta.value).all()):
            offset = own_index[0].strftime("%z")
            offset = f"{offset[:3]}:{offset[3:]}"
            message += "; " + _MSG_SHIFTED.format(
                shift=_hours(delta), tz=tz, offset=offset, first=f"{ts[0]:%Y-%m-%d %H:%M}",
                start=f"{own_index[0]:%Y-%m-%d %H:%M}")
            expected = _FIX_SHIFTED.format(example=own_index[0].isoformat(), tz=tz)
            return Problem(message, file=file, location=f"column {ref.timestamp_column!r}",
                           expected=expected)
    if len(years) == 1 and int(years[0]) != year and ref.reuse_year is None:
        file_year = int(years[0])
        leap = " (a leap year)" if _is_leap(file_year) else ""
        how = ("29 February dropped" if _is_leap(file_year) and not _is_leap(year) else
               "28 February repeated as 29 February" if _is_leap(year) and not _is_leap(file_year)
               else "by calendar date and clock time")
        message += "; " + _MSG_OTHER_YEAR.format(file_year=file_year, leap=leap, year=year)
        expected = _FIX_OTHER_YEAR.format(file_year=file_year, year=year, how=how)
    elif not _is_leap(year) and len(ts) == 366 * 24 * 60 // step:
        message += "; " + _MSG_LEAP_ROWS.format(rows=len(ts), year=year)
        expected = _FIX_LEAP_ROWS.format(year=year)
    return Problem(message, file=file, location=f"column {ref.timestamp_column!r}",
                   expected=expected)


def _calendar_key(index: pd.DatetimeIndex) -> np.ndarray:
    return (index.month.to_numpy() * 1_000_000 + index.day.to_numpy() * 10_000
            + index.hour.to_numpy() * 100 + index.minute.to_numpy()).astype(np.int64)


def reuse_year_values(values: np.ndarray, source: pd.DatetimeIndex,
                      target: pd.DatetimeIndex) -> np.ndarray:
    """Values of one year (``source`` index) on another year's ``target`` index, by calendar
    date and local clock time: 29 February of a leap year is dropped, 28 February is repeated
    for a leap target; clock times that one year has and the other lacks (DST) take the value
    before."""
    by_key = pd.Series(values, index=_calendar_key(source))
    by_key = by_key[~by_key.index.duplicated()]
    keys = _calendar_key(target)
    feb29 = (keys // 10_000) == 229
    if feb29.any() and not (by_key.index // 10_000 == 229).any():
        keys = np.where(feb29, keys - 10_000, keys)
    mapped = by_key.reindex(keys)
    return mapped.ffill().bfill().to_numpy(dtype=float)


def read_series(ref: SeriesRef, base_dir: Path, index: pd.DatetimeIndex, what: str) -> np.ndarray:
    """Read one series onto the scenario's ``index``.

    Returns energy per interval in kWh for power/energy units, or the plain fraction for
    ``unit = "fraction"``. ``what`` names the field for messages (e.g. ``users[0].load``).
    """
    path = _path(ref, base_dir)
    file = str(path)
    read = read_table(path, ref.sheet, ref.decimal)
    table, source = read.frame, read.source
    problems = ProblemList()
    for col in (ref.timestamp_column, ref.column):
        if col not in table.columns:
            close = [c for c in table.columns if str(c).lower() == col.lower()]
            where = f" of sheet {source.sheet!r}" if source.sheet else ""
            problems.add(f"column {col!r} not found{where} (named by {what})", file=file,
                         expected="one of: " + ", ".join(map(str, table.columns))
                         + (f"; did you mean {close[0]!r}?" if close else ""))
    problems.raise_if_any()
    col = ref.column
    unit_in_name = _UNIT_IN_NAME.search(col)
    if unit_in_name and ref.unit != "fraction":
        named = _UNIT_NAMES[unit_in_name.group(1).lower()]
        if named != ref.unit:
            raise InputError(Problem(
                f"column {col!r} is in {named} by its name but {what}.unit says {ref.unit}",
                file=file, location=f"column {col!r}",
                expected=f"unit = \"{named}\" (greenlink converts) or a column in {ref.unit}"))

    tz = str(index.tz)
    ts = _parse_timestamps(table[ref.timestamp_column], ref, file, source, tz)
    values_raw = table[col]
    values = pd.to_numeric(values_raw, errors="coerce").to_numpy(dtype=float)
    blank = values_raw.astype(str).str.strip().isin(["", "nan", "NaN", "NA", "null"]).to_numpy()
    not_numeric = np.flatnonzero(np.isnan(values) & ~blank)
    if len(not_numeric):
        i = int(not_numeric[0])
        shown = values_raw.iloc[i]
        hint = (_HINT_DECIMAL_COMMA
                if isinstance(shown, str) and re.fullmatch(r"\s*[+-]?\d*,\d+\s*", shown) else "")
        problems.add(f"value {shown!r} is not a number{hint}", file=file,
                     location=f"{source.row(i)}, column {col!r}", expected="a number")
    nan_rows = np.flatnonzero(~np.isfinite(values) & (blank | ~np.isnan(values)))
    nan_rows = np.union1d(nan_rows, np.flatnonzero(blank))
    if len(nan_rows):
        problems.add(f"{len(nan_rows)} missing or non-finite value(s) (NaN/inf), first at "
                     f"{source.row(int(nan_rows[0]))}", file=file, location=f"column {col!r}",
                     expected="a finite number in every row (fill gaps before use)")
    negative = np.flatnonzero(values < 0)
    if len(negative):
        i = int(negative[0])
        problems.add(f"{len(negative)} negative value(s), first {values[i]:g} at "
                     f"{source.row(i)}", file=file, location=f"column {col!r}",
                     expected="values ≥ 0")
    if ref.unit == "fraction":
        above = np.flatnonzero(values > 1)
        if len(above):
            i = int(above[0])
            percent = bool(np.nanmax(values) <= 100)
            problems.add(_MSG_PERCENT_CF.format(value=values[i], row=source.row(i)) if percent
                         else f"capacity factor {values[i]:g} above 1 at {source.row(i)}",
                         file=file, location=f"column {col!r}",
                         expected="fractions 0..1" + (": divide the column by 100" if percent
                                                      else ""))

    if ref.label == "interval_ending":
        step = _step_minutes(ts)
        if step:
            ts = ts - pd.Timedelta(minutes=step)

    dup = np.flatnonzero(ts.duplicated())
    if len(dup):
        i = int(dup[0])
        problems.add(f"duplicate time stamp {ts[i]} ({len(dup)} duplicate(s))", file=file,
                     location=f"{source.row(i)}, column {ref.timestamp_column!r}",
                     expected="each interval once")
    back = np.flatnonzero(np.diff(ts.as_unit("ns").asi8) < 0)
    if len(back) and not len(dup):
        i = int(back[0]) + 1
        problems.add(f"time stamps not sorted: {ts[i]} comes after {ts[i - 1]}", file=file,
                     location=f"{source.row(i)}, column {ref.timestamp_column!r}",
                     expected="time stamps in increasing order")
    problems.raise_if_any()

    step = _step_minutes(ts)
    target_step = int((index[1] - index[0]).total_seconds() // 60)
    if step not in (15, 60):
        raise InputError(Problem(f"time step of {step} minutes", file=file,
                                 location=f"column {ref.timestamp_column!r}",
                                 expected="15-minute or hourly rows"))
    year = index[0].year
    data_year = ref.reuse_year if ref.reuse_year is not None else year
    own_index = year_index(data_year, step, tz)
    if len(ts) != len(own_index) or not (ts == own_index).all():
        raise InputError(_coverage_problem(ts, own_index, data_year, step, ref, file))
    if data_year != year:
        values = reuse_year_values(values, own_index, year_index(year, step, tz))

    scale = {"kW": 1.0, "kWh": 1.0, "MW": 1000.0, "MWh": 1000.0, "fraction": 1.0}[ref.unit]
    values = values * scale
    if ref.unit in ("kW", "MW"):
        values = values * step / 60.0  # mean power over the interval -> energy in it
    if step == target_step:
        return values
    if step == 60 and target_step == 15:
        per = 4
        return np.repeat(values / (per if ref.unit != "fraction" else 1), per)
    # 15-minute file onto an hourly year
    grouped = values.reshape(-1, 4)
    return grouped.mean(axis=1) if ref.unit == "fraction" else grouped.sum(axis=1)


def _step_minutes(ts: pd.DatetimeIndex) -> int:
    if len(ts) < 2:
        return 0
    return round(float(np.median(np.diff(ts.as_unit("ns").asi8))) / 60e9)
