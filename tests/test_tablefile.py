"""Inputs as users have them (issue 14, point 2): one reader for CSV in UTF-8, UTF-8-BOM, GBK or
GB18030 (detected and named), xlsx (sheet named), Chinese column names and decimal commas, used
by the series, meter, batch and shipment files and the service's meter uploads.

Expected values are written by hand from the files each test writes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from greenlink.errors import InputError
from greenlink.tablefile import detect_encoding, parse_datetimes, parse_table, read_table

HEADER = "时间,负荷(kW),备注"
ROWS = ["2025-01-01T00:00:00+08:00,1200.5,正常", "2025-01-01T01:00:00+08:00,980,夜班"]
TEXT = "\n".join([HEADER, *ROWS]) + "\n"


@pytest.mark.parametrize(("encoding", "name"), [
    ("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8-BOM"), ("gbk", "GBK"), ("gb18030", "GB18030")])
def test_csv_in_each_encoding_with_chinese_headers(tmp_path: Path, encoding: str,
                                                   name: str) -> None:
    text = TEXT
    if name == "GB18030":  # a character GBK does not have (CJK extension B): GB18030 only
        text = TEXT.replace("夜班", "夜班𠮷")
    path = tmp_path / "loads.csv"
    path.write_bytes(text.encode(encoding))
    table = read_table(path)
    assert table.source.encoding == name
    assert table.source.describe().startswith(f"CSV, {name} (detected)")
    assert list(table.frame.columns) == ["时间", "负荷(kW)", "备注"]
    assert table.frame["负荷(kW)"].tolist() == ["1200.5", "980"]
    assert table.frame["备注"].iloc[0] == "正常"
    assert table.source.row(1) == "line 3"


def test_chinese_excel_csv_crlf_gbk_slashed_dates(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"  # what Chinese Excel's "CSV (逗号分隔)" saves
    path.write_bytes("时间 ,负荷(kW)\r\n2025/1/1 0:00,12.5\r\n2025/1/1 1:00,13\r\n".encode("gbk"))
    table = read_table(path)
    assert table.source.encoding == "GBK"
    assert table.frame.to_dict("list") == {"时间": ["2025/1/1 0:00", "2025/1/1 1:00"],
                                           "负荷(kW)": ["12.5", "13"]}
    assert list(parse_datetimes(table.frame["时间"])) == [pd.Timestamp("2025-01-01 00:00"),
                                                         pd.Timestamp("2025-01-01 01:00")]


def test_gbk_is_told_from_a_short_header() -> None:
    # charset-normalizer alone ranks Korean (cp949) first on so few bytes; GBK is preferred
    assert detect_encoding("时间,负荷\n1,2\n".encode("gbk")) == "GBK"
    assert detect_encoding(b"interval_start,kw\n1,2\n") == "UTF-8"


def test_decimal_commas_where_declared(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_bytes("时间;负荷(kW);id\n2025-01-01T00:00:00+08:00;1,5;7,3\n"
                     "2025-01-01T01:00:00+08:00;-0,25;x\n".encode("gbk"))
    table = read_table(path, decimal=",")
    assert table.source.separator == ";"
    assert "decimal comma" in table.source.describe()
    assert table.frame["负荷(kW)"].tolist() == ["1.5", "-0.25"]
    assert table.frame["id"].tolist() == ["7.3", "x"]  # every cell that is a decimal-comma number
    undeclared = read_table(path)  # without the declaration the comma stays
    assert undeclared.frame["负荷(kW)"].tolist() == ["1,5", "-0,25"]


def test_excel_sep_line_and_quoted_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "sep.csv"
    path.write_text("sep=;\na;b\n1,5;2\n", encoding="utf-8")
    table = read_table(path, decimal=",")
    assert table.frame["a"].tolist() == ["1.5"] and table.source.header_line == 2
    assert table.source.row(0) == "line 3"
    quoted = tmp_path / "quoted.csv"  # ","-separated: Excel quotes the decimal-comma cells
    quoted.write_text('a,b\n"1,5",2\n', encoding="utf-8")
    assert read_table(quoted, decimal=",").frame.to_dict("list") == {"a": ["1.5"], "b": ["2"]}


def test_undecodable_bytes_name_the_file() -> None:
    with pytest.raises(InputError) as err:
        parse_table(b"a,b\n\xff\xfe\xfd\xfc\x81\x00,1\n", "bad.csv", encoding="GBK")
    assert "bad.csv" in str(err.value) and "GBK" in str(err.value)


def _workbook(path: Path) -> None:
    book = openpyxl.Workbook()
    first = book.active
    first.title = "说明"
    first.append(["这里没有数据"])
    sheet = book.create_sheet("负荷")
    sheet.append(["时间", "负荷(kW)", "编号"])
    sheet.append([datetime(2025, 1, 1, 0, 0), 1200.5, 1001])
    sheet.append([datetime(2025, 1, 1, 0, 59, 59, 999_900), 980, 1002])  # Excel's rounding
    sheet.append([None, None, None])  # an empty row is skipped
    book.save(path)


def test_xlsx_sheet_named_in_the_scenario(tmp_path: Path) -> None:
    path = tmp_path / "loads.xlsx"
    _workbook(path)
    table = read_table(path, sheet="负荷")
    assert table.source.describe() == "xlsx, sheet '负荷'"
    assert table.frame.to_dict("list") == {
        "时间": ["2025-01-01 00:00:00", "2025-01-01 01:00:00"], "负荷(kW)": ["1200.5", "980"],
        "编号": ["1001", "1002"]}
    assert table.source.row(0) == "row 2 of sheet '负荷'"
    assert read_table(path).source.sheet == "说明"  # default: the first sheet
    with pytest.raises(InputError, match="no worksheet 'loads'") as err:
        read_table(path, sheet="loads")
    assert "'说明', '负荷'" in str(err.value)


def test_year_first_excel_time_stamps() -> None:
    got = parse_datetimes(pd.Series(["2025/1/1 0:15", "2025/12/31 23:45", "2025-2-3"]))
    assert list(got) == [pd.Timestamp("2025-01-01 00:15"), pd.Timestamp("2025-12-31 23:45"),
                         pd.Timestamp("2025-02-03")]
    with pytest.raises(ValueError, match="1/1/2025"):
        parse_datetimes(pd.Series(["1/1/2025 0:00"]))


# ---------------------------------------------------------------------------------------------
# the callers: series, meters, batches, service uploads


def _hours(n: int = 8760) -> pd.DatetimeIndex:
    return pd.date_range("2025-01-01", periods=n, freq="60min", tz="Asia/Shanghai")


def test_series_from_gbk_csv_with_chinese_names_decimal_commas_naive_times(
        tmp_path: Path) -> None:
    from greenlink.scenario.model import SeriesRef
    from greenlink.scenario.series import read_series, series_source

    index = _hours()
    values = np.where(index.hour < 12, 1.5, 2.25)
    lines = ["日期时间;负荷(MW)"] + [  # Chinese Excel: 2025/1/1 0:00, decimal commas
        f"{t.year}/{t.month}/{t.day} {t.hour}:00;{str(v).replace('.', ',')}"
        for t, v in zip(index, values, strict=True)]
    (tmp_path / "负荷.csv").write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    ref = SeriesRef(path="负荷.csv", column="负荷(MW)", unit="MW", timestamp_column="日期时间",
                    timezone="Asia/Shanghai", decimal=",")
    kwh = read_series(ref, tmp_path, index, "users[0].load")
    assert kwh[0] == 1500.0 and kwh[12] == 2250.0  # MW → kWh in an hour
    assert kwh.sum() == pytest.approx(365 * (12 * 1500 + 12 * 2250))
    assert series_source(ref, tmp_path).describe() == \
        "CSV, GBK (detected), ';'-separated, decimal comma"
    wrong = SeriesRef(path="负荷.csv", column="负荷(MW)", unit="kW", timestamp_column="日期时间",
                      timezone="Asia/Shanghai", decimal=",")
    with pytest.raises(InputError, match=r"is in MW by its name but users\[0\].load.unit says kW"):
        read_series(wrong, tmp_path, index, "users[0].load")


def test_series_from_xlsx_sheet(tmp_path: Path) -> None:
    from greenlink.scenario.model import SeriesRef
    from greenlink.scenario.series import read_series

    index = _hours()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "load"
    sheet.append(["时间", "用电功率（千瓦）"])
    for i, t in enumerate(index):
        sheet.append([t.tz_localize(None).to_pydatetime(), 100 + (i % 24)])
    book.save(tmp_path / "l.xlsx")
    ref = SeriesRef(path="l.xlsx", sheet="load", column="用电功率（千瓦）", unit="kW",
                    timestamp_column="时间", timezone="Asia/Shanghai")
    kwh = read_series(ref, tmp_path, index, "users[0].load")
    assert kwh[:3].tolist() == [100.0, 101.0, 102.0] and kwh.sum() == 365 * sum(range(100, 124))


def test_meter_file_in_gbk_and_xlsx_takes_the_general_path(tmp_path: Path) -> None:
    from greenlink.metering.readfile import read_meter_file
    from greenlink.scenario.meters import Meter

    meters = {"m1": Meter(id="m1", role="grid_import", unit="kWh", interval_minutes=15)}
    text = ("timestamp,meter_id,value,备注\n"
            "2025-03-01T08:00:00+08:00,m1,\"1,5\",正常\n"
            "2025-03-01T08:15:00+08:00,m1,\"2,25\",正常\n")
    (tmp_path / "m.csv").write_bytes(text.encode("gbk"))
    got = read_meter_file(tmp_path / "m.csv", meters, timezone="Asia/Shanghai", decimal=",")
    assert got.read_as.startswith("CSV, GBK (detected)")
    assert got.readings["energy_kwh"].tolist() == [1.5, 2.25]
    assert got.readings["ts_s"].tolist() == [1740787200, 1740788100]  # 00:00 and 00:15 UTC
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "电表"
    sheet.append(["timestamp", "m1"])
    sheet.append([datetime(2025, 3, 1, 8, 0), 3.5])
    book.save(tmp_path / "m.xlsx")
    wide = read_meter_file(tmp_path / "m.xlsx", meters, timezone="Asia/Shanghai", sheet="电表")
    assert wide.read_as == "xlsx, sheet '电表'"
    assert wide.readings["energy_kwh"].tolist() == [3.5]
    assert wide.readings["ts_s"].tolist() == [1740787200]


def test_utf8_meter_csv_keeps_the_fast_path(tmp_path: Path, monkeypatch) -> None:
    from greenlink.metering import readfile
    from greenlink.scenario.meters import Meter

    meters = {"m1": Meter(id="m1", role="grid_import", unit="kWh", interval_minutes=15)}
    (tmp_path / "m.csv").write_text("timestamp,meter_id,value\n"
                                    "2025-03-01T08:00:00+08:00,m1,1.5\n", encoding="utf-8")
    monkeypatch.setattr(readfile, "read_table", lambda *a, **k: pytest.fail("slow path"))
    got = readfile.read_meter_file(tmp_path / "m.csv", meters, timezone="Asia/Shanghai")
    assert got.read_as == "CSV, UTF-8 (detected)"
    assert got.readings["energy_kwh"].tolist() == [1.5]


def test_batches_and_shipments_from_xlsx_and_gbk(tmp_path: Path) -> None:
    from greenlink.carbon.batches import read_batch_file, read_shipment_file

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "批次"
    sheet.append(["batch_id", "process", "sku", "start", "end", "tonnes"])
    sheet.append(["B1", "mill", "CEM", datetime(2025, 1, 1, 8), datetime(2025, 1, 1, 20), 12.5])
    book.save(tmp_path / "cbam.xlsx")
    batches, source = read_batch_file(tmp_path / "cbam.xlsx", "Asia/Shanghai", sheet="批次")
    assert source.describe() == "xlsx, sheet '批次'"
    assert batches["tonnes"].tolist() == [12.5]
    assert batches["start"].iloc[0] == pd.Timestamp("2025-01-01 08:00", tz="Asia/Shanghai")
    (tmp_path / "ships.csv").write_bytes(
        ("shipment_id;customer;sku;cn_code;tonnes;batches;date\n"
         "S1;上海贸易;CEM;25232900;10,5;B1;2025/2/1\n").encode("gbk"))
    ships, source = read_shipment_file(tmp_path / "ships.csv", "Asia/Shanghai", decimal=",")
    assert source.encoding == "GBK"
    assert ships["customer"].iloc[0] == "上海贸易" and ships["tonnes"].iloc[0] == 10.5
    assert ships["year"].iloc[0] == 2025


def test_service_meter_upload_in_gbk_and_xlsx() -> None:
    import io

    from greenlink.metering.guard import ReadingLimits
    from greenlink.service.meters import parse_meter_csv

    limits = ReadingLimits(2025, "Asia/Shanghai", 1735660800, 1767196800, {"u": 1e4}, {"u": 60},
                           1.05)
    text = "interval_start,energy_kwh\n2025-01-01T00:00:00+08:00,1.5\n"
    assert parse_meter_csv(text.encode("gbk"), "电表.csv", limits) == (1, 1.5)
    assert parse_meter_csv(text.encode("utf-8-sig"), "m.csv", limits) == (1, 1.5)
    book = openpyxl.Workbook()
    book.active.append(["interval_start", "energy_kwh"])
    book.active.append(["2025-01-01T01:00:00+08:00", 2.5])
    buffer = io.BytesIO()
    book.save(buffer)
    assert parse_meter_csv(buffer.getvalue(), "m.xlsx", limits) == (1, 2.5)
