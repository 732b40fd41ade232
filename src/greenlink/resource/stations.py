"""Station climatology shipped as data: monthly mean GHI of CMA stations and the statistics of
their daily clearness index.

See ``data/weather/SOURCES.md`` for the sources of the tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pandas as pd

from greenlink.errors import InputError, Problem

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_COLUMNS = [f"ghi_{m}_kwh_m2" for m in _MONTHS]


@dataclass(frozen=True)
class StationClimate:
    """Monthly climatology of one station."""

    station_id: str
    name: str
    province: str
    latitude: float
    longitude: float
    altitude_m: float
    monthly_ghi_kwh_m2: tuple[float, ...]  # 12 values, Jan..Dec
    dhi_fraction: float
    reference_specific_yield_kwh_per_kwp: float | None
    reference_tilt_deg: float | None

    @property
    def annual_ghi_kwh_m2(self) -> float:
        return float(sum(self.monthly_ghi_kwh_m2))


@lru_cache(maxsize=1)
def station_table() -> pd.DataFrame:
    """The shipped station table, one row per station, indexed by WMO id (5 digits, as text)."""
    path = resources.files("greenlink") / "data" / "weather" / "station_monthly_ghi.csv"
    with path.open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype={"station_id": str})
    return table.set_index("station_id")


def _row_to_climate(station_id: str, row: pd.Series) -> StationClimate:
    def opt(value: object) -> float | None:
        f = float(value)  # type: ignore[arg-type]
        return None if math.isnan(f) else f

    return StationClimate(
        station_id=station_id,
        name=str(row["name"]),
        province=str(row["province"]),
        latitude=float(row["latitude"]),
        longitude=float(row["longitude"]),
        altitude_m=float(row["altitude_m"]),
        monthly_ghi_kwh_m2=tuple(float(row[c]) for c in _MONTH_COLUMNS),
        dhi_fraction=float(row["dhi_fraction"]),
        reference_specific_yield_kwh_per_kwp=opt(row["reference_specific_yield_kwh_per_kwp"]),
        reference_tilt_deg=opt(row["reference_tilt_deg"]),
    )


def station_climate(station_id: str) -> StationClimate:
    """Climatology of one station by WMO id (5 digits; a 6-digit WMO+0 id is accepted)."""
    table = station_table()
    key = station_id[:5] if len(station_id) == 6 and station_id.endswith("0") else station_id
    if key not in table.index:
        raise InputError(Problem(f"unknown weather station {station_id!r}",
                                 location="weather.station",
                                 expected="one of " + ", ".join(table.index)))
    return _row_to_climate(key, table.loc[key])  # type: ignore[arg-type]


def nearest_station(latitude: float, longitude: float) -> StationClimate:
    """The shipped station closest to a site (great-circle distance)."""
    table = station_table()
    lat1, lon1 = math.radians(latitude), math.radians(longitude)
    best, best_d = "", math.inf
    for sid, row in table.iterrows():
        lat2, lon2 = math.radians(float(row["latitude"])), math.radians(float(row["longitude"]))
        d = math.acos(min(1.0, math.sin(lat1) * math.sin(lat2)
                          + math.cos(lat1) * math.cos(lat2) * math.cos(lon2 - lon1)))
        if d < best_d:
            best, best_d = str(sid), d
    return _row_to_climate(best, table.loc[best])  # type: ignore[arg-type]


@dataclass(frozen=True)
class DailyKtStatistics:
    """Daily clearness-index statistics of a station (``data/weather/station_daily_kt.csv``)."""

    station_id: str
    kt_p10: float
    kt_p50: float
    kt_p90: float
    lag1: float
    statistics_of: str
    note: str


@lru_cache(maxsize=32)
def station_daily_kt(station_id: str) -> DailyKtStatistics | None:
    """The shipped daily-Kt statistics of a station (None when the station has none)."""
    path = resources.files("greenlink") / "data" / "weather" / "station_daily_kt.csv"
    with path.open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype={"station_id": str, "statistics_of": str})
    row = table[table["station_id"] == station_id[:5]]
    if row.empty:
        return None
    r = row.iloc[0]
    return DailyKtStatistics(station_id=str(r["station_id"]), kt_p10=float(r["kt_p10"]),
                             kt_p50=float(r["kt_p50"]), kt_p90=float(r["kt_p90"]),
                             lag1=float(r["lag1"]), statistics_of=str(r["statistics_of"]),
                             note=str(r["note"]))
