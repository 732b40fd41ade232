"""Synthetic weather year (Aguiar MTM + TAG), checked against weather-data.md §5.1 for Nanjing."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pvlib
import pytest

from greenlink.errors import InputError
from greenlink.resource.stations import station_climate
from greenlink.resource.synthetic import (
    daily_clearness,
    default_monthly_temp_c,
    hour_mean_sky,
    hourly_clearness,
    markov_library,
    synthetic_weather,
)

NANJING = station_climate("58238")
TZ = "Asia/Shanghai"


def _nanjing(seed: int, year: int = 2023, **kwargs: object) -> pd.DataFrame:
    return synthetic_weather(NANJING.latitude, NANJING.longitude, NANJING.altitude_m, TZ, year,
                             NANJING.monthly_ghi_kwh_m2, seed=seed, **kwargs)  # type: ignore[arg-type]


def _index(df: pd.DataFrame) -> pd.DatetimeIndex:
    index = df.index
    assert isinstance(index, pd.DatetimeIndex)
    return index


def _lag1(x: np.ndarray) -> float:
    return float(np.corrcoef(x[:-1], x[1:])[0, 1])


@pytest.fixture(scope="module")
def year() -> pd.DataFrame:
    return _nanjing(seed=1)


@pytest.fixture(scope="module")
def sky(year: pd.DataFrame) -> pd.DataFrame:
    return hour_mean_sky(NANJING.latitude, NANJING.longitude, NANJING.altitude_m,
                         _index(year))


def _daily_kt(df: pd.DataFrame, sky: pd.DataFrame) -> np.ndarray:
    days = _index(df).date
    return (df["ghi"].groupby(days).sum()
            / sky["ghi_extraterrestrial"].groupby(days).sum()).to_numpy()


# ---------------------------------------------------------------------------------- MTM data
def test_mtm_published_rows_sum_to_one() -> None:
    path = resources.files("greenlink") / "data" / "weather" / "aguiar_mtm.csv"
    with path.open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh)
    assert len(table) == 100
    assert sorted(set(table["matrix"])) == list(range(10))
    probs = table[[f"p_to_{j}" for j in range(1, 11)]].to_numpy()
    assert (probs >= 0).all()
    # published values are rounded to 3 decimals; no row may be off by more than that rounding
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=0.003)


def test_mtm_library_loaded_and_normalised() -> None:
    lib = markov_library()
    assert lib.matrices.shape == (10, 10, 10)
    np.testing.assert_allclose(lib.matrices.sum(axis=2), 1.0, atol=1e-12)
    # the row misprinted as 0.530 in one public implementation (0.45 < Kt_m <= 0.50, state 2)
    np.testing.assert_allclose(lib.matrices[4, 1, 8], 0.0)
    assert (lib.kt_min < lib.kt_max).all()
    np.testing.assert_allclose(lib.ktm_upper, np.arange(0.30, 0.701, 0.05))
    assert lib.matrix_index([0.10, 0.30, 0.3001, 0.42, 0.70, 0.71]).tolist() == [0, 0, 1, 3, 8, 9]


# ---------------------------------------------------------------------------------- kernels
def test_daily_clearness_reproduces_monthly_means() -> None:
    ktm = np.array([0.25, 0.33, 0.39, 0.43, 0.48, 0.52, 0.58, 0.62, 0.68, 0.74, 0.41, 0.40])
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    kt = daily_clearness(ktm, days, np.random.default_rng(5))
    assert kt.shape == (365,)
    assert (kt > 0).all() and (kt < 1).all()
    means = np.add.reduceat(kt, np.concatenate(([0], np.cumsum(days)[:-1]))) / days
    np.testing.assert_allclose(means, ktm, rtol=1e-12)
    again = daily_clearness(ktm, days, np.random.default_rng(5))
    np.testing.assert_array_equal(kt, again)


def test_markov_chain_persistence_matches_library() -> None:
    """A single long chain (no monthly rescaling) under the 0.40-0.45 matrix has lag-1 ≈ 0.30,
    the value implied by the matrix's stationary distribution."""
    kt = daily_clearness([0.42], [20000], np.random.default_rng(11))
    assert 0.26 < _lag1(kt) < 0.34


