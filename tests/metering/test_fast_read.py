"""The DuckDB fast path (long layout, zone-aware stamps) agrees with the general path."""

import random
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from greenlink.errors import InputError
from greenlink.metering.ingest import ingest_files
from greenlink.metering.readfile import read_meter_file
from greenlink.metering.store import open_store, read_readings
from greenlink.metering.validate import ValidationParams, check_readings
from tests.metering.helpers import METERS as METERS_TOML
from tests.metering.helpers import scenario

SC = scenario()
METERS = {m.id: m for m in SC.meters}
TZ = "Asia/Shanghai"
T0 = int(pd.Timestamp("2025-01-01", tz=TZ).timestamp())


def _frames(tmp_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    local = pd.date_range("2025-01-01", periods=6, freq="15min")
    ids = ["load_b", "gen", "exp"]
    values = np.arange(18, dtype=float) + 0.5
    values[4] = np.nan  # an empty value is skipped, not an error
    aware = pd.DataFrame({"timestamp": np.tile(local.tz_localize(TZ), 3),
                          "meter_id": np.repeat(ids, 6), "value": values})
    aware.to_parquet(tmp_path / "aware.parquet")
    naive = aware.assign(timestamp=np.tile(local.strftime("%Y-%m-%d %H:%M:%S"), 3))
    naive.to_csv(tmp_path / "naive.csv", index=False)
    fast = read_meter_file(tmp_path / "aware.parquet", METERS, timezone="UTC").readings
    slow = read_meter_file(tmp_path / "naive.csv", METERS, timezone=TZ).readings
    return fast, slow


def test_fast_and_general_paths_agree(tmp_path: Path) -> None:
    fast, slow = _frames(tmp_path)
    assert len(fast) == 17
    pd.testing.assert_frame_equal(
        fast.assign(meter_id=fast["meter_id"].astype(str)),
        slow.assign(meter_id=slow["meter_id"].astype(str)), check_dtype=False)
    # Wh → kWh and MWh → kWh
    assert fast["energy_kwh"].iloc[0] == pytest.approx(0.5e-3)
    assert fast["energy_kwh"].iloc[-1] == pytest.approx(17.5e3)


def test_fast_path_errors(tmp_path: Path) -> None:
    p = tmp_path / "u.parquet"
    pd.DataFrame({"timestamp": pd.date_range("2025-01-01", periods=2, freq="15min", tz=TZ),
                  "meter_id": ["gen", "ghost"], "value": [1.0, 2.0]}).to_parquet(p)
    with pytest.raises(InputError, match=r"unknown meter ids \['ghost'\]"):
        read_meter_file(p, METERS, timezone=TZ)
    q = tmp_path / "g.parquet"
    pd.DataFrame({"timestamp": pd.to_datetime(["2025-01-01T00:00:30+08:00"]),
                  "meter_id": ["gen"], "value": [1.0]}).to_parquet(q)
    with pytest.raises(InputError, match="grid"):
        read_meter_file(q, METERS, timezone=TZ)


def test_store_keeps_meter_ids_through_integer_keys(tmp_path: Path) -> None:
    _frames(tmp_path)
    store = tmp_path / "s.duckdb"
    # the readings here (up to 17.5 MWh per quarter hour) need meters rated 100 MW
    rated = scenario([{**m, "rating_kw": 100_000} for m in METERS_TOML])
    ingest_files(rated, [tmp_path / "aware.parquet"], store)
    with open_store(store) as con:
        stored = read_readings(con)
        keys = con.execute("SELECT count(*) FROM meters").fetchall()[0][0]
    assert sorted(set(stored["meter_id"])) == ["exp", "gen", "load_b"] and keys == 3
    assert len(stored) == 17


def test_store_of_the_first_layout_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "old.duckdb"
    con = duckdb.connect(str(store))
    con.execute("CREATE TABLE readings (meter_id VARCHAR, ts_s BIGINT, energy_kwh DOUBLE)")
    con.close()
    with pytest.raises(InputError, match="re-ingest"), open_store(store):
        pass



def _stable_shuffle(frame: pd.DataFrame, rnd: random.Random) -> pd.DataFrame:
    """Shuffle rows, but rows of one meter and interval keep their relative (file) order."""
    perm = list(range(len(frame)))
    rnd.shuffle(perm)
    slots = frame.iloc[perm].assign(pos=perm)
    slots["pos"] = slots.groupby(["meter_id", "ts_s"])["pos"].transform(
        lambda s: np.sort(s.to_numpy()))
    return frame.iloc[slots["pos"].to_numpy()].reset_index(drop=True)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["gen", "load_a"]), st.integers(0, 12),
                          st.sampled_from([0.0, 1.0, 2.5, -1.0])), min_size=1, max_size=40),
       st.randoms(use_true_random=False))
def test_checks_do_not_depend_on_row_order(rows: list[tuple[str, int, float]],
                                           rnd: random.Random) -> None:
    """Readings already in (meter, interval) order skip the sort; any other order gives the
    same clean readings and issues (duplicates resolved by file order in both)."""
    frame = pd.DataFrame({"meter_id": [r[0] for r in rows],
                          "ts_s": [T0 + 900 * r[1] for r in rows],
                          "energy_kwh": [r[2] for r in rows]})
    in_order = frame.sort_values(["meter_id", "ts_s"], kind="stable", ignore_index=True)
    params = ValidationParams.defaults(stuck_min_intervals=3)
    a_clean, a_issues = check_readings(in_order, METERS, {"gen": 4.0}, params)
    b_clean, b_issues = check_readings(_stable_shuffle(in_order, rnd), METERS, {"gen": 4.0},
                                       params)
    pd.testing.assert_frame_equal(a_clean.assign(meter_id=a_clean["meter_id"].astype(str)),
                                  b_clean.assign(meter_id=b_clean["meter_id"].astype(str)))
    key = ["check", "meter_id", "ts_s", "energy_kwh", "detail"]
    pd.testing.assert_frame_equal(
        a_issues[key].astype(str).sort_values(key, ignore_index=True),
        b_issues[key].astype(str).sort_values(key, ignore_index=True))
