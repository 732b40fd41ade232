"""Weather import: readers, year coercion, sun-fit time shift, calibration, load_weather."""

from __future__ import annotations

import dataclasses
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest

from greenlink.errors import InputError
from greenlink.resource.calibration import calibrate_to_monthly_ghi, monthly_ghi_sums_kwh_m2
from greenlink.resource.stations import station_climate
from greenlink.resource.time_shift import detect_time_shift_minutes
from greenlink.resource.weather import WeatherYear, load_weather
from greenlink.resource.weather_files import WEATHER_COLUMNS, read_weather_file

TMY3_GREENSBORO = Path(pvlib.__file__).parent / "data" / "723170TYA.CSV"


@pytest.fixture(scope="module")
def nanjing(nanjing_epw: Path) -> tuple[pd.DataFrame, dict]:
    return read_weather_file(nanjing_epw, "epw", 2025, "Asia/Shanghai")


# ---- reading ------------------------------------------------------------------------------


def test_read_epw_canonical_year(nanjing: tuple[pd.DataFrame, dict]) -> None:
    data, meta = nanjing
    index = pd.DatetimeIndex(data.index)
    assert list(data.columns) == list(WEATHER_COLUMNS)
    assert len(data) == 8760
    assert str(index.tz) == "Asia/Shanghai"
    assert data.index[0] == pd.Timestamp("2025-01-01 00:00", tz="Asia/Shanghai")
    assert data.index[-1] == pd.Timestamp("2025-12-31 23:00", tz="Asia/Shanghai")
    assert (np.diff(index.as_unit("s").asi8) == 3600).all()
    # research note §2.3: Nanjing TMYx annual GHI 1498 kWh/m²
    assert monthly_ghi_sums_kwh_m2(data).sum() == pytest.approx(1498, abs=1)
    assert meta["latitude"] == pytest.approx(31.9316)
    assert meta["station"] == "582380"
    assert meta["data_type"] == "SRC-TMYx"


def test_read_epw_leap_year_fills_feb_29(nanjing_epw: Path) -> None:
    data, _ = read_weather_file(nanjing_epw, "epw", 2024, "Asia/Shanghai")
    assert len(data) == 8784
    feb28 = data.loc["2024-02-28"].to_numpy()
    feb29 = data.loc["2024-02-29"].to_numpy()
    np.testing.assert_array_equal(feb28, feb29)


def test_read_epw_other_time_zone_wraps_the_year(nanjing_epw: Path,
                                                 nanjing: tuple[pd.DataFrame, dict]) -> None:
    local, _ = nanjing
    utc, _ = read_weather_file(nanjing_epw, "epw", 2025, "UTC")
    assert len(utc) == 8760
    assert utc.index[0] == pd.Timestamp("2025-01-01 00:00", tz="UTC")
    # same instants carry the same values; only the 8 h at the year's edge are wrapped
    common = local.index.intersection(utc.index)
    assert len(common) == 8760 - 8
    pd.testing.assert_frame_equal(local.loc[common].tz_convert("UTC"), utc.loc[common],
                                  check_freq=False, check_names=False)


def test_read_tmy3_dst_zone_and_leap_year() -> None:
    data, meta = read_weather_file(TMY3_GREENSBORO, "tmy3", 2024, "America/New_York")
    assert len(data) == 8784
    assert (np.diff(pd.DatetimeIndex(data.index).as_unit("s").asi8) == 3600).all()
    assert data.index[0] == pd.Timestamp("2024-01-01 00:00", tz="America/New_York")
    assert meta["latitude"] == pytest.approx(36.1)
    # TMY3 values are means of the hour ending at pvlib's label: centred at start + 30 min
    assert detect_time_shift_minutes(data["ghi"], 36.1, -79.95, 273.0) == 30


def test_read_pvgis_tmy_csv(pvgis_tmy_fixture: Path) -> None:
    data, meta = read_weather_file(pvgis_tmy_fixture, "pvgis_tmy", 2025, "Europe/Rome")
    assert len(data) == 8760
    assert list(data.columns) == list(WEATHER_COLUMNS)
    # the UTC file starts at 00:00 UTC = 01:00 in Rome; the last UTC hour wraps to the start
    assert data.index[0] == pd.Timestamp("2025-01-01 00:00", tz="Europe/Rome")
    assert data["temp_air"].iloc[1] == pytest.approx(-0.5)
    assert meta["latitude"] == pytest.approx(45.0)
    assert meta["altitude_m"] == pytest.approx(250.0)
    # the fixture holds hour means centred on the UTC label + 30 min
    assert detect_time_shift_minutes(data["ghi"], 45.0, 8.0, 250.0) == 30


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_corrupt_epw_raises_input_error(tmp_path: Path) -> None:
    bad = _write_lines(tmp_path / "garbage.epw", ["this is not a weather file", "1,2,3"])
    with pytest.raises(InputError) as info:
        read_weather_file(bad, "epw", 2025, "Asia/Shanghai")
    problem = info.value.problems[0]
    assert problem.file == str(bad)
    assert "EnergyPlus weather file" in (problem.expected or "")


