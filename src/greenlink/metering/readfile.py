"""Read meter files (CSV, xlsx or Parquet, long or wide) into one tidy table of readings.

A UTF-8 CSV with decimal points (the common export) and Parquet are read by DuckDB, straight
into integer codes (the fast path). Any other file — a CSV in GBK or GB18030 (Chinese Excel), a
file with decimal commas (``decimal=","``), an xlsx workbook (``sheet``) — is read by
:mod:`greenlink.tablefile` and takes the general path; the result names how the file was read
(``FileReadings.read_as``: format, detected encoding) for the validation report.

Layouts (column names are configurable through :class:`ColumnMapping`):

long
    one row per reading: ``timestamp, meter_id, value`` and optionally ``unit``.
wide
    one row per time stamp: ``timestamp`` and one column per meter id.

Time stamps may carry a UTC offset (``2025-03-01T08:15:00+08:00``, any zone) or be naive, in which
case they are local time in ``timezone`` (default: the park's). Naive local times that do not
exist (spring forward) or occur twice without a way to tell them apart (fall back) are DST
anomalies: they are dropped and reported. Interval-ending labels are shifted back by the meter's
interval. Values are converted from the meter's unit (or the file's ``unit`` column, which must
agree with it) to kWh.

The result has columns ``meter_id`` (str), ``ts_s`` (int64, interval start in seconds since the
Unix epoch, UTC), ``energy_kwh`` (float64) and ``row`` (int64, 1-based data row in the file).
An empty cell is a missing reading (left out); a value that is not a finite number (``inf``,
``nan``) stays in, for :func:`greenlink.metering.guard.guard_readings` to refuse. A CSV's text
is bounded first (:func:`greenlink.metering.guard.check_text`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
import numpy as np
import pandas as pd

from greenlink.errors import InputError, Problem
from greenlink.metering.guard import check_text
from greenlink.scenario.meters import KWH_PER_UNIT, Meter
from greenlink.tablefile import (
    SUFFIXES,
    Decimal,
    TableSource,
    parse_datetimes,
    read_table,
    sniff_encoding,
)

Layout = Literal["auto", "long", "wide"]


@dataclass(frozen=True)
class ColumnMapping:
    """Names of the columns in a meter file."""

    time: str = "timestamp"
    meter: str = "meter_id"
    value: str = "value"
    unit: str = "unit"


DEFAULT_MAPPING = ColumnMapping()


@dataclass(frozen=True)
class FileReadings:
    """Readings of one file, already in the internal convention."""

    path: Path
    sha256: str
    layout: str
    readings: pd.DataFrame  # meter_id, ts_s, energy_kwh, row
    dst_anomalies: pd.DataFrame = field(default_factory=pd.DataFrame)  # meter_id, row, detail
    value_column: str | None = None  # the values' column (None: one column per meter id)
    read_as: str = ""  # how the file was read: "CSV, GBK (detected), ','-separated" …


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes (the identity of a file in the store)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _relation(con: duckdb.DuckDBPyConnection, path: Path) -> duckdb.DuckDBPyRelation:
    if not path.is_file():
        raise InputError(Problem("meter file not found", file=str(path)))
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return con.read_parquet(str(path))
        if suffix in (".csv", ".txt"):
            return con.read_csv(str(path), header=True)
    except duckdb.Error as exc:
        raise _unreadable(exc, path) from exc
    raise InputError(Problem("unknown meter file type", file=str(path),
                             expected=".csv or .parquet"))


def _unreadable(exc: duckdb.Error, path: Path) -> InputError:
    return InputError(Problem(f"cannot read meter file: {exc}".splitlines()[0], file=str(path),
                              expected="a CSV with a header row, or Parquet"))


#: Integer types too wide for numpy: read as text, parsed (to ±inf when too large) like text.
_WIDE_INTEGERS = ("HUGEINT", "UHUGEINT", "BIGNUM", "VARINT")


def _raw_table(path: Path) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The file as a frame, and for each column where its cells are empty (SQL ``NULL``)."""
    con = duckdb.connect()
    try:
        rel = _relation(con, path)
        exprs = []
        for c, t in zip(rel.columns, rel.types, strict=True):
            q, kind = _quoted(str(c)), str(t)
            exprs.append(f"{q}::VARCHAR AS {q}" if kind.startswith(_WIDE_INTEGERS) else
                         f"{q}::DOUBLE AS {q}" if kind.startswith("DECIMAL") else q)
        try:
            table = rel.project(", ".join(exprs)).to_arrow_table()
        except duckdb.Error as exc:
            raise _unreadable(exc, path) from exc
    finally:
        con.close()
    nulls = {str(c): table[c].is_null().to_numpy() for c in table.column_names}
    return table.to_pandas(), nulls


