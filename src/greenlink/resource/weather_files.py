"""Reading weather files (EPW, PVGIS TMY, TMY3) into the canonical hourly table of
:mod:`greenlink.resource.weather`: values checked, the year coerced to the scenario's."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pandas as pd

from greenlink.errors import InputError, Problem

WEATHER_COLUMNS: tuple[str, ...] = ("ghi", "dni", "dhi", "temp_air", "wind_speed")
"""Canonical columns of an hourly weather table."""

WeatherFormat = Literal["epw", "pvgis_tmy", "tmy3"]
WeatherKind = Literal["epw", "pvgis_tmy", "tmy3", "synthetic"]

FORMATS: tuple[str, ...] = ("epw", "pvgis_tmy", "tmy3")
_KINDS: tuple[str, ...] = (*FORMATS, "synthetic")

# Plausible ranges of the canonical columns; values outside mean missing-value codes
# (EPW uses 9999 for radiation, 99.9 for temperature, 999 for wind) or a broken file.
_RANGES: dict[str, tuple[float, float, str]] = {
    "ghi": (0.0, 1500.0, "W/m²"),
    "dni": (0.0, 1500.0, "W/m²"),
    "dhi": (0.0, 1500.0, "W/m²"),
    "temp_air": (-70.0, 65.0, "°C"),
    "wind_speed": (0.0, 75.0, "m/s"),
}

# How each reader labels its rows and how many lines precede the first data row (for messages).
FORMAT_TEXT: dict[str, str] = {
    "epw": "an EnergyPlus weather file (.epw) with 8 header lines and 8760 hourly rows",
    "pvgis_tmy": "a PVGIS TMY export (.csv or .json) with 8760 hourly rows",
    "tmy3": "an NREL TMY3 file (.csv) with 2 header lines and 8760 hourly rows",
}
_HEADER_LINES: dict[str, int | None] = {"epw": 8, "tmy3": 2, "pvgis_tmy": None}



def _open_text(path: Path) -> IO[str]:
    """A weather file as text; ``.gz`` files (the shipped EPWs) are decompressed on the fly."""
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return path.open("r", encoding="utf-8", errors="replace")


def _read_raw(path: Path, fmt: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Call the pvlib reader; the index is interval-beginning in the file's own time zone."""
    from pvlib import iotools

    if fmt == "epw":
        # an open file, never a name: pvlib would download a name starting with "http"
        with _open_text(path) as fh:
            data, meta = iotools.read_epw(fh)
        return data, dict(meta)
    if fmt == "tmy3":
        data, meta = iotools.read_tmy3(str(path), map_variables=True)
        # pvlib labels TMY3 rows by the end of the hour (and mislabels "02/28 24:00" of a leap
        # source year); greenlink labels interval beginnings: file date + (HH - 1) h.
        hour = data["Time (HH:MM)"].astype(str).str.split(":").str[0].astype(int)
        dates = pd.to_datetime(data["Date (MM/DD/YYYY)"], format="%m/%d/%Y")
        begin = pd.DatetimeIndex(dates + pd.to_timedelta(hour - 1, unit="h"))
        data.index = begin.tz_localize(data.index.tz)
        return data, dict(meta)
    suffix = path.suffix.lower().lstrip(".")
    pvgis_format = suffix if suffix in ("csv", "json", "epw") else "csv"
    data, meta = iotools.read_pvgis_tmy(str(path), pvgis_format=pvgis_format, map_variables=True)
    return data, dict(meta)


def _metadata(fmt: str, raw: dict[str, Any], path: Path) -> dict[str, Any]:
    """Normalised metadata: latitude, longitude, altitude_m, name, format, file, raw."""
    if fmt == "epw":
        lat, lon, alt = raw.get("latitude"), raw.get("longitude"), raw.get("altitude")
        name = " ".join(str(raw.get(k, "")) for k in ("city", "state-prov", "country")).strip()
        station = str(raw.get("WMO_code", ""))
        data_type = str(raw.get("data_type", ""))
    elif fmt == "tmy3":
        lat, lon, alt = raw.get("latitude"), raw.get("longitude"), raw.get("altitude")
        name = str(raw.get("Name", "")).strip('"')
        station = str(raw.get("USAF", ""))
        data_type = "TMY3"
    else:
        inputs = raw.get("inputs", {})
        location = inputs.get("location", {}) if isinstance(inputs, dict) else {}
        lat = location.get("latitude", inputs.get("latitude"))
        lon = location.get("longitude", inputs.get("longitude"))
        alt = location.get("elevation", inputs.get("elevation"))
        name, station, data_type = "PVGIS TMY", "", "PVGIS TMY"
    return {
        "latitude": None if lat is None else float(lat),
        "longitude": None if lon is None else float(lon),
        "altitude_m": None if alt is None else float(alt),
        "name": name,
        "station": station,
        "data_type": data_type,
        "format": fmt,
        "file": str(path),
        "raw": raw,
    }


def _check_values(data: pd.DataFrame, path: Path, fmt: str) -> None:
    """Raise on missing columns, non-numeric, NaN or out-of-range values (first bad row)."""
    missing = [c for c in WEATHER_COLUMNS if c not in data.columns]
    if missing:
        raise InputError(Problem(f"weather file lacks the columns {', '.join(missing)}",
                                 file=str(path), expected=FORMAT_TEXT[fmt]))
    header = _HEADER_LINES[fmt]
    for column in WEATHER_COLUMNS:
        values = pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=float)
        low, high, unit = _RANGES[column]
        bad = np.flatnonzero(~np.isfinite(values) | (values < low) | (values > high))
        if bad.size:
            row = int(bad[0]) + 1
            where = f"data row {row}" + (f" (line {row + header})" if header else "")
            raw_value = data[column].iloc[int(bad[0])]
            raise InputError(Problem(
                f"{column} = {raw_value} is missing or out of range ({bad.size} rows affected)",
                file=str(path), location=where,
                expected=f"{column} between {low:g} and {high:g} {unit}"))