def test_hourly_clearness_bounds_and_night() -> None:
    rng = np.random.default_rng(3)
    hours = np.arange(24 * 20)
    day = hours // 24
    sin_h = np.clip(np.sin(np.pi * ((hours % 24) - 6) / 12), 0.0, None) * 0.8
    kt_max = np.full(hours.size, 0.7)
    kt = hourly_clearness(rng.uniform(0.1, 0.7, 20), day, sin_h, rng, kt_max=kt_max)
    assert (kt[sin_h <= 0] == 0).all()
    assert (kt >= 0).all() and (kt <= kt_max).all()
    assert kt[sin_h > 0].std() > 0.05


# ---------------------------------------------------------------------------------- full year
def test_index_and_columns(year: pd.DataFrame) -> None:
    assert list(year.columns) == ["ghi", "dni", "dhi", "temp_air", "wind_speed"]
    assert len(year) == 8760
    assert str(_index(year).tz) == TZ
    assert year.index[0] == pd.Timestamp("2023-01-01 00:00", tz=TZ)
    assert (year.index[1:] - year.index[:-1] == pd.Timedelta(hours=1)).all()
    assert np.isfinite(year.to_numpy()).all()
    assert (year["wind_speed"] == 2.0).all()
    leap = _nanjing(seed=1, year=2024)
    assert len(leap) == 8784


def test_monthly_sums_match_input(year: pd.DataFrame) -> None:
    monthly_kwh = year["ghi"].groupby(_index(year).month).sum().to_numpy() / 1000.0
    np.testing.assert_allclose(monthly_kwh, NANJING.monthly_ghi_kwh_m2, rtol=0.01)


def test_bounded_by_clear_sky_and_zero_at_night(year: pd.DataFrame, sky: pd.DataFrame) -> None:
    clear = sky["ghi_clear_sky"].to_numpy()
    ghi = year["ghi"].to_numpy()
    assert (ghi >= 0).all()
    assert (ghi <= clear * (1 + 1e-6) + 1e-9).all()
    night = (clear == 0) | (sky["ghi_extraterrestrial"].to_numpy() == 0)
    assert night.sum() > 3500
    assert (ghi[night] == 0).all()
    assert (year[["dni", "dhi"]].to_numpy()[night] == 0).all()


def test_daily_kt_distribution_matches_station(year: pd.DataFrame, sky: pd.DataFrame) -> None:
    """weather-data.md §5.1, Nanjing 1991-2017: P10/P50/P90 = 0.17/0.45/0.62."""
    kt = _daily_kt(year, sky)
    p10, p50, p90 = np.percentile(kt, [10, 50, 90])
    assert 0.11 <= p10 <= 0.24
    assert 0.38 <= p50 <= 0.50
    assert 0.56 <= p90 <= 0.68


def test_daily_kt_autocorrelation(sky: pd.DataFrame) -> None:
    """Lag-1 autocorrelation of daily Kt, averaged over seeds.

    The station value is 0.46 (§5.1). The published Aguiar matrices carry less persistence
    (≈ 0.30 for a long chain under the 0.40-0.45 matrix, see
    ``test_markov_chain_persistence_matches_library``) and the monthly rescaling lowers it to
    ≈ 0.25 over a year, so the band is set around what the method produces; the shortfall against
    the station is a known property of the MTM library, not an implementation error.
    """
    values = [_lag1(_daily_kt(_nanjing(seed=s), sky)) for s in range(4)]
    assert 0.15 <= float(np.mean(values)) <= 0.45
    assert all(0.05 <= v <= 0.6 for v in values)


def test_hourly_kt_autocorrelation(year: pd.DataFrame, sky: pd.DataFrame) -> None:
    extra = sky["ghi_extraterrestrial"].to_numpy()
    day_time = extra > 1361.0 * np.sin(np.radians(10.0))  # sun above ~10°
    kt = np.where(day_time, year["ghi"].to_numpy() / np.where(day_time, extra, 1.0), np.nan)
    pairs = day_time[:-1] & day_time[1:]
    raw = float(np.corrcoef(kt[:-1][pairs], kt[1:][pairs])[0, 1])
    assert 0.6 <= raw <= 0.9
    # within-day anomaly: what remains of the TAG AR(1) (φ ≈ 0.38-0.44) after removing each
    # day's mean, which biases a ~10-value series downwards
    series = pd.Series(kt, index=year.index)
    anomaly = (series - series.groupby(_index(year).date).transform("mean")).to_numpy()
    within = float(np.corrcoef(anomaly[:-1][pairs], anomaly[1:][pairs])[0, 1])
    assert 0.15 <= within <= 0.55


