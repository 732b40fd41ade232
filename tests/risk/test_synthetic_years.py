"""Synthetic years for risk runs: year-to-year spread and day-to-day persistence against the
station statistics they are built from (data/weather/station_daily_kt.csv, weather-data.md §5.1).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from greenlink.resource.stations import station_climate, station_daily_kt
from greenlink.resource.synthetic import (
    chain_moments,
    daily_clearness,
    hour_mean_sky,
    markov_library,
    persistence_weight,
    synthetic_weather,
)

NANJING = station_climate("58238")
STATS = station_daily_kt("58238")
YEARS = 40


def _year(seed: int, **kw: object) -> pd.DataFrame:
    return synthetic_weather(NANJING.latitude, NANJING.longitude, NANJING.altitude_m,
                             "Asia/Shanghai", 2025, NANJING.monthly_ghi_kwh_m2, seed,
                             **kw)  # type: ignore[arg-type]


def _lag1(x: np.ndarray) -> float:
    return float(np.corrcoef(x[:-1], x[1:])[0, 1])


@pytest.fixture(scope="module")
def years() -> list[pd.DataFrame]:
    assert STATS is not None
    return [_year(s, daily_kt_lag1=STATS.lag1, interannual=True) for s in range(YEARS)]


def _daily_kt(df: pd.DataFrame) -> np.ndarray:
    index = pd.DatetimeIndex(df.index)
    extra = hour_mean_sky(NANJING.latitude, NANJING.longitude, NANJING.altitude_m,
                          index)["ghi_extraterrestrial"]
    days = index.date
    return (df["ghi"].groupby(days).sum() / extra.groupby(days).sum()).to_numpy()


def expected_annual_cv() -> float:
    """The year-to-year spread of annual GHI that the station statistics imply (stated in
    data/weather/SOURCES.md): a month's mean of n daily values with standard deviation σ and
    lag-1 autocorrelation ρ has the standard deviation σ·√((1+ρ)/((1−ρ)·n)); months are nearly
    independent (ρ^30 ≈ 0), so the annual variance is the sum of the monthly ones.

    σ from the station's daily P10/P90 as for a normal distribution: (P90 − P10) / 2.563.
    """
    assert STATS is not None
    sigma = (STATS.kt_p90 - STATS.kt_p10) / 2.563
    rho = STATS.lag1
    ghi = np.asarray(NANJING.monthly_ghi_kwh_m2)
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    kt_month = STATS.kt_p50  # the relative spread uses the station's typical Kt
    rel = sigma * math.sqrt((1 + rho) / ((1 - rho) * days.mean())) / kt_month
    return float(np.sqrt(np.sum((ghi * rel) ** 2)) / ghi.sum())


def test_annual_ghi_spread_matches_the_stated_source(years: list[pd.DataFrame]) -> None:
    annual = np.array([y["ghi"].sum() / 1000.0 for y in years])
    cv = annual.std(ddof=1) / annual.mean()
    expected = expected_annual_cv()  # ≈ 0.036 for Nanjing
    assert 0.025 < expected < 0.05
    # 40 years estimate a CV to about ±11 % (1σ); the band is ±35 %
    assert expected * 0.65 <= cv <= expected * 1.35, (cv, expected)
    # no two years alike, and the long-run mean is the station's
    assert len(set(np.round(annual, 3))) == YEARS
    assert annual.mean() == pytest.approx(NANJING.annual_ghi_kwh_m2, rel=0.015)
    # P90 (exceeded in 9 years of 10) is below P50: what a typical year cannot show
    assert np.percentile(annual, 10) < np.percentile(annual, 50) * 0.98


def test_monthly_sums_spread(years: list[pd.DataFrame]) -> None:
    monthly = np.array([y["ghi"].groupby(pd.DatetimeIndex(y.index).month).sum().to_numpy()
                        / 1000.0 for y in years])
    cv = monthly.std(axis=0, ddof=1) / monthly.mean(axis=0)
    assert (cv > 0.05).all() and (cv < 0.25).all()
    np.testing.assert_allclose(monthly.mean(axis=0), NANJING.monthly_ghi_kwh_m2, rtol=0.06)


def test_daily_persistence_close_to_station(years: list[pd.DataFrame]) -> None:
    """Station 0.46 (weather-data.md §5.1); the library alone gives ≈ 0.25 over a year."""
    assert STATS is not None
    values = [_lag1(_daily_kt(y)) for y in years[:10]]
    assert abs(float(np.mean(values)) - STATS.lag1) <= 0.06
    typical = [_lag1(_daily_kt(_year(s, daily_kt_lag1=STATS.lag1))) for s in range(4)]
    assert float(np.mean(typical)) >= 0.36  # the monthly rescaling lowers it a little


def test_typical_year_keeps_monthly_sums() -> None:
    assert STATS is not None
    year = _year(3, daily_kt_lag1=STATS.lag1)
    monthly = year["ghi"].groupby(pd.DatetimeIndex(year.index).month).sum().to_numpy() / 1000
    np.testing.assert_allclose(monthly, NANJING.monthly_ghi_kwh_m2, rtol=0.01)


def test_persistence_weight_keeps_distribution() -> None:
    lib = markov_library()
    index = 3  # 0.40 < Kt_m <= 0.45
    moments = chain_moments(index)
    assert 0.25 < moments.lag1 < 0.35
    w = persistence_weight(index, 0.46)
    assert 0 < w < 0.5
    # a long chain with the adjusted matrix: lag-1 as asked, same mean
    kt = daily_clearness([0.42], [40000], np.random.default_rng(2), lag1=0.46,
                         exact_means=False)
    assert _lag1(kt) == pytest.approx(0.46, abs=0.03)
    assert kt.mean() == pytest.approx(0.42, rel=0.01)
    assert persistence_weight(index, 0.1) == 0.0
    assert lib.matrices.shape == (10, 10, 10)


def test_every_shipped_station_has_statistics() -> None:
    from greenlink.resource.stations import station_table

    for sid in station_table().index:
        stats = station_daily_kt(str(sid))
        assert stats is not None and 0 < stats.lag1 < 1
        assert stats.kt_p10 < stats.kt_p50 < stats.kt_p90
