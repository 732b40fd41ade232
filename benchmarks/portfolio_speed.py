"""Portfolio speed on Dask: park-years simulated and checked on 1 and 2 workers, and risk years.

Run: ``.venv/bin/python benchmarks/portfolio_speed.py [--smoke]`` (or ``make bench``).

Work: variants of the example park (15-minute intervals; PV scaled 0.6–1.4×, battery 0–2×,
load 0.85–1.15×), each one park-year dispatched and checked against every rule of its rule set
(the example's inputs are built once and shared with the workers, as the portfolio and sweep
workflows do). Timed three ways after start-up and a warm-up task per process:

* a plain loop in this process (the baseline);
* a local Dask cluster with 1 worker process (one thread);
* a local Dask cluster with 2 worker processes.

Figures: throughput per worker (park-years per second); scaling efficiency
``t(1 worker) / (2 · t(2 workers))`` (floor 0.8); overhead at 1 worker
``t(1 worker) / t(loop) − 1`` (floor 0.15). As a baseline for the efficiency, the same work is
also split between two plain processes started together (no Dask): ``machine_efficiency`` is
what the machine's free cores allow at that moment. Then ``greenlink risk``'s years: 500 synthetic
years of the example through :func:`greenlink.workflows.risk.run_risk` on a local cluster of 2
workers, wall time including the cluster's start (floor 60 s).

On a shared machine (the development machine has 2 cores shared with other jobs) the 2-worker
figure is bounded by the cores that are free; the script prints the machine's load average
with the timings. The floors are reported, not enforced: the exit status is 1 only when a
correctness check fails (the three ways must give the same verdicts and shares for every
variant; energy must balance).

``--smoke``: 20 park-years and 6 risk years in this process (instead of 1,000 and 500).
Last line: ``park_years_per_s=<2 workers> per_worker_1=<…> per_worker_2=<…> efficiency=<…>
machine_efficiency=<…> overhead=<…> risk_years=<n> risk_s=<…>``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from greenlink import flows
from greenlink.dispatch.simulate import simulate
from greenlink.flows.validate import balance_error_kwh
from greenlink.inputs import ParkInputs, build_inputs
from greenlink.policy.applicable import scenario_check_date, scenario_ruleset
from greenlink.policy.evaluate import evaluate
from greenlink.results import structural_kpis
from greenlink.scenario.load import load_scenario

EXAMPLE = Path(__file__).resolve().parents[1] / "src/greenlink/examples/jiangsu_park/park.toml"
BATCH = 10  # park-years per Dask task


def check(ok: bool, what: str) -> None:
    if not ok:
        print(f"CHECK FAILED: {what}", file=sys.stderr)
        raise SystemExit(1)


@dataclasses.dataclass(frozen=True)
class Base:
    inputs: ParkInputs
    rules: Any
    check_date: Any
    structural: dict[str, Any]


def make_base() -> Base:
    inputs = build_inputs(load_scenario(EXAMPLE))
    rules = scenario_ruleset(inputs.scenario, inputs.source, None, None)
    return Base(inputs, rules, scenario_check_date(inputs.scenario, inputs.index[-1].date(),
                                                   rules), structural_kpis(inputs))


def variants(n: int) -> list[tuple[float, float, float]]:
    rng = np.random.default_rng(16)
    return [(float(rng.uniform(0.6, 1.4)), float(rng.choice([0.0, 0.5, 1.0, 1.5, 2.0])),
             float(rng.uniform(0.85, 1.15))) for _ in range(n)]


def park_year(base: Base, variant: tuple[float, float, float]) -> tuple[bool, float, float]:
    """One variant's year: dispatch, check every rule; (all passed, green share, balance gap)."""
    pv, battery, load = variant
    sc = base.inputs.scenario
    bats = [b.model_copy(update={"energy_kwh": b.energy_kwh * battery,
                                 "power_kw": b.power_kw * battery})
            for b in sc.batteries] if battery > 0 else []
    inputs = dataclasses.replace(
        base.inputs, scenario=sc.model_copy(update={"batteries": bats}),
        load_kwh=base.inputs.load_kwh * load,
        generation_kwh={k: v * pv for k, v in base.inputs.generation_kwh.items()})
    table = simulate(inputs)
    report = evaluate(base.rules, table, sc.user_ids, base.structural,
                      check_date=base.check_date, timezone=sc.site.timezone)
    gap = float(np.abs(balance_error_kwh(table)).max())
    green = float(table[flows.GREEN_TO_LOAD_KWH].sum() / table[flows.LOAD_KWH].sum())
    return bool(report.all_passed), green, gap


def batch(base: Base, items: list[tuple[float, float, float]]) -> list[tuple[bool, float, float]]:
    return [park_year(base, v) for v in items]


class Cluster:
    """A warm local cluster (the workers have imported everything and dispatched once)."""

    def __init__(self, base: Base, workers: int, warm_item: tuple[float, float, float]) -> None:
        from distributed import Client, wait

        from greenlink.workflows.cluster import local_cluster

        self.cluster = local_cluster(workers)
        self.client = Client(self.cluster)
        self.shared = self.client.scatter(base, broadcast=True)
        wait([self.client.submit(batch, self.shared, [warm_item], pure=False, workers=[w])
              for w in self.client.scheduler_info()["workers"]])

    def run(self, chunks: list[list[tuple[float, float, float]]]
            ) -> tuple[float, list[tuple[bool, float, float]]]:
        t = time.perf_counter()
        futures = [self.client.submit(batch, self.shared, c, pure=False) for c in chunks]
        results = self.client.gather(futures)
        return time.perf_counter() - t, [r for part in results for r in part]


