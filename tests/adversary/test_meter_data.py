"""Meter data an attacker cannot weaponise.

A meter file with ``inf`` or ``1e308`` used to be stored; certificate issuance then overflowed
and no consumption ceiling was written. Each attack class below is refused at ingest, by every
path into a store (``ingest_files``, ``greenlink ingest``, the service's meter files and meter
uploads): an error naming the file, the row and the column or meter, and the store unchanged.

Limits by hand, for the example park (``src/greenlink/examples/jiangsu_park/park.toml``, 2025,
Asia/Shanghai, UTC+8):

* ``gen_rooftops`` (kWh, 15 min, the 14,000 kWp rooftop plant): 14,000 kW × 0.25 h × 1.05
  (``rating_margin``) = 3,675 kWh per reading;
* a user's upload: the park's supply capacity, 40,000 kW grid + 14,000 + 46,000 kWp PV +
  20,000 kW battery = 120,000 kW, × 0.25 h × 1.05 = 31,500 kWh per reading;
* the year: interval starts from 2025-01-01T00:00+08:00 to before 2026-01-01T00:00+08:00.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from greenlink.cli.ingest_cmd import ingest_app
from greenlink.cli.main import example_dir
from greenlink.errors import InputError
from greenlink.metering.ingest import ingest_files
from greenlink.metering.store import open_store, snapshot
from greenlink.scenario.load import load_scenario
from greenlink.service.models import MeterIngest, MeterUpload, Park
from tests.service.conftest import Demo, demo  # noqa: F401  (the service fixture)

PARK = example_dir() / "park.toml"
SC = load_scenario(PARK).scenario
METER = "gen_rooftops"
LIMIT_KWH = "3675"  # 14,000 kW × 0.25 h × 1.05
UPLOAD_LIMIT_KWH = "31500"  # 120,000 kW × 0.25 h × 1.05
GOOD_TIME = "2025-06-01T12:00:00+08:00"
NEXT_TIME = "2025-06-01T12:15:00+08:00"
HUGE_NUMBER = "1" * 200_000
LONG_LINE_PAD = " " * (1 << 20)
REFUSAL_S = 1.0  # a refusal of a hostile text takes milliseconds; 1 s holds on a loaded machine


def long_csv(value: str, when: str = NEXT_TIME) -> str:
    """Two readings of the rooftop meter; the second one carries the attack."""
    return (f"timestamp,meter_id,value\n{GOOD_TIME},{METER},100\n"
            f"{when},{METER},{value}\n")


def upload_csv(value: str, when: str = NEXT_TIME) -> str:
    """The same two readings in the service's upload format (one user's interval energy)."""
    return f"interval_start,energy_kwh\n{GOOD_TIME},100\n{when},{value}\n"


def _store(tmp_path: Path) -> Path:
    """A store holding one good file already."""
    good = tmp_path / "good.csv"
    good.write_text(long_csv("120", when="2025-06-01T11:45:00+08:00"))
    store = tmp_path / "store.duckdb"
    ingest_files(SC, [good], store)
    return store


def _snapshot(store: Path) -> dict[str, list[tuple[object, ...]]]:
    with open_store(store, read_only=True) as con:
        return snapshot(con)


def _refused(tmp_path: Path, name: str, content: str | bytes, *where: str) -> str:
    """Ingest ``content`` as ``name`` into a store with one good file: an InputError naming the
    file and everything in ``where``, and the store exactly as before. Returns the message."""
    store = _store(tmp_path)
    before = _snapshot(store)
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(InputError) as err:
        ingest_files(SC, [path], store)
    text = str(err.value)
    assert name in text
    for w in where:
        assert w in text, text
    assert _snapshot(store) == before
    return text


# ------------------------------------------------------------------ 1. non-finite values

NON_FINITE = ["inf", "-inf", "nan", "NaN", "Infinity", "1e309", "1" + "0" * 400]


#: A Parquet double cannot hold a number that overflows, so Parquet gets the IEEE specials only.
CASES = [(layout, v) for layout in ("long csv", "wide csv", "parquet") for v in NON_FINITE
         if layout != "parquet" or not v.startswith("1")]


@pytest.mark.parametrize(("layout", "value"), CASES)
def test_non_finite_values_are_refused(tmp_path: Path, value: str, layout: str) -> None:
    if layout == "long csv":  # time stamps with offsets: DuckDB's fast path
        _refused(tmp_path, "m.csv", long_csv(value), "row 2", "column 'value'", repr(METER))
    elif layout == "wide csv":  # naive local times, one column per meter: the general path
        text = (f"timestamp,{METER}\n2025-06-01 12:00:00,100\n"
                f"2025-06-01 12:15:00,{value}\n")
        _refused(tmp_path, "w.csv", text, "row 2", f"column {METER!r}")
    else:
        table = pa.table({
            "timestamp": pa.array(pd.to_datetime([GOOD_TIME, NEXT_TIME])),
            "meter_id": [METER, METER],
            "value": pa.array([100.0, float(value)], type=pa.float64(), from_pandas=False)})
        path = tmp_path / "m.parquet"
        pq.write_table(table, path)
        _refused(tmp_path, "m.parquet", path.read_bytes(), "row 2", "column 'value'",
                 "not a finite number")


# ------------------------------------------------------------------ 2. above rating × Δt × margin


@pytest.mark.parametrize("value", ["1e308", "-1e308", "1e15", "3676", "3675000"])
def test_values_above_rating_interval_and_margin_are_refused(tmp_path: Path,
                                                             value: str) -> None:
    text = _refused(tmp_path, "m.csv", long_csv(value), "row 2", "column 'value'",
                    repr(METER))
    assert f"at most {LIMIT_KWH} kWh" in text


def test_a_reading_at_the_limit_is_stored(tmp_path: Path) -> None:
    store = _store(tmp_path)
    path = tmp_path / "m.csv"
    path.write_text(long_csv("3674.9"))
    ingest_files(SC, [path], store)
    with open_store(store, read_only=True) as con:
        top = con.execute("SELECT max(energy_kwh) FROM readings").fetchall()[0][0]
    assert top == 3674.9


# ------------------------------------------------------------------ 3. outside the scenario year


@pytest.mark.parametrize("when", ["2026-01-01T00:00:00+08:00", "2024-12-31T23:45:00+08:00",
                                  "1970-01-01T00:00:00Z", "2125-06-01T12:15:00+08:00"])
def test_time_stamps_outside_the_scenario_year_are_refused(tmp_path: Path, when: str) -> None:
    _refused(tmp_path, "m.csv", long_csv("100", when=when), "row 2", repr(METER),
             "outside the scenario year 2025")


def test_the_first_and_last_interval_of_the_year_are_stored(tmp_path: Path) -> None:
    store = _store(tmp_path)
    path = tmp_path / "m.csv"
    path.write_text("timestamp,meter_id,value\n"
                    f"2025-01-01T00:00:00+08:00,{METER},0\n"
                    f"2025-12-31T23:45:00+08:00,{METER},0\n")
    assert ingest_files(SC, [path], store).files[0].inserted == 2


# ------------------------------------------------------------------ 4. empty and header-only


@pytest.mark.parametrize(("name", "content"), [
    ("empty.csv", ""),
    ("blank.csv", "\n\n  \n"),
    ("header.csv", "timestamp,meter_id,value\n"),
    ("wide_header.csv", f"timestamp,{METER}\n"),
    ("all_blank_values.csv", f"timestamp,meter_id,value\n{GOOD_TIME},{METER},\n"),
])
def test_empty_and_header_only_files_are_refused(tmp_path: Path, name: str,
                                                 content: str) -> None:
    text = _refused(tmp_path, name, content)
    assert "line 1" in text or "row 1" in text
    assert "empty" in text


def test_header_only_parquet_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.parquet"
    pd.DataFrame({"timestamp": pd.to_datetime([]).tz_localize("UTC"),
                  "meter_id": pd.Series([], dtype=str),
                  "value": pd.Series([], dtype=float)}).to_parquet(path)
    _refused(tmp_path, "h.parquet", path.read_bytes(), "row 1", "no readings")


# ------------------------------------------------------------------ 5. bounded parse cost


def _timed(call: Callable[[], object]) -> tuple[float, BaseException | None]:
    start = time.perf_counter()
    try:
        call()
    except InputError as exc:
        return time.perf_counter() - start, exc
    return time.perf_counter() - start, None


@pytest.mark.parametrize("kind", ["200,000-digit number", "1 MB line"])
def test_parse_cost_is_bounded(tmp_path: Path, kind: str) -> None:
    value = HUGE_NUMBER if kind.startswith("200") else "100" + LONG_LINE_PAD
    store = _store(tmp_path)
    before = _snapshot(store)
    path = tmp_path / "hostile.csv"
    path.write_text(long_csv(value))
    took, err = _timed(lambda: ingest_files(SC, [path], store))
    assert err is not None, "the hostile file was accepted"
    assert "hostile.csv" in str(err) and "line 3" in str(err)
    assert took < REFUSAL_S, f"refusal took {took:.2f} s"
    assert _snapshot(store) == before
    # the service's upload parser: the same bound
    from greenlink.metering.guard import upload_limits
    from greenlink.service.meters import parse_meter_csv

    limits = upload_limits(SC, "cement_grinding")
    took, err = _timed(lambda: parse_meter_csv(upload_csv(value).encode(), "up.csv", limits))
    assert err is not None and "up.csv" in str(err) and "line 3" in str(err)
    assert took < REFUSAL_S, f"upload refusal took {took:.2f} s"


def test_a_normal_year_still_parses(tmp_path: Path) -> None:
    """A year of 15-minute readings of one meter: 365 × 96 = 35,040 rows, every one stored."""
    starts = pd.date_range("2025-01-01", "2026-01-01", freq="15min", inclusive="left",
                           tz="Asia/Shanghai")
    hour = starts.hour + starts.minute / 60
    kwh = np.round(np.clip(np.sin(np.pi * (hour - 6) / 12), 0, None) * 3000, 3)
    path = tmp_path / "year.csv"
    pd.DataFrame({"timestamp": starts.map(pd.Timestamp.isoformat), "meter_id": METER,
                  "value": kwh}).to_csv(path, index=False)
    report = ingest_files(SC, [path], tmp_path / "s.duckdb")
    assert report.readings == 35_040 and report.files[0].inserted == 35_040


# ------------------------------------------------------------------ 6. every path, one guard


def test_path_store_write_refuses_what_bypasses_ingest(tmp_path: Path) -> None:
    """``write_batches`` called directly (no ingest, no guard) still refuses ``inf``."""
    from greenlink.metering.store import Batch, write_batches

    store = _store(tmp_path)
    before = _snapshot(store)
    t = int(pd.Timestamp(NEXT_TIME).timestamp())
    for bad in (math.inf, math.nan, 1e308):
        batch = Batch("f" * 64, "direct.csv", pd.DataFrame({
            "meter_id": [METER], "ts_s": [t], "energy_kwh": [bad], "filled": [False]}))
        with open_store(store) as con, pytest.raises(InputError, match=r"direct\.csv"):
            write_batches(con, [batch])
        assert _snapshot(store) == before


HOSTILE = {
    "inf": (long_csv("inf"), upload_csv("inf"), "line 3"),
    "1e308": (long_csv("1e308"), upload_csv("1e308"), "line 3"),
    "next year": (long_csv("1", when="2026-01-01T00:00:00+08:00"),
                  upload_csv("1", when="2026-01-01T00:00:00+08:00"), "line 3"),
    "header only": ("timestamp,meter_id,value\n", "interval_start,energy_kwh\n", "line 1"),
    "200,000 digits": (long_csv(HUGE_NUMBER), upload_csv(HUGE_NUMBER), "line 3"),
}
# ingest counts data rows (line 3 of the text is row 2)
ROW = {"line 3": "row 2", "line 1": "row 1"}


def _text_or_row(text: str, line: str) -> bool:
    return line in text or ROW[line] in text


@pytest.mark.parametrize("case", list(HOSTILE))
def test_path_library_ingest_files(tmp_path: Path, case: str) -> None:
    content, _, line = HOSTILE[case]
    store = _store(tmp_path)
    before = _snapshot(store)
    path = tmp_path / "hostile.csv"
    path.write_text(content)
    with pytest.raises(InputError) as err:
        ingest_files(SC, [path], store)
    assert "hostile.csv" in str(err.value) and _text_or_row(str(err.value), line)
    assert _snapshot(store) == before


@pytest.mark.parametrize("case", list(HOSTILE))
def test_path_cli_ingest(tmp_path: Path, case: str) -> None:
    content, _, line = HOSTILE[case]
    store = _store(tmp_path)
    before = _snapshot(store)
    path = tmp_path / "hostile.csv"
    path.write_text(content)
    result = CliRunner().invoke(ingest_app, [str(path), "--scenario", str(PARK), "--store",
                                             str(store)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "hostile.csv" in result.output and _text_or_row(result.output, line)
    assert _snapshot(store) == before


def _park_store(d: Demo) -> Path:
    with d.ctx.sessions() as s:
        park = s.get(Park, d.park_id)
        assert park is not None
        return Path(park.folder) / "meters" / "meters.duckdb"


@pytest.mark.parametrize("case", list(HOSTILE))
def test_path_service_meter_files(demo: Demo, case: str) -> None:  # noqa: F811
    content, _, line = HOSTILE[case]
    store = _park_store(demo)
    before = _snapshot(store) if store.exists() else None
    with demo.ctx.sessions() as s:
        ingests = s.scalar(select(func.count()).select_from(MeterIngest))
    r = demo.client.post(f"/api/v1/parks/{demo.park_id}/meter-files",
                         headers=demo.headers("operator"),
                         files=[("files", ("hostile.csv", content.encode(), "text/csv"))])
    assert r.status_code == 422, r.text[:500]
    problems = " ".join(r.json()["problems"])
    assert "hostile.csv" in problems and _text_or_row(problems, line)
    with demo.ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(MeterIngest)) == ingests
    assert (_snapshot(store) if store.exists() else None) == before


@pytest.mark.parametrize("case", list(HOSTILE))
def test_path_service_meter_upload(demo: Demo, case: str) -> None:  # noqa: F811
    _, content, line = HOSTILE[case]
    with demo.ctx.sessions() as s:
        uploads = s.scalar(select(func.count()).select_from(MeterUpload))
    start = time.perf_counter()
    r = demo.client.post(f"/api/v1/parks/{demo.park_id}/meter-uploads",
                         headers=demo.headers("cement_grinding"),
                         files={"file": ("hostile.csv", content.encode())})
    took = time.perf_counter() - start
    assert r.status_code == 422, r.text[:500]
    problems = " ".join(r.json()["problems"])
    assert "hostile.csv" in problems and line in problems
    if case == "1e308":
        assert f"at most {UPLOAD_LIMIT_KWH} kWh" in problems
    with demo.ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(MeterUpload)) == uploads
    assert took < 5 * REFUSAL_S  # an HTTP round trip with the scenario loaded


def test_service_upload_within_the_park_limit_is_stored(demo: Demo) -> None:  # noqa: F811
    r = demo.client.post(f"/api/v1/parks/{demo.park_id}/meter-uploads",
                         headers=demo.headers("cement_grinding"),
                         files={"file": ("ok.csv", upload_csv("31499").encode())})
    assert r.status_code == 201, r.text[:500]
    assert math.isclose(r.json()["energy_kwh"], 100 + 31499)


# ------------------------------------------------------------------ 7. xlsx cells


def xlsx_with(cell_xml: str, *, row_r: str | None = None, long: bool = True) -> bytes:
    """A workbook of two readings of the rooftop meter whose second value (cell C3 long, B3
    wide) is replaced by the raw XML ``cell_xml``; ``row_r`` renumbers that row."""
    import io
    import re
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "readings"
    if long:
        sheet.append(["timestamp", "meter_id", "value"])
        sheet.append([GOOD_TIME, METER, 100])
        sheet.append([NEXT_TIME, METER, 12345])
    else:
        sheet.append(["timestamp", METER])
        sheet.append(["2025-06-01 12:00:00", 100])
        sheet.append(["2025-06-01 12:15:00", 12345])
    raw = io.BytesIO()
    book.save(raw)
    out = io.BytesIO()
    ref = "C3" if long else "B3"
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as zin, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text, n = re.subn(rf'<c r="{ref}"[^>]*><v>12345</v></c>', cell_xml.replace(
                    "REF", ref), data.decode())
                assert n == 1
                if row_r is not None:
                    text = text.replace('<row r="3"', f'<row r="{row_r}"')
                data = text.encode()
            zout.writestr(item, data)
    return out.getvalue()


XLSX_CELLS = {
    "200,000-digit integer": ('<c r="REF" t="n"><v>' + HUGE_NUMBER + "</v></c>", "too long"),
    "200,000-digit decimal": ('<c r="REF"><v>' + HUGE_NUMBER + ".5</v></c>", "finite"),
    "5,000-digit integer": ('<c r="REF"><v>' + "9" * 5000 + "</v></c>", "too long"),
    "400-digit integer": ('<c r="REF"><v>' + "9" * 400 + "</v></c>", "too large"),
    "1e999": ('<c r="REF"><v>1e999</v></c>', "finite"),
    "nan as a number": ('<c r="REF" t="n"><v>nan</v></c>', "not a number"),
    "inf as a number": ('<c r="REF"><v>inf</v></c>', "not a number"),
    "text as a number": ('<c r="REF"><v>twelve</v></c>', "not a number"),
    "no reference": ("<c><v>nan</v></c>", "not a number"),
    "5,000-digit shared-text index": ('<c r="REF" t="s"><v>' + "9" * 5000 + "</v></c>",
                                      "shared texts"),
    "bad true/false": ('<c r="REF" t="b"><v>yes</v></c>', "true/false"),
    "bad date": ('<c r="REF" t="d"><v>someday</v></c>', "date"),
}


@pytest.mark.parametrize("case", list(XLSX_CELLS))
@pytest.mark.parametrize("layout", ["long", "wide"])
def test_xlsx_number_cells_are_refused_naming_the_cell(tmp_path: Path, case: str,
                                                       layout: str) -> None:
    """The review's crash: a 200,000-digit integer in a number cell raised a bare
    ``ValueError: Exceeds the limit (4300 digits)``. Every cell no spreadsheet stores is an
    InputError naming file, sheet, row and column, within the parse bound."""
    cell, why = XLSX_CELLS[case]
    column = "'value'" if layout == "long" else repr(METER)
    ref = "C3" if layout == "long" else "B3"
    start = time.perf_counter()
    text = _refused(tmp_path, "m.xlsx", xlsx_with(cell, long=layout == "long"),
                    "row 3 of sheet 'readings'", f"column {column}", f"cell {ref}", why)
    assert time.perf_counter() - start < REFUSAL_S + 1  # the store's set-up included
    assert "4300" not in text and "sys.set_int_max_str_digits" not in text


def test_xlsx_rows_past_excels_limit_are_refused_quickly(tmp_path: Path) -> None:
    """A row numbered 100,000,000 in a tiny file: openpyxl would yield every empty row before
    it (minutes); the reader stops at Excel's 1,048,576 rows."""
    data = xlsx_with('<c r="REF"><v>1</v></c>', row_r="100000000")
    start = time.perf_counter()
    _refused(tmp_path, "far.xlsx", data, "more than 1,048,576 rows", "sheet 'readings'")
    assert time.perf_counter() - start < 5 * REFUSAL_S


