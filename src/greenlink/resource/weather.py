"""Hourly weather years: file import (EPW, PVGIS TMY, TMY3), sun-fit time shift, calibration.

Every weather year in greenlink is one regular hourly table over the scenario year with a
timezone-aware, interval-beginning index and the canonical columns

=============  =======  ======================================================
column         unit     meaning
=============  =======  ======================================================
``ghi``        W/m²     global horizontal irradiance, mean over the hour
``dni``        W/m²     direct normal irradiance, mean over the hour
``dhi``        W/m²     diffuse horizontal irradiance, mean over the hour
``temp_air``   °C       air temperature
``wind_speed`` m/s      wind speed (usually at 10 m)
=============  =======  ======================================================

Weather files disagree on which instant an hourly value belongs to (by up to 1.5 h, see the
research note ``weather-data.md`` §2.4), so the index is kept as the reader gives it and the
fitted offset is carried next to it: the sun position that matches a value is the one at
``label + time_shift_minutes``.
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pandas as pd

from greenlink.errors import InputError, Problem

WEATHER_COLUMNS: tuple[str, ...] = ("ghi", "dni", "dhi", "temp_air", "wind_speed")
"""Canonical columns of an hourly weather table."""

WeatherFormat = Literal["epw", "pvgis_tmy", "tmy3"]
WeatherKind = Literal["epw", "pvgis_tmy", "tmy3", "synthetic"]

_FORMATS: tuple[str, ...] = ("epw", "pvgis_tmy", "tmy3")
_KINDS: tuple[str, ...] = (*_FORMATS, "synthetic")

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
_FORMAT_TEXT: dict[str, str] = {
    "epw": "an EnergyPlus weather file (.epw) with 8 header lines and 8760 hourly rows",
    "pvgis_tmy": "a PVGIS TMY export (.csv or .json) with 8760 hourly rows",
    "tmy3": "an NREL TMY3 file (.csv) with 2 header lines and 8760 hourly rows",
}
_HEADER_LINES: dict[str, int | None] = {"epw": 8, "tmy3": 2, "pvgis_tmy": None}


@dataclass(frozen=True)
class WeatherYear:
    """One hourly weather year ready for the PV model.

    Attributes
    ----------
    data : pandas.DataFrame
        Hourly table over the scenario year (8760 or 8784 rows), timezone-aware,
        interval-beginning index, columns ``ghi``, ``dni``, ``dhi`` [W/m²], ``temp_air`` [°C],
        ``wind_speed`` [m/s].
    source : str
        Where the data come from (file name and station, or the synthetic generator).
    time_shift_minutes : int
        Offset [min] such that the solar time of each value is ``label + time_shift_minutes``.
    calibration : str
        Which calibration was applied, e.g. ``"none"`` or ``"station 58238 monthly means"``.
    notes : tuple of str
        Human-readable messages about the import (shift found, scaling, biases).
    """

    data: pd.DataFrame
    source: str
    time_shift_minutes: int
    calibration: str
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# reading files
# --------------------------------------------------------------------------------------------


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
                                 file=str(path), expected=_FORMAT_TEXT[fmt]))
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
    if fmt not in _FORMATS:
        raise InputError(Problem(f"unknown weather file format {fmt!r}", file=str(path),
                                 location="weather.format", expected=" or ".join(_FORMATS)))
    try:
        pd.Timestamp(year=year, month=1, day=1, tz=timezone)
    except Exception as exc:  # unknown zone names raise several exception types
        raise InputError(Problem(f"unknown time zone {timezone!r} ({exc})",
                                 location="site.timezone",
                                 expected="an IANA time zone such as 'Asia/Shanghai'")) from exc
    if not path.is_file():
        raise InputError(Problem("weather file not found", file=str(path),
                                 expected=_FORMAT_TEXT[fmt]))
    try:
        raw_data, raw_meta = _read_raw(path, fmt)
    except Exception as exc:  # pvlib readers fail with many types on a broken file
        raise InputError(Problem(f"cannot read the weather file ({type(exc).__name__}: {exc})",
                                 file=str(path), expected=_FORMAT_TEXT[fmt])) from exc
    if not isinstance(raw_data.index, pd.DatetimeIndex) or raw_data.index.tz is None:
        raise InputError(Problem("the weather file has no usable time stamps", file=str(path),
                                 expected=_FORMAT_TEXT[fmt]))
    n_rows = len(raw_data)
    if n_rows not in (8760, 8784):
        raise InputError(Problem(f"the weather file has {n_rows} data rows", file=str(path),
                                 expected=_FORMAT_TEXT[fmt] + " (8784 in a leap year)"))
    _check_values(raw_data, path, fmt)
    data = raw_data[list(WEATHER_COLUMNS)].apply(pd.to_numeric).astype(float)
    data = _coerce_year(data, year, timezone)
    expected_hours = int((pd.Timestamp(year=year + 1, month=1, day=1, tz=timezone)
                          - pd.Timestamp(year=year, month=1, day=1, tz=timezone))
                         / pd.Timedelta(hours=1))
    steps_s = np.diff(pd.DatetimeIndex(data.index).as_unit("s").asi8)
    if len(data) != expected_hours or not np.all(steps_s == 3600):
        raise InputError(Problem("the weather file does not cover every hour of a year once",
                                 file=str(path), expected=_FORMAT_TEXT[fmt]))
    data.index.name = "time"
    return data, _metadata(fmt, raw_meta, path)


# --------------------------------------------------------------------------------------------
# time shift against the sun
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# calibration
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# loading a weather year
# --------------------------------------------------------------------------------------------


def packaged_weather_file(name: str) -> Path:
    """Path of a weather file shipped in ``greenlink/data/weather`` by its catalogue name or file
    name (:mod:`greenlink.resource.builtin_weather`; SOURCES.md there)."""
    from greenlink.resource.builtin_weather import builtin_weather_path

    return builtin_weather_path(name)


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    c = (math.sin(p1) * math.sin(p2)
         + math.cos(p1) * math.cos(p2) * math.cos(math.radians(lon2 - lon1)))
    return 6371.0 * math.acos(max(-1.0, min(1.0, c)))


_INDEX_TEXT = {
    "epw": "pvlib's EPW index",
    "tmy3": "pvlib's TMY3 index minus 1 h",
    "pvgis_tmy": "the PVGIS UTC hour labels",
}

# user-facing texts of the synthetic year (one place, for translation later)
_SOURCE_SHIPPED = "{source}, shipped with greenlink as builtin:{name}"
_SOURCE_GIVEN = "synthetic (monthly means given in the scenario)"
_CALIBRATION_GIVEN = "monthly means given in the scenario"
_NOTE_GIVEN = ("synthetic weather (seed {seed}) from the monthly GHI given in the scenario, "
               "{annual:,.0f} kWh/m²/yr; day-to-day persistence of the Aguiar matrices")
_NOTE_TEMP_GIVEN = "air temperature from the monthly means given in the scenario"
_NOTE_TEMP_DEFAULT = ("air temperature: a rough estimate from latitude and altitude, not a "
                      "climatology (give monthly_temp_c for your site)")


@dataclass(frozen=True)
class SyntheticBasis:
    """What a synthetic year is drawn from: 12 monthly GHI sums [kWh/m²], optional monthly
    mean temperatures [°C], the daily-Kt persistence (None: the Markov library's own), and
    where the means come from (``station_id`` None: given in the scenario)."""

    monthly_ghi_kwh_m2: tuple[float, ...]
    monthly_temp_c: tuple[float, ...] | None
    daily_kt_lag1: float | None
    station_id: str | None
    source: str
    calibration: str
    notes: tuple[str, ...]


def synthetic_basis(latitude: float, longitude: float, seed: int = 0,
                    station_id: str | None = None,
                    monthly_ghi_kwh_m2: Sequence[float] | None = None,
                    monthly_temp_c: Sequence[float] | None = None) -> SyntheticBasis:
    """The monthly means a synthetic year of a site is drawn from: the ones given (any site),
    else the station ``station_id``'s, else the nearest shipped station's."""
    from greenlink.resource.stations import nearest_station, station_climate, station_daily_kt

    temps = None if monthly_temp_c is None else tuple(float(t) for t in monthly_temp_c)
    temp_note = _NOTE_TEMP_DEFAULT if temps is None else _NOTE_TEMP_GIVEN
    if monthly_ghi_kwh_m2 is not None:
        ghi = tuple(float(v) for v in monthly_ghi_kwh_m2)
        return SyntheticBasis(ghi, temps, None, None, _SOURCE_GIVEN, _CALIBRATION_GIVEN,
                              (_NOTE_GIVEN.format(seed=seed, annual=sum(ghi)), temp_note))
    notes: list[str] = []
    if station_id is not None:
        climate = station_climate(station_id)
    else:
        climate = nearest_station(latitude, longitude)
        km = _distance_km(latitude, longitude, climate.latitude, climate.longitude)
        notes.append(f"nearest station {climate.station_id} ({climate.name}), {km:.0f} km "
                     "from site")
    stats = station_daily_kt(climate.station_id)
    notes.append(f"synthetic weather (seed {seed}) from station {climate.station_id} "
                 f"({climate.name}) monthly GHI, {climate.annual_ghi_kwh_m2:.0f} kWh/m²/yr")
    if temps is not None:
        notes.append(temp_note)
    return SyntheticBasis(climate.monthly_ghi_kwh_m2, temps,
                          None if stats is None else stats.lag1, climate.station_id,
                          f"synthetic (station {climate.station_id})",
                          f"station {climate.station_id} monthly means", tuple(notes))


def _weather_location(location: str | None) -> str | None:
    """The scenario field of a generator argument (``monthly_ghi_kwh_m2[0]`` →
    ``weather.monthly_ghi_kwh_m2[0]``); site arguments are the site's."""
    if location is None:
        return None
    if location.startswith(("monthly_ghi_kwh_m2", "monthly_temp_c", "seed")):
        return "weather." + location
    if location in ("latitude", "longitude", "altitude_m", "timezone"):
        return "site." + location
    return location


def _file_source(path: str | Path, meta: dict[str, Any]) -> str:
    """``file name (place, station WMO id, data type)`` of a weather file."""
    described = [meta["name"]]
    if meta.get("station"):
        described.append(f"station {meta['station']}")
    if meta["data_type"] != meta["name"]:
        described.append(meta["data_type"])
    described = [d for d in described if d]
    name = Path(path).name.removesuffix(".gz")
    return name + (f" ({', '.join(described)})" if described else "")


def load_weather(kind: str, path: str | Path | None, year: int, timezone: str,
                 latitude: float, longitude: float, altitude_m: float,
                 time_shift: Literal["auto"] | int = "auto",
                 calibration: Literal["none", "station"] = "none",
                 station_id: str | None = None, seed: int = 0,
                 monthly_ghi_kwh_m2: Sequence[float] | None = None,
                 monthly_temp_c: Sequence[float] | None = None) -> WeatherYear:
    """Build the hourly weather year of a site from a file or the synthetic generator.

    Parameters
    ----------
    kind : {"epw", "pvgis_tmy", "tmy3", "synthetic"}
        A weather file of that format, or synthetic weather from monthly means (the ones
        given, or a station's).
    path : str or pathlib.Path or None
        The weather file (ignored for ``"synthetic"``); a shipped file is found with
        :func:`greenlink.resource.builtin_weather.builtin_weather_path`.
    year : int
        Scenario year.
    timezone : str
        IANA time zone of the index, e.g. ``"Asia/Shanghai"``.
    latitude, longitude : float
        Site coordinates [°]; used for the sun fit, the nearest station and the generator.
    altitude_m : float
        Site altitude [m].
    time_shift : "auto" or int, default "auto"
        ``"auto"`` fits the offset to the sun (:func:`detect_time_shift_minutes`; synthetic
        weather is centred by construction: +30 min); an int [min] is used as given.
    calibration : {"none", "station"}, default "none"
        ``"station"`` scales irradiance to the station's monthly GHI
        (:func:`calibrate_to_monthly_ghi`).
    station_id : str, optional
        WMO id of the station; default: the shipped station nearest to the site.
    seed : int, default 0
        Seed of the synthetic generator.
    monthly_ghi_kwh_m2 : sequence of 12 float, optional
        ``"synthetic"`` only: the site's GHI per month, January to December [kWh/m² per month],
        used instead of a station's (any site, in China or not).
    monthly_temp_c : sequence of 12 float, optional
        ``"synthetic"`` only: the site's mean air temperature per month [°C]; default a rough
        estimate from latitude and altitude.

    Returns
    -------
    WeatherYear

    Raises
    ------
    InputError
        On an unknown kind, calibration or station, a missing path, or a bad file.
    """
    from greenlink.resource.builtin_weather import attribution_note, builtin_for_path
    from greenlink.resource.stations import nearest_station, station_climate

    if kind not in _KINDS:
        raise InputError(Problem(f"unknown weather kind {kind!r}", location="weather.kind",
                                 expected=" or ".join(_KINDS)))
    if calibration not in ("none", "station"):
        raise InputError(Problem(f"unknown calibration {calibration!r}",
                                 location="weather.calibration", expected="'none' or 'station'"))
    if not (time_shift == "auto" or (isinstance(time_shift, int)
                                     and not isinstance(time_shift, bool)
                                     and abs(time_shift) <= 180)):
        raise InputError(Problem(f"bad time shift {time_shift!r}", location="weather.time_shift",
                                 expected="'auto' or whole minutes between -180 and 180"))
    notes: list[str] = []

    def station() -> Any:
        if station_id is not None:
            return station_climate(station_id)
        found = nearest_station(latitude, longitude)
        km = _distance_km(latitude, longitude, found.latitude, found.longitude)
        notes.append(f"nearest station {found.station_id} ({found.name}), {km:.0f} km from site")
        return found

    if kind == "synthetic":
        from greenlink.resource.synthetic import synthetic_weather

        basis = synthetic_basis(latitude, longitude, seed, station_id, monthly_ghi_kwh_m2,
                                monthly_temp_c)
        try:
            data = synthetic_weather(latitude, longitude, altitude_m, timezone, year,
                                     list(basis.monthly_ghi_kwh_m2), seed,
                                     monthly_temp_c=basis.monthly_temp_c,
                                     daily_kt_lag1=basis.daily_kt_lag1)
        except InputError as exc:  # name the scenario's fields: weather.monthly_ghi_kwh_m2[0]
            raise InputError([Problem(p.message, p.file, _weather_location(p.location),
                                      p.expected) for p in exc.problems]) from None
        shift = 30 if time_shift == "auto" else int(time_shift)
        return WeatherYear(data=data, source=basis.source, time_shift_minutes=shift,
                           calibration=basis.calibration, notes=basis.notes)

    if path is None:
        raise InputError(Problem(f"weather kind {kind!r} needs a file", location="weather.path",
                                 expected=_FORMAT_TEXT[kind]))
    data, meta = read_weather_file(path, kind, year, timezone)
    source = _file_source(path, meta)
    shipped = builtin_for_path(path)
    if shipped is not None:
        source = _SOURCE_SHIPPED.format(source=source, name=shipped.name)
        notes.append(attribution_note(shipped))
    if meta["latitude"] is not None and meta["longitude"] is not None:
        km = _distance_km(latitude, longitude, meta["latitude"], meta["longitude"])
        if km > 50:
            notes.append(f"weather file location is {km:.0f} km from the site")

    if time_shift == "auto":
        shift = detect_time_shift_minutes(data["ghi"], latitude, longitude, altitude_m)
        how = "sun fit"
    else:
        shift = int(time_shift)
        how = "given"
    notes.append(f"time stamps shifted by {shift:+d} min against {_INDEX_TEXT[kind]} ({how})")

    calibration_text = "none"
    file_annual = float(monthly_ghi_sums_kwh_m2(data).sum())
    if calibration == "station":
        climate = station()
        data = calibrate_to_monthly_ghi(data, climate.monthly_ghi_kwh_m2)
        calibration_text = f"station {climate.station_id} monthly means"
        notes.append(f"irradiance scaled month by month to station {climate.station_id} "
                     f"({climate.name}): annual GHI {file_annual:.0f} → "
                     f"{climate.annual_ghi_kwh_m2:.0f} kWh/m²")
    elif "TMYX" in meta["data_type"].upper() or "ERA5" in str(meta["raw"]).upper():
        notes.append(f"uncalibrated TMYx/ERA5 irradiance (annual GHI {file_annual:.0f} kWh/m²) "
                     "reads 10–18 % above station records over China; consider "
                     "calibration = 'station'")
    return WeatherYear(data=data, source=source, time_shift_minutes=shift,
                       calibration=calibration_text, notes=tuple(notes))
