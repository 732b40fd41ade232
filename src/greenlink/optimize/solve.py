"""The optimisation stage: optimiser inputs → LP (HiGHS) → sizes, optimal dispatch as a flows
table, costs, rule shadow prices and diagnosis.

Realizable dispatch (the default, docs/optimize.md) in two solves:

1. **sizing** — the LP with the realizable dispatch relaxed to its convex hull per interval
   (:mod:`greenlink.optimize.regimes`), on clock hours when the scenario's intervals are shorter
   (a relaxation of the fine problem). Its optimum is a *lower bound* of the least cost; its
   generation sizes are kept. Skipped where no generation is sized.
2. **dispatch** — the LP at the scenario's resolution with the generation fixed: green serves
   the loads first, only what is left over is stored or exported, batteries are sized. Every
   solution is realizable; its cost is an *upper bound*, and the gap between the two bounds is
   reported (``method.gap``).

``dispatch = "relaxed"`` solves the plain LP once and reports where its dispatch departs from the
rules and what the realizable dispatch at its sizes costs more.

:func:`solve_inputs` builds and solves; the optimise workflow (:mod:`greenlink.workflows.optimise`)
adds the policy check, the re-simulation, the summary and the files.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from greenlink.errors import GreenlinkError
from greenlink.inputs import ParkInputs
from greenlink.optimize.binding import what_binds
from greenlink.optimize.constraints import DISPATCH, RELAXED, SIZING, Variables
from greenlink.optimize.infeasibility import Relaxation, explain
from greenlink.optimize.inputs import OptimizationInputs, optimization_inputs
from greenlink.optimize.lp import ProgressCallback, Solution, solve
from greenlink.optimize.model import build_model
from greenlink.optimize.realizability import Departures, allocation_departure, departures
from greenlink.optimize.regimes import hourly, regimes
from greenlink.optimize.results import (
    Sizes,
    cost_breakdown,
    levelised_green_cost,
    monthly_costs,
    optimized_flows,
    penalties_of,
    requirement_table,
    sizes_of,
)

Say = Callable[[str], None]


@dataclass(frozen=True)
class StageRecord:
    """One LP solved on the way: what, how big, how long, its objective."""

    name: str
    columns: int
    rows: int
    build_seconds: float
    solve_seconds: float
    iterations: int
    objective: float
    status: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "columns": self.columns, "rows": self.rows,
                "build_seconds": self.build_seconds, "solve_seconds": self.solve_seconds,
                "iterations": self.iterations, "objective": self.objective,
                "status": self.status}


@dataclass(frozen=True)
class LpResult:
    """Sizes, the optimal dispatch (inputs at the chosen sizes and their flows table), costs,
    rule shadow prices, what binds, and how the optimum was found."""

    inputs: OptimizationInputs
    variables: Variables
    solution: Solution
    sizes: Sizes
    sized: ParkInputs
    flows: pd.DataFrame
    costs: dict[str, float]
    lcoe_green_per_kwh: float
    requirements: list[dict[str, Any]]
    relaxations: list[Relaxation]
    build_seconds: float
    stages: tuple[StageRecord, ...] = ()
    lower_bound: float | None = None
    departures: Departures | None = None
    realizable_cost: float | None = None
    binding: list[dict[str, Any]] = field(default_factory=list)
    monthly: list[dict[str, Any]] = field(default_factory=list)
    avoidable_misses: tuple[str, ...] = ()
    allocation_departure: dict[str, Any] | None = None

    @property
    def feasible(self) -> bool:
        """Every rule, target and the import limit hold (no elastic slack used)."""
        return self.solution.optimal and not self.relaxations

    @property
    def gap(self) -> float | None:
        """Relative gap between the cost found and the lower bound (``None``: exact)."""
        if self.lower_bound is None:
            return None
        total = self.costs["total"]
        return max(total - self.lower_bound, 0.0) / max(abs(total), 1e-12)

    def method_dict(self) -> dict[str, Any]:
        oi = self.inputs
        out: dict[str, Any] = {
            "dispatch": oi.dispatch,
            "lower_bound": self.lower_bound, "gap": self.gap,
            "gap_tolerance": oi.gap_tolerance,
            "stages": [s.to_dict() for s in self.stages],
        }
        if self.departures is not None:
            out["departures"] = self.departures.to_dict()
        if self.allocation_departure is not None:
            out["allocation_departure"] = self.allocation_departure
        if self.realizable_cost is not None:
            out["realizable_cost_at_these_sizes"] = self.realizable_cost
            out["worth_of_departures"] = self.realizable_cost - self.costs["total"]
        return out

    def to_dict(self) -> dict[str, Any]:
        """The ``optimization`` section of summary.json and optimization.json."""
        oi = self.inputs
        return {
            "status": self.solution.status,
            "feasible": self.feasible,
            "objective": self.costs["total"],
            "currency": oi.park.scenario.tariff.currency,
            "period_fraction_of_year": oi.period_fraction,
            "sizes": self.sizes.to_dict(),
            "cost_breakdown": self.costs,
            "monthly_costs": self.monthly,
            "lcoe_green_per_kwh": self.lcoe_green_per_kwh,
            "requirements": self.requirements,
            "binding": self.binding,
            "relaxations_needed": [r.to_dict() for r in self.relaxations],
            "rule_notes": list(oi.structural_notes),
            "cost_parameters": oi.costs.raw,
            "direct_line_fees": oi.fees.to_dict(),
            "demand_charge_per_kw_month": oi.demand_charge_per_kw_month,
            "users_modelled_separately": oi.per_user,
            "method": self.method_dict(),
            "solver": {"name": "HiGHS", "build_seconds": self.build_seconds,
                       "solve_seconds": sum(s.solve_seconds for s in self.stages),
                       "columns": len(self.solution.x),
                       "rows": len(self.solution.row_dual)},
        }


#: HiGHS's solver per mode. Where the generation sizes are free they sit in every interval's
#: rows (dense columns) and the interior point method is fastest (example park, hourly sizing,
#: CPU seconds on a shared 2-core machine: 6.8 against 10.5 by dual simplex); with them fixed
#: (dispatch, or a sizing box shrunk to a point) the dual simplex wins (15-minute dispatch 3.4
#: against 6.9, where the interior point method stalls) and ends at a vertex.
SOLVER = {RELAXED: "ipm", SIZING: "ipm", DISPATCH: "simplex"}


def _run(name: str, build: Callable[[], tuple[Any, Variables]], *, threads: int,
         crossover: bool, progress: ProgressCallback | None
         ) -> tuple[Variables, Solution, StageRecord]:
    start = time.perf_counter()
    lp, v = build()
    built = time.perf_counter() - start
    fixed = v.mode == SIZING and bool(np.all(lp.upper_bounds(v.pv_kw) - lp.lower_bounds(
        v.pv_kw) <= 1e-9)) and bool(np.all(lp.upper_bounds(v.wind_kw) - lp.lower_bounds(
            v.wind_kw) <= 1e-9))
    sol = solve(lp, threads=threads, crossover=crossover, progress=progress, stage=name,
                solver="simplex" if fixed else SOLVER[v.mode])
    if not sol.optimal:
        raise GreenlinkError(f"HiGHS stopped with status {sol.status!r} in the {name} solve; the "
                             "elastic model should always be feasible, so this is a numerical "
                             "problem: check for very large or very small costs and bounds")
    return v, sol, StageRecord(name, lp.n_cols, lp.n_rows, built, sol.solve_seconds,
                               sol.iterations, sol.objective, sol.status)


def _generation_sizes(oi: OptimizationInputs, v: Variables, sol: Solution) -> Sizes:
    sizes = sizes_of(oi, v, sol)
    # keep the sizes inside their bounds (interior-point values may stray by the tolerance)
    pv = {p: float(np.clip(sizes.pv_kw_dc[p], lo, hi)) for p, lo, hi in
          zip(oi.pv_ids, oi.pv_min_kw, oi.pv_max_kw, strict=True)}
    wind = {w: float(np.clip(sizes.wind_kw[w], lo, hi)) for w, lo, hi in
            zip(oi.wind_ids, oi.wind_min_kw, oi.wind_max_kw, strict=True)}
    return replace(sizes, pv_kw_dc=pv, wind_kw=wind)


def _finish(oi: OptimizationInputs, v: Variables, sol: Solution, sizes: Sizes,
            stages: list[StageRecord], **extra: Any) -> LpResult:
    sizing = extra.pop("sizing", None)
    slopes = extra.pop("slopes", None)
    sized, table = optimized_flows(oi, v, sol, sizes)
    costs = cost_breakdown(oi, table, sizes, penalties_of(oi, v, sol))
    requirements = requirement_table(oi, v, sol, sizing)
    result = LpResult(
        inputs=oi, variables=v, solution=sol, sizes=sizes, sized=sized, flows=table,
        costs=costs, lcoe_green_per_kwh=levelised_green_cost(costs, table),
        requirements=requirements, relaxations=explain(oi, v, sol),
        build_seconds=sum(s.build_seconds for s in stages), stages=tuple(stages),
        monthly=monthly_costs(oi, table), **extra)
    if v.user_discharge is not None and "allocation_departure" not in extra:
        direct = np.minimum(_values(sol, v.direct) + v.direct_const, oi.load_kwh)
        result = replace(result, allocation_departure=allocation_departure(
            oi, direct, _values(sol, v.user_discharge)))
    misses = ()
    if sizing is not None:
        _soi, sv, ssol = sizing
        misses = tuple(rec["id"] for i, rec in enumerate(requirements)
                       if not rec["met"] and float(ssol.x[sv.slack[i]]) <= 1e-6)
    return replace(result, binding=what_binds(oi, v, sol, requirements,
                                              extra_sizing=slopes or sizing),
                   avoidable_misses=misses)


def _values(sol: Solution, cols: np.ndarray) -> np.ndarray:
    out = np.zeros(cols.shape)
    has = cols >= 0
    out[has] = np.maximum(sol.x[cols[has]], 0.0)
    return out


def _sizing(oi: OptimizationInputs, name: str, threads: int,
            progress: ProgressCallback | None
            ) -> tuple[Variables, Solution, StageRecord, OptimizationInputs]:
    """The hull relaxation of the realizable problem over ``oi``'s size bounds, on clock hours
    where the intervals are shorter (a relaxation of the fine problem)."""
    if oi.dt_h < 1.0 - 1e-9:
        coarse, reg = hourly(oi)
        name = f"{name} (hourly relaxation)"
    else:
        coarse, reg = oi, regimes(oi)
        name = f"{name} (relaxation)"
    v, sol, rec = _run(name, lambda: build_model(coarse, SIZING, reg=reg), threads=threads,
                       crossover=True, progress=progress)
    return v, sol, rec, coarse


def _bounds(oi: OptimizationInputs) -> tuple[np.ndarray, np.ndarray]:
    return (np.concatenate([oi.pv_min_kw, oi.wind_min_kw]).astype(float),
            np.concatenate([oi.pv_max_kw, oi.wind_max_kw]).astype(float))


def _in_box(oi: OptimizationInputs, lo: np.ndarray, hi: np.ndarray) -> OptimizationInputs:
    n_pv = len(oi.pv_ids)
    return replace(oi, pv_min_kw=lo[:n_pv], pv_max_kw=hi[:n_pv], wind_min_kw=lo[n_pv:],
                   wind_max_kw=hi[n_pv:])


@dataclass(order=True)
class _Node:
    """A box of generation sizes with its relaxation's optimum (a lower bound in the box)."""

    bound: float
    number: int
    lo: np.ndarray = field(compare=False)
    hi: np.ndarray = field(compare=False)
    sizes: Sizes = field(compare=False)
    sizing: tuple[OptimizationInputs, Variables, Solution] = field(compare=False)