def test_truncated_epw_raises_input_error(tmp_path: Path, nanjing_epw: Path) -> None:
    lines = nanjing_epw.read_text(encoding="utf-8").splitlines()
    short = _write_lines(tmp_path / "short.epw", lines[: 8 + 5000])
    with pytest.raises(InputError, match="5000 data rows") as info:
        read_weather_file(short, "epw", 2025, "Asia/Shanghai")
    assert info.value.problems[0].file == str(short)


def test_epw_with_missing_value_code_names_the_line(tmp_path: Path, nanjing_epw: Path) -> None:
    lines = nanjing_epw.read_text(encoding="utf-8").splitlines()
    fields = lines[8 + 99].split(",")
    fields[13] = "9999"  # global horizontal radiation, EPW field 14
    lines[8 + 99] = ",".join(fields)
    bad = _write_lines(tmp_path / "missing.epw", lines)
    with pytest.raises(InputError) as info:
        read_weather_file(bad, "epw", 2025, "Asia/Shanghai")
    problem = info.value.problems[0]
    assert problem.location == "data row 100 (line 108)"
    assert "ghi" in problem.message


def test_missing_file_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_weather_file(tmp_path / "nope.epw", "epw", 2025, "Asia/Shanghai")
    with pytest.raises(InputError, match="unknown weather file format"):
        read_weather_file(tmp_path / "nope.epw", "csv", 2025, "Asia/Shanghai")
    with pytest.raises(InputError, match="unknown time zone"):
        read_weather_file(tmp_path / "nope.epw", "epw", 2025, "Mars/Olympus")


def test_pvgis_file_that_is_an_epw_raises(nanjing_epw: Path, tmp_path: Path) -> None:
    wrong = tmp_path / "tmy.csv"
    wrong.write_bytes(nanjing_epw.read_bytes())
    with pytest.raises(InputError, match="PVGIS"):
        read_weather_file(wrong, "pvgis_tmy", 2025, "Asia/Shanghai")


# ---- time shift ---------------------------------------------------------------------------


def test_time_shift_nanjing_packaged(nanjing: tuple[pd.DataFrame, dict],
                                     nanjing_site: tuple[float, float, float]) -> None:
    assert detect_time_shift_minutes(nanjing[0]["ghi"], *nanjing_site) == 0


def test_time_shift_shared_files(shared_weather_dir: Path,
                                 shared_epw_sites: dict[str, tuple[float, float, float, int]]
                                 ) -> None:
    found = {}
    for name, (lat, lon, alt, _) in shared_epw_sites.items():
        data, _ = read_weather_file(shared_weather_dir / name, "epw", 2025, "Asia/Shanghai")
        found[name] = detect_time_shift_minutes(data["ghi"], lat, lon, alt)
    assert found == {name: site[3] for name, site in shared_epw_sites.items()}


def test_time_shift_follows_a_relabelled_series(nanjing: tuple[pd.DataFrame, dict],
                                                nanjing_site: tuple[float, float, float]
                                                ) -> None:
    ghi = nanjing[0]["ghi"]
    later = pd.Series(np.roll(ghi.to_numpy(), 1), index=ghi.index)  # data one hour late
    assert detect_time_shift_minutes(later, *nanjing_site) == -60


def test_time_shift_needs_tz_aware_series() -> None:
    naive = pd.Series(np.zeros(8760), index=pd.date_range("2025-01-01", periods=8760, freq="h"))
    with pytest.raises(InputError, match="timezone-aware"):
        detect_time_shift_minutes(naive, 30.0, 120.0, 0.0)


# ---- calibration --------------------------------------------------------------------------


def test_calibration_matches_station_months(nanjing: tuple[pd.DataFrame, dict]) -> None:
    data = nanjing[0]
    target = station_climate("58238").monthly_ghi_kwh_m2
    scaled = calibrate_to_monthly_ghi(data, target)
    np.testing.assert_allclose(monthly_ghi_sums_kwh_m2(scaled), target, rtol=1e-9)
    # diffuse fraction and the other columns are kept
    day = pd.DatetimeIndex(scaled.index).month == 5
    ratio_before = data.loc[day, "dhi"].sum() / data.loc[day, "ghi"].sum()
    ratio_after = scaled.loc[day, "dhi"].sum() / scaled.loc[day, "ghi"].sum()
    assert ratio_after == pytest.approx(ratio_before)
    pd.testing.assert_series_equal(scaled["temp_air"], data["temp_air"])
    assert monthly_ghi_sums_kwh_m2(data).sum() == pytest.approx(1498, abs=1)  # input untouched


