"""Hourly weather years: loaded from a file, a shipped station or synthetic, with the fitted time
shift and calibration (file reading in :mod:`.weather_files`, the shift in :mod:`.time_shift`,
calibration in :mod:`.calibration`).

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

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from greenlink.errors import InputError, Problem
from greenlink.resource.calibration import calibrate_to_monthly_ghi, monthly_ghi_sums_kwh_m2
from greenlink.resource.time_shift import detect_time_shift_minutes
from greenlink.resource.weather_files import (
    FORMAT_TEXT,
    FORMATS,
    read_weather_file,
)

WeatherKind = Literal["epw", "pvgis_tmy", "tmy3", "synthetic"]
_KINDS: tuple[str, ...] = (*FORMATS, "synthetic")


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
                                 expected=FORMAT_TEXT[kind]))
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
