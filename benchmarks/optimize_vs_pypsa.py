"""greenlink's sizing LP against PyPSA on the same problem.

HiGHS in both: one thread, interior point (IPX) with crossover (``--solver`` to change both).

Problem (the bundled Jiangsu park's data): one site, one year, extendable PV (the ground plant's
profile, ≤ 80 MWp) and battery (energy and power sized separately, 95 % efficiencies, SoC
5–95 %, cyclic), the park's load as one user, time-of-use import, export capped at 10 MW at the
export price, battery charged from PV only, no policy rules. PyPSA model: PV, export and a
charger on a "green" bus, load and grid on the "ac" bus, a lossless link green → ac, a store on
a battery bus with a discharger link whose rating is tied to the charger's (extra functionality).

Total time = build (inputs + model) + solve + reading the solution back, per tool, each case in a
fresh process (peak resident memory from ``wait4``); the one-site hourly case is run twice,
alternating, and the best of two kept. The scaling table runs greenlink with 1, 5
and 20 users (per-user green-share targets force per-user variables) at 8,760 and 35,040
intervals, and PyPSA with one user at both resolutions.

Run: ``.venv/bin/python benchmarks/optimize_vs_pypsa.py [--quick | --headline | --smoke]``
Floor: greenlink total ≤ 0.5 × PyPSA total on the one-site hourly case. Last line:
``ratio=<greenlink/PyPSA total time> objective_rel_diff=<value>``.

Checks (exit 1 when one fails): both tools solve to optimality and their objectives agree to a
relative 1e-5 on every case both run. ``--smoke``: the headline case over the first two weeks
(336 hours), each tool once, no scaling table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

FLOOR = 0.5
OBJECTIVE_RTOL = 1e-5
SMOKE_HOURS = 336
EXAMPLE = Path(__file__).resolve().parents[1] / "src/greenlink/examples/jiangsu_park/park.toml"
HIGHS = {"threads": 1, "solver": os.environ.get("GREENLINK_BENCH_SOLVER", "ipm"),
         "run_crossover": "on"}


def check(ok: bool, what: str) -> None:
    """Stop with exit status 1 when a correctness check fails."""
    if not ok:
        print(f"CHECK FAILED: {what}", file=sys.stderr)
        raise SystemExit(1)


def _cache_path() -> Path:
    """The pickled example-park inputs, keyed by the greenlink sources they came from (other
    checkouts on the machine share the temporary folder)."""
    import greenlink

    root = Path(greenlink.__file__).parent
    digest = hashlib.sha256(str(root).encode())
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return Path(tempfile.gettempdir()) / f"greenlink-bench-park-{digest.hexdigest()[:16]}.pkl"


def _base_park() -> Any:
    cache = _cache_path()
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    from greenlink.inputs import build_inputs
    from greenlink.scenario.load import load_scenario

    park = build_inputs(load_scenario(EXAMPLE))
    partial = cache.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(pickle.dumps(park))
    partial.replace(cache)  # atomic: a concurrent run never reads half a file
    return park


def bench_park(users: int, hourly: bool, hours: int | None = None) -> Any:
    """The benchmark park: ``users`` loads summing to the example park's load (the first
    ``hours`` hours only when given)."""
    from greenlink.scenario.model import User
    from greenlink.scenario.optimization import OptimizationSpec

    park = _base_park()
    sc = park.scenario
    step = 4 if hourly else 1
    n = len(park.index) // step
    if hours is not None:
        n = min(n, hours * 60 // (60 if hourly else 15))

    def agg(a: np.ndarray) -> np.ndarray:
        return a[: n * step].reshape(n, step, *a.shape[1:]).sum(axis=1)

    total = agg(park.load_kwh).sum(axis=1)
    rng = np.random.default_rng(11)
    base = agg(park.load_kwh)
    cols = [base[:, j % base.shape[1]] * rng.uniform(0.5, 1.5) for j in range(users)]
    loads = np.column_stack(cols)
    loads *= (total / loads.sum(axis=1))[:, None]
    ground = next(p for p in sc.pv if p.id == "ground")
    interval = 60 if hourly else 15
    targets = [{"metric": "green_share_of_consumption", "scope": f"u{j}", "min": 0.2}
               for j in range(users)] if users > 1 else []
    peak_kw = float(total.max()) * (60 / interval)
    new_sc = sc.model_copy(update={
        "users": [User(id=f"u{j}", load=sc.users[0].load) for j in range(users)],
        "pv": [ground], "wind": [], "products": [],
        "time": sc.time.model_copy(update={"interval_minutes": interval}),
        "grid": sc.grid.model_copy(update={"import_limit_kw": 2 * peak_kw,
                                           "connection_capacity_kw": 2 * peak_kw}),
        "optimize": OptimizationSpec.model_validate({
            "rules": "none", "targets": targets, "fees": "none",  # PyPSA side has no fees
            "battery": {"max_energy_kwh": 200_000.0, "max_power_kw": 50_000.0}}),
    })
    return replace(park, scenario=new_sc, index=park.index[::step][:n], load_kwh=loads,
                   generation_kwh={"ground": agg(park.generation_kwh["ground"])},
                   price_per_kwh=park.price_per_kwh[::step][:n],
                   tariff_period=park.tariff_period[::step][:n])


def run_greenlink(park: Any) -> dict[str, Any]:
    from greenlink.optimize.inputs import optimization_inputs
    from greenlink.optimize.lp import solve
    from greenlink.optimize.model import build_model
    from greenlink.optimize.results import dispatch_of, sizes_of

    t0 = time.perf_counter()
    oi = optimization_inputs(park)
    lp, v = build_model(oi)
    t1 = time.perf_counter()
    sol = solve(lp, threads=1, solver=str(HIGHS["solver"]))
    t2 = time.perf_counter()
    sizes = sizes_of(oi, v, sol)
    dispatch_of(oi, v, sol, sizes)
    t3 = time.perf_counter()
    return {"objective": sol.objective, "build_s": t1 - t0, "solve_s": t2 - t1,
            "total_s": t3 - t0, "status": sol.status, "pv_kw": sum(sizes.pv_kw_dc.values()),
            "battery_kwh": sizes.battery_kwh, "battery_kw": sizes.battery_kw,
            "columns": lp.n_cols, "rows": lp.n_rows}


def run_pypsa(park: Any) -> dict[str, Any]:
    import logging

    import pandas as pd
    import pypsa

    from greenlink.optimize.inputs import optimization_inputs

    logging.getLogger("pypsa").setLevel(logging.ERROR)
    logging.getLogger("linopy").setLevel(logging.ERROR)
    oi = optimization_inputs(park)  # the same numbers (costs, profiles), not timed
    c = oi.costs
    bat = oi.battery
    assert bat is not None
    dt = oi.dt_h
    t0 = time.perf_counter()
    n = pypsa.Network()
    snapshots = pd.RangeIndex(oi.n_intervals)
    n.set_snapshots(snapshots)
    # the weightings start as integers (1); a 0.25 h weighting needs a float frame
    n.snapshot_weightings = n.snapshot_weightings.astype(float) * dt
    for bus in ("ac", "green", "battery"):
        n.add("Bus", bus)
    n.add("Load", "load", bus="ac", p_set=pd.Series(oi.load_kwh.sum(axis=1) / dt, snapshots))
    n.add("Generator", "pv", bus="green", p_nom_extendable=True,
          p_nom_max=float(oi.pv_max_kw[0]), capital_cost=oi.period_fraction * c.pv_per_kw_year,
          p_max_pu=pd.Series(oi.pv_kwh_per_kw[0] / dt, snapshots))
    n.add("Generator", "grid", bus="ac", p_nom=oi.import_limit_kwh / dt,
          marginal_cost=pd.Series(oi.price_per_kwh, snapshots))
    n.add("Generator", "export", bus="green", p_nom=oi.export_cap_kwh / dt, p_min_pu=-1.0,
          p_max_pu=0.0, marginal_cost=oi.export_price_per_kwh)
    n.add("Link", "green_to_ac", bus0="green", bus1="ac", p_nom=1e7)
    n.add("Store", "battery", bus="battery", e_nom_extendable=True,
          e_nom_max=oi.battery_max_kwh, e_cyclic=True, e_min_pu=bat.soc_min,
          e_max_pu=bat.soc_max, capital_cost=oi.period_fraction * c.battery_per_kwh_year)
    n.add("Link", "charger", bus0="green", bus1="battery", efficiency=bat.charge_efficiency,
          p_nom_extendable=True, p_nom_max=oi.battery_max_kw,
          capital_cost=oi.period_fraction * c.battery_per_kw_year)
    n.add("Link", "discharger", bus0="battery", bus1="ac", efficiency=bat.discharge_efficiency,
          p_nom_extendable=True, marginal_cost=c.battery_variable_per_kwh
          * bat.discharge_efficiency)

    def tie_ratings(network: Any, _snapshots: Any) -> None:
        p_nom = network.model["Link-p_nom"]
        dim = p_nom.dims[0]  # the links' name dimension; drop it so the two ratings subtract
        discharger = p_nom.sel({dim: "discharger"}, drop=True)
        charger = p_nom.sel({dim: "charger"}, drop=True)
        network.model.add_constraints(
            bat.discharge_efficiency * discharger - charger == 0, name="discharger_rating")

    # the objective constant (capital costs of fixed capacities) is 0 here: grid and export
    # carry no capital cost; stated explicitly, PyPSA's default until 2.0
    _status, condition = n.optimize(solver_name="highs", solver_options=dict(HIGHS),
                                   extra_functionality=tie_ratings,
                                   include_objective_constant=True)
    t1 = time.perf_counter()
    return {"objective": float(n.objective), "total_s": t1 - t0, "status": str(condition),
            "pv_kw": float(n.generators.p_nom_opt["pv"]),
            "battery_kwh": float(n.stores.e_nom_opt["battery"]),
            "battery_kw": float(n.links.p_nom_opt["charger"]), "pypsa": pypsa.__version__}


def child(tool: str, users: int, hourly: bool, hours: int | None) -> None:
    park = bench_park(users, hourly, hours)
    result = run_greenlink(park) if tool == "greenlink" else run_pypsa(park)
    print("RESULT " + json.dumps(result))


def measure(tool: str, users: int, hourly: bool, hours: int | None = None) -> dict[str, Any]:
    """Run one case in a fresh process; add its peak resident memory (MiB)."""
    cmd = [sys.executable, __file__, "--child", tool, str(users), "1" if hourly else "0",
           str(hours or 0)]
    with tempfile.TemporaryFile("w+") as err:  # progress bars and warnings; shown on failure
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        line = next((ln for ln in out.splitlines() if ln.startswith("RESULT ")), None)
        if line is None:
            err.seek(0)
            print(f"{tool} ({users} users, {'hourly' if hourly else '15 min'}) failed:\n"
                  f"{err.read()[-3000:]}", file=sys.stderr)
            return {"status": f"failed (exit {proc.returncode})", "total_s": float("nan"),
                    "objective": float("nan"), "peak_mib": usage.ru_maxrss / 1024}
    result: dict[str, Any] = json.loads(line[len("RESULT "):])
    result["peak_mib"] = usage.ru_maxrss / 1024  # Linux: KiB
    result["cpu_s"] = usage.ru_utime + usage.ru_stime  # whole process, start-up included
    return result


def check_optimal(result: dict[str, Any]) -> None:
    check(str(result["status"]).lower() == "optimal",
          f"not solved to optimality: {result['status']}")


def label_of(users: int, hourly: bool) -> str:
    return f"{users:2d} users, {8760 if hourly else 35040} intervals"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the 20-user 15-min case")
    parser.add_argument("--headline", action="store_true", help="the one-site hourly case only")
    parser.add_argument("--solver", choices=["hipo", "ipm", "simplex"], default=None,
                        help="HiGHS solver for both tools (default ipm, greenlink's default)")
    parser.add_argument("--smoke", action="store_true",
                        help=f"the headline case over {SMOKE_HOURS} hours, each tool once")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.solver:
        os.environ["GREENLINK_BENCH_SOLVER"] = args.solver  # read by the child processes
        HIGHS["solver"] = args.solver
    if args.child:
        child(args.child[0], int(args.child[1]), args.child[2] == "1",
              int(args.child[3]) or None)
        return
    import highspy
    import pypsa

    _base_park()  # build the cached inputs outside any timing
    print(f"HiGHS {highspy.Highs().version() if hasattr(highspy.Highs(), 'version') else ''}"
          f" / PyPSA {pypsa.__version__}; options {HIGHS}")
    # the headline case twice, alternating, best of two (the machine may be shared)
    hours = SMOKE_HOURS if args.smoke else None
    runs = [measure(tool, 1, True, hours) for _ in range(1 if args.smoke else 2)
            for tool in ("greenlink", "pypsa")]
    for r in runs:
        check_optimal(r)
    gl = min(runs[0::2], key=lambda r: r["total_s"])
    ps = min(runs[1::2], key=lambda r: r["total_s"])
    rel = abs(gl["objective"] - ps["objective"]) / max(abs(ps["objective"]), 1e-12)
    check(rel <= OBJECTIVE_RTOL, f"objectives differ: greenlink {gl['objective']!r}, PyPSA "
          f"{ps['objective']!r} (relative {rel:.2e} > {OBJECTIVE_RTOL:g})")
    print(f"one site, hourly ({hours or 8760:,} intervals)")
    for name, r in (("greenlink", gl), ("PyPSA", ps)):
        print(f"  {name:9s} objective {r['objective']:,.2f}  total {r['total_s']:.2f} s  "
              f"peak {r['peak_mib']:.0f} MiB  PV {r['pv_kw']:,.0f} kWp  battery "
              f"{r['battery_kwh']:,.0f} kWh / {r['battery_kw']:,.0f} kW  ({r['status']})")
    print(f"  greenlink build {gl['build_s']:.3f} s, solve {gl['solve_s']:.2f} s")
    ratio = gl["total_s"] / ps["total_s"]
    print(f"  ratio greenlink/PyPSA {ratio:.3f} (floor {FLOOR}) "
          f"{'OK' if ratio <= FLOOR else 'ABOVE FLOOR'}")
    cpu = {name: r.get("cpu_s", float("nan")) for name, r in (("greenlink", gl), ("PyPSA", ps))}
    print(f"  CPU time greenlink {cpu['greenlink']:.2f} s, PyPSA {cpu['PyPSA']:.2f} s "
          f"(ratio {cpu['greenlink'] / cpu['PyPSA']:.3f}; wall-clock times suffer on a shared "
          "machine)")
    if args.headline or args.smoke:
        print(f"ratio={ratio:.4f} objective_rel_diff={rel:.3e}")
        return
    print("scaling (total s / peak MiB)")
    print(f"  {'case':28s} {'greenlink':>20s} {'PyPSA':>20s}")
    cases = [(u, h) for h in (True, False) for u in (1, 5, 20)]
    for users, hourly in cases:
        if args.quick and users == 20 and not hourly:
            continue
        g = gl if (users, hourly) == (1, True) else measure("greenlink", users, hourly)
        check_optimal(g)
        p_text = ""
        if users == 1:
            p = ps if hourly else measure("pypsa", 1, hourly)
            check_optimal(p)
            p_text = f"{p['total_s']:8.2f} s {p['peak_mib']:6.0f} MiB"
            if not hourly:
                diff = abs(g["objective"] - p["objective"]) / max(abs(p["objective"]), 1e-12)
                check(diff <= OBJECTIVE_RTOL, f"{label_of(users, hourly)}: objectives differ "
                      f"(relative {diff:.2e})")
        label = label_of(users, hourly)
        print(f"  {label:28s} {g['total_s']:8.2f} s {g['peak_mib']:6.0f} MiB {p_text:>20s}"
              f"  ({g.get('columns', 0):,} cols)")
    print(f"ratio={ratio:.4f} objective_rel_diff={rel:.3e}")


if __name__ == "__main__":
    main()
