"""Time series of a scenario: reading CSV/Parquet series onto the year's interval index
(:func:`greenlink.flows.year_index`).

greenlink labels every interval by its **beginning**, timezone-aware. A series file must have a
timestamp column whose values carry a UTC offset (or the reference names the zone they are local
to), one row per interval of the scenario year, no gaps, no duplicates, sorted, numeric and
finite. Hourly files are spread evenly onto a 15-minute year and 15-minute files summed onto an
hourly one.
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

_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")


@lru_cache(maxsize=16)
def _read_table(path: Path, mtime: float) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
    except Exception as exc:  # the reader's own message is the best description
        raise InputError(Problem(f"cannot read file: {exc}", file=str(path),
                                 expected="a CSV or Parquet table")) from None
    raise InputError(Problem(f"unsupported file type {suffix!r}", file=str(path),
                             expected="a .csv or .parquet file"))


def read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(Problem("series file not found", file=str(path),
                                 expected="an existing CSV or Parquet file"))
    return _read_table(path.resolve(), path.stat().st_mtime)


def _row(i: int, is_csv: bool) -> str:
    # CSV: header is line 1, so data row i (0-based) is line i + 2
    return f"line {i + 2}" if is_csv else f"row {i}"


def _parse_timestamps(raw: pd.Series, ref: SeriesRef, file: str, is_csv: bool,
                      timezone: str) -> pd.DatetimeIndex:
    col = ref.timestamp_column
    if pd.api.types.is_datetime64_any_dtype(raw):
        ts = pd.DatetimeIndex(raw)
        if ts.tz is None and ref.timezone is None:
            raise InputError(Problem(f"time stamps in column {col!r} have no time zone", file=file,
                                     expected="tz-aware time stamps, or 'timezone' on the series"))
        if ts.tz is None:
            return _localize(ts, ref, file, is_csv)
        return ts.tz_convert(timezone)
    text = raw.astype(str).str.strip()
    has_offset = text.str.contains(_OFFSET)
    if ref.timezone is None:
        if not has_offset.all():
            i = int(np.argmin(has_offset.to_numpy()))
            raise InputError(Problem(
                f"time stamp {text.iloc[i]!r} has no time zone / UTC offset", file=file,
                location=f"{_row(i, is_csv)}, column {col!r}",
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
        naive = pd.DatetimeIndex(pd.to_datetime(text, format="ISO8601"))
    except (ValueError, TypeError) as exc:
        raise InputError(Problem(f"unreadable time stamp: {exc}", file=file,
                                 location=f"column {col!r}", expected="ISO 8601 time stamps"))\
            from None
    return _localize(naive, ref, file, is_csv).tz_convert(timezone)


def _localize(naive: pd.DatetimeIndex, ref: SeriesRef, file: str,
              is_csv: bool) -> pd.DatetimeIndex:
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
            location=f"{_row(i, is_csv)}, column {ref.timestamp_column!r}",
            expected="time stamps with a UTC offset, which are never ambiguous"))
    return gap


def read_series(ref: SeriesRef, base_dir: Path, index: pd.DatetimeIndex, what: str) -> np.ndarray:
    """Read one series onto the scenario's ``index``.

    Returns energy per interval in kWh for power/energy units, or the plain fraction for
    ``unit = "fraction"``. ``what`` names the field for messages (e.g. ``users[0].load``).
    """
    path = (base_dir / ref.path) if not Path(ref.path).is_absolute() else Path(ref.path)
    file = str(path)
    table = read_table(path)
    is_csv = path.suffix.lower() == ".csv"
    problems = ProblemList()
    for col in (ref.timestamp_column, ref.column):
        if col not in table.columns:
            close = [c for c in table.columns if c.lower() == col.lower()]
            problems.add(f"column {col!r} not found (named by {what})", file=file,
                         expected="one of: " + ", ".join(map(str, table.columns))
                         + (f"; did you mean {close[0]!r}?" if close else ""))
    problems.raise_if_any()
    col = ref.column
    unit_in_name = re.search(r"_(kw|kwh|mw|mwh)$", col.lower())
    if unit_in_name and ref.unit != "fraction":
        named = {"kw": "kW", "kwh": "kWh", "mw": "MW", "mwh": "MWh"}[unit_in_name.group(1)]
        if named != ref.unit:
            raise InputError(Problem(
                f"column {col!r} is in {named} by its name but {what}.unit says {ref.unit}",
                file=file, location=f"column {col!r}",
                expected=f"unit = \"{named}\" (greenlink converts) or a column in {ref.unit}"))

    tz = str(index.tz)
    ts = _parse_timestamps(table[ref.timestamp_column], ref, file, is_csv, tz)
    values_raw = table[col]
    values = pd.to_numeric(values_raw, errors="coerce").to_numpy(dtype=float)
    blank = values_raw.astype(str).str.strip().isin(["", "nan", "NaN", "NA", "null"]).to_numpy()
    not_numeric = np.flatnonzero(np.isnan(values) & ~blank)
    if len(not_numeric):
        i = int(not_numeric[0])
        problems.add(f"value {values_raw.iloc[i]!r} is not a number", file=file,
                     location=f"{_row(i, is_csv)}, column {col!r}", expected="a number")
    nan_rows = np.flatnonzero(~np.isfinite(values) & (blank | ~np.isnan(values)))
    nan_rows = np.union1d(nan_rows, np.flatnonzero(blank))
    if len(nan_rows):
        problems.add(f"{len(nan_rows)} missing or non-finite value(s) (NaN/inf), first at "
                     f"{_row(int(nan_rows[0]), is_csv)}", file=file, location=f"column {col!r}",
                     expected="a finite number in every row (fill gaps before use)")
    negative = np.flatnonzero(values < 0)
    if len(negative):
        i = int(negative[0])
        problems.add(f"{len(negative)} negative value(s), first {values[i]:g} at "
                     f"{_row(i, is_csv)}", file=file, location=f"column {col!r}",
                     expected="values ≥ 0")
    if ref.unit == "fraction":
        above = np.flatnonzero(values > 1)
        if len(above):
            i = int(above[0])
            problems.add(f"capacity factor {values[i]:g} above 1 at {_row(i, is_csv)}",
                         file=file, location=f"column {col!r}", expected="fractions 0..1")

    if ref.label == "interval_ending":
        step = _step_minutes(ts)
        if step:
            ts = ts - pd.Timedelta(minutes=step)

    dup = np.flatnonzero(ts.duplicated())
    if len(dup):
        i = int(dup[0])
        problems.add(f"duplicate time stamp {ts[i]} ({len(dup)} duplicate(s))", file=file,
                     location=f"{_row(i, is_csv)}, column {ref.timestamp_column!r}",
                     expected="each interval once")
    back = np.flatnonzero(np.diff(ts.as_unit("ns").asi8) < 0)
    if len(back) and not len(dup):
        i = int(back[0]) + 1
        problems.add(f"time stamps not sorted: {ts[i]} comes after {ts[i - 1]}", file=file,
                     location=f"{_row(i, is_csv)}, column {ref.timestamp_column!r}",
                     expected="time stamps in increasing order")
    problems.raise_if_any()

    step = _step_minutes(ts)
    target_step = int((index[1] - index[0]).total_seconds() // 60)
    expected_rows = len(index) * target_step // step if step in (15, 60) else len(index)
    if step not in (15, 60):
        raise InputError(Problem(f"time step of {step} minutes", file=file,
                                 location=f"column {ref.timestamp_column!r}",
                                 expected="15-minute or hourly rows"))
    own_index = year_index(index[0].year, step, tz)
    if len(ts) != len(own_index) or not (ts == own_index).all():
        missing = own_index.difference(ts)
        extra = ts.difference(own_index)
        detail = []
        if len(missing):
            detail.append(f"{len(missing)} interval(s) missing, first {missing[0]}")
        if len(extra):
            detail.append(f"{len(extra)} outside the year {index[0].year}, first {extra[0]}")
        raise InputError(Problem(
            f"{len(ts)} rows do not cover the year: " + "; ".join(detail), file=file,
            location=f"column {ref.timestamp_column!r}",
            expected=f"{expected_rows} {step}-minute rows from {own_index[0]} to {own_index[-1]}"))

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
