"""Model-ready inputs: the scenario turned into arrays over the year's intervals.

scenario (validated TOML) → :func:`build_inputs` → :class:`ParkInputs` (loads per user, available
generation per plant, tariff prices per interval) → dispatch / optimise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
    #: Inputs that look wrong but may be right (a unit mistake?), each once: see
    #: :func:`load_magnitude_warnings`.
    warnings: tuple[Problem, ...] = ()

    @property
    def interval_hours(self) -> float:
        return self.scenario.time.interval_minutes / 60.0

    @property
    def total_generation_kwh(self) -> np.ndarray:
        if not self.generation_kwh:
            return np.zeros(len(self.index))
        return np.sum(list(self.generation_kwh.values()), axis=0)


def builtin_weather_path(name: str) -> Path:
    """Path of a weather file shipped with greenlink (``builtin:<name>``; the catalogue in
    :mod:`greenlink.resource.builtin_weather` is the only way in)."""
    from greenlink.resource.builtin_weather import builtin_weather_path as shipped

    return shipped(name)


def weather_file_path(loaded: LoadedScenario) -> Path | None:
    """The scenario's weather file: ``builtin:<name>`` from the catalogue, an absolute path as
    written, a relative one (``../weather/site.epw`` too) from the scenario file's folder.

    A local scenario may name any file its user can read. The web service keeps uploads in
    their folder before a scenario gets here: every uploaded path must be relative without
    ``..`` (:mod:`greenlink.service.uploads`), and ``builtin:`` names only the catalogue.
    """
    w = loaded.scenario.weather
    if w is None or not w.path:
        return None
    if w.path.startswith("builtin:"):
        return builtin_weather_path(w.path.split(":", 1)[1])
    return loaded.base_dir / w.path


# user-facing texts of this module (one place, for translation later)
_MSG_TINY_LOAD = ("the loads of {users} peak at {peak:,.1f} kW together, {share:.2%} of the "
                  "{capacity:,.0f} kW grid connection: are the columns in MW (or MWh) but "
                  "declared {unit}?")
_FIX_TINY_LOAD = "unit = \"{bigger}\" on these loads if the columns are in {bigger}"
_MSG_HUGE_LOAD = ("the loads of {users} peak at {peak:,.0f} kW together, {times:,.0f} times what "
                  "the park can supply ({supply:,.0f} kW: grid connection, plants and "
                  "batteries): are the columns in {smaller} but declared {unit}?")
_FIX_HUGE_LOAD = "unit = \"{smaller}\" on these loads if the columns are in {smaller}"
#: Loads below this fraction of the grid connection look like MW declared as kW.
TINY_LOAD_SHARE = 0.005
#: Loads above this multiple of the park's supply capacity look like kW declared as MW.
HUGE_LOAD_FACTOR = 5.0
_BIGGER = {"kW": "MW", "kWh": "MWh"}
_SMALLER = {"MW": "kW", "MWh": "kWh", "kW": "W (divide by 1000)", "kWh": "Wh (divide by 1000)"}


def unique_problems(problems: list[Problem]) -> list[Problem]:
    """Each problem once (several users reading one faulty file report it once), in order."""
    seen: set[str] = set()
    out = []
    for p in problems:
        if str(p) not in seen:
            seen.add(str(p))
            out.append(p)
    return out


def load_magnitude_warnings(scenario: Scenario, base_dir: Path,
                            load_kwh: np.ndarray) -> list[Problem]:
    """Loads whose size does not fit the park: one warning per file and unit.

    The park's loads together peaking below :data:`TINY_LOAD_SHARE` of the grid connection look
    like MW declared as kW (a 98 %-green park that is not); peaking above
    :data:`HUGE_LOAD_FACTOR` × what the park can supply (grid connection, plants, batteries)
    look like kW declared as MW.
    """
    sc = scenario
    if not len(load_kwh) or not sc.users:
        return []
    hours = sc.time.interval_minutes / 60.0
    total_peak_kw = float(load_kwh.sum(axis=1).max()) / hours
    connection = sc.grid.connection_capacity_kw
    supply = (connection + sum(p.capacity_kw_dc for p in sc.pv)
              + sum(w.capacity_kw for w in sc.wind) + sum(b.power_kw for b in sc.batteries))
    tiny = total_peak_kw < TINY_LOAD_SHARE * connection
    huge = total_peak_kw > HUGE_LOAD_FACTOR * supply
    if not (tiny or huge):
        return []
    groups: dict[tuple[str, str], list[int]] = {}
    for j, user in enumerate(sc.users):
        groups.setdefault((str(base_dir / user.load.path), user.load.unit), []).append(j)
    out = []
    for (file, unit), members in groups.items():
        users = ", ".join(sc.users[j].id for j in members)
        where = ", ".join(f"users[{j}].load" for j in members)
        peak = float(load_kwh[:, members].sum(axis=1).max()) / hours
        if tiny and unit in _BIGGER:
            out.append(Problem(_MSG_TINY_LOAD.format(users=users, peak=peak,
                                                     share=peak / connection,
                                                     capacity=connection, unit=unit),
                               file=file, location=where,
                               expected=_FIX_TINY_LOAD.format(bigger=_BIGGER[unit])))
        elif huge:
            out.append(Problem(_MSG_HUGE_LOAD.format(users=users, peak=peak,
                                                     times=total_peak_kw / supply, supply=supply,
                                                     smaller=_SMALLER[unit], unit=unit),
                               file=file, location=where,
                               expected=_FIX_HUGE_LOAD.format(smaller=_SMALLER[unit])))
    return out


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
    return load_weather(kind=w.kind, path=weather_file_path(loaded), year=sc.time.year,
                        timezone=sc.site.timezone, latitude=sc.site.latitude,
                        longitude=sc.site.longitude, altitude_m=sc.site.altitude_m,
                        time_shift=w.time_shift, calibration=w.calibration, station_id=w.station,
                        seed=w.seed, monthly_ghi_kwh_m2=w.monthly_ghi_kwh_m2,
                        monthly_temp_c=w.monthly_temp_c)


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
        raise InputError(unique_problems(problems))
    warnings = unique_problems(load_magnitude_warnings(sc, loaded.base_dir, loads))
    if sc.pv:
        assert weather is not None
        generation.update(pv_generation(sc, weather, index))
    periods = tariff_periods(sc.tariff, index)
    prices = np.array([sc.tariff.prices_per_kwh[p] for p in periods], dtype=float)
    return ParkInputs(scenario=sc, source=loaded.path, index=index, load_kwh=loads,
                      generation_kwh=generation, price_per_kwh=prices, tariff_period=periods,
                      weather=weather, warnings=tuple(warnings))
