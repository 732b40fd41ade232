"""Reading and writing flows tables: Parquet and CSV files, and buffers (uploads).

Verbs as in pvlib's ``iotools``: ``read_flows`` reads a file, ``parse_flows`` a buffer; both
return a table normalised by :func:`greenlink.flows.time.normalise` (tz-aware
``interval_start`` index). ``write_flows`` writes the files a run leaves behind: Parquet and CSV,
and on request ``flows.xlsx`` for Excel (:mod:`greenlink.xlsxfile`: the units of every column in
the second, frozen header row, local times, a ``columns`` sheet with each column's meaning).
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from greenlink.errors import InputError, Problem
from greenlink.flows.schema import COLUMNS, INTERVAL_START
from greenlink.flows.time import normalise
from greenlink.units import clip_noise
from greenlink.xlsxfile import Sheet, write_xlsx

FileFormat = Literal["parquet", "csv"]
#: What :func:`write_flows` writes: the two formats a run always leaves, and xlsx on request.
OutputFormat = Literal["parquet", "csv", "xlsx"]
FORMATS: tuple[FileFormat, ...] = ("parquet", "csv")
OUTPUT_FORMATS: tuple[OutputFormat, ...] = ("parquet", "csv", "xlsx")
#: Decimals kept per energy column in flows.csv (1 mWh).
CSV_DECIMALS = 6


def _format_of(name: str) -> FileFormat:
    suffix = Path(name).suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix == ".csv":
        return "csv"
    raise InputError(Problem(f"unsupported flows file type {suffix!r}", file=name,
                             expected="flows.parquet or flows.csv"))


def _csv_times(text: pd.Series, file: str) -> pd.DatetimeIndex:
    try:
        stamps = pd.to_datetime(text, format="ISO8601")
    except (ValueError, TypeError):
        try:  # mixed UTC offsets (a DST zone): one instant each
            stamps = pd.to_datetime(text, format="ISO8601", utc=True)
        except (ValueError, TypeError):
            bad = next((i for i, v in enumerate(text)
                        if pd.isna(pd.to_datetime(v, format="ISO8601", errors="coerce"))), 0)
            raise InputError(Problem(f"cannot read time stamp {_short(text.iloc[bad])}", file=file,
                                     location=f"line {bad + 2}, {INTERVAL_START}",
                                     expected="ISO 8601 with UTC offset, "
                                              "e.g. 2025-01-01T00:00:00+08:00")) from None
    return pd.DatetimeIndex(stamps)


def _row_name(file_format: FileFormat, i: int) -> str:
    """Where data row ``i`` (0-based) is in the file: CSV line (header is line 1) or row."""
    return f"line {i + 2}" if file_format == "csv" else f"row {i + 1}"


def _short(value: object, limit: int = 40) -> str:
    text = str(value)
    return repr(text if len(text) <= limit else text[:limit] + "…")


def parse_flows(data: bytes, file_format: FileFormat, *, name: str = "flows",
                timezone: str | None = None) -> pd.DataFrame:
    """A flows table from the bytes of a Parquet or CSV file (``name`` is used in errors).

    Refused, with file and line (CSV) or row (Parquet) named: an unreadable file, no
    ``interval_start`` column, a header without rows, duplicate column names, a missing or
    unreadable time stamp, rows out of time order.
    """
    try:
        if file_format == "parquet":
            frame = pd.read_parquet(io.BytesIO(data))
        else:
            frame = pd.read_csv(io.BytesIO(data), dtype={INTERVAL_START: str}, low_memory=False)
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(Problem(f"cannot read the flows table: {_short(exc, 200)}", file=name,
                                 expected="flows.parquet or flows.csv (docs/formats.md)")) from None
    if file_format == "csv":
        header = next(csv.reader(io.StringIO(data.decode("utf-8", errors="replace")
                                             .split("\n", 1)[0])), [])
        repeated = sorted({c for c in header if header.count(c) > 1})
        if repeated:
            raise InputError(Problem(f"column {repeated[0]!r} appears more than once", file=name,
                                     location="line 1", expected="one column per name"))
    if INTERVAL_START not in frame.columns and frame.index.name == INTERVAL_START:
        frame = frame.reset_index()
    if INTERVAL_START not in frame.columns:
        raise InputError(Problem(f"flows table has no {INTERVAL_START} column", file=name,
                                 location=INTERVAL_START,
                                 expected="the flows format of docs/formats.md"))
    if frame.empty:
        raise InputError(Problem("flows table has no rows", file=name,
                                 expected="one row per interval"))
    stamps = frame[INTERVAL_START]
    if stamps.isna().any():
        i = int(stamps.isna().to_numpy().argmax())
        raise InputError(Problem("no time stamp", file=name,
                                 location=f"{_row_name(file_format, i)}, {INTERVAL_START}",
                                 expected="an interval-beginning time stamp in every row"))
    if file_format == "csv":
        frame[INTERVAL_START] = _csv_times(stamps, name)
    index = pd.DatetimeIndex(frame[INTERVAL_START])
    if index.tz is not None and len(index) > 1 and not index.is_monotonic_increasing:
        i = int(np.flatnonzero(np.diff(index.asi8) < 0)[0]) + 1
        raise InputError(Problem("rows are not in time order", file=name,
                                 location=f"{_row_name(file_format, i)}, {INTERVAL_START}",
                                 expected="interval starts in increasing order"))
    return normalise(frame, timezone, file=name)


def read_flows(path: str | Path, timezone: str | None = None) -> pd.DataFrame:
    """Read ``flows.parquet`` or ``flows.csv`` (a simulate run, or metered and allocated).

    Parameters
    ----------
    path
        The file.
    timezone
        Convert the time index to this zone (the scenario's); ``None`` keeps the file's.
    """
    file = Path(path)
    if not file.is_file():
        raise InputError(Problem("flows file not found", file=str(file),
                                 expected="flows.parquet or flows.csv of a simulate run, or "
                                          "the metering module's allocated table"))
    return parse_flows(file.read_bytes(), _format_of(file.name), name=str(file),
                       timezone=timezone)


def without_noise(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with float noise below zero (down to ``units.NEGATIVE_NOISE_KWH``) written as 0
    in every numeric column, as outputs show it (docs/formats.md)."""
    numeric = frame.select_dtypes("number").columns
    if not len(numeric):
        return frame
    return frame.assign(**{str(c): clip_noise(frame[c].to_numpy()) for c in numeric})


def flows_to_csv(frame: pd.DataFrame) -> str:
    """The CSV text of a flows table (``interval_start`` in ISO 8601 with its UTC offset)."""
    table = without_noise(frame).reset_index()
    table[INTERVAL_START] = table[INTERVAL_START].map(lambda t: t.isoformat())
    return str(table.to_csv(index=False, float_format=f"%.{CSV_DECIMALS}f"))


def flows_sheets(frame: pd.DataFrame) -> list[Sheet]:
    """The flows table as xlsx sheets: ``flows`` (values to 1 mWh, units in the second header
    row) and ``columns`` (each column's unit and meaning, docs/formats.md)."""
    table = without_noise(frame).reset_index()
    numeric = table.select_dtypes("number").columns
    table[numeric] = table[numeric].round(CSV_DECIMALS)
    by_name = {c.name: c for c in COLUMNS if c.scope in ("index", "park")}
    by_quantity = {c.name: c for c in COLUMNS if c.scope not in ("index", "park")}
    units: dict[str, str] = {}
    rows = []
    for name in table.columns:
        name = str(name)
        column = by_name.get(name) or by_quantity.get(name.rsplit(".", 1)[-1])
        if column is None:
            continue
        if column.scope != "index":
            units[name] = column.unit
        rows.append({"column": name, "unit": column.unit or "time", "meaning": column.description})
    return [Sheet("flows", table, units, freeze_columns=1),
            Sheet("columns", pd.DataFrame(rows, columns=["column", "unit", "meaning"]),
                  {"unit": "", "meaning": ""})]


def write_flows(frame: pd.DataFrame, folder: str | Path,
                formats: tuple[OutputFormat, ...] = FORMATS) -> dict[str, Path]:
    """Write ``flows.parquet``, ``flows.csv`` and/or ``flows.xlsx`` into ``folder``; each file is
    written under a temporary name and renamed, so a reader never sees half a file."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for fmt in formats:
        target = out / f"flows.{fmt}"
        tmp = out / f".flows.{fmt}.tmp"
        if fmt == "parquet":
            without_noise(frame).reset_index().to_parquet(tmp, index=False)
        elif fmt == "xlsx":
            write_xlsx(tmp, flows_sheets(frame))
        else:
            tmp.write_text(flows_to_csv(frame), encoding="utf-8")
        os.replace(tmp, target)
        written[target.name] = target
    return written
