"""greenlink's sizing LP against PyPSA on the same problem, and the optimiser at park size.

HiGHS in both: one thread; in the relaxed comparison both tools run the same options (interior
point, no crossover, :data:`HIGHS`; ``--solver`` changes both); the realizable optimiser uses its
own choice per LP.

**Headline** (the bundled Jiangsu park's data): one site, one year hourly, extendable PV (the
ground plant's profile, ≤ 80 MWp) and battery (energy and power sized separately, 95 %
efficiencies, SoC 5–95 %, cyclic), the park's load as one user, time-of-use import, export
capped at 10 MW at the export price, battery charged from PV only, no policy rules, no fees.
PyPSA model: PV, export and a charger on a "green" bus, load and grid on the "ac" bus, a lossless
link green → ac, a store on a battery bus with a discharger link whose rating is tied to the
charger's (extra functionality). That is the *relaxed* LP (``optimize.dispatch = "relaxed"``):
PyPSA cannot say "green serves the load first" without integers, so the objectives are compared
there, and the realizable optimum of the same park is timed beside it.

**Scaling table** (the realizable optimiser, and the relaxed LP, each case in a fresh process):
20 users hourly with per-user green-share targets; 5 users at 15 minutes likewise; the example
park as shipped (15 minutes, its rules and target); the example park with a green-share target
for each of its five users. Each row shows total seconds (inputs + LP + results), CPU seconds of
the whole process and peak memory, with the floor of issue 13 beside it; PyPSA one site at both
resolutions is the baseline.

Total time = build (inputs + model) + solve + reading the solution back, per tool, each case in a
fresh process (peak resident memory and CPU time from ``wait4``); the headline case is run
three times, alternating, and the best of three kept (the machine may be shared; a run's CPU
time varies by ±10 % here). Before any timing greenlink's sources are compiled to bytecode, as
an installed package's are (PyPSA's were at install): a fresh process then reads the bytecode
instead of compiling the sources, whatever ``PYTHONDONTWRITEBYTECODE`` says.

Run: ``.venv/bin/python benchmarks/optimize_vs_pypsa.py [--quick | --headline | --smoke]``
Floors: headline CPU time ≤ 0.25 × PyPSA's (equal objective); see ``FLOORS_S`` for the scaling
cases. Last line: ``ratio=<greenlink/PyPSA CPU time, headline> objective_rel_diff=<value>``.

Checks (exit 1 when one fails): every solve is optimal, and greenlink's relaxed objective agrees
with PyPSA's to a relative 1e-5 on every case both run. ``--smoke``: the headline case over the
first two weeks (336 hours), each tool once, the realizable optimiser once, no scaling table.
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

CPU_FLOOR = 0.25
OBJECTIVE_RTOL = 1e-5
#: Issue 13's floors for the realizable optimiser (total seconds, same machine).
FLOORS_S = {"20u-1h": 15.0, "5u-15m": 60.0, "example": 30.0, "example-targets": 60.0}
SMOKE_HOURS = 336
EXAMPLE = Path(__file__).resolve().parents[1] / "src/greenlink/examples/jiangsu_park/park.toml"
#: HiGHS options of the relaxed comparison, the same for both tools: one thread, interior
#: point to a relative 1e-7 without crossover (neither needs a vertex to report sizes and
#: costs; the objectives are compared to 1e-5).
HIGHS = {"threads": 1, "solver": os.environ.get("GREENLINK_BENCH_SOLVER", "ipm"),
         "run_crossover": "off", "ipm_optimality_tolerance": 1e-7}


def check(ok: bool, what: str) -> None:
    """Stop with exit status 1 when a correctness check fails."""
    if not ok:
        print(f"CHECK FAILED: {what}", file=sys.stderr)
        raise SystemExit(1)


def _cache_path(tag: str) -> Path:
    """A pickled park, keyed by the greenlink sources it came from (other checkouts on the
    machine share the temporary folder) and ``tag``."""
    import greenlink

    root = Path(greenlink.__file__).parent
    digest = hashlib.sha256(str(root).encode())
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return Path(tempfile.gettempdir()) / f"greenlink-bench-{tag}-{digest.hexdigest()[:16]}.pkl"


def _cached(tag: str, build: Any) -> Any:
    cache = _cache_path(tag)
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    park = build()
    partial = cache.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(pickle.dumps(park))
    partial.replace(cache)  # atomic: a concurrent run never reads half a file
    return park


def _base_park() -> Any:
    def build() -> Any:
        from greenlink.inputs import build_inputs
        from greenlink.scenario.load import load_scenario

        return build_inputs(load_scenario(EXAMPLE))

    return _cached("park", build)


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
        "pv": [ground], "wind": [], "products": [], "installations": [], "contracts": [],
        "meters": [],
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


#: Per-user green-share target of the example park's five users (the park's own target stays).
EXAMPLE_USER_TARGET = 0.45


def example_park(user_targets: bool) -> Any:
    """The example park as shipped (15 minutes), optionally with a green-share target for each
    of its users."""
    from greenlink.scenario.optimization import Target

    park = _base_park()
    if not user_targets:
        return park
    sc = park.scenario
    assert sc.optimize is not None
    targets = [*sc.optimize.targets, *(
        Target(metric="green_share_of_consumption", scope=u.id, min=EXAMPLE_USER_TARGET)
        for u in sc.users)]
    spec = sc.optimize.model_copy(update={"targets": targets})
    return replace(park, scenario=sc.model_copy(update={"optimize": spec}))


def case_park(case: str, hours: int | None = None) -> Any:
    """``1u-1h`` (headline), ``20u-1h``, ``5u-15m``, ``1u-15m``, ``example``,
    ``example-targets`` (built once and cached, so that a timed process only reads it)."""
    def build() -> Any:
        if case.startswith("example"):
            return example_park(case == "example-targets")
        users, res = case.split("-")
        park = bench_park(int(users.rstrip("u")), res == "1h", hours)
        return replace(park, weather=None)

    return _cached(f"{case}-{hours or 0}", build)


def run_greenlink(park: Any, mode: str) -> dict[str, Any]:
    """``relaxed``: the plain LP (PyPSA's problem); ``realizable``: the optimiser."""
    from dataclasses import replace as _replace

    from greenlink.optimize.inputs import optimization_inputs

    t0 = time.perf_counter()
    oi = _replace(optimization_inputs(park), dispatch=mode)
    if mode == "relaxed":
        from greenlink.optimize.lp import solve
        from greenlink.optimize.model import build_model
        from greenlink.optimize.results import dispatch_of, sizes_of

        lp, v = build_model(oi, "relaxed")
        t1 = time.perf_counter()
        sol = solve(lp, threads=1, solver=str(HIGHS["solver"] or "ipm"),
                    crossover=HIGHS["run_crossover"] == "on",
                    options={"ipm_optimality_tolerance": HIGHS["ipm_optimality_tolerance"]})
        t2 = time.perf_counter()
        sizes = sizes_of(oi, v, sol)
        dispatch_of(oi, v, sol, sizes)
        t3 = time.perf_counter()
        return {"objective": sol.objective, "build_s": t1 - t0, "solve_s": t2 - t1,
                "total_s": t3 - t0, "status": sol.status,
                "pv_kw": sum(sizes.pv_kw_dc.values()), "battery_kwh": sizes.battery_kwh,
                "battery_kw": sizes.battery_kw, "columns": lp.n_cols, "rows": lp.n_rows,
                "gap": 0.0, "solves": 1}
    from greenlink.optimize.solve import solve_inputs

    r = solve_inputs(oi)
    t3 = time.perf_counter()
    return {"objective": r.costs["total"], "build_s": r.build_seconds,
            "solve_s": sum(st.solve_seconds for st in r.stages), "total_s": t3 - t0,
            "status": r.solution.status, "pv_kw": sum(r.sizes.pv_kw_dc.values()),
            "battery_kwh": r.sizes.battery_kwh, "battery_kw": r.sizes.battery_kw,
            "columns": max(st.columns for st in r.stages), "rows": max(st.rows
                                                                      for st in r.stages),
            "gap": r.gap if r.gap is not None else 0.0, "solves": len(r.stages)}


def run_pypsa(park: Any) -> dict[str, Any]:
    import logging

    import pandas as pd
    import pypsa

    from greenlink.optimize.inputs import optimization_inputs

    logging.getLogger("pypsa").setLevel(logging.ERROR)
    logging.getLogger("linopy").setLevel(logging.ERROR)
    oi = optimization_inputs(park)  # the same numbers (costs, profiles), not timed
    c = oi.costs
    (cand,) = oi.batteries
    bat = cand.spec
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
          e_nom_max=cand.max_kwh, e_cyclic=True, e_min_pu=bat.soc_min,
          e_max_pu=bat.soc_max, capital_cost=oi.period_fraction * c.battery_per_kwh_year)
    n.add("Link", "charger", bus0="green", bus1="battery", efficiency=bat.charge_efficiency,
          p_nom_extendable=True, p_nom_max=cand.max_kw,
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


def child(tool: str, case: str, hours: int | None) -> None:
    park = case_park(case, hours)
    result = run_pypsa(park) if tool == "pypsa" else run_greenlink(park, tool.split(":")[1])
    print("RESULT " + json.dumps(result))


def measure(tool: str, case: str, hours: int | None = None) -> dict[str, Any]:
    """Run one case in a fresh process (``tool``: ``pypsa``, ``greenlink:relaxed`` or
    ``greenlink:realizable``); add its peak resident memory (MiB) and CPU seconds."""
    cmd = [sys.executable, __file__, "--child", tool, case, str(hours or 0)]
    with tempfile.TemporaryFile("w+") as err:  # progress bars and warnings; shown on failure
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        line = next((ln for ln in out.splitlines() if ln.startswith("RESULT ")), None)
        if line is None:
            err.seek(0)
            print(f"{tool} ({case}) failed:\n{err.read()[-3000:]}", file=sys.stderr)
            return {"status": f"failed (exit {proc.returncode})", "total_s": float("nan"),
                    "objective": float("nan"), "peak_mib": usage.ru_maxrss / 1024,
                    "cpu_s": float("nan")}
    result: dict[str, Any] = json.loads(line[len("RESULT "):])
    result["peak_mib"] = usage.ru_maxrss / 1024  # Linux: KiB
    result["cpu_s"] = usage.ru_utime + usage.ru_stime  # whole process, start-up included
    return result


def compile_sources() -> None:
    """Write the bytecode of greenlink's modules (an installed package's state)."""
    import compileall

    import greenlink

    compileall.compile_dir(Path(greenlink.__file__).parent, quiet=2)


def check_optimal(result: dict[str, Any]) -> None:
    check(str(result["status"]).lower() == "optimal",
          f"not solved to optimality: {result['status']}")


CASES = [
    ("1u-1h", "one site, hourly"),
    ("20u-1h", "20 users, hourly, per-user targets"),
    ("1u-15m", "one site, 15 min"),
    ("5u-15m", "5 users, 15 min, per-user targets"),
    ("example", "example park as shipped, 15 min"),
    ("example-targets", "example park, a target per user"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true",
                        help="skip the PyPSA 15-minute baseline and the relaxed example runs")
    parser.add_argument("--headline", action="store_true", help="the one-site hourly case only")
    parser.add_argument("--solver", choices=["hipo", "ipm", "simplex"], default=None,
                        help="HiGHS solver for both tools in the relaxed comparison")
    parser.add_argument("--smoke", action="store_true",
                        help=f"the headline case over {SMOKE_HOURS} hours, each tool once")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.solver:
        os.environ["GREENLINK_BENCH_SOLVER"] = args.solver  # read by the child processes
        HIGHS["solver"] = args.solver
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]) or None)
        return
    import highspy
    import pypsa

    _base_park()  # build the cached inputs outside any timing
    compile_sources()
    for case, _label in CASES:
        case_park(case, SMOKE_HOURS if args.smoke and case == "1u-1h" else None)
        if args.headline or args.smoke:
            break
    print(f"HiGHS {highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}."
          f"{highspy.HIGHS_VERSION_PATCH} / PyPSA {pypsa.__version__}; PyPSA options {HIGHS}"
          if hasattr(highspy, "HIGHS_VERSION_MAJOR") else f"PyPSA {pypsa.__version__}")
    # the headline case three times, alternating, best of three (the machine may be shared)
    hours = SMOKE_HOURS if args.smoke else None
    runs = [measure(tool, "1u-1h", hours) for _ in range(1 if args.smoke else 3)
            for tool in ("greenlink:relaxed", "pypsa")]
    for r in runs:
        check_optimal(r)
    gl = min(runs[0::2], key=lambda r: r["cpu_s"])
    ps = min(runs[1::2], key=lambda r: r["cpu_s"])
    rel = abs(gl["objective"] - ps["objective"]) / max(abs(ps["objective"]), 1e-12)
    check(rel <= OBJECTIVE_RTOL, f"objectives differ: greenlink {gl['objective']!r}, PyPSA "
          f"{ps['objective']!r} (relative {rel:.2e} > {OBJECTIVE_RTOL:g})")
    real = measure("greenlink:realizable", "1u-1h", hours)
    check_optimal(real)
    print(f"one site, hourly ({hours or 8760:,} intervals), relaxed LP (PyPSA's problem)")
    for name, r in (("greenlink", gl), ("PyPSA", ps)):
        print(f"  {name:9s} objective {r['objective']:,.2f}  total {r['total_s']:.2f} s  "
              f"CPU {r['cpu_s']:.2f} s  peak {r['peak_mib']:.0f} MiB  PV {r['pv_kw']:,.0f} kWp"
              f"  battery {r['battery_kwh']:,.0f} kWh / {r['battery_kw']:,.0f} kW "
              f"({r['status']})")
    print(f"  greenlink build {gl['build_s']:.3f} s, solve {gl['solve_s']:.2f} s "
          f"({gl['columns']:,} columns, {gl['rows']:,} rows)")
    ratio = gl["cpu_s"] / ps["cpu_s"]
    wall = gl["total_s"] / ps["total_s"]
    print(f"  CPU time ratio greenlink/PyPSA {ratio:.3f} (floor {CPU_FLOOR}) "
          f"{'OK' if ratio <= CPU_FLOOR else 'ABOVE FLOOR'}; wall-clock ratio {wall:.3f} "
          "(wall-clock times suffer on a shared machine)")
    print(f"  realizable optimum of the same park: objective {real['objective']:,.2f} "
          f"(+{100 * (real['objective'] / gl['objective'] - 1):.1f} % over the relaxed LP: what "
          f"its departures are worth), total {real['total_s']:.2f} s, CPU {real['cpu_s']:.2f} s, "
          f"{real['solves']} solves, gap {100 * real['gap']:.2f} %")
    if args.headline or args.smoke:
        print(f"ratio={ratio:.4f} objective_rel_diff={rel:.3e}")
        return
    print("scaling: total s / CPU s / peak MiB (floor: issue 13, realizable, total s)")
    print(f"  {'case':36s} {'realizable':>24s} {'relaxed LP':>24s} {'PyPSA (relaxed)':>24s}"
          f"  floor")
    for case, label in CASES:
        g = real if case == "1u-1h" else measure("greenlink:realizable", case)
        check_optimal(g)
        r_text = ""
        if case == "1u-1h":
            r = gl
        elif args.quick and case.startswith("example"):
            r = None
        else:
            r = measure("greenlink:relaxed", case)
            check_optimal(r)
        if r is not None:
            r_text = f"{r['total_s']:7.1f} /{r['cpu_s']:6.1f} /{r['peak_mib']:5.0f}"
        p_text = ""
        if case in ("1u-1h", "1u-15m") and not (args.quick and case == "1u-15m"):
            p = ps if case == "1u-1h" else measure("pypsa", case)
            check_optimal(p)
            assert r is not None
            diff = abs(r["objective"] - p["objective"]) / max(abs(p["objective"]), 1e-12)
            check(diff <= OBJECTIVE_RTOL, f"{label}: objectives differ (relative {diff:.2e})")
            p_text = f"{p['total_s']:7.1f} /{p['cpu_s']:6.1f} /{p['peak_mib']:5.0f}"
        floor = FLOORS_S.get(case)
        verdict = "" if floor is None else \
            f"{floor:4.0f} s {'OK' if g['total_s'] <= floor else 'ABOVE'}"
        print(f"  {label:36s} {g['total_s']:7.1f} /{g['cpu_s']:6.1f} /{g['peak_mib']:5.0f}"
              f" {r_text:>24s} {p_text:>24s}  {verdict}  (gap {100 * g['gap']:.2f} %, "
              f"{g['solves']} solves)")
    print(f"ratio={ratio:.4f} objective_rel_diff={rel:.3e}")


if __name__ == "__main__":
    main()
