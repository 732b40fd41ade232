"""A small sparse LP builder over numpy blocks, solved by HiGHS through ``highspy.passModel``.

Variables and rows are added in named blocks (arrays of indices); coefficients are collected as
COO triplets and handed to HiGHS once as a column-wise sparse matrix (sorted and summed with
numpy). No per-element Python objects are created, so building a year of 15-minute dispatch takes
milliseconds.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import highspy
import numpy as np

INF = float(highspy.kHighsInf)


@dataclass
class Expr:
    """A linear expression ``Σ vals·x[cols] + const`` (duplicate columns are summed on use)."""

    cols: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    vals: np.ndarray = field(default_factory=lambda: np.zeros(0))
    const: float = 0.0

    @staticmethod
    def of(cols: np.ndarray, vals: np.ndarray | float = 1.0, const: float = 0.0) -> Expr:
        cols = np.asarray(cols, dtype=np.int64).ravel()
        v = np.broadcast_to(np.asarray(vals, dtype=float), cols.shape).ravel() \
            if np.ndim(vals) == 0 else np.asarray(vals, dtype=float).ravel()
        return Expr(cols, np.array(v, dtype=float), float(const))

    def __add__(self, other: Expr) -> Expr:
        return Expr(np.concatenate([self.cols, other.cols]),
                    np.concatenate([self.vals, other.vals]), self.const + other.const)

    def __sub__(self, other: Expr) -> Expr:
        return self + other * -1.0

    def __mul__(self, k: float) -> Expr:
        return Expr(self.cols, self.vals * k, self.const * k)

    def value(self, x: np.ndarray) -> float:
        """Value at the solution ``x``."""
        return float((self.vals * x[self.cols]).sum() + self.const) if len(self.cols) \
            else self.const


@dataclass(frozen=True)
class Solution:
    """Primal and dual values of a solved LP (HiGHS sign convention for duals)."""

    status: str
    optimal: bool
    objective: float
    x: np.ndarray
    row_dual: np.ndarray
    col_dual: np.ndarray
    solve_seconds: float
    iterations: int = 0


@dataclass(frozen=True)
class SolveProgress:
    """One progress report of a running solve.

    ``stage`` names the solve (e.g. "sizing"), ``iteration`` the solver's, ``gap`` the relative
    gap between the primal and dual objective (``nan`` where the solver does not report one),
    ``elapsed_s`` the seconds since the solve began.
    """

    stage: str
    iteration: int
    primal_objective: float
    dual_objective: float
    gap: float
    elapsed_s: float
    phase: str = "interior point"

    @property
    def message(self) -> str:
        """Plain words for a progress line."""
        gap = "" if not np.isfinite(self.gap) else f", gap {self.gap:.1e}"
        obj = "" if not np.isfinite(self.primal_objective) else \
            f", objective {self.primal_objective:,.0f}"
        return (f"{self.stage}: {self.phase} iteration {self.iteration}{obj}{gap}, "
                f"{self.elapsed_s:.0f} s")


ProgressCallback = Callable[[SolveProgress], None]

_IPX_LINE = re.compile(r"^\s*(\d+)\*?\s+([-+0-9.eE]+)\s+([-+0-9.eE]+)\s+[-+0-9.eE]+\s+"
                       r"[-+0-9.eE]+\s+([-+0-9.eE]+)\s+([0-9.]+)\s*$")
_SIMPLEX_LINE = re.compile(r"^\s*(\d+)\s+([-+0-9.eE]+)\s+(Ph1|Pr|Du).*\s([0-9.]+)s\s*$")
_banner_lock = threading.Lock()
_banner_shown = False


def new_highs() -> highspy.Highs:
    """A HiGHS instance without the banner HiGHS prints on the first one of a process."""
    global _banner_shown
    with _banner_lock:
        if _banner_shown:
            return highspy.Highs()
        _banner_shown = True
        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
        return h


class _ProgressRelay:
    """Reads HiGHS's log lines (never printed) and reports iterations at most every
    ``every_s`` seconds, the first after ``after_s``."""

    def __init__(self, stage: str, report: ProgressCallback, after_s: float = 2.0,
                 every_s: float = 1.0) -> None:
        self.stage = stage
        self.report = report
        self.after_s = after_s
        self.every_s = every_s
        self.start = time.perf_counter()
        self.last = -np.inf

    def __call__(self, event: object) -> None:
        message = str(getattr(event, "message", ""))
        for line in message.splitlines():
            self._line(line)

    def _line(self, line: str) -> None:
        m = _IPX_LINE.match(line)
        if m:
            it, primal, dual, gap = int(m.group(1)), float(m.group(2)), float(m.group(3)), \
                float(m.group(4))
            self._emit(SolveProgress(self.stage, it, primal, dual, gap, self._elapsed(),
                                     "interior point"))
            return
        m = _SIMPLEX_LINE.match(line)
        if m:
            self._emit(SolveProgress(self.stage, int(m.group(1)), float(m.group(2)),
                                     float("nan"), float("nan"), self._elapsed(), "simplex"))
        elif "crossover" in line.lower():
            self._emit(SolveProgress(self.stage, 0, float("nan"), float("nan"), float("nan"),
                                     self._elapsed(), "crossover"))

    def _elapsed(self) -> float:
        return time.perf_counter() - self.start

    def _emit(self, p: SolveProgress) -> None:
        now = p.elapsed_s
        if now < self.after_s or now - self.last < self.every_s:
            return
        self.last = now
        self.report(p)


class LpBuilder:
    """Collects variable blocks, row blocks and objective coefficients of a minimisation LP."""

    def __init__(self) -> None:
        self.n_cols = 0
        self.n_rows = 0
        self._lb: list[np.ndarray] = []
        self._ub: list[np.ndarray] = []
        self._cost: list[np.ndarray] = []
        self._rlo: list[np.ndarray] = []
        self._rhi: list[np.ndarray] = []
        self._ri: list[np.ndarray] = []
        self._ci: list[np.ndarray] = []
        self._v: list[np.ndarray] = []
        self.col_blocks: dict[str, np.ndarray] = {}
        self.row_blocks: dict[str, np.ndarray] = {}
        self.offset = 0.0
        self._extra_cost: list[tuple[np.ndarray, np.ndarray]] = []

    def add_vars(self, name: str, shape: int | tuple[int, ...], lb: float | np.ndarray = 0.0,
                 ub: float | np.ndarray = INF, cost: float | np.ndarray = 0.0) -> np.ndarray:
        """Add a block of variables; return their column indices with the given shape."""
        size = int(np.prod(shape))
        idx = np.arange(self.n_cols, self.n_cols + size, dtype=np.int64).reshape(shape)
        self.n_cols += size
        for store, value in ((self._lb, lb), (self._ub, ub), (self._cost, cost)):
            store.append(np.broadcast_to(np.asarray(value, dtype=float), idx.shape).ravel().copy())
        self.col_blocks[name] = idx
        return idx

    def add_rows(self, name: str, n: int, rows: np.ndarray, cols: np.ndarray,
                 vals: np.ndarray | float, lo: float | np.ndarray = -INF,
                 hi: float | np.ndarray = INF) -> np.ndarray:
        """Add ``n`` rows ``lo ≤ A x ≤ hi``; ``rows`` are 0-based within the block."""
        rows = np.asarray(rows, dtype=np.int64).ravel()
        cols = np.asarray(cols, dtype=np.int64).ravel()
        v = np.broadcast_to(np.asarray(vals, dtype=float), rows.shape).ravel()
        self._ri.append(rows + self.n_rows)
        self._ci.append(cols)
        self._v.append(np.array(v, dtype=float))
        self._rlo.append(np.broadcast_to(np.asarray(lo, dtype=float), (n,)).copy())
        self._rhi.append(np.broadcast_to(np.asarray(hi, dtype=float), (n,)).copy())
        idx = np.arange(self.n_rows, self.n_rows + n, dtype=np.int64)
        self.n_rows += n
        self.row_blocks[name] = idx
        return idx

    def lower_bounds(self, cols: np.ndarray) -> np.ndarray:
        """Lower bounds of the given columns."""
        return np.concatenate(self._lb)[np.asarray(cols, dtype=np.int64)] if self._lb \
            else np.zeros(0)

    def upper_bounds(self, cols: np.ndarray) -> np.ndarray:
        """Upper bounds of the given columns."""
        return np.concatenate(self._ub)[np.asarray(cols, dtype=np.int64)] if self._ub \
            else np.zeros(0)

    def add_expr_row(self, name: str, expr: Expr, lo: float = -INF, hi: float = INF) -> int:
        """Add one row ``lo ≤ expr ≤ hi`` (the constant moves to the bounds)."""
        idx = self.add_rows(name, 1, np.zeros(len(expr.cols), dtype=np.int64), expr.cols,
                            expr.vals, lo - expr.const, hi - expr.const)
        return int(idx[0])

    def add_cost(self, cols: np.ndarray, cost: float | np.ndarray) -> None:
        """Add objective coefficients to existing columns."""
        flat = np.asarray(cols, dtype=np.int64).ravel()
        self._extra_cost.append(
            (flat, np.broadcast_to(np.asarray(cost, dtype=float), flat.shape).copy()))

    def matrix(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The constraint matrix in compressed-column form ``(start, index, value)``,
        duplicates summed and explicit zeros kept out."""
        rows = np.concatenate(self._ri) if self._ri else np.zeros(0, dtype=np.int64)
        cols = np.concatenate(self._ci) if self._ci else np.zeros(0, dtype=np.int64)
        vals = np.concatenate(self._v) if self._v else np.zeros(0)
        key = cols * max(self.n_rows, 1) + rows
        order = np.argsort(key, kind="stable")
        key, vals = key[order], vals[order]
        first = np.ones(len(key), dtype=bool)
        first[1:] = key[1:] != key[:-1]
        groups = np.cumsum(first) - 1
        summed = np.bincount(groups, weights=vals) if len(vals) else np.zeros(0)
        key = key[first]
        keep = summed != 0.0
        key, summed = key[keep], summed[keep]
        col = key // max(self.n_rows, 1)
        row = key - col * max(self.n_rows, 1)
        start = np.zeros(self.n_cols + 1, dtype=np.int64)
        np.cumsum(np.bincount(col, minlength=self.n_cols), out=start[1:])
        return start, row, summed

    def costs(self) -> np.ndarray:
        """Objective coefficient of every column."""
        cost = np.concatenate(self._cost) if self._cost else np.zeros(0)
        for cols, vals in self._extra_cost:
            np.add.at(cost, cols, vals)
        return cost

    def to_highs(self) -> highspy.HighsLp:
        start, index, value = self.matrix()
        lp = highspy.HighsLp()
        lp.num_col_ = self.n_cols
        lp.num_row_ = self.n_rows
        lp.col_cost_ = self.costs()
        lp.col_lower_ = np.concatenate(self._lb)
        lp.col_upper_ = np.concatenate(self._ub)
        lp.row_lower_ = np.concatenate(self._rlo) if self._rlo else np.zeros(0)
        lp.row_upper_ = np.concatenate(self._rhi) if self._rhi else np.zeros(0)
        lp.offset_ = self.offset
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = start.astype(np.int32)
        lp.a_matrix_.index_ = index.astype(np.int32)
        lp.a_matrix_.value_ = value
        return lp


