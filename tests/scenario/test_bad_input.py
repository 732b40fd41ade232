"""Bad input gets a clear message naming file, line/row/field and what was expected, exit code 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from greenlink.cli.main import app
from tests.scenario.parks import loads_frame, park_toml, write_park

runner = CliRunner()


def run_validate(path: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["validate", str(path)])
    return result.exit_code, result.output


def expect_error(path: Path, *needles: str) -> str:
    code, out = run_validate(path)
    assert code == 2, out
    assert "Traceback" not in out
    for needle in needles:
        assert needle in out, f"{needle!r} not in:\n{out}"
    return out


def test_valid_park_passes(tmp_path: Path) -> None:
    code, out = run_validate(write_park(tmp_path))
    assert code == 0, out
    assert "2 users" in out


def test_missing_file(tmp_path: Path) -> None:
    expect_error(tmp_path / "nope.toml", "nope.toml", "not found")


def test_toml_syntax_error_names_line(tmp_path: Path) -> None:
    text = park_toml().replace('name = "test park"', 'name = "test park')
    expect_error(write_park(tmp_path, text), "park.toml", "TOML syntax error", "line 2")


def test_unknown_key_suggests(tmp_path: Path) -> None:
    text = park_toml().replace("energy_kwh = 2000", "energy_kwh = 2000\npower_kW = 5")
    out = expect_error(write_park(tmp_path, text), "unknown key 'power_kW'",
                       "did you mean 'power_kw'")
    assert "batteries[0].power_kW" in out


def test_wrong_type(tmp_path: Path) -> None:
    text = park_toml().replace("capacity_kw = 3000", 'capacity_kw = "lots"')
    expect_error(write_park(tmp_path, text), "wind[0].capacity_kw", "a number")


def test_negative_capacity(tmp_path: Path) -> None:
    text = park_toml().replace("capacity_kw = 3000", "capacity_kw = -3000")
    expect_error(write_park(tmp_path, text), "wind[0].capacity_kw", "greater than 0")


def test_mw_text_where_kw_expected(tmp_path: Path) -> None:
    text = park_toml().replace("capacity_kw = 3000", 'capacity_kw = "3 MW"')
    expect_error(write_park(tmp_path, text), "text with a unit", "plain number")


def test_mw_column_where_kw_expected(tmp_path: Path) -> None:
    frame = loads_frame().rename(columns={"a_kw": "a_mw"})
    text = park_toml().replace('column = "a_kw"', 'column = "a_mw"')
    expect_error(write_park(tmp_path, text, frame), "'a_mw' is in MW", 'unit = "MW"')


def test_mw_column_converted_when_declared(tmp_path: Path) -> None:
    frame = loads_frame()
    frame["a_mw"] = frame["a_kw"] / 1000
    text = park_toml().replace('column = "a_kw"', 'column = "a_mw", unit = "MW"')
    code, out = run_validate(write_park(tmp_path, text, frame))
    assert code == 0, out


def test_soc_min_above_max(tmp_path: Path) -> None:
    text = park_toml().replace("soc_min = 0.1", "soc_min = 0.95")
    expect_error(write_park(tmp_path, text), "soc_min (0.95) must be below soc_max (0.9)")


def test_export_cap_above_connection(tmp_path: Path) -> None:
    text = park_toml().replace("export_limit_kw = 500", "export_limit_kw = 9000")
    expect_error(write_park(tmp_path, text), "export_limit_kw (9000 kW) is above the connection")


def test_user_referenced_but_not_defined(tmp_path: Path) -> None:
    text = park_toml().replace('user = "a"', 'user = "zz"')
    expect_error(write_park(tmp_path, text), "references user 'zz'", "not defined")


def test_bad_cn_code_format(tmp_path: Path) -> None:
    text = park_toml().replace('cn_code = "7318 15 88"', 'cn_code = "7318"')
    expect_error(write_park(tmp_path, text), "products[0].cn_code", "not 8 digits")


def test_missing_series_file(tmp_path: Path) -> None:
    text = park_toml().replace('path = "loads.csv", column = "a_kw"',
                               'path = "other.csv", column = "a_kw"')
    expect_error(write_park(tmp_path, text), "other.csv", "series file not found")


def test_missing_timestamps(tmp_path: Path) -> None:
    frame = loads_frame().drop(index=range(100, 110))
    expect_error(write_park(tmp_path, None, frame), "10 interval(s) missing",
                 "2025-01-05 04:00:00+08:00")


def test_duplicate_timestamps(tmp_path: Path) -> None:
    frame = loads_frame()
    frame.loc[50, "interval_start"] = frame.loc[49, "interval_start"]
    expect_error(write_park(tmp_path, None, frame), "duplicate time stamp", "line 52")


def test_unsorted_timestamps(tmp_path: Path) -> None:
    frame = loads_frame()
    frame.iloc[[20, 21]] = frame.iloc[[21, 20]].to_numpy()
    expect_error(write_park(tmp_path, None, frame), "not sorted", "line 23")


def test_wrong_length_for_year(tmp_path: Path) -> None:
    frame = loads_frame(year=2024)  # 8784 rows of a leap year
    expect_error(write_park(tmp_path, None, frame), "do not cover the year", "8760")


def test_nan_values(tmp_path: Path) -> None:
    frame = loads_frame()
    frame.loc[7, "b_kw"] = np.nan
    expect_error(write_park(tmp_path, None, frame), "missing or non-finite", "line 9",
                 "column 'b_kw'")


def test_missing_timezone(tmp_path: Path) -> None:
    frame = loads_frame()
    frame["interval_start"] = frame["interval_start"].str.replace("+08:00", "", regex=False)
    expect_error(write_park(tmp_path, None, frame), "has no time zone", "line 2")


def test_dst_gap(tmp_path: Path) -> None:
    frame = loads_frame()
    # a file in naive local time of a DST zone: 2025-03-30 02:00 does not exist in Berlin
    naive = pd.date_range("2025-01-01", periods=len(frame), freq="60min")
    frame["interval_start"] = [t.isoformat() for t in naive]
    text = park_toml().replace('column = "a_kw" }',
                               'column = "a_kw", timezone = "Europe/Berlin" }')
    expect_error(write_park(tmp_path, text, frame), "DST gap", "2025-03-30 02:00:00")


def test_unknown_ruleset(tmp_path: Path) -> None:
    path = write_park(tmp_path)
    result = runner.invoke(app, ["check", str(path), "--ruleset", "cn-nowhere-2099"])
    assert result.exit_code == 2, result.output
    assert "cn-nowhere-2099" in result.output


def test_corrupt_weather_file(tmp_path: Path) -> None:
    text = park_toml().replace("[allocation]", """[weather]