def test_xlsx_huge_number_through_every_path(tmp_path: Path, demo: Demo) -> None:  # noqa: F811
    """The same cell through the CLI (exit 2, no "this is a bug") and the service's meter
    upload (422 naming the file, not HTTP 500)."""
    content = xlsx_with('<c r="REF" t="n"><v>' + HUGE_NUMBER + "</v></c>")
    store = _store(tmp_path)
    before = _snapshot(store)
    path = tmp_path / "hostile.xlsx"
    path.write_bytes(content)
    result = CliRunner().invoke(ingest_app, [str(path), "--scenario", str(PARK), "--store",
                                             str(store)])
    assert result.exit_code == 2, result.output
    assert "bug" not in result.output and "Traceback" not in result.output
    assert "hostile.xlsx" in result.output and "C3" in result.output
    assert _snapshot(store) == before
    r = demo.client.post(f"/api/v1/parks/{demo.park_id}/meter-uploads",
                         headers=demo.headers("cement_grinding"),
                         files={"file": ("hostile.xlsx", _upload_xlsx(HUGE_NUMBER))})
    assert r.status_code == 422, r.text[:500]
    problems = " ".join(r.json()["problems"])
    assert "hostile.xlsx" in problems and "row 3" in problems and "cell B3" in problems


def _upload_xlsx(value: str) -> bytes:
    """A service meter upload (``interval_start, energy_kwh``) as xlsx, the second energy cell
    holding ``value`` as a number."""
    import io
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["interval_start", "energy_kwh"])
    sheet.append([GOOD_TIME, 100])
    sheet.append([NEXT_TIME, 12345])
    raw = io.BytesIO()
    book.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as zin, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<v>12345</v>", f"<v>{value}</v>".encode())
            zout.writestr(item, data)
    return out.getvalue()
