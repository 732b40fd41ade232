"""Model-ready inputs: the scenario turned into arrays over the year's intervals.

scenario (validated TOML) → :func:`build_inputs` → :class:`ParkInputs` (loads per user, available
generation per plant, tariff prices per interval) → dispatch / optimise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from greenlink.errors import GreenlinkError, InputError, Problem
from greenlink.flows import year_index
from greenlink.resource.weather import WeatherYear
from greenlink.scenario.load import LoadedScenario
from greenlink.scenario.model import Scenario, Tariff
from greenlink.scenario.series import read_series

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ParkInputs:
    """Arrays over the intervals of the scenario year (index = interval beginnings)."""

    scenario: Scenario
    source: Path | None
    index: pd.DatetimeIndex
    load_kwh: np.ndarray  # (T, U) per user, in scenario.users order
    generation_kwh: dict[str, np.ndarray]  # available generation per plant id, (T,)
    price_per_kwh: np.ndarray  # (T,) import price
    tariff_period: np.ndarray  # (T,) period name
    weather: WeatherYear | None

    @property
    def interval_hours(self) -> float:
        return self.scenario.time.interval_minutes / 60.0

    @property
    def total_generation_kwh(self) -> np.ndarray:
        if not self.generation_kwh:
            return np.zeros(len(self.index))
        return np.sum(list(self.generation_kwh.values()), axis=0)


def builtin_weather_path(name: str) -> Path:
    """Path of a weather file shipped with greenlink (``builtin:<file name>``)."""
    folder = resources.files("greenlink") / "data" / "weather"
    aliases = {"nanjing": "CHN_JS_Nanjing.582380_TMYx.2009-2023.epw"}
    candidate = folder / aliases.get(name.lower(), name)
    if not candidate.is_file():
        shipped = sorted(p.name for p in folder.iterdir() if p.name.endswith((".epw", ".csv")))
        raise InputError(Problem(f"no built-in weather file {name!r}", location="weather.path",
                                 expected="builtin:nanjing or one of " + ", ".join(shipped)))
    return Path(str(candidate))


def tariff_periods(tariff: Tariff, index: pd.DatetimeIndex) -> np.ndarray:
    """Name of the time-of-use period of every interval (local wall-clock time)."""
    months = index.month.to_numpy()
    minutes = (index.hour * 60 + index.minute).to_numpy()
    key = months * 1440 + minutes
    out = np.empty(len(index), dtype=object)
    for k in np.unique(key):
        out[key == k] = tariff.period_of(int(k // 1440), int(k % 1440))
    return out


def _weather(loaded: LoadedScenario) -> WeatherYear | None:
    from greenlink.resource.weather import load_weather

    sc = loaded.scenario
    w = sc.weather
    if w is None:
        return None
    path: Path | None = None
    if w.path:
        path = (builtin_weather_path(w.path.split(":", 1)[1]) if w.path.startswith("builtin:")
                else (loaded.base_dir / w.path))
    return load_weather(kind=w.kind, path=path, year=sc.time.year, timezone=sc.site.timezone,
                        latitude=sc.site.latitude, longitude=sc.site.longitude,
                        altitude_m=sc.site.altitude_m, time_shift=w.time_shift,
                        calibration=w.calibration, station_id=w.station, seed=w.seed)


def pv_generation(sc: Scenario, weather: WeatherYear, index: pd.DatetimeIndex
                  ) -> dict[str, np.ndarray]:
    """AC energy [kWh] per interval of every PV plant of the scenario in a weather year."""
    from greenlink.resource.pv import pv_energy_kwh

    return {plant.id: pv_energy_kwh(
        weather, capacity_kw_dc=plant.capacity_kw_dc, tilt_deg=plant.tilt_deg,
        azimuth_deg=plant.azimuth_deg, losses_percent=plant.losses_percent,
        dc_ac_ratio=plant.dc_ac_ratio, inverter_efficiency=plant.inverter_efficiency,
        gamma_pdc_per_k=plant.gamma_pdc_per_k, mounting=plant.mounting,
        latitude=sc.site.latitude, longitude=sc.site.longitude,
        altitude_m=sc.site.altitude_m, index=index) for plant in sc.pv}


def build_inputs(loaded: LoadedScenario, progress: Progress | None = None) -> ParkInputs:
    """Read every series and model every plant; report all series problems at once."""
    from greenlink.resource.wind import wind_energy_kwh

    sc = loaded.scenario
    say = progress or (lambda _msg: None)
    index = year_index(sc.time.year, sc.time.interval_minutes, sc.site.timezone)
    problems: list[Problem] = []
    loads = np.zeros((len(index), len(sc.users)))
    say("reading load series")
    for j, user in enumerate(sc.users):
        try:
            loads[:, j] = read_series(user.load, loaded.base_dir, index, f"users[{j}].load")
        except GreenlinkError as exc:
            problems.extend(exc.problems)
    generation: dict[str, np.ndarray] = {}
    for j, wind in enumerate(sc.wind):
        try:
            cf = read_series(wind.capacity_factor, loaded.base_dir, index,
                             f"wind[{j}].capacity_factor")
            cf_series = pd.Series(cf, index=index)
            generation[wind.id] = wind_energy_kwh(cf_series, wind.capacity_kw, index)
        except GreenlinkError as exc:
            problems.extend(exc.problems)
    weather = None
    if sc.pv:
        say("reading weather and modelling PV (pvlib)")
        try:
            weather = _weather(loaded)
        except GreenlinkError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    if sc.pv:
        assert weather is not None
        generation.update(pv_generation(sc, weather, index))
    periods = tariff_periods(sc.tariff, index)
    prices = np.array([sc.tariff.prices_per_kwh[p] for p in periods], dtype=float)
    return ParkInputs(scenario=sc, source=loaded.path, index=index, load_kwh=loads,
                      generation_kwh=generation, price_per_kwh=prices, tariff_period=periods,
                      weather=weather)
