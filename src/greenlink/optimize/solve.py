"""The optimisation stage: optimiser inputs → LP (HiGHS) → sizes, optimal dispatch as a flows
table, costs, rule shadow prices and diagnosis.

:func:`solve_inputs` builds and solves; the optimise workflow
(:mod:`greenlink.workflows.optimise`) adds the policy check, the summary and the files.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from greenlink.errors import GreenlinkError
from greenlink.inputs import ParkInputs
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


@dataclass(frozen=True)
class LpResult:
    """Sizes, the optimal dispatch (inputs at the chosen sizes and their flows table), costs,
    rule shadow prices and diagnosis."""

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

    @property
    def feasible(self) -> bool:
        """Every rule, target and the import limit hold (no elastic slack used)."""
        return self.solution.optimal and not self.relaxations

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


def solve_inputs(oi: OptimizationInputs, *, threads: int = 1) -> LpResult:
    """Build and solve the LP; the sizes, dispatch and costs at the optimum."""
    start = time.perf_counter()
    lp, v = build_model(oi)
    build_s = time.perf_counter() - start
    sol = solve(lp, threads=threads)
    if not sol.optimal:
        raise GreenlinkError(f"HiGHS stopped with status {sol.status!r}; the elastic model "
                             "should always be feasible, so this is a numerical problem: "
                             "check for very large or very small costs and bounds")
    sizes = sizes_of(oi, v, sol)
    sized, flows = optimized_flows(oi, v, sol, sizes)
    costs = cost_breakdown(oi, v, sol, flows, sizes)
    return LpResult(
        inputs=oi, variables=v, solution=sol, sizes=sizes, sized=sized, flows=flows,
        costs=costs, lcoe_green_per_kwh=levelised_green_cost(costs, flows),
        requirements=requirement_table(oi, v, sol), relaxations=explain(oi, v, sol),
        build_seconds=build_s)


def optimize_park(park: ParkInputs, ruleset: str | None = None, threads: int = 1) -> LpResult:
    """Optimise sizes and dispatch of already built inputs."""
    return solve_inputs(optimization_inputs(park, ruleset), threads=threads)
