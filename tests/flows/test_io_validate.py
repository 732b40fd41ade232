"""Reading, writing and checking flows tables from outside: round trips and hostile input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from greenlink import flows
from greenlink.errors import InputError


def tiny(n: int = 4, tz: str = "Asia/Shanghai") -> pd.DataFrame:
    """A hand-balanced table: 2 users, 10 kWh PV per interval, loads 6 + 6, no battery."""
    index = pd.date_range("2025-01-01", periods=n, freq="15min", tz=tz,
                          name=flows.INTERVAL_START)
    load_a, load_b = np.full(n, 6.0), np.full(n, 6.0)
    gen = np.full(n, 10.0)
    green_a, green_b = np.full(n, 5.0), np.full(n, 5.0)  # pro rata 10 × 6/12
    zero = np.zeros(n)
    return pd.DataFrame({
        flows.GENERATION_KWH: gen, flows.LOAD_KWH: load_a + load_b,
        flows.GREEN_TO_LOAD_KWH: green_a + green_b, flows.GREEN_DIRECT_KWH: green_a + green_b,
        flows.BATTERY_CHARGE_KWH: zero, flows.BATTERY_CHARGE_GREEN_KWH: zero,
        flows.BATTERY_DISCHARGE_KWH: zero, flows.BATTERY_DISCHARGE_GREEN_KWH: zero,
        flows.BATTERY_SOC_KWH: zero, flows.BATTERY_SOC_GREEN_KWH: zero,
        flows.EXPORT_KWH: zero, flows.CURTAILED_KWH: zero, flows.IMPORT_KWH: np.full(n, 2.0),
        flows.IMPORT_OVER_LIMIT_KWH: zero,
        flows.user_load("a"): load_a, flows.user_green("a"): green_a,
        flows.user_grid("a"): load_a - green_a,
        flows.user_load("b"): load_b, flows.user_green("b"): green_b,
        flows.user_grid("b"): load_b - green_b,
    }, index=index)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_round_trip_keeps_values_and_zone(tmp_path: Path, fmt: str) -> None:
    table = tiny()
    written = flows.write_flows(table, tmp_path, (fmt,))
    back = flows.read_flows(written[f"flows.{fmt}"])
    assert str(back.index.tz) in ("Asia/Shanghai", "UTC+08:00")
    assert (back.index == table.index).all()
    pd.testing.assert_frame_equal(back[table.columns], table, check_freq=False,
                                  check_index_type=False, check_names=False, atol=1e-6)
    assert flows.validate_flows(back, ["a", "b"], interval_minutes=15) is not None


def test_validate_reports_every_problem_with_row_and_column() -> None:
    table = tiny(6)
    table.iloc[1, table.columns.get_loc(flows.GENERATION_KWH)] = np.inf
    table.iloc[2, table.columns.get_loc(flows.user_load("a"))] = -3.0
    table.iloc[3, table.columns.get_loc(flows.IMPORT_KWH)] = 1e308
    with pytest.raises(InputError) as err:
        flows.validate_flows(table, ["a", "b"], file="up.csv")
    text = str(err.value)
    assert "up.csv:row 2 (2025-01-01T00:15:00+08:00), generation_kwh: 'inf' is not a finite" in text
    assert "row 3 (2025-01-01T00:30:00+08:00), a.load_kwh: negative energy -3" in text
    assert "row 4 (2025-01-01T00:45:00+08:00), import_kwh: 1e+308 kWh in one interval" in text
    assert len(err.value.problems) == 3


def test_validate_checks_relations() -> None:
    table = tiny()
    table.loc[table.index[0], flows.user_green("a")] = 6.5  # more green than its load 6
    with pytest.raises(InputError) as err:
        flows.validate_flows(table, ["a", "b"])
    messages = " | ".join(p.message for p in err.value.problems)
    assert "received 0.5 kWh more green energy than it used" in messages
    # park green 10 vs users 6.5 + 5 = 11.5
    assert "green_to_load_kwh differs from the users' sum by -1.5 kWh" in messages
    assert all(p.location and p.location.startswith("row 1 ") for p in err.value.problems)


def test_validate_balance_and_steps() -> None:
    table = tiny(5)
    table.loc[table.index[2], flows.IMPORT_KWH] = 2.5  # balance off by +0.5
    table = table.drop(index=table.index[3])  # a 30-minute gap after row 3
    with pytest.raises(InputError) as err:
        flows.validate_flows(table, ["a", "b"], interval_minutes=15)
    messages = [str(p) for p in err.value.problems]
    assert any("gap or step of 30 min" in m and "row 3" in m for m in messages)
    assert any("energy balance off by 0.5 kWh" in m for m in messages)


@pytest.mark.parametrize("mutate, expected", [
    (lambda t: t.tz_localize(None), "not timezone-aware"),
    (lambda t: pd.concat([t, t.iloc[:1]]), "appears more than once"),
    (lambda t: t.iloc[:0], "no rows"),
    (lambda t: t.drop(columns=[flows.LOAD_KWH]), "no column 'load_kwh'"),
])
def test_validate_refuses_malformed_tables(mutate, expected) -> None:
    with pytest.raises(InputError, match=expected):
        flows.validate_flows(mutate(tiny()), ["a", "b"])


def test_parse_rejects_garbage_and_bad_stamps() -> None:
    with pytest.raises(InputError, match="cannot read the flows table"):
        flows.parse_flows(b"\x00\x01not parquet", "parquet", name="x.parquet")
    with pytest.raises(InputError, match="line 3"):
        flows.parse_flows(b"interval_start,load_kwh\n2025-01-01T00:00+08:00,1\nyesterday,2\n",
                          "csv", name="x.csv")
    with pytest.raises(InputError, match="no interval_start column"):
        flows.parse_flows(b"time,load_kwh\n2025-01-01T00:00+08:00,1\n", "csv", name="x.csv")


def test_other_columns_pass_unchecked_and_required_is_the_callers() -> None:
    table = tiny().assign(note="x")[[flows.LOAD_KWH, "note"]]
    out = flows.validate_flows(table, ["a", "b"], required=[flows.LOAD_KWH])
    assert list(out.columns) == [flows.LOAD_KWH, "note"]


def test_outputs_write_float_noise_as_zero(tmp_path: Path) -> None:
    table = tiny()
    table.loc[table.index[0], flows.user_grid("a")] = -2.3e-13  # noise
    table.loc[table.index[1], flows.user_grid("a")] = -0.5  # a real negative stays
    written = flows.write_flows(table, tmp_path)
    for name in written:
        back = flows.read_flows(written[name])
        assert back[flows.user_grid("a")].iloc[0] == 0.0
        assert back[flows.user_grid("a")].iloc[1] == -0.5
    assert "-0.000000" not in written["flows.csv"].read_text()


@pytest.mark.parametrize("text, expected", [
    (b"interval_start,load_kwh\n", "no rows"),
    (b"interval_start,load_kwh,load_kwh\n2025-01-01T00:00+08:00,1,2\n", "appears more than once"),
    (b"interval_start,load_kwh\n2025-01-01T00:00+08:00,1\n,2\n", "line 3, interval_start: no time"),
    (b"interval_start,load_kwh\n2025-01-01T00:15+08:00,1\n2025-01-01T00:00+08:00,2\n",
     "line 3, interval_start: rows are not in time order"),
])
def test_parse_names_the_line_of_malformed_csv(text: bytes, expected: str) -> None:
    with pytest.raises(InputError) as err:
        flows.parse_flows(text, "csv", name="x.csv")
    assert "x.csv" in str(err.value)
    assert all(part in str(err.value) for part in expected.split(": "))


def test_a_huge_number_is_named_briefly() -> None:
    huge = "9" * 200_000
    text = f"interval_start,load_kwh\n2025-01-01T00:00+08:00,{huge}\n".encode()
    table = flows.parse_flows(text, "csv", name="x.csv")
    with pytest.raises(InputError) as err:
        flows.validate_flows(table, required=[flows.LOAD_KWH])
    assert len(str(err.value)) < 400
