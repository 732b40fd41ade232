"""PV output from a weather year: the PVWatts chain of pvlib, then onto the scenario intervals.

Chain (hourly, at the fitted solar time ``label + time_shift_minutes`` of each weather value):
solar position → Perez transposition (with extraterrestrial DNI and relative airmass) →
physical incidence-angle modifier on the beam → SAPM cell temperature → ``pvwatts_dc`` →
flat DC losses → ``pvwatts`` inverter, clipped at ``capacity_kw_dc / dc_ac_ratio``.
The hourly mean AC power is then interpolated onto the centres of the target intervals and
rescaled so that the annual energy equals the hourly model's.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np
import pandas as pd

from greenlink.errors import InputError, Problem
from greenlink.resource.weather import WeatherYear
from greenlink.scenario.pv_defaults import PV_DEFAULTS, Mounting

D = PV_DEFAULTS  # the defaults below (greenlink.scenario.pv_defaults)

# SAPM cell-temperature parameters (pvlib TEMPERATURE_MODEL_PARAMETERS["sapm"]) per mounting
_SAPM_MOUNTING: dict[str, str] = {
    "open_rack": "open_rack_glass_glass",
    "roof": "close_mount_glass_glass",
}


_SOLAR_CACHE: OrderedDict[bytes, tuple[np.ndarray, ...]] = OrderedDict()
_SOLAR_CACHE_SIZE = 16


def _solar_position(latitude: float, longitude: float, altitude_m: float,
                    times: pd.DatetimeIndex, temp_air: np.ndarray) -> tuple[np.ndarray, ...]:
    """Apparent zenith and azimuth [°] (pvlib SPA with refraction at ``temp_air``),
    extraterrestrial DNI [W/m²] and relative airmass, cached: the many weather years of a risk
    run share their time axis and, when synthetic, their temperatures."""
    from pvlib import atmosphere, irradiance
    from pvlib.location import Location

    key = hashlib.blake2b(np.asarray(times.asi8).tobytes() + temp_air.tobytes()
                          + np.array([latitude, longitude, altitude_m]).tobytes(),
                          digest_size=16).digest()
    hit = _SOLAR_CACHE.get(key)
    if hit is not None:
        _SOLAR_CACHE.move_to_end(key)
        return hit
    solpos = Location(latitude, longitude, altitude=altitude_m).get_solarposition(
        times, temperature=pd.Series(temp_air, index=times))
    apparent_zenith = solpos["apparent_zenith"].to_numpy(dtype=float)
    value = (apparent_zenith, solpos["azimuth"].to_numpy(dtype=float),
             np.asarray(irradiance.get_extra_radiation(times), dtype=float),
             np.asarray(atmosphere.get_relative_airmass(apparent_zenith), dtype=float))
    for arr in value:
        arr.setflags(write=False)
    _SOLAR_CACHE[key] = value
    if len(_SOLAR_CACHE) > _SOLAR_CACHE_SIZE:
        _SOLAR_CACHE.popitem(last=False)
    return value


def _check(condition: bool, message: str, location: str, expected: str) -> None:
    if not condition:
        raise InputError(Problem(message, location=location, expected=expected))


def pv_hourly_ac_power_kw(weather: WeatherYear, *, capacity_kw_dc: float, tilt_deg: float,
                          azimuth_deg: float, losses_percent: float = D.losses_percent,
                          dc_ac_ratio: float = D.dc_ac_ratio,
                          inverter_efficiency: float = D.inverter_efficiency,
                          gamma_pdc_per_k: float = D.gamma_pdc_per_k,
                          mounting: Mounting = D.mounting, latitude: float, longitude: float,
                          altitude_m: float, albedo: float = D.albedo) -> pd.Series:
    """Hourly mean AC power [kW] of a fixed PV array, labelled at the fitted solar time.

    Parameters
    ----------
    weather : WeatherYear
        Hourly weather; the sun is evaluated at ``label + weather.time_shift_minutes``.
    capacity_kw_dc : float
        DC nameplate at STC [kW].
    tilt_deg, azimuth_deg : float
        Surface tilt from horizontal [°] and azimuth clockwise from north [°] (south = 180).
    losses_percent : float, default ``PV_DEFAULTS.losses_percent``
        Flat DC system losses [%] (soiling, wiring, mismatch, availability …).
    dc_ac_ratio : float, default ``PV_DEFAULTS.dc_ac_ratio``
        DC/AC ratio; the inverter rating is ``capacity_kw_dc / dc_ac_ratio`` [kW AC].
    inverter_efficiency : float, default ``PV_DEFAULTS.inverter_efficiency``
        Nominal inverter efficiency [-] (pvlib ``inverter.pvwatts`` ``eta_inv_nom``).
    gamma_pdc_per_k : float, default ``PV_DEFAULTS.gamma_pdc_per_k``
        Temperature coefficient of DC power [1/K].
    mounting : {"open_rack", "roof"}, default ``PV_DEFAULTS.mounting``
        SAPM cell-temperature parameters: open rack or close (roof) mount, glass/glass.
    latitude, longitude : float
        Site coordinates [°].
    altitude_m : float
        Site altitude [m].
    albedo : float, default ``PV_DEFAULTS.albedo``
        Ground reflectance [-].

    Returns
    -------
    pandas.Series
        AC power [kW] ≥ 0, indexed by ``label + time_shift_minutes`` (the instant each hourly
        mean belongs to); its sum is the annual AC energy [kWh].

    Raises
    ------
    InputError
        If a parameter is outside its physical range.
    """
    from pvlib import iam, inverter, irradiance, pvsystem, temperature

    _check(capacity_kw_dc >= 0, f"PV capacity {capacity_kw_dc} kW", "pv.capacity_kw_dc",
           "a DC capacity ≥ 0 kW")
    _check(0 <= tilt_deg <= 90, f"tilt {tilt_deg}°", "pv.tilt_deg", "0–90°")
    _check(0 <= azimuth_deg <= 360, f"azimuth {azimuth_deg}°", "pv.azimuth_deg",
           "0–360° clockwise from north (south = 180)")
    _check(0 <= losses_percent < 100, f"losses {losses_percent} %", "pv.losses_percent",
           "0–100 %")
    _check(dc_ac_ratio > 0, f"DC/AC ratio {dc_ac_ratio}", "pv.dc_ac_ratio", "a ratio > 0")
    _check(0 < inverter_efficiency <= 1, f"inverter efficiency {inverter_efficiency}",
           "pv.inverter_efficiency", "a fraction in (0, 1]")
    _check(-0.02 <= gamma_pdc_per_k <= 0.0, f"temperature coefficient {gamma_pdc_per_k} 1/K",
           "pv.gamma_pdc_per_k", "-0.02 … 0 1/K (e.g. -0.0037)")
    _check(mounting in _SAPM_MOUNTING, f"unknown mounting {mounting!r}", "pv.mounting",
           " or ".join(_SAPM_MOUNTING))

    data = weather.data
    times = pd.DatetimeIndex(data.index) + pd.Timedelta(minutes=weather.time_shift_minutes)
    ghi = data["ghi"].to_numpy(dtype=float)
    dni = data["dni"].to_numpy(dtype=float)
    dhi = data["dhi"].to_numpy(dtype=float)
    temp_air = data["temp_air"].to_numpy(dtype=float)
    wind_speed = data["wind_speed"].to_numpy(dtype=float)

    apparent_zenith, azimuth, dni_extra, airmass = _solar_position(
        latitude, longitude, altitude_m, times, temp_air)

    poa = irradiance.get_total_irradiance(
        tilt_deg, azimuth_deg, apparent_zenith, azimuth, dni, ghi, dhi,
        dni_extra=dni_extra, airmass=airmass, albedo=albedo, model="perez")
    aoi = np.asarray(irradiance.aoi(tilt_deg, azimuth_deg, apparent_zenith, azimuth), dtype=float)
    poa_direct = np.nan_to_num(np.asarray(poa["poa_direct"], dtype=float))
    poa_diffuse = np.nan_to_num(np.asarray(poa["poa_diffuse"], dtype=float))
    poa_global = poa_direct + poa_diffuse
    effective_w_m2 = poa_direct * np.asarray(iam.physical(aoi), dtype=float) + poa_diffuse

    params = temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"][_SAPM_MOUNTING[mounting]]
    temp_cell = np.asarray(temperature.sapm_cell(poa_global, temp_air, wind_speed, **params),
                           dtype=float)

    pdc0_w = capacity_kw_dc * 1000.0
    pdc_w = np.asarray(pvsystem.pvwatts_dc(effective_w_m2, temp_cell, pdc0_w, gamma_pdc_per_k),
                       dtype=float) * (1.0 - losses_percent / 100.0)
    pac0_w = pdc0_w / dc_ac_ratio
    if pac0_w > 0:
        pac_w = np.asarray(inverter.pvwatts(pdc_w, pac0_w / inverter_efficiency,
                                            eta_inv_nom=inverter_efficiency), dtype=float)
    else:
        pac_w = np.zeros_like(pdc_w)
    pac_kw = np.clip(np.nan_to_num(pac_w), 0.0, None) / 1000.0
    return pd.Series(pac_kw, index=times, name="ac_power_kw")


def _target_centres_s(index: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Seconds of the target interval centres from the first label, and interval lengths [h]."""
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise InputError(Problem("the target time index has no time zone", location="index",
                                 expected="a timezone-aware, interval-beginning DatetimeIndex"))
    if len(index) < 2:
        raise InputError(Problem(f"the target time index has {len(index)} intervals",
                                 location="index", expected="one year of 15- or 60-min intervals"))
    seconds = pd.DatetimeIndex(index).as_unit("s").asi8.astype(float)
    steps = np.diff(seconds)
    step = float(steps[0])
    if step <= 0 or step > 3600 or not np.all(steps == step):
        raise InputError(Problem("the target time index is not regular", location="index",
                                 expected="increasing intervals of equal length ≤ 60 min"))
    return seconds + step / 2.0, np.full(len(index), step / 3600.0)


