"""The per-park meter store: one embedded DuckDB file.

Tables
------
``meters``
    one integer key per meter id (``meter_key, meter_id``); readings refer to meters by key so
    that millions of rows carry a 4-byte integer, not a string.
``files``
    every ingested file: ``file_key``, sha256 (its identity), name, time, counts.
``readings``
    the current reading of each meter and interval: ``meter_key, ts_s`` (interval start, seconds
    since the Epoch, UTC), ``energy_kwh``, ``filled``, ``file_key`` (where it came from) and
    ``content_hash``, DuckDB's ``hash(meter_key, ts_s, energy_kwh, filled)``: a virtual
    generated column, computed by DuckDB (vectorised) whenever it is read, never stale.
``readings_superseded``
    earlier versions of readings that a corrected file replaced, with their content hash,
    ``superseded_by`` (the correcting file's sha256) and ``superseded_at``; kept for audit.
``readings_by_id`` (view)
    ``readings`` with the meter id and the source file's sha256 instead of the keys.

Writes are one transaction each: a reading whose content hash is already stored is left alone
(re-ingesting a file changes nothing), a changed reading moves to ``readings_superseded`` and
the new one takes its place. A process killed in the middle leaves the store as it was (DuckDB
makes a transaction visible only at commit). DuckDB lets one process write at a time; another
waits (``lock_timeout_s``) and then finds the file already stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from greenlink.errors import InputError, Problem
from greenlink.units import MAX_INTERVAL_KWH

SCHEMA = """
CREATE TABLE IF NOT EXISTS meters (meter_key INTEGER PRIMARY KEY, meter_id VARCHAR UNIQUE);
CREATE TABLE IF NOT EXISTS files (
    file_key INTEGER, sha256 VARCHAR PRIMARY KEY, name VARCHAR, ingested_at TIMESTAMPTZ,
    readings BIGINT, inserted BIGINT, superseded BIGINT, unchanged BIGINT);
CREATE TABLE IF NOT EXISTS readings (
    meter_key INTEGER, ts_s BIGINT, energy_kwh DOUBLE, filled BOOLEAN, file_key INTEGER,
    content_hash UBIGINT GENERATED ALWAYS AS (hash(meter_key, ts_s, energy_kwh, filled))
        VIRTUAL);
CREATE TABLE IF NOT EXISTS readings_superseded (
    meter_key INTEGER, ts_s BIGINT, energy_kwh DOUBLE, filled BOOLEAN, file_key INTEGER,
    content_hash UBIGINT, superseded_by VARCHAR, superseded_at TIMESTAMPTZ);
CREATE VIEW IF NOT EXISTS readings_by_id AS
    SELECT m.meter_id, r.ts_s, r.energy_kwh, r.filled, r.content_hash, f.sha256 AS file_sha
    FROM readings r JOIN meters m USING (meter_key) LEFT JOIN files f USING (file_key);
"""


@dataclass(frozen=True)
class WriteResult:
    """What one write did (counts of readings)."""

    file_sha: str
    already_stored: bool
    inserted: int
    superseded: int
    unchanged: int


def _check_layout(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuse a store of the first layout (string meter ids on every reading)."""
    cols = con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'readings'"
                       " AND schema_name = 'main'").fetchall()
    if ("meter_id",) in cols:
        raise InputError(Problem("meter store written by an earlier greenlink (meter ids on "
                                 "every reading)", file=str(path),
                                 expected="a store written by this version: re-ingest the "
                                 "meter files into a new store"))


