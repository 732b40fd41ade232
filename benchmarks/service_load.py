"""Service under load, on loopback only: concurrent clients reading dashboards and posting meter
uploads against uvicorn on 127.0.0.1, bounded in time.

Run: ``.venv/bin/python benchmarks/service_load.py [--clients 50] [--duration 60] [--smoke]``.

Set-up (not timed): a fresh data folder, the demo accounts, the example park simulated once,
uvicorn started in its own process on a free 127.0.0.1 port. Then:

1. baseline: one client, sequential, for ``--baseline`` seconds;
2. load: ``--clients`` clients for ``--duration`` seconds. Each client is one logged-in person
   (the operator, the verifier and the five tenants in turn) who waits ``--think`` seconds
   (uniformly 0.5x-1.5x) between requests; 80 % of its requests read a dashboard page (HTML) or
   the results JSON, 20 % post a small meter file.

Prints throughput and p50/p99 latency per kind, the ratio to the baseline, and checks the
floors from the issue: p99 of reads under 500 ms, no error, nothing lost (every accepted upload
is in the database afterwards, with the same SHA-256). Exits 1 when a floor is missed.
No request leaves 127.0.0.1; every loop ends by its deadline. Last line: ``read_p99_ms=<…>
read_p50_ratio=<reads p50 under load / baseline> req_per_s=<…> errors=<n> lost=<n>``.

``--smoke``: 1 s of baseline, then 5 clients for 3 s (mean pause 0.2 s). It exits 1 on an
error, a lost upload or a kind of request never made, but not on the p99 floor (timings of a
few seconds on a shared machine say little).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

PASSWORD = "bench-password-1"
READ_P99_FLOOR_S = 0.5
USERS = ["alu_extruder", "steel_fasteners", "cement_grinding", "battery_cells", "data_centre"]


@dataclass
class Stats:
    latencies_s: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    accepted: dict[int, str] = field(default_factory=dict)  # upload id -> sha256

    def add(self, kind: str, seconds: float) -> None:
        self.latencies_s.setdefault(kind, []).append(seconds)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(data: Path) -> int:
    """Demo accounts and the example park simulated once; returns the park id."""
    from greenlink.service import accounts, jobs
    from greenlink.service.demo import seed_demo
    from greenlink.service.settings import make_settings
    from greenlink.service.startup import open_service

    ctx = open_service(make_settings(None, data))
    try:
        park_id, _made = seed_demo(ctx, PASSWORD)
        operator = accounts.authenticate(
            ctx, accounts.login(ctx, "operator@demo.greenlink", PASSWORD).secret)
        job = jobs.submit_job(ctx, operator, park_id, "simulate")
        assert ctx.runner is not None
        ctx.runner.wait(job.id, timeout_s=300)
        assert jobs.get_job(ctx, operator, job.id).status == "succeeded"
    finally:
        ctx.close()
    return park_id


def serve(data: Path, port: int) -> None:
    """Child process: uvicorn on 127.0.0.1 only."""
    import uvicorn

    from greenlink.service.settings import make_settings
    from greenlink.web.app import create_app

    # plain http on loopback: the session cookie without Secure (greenlink serve
    # --insecure-cookies), so that the dashboard requests below can send it
    uvicorn.run(create_app(make_settings(None, data, cookie_secure=False)), host="127.0.0.1",
                port=port, log_level="warning", access_log=False)


def meter_csv(rng: random.Random) -> bytes:
    day = rng.randint(1, 28)
    rows = [f"2025-04-{day:02d}T{h:02d}:{m:02d}:00+08:00,{rng.uniform(0, 500):.3f}"
            for h in range(24) for m in (0, 15, 30, 45)]
    return ("interval_start,energy_kwh\n" + "\n".join(rows) + "\n").encode()


async def login(client: httpx.AsyncClient, email: str) -> str:
    r = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    r.raise_for_status()
    return str(r.json()["token"])


async def person(client: httpx.AsyncClient, token: str, park_id: int, deadline: float,
                 think_s: float, stats: Stats, seed: int, can_upload: bool,
                 operator: bool) -> None:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    cookies = {"greenlink_session": token}
    await asyncio.sleep(rng.uniform(0, think_s))  # spread the first requests
    while time.monotonic() < deadline:
        roll = rng.random()
        t0 = time.perf_counter()
        try:
            if roll < 0.2 and can_upload:
                kind = "upload"
                content = meter_csv(rng)
                form = {"user_id": rng.choice(USERS)} if operator else None
                r = await client.post(f"/api/v1/parks/{park_id}/meter-uploads", headers=headers,
                                      data=form,
                                      files={"file": ("meter.csv", content, "text/csv")})
                if r.status_code == 201:
                    stats.accepted[int(r.json()["id"])] = hashlib.sha256(content).hexdigest()
            elif roll < 0.6:
                kind = "read_dashboard"
                client.cookies.clear()
                r = await client.get(f"/parks/{park_id}", cookies=cookies)
            else:
                kind = "read_result"
                r = await client.get(f"/api/v1/parks/{park_id}/result", headers=headers)
            elapsed = time.perf_counter() - t0
            expected = 201 if kind == "upload" else 200
            if r.status_code != expected:
                stats.errors.append(f"{kind}: HTTP {r.status_code} {r.text[:200]}")
            stats.add(kind, elapsed)
        except httpx.HTTPError as exc:
            stats.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
        if think_s > 0:
            await asyncio.sleep(think_s * rng.uniform(0.5, 1.5))


async def run_phase(base: str, park_id: int, clients: int, duration_s: float, think_s: float,
                    seed: int) -> tuple[Stats, float]:
    from greenlink.service.demo import DEMO_DOMAIN

    people = ["operator", "verifier", *USERS]
    stats = Stats()
    # idle connections expire on the client before uvicorn closes them (5 s): no reuse race
    limits = httpx.Limits(max_connections=clients + 5, max_keepalive_connections=clients + 5,
                          keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=base, timeout=30.0, limits=limits) as client:
        tokens = {p: await login(client, f"{p}@{DEMO_DOMAIN}") for p in people}
        start = time.monotonic()
        deadline = start + duration_s
        await asyncio.gather(*(
            person(client, tokens[people[i % len(people)]], park_id, deadline, think_s, stats,
                   seed + i, can_upload=people[i % len(people)] != "verifier",
                   operator=people[i % len(people)] == "operator")
            for i in range(clients)))
        wall = time.monotonic() - start
    return stats, wall


def check_nothing_lost(data: Path, accepted: dict[int, str]) -> int:
    """How many accepted uploads are missing from the database (or differ)."""
    from sqlalchemy import select

    from greenlink.database import make_engine
    from greenlink.service.models import MeterUpload
    from greenlink.service.settings import make_settings

    engine = make_engine(make_settings(None, data).db_url)
    with engine.connect() as conn:
        stored = dict(conn.execute(select(MeterUpload.id, MeterUpload.sha256)).all())
    engine.dispose()
    return sum(1 for i, sha in accepted.items() if stored.get(i) != sha)


def percentile_ms(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q) * 1000) if values else float("nan")


def report(title: str, stats: Stats, wall_s: float) -> dict[str, tuple[float, float]]:
    total = sum(len(v) for v in stats.latencies_s.values())
    print(f"\n{title}: {total} requests in {wall_s:.1f} s → {total / wall_s:.1f} req/s, "
          f"{len(stats.errors)} errors")
    out = {}
    reads = [x for k, v in stats.latencies_s.items() if k.startswith("read") for x in v]
    for kind, values in [*sorted(stats.latencies_s.items()), ("all reads", reads)]:
        p50, p99 = percentile_ms(values, 50), percentile_ms(values, 99)
        out[kind] = (p50, p99)
        print(f"  {kind:<16} n={len(values):>6}  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  "
              f"max {max(values, default=0) * 1000:7.1f} ms")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load (max 600)")
    ap.add_argument("--baseline", type=float, default=5.0, help="seconds of the 1-client run")
    ap.add_argument("--think", type=float, default=1.0, help="mean pause between requests [s]")
    ap.add_argument("--smoke", action="store_true",
                    help="1 s baseline, 5 clients for 3 s; exits 1 on errors, not on the floor")
    ap.add_argument("--serve", nargs=2, metavar=("DATA", "PORT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]))
        return 0
    if args.smoke:
        args.clients, args.duration, args.baseline, args.think = 5, 3.0, 1.0, 0.2
    duration = min(args.duration, 600.0)
    with tempfile.TemporaryDirectory(prefix="greenlink-load-") as tmp:
        data = Path(tmp)
        t0 = time.perf_counter()
        park_id = prepare(data)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(data), str(port)],
                                  env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("server did not start")
                time.sleep(0.2)
            print(f"set-up (accounts, example park simulated, server up): "
                  f"{time.perf_counter() - t0:.1f} s; server {base}, uvicorn 1 process")
            base_stats, base_wall = asyncio.run(run_phase(base, park_id, 1, args.baseline, 0.0,
                                                          seed=1))
            base_fig = report("baseline: 1 client, no pause", base_stats, base_wall)
            stats, wall = asyncio.run(run_phase(base, park_id, args.clients, duration,
                                                args.think, seed=1000))
            fig = report(f"load: {args.clients} clients, mean pause {args.think:.2f} s",
                         stats, wall)
        finally:
            server.terminate()
            server.wait(timeout=30)
        lost = check_nothing_lost(data, stats.accepted)
    for kind in ("read_dashboard", "read_result", "upload"):
        if kind in fig and kind in base_fig:
            print(f"  p50 under load / baseline p50, {kind}: "
                  f"{fig[kind][0] / base_fig[kind][0]:.2f}x")
    read_p99 = fig["all reads"][1]
    print(f"\naccepted uploads {len(stats.accepted)}, missing afterwards {lost}")
    errors = stats.errors + base_stats.errors
    correct = not errors and lost == 0
    ok = read_p99 < READ_P99_FLOOR_S * 1000 and correct
    print(f"floor: reads p99 {read_p99:.1f} ms < {READ_P99_FLOOR_S * 1000:.0f} ms, "
          f"no error, nothing lost → {'MET' if ok else 'MISSED'}")
    for e in errors[:10]:
        print("  error:", e)
    never = [kind for kind in ("read_dashboard", "read_result", "upload")
             if not stats.latencies_s.get(kind)]
    if never:
        print(f"  never made under load: {never}")
    if not stats.accepted:
        print("  no upload accepted under load")
    total = sum(len(v) for v in stats.latencies_s.values())
    print(f"read_p99_ms={read_p99:.1f} "
          f"read_p50_ratio={fig['all reads'][0] / base_fig['all reads'][0]:.2f} "
          f"req_per_s={total / wall:.1f} errors={len(errors)} lost={lost}")
    if args.smoke:
        return 0 if correct and not never and stats.accepted else 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