#: Budget of the search over generation sizes (see :func:`_search`).
MAX_NODES = 40
TIME_LIMIT_S = 600.0


@dataclass
class _Candidate:
    """Generation sizes with the least cost of their realizable dispatch on the search's time
    base; ``point`` is that solve (its reduced costs are the cost's slopes in the sizes) and
    ``node`` the sizing solve of the box that proposed them."""

    cost: float
    misses: bool
    x: np.ndarray
    sizes: Sizes
    point: tuple[OptimizationInputs, Variables, Solution]
    node: tuple[OptimizationInputs, Variables, Solution]

    def rank(self) -> tuple[bool, float]:
        # a rule the sizes could meet (the box's relaxation met it) but the dispatch misses is
        # worse than any cost: the search goes on for sizes that meet it
        return (self.misses, self.cost)


#: Steps of the local descent from each candidate (see :func:`_search`).
DESCENT_STEPS = 4


def _search(oi: OptimizationInputs, threads: int, progress: ProgressCallback | None,
            tell: Say) -> LpResult:
    """Spatial branch and bound over the generation sizes (the realizable least cost is not
    convex in them, only in everything else), then the dispatch at the scenario's resolution.

    Each node is a box of generation sizes; its *sizing* solve (the per-interval hull over the
    box) bounds the least cost in the box from below and proposes sizes. Their realizable
    dispatch (batteries still sized; the generation sizes fixed, so its reduced costs are the
    slopes of the least cost in them) is a candidate, improved by a few steps of projected
    descent along those slopes. The box with the lowest bound is taken next and split at its
    sizes, along the size whose range weighs most. Boxes whose bound cannot beat the best
    candidate by the gap tolerance are dropped. The search stops when the best candidate is
    proven within ``gap_tolerance`` of the least cost, or after :data:`MAX_NODES` boxes or
    :data:`TIME_LIMIT_S` seconds. As boxes shrink the hull becomes exact, so the bound closes in
    on the least cost.

    With intervals shorter than an hour the search runs on clock hours (bounds and candidates
    alike, :func:`greenlink.optimize.regimes.hourly`, at a tenth of the cost); the best sizes
    are then dispatched at the scenario's resolution and the gap reported compares that dispatch
    with the hourly bound, a valid lower bound of the fine problem.
    """
    start = time.perf_counter()
    tol = oi.gap_tolerance
    stages: list[StageRecord] = []
    lo0, hi0 = _bounds(oi)
    span = np.maximum(hi0 - lo0, 1e-12)
    n_t = oi.n_intervals
    prof = np.vstack([oi.pv_kwh_per_kw.reshape(len(oi.pv_ids), n_t),
                      oi.wind_kwh_per_kw.reshape(len(oi.wind_ids), n_t)])
    weight = prof.sum(axis=1)
    names = list(oi.pv_ids) + list(oi.wind_ids)
    count = [0]

    def node(lo: np.ndarray, hi: np.ndarray, label: str) -> _Node:
        box = _in_box(oi, lo, hi)
        v1, sol1, rec1, coarse = _sizing(box, label, threads, progress)
        stages.append(rec1)
        count[0] += 1
        sizes = _generation_sizes(coarse, v1, sol1)
        shown = _in_box(coarse, lo0, hi0)  # what binds compares with the scenario's bounds
        return _Node(rec1.objective, count[0], lo, hi, sizes, (shown, v1, sol1))

    tried: dict[tuple[float, ...], _Candidate] = {}

    def point(x: np.ndarray, n: _Node) -> _Candidate:
        key = tuple(np.round(x, 6))
        if key in tried:
            return tried[key]
        _soi, sv, ssol = n.sizing
        met_there = [float(ssol.x[sv.slack[i]]) <= 1e-6 for i in range(len(oi.requirements))]
        v, sol, rec, coarse = _sizing(_in_box(oi, x, x), "dispatch at these sizes", threads,
                                      progress)
        stages.append(rec)
        misses = any(m and float(sol.x[v.slack[i]]) > 1e-6 for i, m in enumerate(met_there))
        sizes = _generation_sizes(coarse, v, sol)
        found = _Candidate(rec.objective, misses, x.copy(), sizes,
                           (_in_box(coarse, lo0, hi0), v, sol), n.sizing)
        tried[key] = found
        return found

    def descend(c: _Candidate, n: _Node) -> _Candidate:
        """Projected descent along the cost's slopes in the sizes, with a step halved until
        the cost falls."""
        for _ in range(DESCENT_STEPS):
            _poi, pv_, psol = c.point
            slope = np.concatenate([psol.col_dual[pv_.pv_kw], psol.col_dual[pv_.wind_kw]])
            step = -slope * span ** 2
            step[(c.x <= lo0 + 1e-9) & (step < 0)] = 0.0
            step[(c.x >= hi0 - 1e-9) & (step > 0)] = 0.0
            if not np.any(np.abs(step) > 0) or np.all(np.abs(slope * span) < 1e-6 * abs(c.cost)):
                return c
            room = np.where(step > 0, (hi0 - c.x) / np.where(step > 0, step, 1.0),
                            np.where(step < 0, (lo0 - c.x) / np.where(step < 0, step, 1.0),
                                     np.inf))
            t = float(np.max(room[np.isfinite(room)]))
            better = None
            for frac in (1.0, 0.5, 0.25):
                y = np.clip(c.x + frac * t * step, lo0, hi0)
                if np.allclose(y, c.x, rtol=0, atol=1e-6 * span.max()):
                    break
                trial = point(y, n)
                if trial.rank() < c.rank():
                    better = trial
                    break
            if better is None:
                return c
            c = better
        return c

    tell("sizing: the generation sizes under the hull of every interval")
    open_nodes = [node(lo0, hi0, "sizing")]
    closed_bounds: list[float] = []
    best: _Candidate | None = None
    while open_nodes:
        current = heapq.heappop(open_nodes)
        upper = best.cost if best is not None and not best.misses else np.inf
        if current.bound >= upper - tol * abs(upper):
            closed_bounds.append(current.bound)
            continue
        x = np.concatenate([current.sizes.pv_array(oi), current.sizes.wind_array(oi)])
        if tuple(np.round(x, 6)) not in tried:
            tell("dispatching at these generation sizes, batteries sized")
            found = descend(point(x, current), current)
            if best is None or found.rank() < best.rank():
                best = found
            upper = best.cost if not best.misses else np.inf
        lower = min([current.bound] + [n.bound for n in open_nodes] + closed_bounds)
        gap = (upper - lower) / max(abs(upper), 1e-12) if np.isfinite(upper) else np.inf
        out_of_budget = count[0] + 2 > MAX_NODES or time.perf_counter() - start > TIME_LIMIT_S
        width = current.hi - current.lo
        splittable = (width > 1e-3 * np.maximum(span, 1.0)) & (width > 1e-3)
        if gap <= tol or out_of_budget or not splittable.any():
            closed_bounds.append(current.bound)
            if gap <= tol or out_of_budget:
                break
            continue
        inside = (x > current.lo + 1e-6 * width) & (x < current.hi - 1e-6 * width)
        score = weight * width * np.where(inside, 1.0, 0.05)
        k = int(np.argmax(np.where(splittable, score, -1.0)))
        cut = x[k] if current.lo[k] + 0.05 * width[k] < x[k] < current.hi[k] - 0.05 * width[k] \
            else current.lo[k] + width[k] / 2
        tell(f"gap {100 * gap:.2f} %: splitting the range of {names[k]} at {cut:,.0f}")
        for lo, hi in ((current.lo, np.where(np.arange(len(x)) == k, cut, current.hi)),
                       (np.where(np.arange(len(x)) == k, cut, current.lo), current.hi)):
            heapq.heappush(open_nodes, node(lo.copy(), hi.copy(), f"sizing, box {count[0]}"))
    assert best is not None
    tell("dispatching every interval at the chosen generation sizes, batteries sized")
    result = _dispatch_at(oi, best.sizes, best.node, threads, progress, stages,
                          slopes=best.point)
    upper = result.costs["total"]
    lower = min([n.bound for n in open_nodes] + closed_bounds + [upper])
    return replace(result, stages=tuple(stages), lower_bound=lower)