kind = "epw"
path = "broken.epw"

[[pv]]
id = "roof"
capacity_kw_dc = 1000
tilt_deg = 20

[allocation]""")
    path = write_park(tmp_path, text)
    (tmp_path / "broken.epw").write_text("LOCATION,Nowhere\nthis is not an epw\n")
    expect_error(path, "broken.epw")


def test_many_problems_reported_at_once(tmp_path: Path) -> None:
    text = (park_toml().replace("capacity_kw = 3000", "capacity_kw = -1")
            .replace("energy_kwh = 2000", "energy_kwh = 2000\nfoo = 1")
            .replace("latitude = 31.93", "latitude = 131.93"))
    out = expect_error(write_park(tmp_path, text), "wind[0].capacity_kw", "unknown key 'foo'",
                       "site.latitude")
    assert "3 problem(s)" in out


def test_errors_from_several_series_at_once(tmp_path: Path) -> None:
    frame = loads_frame()
    frame.loc[3, "a_kw"] = -5
    frame.loc[4, "b_kw"] = np.nan
    out = expect_error(write_park(tmp_path, None, frame), "negative value", "missing")
    assert "2 problem(s)" in out


@pytest.mark.parametrize("suffix", [".parquet"])
def test_parquet_series(tmp_path: Path, suffix: str) -> None:
    frame = loads_frame()
    frame["interval_start"] = pd.to_datetime(frame["interval_start"], utc=True).dt.tz_convert(
        "Asia/Shanghai")
    path = write_park(tmp_path, park_toml("loads" + suffix), frame, loads_name="loads" + suffix)
    code, out = run_validate(path)
    assert code == 0, out


def test_reference_error_reported_with_field_errors(tmp_path: Path) -> None:
    text = (park_toml().replace('user = "a"', 'user = "zz"')
            .replace("capacity_kw = 3000", "capacity_kw = -1"))
    out = expect_error(write_park(tmp_path, text), "wind[0].capacity_kw",
                       "products[0] references user 'zz'")
    assert "2 problem(s)" in out


def test_time_of_day_checked(tmp_path: Path) -> None:
    text = park_toml().replace('start = "17:00"', 'start = "25:00"')
    expect_error(write_park(tmp_path, text), "'25:00' is not a time of day HH:MM")