def solve(builder: LpBuilder, *, threads: int = 1, solver: str = "ipm",
          time_limit_s: float | None = None, verbose: bool = False, crossover: bool = True,
          progress: ProgressCallback | None = None, stage: str = "solve",
          options: dict[str, bool | float | str | int] | None = None) -> Solution:
    """Solve with HiGHS (one thread by default, deterministic); the banner is never printed.

    ``solver="ipm"`` (IPX interior point, then crossover, so duals are exact) is the fastest
    on a year of dispatch (benchmark park, hourly, 2-core machine, CPU seconds: ipm ~3 s,
    simplex ~45 s; HiPO needs a HiGHS built with BLAS and METIS). ``crossover=False`` keeps the
    interior-point solution (enough for a lower bound and sizes). ``progress`` is called with
    the iterations of a solve that runs longer than two seconds, at most once a second.
    ``options`` are further HiGHS options (name → value).
    """
    h = new_highs()
    relay = None
    if progress is not None:
        relay = _ProgressRelay(stage, progress)
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", bool(verbose))
        h.cbLogging.subscribe(relay)
    else:
        h.setOptionValue("output_flag", bool(verbose))
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("solver", solver)
    if solver == "ipm":
        h.setOptionValue("run_crossover", "on" if crossover else "off")
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(time_limit_s))
    for key, value in (options or {}).items():
        h.setOptionValue(key, value)
    h.passModel(builder.to_highs())
    start = time.perf_counter()
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal and solver in ("hipo", "ipm") \
            and not crossover:
        h.setOptionValue("run_crossover", "on")
        h.run()
        status = h.getModelStatus()
    seconds = time.perf_counter() - start
    sol = h.getSolution()
    info = h.getInfo()
    objective = float(info.objective_function_value)
    if status == highspy.HighsModelStatus.kModelEmpty:  # nothing to decide: the constant
        status = highspy.HighsModelStatus.kOptimal
        objective = builder.offset
    optimal = status == highspy.HighsModelStatus.kOptimal
    iterations = int(info.ipm_iteration_count) + int(info.simplex_iteration_count)
    if relay is not None:
        h.cbLogging.unsubscribe(relay)
    x = np.asarray(sol.col_value) if len(sol.col_value) == builder.n_cols \
        else np.zeros(builder.n_cols)
    row_dual = np.asarray(sol.row_dual) if len(sol.row_dual) == builder.n_rows \
        else np.zeros(builder.n_rows)
    col_dual = np.asarray(sol.col_dual) if len(sol.col_dual) == builder.n_cols \
        else np.zeros(builder.n_cols)
    return Solution(status=h.modelStatusToString(status), optimal=optimal,
                    objective=objective, x=x, row_dual=row_dual, col_dual=col_dual,
                    solve_seconds=seconds, iterations=iterations)
