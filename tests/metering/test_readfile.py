from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from greenlink.errors import InputError
from greenlink.metering.readfile import ColumnMapping, read_meter_file
from tests.metering.helpers import scenario

SC = scenario()
METERS = {m.id: m for m in SC.meters}
TZ = "Asia/Shanghai"
T0 = int(pd.Timestamp("2025-01-01", tz=TZ).timestamp())


def read(path: Path, **kw):  # type: ignore[no-untyped-def]
    return read_meter_file(path, METERS, timezone=kw.pop("timezone", TZ), **kw)


def test_long_csv_with_offsets_and_units(tmp_path: Path) -> None:
    p = tmp_path / "m.csv"
    p.write_text("timestamp,meter_id,value\n"
                 "2025-01-01T00:00:00+08:00,gen,1.5\n"
                 "2024-12-31T16:15:00Z,gen,2\n"          # same zone shift, UTC
                 "2025-01-01T00:00:00+08:00,load_b,2500\n"  # Wh
                 "2025-01-01T00:00:00+08:00,exp,0.25\n")     # MWh
    r = read(p).readings
    assert r["ts_s"].tolist() == [T0, T0 + 900, T0, T0]
    assert r["energy_kwh"].tolist() == [1.5, 2.0, 2.5, 250.0]
    assert r["row"].tolist() == [1, 2, 3, 4]


def test_wide_parquet_naive_local_interval_ending(tmp_path: Path) -> None:
    sc = scenario([{"id": "gen", "role": "generator", "measures": "pv",
                    "label": "interval_ending", "unit": "MWh"}])
    p = tmp_path / "w.parquet"
    pd.DataFrame({"time": ["2025-01-01 00:15:00", "2025-01-01 00:30:00"],
                  "gen": [0.001, 0.002]}).to_parquet(p)
    r = read_meter_file(p, {m.id: m for m in sc.meters}, timezone=TZ,
                        mapping=ColumnMapping(time="time"))
    assert r.layout == "wide"
    assert r.readings["ts_s"].tolist() == [T0, T0 + 900]
    np.testing.assert_allclose(r.readings["energy_kwh"], [1.0, 2.0])


def test_dst_anomalies_are_dropped_and_reported(tmp_path: Path) -> None:
    # Europe/Berlin 2025-03-30: 02:00-03:00 does not exist
    p = tmp_path / "dst.csv"
    p.write_text("timestamp,gen\n2025-03-30 01:45:00,1\n2025-03-30 02:15:00,1\n"
                 "2025-03-30 03:00:00,1\n")
    r = read(p, timezone="Europe/Berlin")
    assert len(r.readings) == 2
    assert r.dst_anomalies["row"].tolist() == [2]
    # the two kept readings are 15 min apart in real time (01:45 CET → 03:00 CEST)
    assert np.diff(r.readings["ts_s"]).tolist() == [900]


@pytest.mark.parametrize(("content", "message"), [
    ("timestamp,meter_id,value\n2025-01-01T00:00:00+08:00,nope,1\n", "unknown meter"),
    ("timestamp,gen,nope\n2025-01-01T00:00:00+08:00,1,2\n", "unknown meter ids"),
    ("timestamp,meter_id,value\n2025-01-01T00:00:00+08:00,gen,abc\n", "not a number"),
    ("timestamp,meter_id,value\nyesterday,gen,1\n", "cannot be read"),
    ("timestamp,meter_id,value\n2025-01-01T00:07:00+08:00,gen,1\n", "grid"),
    ("when,meter_id,value\n2025-01-01T00:00:00+08:00,gen,1\n", "no time column"),
    ("timestamp,meter_id,value,unit\n2025-01-01T00:00:00+08:00,gen,1,MWh\n", "unit confusion"),
])
def test_bad_files_name_file_row_and_expectation(tmp_path: Path, content: str,
                                                 message: str) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(content)
    with pytest.raises(InputError, match=message) as err:
        read(p)
    assert "bad.csv" in str(err.value)


def test_missing_and_unknown_file_types(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read(tmp_path / "absent.csv")
    (tmp_path / "m.docx").write_text("x")
    with pytest.raises(InputError, match="unknown meter file type"):
        read(tmp_path / "m.docx")
    (tmp_path / "m.xlsx").write_text("x")  # xlsx is read since issue 14; this one is broken
    with pytest.raises(InputError, match="cannot read the table"):
        read(tmp_path / "m.xlsx")