def _coerce_year(data: pd.DataFrame, year: int, timezone: str) -> pd.DataFrame:
    """Move a typical year onto ``year`` and express it in ``timezone``.

    Each row keeps its month, day and hour in the file's own (standard-time) zone; 29 February
    is dropped in a common year and filled with 28 February in a leap year. The table is then
    converted to ``timezone`` and the hours that fall outside the scenario year there (the time
    zone difference) are wrapped around to its other end, so the result is one regular hourly
    year ``[year-01-01 00:00, year+1-01-01 00:00)`` in ``timezone``.
    """
    index = pd.DatetimeIndex(data.index)
    tz = index.tz
    leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0
    keep = ~((index.month == 2) & (index.day == 29))
    frame = data.loc[keep]
    index = index[keep]
    stamps = pd.DatetimeIndex(pd.to_datetime({
        "year": np.full(len(index), year), "month": index.month, "day": index.day,
        "hour": index.hour, "minute": index.minute}))
    frame = frame.set_axis(stamps.tz_localize(tz))
    if leap:
        fidx = pd.DatetimeIndex(frame.index)
        feb28 = frame.loc[(fidx.month == 2) & (fidx.day == 28)]
        feb29 = feb28.set_axis(pd.DatetimeIndex(feb28.index) + pd.Timedelta(days=1))
        frame = pd.concat([frame, feb29]).sort_index()
    frame = frame.tz_convert(timezone)
    start = pd.Timestamp(year=year, month=1, day=1, tz=timezone)
    end = pd.Timestamp(year=year + 1, month=1, day=1, tz=timezone)
    period = end - start
    fidx = pd.DatetimeIndex(frame.index)
    new_index = fidx.where(fidx < end, fidx - period)
    new_index = new_index.where(new_index >= start, new_index + period)
    return frame.set_axis(new_index).sort_index()


def read_weather_file(path: str | Path, fmt: str, year: int,
                      timezone: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read an hourly typical-year weather file onto the scenario year.

    Parameters
    ----------
    path : str or pathlib.Path
        The weather file.
    fmt : {"epw", "pvgis_tmy", "tmy3"}
        File format; read with ``pvlib.iotools.read_epw``, ``read_pvgis_tmy`` or ``read_tmy3``.
    year : int
        Scenario year the typical year is moved onto.
    timezone : str
        IANA time zone of the result's index, e.g. ``"Asia/Shanghai"``.

    Returns
    -------
    data : pandas.DataFrame
        8760 (8784 in a leap year) hourly rows covering ``year`` in ``timezone``,
        interval-beginning labels as pvlib gives them (TMY3: pvlib's hour-ending index minus
        1 h); columns ``ghi``, ``dni``, ``dhi`` [W/m²], ``temp_air`` [°C], ``wind_speed`` [m/s].
    metadata : dict
        ``latitude``, ``longitude`` [°], ``altitude_m`` [m], ``name``, ``station``,
        ``data_type``, ``format``, ``file`` and the reader's own metadata under ``raw``.

    Raises
    ------
    InputError
        If the file is missing, unreadable, truncated, not hourly, or holds missing or
        implausible values; the error names the file and what was expected.
    """
    path = Path(path)
    if fmt not in FORMATS:
        raise InputError(Problem(f"unknown weather file format {fmt!r}", file=str(path),
                                 location="weather.format", expected=" or ".join(FORMATS)))
    try:
        pd.Timestamp(year=year, month=1, day=1, tz=timezone)
    except Exception as exc:  # unknown zone names raise several exception types
        raise InputError(Problem(f"unknown time zone {timezone!r} ({exc})",
                                 location="site.timezone",
                                 expected="an IANA time zone such as 'Asia/Shanghai'")) from exc
    if not path.is_file():
        raise InputError(Problem("weather file not found", file=str(path),
                                 expected=FORMAT_TEXT[fmt]))
    try:
        raw_data, raw_meta = _read_raw(path, fmt)
    except Exception as exc:  # pvlib readers fail with many types on a broken file
        raise InputError(Problem(f"cannot read the weather file ({type(exc).__name__}: {exc})",
                                 file=str(path), expected=FORMAT_TEXT[fmt])) from exc
    if not isinstance(raw_data.index, pd.DatetimeIndex) or raw_data.index.tz is None:
        raise InputError(Problem("the weather file has no usable time stamps", file=str(path),
                                 expected=FORMAT_TEXT[fmt]))
    n_rows = len(raw_data)
    if n_rows not in (8760, 8784):
        raise InputError(Problem(f"the weather file has {n_rows} data rows", file=str(path),
                                 expected=FORMAT_TEXT[fmt] + " (8784 in a leap year)"))
    _check_values(raw_data, path, fmt)
    data = raw_data[list(WEATHER_COLUMNS)].apply(pd.to_numeric).astype(float)
    data = _coerce_year(data, year, timezone)
    expected_hours = int((pd.Timestamp(year=year + 1, month=1, day=1, tz=timezone)
                          - pd.Timestamp(year=year, month=1, day=1, tz=timezone))
                         / pd.Timedelta(hours=1))
    steps_s = np.diff(pd.DatetimeIndex(data.index).as_unit("s").asi8)
    if len(data) != expected_hours or not np.all(steps_s == 3600):
        raise InputError(Problem("the weather file does not cover every hour of a year once",
                                 file=str(path), expected=FORMAT_TEXT[fmt]))
    data.index.name = "time"
    return data, _metadata(fmt, raw_meta, path)
