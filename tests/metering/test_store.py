"""Store: idempotent, corrections supersede and keep history, atomic under kill -9."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from greenlink.errors import InputError
from greenlink.metering.ingest import ingest_files
from greenlink.metering.store import open_store, snapshot
from tests.metering.helpers import scenario

SC = scenario()
T0 = pd.Timestamp("2025-01-01", tz="Asia/Shanghai")


def write(path: Path, values: list[float], meter: str = "gen") -> Path:
    ts = [(T0 + pd.Timedelta(minutes=15 * i)).isoformat() for i in range(len(values))]
    pd.DataFrame({"timestamp": ts, "meter_id": meter, "value": values}).to_csv(path,
                                                                               index=False)
    return path


def test_reingest_changes_nothing(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    f = write(tmp_path / "a.csv", [1, 2, 3])
    first = ingest_files(SC, [f], store)
    assert first.files[0].inserted == 3
    with open_store(store) as con:
        before = snapshot(con)
    again = ingest_files(SC, [f], store)
    assert again.files[0].already_stored
    with open_store(store) as con:
        assert snapshot(con) == before
    # same readings in a different file (new sha): nothing new, nothing superseded
    g = write(tmp_path / "b.csv", [1, 2, 3])
    g.write_text(g.read_text() + "\n")
    r = ingest_files(SC, [g], store)
    assert (r.files[0].inserted, r.files[0].superseded, r.files[0].unchanged) == (0, 0, 3)


def test_corrected_file_supersedes_and_keeps_history(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    ingest_files(SC, [write(tmp_path / "a.csv", [1, 2, 3])], store)
    r = ingest_files(SC, [write(tmp_path / "a_fixed.csv", [1, 20, 3, 4])], store)
    assert (r.files[0].inserted, r.files[0].superseded, r.files[0].unchanged) == (1, 1, 2)
    with open_store(store) as con:
        cur = con.execute("SELECT energy_kwh FROM readings ORDER BY ts_s").fetchall()
        old = con.execute("SELECT energy_kwh, superseded_by FROM readings_superseded"
                          ).fetchall()
    assert [v for (v,) in cur] == [1, 20, 3, 4]
    assert old[0][0] == 2 and old[0][1] == r.files[0].file_sha


def test_overlapping_files_together_are_an_error(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    a = write(tmp_path / "a.csv", [1, 2, 3])
    b = write(tmp_path / "b.csv", [1, 5, 3])
    with pytest.raises(InputError, match="different values"):
        ingest_files(SC, [a, b], store)
    assert not store.exists() or snapshot_rows(store) == 0


def snapshot_rows(store: Path) -> int:
    with open_store(store) as con:
        return len(snapshot(con)["readings"])


CHILD = textwrap.dedent("""
    import sys, time, pathlib
    from greenlink.metering.ingest import ingest_files
    from tests.metering.helpers import scenario
    marker = pathlib.Path(sys.argv[3])
    def hold():
        marker.write_text("in transaction")
        time.sleep(60)
    ingest_files(scenario(), [sys.argv[1]], sys.argv[2], before_commit=hold)
""")


def test_kill_9_mid_ingest_leaves_store_as_before(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    ingest_files(SC, [write(tmp_path / "a.csv", [1, 2, 3])], store)
    with open_store(store) as con:
        before = snapshot(con)
    big = write(tmp_path / "big.csv", [float(i % 7) for i in range(5000)])
    marker = tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(big), str(store), str(marker)],
                            cwd=Path(__file__).parents[2])
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert marker.exists(), "child never reached the write"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with open_store(store) as con:
        assert snapshot(con) == before


INGEST = textwrap.dedent("""
    import sys
    from greenlink.metering.ingest import ingest_files
    from tests.metering.helpers import scenario
    ingest_files(scenario(), [sys.argv[1]], sys.argv[2])
""")


def test_concurrent_ingests_of_one_file(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    f = write(tmp_path / "a.csv", [float(i % 100) for i in range(3000)])  # ≤ 105 kWh: rating
    procs = [subprocess.Popen([sys.executable, "-c", INGEST, str(f), str(store)],
                              cwd=Path(__file__).parents[2]) for _ in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    with open_store(store) as con:
        assert con.execute("SELECT count(*) FROM files").fetchall()[0][0] == 1
        assert con.execute("SELECT count(*) FROM readings").fetchall()[0][0] == 3000
