"""The time axis of a flows table: hour keys in whole-hour, half-hour and DST zones; normalise."""

from __future__ import annotations

import pandas as pd
import pytest

from greenlink import flows
from greenlink.errors import InputError
from greenlink.policy import kpis


def stamps(*text: str, tz: str) -> pd.DatetimeIndex:
    """Instants written with their UTC offset, shown in ``tz``."""
    return pd.DatetimeIndex([pd.Timestamp(t).tz_convert("UTC") for t in text]).tz_convert(tz)


# ---------------------------------------------------------------------------------------------
# hour_key


def test_hour_key_whole_hour_zone_is_the_utc_hour() -> None:
    index = stamps("2025-03-01T09:00+08:00", "2025-03-01T09:15+08:00", "2025-03-01T09:45+08:00",
                   "2025-03-01T10:00+08:00", tz="Asia/Shanghai")
    keys = flows.hour_key(index)
    one, two = pd.Timestamp("2025-03-01T01:00Z"), pd.Timestamp("2025-03-01T02:00Z")
    assert list(keys) == [one, one, one, two]
    assert str(keys.tz) == "Asia/Shanghai"
    assert keys.name == "hour_start"


def test_hour_key_half_hour_zone_is_the_local_clock_hour() -> None:
    # India is UTC+5:30: local 10:15 lies in the local hour 10:00–11:00, which began at 04:30 UTC
    index = stamps("2025-03-01T10:00+05:30", "2025-03-01T10:15+05:30", "2025-03-01T10:45+05:30",
                   "2025-03-01T11:00+05:30", tz="Asia/Kolkata")
    keys = flows.hour_key(index)
    assert keys[1] == pd.Timestamp("2025-03-01T04:30Z")
    assert keys[1] == pd.Timestamp("2025-03-01T10:00+05:30")
    ten, eleven = pd.Timestamp("2025-03-01T04:30Z"), pd.Timestamp("2025-03-01T05:30Z")
    assert list(keys) == [ten, ten, ten, eleven]


def test_hour_key_of_another_zones_clock() -> None:
    # the same instants, stored in UTC, keyed by the Indian clock
    index = stamps("2025-03-01T04:45Z", "2025-03-01T05:15Z", "2025-03-01T05:45Z", tz="UTC")
    keys = flows.hour_key(index, "Asia/Kolkata")
    assert list(keys) == [pd.Timestamp("2025-03-01T04:30Z"), pd.Timestamp("2025-03-01T04:30Z"),
                          pd.Timestamp("2025-03-01T05:30Z")]


def test_hour_key_keeps_the_two_fall_back_hours_apart() -> None:
    # New York, 2 Nov 2025: clocks go from 01:59 EDT (UTC−4) back to 01:00 EST (UTC−5)
    index = pd.date_range("2025-11-02T04:30Z", "2025-11-02T07:15Z", freq="15min"
                          ).tz_convert("America/New_York")
    keys = flows.hour_key(index)
    assert sorted(set(keys)) == [pd.Timestamp("2025-11-02T00:00-04:00"),
                                 pd.Timestamp("2025-11-02T01:00-04:00"),
                                 pd.Timestamp("2025-11-02T01:00-05:00"),
                                 pd.Timestamp("2025-11-02T02:00-05:00")]
    counts = pd.Series(1, index=keys).groupby(level=0).sum()
    assert list(counts) == [2, 4, 4, 2]  # 04:30–04:45Z, then two full 01:00 hours, 07:00–07:15Z


def test_hour_key_needs_aware_stamps() -> None:
    with pytest.raises(InputError, match="timezone-aware"):
        flows.hour_key(pd.DatetimeIndex(["2025-01-01 00:15"]))


# ---------------------------------------------------------------------------------------------
# normalise


def test_normalise_column_to_sorted_index_in_the_asked_zone() -> None:
    frame = pd.DataFrame({
        flows.INTERVAL_START: stamps("2025-01-01T01:00+08:00", "2025-01-01T00:00+08:00",
                                     tz="Asia/Shanghai"),
        flows.LOAD_KWH: [2.0, 1.0]})
    out = flows.normalise(frame, "Asia/Kolkata")
    assert out.index.name == flows.INTERVAL_START
    assert list(out.columns) == [flows.LOAD_KWH]
    assert list(out[flows.LOAD_KWH]) == [1.0, 2.0]
    assert str(out.index.tz) == "Asia/Kolkata"
    assert out.index[0] == pd.Timestamp("2024-12-31T16:00Z")
    assert out.index[0].hour == 21 and out.index[0].minute == 30  # 00:00+08:00 is 21:30+05:30


