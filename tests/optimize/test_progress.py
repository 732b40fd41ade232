"""Progress of a long solve (HiGHS's log read through its callback, never printed) and no banner."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from greenlink.optimize.lp import SolveProgress, _ProgressRelay

ROOT = Path(__file__).resolve().parents[2]


class _Event:
    def __init__(self, message: str) -> None:
        self.message = message


def test_interior_point_and_simplex_lines_become_progress_reports() -> None:
    seen: list[SolveProgress] = []
    relay = _ProgressRelay("sizing", seen.append, after_s=0.0, every_s=0.0)
    relay(_Event("  12    8.99556434e+07  -2.14507175e+08   1.29e-08   5.82e-13  4.89e+00"
                 "       7.9\n"))
    relay(_Event("      33550     2.5735857904e+07 Pr: 55092(4.75445e+07); Du: 0(4.1e-06) 11.3s"))
    relay(_Event("Presolving model"))
    assert [p.phase for p in seen] == ["interior point", "simplex"]
    first = seen[0]
    assert first.iteration == 12 and first.gap == 4.89
    assert first.primal_objective == 8.99556434e07
    assert "sizing: interior point iteration 12" in first.message and "gap 4.9e+00" in \
        first.message
    assert seen[1].iteration == 33550


def test_reports_are_spaced_out() -> None:
    seen: list[SolveProgress] = []
    relay = _ProgressRelay("dispatch", seen.append, after_s=0.0, every_s=3600.0)
    for i in range(5):
        relay(_Event(f"  {i}    1.0e+07  9.0e+06   1e-08   1e-12  1e-01       0.{i}"))
    assert len(seen) == 1


def test_no_highs_banner_on_stdout() -> None:
    code = ("from greenlink.optimize.lp import LpBuilder, solve\n"
            "lp = LpBuilder(); x = lp.add_vars('x', 1, 0.0, 1.0, -1.0)\n"
            "print('objective', solve(lp).objective)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(ROOT / "src")}, check=True)
    assert out.stdout.strip() == "objective -1.0"
    assert "HiGHS" not in out.stderr