_NAN_WORDS = ("nan", "+nan", "-nan")


def _numbers(values: pd.Series, missing: np.ndarray, rows: np.ndarray, name: str,
             column: str | np.ndarray) -> np.ndarray:
    """Values as float64: empty cells NaN (missing), ``nan``/``inf`` kept as such, anything else
    that is not a number an error naming row and column."""
    numeric = np.array(pd.to_numeric(values, errors="coerce"), dtype=float)
    unparsed = np.isnan(numeric) & ~missing
    if unparsed.any():
        nan_word = np.zeros(len(values), dtype=bool)
        if pd.api.types.is_numeric_dtype(values):  # a number column: NaN was read as such
            nan_word = unparsed
        else:
            nan_word[np.flatnonzero(unparsed)] = [
                (isinstance(v, float) and v != v)
                or (isinstance(v, str) and v.strip().lower() in _NAN_WORDS)
                for v in values[unparsed]]
        bad = np.flatnonzero(unparsed & ~nan_word)
        if bad.size:
            i = int(bad[0])
            col = column if isinstance(column, str) else str(column[i])
            shown = str(values.iloc[i])
            shown = shown if len(shown) <= 40 else f"{shown[:20]}… ({len(shown)} characters)"
            raise InputError(Problem(f"value {shown!r} is not a number ({bad.size} such "
                                     "value(s))", file=name,
                                     location=f"row {rows[i]}, column {col!r}",
                                     expected="a number (energy in the interval)"))
        numeric[nan_word] = np.nan  # not finite: the guard refuses it
    numeric[missing] = np.nan
    return numeric


_NUMERIC = ("DOUBLE", "FLOAT", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT",
            "UINTEGER", "USMALLINT", "UTINYINT", "DECIMAL")


_NO_TIME = -(2**63)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _enum(con: duckdb.DuckDBPyConnection, name: str, values: list[str]) -> list[str]:
    """Create the DuckDB ``ENUM`` type ``name`` over ``values``; return them in code order."""
    con.execute(f"CREATE TEMP TABLE {name}_values AS SELECT unnest(?::VARCHAR[]) AS v",
                [values])
    con.execute(f"CREATE TYPE {name} AS ENUM (SELECT v FROM {name}_values)")
    return [str(r[0]) for r in
            con.execute(f"SELECT unnest(enum_range(NULL::{name}))").fetchall()]


def _per_row(values: list[float] | list[int], present: np.ndarray, code: np.ndarray
             ) -> np.ndarray:
    """A per-meter value for each row: one scalar when every meter present shares it."""
    if len(set(values)) <= 1:
        return np.asarray(values[0] if values else 0)
    table = np.zeros(int(present.max()) + 1, dtype=np.asarray(values).dtype)
    table[present] = values
    return table[code]


