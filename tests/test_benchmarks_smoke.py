"""Every benchmark script runs in its ``--smoke`` mode: a tiny version of the same measurement.

Scripts are found by glob (``benchmarks/*.py``, names starting with ``_`` excepted), so a new
benchmark is covered as soon as it exists; it must accept ``--smoke``. Each runs in its own
process with a time limit and must exit 0 (the benchmarks exit non-zero when a check of what
they timed fails) and end with a ``key=value …`` line of finite numbers. The benchmarks'
dependencies (``requirements-bench.lock``, e.g. PyPSA) are part of the test set-up
(``make test``): a missing one fails here, it is not skipped.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p for p in (ROOT / "benchmarks").glob("*.py") if not p.name.startswith("_"))
TIMEOUT_S = 300  # a smoke run takes seconds; the margin is for a loaded shared machine
PAIR = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)")


def parse_last_line(out: str) -> dict[str, float]:
    """The ``key=value …`` pairs of the last non-empty line; ValueError if it has another
    shape or a value is not a finite number."""
    lines = [ln for ln in out.splitlines() if ln.strip()]
    if not lines:
        raise ValueError("no output")
    last = lines[-1].strip()
    tokens = last.split()
    pairs = [PAIR.fullmatch(t) for t in tokens]
    if not tokens or not all(pairs):
        raise ValueError(f"last line is not 'key=value …': {last!r}")
    values = {}
    for m in pairs:
        assert m is not None
        value = float(m.group(2))  # ValueError when not a number
        if not math.isfinite(value):
            raise ValueError(f"{m.group(1)}={m.group(2)} is not finite")
        values[m.group(1)] = value
    return values


def test_scripts_found() -> None:
    names = {p.stem for p in SCRIPTS}
    assert {"simulate_speed", "evidence_speed", "optimize_vs_pypsa"} <= names


def test_parse_last_line() -> None:
    assert parse_last_line("intro\nratio=0.5 objective_rel_diff=1e-9\n") == {
        "ratio": 0.5, "objective_rel_diff": 1e-9}
    for bad in ("ratio=0.5 floor 2.0 s: PASS", "ratio=nan", "ratio=inf x=1", "ratio=fast", ""):
        with pytest.raises(ValueError):
            parse_last_line(bad)


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_benchmark_smoke(script: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1",
           # this checkout's sources, even where the environment installed another one
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"),
                                                       os.environ.get("PYTHONPATH")]))}
    try:
        proc = subprocess.run([sys.executable, str(script), "--smoke"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) \
            else exc.stdout
        pytest.fail(f"{script.name} --smoke ran over {TIMEOUT_S} s; output:\n{out}")
    report = f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
    assert proc.returncode == 0, f"{script.name} --smoke exited {proc.returncode}\n{report}"
    try:
        values = parse_last_line(proc.stdout)
    except ValueError as exc:
        pytest.fail(f"{script.name} --smoke: {exc}\n{report}")
    assert values
