"""The optimise workflow behind ``greenlink optimize``, the service's optimize jobs and sweeps:
scenario → inputs → LP (HiGHS) → the same steps after dispatch as a simulation run (policy,
products, CBAM, one typed summary with an ``optimization`` section) → files.

The chosen sizes are re-simulated with ``simulate`` and the two dispatches compared
(:mod:`greenlink.optimize.agreement`): the summary says whether they agree and, where not, why.
:func:`write_optimization` writes the files of ``simulate`` (flows, summary.json, report.html)
plus ``optimization.json``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from greenlink.dispatch.simulate import simulate
from greenlink.inputs import ParkInputs, build_inputs
from greenlink.jsonio import write_json
from greenlink.optimize.agreement import Agreement, compare
from greenlink.optimize.lp import ProgressCallback
from greenlink.optimize.solve import LpResult
from greenlink.optimize.solve import optimize_park as solve_park
from greenlink.scenario.load import LoadedScenario, load_scenario
from greenlink.workflows.run import RunResult, assess, write_outputs

Progress = Callable[[str], None]


@dataclass(frozen=True)
class OptimizationResult(LpResult):
    """The solved LP, its comparison with ``simulate`` and, at its sizes and dispatch, a run
    like a simulation's."""

    agreement: Agreement | None = None
    run: RunResult | None = None

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.agreement is not None:
            out["agreement"] = self.agreement.to_dict()
        return out

    @property
    def checked(self) -> RunResult:
        """The run at the optimum (always set by :func:`optimize_park`)."""
        assert self.run is not None
        return self.run


def optimize_park(park: ParkInputs, ruleset: str | None = None, threads: int = 1,
                  progress: Progress | None = None,
                  solver_progress: ProgressCallback | None = None,
                  resimulate_check: bool = True) -> OptimizationResult:
    """Optimise already built inputs, compare with ``simulate`` at the chosen sizes, and assess
    the optimum like a simulated year. ``solver_progress`` receives the solver's iterations
    (solves longer than a few seconds)."""
    say = progress or (lambda _m: None)
    lp = solve_park(park, ruleset, threads, progress=solver_progress, say=say)
    agreement = None
    if resimulate_check:
        say("re-simulating the chosen sizes with simulate")
        agreement = compare(lp.inputs, lp.sizes, lp.flows, simulate(lp.sized))
    base = {f.name: getattr(lp, f.name) for f in fields(lp)}
    partial = OptimizationResult(**base, agreement=agreement)
    run = assess(lp.sized, lp.flows, say, ruleset, optimization=partial.to_dict())
    return OptimizationResult(**base, agreement=agreement, run=run)


def optimize_scenario(source: str | Path | LoadedScenario, progress: Progress | None = None,
                      ruleset: str | None = None, threads: int = 1,
                      solver_progress: ProgressCallback | None = None) -> OptimizationResult:
    """Load a scenario, model its plants, and optimise (nothing is written)."""
    say = progress or (lambda _m: None)
    loaded = source if isinstance(source, LoadedScenario) else load_scenario(source)
    park = build_inputs(loaded, progress=say)
    return optimize_park(park, ruleset, threads, say, solver_progress)


def resimulate(result: OptimizationResult, ruleset: str | None = None) -> RunResult:
    """Simulate the chosen sizes with the rule-based dispatch and check the rules again."""
    return assess(result.sized, simulate(result.sized), None, ruleset)


def write_optimization(result: OptimizationResult, out_dir: str | Path,
                       progress: Progress | None = None, report: bool = True) -> dict[str, Path]:
    """flows.parquet/csv, summary.json (with ``optimization``), report.html (its
    "Optimisation" section drawn from the summary, inside the page: ``greenlink report`` on the
    folder draws it again), optimization.json."""
    written = write_outputs(result.checked, out_dir, progress=progress, report=report)
    written["optimization.json"] = write_json(Path(out_dir) / "optimization.json",
                                              result.to_dict())
    return written