def test_components_close_at_hour_centre(year: pd.DataFrame) -> None:
    centre = _index(year) + pd.Timedelta(minutes=30)
    zenith = pvlib.solarposition.get_solarposition(
        centre, NANJING.latitude, NANJING.longitude, NANJING.altitude_m)["zenith"].to_numpy()
    ghi, dni, dhi = (year[c].to_numpy() for c in ("ghi", "dni", "dhi"))
    assert (dni >= 0).all() and (dhi >= 0).all() and (dhi <= ghi + 1e-9).all()
    closure = dhi + dni * np.cos(np.radians(zenith))
    np.testing.assert_allclose(closure, ghi, atol=1e-6)
    diffuse_fraction = dhi.sum() / ghi.sum()
    assert 0.45 <= diffuse_fraction <= 0.70  # station 0.54 (§5.1)


def test_temperature(year: pd.DataFrame) -> None:
    default = default_monthly_temp_c(NANJING.latitude, NANJING.altitude_m)
    assert default.shape == (12,)
    assert 0 < default[0] < 6 and 25 < default[6] < 31
    monthly = year["temp_air"].groupby(_index(year).month).mean().to_numpy()
    np.testing.assert_allclose(monthly, default, atol=1.0)
    given = [2.7, 5.0, 9.5, 15.5, 21.0, 25.0, 28.1, 27.6, 23.3, 17.6, 11.0, 4.9]
    other = _nanjing(seed=1, monthly_temp_c=given)
    np.testing.assert_allclose(other["temp_air"].groupby(_index(other).month).mean().to_numpy(),
                               np.asarray(given), atol=1.0)
    pd.testing.assert_series_equal(other["ghi"], year["ghi"])
    hour = _index(other).hour
    assert other["temp_air"][hour == 14].mean() > other["temp_air"][hour == 4].mean() + 6


def test_same_seed_identical_different_seed_differs(year: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(_nanjing(seed=1), year)
    other = _nanjing(seed=2)
    assert not np.allclose(other["ghi"].to_numpy(), year["ghi"].to_numpy())


def test_other_time_zone_and_hemisphere() -> None:
    berlin = synthetic_weather(52.5, 13.4, 34.0, "Europe/Berlin", 2023,
                               [20, 35, 70, 110, 145, 155, 150, 125, 85, 50, 22, 15], seed=3)
    assert len(berlin) == 8760  # DST: one 23-h and one 25-h day
    np.testing.assert_allclose(berlin["ghi"].groupby(_index(berlin).month).sum() / 1000,
                               [20, 35, 70, 110, 145, 155, 150, 125, 85, 50, 22, 15], rtol=0.01)
    sydney = synthetic_weather(-33.9, 151.2, 40.0, "Australia/Sydney", 2023,
                               [220, 180, 160, 120, 90, 75, 85, 110, 145, 185, 205, 225], seed=3)
    temp = sydney["temp_air"].groupby(_index(sydney).month).mean()
    assert temp[1] > temp[7]


# ---------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"monthly_ghi_kwh_m2": [100.0] * 11}, "monthly_ghi_kwh_m2"),
        ({"monthly_ghi_kwh_m2": [67, 76, -1, 132, 148, 131, 148, 139, 113, 99, 75, 66]},
         "monthly_ghi_kwh_m2[2]"),
        ({"monthly_ghi_kwh_m2": [67, 76, 107, 132, 148, 131, 148, 139, 113, 99, 75, 180]},
         "monthly_ghi_kwh_m2[11]"),
        ({"monthly_ghi_kwh_m2": [float("nan")] + [100.0] * 11}, "monthly_ghi_kwh_m2[0]"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"seed": -1}, "seed"),
        ({"latitude": 95.0}, "latitude"),
        ({"year": 1500}, "year"),
        ({"monthly_temp_c": [10.0] * 5}, "monthly_temp_c"),
    ],
)
def test_bad_input_raises_input_error(change: dict[str, object], location: str) -> None:
    args: dict[str, object] = {
        "latitude": NANJING.latitude, "longitude": NANJING.longitude,
        "altitude_m": NANJING.altitude_m, "timezone": TZ, "year": 2023,
        "monthly_ghi_kwh_m2": NANJING.monthly_ghi_kwh_m2, "seed": 0,
    }
    args.update(change)
    with pytest.raises(InputError) as info:
        synthetic_weather(**args)  # type: ignore[arg-type]
    assert location in [p.location for p in info.value.problems]