@contextmanager
def open_store(path: Path | str, *, read_only: bool = False,
               lock_timeout_s: float = 60.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open (creating) the store, waiting up to ``lock_timeout_s`` for another writer."""
    path = Path(path)
    if read_only and not path.exists():
        raise InputError(Problem("meter store not found", file=str(path),
                                 expected="a store written by `greenlink ingest`"))
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + lock_timeout_s
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise InputError(Problem(f"cannot open the meter store: {exc}".splitlines()[0],
                                         file=str(path))) from exc
            time.sleep(0.05)
    try:
        _check_layout(con, path)
        if not read_only:
            con.execute(SCHEMA)
        yield con
    finally:
        con.close()


@dataclass(frozen=True)
class Batch:
    """Clean readings (meter_id, ts_s, energy_kwh, filled) of one file."""

    file_sha: str
    name: str
    readings: pd.DataFrame


def meter_keys(con: duckdb.DuckDBPyConnection, meter_ids: list[str]) -> dict[str, int]:
    """Integer key of each meter id, adding the ids the store does not know yet."""
    known = {str(m): int(k) for m, k in
             con.execute("SELECT meter_id, meter_key FROM meters").fetchall()}
    new = sorted(set(meter_ids) - known.keys())
    if new:
        start = max(known.values(), default=0) + 1
        keys = list(range(start, start + len(new)))
        con.execute("INSERT INTO meters SELECT unnest(?::INTEGER[]), unnest(?::VARCHAR[])",
                    [keys, new])
        known |= dict(zip(new, keys, strict=True))
    return {m: known[m] for m in meter_ids}


def write_batches(con: duckdb.DuckDBPyConnection, batches: list[Batch], *,
                  before_commit: Callable[[], None] | None = None) -> list[WriteResult]:
    """Store the readings of several files in one transaction (all or nothing).

    A file whose sha256 is already in ``files`` is skipped. ``before_commit`` is called inside
    the transaction (tests use it to kill the process there). A reading that is not finite or
    above :data:`~greenlink.units.MAX_INTERVAL_KWH` is refused before anything is written (the
    last line of defence: ingest bounds every reading far tighter, by its meter's rating).
    """
    for batch in batches:
        energy = batch.readings["energy_kwh"].to_numpy(dtype=float)
        bad = np.flatnonzero(~(np.abs(energy) <= MAX_INTERVAL_KWH))
        if bad.size:
            raise InputError(Problem(f"refusing to store the reading {energy[bad[0]]} kWh "
                                     f"({bad.size} such reading(s))", file=batch.name,
                                     expected=f"finite readings of at most "
                                     f"{MAX_INTERVAL_KWH:g} kWh per interval"))
    results: list[WriteResult] = []
    # rows carry their keys, every reader orders them: let DuckDB append in parallel
    con.execute("SET preserve_insertion_order = false")
    con.execute("BEGIN TRANSACTION")
    try:
        for batch in batches:
            results.append(_write_one(con, batch))
        if before_commit is not None:
            before_commit()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return results


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None
            ) -> int:
    rows = con.execute(sql, params or []).fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def _keyed(con: duckdb.DuckDBPyConnection, readings: pd.DataFrame) -> pa.Table:
    """The readings as an Arrow table with integer meter keys (no strings per row)."""
    meter = readings["meter_id"]
    if isinstance(meter.dtype, pd.CategoricalDtype):
        codes = meter.cat.codes.to_numpy()
        ids = [str(c) for c in meter.cat.categories]
    else:
        codes, uniques = pd.factorize(meter)
        ids = [str(c) for c in uniques]
    keys = meter_keys(con, ids)
    lookup = np.array([keys[i] for i in ids] or [0], dtype=np.int32)
    return pa.table({
        "meter_key": lookup[np.asarray(codes, dtype=np.int64)],
        "ts_s": readings["ts_s"].to_numpy(dtype=np.int64),
        "energy_kwh": readings["energy_kwh"].to_numpy(dtype=np.float64),
        "filled": readings["filled"].to_numpy(dtype=bool)})


def _write_one(con: duckdb.DuckDBPyConnection, batch: Batch) -> WriteResult:
    file_sha = batch.file_sha
    if _scalar(con, "SELECT count(*) FROM files WHERE sha256 = ?", [file_sha]):
        return WriteResult(file_sha, True, 0, 0, 0)
    file_key = _scalar(con, "SELECT coalesce(max(file_key), 0) + 1 FROM files")
    incoming = _keyed(con, batch.readings)
    n = incoming.num_rows
    keys = np.unique(incoming["meter_key"].to_numpy()).tolist()
    ts = incoming["ts_s"].to_numpy()
    overlap = n and _scalar(con, """
        SELECT count(*) FROM (SELECT 1 FROM readings
            WHERE meter_key IN (SELECT unnest(?::INTEGER[])) AND ts_s BETWEEN ? AND ? LIMIT 1)""",
                             [keys, int(ts.min()), int(ts.max())])
    con.register("incoming_arrow", incoming)
    try:
        if not overlap:  # new meters or a new period: a plain append
            inserted = _scalar(con, """
                INSERT INTO readings (meter_key, ts_s, energy_kwh, filled, file_key)
                SELECT meter_key, ts_s, energy_kwh, filled, ? FROM incoming_arrow""",
                               [file_key])
            con.execute("INSERT INTO files VALUES (?, ?, ?, now(), ?, ?, 0, 0)",
                        [file_key, file_sha, batch.name, n, inserted])
            return WriteResult(file_sha, False, inserted, 0, 0)
        con.execute("""
            CREATE OR REPLACE TEMP TABLE incoming AS
            SELECT meter_key, ts_s, energy_kwh, filled,
                   hash(meter_key, ts_s, energy_kwh, filled) AS content_hash
            FROM incoming_arrow""")
    finally:
        con.unregister("incoming_arrow")
    superseded = _scalar(con, """
        INSERT INTO readings_superseded
        SELECT r.meter_key, r.ts_s, r.energy_kwh, r.filled, r.file_key, r.content_hash, ?,
               now()
        FROM readings r JOIN incoming i USING (meter_key, ts_s)
        WHERE r.content_hash <> i.content_hash""", [file_sha])
    if superseded:
        con.execute("""
            DELETE FROM readings r USING incoming i
            WHERE r.meter_key = i.meter_key AND r.ts_s = i.ts_s
              AND r.content_hash <> i.content_hash""")
    inserted = _scalar(con, """
        INSERT INTO readings (meter_key, ts_s, energy_kwh, filled, file_key)
        SELECT i.meter_key, i.ts_s, i.energy_kwh, i.filled, ? FROM incoming i
        ANTI JOIN readings r USING (meter_key, ts_s)""", [file_key])
    unchanged = n - inserted
    con.execute("INSERT INTO files VALUES (?, ?, ?, now(), ?, ?, ?, ?)",
                [file_key, file_sha, batch.name, n, inserted - superseded, superseded,
                 unchanged])
    con.execute("DROP TABLE incoming")
    return WriteResult(file_sha, False, inserted - superseded, superseded, unchanged)


def read_readings(con: duckdb.DuckDBPyConnection, *, meter_ids: list[str] | None = None
                  ) -> pd.DataFrame:
    """Current readings (meter_id, ts_s, energy_kwh, filled), sorted by meter and interval."""
    sql = "SELECT meter_id, ts_s, energy_kwh, filled FROM readings_by_id"
    params: list[object] = []
    if meter_ids is not None:
        sql += " WHERE list_contains(?, meter_id)"
        params.append(meter_ids)
    return con.execute(sql + " ORDER BY meter_id, ts_s", params).df()


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table (for tests of atomicity)."""
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("meters", "files", "readings", "readings_superseded")}