def _dispatch_at(oi: OptimizationInputs, gen: Sizes,
                 sizing: tuple[OptimizationInputs, Variables, Solution] | None, threads: int,
                 progress: ProgressCallback | None, stages: list[StageRecord],
                 slopes: tuple[OptimizationInputs, Variables, Solution] | None = None
                 ) -> LpResult:
    v, sol, rec = _run("dispatch", lambda: build_model(
        oi, DISPATCH, pv_kw=gen.pv_array(oi), wind_kw=gen.wind_array(oi)),
        threads=threads, crossover=True, progress=progress)
    stages.append(rec)
    sizes = sizes_of(oi, v, sol, generation=gen)
    return _finish(oi, v, sol, sizes, list(stages), sizing=sizing, slopes=slopes)


def solve_inputs(oi: OptimizationInputs, *, threads: int = 1,
                 progress: ProgressCallback | None = None, say: Say | None = None) -> LpResult:
    """Build and solve; the sizes, dispatch and costs at the optimum (see the module text)."""
    tell = say or (lambda _m: None)
    if oi.dispatch == "relaxed":
        tell("solving the LP (relaxed dispatch)")
        v, sol, rec = _run("relaxed", lambda: build_model(oi, RELAXED), threads=threads,
                           crossover=True, progress=progress)
        sizes = sizes_of(oi, v, sol)
        relaxed_stages = [rec]
        dep = departures(oi, *optimized_flows(oi, v, sol, sizes))
        realizable = None
        if dep.any:
            tell("pricing a realizable dispatch at the same sizes")
            _v2, _sol2, rec2 = _run("realizable dispatch at these sizes", lambda: build_model(
                oi, DISPATCH, pv_kw=sizes.pv_array(oi), wind_kw=sizes.wind_array(oi)),
                threads=threads, crossover=False, progress=progress)
            relaxed_stages.append(rec2)
            realizable = rec2.objective
        return _finish(oi, v, sol, sizes, relaxed_stages, departures=dep,
                       realizable_cost=realizable)

    if oi.sized_generation:
        return _search(oi, threads, progress, tell)
    tell("dispatching every interval, batteries sized")
    gen = Sizes(pv_kw_dc=dict(zip(oi.pv_ids, map(float, oi.pv_min_kw), strict=True)),
                wind_kw=dict(zip(oi.wind_ids, map(float, oi.wind_min_kw), strict=True)),
                battery_kwh=0.0, battery_kw=0.0, batteries={})
    stages: list[StageRecord] = []
    found = _dispatch_at(oi, gen, None, threads, progress, stages)
    return replace(found, stages=tuple(stages))


def optimize_park(park: ParkInputs, ruleset: str | None = None, threads: int = 1,
                  progress: ProgressCallback | None = None, say: Say | None = None) -> LpResult:
    """Optimise sizes and dispatch of already built inputs."""
    return solve_inputs(optimization_inputs(park, ruleset), threads=threads, progress=progress,
                        say=say)
