"""Wind energy from a capacity-factor series onto scenario intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from greenlink.errors import InputError
from greenlink.resource.wind import wind_energy_kwh


def _year(freq: str, tz: str = "Asia/Shanghai") -> pd.DatetimeIndex:
    return pd.date_range("2025-01-01", "2026-01-01", freq=freq, tz=tz, inclusive="left")


def test_hourly_to_quarter_hours_splits_each_hour() -> None:
    hours = _year("h")
    cf = pd.Series(np.linspace(0.0, 1.0, len(hours)), index=hours)
    energy = wind_energy_kwh(cf, 2000.0, _year("15min"))
    assert len(energy) == 4 * len(hours)
    np.testing.assert_allclose(energy.reshape(-1, 4), np.repeat(cf.to_numpy()[:, None], 4, 1)
                               * 2000.0 * 0.25)


def test_quarter_hours_to_hours_sums() -> None:
    quarters = _year("15min")
    rng = np.random.default_rng(1)
    cf = pd.Series(rng.uniform(0, 1, len(quarters)), index=quarters)
    energy = wind_energy_kwh(cf, 100.0, _year("h"))
    np.testing.assert_allclose(energy, cf.to_numpy().reshape(-1, 4).sum(axis=1) * 100.0 * 0.25)


def test_other_time_zone_keeps_annual_energy_and_instants() -> None:
    hours = _year("h")
    cf = pd.Series(np.where(hours.hour == 3, 1.0, 0.2), index=hours)  # 03:00 Beijing time
    target = _year("15min", tz="Europe/Berlin")
    energy = wind_energy_kwh(cf, 10.0, target)
    assert energy.sum() == pytest.approx(cf.sum() * 10.0)
    # 03:00 in Beijing is 20:00 (winter) in Berlin, the day before
    january = target.month == 1
    by_hour = pd.Series(energy[january]).groupby(target[january].hour).mean()
    assert by_hour.to_numpy().argmax() == list(by_hour.index).index(20)


def test_constant_capacity_factor_gives_capacity_times_hours() -> None:
    cf = pd.Series(0.25, index=_year("h"))
    energy = wind_energy_kwh(cf, 4.0, _year("15min", tz="UTC"))
    np.testing.assert_allclose(energy, 0.25 * 4.0 * 0.25)


@pytest.mark.parametrize("bad_value", [1.2, -0.1, np.nan])
def test_capacity_factor_outside_0_1_raises(bad_value: float) -> None:
    hours = _year("h")
    values = np.full(len(hours), 0.5)
    values[10] = bad_value
    with pytest.raises(InputError) as info:
        wind_energy_kwh(pd.Series(values, index=hours), 1.0, hours)
    problem = info.value.problems[0]
    assert problem.location == "wind.capacity_factor row 11"
    assert problem.expected == "capacity factors between 0 and 1"


def test_bad_index_or_capacity_raises() -> None:
    naive = pd.date_range("2025-01-01", periods=24, freq="h")
    aware = naive.tz_localize("Asia/Shanghai")
    with pytest.raises(InputError, match="no time zone"):
        wind_energy_kwh(pd.Series(0.5, index=naive), 1.0, aware)
    with pytest.raises(InputError, match="no time zone"):
        wind_energy_kwh(pd.Series(0.5, index=aware), 1.0, naive)
    with pytest.raises(InputError, match="not regular"):
        wind_energy_kwh(pd.Series(0.5, index=aware.delete(5)), 1.0, aware)
    with pytest.raises(InputError, match="capacity"):
        wind_energy_kwh(pd.Series(0.5, index=aware), -1.0, aware)
    with pytest.raises(InputError, match="time index"):
        wind_energy_kwh(pd.Series([0.5, 0.5]), 1.0, aware)
