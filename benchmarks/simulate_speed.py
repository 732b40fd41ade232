"""Simulation speed: the example park and a 20-user park, one year at 15 minutes.

Run: ``.venv/bin/python benchmarks/simulate_speed.py [--smoke]`` (or ``make bench``).

Prints seconds and intervals per second after start-up (imports and numba compilation are
timed separately), and the ratio of the compiled dispatch to a plain-Python run of the same
battery loop measured in the same run (the baseline). Floors from the issue: a 20-user
15-minute park-year in under 1 s after start-up; ``greenlink demo`` under 30 s.

Checks (exit 1 when one fails): the compiled battery loop returns what the plain-Python loop
returns; every allocation method balances generation (direct + battery charge + export +
curtailed) and gives no user more green energy than it consumed; the example park's flows have
one row per interval; ``greenlink demo`` exits 0 (its evidence pack verified) with its outputs.

``--smoke``: the 20-user park over one month (2,880 intervals), one timing per figure; the
example park and ``greenlink demo`` as in the full run. The 20-user figures are then scaled to
a year (× 35,040 / 2,880) for the last line: ``floor_20_users_s=1.0 measured_s=<…> ratio=<…>
demo_s=<…> demo_floor_s=30 demo_ratio=<…>``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

t_start = time.perf_counter()
from greenlink.dispatch import battery as battery_module  # noqa: E402
from greenlink.dispatch.simulate import (  # noqa: E402
    BatteryArrays,
    DispatchResult,
    dispatch_arrays,
)
from greenlink.inputs import build_inputs  # noqa: E402
from greenlink.scenario.load import load_scenario  # noqa: E402
from greenlink.workflows.run import run_scenario  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "src/greenlink/examples/jiangsu_park/park.toml"
YEAR = 35_040
T = YEAR  # intervals of the 20-user park (a month with --smoke)


def check(ok: bool, what: str) -> None:
    """Stop with exit status 1 when a correctness check fails."""
    if not ok:
        print(f"CHECK FAILED: {what}", file=sys.stderr)
        raise SystemExit(1)


def check_dispatch(name: str, r: DispatchResult) -> None:
    """Generation balances, and no user gets more green energy than it consumed."""
    out = r.green_direct + r.battery_charge_green + r.export + r.curtailed
    check(np.allclose(out, r.generation, rtol=1e-9, atol=1e-6),
          f"{name}: generation does not balance (max gap {np.abs(out - r.generation).max()})")
    check(bool((r.user_green <= r.user_load + 1e-6).all()),
          f"{name}: a user gets more green energy than it consumed")


def random_park(n_users: int, seed: int = 7) -> dict:
    rng = np.random.default_rng(seed)
    hours = (np.arange(T) % 96) / 4
    solar = np.clip(np.sin((hours - 6) / 12 * np.pi), 0, None)
    load = rng.uniform(200, 800, (T, n_users)) / 4
    gen = solar * n_users * 900 / 4 * rng.uniform(0.3, 1.0, T)
    bats = BatteryArrays(np.array([4000.0 * n_users / 20, 2000.0]), np.array([500.0, 250.0]),
                         np.array([0.95, 0.95]), np.array([0.95, 0.95]), np.array([0.05, 0.05]),
                         np.array([0.95, 0.95]), np.array([0.5, 0.5]), np.array([False, True]))
    return {"load_kwh": load, "generation_kwh": gen, "batteries": bats,
            "export_cap_kwh": 500.0, "import_limit_kwh": 1e9,
            "cheap": (np.arange(T) % 96) < 24, "method": "pro_rata"}


def best_of(fn, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    global T
    t_import = time.perf_counter() - t_start
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true",
                        help="the 20-user park over one month, one timing each")
    opts = parser.parse_args()
    repeat = 1 if opts.smoke else 5
    if opts.smoke:
        T = 2_880
    park20 = random_park(20)
    t = time.perf_counter()
    dispatch_arrays(**park20)  # compiles (or loads the numba cache)
    t_compile = time.perf_counter() - t

    rows = []
    for method in ("pro_rata", "fixed_shares", "priority", "contracted_capacity"):
        park = {**park20, "method": method, "shares": np.full(20, 1 / 20),
                "priorities": np.arange(20) % 4 + 1, "entitlements_kwh": np.full(20, 60.0)}
        sec = best_of(lambda p=park: dispatch_arrays(**p), repeat)
        check_dispatch(method, dispatch_arrays(**park))
        rows.append((f"20 users, 15 min, {method}", sec))

    # baseline in the same run: the same battery loop interpreted by Python (numba bypassed)
    py_loop = battery_module.run_batteries.py_func
    surplus = np.maximum(park20["generation_kwh"] - park20["load_kwh"].sum(1), 0)
    deficit = np.maximum(park20["load_kwh"].sum(1) - park20["generation_kwh"], 0)
    b = park20["batteries"]
    args = (surplus, deficit, park20["cheap"], np.full(T, 1e9), b.max_kwh_per_interval,
            b.eta_charge, b.eta_discharge, b.energy_kwh * b.soc_min, b.energy_kwh * b.soc_max,
            b.energy_kwh * b.soc_initial, b.grid_charging, False)
    t_py = best_of(lambda: py_loop(*args), repeat=1)
    t_jit = best_of(lambda: battery_module.run_batteries(*args), repeat)
    for name, jit, py in zip(("charge_green", "charge_grid", "discharge", "discharge_green",
                              "soc", "soc_green"), battery_module.run_batteries(*args),
                             py_loop(*args), strict=True):
        check(np.allclose(jit, py, rtol=1e-12, atol=1e-9),
              f"battery loop: compiled {name} differs from plain Python")

    loaded = load_scenario(EXAMPLE)
    t = time.perf_counter()
    inputs = build_inputs(loaded)
    t_inputs = time.perf_counter() - t
    t_example = best_of(lambda: run_scenario(loaded), repeat=1 if opts.smoke else 2)
    flows = run_scenario(loaded).flows
    check(len(flows) == len(inputs.index),
          f"example park: {len(flows)} flow rows for {len(inputs.index)} intervals")

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        demo = subprocess.run([sys.executable, "-m", "greenlink", "demo", "--out", tmp,
                               "--quiet"], check=False)
        t_demo = time.perf_counter() - t
        check(demo.returncode == 0, f"greenlink demo exited {demo.returncode}")
        missing = [name for name in ("flows.parquet", "summary.json", "report.html")
                   if not (Path(tmp) / name).is_file()]
        missing += [] if any((Path(tmp) / "evidence").glob("*.zip")) else ["evidence/*.zip"]
        check(not missing, f"greenlink demo did not write {missing}")

    print(f"start-up: imports {t_import:.2f} s, numba compile/cache load {t_compile:.2f} s")
    for name, sec in rows:
        print(f"{name:45s} {sec:7.3f} s  {T / sec:12,.0f} intervals/s")
    print(f"{'battery loop, numba vs plain Python':45s} {t_jit:7.4f} s vs {t_py:.3f} s "
          f"-> {t_py / t_jit:,.0f}x")
    print(f"{'example park: inputs (weather + pvlib)':45s} {t_inputs:7.3f} s")
    print(f"{'example park: whole run_scenario (5 users)':45s} {t_example:7.3f} s  "
          f"{len(inputs.index) / t_example:12,.0f} intervals/s")
    print(f"{'greenlink demo (new process, all outputs)':45s} {t_demo:7.3f} s")
    worst = max(sec for _, sec in rows) * YEAR / T  # a year's worth (scaled from a month)
    if T != YEAR:
        print(f"(20-user figures over {T:,} intervals; the last line scales them to a year)")
    print(f"floor_20_users_s=1.0 measured_s={worst:.3f} ratio={worst / 1.0:.3f} "
          f"demo_s={t_demo:.1f} demo_floor_s=30 demo_ratio={t_demo / 30:.3f}")


if __name__ == "__main__":
    main()