def _read_long_in_duckdb(path: Path, meters: dict[str, Meter], mapping: ColumnMapping,
                         layout: Layout) -> FileReadings | None:
    """Fast path for a long file with time stamps that carry their zone and numeric values.

    DuckDB reads the file and turns every row into integers: the meter's code (a DuckDB
    ``ENUM`` over the scenario's meter ids, so no meter-id string reaches Python), the interval
    start in microseconds since the Epoch, the unit's code; numpy checks them. Returns ``None``
    when the file needs the general path (wide layout, naive local times, text values).
    """
    con = duckdb.connect()
    try:
        rel = _relation(con, path)
        types = {str(c): str(t) for c, t in zip(rel.columns, rel.types, strict=True)}
        if layout == "auto":
            layout = "long" if {mapping.meter, mapping.value} <= types.keys() else "wide"
        has_unit = mapping.unit in types
        if (layout != "long" or mapping.meter not in types or mapping.value not in types
                or types.get(mapping.time) != "TIMESTAMP WITH TIME ZONE"
                or not types[mapping.value].startswith(_NUMERIC)
                or (has_unit and types[mapping.unit] != "VARCHAR")):
            return None
        ids = _enum(con, "meter_code", sorted(meters))
        units = _enum(con, "unit_code", list(KWH_PER_UNIT))
        rel.create_view("src")
        t, m, v, u = (_quoted(c) for c in (mapping.time, mapping.meter, mapping.value,
                                           mapping.unit))
        unit_sql = (f", coalesce(enum_code(TRY_CAST({u}::VARCHAR AS unit_code))::INTEGER, -1)"
                    " AS unit" if has_unit else "")
        try:  # a missing time stamp becomes the smallest BIGINT (no extra column for it)
            table = con.sql(f"""
                SELECT coalesce(enum_code(TRY_CAST({m}::VARCHAR AS meter_code))::INTEGER, -1)
                           AS code,
                       coalesce(epoch_us({t}), {_NO_TIME}) AS us,
                       {v}::DOUBLE AS v{unit_sql}
                FROM src""").to_arrow_table()
        except duckdb.Error as exc:
            raise _unreadable(exc, path) from exc
        cols = {c: table[c].to_numpy() for c in table.column_names}
        # an empty value is a missing reading; NaN and ±inf stay (the guard refuses them)
        missing = (table["v"].is_null().to_numpy() if table["v"].null_count
                   else np.zeros(table.num_rows, dtype=bool))
        name = str(path)
        code = np.asarray(cols["code"], dtype=np.int64)
        rows = np.arange(1, len(code) + 1, dtype=np.int64)
        if (code < 0).any():
            unknown = [str(r[0]) for r in con.execute(f"""
                SELECT DISTINCT {m}::VARCHAR AS id FROM src
                WHERE TRY_CAST({m}::VARCHAR AS meter_code) IS NULL ORDER BY id NULLS LAST
                LIMIT 10""").fetchall()]
            raise InputError(Problem(f"unknown meter ids {unknown}", file=name,
                                     location=f"row {int(np.flatnonzero(code < 0)[0]) + 1}",
                                     expected=f"meter ids of the scenario: "
                                     f"{', '.join(sorted(meters))}"))
        if has_unit:
            declared = np.array([units.index(meters[i].unit) for i in ids])[code]
            wrong = np.flatnonzero(np.asarray(cols["unit"]) != declared)
            if wrong.size:
                i = int(wrong[0])
                got = con.execute(f"SELECT {u} FROM src LIMIT 1 OFFSET {i}").fetchall()[0][0]
                meter_id = ids[code[i]]
                raise InputError(Problem(
                    f"unit {str(got)!r} for meter {meter_id!r} disagrees with the scenario "
                    f"({meters[meter_id].unit}); unit confusion in {wrong.size} row(s)",
                    file=name, location=f"row {rows[i]}",
                    expected=f"unit {meters[meter_id].unit} or a corrected [[meters]] unit"))
        us = np.asarray(cols["us"], dtype=np.int64)
        no_time = us == _NO_TIME
        if no_time.any():
            bad = int(np.flatnonzero(no_time)[0])
            raise InputError(Problem("empty time stamp", file=name, location=f"row {bad + 1}",
                                     expected="a time stamp on every row"))
        present = np.flatnonzero(np.bincount(code, minlength=len(ids)))
        factor = _per_row([KWH_PER_UNIT[meters[ids[i]].unit] for i in present], present, code)
        step_s = _per_row([meters[ids[i]].interval_minutes * 60 for i in present], present,
                          code)
        shift_s = _per_row([meters[ids[i]].interval_minutes * 60
                            if meters[ids[i]].label == "interval_ending" else 0
                            for i in present], present, code)
        # on the grid: whole seconds and a multiple of the step (an ending label shifts by
        # one step, which keeps a stamp on or off the grid)
        off_grid = np.flatnonzero(us % (step_s * 1_000_000) != 0)
        if off_grid.size:
            i = int(off_grid[0])
            step_i = int(np.broadcast_to(step_s, us.shape)[i])
            when = pd.Timestamp(int(us[i]), unit="us", tz="UTC").isoformat()
            raise InputError(Problem(
                f"time stamp {when} of meter {ids[code[i]]!r} is not on its "
                f"{step_i // 60}-minute grid ({off_grid.size} such row(s))", file=name,
                location=f"row {rows[i]}",
                expected="interval boundaries, e.g. :00, :15, :30, :45"))
        seconds = us // 1_000_000 - shift_s
        energy = cols["v"] * factor
        keep = ~missing
        remap = np.full(len(ids), -1, dtype=np.int64)
        remap[present] = np.arange(present.size)
        if keep.all():
            codes, seconds_kept, energy_kept, rows_kept = remap[code], seconds, energy, rows
        else:
            codes, seconds_kept = remap[code[keep]], seconds[keep]
            energy_kept, rows_kept = energy[keep], rows[keep]
        frame = pd.DataFrame({
            "meter_id": pd.Categorical.from_codes(
                codes, categories=pd.Index([ids[i] for i in present], dtype=object)),
            "ts_s": seconds_kept, "energy_kwh": energy_kept, "row": rows_kept}, copy=False)
    finally:
        con.close()
    dst = pd.DataFrame({"meter_id": pd.Series(dtype=object), "row": pd.Series(dtype=np.int64),
                        "detail": pd.Series(dtype=object)})
    return FileReadings(path=path, sha256=file_sha256(path), layout="long", readings=frame,
                        dst_anomalies=dst, value_column=mapping.value,
                        read_as=_duckdb_source(path))


