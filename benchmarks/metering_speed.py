"""Metering and registry speed (issue 4, point 10).

Run: ``.venv/bin/python benchmarks/metering_speed.py [--meters 200] [--skip-registry] [--smoke]``

1. **Meters**: 200 meters × one year of 15-minute readings (7,008,000 readings) written as 10
   long-layout Parquet files (20 meters each, UTC time stamps). Timed: ingest + validate + store
   (a fresh DuckDB store) + allocate (metered flows and hourly matched energy per user and
   line). Baseline in the same run: DuckDB's own raw read of the same files into Arrow (best
   of three reads).
   Floor 1 million readings/s; aim within 3× of the raw read.
2. **Issuance**: a year of hourly certificates for 20 generators (175,200 bundles) on a
   throwaway PostgreSQL cluster, **signing on** (a throwaway operator key signs every commit's
   head), bundles/s (floor 30,000/s). Baseline in the same run: PostgreSQL's own COPY of the
   same rows into an empty table of the same columns.
3. **Transfers**: 32 concurrent clients transferring whole bundles, signing on, transfers/s
   (floor 1,000/s). Baseline in the same run: one client alone (its transfers/s); the ratio
   shows what group commit gains from concurrency.

The last line reads ``readings_per_s=<x> raw_read_ratio=<y> bundles_per_s=<z>
transfers_per_s=<w>`` (ratio = our time / raw read time).

Checks (exit 1 when one fails): every reading stored, one flow row per interval, the users'
hourly load equal to the raw files' sum, every hour matched; every bundle issued with the energy
of the input, every transfer done and landed, and the registry's own audit (``verify``) ok.

``--smoke``: 30 meters (1,051,200 readings in 2 files), one raw read; a week of issuance (3,360
bundles), 10 transfers of one client alone and 4 clients × 5 transfers. The registry part is
not skipped: without PostgreSQL the smoke run fails (``make test`` installs it).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from greenlink.metering.actuals import actual_flows, hourly_matched
from greenlink.metering.ingest import ingest_files
from greenlink.scenario.model import Scenario


def check(ok: bool, what: str) -> None:
    """Stop with exit status 1 when a correctness check fails."""
    if not ok:
        print(f"CHECK FAILED: {what}", file=sys.stderr)
        raise SystemExit(1)


def bench_scenario(n_meters: int) -> Scenario:
    """20 PV plants, a battery, grid meters and users with line sub-meters: n_meters in all."""
    n_pv = 20
    fixed = n_pv + 4  # + battery charge/discharge + grid import/export
    n_users = (n_meters - fixed) // 2
    n_lines = n_meters - fixed - n_users
    meters: list[dict[str, Any]] = [
        {"id": f"gen{i}", "role": "generator", "measures": f"pv{i}"} for i in range(n_pv)]
    meters += [{"id": "chg", "role": "battery_charge", "measures": "bess"},
               {"id": "dis", "role": "battery_discharge", "measures": "bess"},
               {"id": "imp", "role": "grid_import"}, {"id": "exp", "role": "grid_export"}]
    meters += [{"id": f"load{j}", "role": "user_load", "measures": f"u{j}"}
               for j in range(n_users)]
    meters += [{"id": f"line{k}", "role": "line_submeter", "measures": f"u{k % n_users}",
                "production_line": f"l{k}"} for k in range(n_lines)]
    return Scenario.model_validate({
        "name": "benchmark park",
        "site": {"latitude": 31.9, "longitude": 118.9, "timezone": "Asia/Shanghai",
                 "province": "CN-JS"},
        "time": {"year": 2025, "interval_minutes": 15},
        "weather": {"kind": "synthetic"},
        "users": [{"id": f"u{j}", "load": {"path": "x.csv", "column": "x"}}
                  for j in range(n_users)],
        "pv": [{"id": f"pv{i}", "capacity_kw_dc": 5000, "tilt_deg": 20} for i in range(n_pv)],
        "batteries": [{"id": "bess", "energy_kwh": 40000, "power_kw": 20000}],
        "grid": {"connection_capacity_kw": 400000, "import_limit_kw": 400000,
                 "export_limit_kw": 10000},
        "tariff": {"prices_per_kwh": {"flat": 0.6}, "seasons": [
            {"name": "all", "months": list(range(1, 13)), "default_period": "flat"}]},
        "meters": meters,
    })


def write_files(sc: Scenario, out: Path, per_file: int = 20) -> list[Path]:
    index = pd.date_range("2025-01-01", "2026-01-01", freq="15min", inclusive="left",
                          tz="Asia/Shanghai").tz_convert("UTC")
    rng = np.random.default_rng(7)
    hours = index.tz_convert("Asia/Shanghai").hour.to_numpy()
    sun = np.clip(np.sin((hours - 6) / 12 * np.pi), 0, None)
    ids = [m.id for m in sc.meters]
    paths = []
    for f in range(0, len(ids), per_file):
        chunk = ids[f:f + per_file]
        values = []
        for m in chunk:
            base = 1000 * sun if m.startswith("gen") else 300 + 50 * rng.random(len(index))
            values.append(np.round(base * (1 + 0.01 * rng.standard_normal(len(index))), 3))
        stamps = pd.to_datetime(np.tile(index.as_unit("s").asi8, len(chunk)), unit="s",
                                utc=True)
        frame = pd.DataFrame({"timestamp": stamps,
                              "meter_id": np.repeat(chunk, len(index)),
                              "value": np.concatenate(values)})
        path = out / f"meters_{f // per_file:02d}.parquet"
        frame.to_parquet(path, index=False)
        paths.append(path)
    return paths


def bench_meters(n_meters: int, tmp: Path, raw_reads: int = 3) -> tuple[float, float]:
    sc = bench_scenario(n_meters)
    files = write_files(sc, tmp)
    n = n_meters * 35040
    listed = ", ".join(f"'{p}'" for p in files)
    raw_times = []
    for _ in range(raw_reads):  # the best of three: a steady baseline on a shared machine
        t = time.perf_counter()
        con = duckdb.connect()
        raw = con.sql(f"SELECT * FROM read_parquet([{listed}])").to_arrow_table()
        raw_times.append(time.perf_counter() - t)
        check(raw.num_rows == n, f"raw read: {raw.num_rows} rows, expected {n}")
        con.close()
        del raw
    raw_s, first_s = min(raw_times), raw_times[0]
    t = time.perf_counter()
    store = tmp / "store.duckdb"
    report = ingest_files(sc, files, store)
    t_ingest = time.perf_counter() - t
    arrays = report.arrays  # the store summed per interval (computed for the balance check)
    assert arrays is not None
    flows = actual_flows(sc, arrays)
    matched = hourly_matched(sc, flows, arrays)
    ours = time.perf_counter() - t
    check(report.readings == n, f"ingest stored {report.readings} readings, expected {n}")
    check(len(flows) == 35040, f"{len(flows)} flow rows for 35,040 intervals")
    whole = matched[matched["production_line"] == ""]
    users = {u.id for u in sc.users}
    check(set(whole["user_id"]) == users and len(whole) == 8760 * len(users),
          f"hourly matching: {len(whole)} user-hours for {len(users)} users × 8,760 hours")
    load_meters = ", ".join(f"'{m.id}'" for m in sc.meters if m.role == "user_load")
    con = duckdb.connect()
    raw_load = con.execute(f"SELECT SUM(value) FROM read_parquet([{listed}]) "
                           f"WHERE meter_id IN ({load_meters})").fetchall()
    con.close()
    want = float(raw_load[0][0])
    got = float(whole["load_kwh"].sum())
    check(abs(got - want) <= 1e-6 * want, f"users' load {got!r} kWh, raw files {want!r} kWh")
    print(f"meters: {n_meters} meters, {n:,} readings in {len(files)} Parquet files")
    print(f"  DuckDB raw read (baseline, best of {raw_reads}): {raw_s:.2f} s ({n / raw_s:,.0f} "
          f"readings/s); the first, cold read: {first_s:.2f} s")
    print(f"  ingest+validate+store: {t_ingest:.2f} s; + allocate: {ours:.2f} s "
          f"({n / ours:,.0f} readings/s, {ours / raw_s:.1f}× the best raw read, "
          f"{ours / first_s:.1f}× the first)")
    return n / ours, ours / raw_s


def raw_copy_s(reg: Any) -> float:
    """Baseline: PostgreSQL's own COPY of the issued rows into an empty twin table (seconds)."""
    raw = reg.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("CREATE TEMP TABLE bundle_twin (LIKE gc_bundle)")
        data = bytearray()
        with cur.copy("COPY gc_bundle TO STDOUT") as out:
            for chunk in out:
                data += chunk
        t = time.perf_counter()
        with cur.copy("COPY bundle_twin FROM STDIN") as into:
            into.write(bytes(data))
        raw.commit()
        return time.perf_counter() - t
    finally:
        raw.close()


