"""The optimisation chain: scenario → inputs → LP (HiGHS) → sized flows, summary, policy check.

:func:`optimize_scenario` is what ``greenlink optimize`` runs; :func:`write_optimization` writes
the same files as ``simulate`` (flows, summary.json with an ``optimization`` section, report.html)
plus ``optimization.json``. :func:`resimulate` re-runs the rule-based simulation at the chosen
sizes, to confirm that the rules hold without the optimiser's dispatch.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from greenlink.inputs import ParkInputs, build_inputs
from greenlink.optimize.constraints import Variables
from greenlink.optimize.infeasibility import Relaxation, explain
from greenlink.optimize.inputs import OptimizationInputs, optimization_inputs
from greenlink.optimize.lp import Solution, solve
from greenlink.optimize.model import build_model
from greenlink.optimize.results import (
    Sizes,
    cost_breakdown,
    levelised_green_cost,
    optimized_flows,
    requirement_table,
    sizes_of,
)
from greenlink.pipeline import RunResult, evaluate_policy, product_table, write_outputs
from greenlink.results import summarise
from greenlink.scenario.load import LoadedScenario, load_scenario

Progress = Callable[[str], None]


@dataclass(frozen=True)
class OptimizationResult:
    """Sizes, the optimal dispatch as a simulation run, costs, rule shadow prices, diagnosis."""

    inputs: OptimizationInputs
    variables: Variables
    solution: Solution
    sizes: Sizes
    run: RunResult
    costs: dict[str, float]
    lcoe_green_per_kwh: float
    requirements: list[dict[str, Any]]
    relaxations: list[Relaxation]
    build_seconds: float

    @property
    def feasible(self) -> bool:
        """Every rule, target and the import limit hold (no elastic slack used)."""
        return self.solution.optimal and not self.relaxations

    def to_dict(self) -> dict[str, Any]:
        oi = self.inputs
        return {
            "status": self.solution.status,
            "feasible": self.feasible,
            "objective": self.costs["total"],
            "currency": oi.park.scenario.tariff.currency,
            "period_fraction_of_year": oi.period_fraction,
            "sizes": self.sizes.to_dict(),
            "cost_breakdown": self.costs,
            "lcoe_green_per_kwh": self.lcoe_green_per_kwh,
            "requirements": self.requirements,
            "relaxations_needed": [r.to_dict() for r in self.relaxations],
            "rule_notes": list(oi.structural_notes),
            "cost_parameters": oi.costs.raw,
            "direct_line_fees": oi.fees.to_dict(),
            "users_modelled_separately": oi.per_user,
            "solver": {"name": "HiGHS", "build_seconds": self.build_seconds,
                       "solve_seconds": self.solution.solve_seconds,
                       "columns": len(self.solution.x),
                       "rows": len(self.solution.row_dual)},
        }


def solve_inputs(oi: OptimizationInputs, *, threads: int = 1, ruleset: str | None = None
                 ) -> OptimizationResult:
    """Build and solve the LP, then assemble flows, summary and policy check at the optimum."""
    start = time.perf_counter()
    lp, v = build_model(oi)
    build_s = time.perf_counter() - start
    sol = solve(lp, threads=threads)
    if not sol.optimal:
        from greenlink.errors import GreenlinkError

        raise GreenlinkError(f"HiGHS stopped with status {sol.status!r}; the elastic model "
                             "should always be feasible, so this is a numerical problem: "
                             "check for very large or very small costs and bounds")
    sizes = sizes_of(oi, v, sol)
    sized, flows = optimized_flows(oi, v, sol, sizes)
    summary = summarise(sized, flows)
    policy = evaluate_policy(sized, flows, ruleset)
    summary["policy"] = policy.to_dict()
    products = product_table(sized, summary) if sized.scenario.products else None
    summary["products"] = json.loads(products.to_json(orient="records")) \
        if products is not None and len(products) else []
    costs = cost_breakdown(oi, v, sol, flows, sizes)
    result = OptimizationResult(
        inputs=oi, variables=v, solution=sol, sizes=sizes,
        run=RunResult(inputs=sized, flows=flows, summary=summary, policy=policy), costs=costs,
        lcoe_green_per_kwh=levelised_green_cost(costs, flows),
        requirements=requirement_table(oi, v, sol), relaxations=explain(oi, v, sol),
        build_seconds=build_s)
    summary["optimization"] = result.to_dict()
    return result


def optimize_park(park: ParkInputs, ruleset: str | None = None, threads: int = 1
                  ) -> OptimizationResult:
    """Optimise sizes and dispatch of already built inputs."""
    return solve_inputs(optimization_inputs(park, ruleset), threads=threads, ruleset=ruleset)


def optimize_scenario(source: str | Path | LoadedScenario, progress: Progress | None = None,
                      ruleset: str | None = None, threads: int = 1) -> OptimizationResult:
    """Load a scenario, model its plants, and optimise (nothing is written)."""
    say = progress or (lambda _m: None)
    loaded = source if isinstance(source, LoadedScenario) else load_scenario(source)
    park = build_inputs(loaded, progress=say)
    say("building and solving the LP (HiGHS)")
    return optimize_park(park, ruleset, threads)


def resimulate(result: OptimizationResult, ruleset: str | None = None) -> RunResult:
    """Simulate the chosen sizes with the rule-based dispatch and check the rules again."""
    from greenlink.dispatch.simulate import simulate

    sized = result.run.inputs
    flows = simulate(sized)
    summary = summarise(sized, flows)
    policy = evaluate_policy(sized, flows, ruleset)
    summary["policy"] = policy.to_dict()
    return RunResult(inputs=sized, flows=flows, summary=summary, policy=policy)


def write_optimization(result: OptimizationResult, out_dir: str | Path,
                       progress: Progress | None = None, report: bool = True) -> dict[str, Path]:
    """flows.parquet/csv, summary.json (with ``optimization``), report.html, optimization.json."""
    from greenlink.optimize.report import append_optimization_section
    from greenlink.pipeline import _json_default

    written = write_outputs(result.run, out_dir, progress=progress, report=report)
    out = Path(out_dir)
    target = out / "optimization.json"
    tmp = out / ".optimization.json.tmp"
    tmp.write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False,
                              default=_json_default), encoding="utf-8")
    tmp.replace(target)
    written["optimization.json"] = target
    if report and "report.html" in written:
        append_optimization_section(written["report.html"], result.to_dict())
    return written