def _half(barrier: Any, queue: Any, base: Base, n: int, part: int) -> None:
    """One of two plain processes for the machine's own baseline: the same work, no Dask."""
    items = variants(n)
    park_year(base, items[0])
    barrier.wait()
    t = time.perf_counter()
    batch(base, items[part::2])
    queue.put(time.perf_counter() - t)


def machine_scaling(base: Base, n: int, t_loop: float) -> float:
    """Efficiency of two plain processes splitting the work, started together, against the
    loop: what the machine's free cores allow, without Dask."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_half, args=(barrier, queue, base, n, k)) for k in (0, 1)]
    for p in procs:
        p.start()
    times = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    return t_loop / (2 * max(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="20 park-years, 6 risk years")
    parser.add_argument("--park-years", type=int, default=None)
    parser.add_argument("--risk-years", type=int, default=None)
    opts = parser.parse_args()
    n = opts.park_years or (20 if opts.smoke else 1000)
    n_risk = opts.risk_years or (6 if opts.smoke else 500)

    t = time.perf_counter()
    base = make_base()
    items = variants(n)
    park_year(base, items[0])  # numba, caches
    print(f"start-up (inputs of the example, first dispatch): {time.perf_counter() - t:.1f} s")

    rounds = 1 if opts.smoke else 5
    per_round = [items[r::rounds] for r in range(rounds)]
    load_avg = os.getloadavg()
    one, two = Cluster(base, 1, items[0]), Cluster(base, 2, items[0])
    times: dict[str, list[float]] = {"loop": [], "1": [], "2": []}
    try:
        for work in per_round:  # interleaved, so that a change of the machine's load hits all
            t = time.perf_counter()
            loop = batch(base, work)
            times["loop"].append(time.perf_counter() - t)
            for i, (_passed, green, gap) in enumerate(loop):
                check(gap < 1e-6, f"variant {i}: the energy balance is off by {gap} kWh")
                check(0 <= green <= 1, f"variant {i}: green share {green}")
            chunks = [work[i:i + BATCH] for i in range(0, len(work), BATCH)]
            for name, cluster in (("1", one), ("2", two)):
                seconds, got = cluster.run(chunks)
                times[name].append(seconds)
                check(len(got) == len(work) and all(
                    a[0] == b[0] and abs(a[1] - b[1]) < 1e-12
                    for a, b in zip(got, loop, strict=True)),
                    f"{name} worker(s): verdicts or shares differ from the plain loop")
    finally:
        for cluster in (one, two):
            cluster.client.close()
        for cluster in (one, two):
            cluster.cluster.close()
    t_loop, t1, t2 = (sum(times[k]) for k in ("loop", "1", "2"))
    efficiencies = [a / (2 * b) for a, b in zip(times["1"], times["2"], strict=True)]
    overheads = [a / b - 1 for a, b in zip(times["1"], times["loop"], strict=True)]
    per1, per2 = n / t1, n / t2 / 2
    efficiency = float(np.median(efficiencies))
    overhead = float(np.median(overheads))
    machine = machine_scaling(base, n, t_loop)
    print(f"load average before the clusters: {load_avg[0]:.2f} {load_avg[1]:.2f} "
          f"{load_avg[2]:.2f} on {os.cpu_count()} cores; {rounds} interleaved rounds")
    print(f"{n} park-years: loop {t_loop:.1f} s ({n / t_loop:.1f}/s); 1 worker {t1:.1f} s "
          f"({per1:.1f}/s); 2 workers {t2:.1f} s ({n / t2:.1f}/s, {per2:.1f}/s per worker)")
    print(f"scaling efficiency 2 vs 1 workers: median {efficiency:.2f} (rounds "
          f"{min(efficiencies):.2f}–{max(efficiencies):.2f}; floor 0.8: "
          f"{'met' if efficiency >= 0.8 else 'MISSED'}); two plain processes without Dask on "
          f"this machine now: {machine:.2f}")
    print(f"overhead at 1 worker vs the loop: median {overhead:+.1%} (rounds "
          f"{min(overheads):+.1%}–{max(overheads):+.1%}; floor 15 %: "
          f"{'met' if overhead <= 0.15 else 'MISSED'})")

    from greenlink.workflows.risk import run_risk

    t = time.perf_counter()
    risk = run_risk(EXAMPLE, years=n_risk, seed=1, scheduler="local" if opts.smoke else None,
                    workers=2)
    t_risk = time.perf_counter() - t
    check(len(risk.years) == n_risk and bool((risk.years["error"] == "").all()),
          "risk: a year failed to run")
    check(len(set(np.round(risk.years["ghi_kwh_m2"], 6))) == n_risk,
          "risk: two synthetic years are identical")
    where = "in this process" if opts.smoke else "local cluster, 2 workers, start included"
    print(f"greenlink risk, {n_risk} synthetic years ({where}): {t_risk:.1f} s "
          f"(floor 60 s for 500: {'met' if n_risk < 500 or t_risk <= 60 else 'MISSED'})")
    print(f"park_years_per_s={n / t2:.3f} per_worker_1={per1:.3f} per_worker_2={per2:.3f} "
          f"efficiency={efficiency:.3f} machine_efficiency={machine:.3f} "
          f"overhead={overhead:.3f} risk_years={n_risk} "
          f"risk_s={t_risk:.2f}")


if __name__ == "__main__":
    main()