def test_normalise_refuses_naive_stamps() -> None:
    frame = pd.DataFrame({flows.INTERVAL_START: pd.date_range("2025-01-01", periods=2, freq="h"),
                          flows.LOAD_KWH: [1.0, 1.0]})
    with pytest.raises(InputError, match="not timezone-aware"):
        flows.normalise(frame)


def test_normalise_refuses_an_interval_twice() -> None:
    index = stamps("2025-01-01T00:00+08:00", "2025-01-01T01:00+08:00", "2025-01-01T00:00+08:00",
                   tz="Asia/Shanghai")
    frame = pd.DataFrame({flows.LOAD_KWH: [1.0, 2.0, 3.0]}, index=index)
    with pytest.raises(InputError, match="appears more than once"):
        flows.normalise(frame)


def test_normalise_refuses_a_table_without_time_stamps() -> None:
    with pytest.raises(InputError, match="no time stamps"):
        flows.normalise(pd.DataFrame({flows.LOAD_KWH: [1.0]}, index=["noon"]))


# ---------------------------------------------------------------------------------------------
# hourly matching groups by local clock hours


def park_flows(index: pd.DatetimeIndex, rows: list[dict[str, float]]) -> pd.DataFrame:
    """A park without battery: every park column, 0 where a row does not name it."""
    frame = pd.DataFrame(rows, index=index.rename(flows.INTERVAL_START))
    for name in flows.PARK_COLUMNS:
        if name not in frame.columns:
            frame[name] = 0.0
    frame[flows.GREEN_DIRECT_KWH] = frame[flows.GREEN_TO_LOAD_KWH]
    return frame.fillna(0.0)


def test_hourly_matched_share_half_hour_zone_uses_local_hours() -> None:
    # Local 10:00–11:00 in India (UTC+5:30), quarter hours: the sun gives 4 kWh at 10:00, the
    # load is 1 kWh per quarter hour; 1 is used at once, 3 exported, 3 imported later.
    index = stamps("2025-03-01T10:00+05:30", "2025-03-01T10:15+05:30", "2025-03-01T10:30+05:30",
                   "2025-03-01T10:45+05:30", tz="Asia/Kolkata")
    f = park_flows(index, [
        {flows.GENERATION_KWH: 4, flows.LOAD_KWH: 1, flows.GREEN_TO_LOAD_KWH: 1,
         flows.EXPORT_KWH: 3},
        {flows.LOAD_KWH: 1, flows.IMPORT_KWH: 1},
        {flows.LOAD_KWH: 1, flows.IMPORT_KWH: 1},
        {flows.LOAD_KWH: 1, flows.IMPORT_KWH: 1},
    ])
    assert (abs(flows.balance_error_kwh(f)) < 1e-12).all()
    # local clock hour 10:00: supply a = 4, load 4 → matched min(4, 4) = 4 → CFE 4/4 = 1
    # (by UTC hours it would be 04:00Z {10:00, 10:15}: min(4, 2) = 2 and 05:00Z {10:30, 10:45}:
    # min(0, 2) = 0 → 2/4 = 0.5)
    assert kpis.hourly_matched_share(f) == pytest.approx(1.0)
    assert kpis.physically_delivered_share(f) == pytest.approx(1 / 4)
    hourly = kpis.hourly_green_supply_kwh(f)
    assert hourly.to_numpy().tolist() == [[4.0, 4.0]]  # one hour: supply 4, load 4


def test_hourly_matched_share_keeps_the_two_fall_back_hours_apart() -> None:
    # New York: 2 kWh green at 01:00 EDT, 1 kWh load in each of the two 01:00 hours
    index = stamps("2025-11-02T01:00-04:00", "2025-11-02T01:00-05:00", tz="America/New_York")
    f = park_flows(index, [
        {flows.GENERATION_KWH: 2, flows.LOAD_KWH: 1, flows.GREEN_TO_LOAD_KWH: 1,
         flows.EXPORT_KWH: 1},
        {flows.LOAD_KWH: 1, flows.IMPORT_KWH: 1},
    ])
    # two hours: min(2, 1) + min(0, 1) = 1 of 2 → 0.5 (one merged 01:00 hour would give 1.0)
    assert kpis.hourly_matched_share(f) == pytest.approx(0.5)
    hourly = kpis.hourly_green_supply_kwh(f)
    assert hourly.to_numpy().tolist() == [[2.0, 1.0], [0.0, 1.0]]  # (supply, load) per hour