def test_calibration_rejects_bad_monthly_values(nanjing: tuple[pd.DataFrame, dict]) -> None:
    with pytest.raises(InputError, match="12 values"):
        calibrate_to_monthly_ghi(nanjing[0], [100.0] * 11)
    with pytest.raises(InputError, match="12 values"):
        calibrate_to_monthly_ghi(nanjing[0], [-1.0] * 12)


# ---- load_weather -------------------------------------------------------------------------


def test_load_weather_epw_with_station_calibration(nanjing_epw: Path,
                                                   nanjing_site: tuple[float, float, float]
                                                   ) -> None:
    weather = load_weather("epw", nanjing_epw, 2025, "Asia/Shanghai", *nanjing_site,
                           calibration="station", station_id="58238")
    assert isinstance(weather, WeatherYear)
    assert weather.time_shift_minutes == 0
    assert weather.calibration == "station 58238 monthly means"
    assert "time stamps shifted by +0 min against pvlib's EPW index (sun fit)" in weather.notes
    assert any("1498 → 1301" in note for note in weather.notes)
    assert monthly_ghi_sums_kwh_m2(weather.data).sum() == pytest.approx(1301, abs=1)
    assert weather.source.startswith("CHN_JS_Nanjing")
    with pytest.raises(dataclasses.FrozenInstanceError):
        weather.time_shift_minutes = 5  # type: ignore[misc]


def test_load_weather_nearest_station_and_given_shift(nanjing_epw: Path,
                                                      nanjing_site: tuple[float, float, float]
                                                      ) -> None:
    weather = load_weather("epw", nanjing_epw, 2025, "Asia/Shanghai", *nanjing_site,
                           time_shift=30, calibration="station")
    assert weather.time_shift_minutes == 30
    assert weather.calibration == "station 58238 monthly means"
    assert any(note.startswith("nearest station 58238") for note in weather.notes)
    assert any("(given)" in note for note in weather.notes)


def test_load_weather_uncalibrated_tmyx_is_flagged(nanjing_epw: Path,
                                                   nanjing_site: tuple[float, float, float]
                                                   ) -> None:
    weather = load_weather("epw", nanjing_epw, 2025, "Asia/Shanghai", *nanjing_site)
    assert weather.calibration == "none"
    assert any("TMYx/ERA5" in note for note in weather.notes)


def test_load_weather_synthetic_uses_station_means(monkeypatch: pytest.MonkeyPatch,
                                                   nanjing_site: tuple[float, float, float]
                                                   ) -> None:
    calls: list[tuple] = []
    lags: list[float | None] = []

    def fake_synthetic_weather(latitude, longitude, altitude_m, timezone, year,
                               monthly_ghi_kwh_m2, seed, monthly_temp_c=None,
                               daily_kt_lag1=None):
        calls.append((latitude, timezone, year, tuple(monthly_ghi_kwh_m2), seed))
        lags.append(daily_kt_lag1)
        index = pd.date_range(f"{year}-01-01", periods=8760, freq="h", tz=timezone)
        return pd.DataFrame(0.0, index=index, columns=list(WEATHER_COLUMNS))

    fake = types.ModuleType("greenlink.resource.synthetic")
    fake.synthetic_weather = fake_synthetic_weather  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "greenlink.resource.synthetic", fake)
    weather = load_weather("synthetic", None, 2025, "Asia/Shanghai", *nanjing_site, seed=7)
    assert calls == [(nanjing_site[0], "Asia/Shanghai", 2025,
                      station_climate("58238").monthly_ghi_kwh_m2, 7)]
    assert lags == [0.46]  # the station's day-to-day persistence (station_daily_kt.csv)
    assert weather.time_shift_minutes == 30
    assert weather.calibration == "station 58238 monthly means"


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"kind": "netcdf"}, "unknown weather kind"),
    ({"calibration": "era5"}, "unknown calibration"),
    ({"time_shift": "sun"}, "bad time shift"),
    ({"path": None}, "needs a file"),
    ({"station_id": "99999", "calibration": "station"}, "unknown weather station"),
])
def test_load_weather_rejects_bad_arguments(kwargs: dict, match: str, nanjing_epw: Path,
                                            nanjing_site: tuple[float, float, float]) -> None:
    args = {"kind": "epw", "path": nanjing_epw, "year": 2025, "timezone": "Asia/Shanghai",
            "latitude": nanjing_site[0], "longitude": nanjing_site[1],
            "altitude_m": nanjing_site[2]} | kwargs
    with pytest.raises(InputError, match=match):
        load_weather(**args)