def _to_utc_seconds(col: pd.Series, tz: str, path: Path
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Seconds since the epoch (UTC) and a mask of DST anomalies (naive local times)."""
    if pd.api.types.is_datetime64_any_dtype(col):
        stamps = pd.DatetimeIndex(col)
    else:
        text = col.astype("string")
        try:  # ISO 8601 (mixed offsets as instants), else Excel's 2025/1/1 0:15
            stamps = parse_datetimes(text)
        except (ValueError, TypeError) as exc:
            bad = next((i for i, v in enumerate(text)
                        if pd.isna(pd.to_datetime(v, format="ISO8601", errors="coerce"))), 0)
            raise InputError(Problem(f"time stamp {text.iloc[bad]!r} cannot be read",
                                     file=str(path), location=f"row {bad + 1}",
                                     expected="ISO 8601, e.g. 2025-01-01T00:15:00+08:00"
                                     )) from exc
    if stamps.hasnans:
        bad = int(np.flatnonzero(stamps.isna())[0])
        raise InputError(Problem("empty time stamp", file=str(path), location=f"row {bad + 1}",
                                 expected="a time stamp on every row"))
    anomaly = np.zeros(len(stamps), dtype=bool)
    if stamps.tz is None:
        try:
            local = stamps.tz_localize(tz, ambiguous="infer", nonexistent="NaT")
        except Exception:  # ambiguous times that cannot be inferred
            local = stamps.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        anomaly = np.asarray(local.isna())
        stamps = local
    utc = stamps.tz_convert("UTC").as_unit("s").asi8
    seconds = np.where(anomaly, 0, utc).astype(np.int64)
    return seconds, anomaly


def _duckdb_source(path: Path) -> str:
    if path.suffix.lower() in (".parquet", ".pq"):
        return TableSource(str(path), "parquet").describe()
    return f"CSV, {sniff_encoding(path)} (detected)"


def _bad_encoding(exc: InputError) -> bool:
    """DuckDB refused bytes that are not UTF-8 (past the sample the encoding was told from)."""
    return any("unicode" in p.message.lower() or "utf-8" in p.message.lower()
               for p in exc.problems)


def _by_duckdb(path: Path, decimal: Decimal) -> bool:
    """Whether DuckDB reads the file: Parquet, or a UTF-8 CSV with decimal points."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return True
    if suffix not in (".csv", ".txt") or decimal != "." or not path.is_file():
        return False
    return sniff_encoding(path) in ("UTF-8", "UTF-8-BOM")


def read_meter_file(path: Path | str, meters: dict[str, Meter], *, timezone: str,
                    mapping: ColumnMapping = DEFAULT_MAPPING, layout: Layout = "auto",
                    sheet: str | None = None, decimal: Decimal = ".") -> FileReadings:
    """Read one meter file into the internal convention (see the module docstring).

    Parameters
    ----------
    sheet : xlsx: the worksheet (default: the first)
    decimal : ``","`` for a file written with decimal commas

    Raises
    ------
    InputError
        Missing columns, unknown meter ids, unreadable time stamps or values, a unit column that
        disagrees with the meter's unit, time stamps off the meter's interval grid.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(Problem("meter file not found", file=str(path)))
    if path.suffix.lower() not in SUFFIXES:
        raise InputError(Problem("unknown meter file type", file=str(path),
                                 expected=".csv, .xlsx or .parquet"))
    if path.suffix.lower() in (".csv", ".txt"):
        check_text(path, str(path))
    raw: pd.DataFrame | None = None
    if _by_duckdb(path, decimal):
        try:
            fast = _read_long_in_duckdb(path, meters, mapping, layout)
            if fast is not None:
                return fast
            raw, nulls = _raw_table(path)
            read_as = _duckdb_source(path)
        except InputError as exc:
            if not _bad_encoding(exc):
                raise
            raw = None
    if raw is None:
        table = read_table(path, sheet=sheet, decimal=decimal)
        raw = table.frame
        nulls = {str(c): (raw[c].astype(str).str.strip() == "").to_numpy() for c in raw.columns}
        read_as = table.source.describe()
    return _general(path, raw, nulls, meters, timezone, mapping, layout, read_as)


def _general(path: Path, raw: pd.DataFrame, nulls: dict[str, np.ndarray],
             meters: dict[str, Meter], timezone: str, mapping: ColumnMapping, layout: Layout,
             read_as: str) -> FileReadings:
    """The general path: any layout, naive local times, text values."""
    name = str(path)
    if mapping.time not in raw.columns:
        raise InputError(Problem(f"no time column {mapping.time!r} (columns: "
                                 f"{', '.join(map(str, raw.columns))})", file=name,
                                 expected="a time column; see docs/metering.md for the mapping"))
    if layout == "auto":
        layout = "long" if {mapping.meter, mapping.value} <= set(raw.columns) else "wide"
    row_no = np.arange(1, len(raw) + 1, dtype=np.int64)
    if layout == "long":
        missing = [c for c in (mapping.meter, mapping.value) if c not in raw.columns]
        if missing:
            raise InputError(Problem(f"long layout needs columns {missing}", file=name,
                                     expected=f"{mapping.time}, {mapping.meter}, "
                                     f"{mapping.value}[, {mapping.unit}]"))
        meter_ids = raw[mapping.meter].to_numpy(dtype=object)
        values = raw[mapping.value]
        empty = nulls[mapping.value]
        value_column: str | None = mapping.value
        units = raw[mapping.unit].astype("string") if mapping.unit in raw.columns else None
        times = raw[mapping.time]
        rows = row_no
    else:
        cols = [c for c in raw.columns if c != mapping.time]
        if not cols:
            raise InputError(Problem("wide layout without meter columns", file=name,
                                     expected="one column per meter id"))
        unknown = [str(c) for c in cols if str(c) not in meters]
        if unknown:
            raise InputError(Problem(f"unknown meter ids (columns) {unknown}", file=name,
                                     expected=f"meter ids of the scenario: "
                                     f"{', '.join(sorted(meters))}"))
        n = len(raw)
        meter_ids = np.repeat(np.array([str(c) for c in cols], dtype=object), n)
        values = pd.concat([raw[c] for c in cols], ignore_index=True)
        empty = np.concatenate([nulls[str(c)] for c in cols])
        value_column = None
        times = pd.concat([raw[mapping.time]] * len(cols), ignore_index=True)
        rows = np.tile(row_no, len(cols))
        units = None
    numeric = _numbers(values, empty, rows, name,
                       value_column if value_column is not None else meter_ids)
    inverse, uniques = pd.factorize(pd.Series(meter_ids, dtype=object), sort=True)
    ids = np.asarray(uniques, dtype=object).astype(str)
    unknown = [i for i in ids if i not in meters]
    if unknown:
        raise InputError(Problem(f"unknown meter ids {unknown[:10]}", file=name,
                                 expected=f"meter ids of the scenario: "
                                 f"{', '.join(sorted(meters))}"))
    if units is not None:
        file_units = units.to_numpy(dtype=object).astype(str)
        declared = np.array([meters[i].unit for i in ids], dtype=object)[inverse]
        wrong = np.flatnonzero(file_units != declared)
        if wrong.size:
            i = int(wrong[0])
            raise InputError(Problem(f"unit {file_units[i]!r} for meter {meter_ids[i]!r} "
                                     f"disagrees with the scenario ({declared[i]}); unit "
                                     f"confusion in {wrong.size} row(s)", file=name,
                                     location=f"row {rows[i]}",
                                     expected=f"unit {declared[i]} or a corrected [[meters]] "
                                     "unit"))
    factor = np.array([KWH_PER_UNIT[meters[i].unit] for i in ids])[inverse]
    step_s = np.array([meters[i].interval_minutes * 60 for i in ids], dtype=np.int64)[inverse]
    ending = np.array([meters[i].label == "interval_ending" for i in ids])[inverse]
    seconds, anomaly = _to_utc_seconds(times, timezone, path)
    seconds = seconds - np.where(ending, step_s, 0)
    off_grid = np.flatnonzero((seconds % step_s != 0) & ~anomaly)
    if off_grid.size:
        i = int(off_grid[0])
        raise InputError(Problem(f"time stamp {times.iloc[i]} of meter {meter_ids[i]!r} is not "
                                 f"on its {step_s[i] // 60}-minute grid ({off_grid.size} such "
                                 "row(s))", file=name, location=f"row {rows[i]}",
                                 expected="interval boundaries, e.g. :00, :15, :30, :45"))
    frame = pd.DataFrame({"meter_id": pd.Categorical.from_codes(
                              inverse, categories=pd.Index(ids, dtype=object)),
                          "ts_s": seconds, "energy_kwh": numeric * factor, "row": rows})
    dst = pd.DataFrame({"meter_id": ids[inverse][anomaly], "row": rows[anomaly],
                        "detail": [f"local time {t} does not exist or is ambiguous in "
                                   f"{timezone}" for t in times[anomaly]]})
    frame = frame[~anomaly & ~empty].reset_index(drop=True)
    return FileReadings(path=path, sha256=file_sha256(path), layout=layout, readings=frame,
                        dst_anomalies=dst, value_column=value_column, read_as=read_as)