def bench_registry(hours_n: int = 8760, clients: int = 32, per_client: int = 40,
                   required: bool = False, alone: int = 200) -> tuple[float, float]:
    from greenlink.certificates.db import open_registry
    from greenlink.certificates.pgtemp import available, throwaway_cluster
    from greenlink.signing.keys import generate_key

    if not available():
        check(not required, "registry: PostgreSQL server binaries not found "
              "(scripts/install-system-deps.sh installs them)")
        print("registry: PostgreSQL server binaries not found; skipped")
        return float("nan"), float("nan")
    with throwaway_cluster() as url, tempfile.TemporaryDirectory() as keys:
        key = generate_key(Path(keys) / "operator")
        reg = open_registry(url, key_dir=Path(keys) / "operator")
        check(reg.signer is not None, "registry: not signing")
        print(f"registry: signing on (throwaway operator key {key.fingerprint[:23]}…)")
        accounts = ["park", "a", "b", "c"]
        for a in accounts:
            reg.add_account(a)
        for a in accounts[1:]:
            for sender in accounts:
                if sender != a:
                    reg.whitelist(a, sender)
        for g in range(20):
            reg.add_device(f"g{g}", account_id="park", energy_source="solar",
                           technology_type="photovoltaic", capacity_kw=5000)
        meta = reg.add_metadata(country_of_issuance="CN", connected_grid_identification="CN-JS",
                                issuing_body="benchmark", issue_market_zone="CN-JS")
        idx = pd.date_range("2025-01-01", periods=hours_n, freq="h", tz="UTC")
        rng = np.random.default_rng(1)
        hours = pd.concat([pd.DataFrame({"device_id": f"g{g}", "hour_start": idx,
                                         "energy_wh": rng.integers(1, 5_000_000, hours_n)})
                           for g in range(20)], ignore_index=True)
        t = time.perf_counter()
        n = reg.issue(hours, metadata_id=meta)
        issue_s = time.perf_counter() - t
        check(n == len(hours), f"issued {n} bundles for {len(hours)} device-hours")
        copy_s = raw_copy_s(reg)
        print(f"issuance: {n:,} bundles on PostgreSQL in {issue_s:.2f} s "
              f"({n / issue_s:,.0f} bundles/s, signed); baseline raw COPY of the same rows "
              f"{copy_s:.2f} s ({n / copy_s:,.0f} rows/s): {issue_s / copy_s:.1f}× its time")
        # baseline: one client alone, on bundles the concurrent clients do not use
        first_alone = 1 + clients * per_client
        t = time.perf_counter()
        for i in range(alone):
            reg.transfer(first_alone + i, accounts[1 + i % 3], from_account="park")
        alone_s = time.perf_counter() - t
        done = [0] * clients
        barrier = threading.Barrier(clients + 1)

        def client(k: int) -> None:
            barrier.wait()
            for i in range(per_client):
                bundle_id = 1 + k * per_client + i  # disjoint bundles: every transfer counts
                reg.transfer(bundle_id, accounts[1 + (k + i) % 3], from_account="park")
                done[k] += 1

        threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        for th in threads:
            th.start()
        barrier.wait()
        t = time.perf_counter()
        for th in threads:
            th.join()
        transfer_s = time.perf_counter() - t
        total = sum(done)
        print(f"transfers: {total} by {clients} concurrent clients in {transfer_s:.2f} s "
              f"({total / transfer_s:,.0f} transfers/s, signed); baseline one client alone: "
              f"{alone / alone_s:,.0f} transfers/s ({total / transfer_s / (alone / alone_s):.1f}"
              f"× with {clients} clients)")
        t = time.perf_counter()
        audit = reg.verify()
        print(f"verify (every link, signature and row): {'ok' if audit.ok else 'FAILED'} in "
              f"{time.perf_counter() - t:.2f} s")
        bundles = reg.bundles()
        reg.engine.dispose()
        check(audit.ok and audit.signatures_checked, f"registry audit: {audit.problems[:3]}")
        check(total == clients * per_client,
              f"{total} of {clients * per_client} transfers done")
        moved = int((bundles["account_id"] != "park").sum())
        check(moved == total + alone, f"{moved} bundles outside the park account after "
              f"{total + alone} transfers")
        issued_wh = int(bundles["bundle_quantity"].sum())
        check(issued_wh == int(hours["energy_wh"].sum()),
              f"bundles hold {issued_wh} Wh, the input {int(hours['energy_wh'].sum())} Wh")
        return n / issue_s, total / transfer_s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=200)
    parser.add_argument("--skip-registry", action="store_true")
    parser.add_argument("--smoke", action="store_true",
                        help="30 meters, a week of issuance, 20 transfers (seconds)")
    args = parser.parse_args()
    meters = 30 if args.smoke else args.meters
    with tempfile.TemporaryDirectory() as tmp:
        readings_per_s, ratio = bench_meters(meters, Path(tmp), 1 if args.smoke else 3)
    if args.skip_registry:
        bundles_per_s, transfers_per_s = float("nan"), float("nan")
    elif args.smoke:
        bundles_per_s, transfers_per_s = bench_registry(168, 4, 5, required=True, alone=10)
    else:
        bundles_per_s, transfers_per_s = bench_registry()
    print(f"readings_per_s={readings_per_s:.0f} raw_read_ratio={ratio:.2f} "
          f"bundles_per_s={bundles_per_s:.0f} transfers_per_s={transfers_per_s:.0f}")


if __name__ == "__main__":
    main()
