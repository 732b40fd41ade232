"""The optimise workflow behind ``greenlink optimize``, the service's optimize jobs and sweeps:
scenario → inputs → LP (HiGHS) → the same steps after dispatch as a simulation run (policy,
products, CBAM, one typed summary with an ``optimization`` section) → files.

:func:`write_optimization` writes the files of ``simulate`` (flows, summary.json, report.html)
plus ``optimization.json``. :func:`resimulate` re-runs the rule-based simulation at the chosen
sizes, to confirm that the rules hold without the optimiser's dispatch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

from greenlink.dispatch.simulate import simulate
from greenlink.inputs import ParkInputs, build_inputs
from greenlink.jsonio import write_json
from greenlink.optimize.solve import LpResult
from greenlink.optimize.solve import optimize_park as solve_park
from greenlink.scenario.load import LoadedScenario, load_scenario
from greenlink.workflows.run import RunResult, assess, write_outputs

Progress = Callable[[str], None]


@dataclass(frozen=True)
class OptimizationResult(LpResult):
    """The solved LP and, at its sizes and dispatch, a run like a simulation's."""

    run: RunResult


def optimize_park(park: ParkInputs, ruleset: str | None = None, threads: int = 1,
                  progress: Progress | None = None) -> OptimizationResult:
    """Optimise already built inputs and assess the optimum like a simulated year."""
    say = progress or (lambda _m: None)
    say("building and solving the LP (HiGHS)")
    lp = solve_park(park, ruleset, threads)
    run = assess(lp.sized, lp.flows, say, ruleset, optimization=lp.to_dict())
    return OptimizationResult(**{f.name: getattr(lp, f.name) for f in fields(lp)}, run=run)


def optimize_scenario(source: str | Path | LoadedScenario, progress: Progress | None = None,
                      ruleset: str | None = None, threads: int = 1) -> OptimizationResult:
    """Load a scenario, model its plants, and optimise (nothing is written)."""
    say = progress or (lambda _m: None)
    loaded = source if isinstance(source, LoadedScenario) else load_scenario(source)
    park = build_inputs(loaded, progress=say)
    return optimize_park(park, ruleset, threads, say)


def resimulate(result: OptimizationResult, ruleset: str | None = None) -> RunResult:
    """Simulate the chosen sizes with the rule-based dispatch and check the rules again."""
    return assess(result.sized, simulate(result.sized), None, ruleset)


def write_optimization(result: OptimizationResult, out_dir: str | Path,
                       progress: Progress | None = None, report: bool = True) -> dict[str, Path]:
    """flows.parquet/csv, summary.json (with ``optimization``), report.html, optimization.json."""
    from greenlink.optimize.report import append_optimization_section

    written = write_outputs(result.run, out_dir, progress=progress, report=report)
    written["optimization.json"] = write_json(Path(out_dir) / "optimization.json",
                                              result.to_dict())
    if report and "report.html" in written:
        append_optimization_section(written["report.html"], result.to_dict())
    return written