def resample_power_to_intervals(power_kw: pd.Series, index: pd.DatetimeIndex,
                                year_start: pd.Timestamp, year_end: pd.Timestamp) -> np.ndarray:
    """Energy [kWh] per target interval from hourly mean power samples over one year.

    Power [kW], valid at the instants of ``power_kw.index``, is interpolated linearly onto the
    centres of the target intervals, wrapping around the year ``[year_start, year_end)``
    (``numpy.interp`` with ``period``), clipped at 0 and rescaled so that the annual energy
    equals ``power_kw.sum()`` [kWh] (the samples are hourly means).

    Parameters
    ----------
    power_kw : pandas.Series
        Hourly mean power [kW] with a tz-aware index of the instants they belong to.
    index : pandas.DatetimeIndex
        Target intervals: tz-aware, interval-beginning, regular, ≤ 60 min, one year.
    year_start, year_end : pandas.Timestamp
        The weather year, in the weather's time zone.

    Returns
    -------
    numpy.ndarray
        Energy [kWh] per target interval.
    """
    centres_s, hours = _target_centres_s(index)
    tz = year_start.tz
    period_s = (year_end - year_start).total_seconds()
    # seconds of the year: the target's own calendar year (in the weather's zone) is laid onto
    # the weather year, so a target in another year maps by date and time of day
    mid = pd.Timestamp(index[len(index) // 2]).tz_convert(tz)
    target_start = pd.Timestamp(year=mid.year, month=1, day=1, tz=tz)
    x_target = centres_s - float(target_start.as_unit("s").value)
    x_power = (pd.DatetimeIndex(power_kw.index).as_unit("s").asi8.astype(float)
               - float(year_start.as_unit("s").value))
    values = power_kw.to_numpy(dtype=float)
    power_at_centres = np.interp(x_target, x_power, values, period=period_s)
    energy_kwh = np.clip(power_at_centres, 0.0, None) * hours
    total_kwh = float(values.sum())
    got_kwh = float(energy_kwh.sum())
    if got_kwh > 0:
        energy_kwh *= total_kwh / got_kwh
    return energy_kwh


def pv_energy_kwh(weather: WeatherYear, *, capacity_kw_dc: float, tilt_deg: float,
                  azimuth_deg: float, losses_percent: float = D.losses_percent,
                  dc_ac_ratio: float = D.dc_ac_ratio,
                  inverter_efficiency: float = D.inverter_efficiency,
                  gamma_pdc_per_k: float = D.gamma_pdc_per_k, mounting: Mounting = D.mounting,
                  latitude: float, longitude: float, altitude_m: float,
                  index: pd.DatetimeIndex) -> np.ndarray:
    """AC energy [kWh] of a fixed PV array per target interval.

    Runs :func:`pv_hourly_ac_power_kw` on the weather year and moves its hourly mean power
    onto the target intervals with :func:`resample_power_to_intervals`.

    Parameters
    ----------
    weather : WeatherYear
        Hourly weather year (see :func:`greenlink.resource.weather.load_weather`).
    capacity_kw_dc : float
        DC nameplate [kW].
    tilt_deg, azimuth_deg : float
        Tilt [°] and azimuth clockwise from north [°] (south = 180).
    losses_percent : float, default ``PV_DEFAULTS.losses_percent``
        Flat DC losses [%].
    dc_ac_ratio : float, default ``PV_DEFAULTS.dc_ac_ratio``
        DC/AC ratio; the AC output is clipped at ``capacity_kw_dc / dc_ac_ratio`` [kW].
    inverter_efficiency : float, default ``PV_DEFAULTS.inverter_efficiency``
        Nominal inverter efficiency [-].
    gamma_pdc_per_k : float, default ``PV_DEFAULTS.gamma_pdc_per_k``
        Temperature coefficient of DC power [1/K].
    mounting : {"open_rack", "roof"}, default ``PV_DEFAULTS.mounting``
        Cell-temperature mounting.
    latitude, longitude : float
        Site coordinates [°].
    altitude_m : float
        Site altitude [m].
    index : pandas.DatetimeIndex
        Target intervals: tz-aware, interval-beginning, 15 or 60 min, one year (any time zone,
        DST included).

    Returns
    -------
    numpy.ndarray
        AC energy [kWh] per interval of ``index``; the annual sum equals the hourly model's.

    Raises
    ------
    InputError
        On parameters out of range or a bad target index.
    """
    power_kw = pv_hourly_ac_power_kw(
        weather, capacity_kw_dc=capacity_kw_dc, tilt_deg=tilt_deg, azimuth_deg=azimuth_deg,
        losses_percent=losses_percent, dc_ac_ratio=dc_ac_ratio,
        inverter_efficiency=inverter_efficiency, gamma_pdc_per_k=gamma_pdc_per_k,
        mounting=mounting, latitude=latitude, longitude=longitude, altitude_m=altitude_m)
    labels = pd.DatetimeIndex(weather.data.index)
    tz = labels.tz
    mid = labels[len(labels) // 2]
    year_start = pd.Timestamp(year=mid.year, month=1, day=1, tz=tz)
    year_end = pd.Timestamp(year=mid.year + 1, month=1, day=1, tz=tz)
    return resample_power_to_intervals(power_kw, index, year_start, year_end)


def specific_yield_kwh_per_kwp(energy_kwh: np.ndarray | pd.Series | float,
                               capacity_kw_dc: float) -> float:
    """Specific yield [kWh/kWp]: total AC energy [kWh] over DC capacity [kWp].

    Raises
    ------
    InputError
        If the capacity is not positive.
    """
    if not capacity_kw_dc > 0:
        raise InputError(Problem(f"PV capacity {capacity_kw_dc} kW", location="pv.capacity_kw_dc",
                                 expected="a DC capacity > 0 kW"))
    return float(np.sum(np.asarray(energy_kwh, dtype=float))) / capacity_kw_dc
