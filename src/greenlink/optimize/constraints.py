"""Constraint families of the sizing-and-dispatch LP, one ``define_<family>_constraints`` each.

Notation (all energies in kWh per interval *t*, powers in kW, ``Δt`` the interval in hours):

* sizes: ``P_p`` PV capacity of candidate plant *p* (kWp), ``W_w`` wind capacity, ``E_k`` energy
  and ``B_k`` power of battery *k*;
* generation ``G_t = Σ_p g_pt P_p + Σ_w f_wt W_w`` (linear in the sizes; a constant where the
  generation is fixed), load ``L_t`` (park) and ``L_tu`` (user);
* dispatch: ``d_t`` green sent straight to the loads, ``c_kt`` battery charge from green energy,
  ``h_kt`` battery charge from the grid (only where ``grid_charging = true``), ``b_kt`` discharge
  of green and ``r_kt`` of grid energy, ``x_t`` export, ``s_kt`` (``q_kt``) green (grid) energy
  stored above the minimum state of charge ``σ_min E_k`` at the end of *t* (so ``s ≥ 0`` is a
  bound); the import ``m_t = L_t − d_t − Σ_k (b_kt + r_kt) + Σ_k h_kt`` is substituted, not a
  column.

Users are park columns: with the pro-rata allocation user *u* receives ``ρ_tu = L_tu / L_t`` of
every interval's direct green and of the battery's discharge, exactly (the method's shares), so
``d_tu = ρ_tu d_t``. Only another method with a per-user rule or target needs per-user columns
(``d_tu``, and ``y_tu`` the green discharge to *u*).

A column that cannot be non-zero in an interval (no generation at night, no charge where no green
is left over in a realizable dispatch, see :mod:`greenlink.optimize.regimes`) is not created.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from greenlink.optimize.inputs import OptimizationInputs, Requirement
from greenlink.optimize.lp import INF, Expr, LpBuilder
from greenlink.optimize.regimes import DEFICIT, EITHER, Regimes

#: Rules are imposed this far inside their threshold (share), against solver round-off.
THRESHOLD_MARGIN = 1e-8
#: Modes of :func:`greenlink.optimize.model.build_model`.
RELAXED, SIZING, DISPATCH = "relaxed", "sizing", "dispatch"
NONE = -1  # no column
#: Generation coefficients below this share of a profile's peak are left out of the rows (dawn
#: and dusk values of 1e-8 kWh per kWp only widen the matrix's range).
SMALL = 1e-7
#: Share by which an implied bound is widened, and a margin (kWh) on top, far above the solver's
#: feasibility tolerance (1e-7) even where the bound itself is tiny: a bound that could bind
#: would share the dual of the row or bound it is implied by (and "what binds" would miss a
#: size's shadow price); widened, it never binds and only gives the interior-point solver a box.
IMPLIED_SLACK = 1e-3
IMPLIED_MARGIN_KWH = 1e-3


def widened(bound: float | np.ndarray) -> float | np.ndarray:
    """An implied upper bound (kWh, ≥ 0) widened so that it never binds."""
    return bound * (1.0 + IMPLIED_SLACK) + IMPLIED_MARGIN_KWH


@dataclass
class Variables:
    """Column indices of every variable block (``-1`` where a column does not exist).

    ``direct_const`` holds the direct green where it is not a column (fixed generation, or an
    interval whose direct green the regimes fix).
    """

    mode: str
    pv_kw: np.ndarray
    wind_kw: np.ndarray
    energy_kwh: np.ndarray  # (K,)
    power_kw: np.ndarray  # (K,)
    direct: np.ndarray  # (T, U')
    direct_const: np.ndarray  # (T, U')
    load_kwh: np.ndarray  # (T, U') the loads the columns serve
    charge: np.ndarray  # (K, T) from green
    grid_charge: np.ndarray  # (K, T)
    discharge: np.ndarray  # (K, T) green
    discharge_grid: np.ndarray  # (K, T) grid-coloured
    soc: np.ndarray  # (K, T) green above σ_min E
    soc_grid: np.ndarray  # (K, T)
    export: np.ndarray  # (T,)
    user_discharge: np.ndarray | None = None  # (T, U') green discharge per user (per-user mode)
    over_limit: np.ndarray | None = None  # (T,)
    peak_kw: np.ndarray | None = None  # (months,)
    generation: np.ndarray | None = None  # (T,) fixed generation (dispatch mode)
    regimes: Regimes | None = None
    import_limit_rows: np.ndarray | None = None  # rows m_t − o_t ≤ Ī Δt
    slack: dict[int, int] = field(default_factory=dict)  # requirement number -> column
    req_rows: dict[int, int] = field(default_factory=dict)  # requirement number -> row
    req_den: dict[int, Expr] = field(default_factory=dict)  # requirement -> denominator
    matched: dict[tuple[str, str, bytes], tuple[Expr, Expr]] = field(default_factory=dict)

    @property
    def n_intervals(self) -> int:
        return int(self.direct.shape[0])


# ---------------------------------------------------------------------------------------------
# helpers


def present(cols: np.ndarray) -> np.ndarray:
    """Mask of the entries that are columns."""
    return np.asarray(cols) >= 0


def _coo(rows: list[np.ndarray], cols: list[np.ndarray], vals: list[np.ndarray],
         r: np.ndarray, c: np.ndarray, v: float | np.ndarray) -> None:
    """Append ``(r, c, v)`` where ``c`` is a column."""
    c = np.asarray(c)
    keep = c >= 0
    rows.append(np.asarray(r)[keep])
    cols.append(c[keep])
    vals.append(np.broadcast_to(np.asarray(v, dtype=float), c.shape)[keep])


def generation_terms(oi: OptimizationInputs, v: Variables, t: np.ndarray, r: np.ndarray,
                     scale: float | np.ndarray = 1.0
                     ) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """COO entries of ``scale · G_t`` (the size columns) in rows ``r`` for intervals ``t``."""
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    scale = np.broadcast_to(np.asarray(scale, dtype=float), t.shape)
    for profile, sizes in ((oi.pv_kwh_per_kw, v.pv_kw), (oi.wind_kwh_per_kw, v.wind_kw)):
        for k in range(len(sizes)):
            coef = profile[k][t] * scale
            nz = np.abs(coef) > SMALL * float(np.abs(profile[k]).max(initial=0.0))
            rows.append(r[nz])
            cols.append(np.full(int(nz.sum()), sizes[k]))
            vals.append(coef[nz])
    return rows, cols, vals


def _add(lp: LpBuilder, name: str, n: int, rows: list[np.ndarray], cols: list[np.ndarray],
         vals: list[np.ndarray], lo: float | np.ndarray, hi: float | np.ndarray) -> np.ndarray:
    return lp.add_rows(name, n, np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64),
                       np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64),
                       np.concatenate(vals) if vals else np.zeros(0), lo, hi)


def _rowwise_sum(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(interval, column) of every present entry of a (K, T) block."""
    k, t = np.nonzero(block >= 0)
    return t, block[k, t]


# ---------------------------------------------------------------------------------------------
# families


def define_generation_constraints(lp: LpBuilder, oi: OptimizationInputs, v: Variables,
                                  reg: Regimes) -> None:
    """Green energy used cannot exceed what the plants make (the rest is curtailed).

    * sized generation: ``Σ_u d_tu + Σ_k c_kt + x_t − G_t(P) ≤ 0`` where some of them is a
      column; a SURPLUS interval has ``d = L`` fixed: ``Σ_k c_kt + x_t − G_t(P) ≤ −L_t``;
    * fixed generation (dispatch): ``Σ_k c_kt + x_t ≤ (G_t − L_t)⁺``, the surplus (a bound
      where only one of them is a column).
    """
    n_t = v.n_intervals
    t_all = np.arange(n_t)
    users = v.direct.shape[1]
    has = np.zeros(n_t, dtype=bool)
    for block in (v.direct.T, v.charge, v.export[None, :]):
        has |= present(block).any(axis=0)
    if v.mode == SIZING:  # a DEFICIT interval's direct green equals its generation (next family)
        has &= reg.kind != DEFICIT
    idx = np.nonzero(has)[0]
    if not len(idx):
        return
    local = np.full(n_t, -1)
    local[idx] = np.arange(len(idx))
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    for u in range(users):
        _coo(rows, cols, vals, local, v.direct[:, u], 1.0)
    for k in range(v.charge.shape[0]):
        _coo(rows, cols, vals, local, v.charge[k], 1.0)
    _coo(rows, cols, vals, local, v.export, 1.0)
    keep = [r >= 0 for r in rows]
    rows = [r[m] for r, m in zip(rows, keep, strict=True)]
    cols = [c[m] for c, m in zip(cols, keep, strict=True)]
    vals = [x[m] for x, m in zip(vals, keep, strict=True)]
    fixed_d = v.direct_const.sum(axis=1)[idx]
    if v.generation is not None:
        hi = v.generation[idx] - fixed_d
    else:
        gr, gc, gv = generation_terms(oi, v, t_all[idx], np.arange(len(idx)), -1.0)
        rows += gr
        cols += gc
        vals += gv
        hi = -fixed_d
    _add(lp, "generation", len(idx), rows, cols, vals, -INF, hi)


def define_direct_supply_constraints(lp: LpBuilder, oi: OptimizationInputs, v: Variables,
                                     reg: Regimes) -> None:
    """Green serves the loads first (sized generation, realizable): ``d_t ≥ min(G_t, L_t)``.

    * DEFICIT interval: ``Σ_u d_tu − G_t(P) = 0`` (all green goes to the loads);
    * EITHER interval: the chord ``Σ_u d_tu − Σ_k a_kt P_k ≥ a_0t`` (see
      :mod:`greenlink.optimize.regimes`), the tightest linear lower bound of ``min(G, L)`` over
      the sizes' range; exact when the sizes sit at their bounds.
    """
    for kind, name, lo_inf in ((DEFICIT, "direct_equals_generation", False),
                               (EITHER, "direct_chord", True)):
        idx = np.nonzero((reg.kind == kind) & present(v.direct).any(axis=1))[0]
        if not len(idx):
            continue
        r = np.arange(len(idx))
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for u in range(v.direct.shape[1]):
            _coo(rows, cols, vals, r, v.direct[idx, u], 1.0)
        sizes = np.concatenate([v.pv_kw, v.wind_kw])
        for k, col in enumerate(sizes):
            coef = reg.chord_coef[k, idx]
            nz = np.abs(coef) > SMALL * float(np.abs(reg.chord_coef[k]).max(initial=0.0))
            rows.append(r[nz])
            cols.append(np.full(int(nz.sum()), col))
            vals.append(-coef[nz])
        const = reg.chord_const[idx] - v.direct_const[idx].sum(axis=1)
        _add(lp, name, len(idx), rows, cols, vals, const, INF if lo_inf else const)
    if reg.cap_const is None or reg.cap_coef is None:
        return
    # hours summed from finer intervals: no green of one interval serves another's load
    idx = np.nonzero((reg.kind == EITHER) & present(v.direct).any(axis=1))[0]
    if not len(idx):
        return
    r = np.arange(len(idx))
    rows, cols, vals = [], [], []
    for u in range(v.direct.shape[1]):
        _coo(rows, cols, vals, r, v.direct[idx, u], 1.0)
    for k, col in enumerate(np.concatenate([v.pv_kw, v.wind_kw])):
        coef = reg.cap_coef[k, idx]
        nz = np.abs(coef) > SMALL * float(np.abs(reg.cap_coef[k]).max(initial=0.0))
        rows.append(r[nz])
        cols.append(np.full(int(nz.sum()), col))
        vals.append(-coef[nz])
    _add(lp, "direct_cap", len(idx), rows, cols, vals, -INF,
         reg.cap_const[idx] - v.direct_const[idx].sum(axis=1))


def define_load_balance_constraints(lp: LpBuilder, oi: OptimizationInputs, v: Variables) -> None:
    """Each load is met by direct green, battery discharge and grid import (``m ≥ 0``).

    ``Σ_u d_tu + Σ_k (b_kt + r_kt) ≤ L_t`` for the park; per user (per-user mode)
    ``d_tu + y_tu ≤ L_tu`` with ``Σ_u y_tu = Σ_k b_kt`` (the green discharge split among users).
    A row only where at least two columns meet (else the column's bound carries it).
    """
    n_t = v.n_intervals
    blocks = [v.discharge, v.discharge_grid]
    count = present(v.direct).sum(axis=1) + sum(present(b).sum(axis=0) for b in blocks)
    idx = np.nonzero(count >= 2)[0]
    if len(idx):
        local = np.full(n_t, -1)
        local[idx] = np.arange(len(idx))
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for u in range(v.direct.shape[1]):
            _coo(rows, cols, vals, local, np.where(local >= 0, v.direct[:, u], NONE), 1.0)
        for block in blocks:
            for k in range(block.shape[0]):
                _coo(rows, cols, vals, local, np.where(local >= 0, block[k], NONE), 1.0)
        hi = oi_load(v)[idx] - v.direct_const[idx].sum(axis=1)
        _add(lp, "load_balance", len(idx), rows, cols, vals, -INF, hi)
    if v.user_discharge is not None:
        y = v.user_discharge
        n_u = y.shape[1]
        t_idx = np.nonzero(present(y).any(axis=1))[0]
        if len(t_idx):
            local = np.full(n_t, -1)
            local[t_idx] = np.arange(len(t_idx))
            rows, cols, vals = [], [], []
            for u in range(n_u):
                _coo(rows, cols, vals, local, np.where(local >= 0, y[:, u], NONE), 1.0)
            for k in range(v.discharge.shape[0]):
                _coo(rows, cols, vals, local, np.where(local >= 0, v.discharge[k], NONE), -1.0)
            _add(lp, "discharge_split", len(t_idx), rows, cols, vals, 0.0, 0.0)
            both = present(v.direct) & present(y)
            tt, uu = np.nonzero(both)
            r = np.arange(len(tt))
            _add(lp, "user_load_balance", len(tt), [r, r], [v.direct[tt, uu], y[tt, uu]],
                 [np.ones(len(tt)), np.ones(len(tt))], -INF,
                 v.load_kwh[tt, uu] - v.direct_const[tt, uu])


def oi_load(v: Variables) -> np.ndarray:
    """(T,) the park load the columns serve."""
    return np.asarray(v.load_kwh.sum(axis=1))


def define_battery_constraints(lp: LpBuilder, oi: OptimizationInputs, v: Variables) -> None:
    """Dynamics, cyclic year, state of charge and power of every battery *k*.

    * green: ``s_kt − s_k,t−1 − η_c c_kt + b_kt / η_d = 0``; grid-coloured (grid charging):
      ``q_kt − q_k,t−1 − η_c h_kt + r_kt / η_d = 0``; cyclic (``s_−1 = s_T−1``). The state is a
      column only where it may bind (:func:`greenlink.optimize.model.states_kept`); a run of
      intervals without it is summed into the row of the next kept state;
    * ``s_kt + q_kt ≤ (σ_max − σ_min) E_k`` — only where the battery can charge: where it
      cannot, ``s_t ≤ s_t−1`` and the row before covers it (one row stays for a battery that
      never charges);
    * ``c_kt + h_kt + b_kt + r_kt ≤ B_k Δt``: one row for charge and discharge. A realizable
      dispatch never charges and discharges in one interval (charge needs green left over,
      discharge a load left unserved), and where the LP is relaxed doing both only wastes
      energy, so the one row loses no optimum.
    """
    n_t = v.n_intervals
    t = np.arange(n_t)
    for k, cand in enumerate(oi.batteries):
        bat = cand.spec
        chains = [("", v.soc[k], v.charge[k], v.discharge[k])]
        if bat.grid_charging and (present(v.grid_charge[k]).any()
                                  or present(v.discharge_grid[k]).any()):
            chains.append(("_grid", v.soc_grid[k], v.grid_charge[k], v.discharge_grid[k]))
        for suffix, soc, inflow, outflow in chains:
            kept = np.nonzero(soc >= 0)[0]
            n_rows = len(kept)
            # interval t belongs to the row of the first kept state at or after it (wrapping)
            block = np.searchsorted(kept, t, side="left") % n_rows
            rows: list[np.ndarray] = []
            cols: list[np.ndarray] = []
            vals: list[np.ndarray] = []
            if n_rows > 1:
                j = np.arange(n_rows)
                _coo(rows, cols, vals, j, soc[kept], 1.0)
                _coo(rows, cols, vals, j, np.roll(soc[kept], 1), -1.0)
            _coo(rows, cols, vals, block, inflow, -bat.charge_efficiency)
            _coo(rows, cols, vals, block, outflow, 1.0 / bat.discharge_efficiency)
            _add(lp, f"battery_{cand.id}_dynamics{suffix}", n_rows, rows, cols, vals, 0.0, 0.0)
        charging = present(v.charge[k]) | present(v.grid_charge[k])
        idx = np.nonzero(charging)[0]
        if not len(idx):
            idx = np.array([n_t - 1])
        r = np.arange(len(idx))
        rows, cols, vals = [], [], []
        _coo(rows, cols, vals, r, v.soc[k][idx], 1.0)
        _coo(rows, cols, vals, r, v.soc_grid[k][idx], 1.0)
        rows.append(r)
        cols.append(np.full(len(idx), v.energy_kwh[k]))
        vals.append(np.full(len(idx), -cand.window))
        _add(lp, f"battery_{cand.id}_soc_max", len(idx), rows, cols, vals, -INF, 0.0)
        flows_k = [v.charge[k], v.grid_charge[k], v.discharge[k], v.discharge_grid[k]]
        active = np.zeros(n_t, dtype=bool)
        for block in flows_k:
            active |= present(block)
        idx = np.nonzero(active)[0]
        if not len(idx):
            continue
        local = np.full(n_t, -1)
        local[idx] = np.arange(len(idx))
        rows, cols, vals = [], [], []
        for block in flows_k:
            _coo(rows, cols, vals, local, block, 1.0)
        rows.append(np.arange(len(idx)))
        cols.append(np.full(len(idx), v.power_kw[k]))
        vals.append(np.full(len(idx), -oi.dt_h))
        # implied lower side (no flow at the largest power), widened so that it never binds:
        # the interior-point solver takes a third fewer iterations with the row boxed
        floor = -widened(cand.max_kw * oi.dt_h)
        _add(lp, f"battery_{cand.id}_power", len(idx), rows, cols, vals,
             floor if np.isfinite(floor) else -INF, 0.0)


def import_terms(v: Variables, idx: np.ndarray, local: np.ndarray, scale: float = 1.0
                 ) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], np.ndarray]:
    """COO entries of the import ``m_t`` (``scale ·``) in rows ``local[t]`` and its constant part
    ``L_t − Σ d_const`` for the intervals ``idx``."""
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    sel = np.where(local >= 0, 0, NONE)
    for u in range(v.direct.shape[1]):
        _coo(rows, cols, vals, local, np.where(sel >= 0, v.direct[:, u], NONE), -scale)
    for block, sign in ((v.discharge, -1.0), (v.discharge_grid, -1.0), (v.grid_charge, 1.0)):
        for k in range(block.shape[0]):
            _coo(rows, cols, vals, local, np.where(sel >= 0, block[k], NONE), sign * scale)
    const = (oi_load(v) - v.direct_const.sum(axis=1))[idx] * scale
    return rows, cols, vals, const


def define_grid_constraints(lp: LpBuilder, oi: OptimizationInputs, v: Variables) -> None:
    """Import limit (elastic where the load alone exceeds it) and monthly peak import.

    * ``m_t − o_t ≤ Ī Δt`` where the import could exceed the limit (``o_t ≥ 0`` the import above
      it, penalised, only where the load alone exceeds it);
    * ``m_t / Δt − K_month(t) ≤ 0`` with a demand charge ``κ K`` per month.

    With ``m_t`` substituted its constant ``L_t − Σ d`` moves to the right-hand side. Export
    ``0 ≤ x_t ≤ X̄ Δt`` is a bound of ``x``.
    """
    n_t = v.n_intervals
    load = oi_load(v) - v.direct_const.sum(axis=1)
    extra = np.zeros(n_t)
    for k, cand in enumerate(oi.batteries):
        extra += np.where(present(v.grid_charge[k]), cand.max_kw * oi.dt_h, 0.0)
    idx = np.nonzero(load + extra > oi.import_limit_kwh + 1e-9)[0]
    if len(idx):
        local = np.full(n_t, -1)
        local[idx] = np.arange(len(idx))
        rows, cols, vals, const = import_terms(v, idx, local)
        if v.over_limit is not None:
            _coo(rows, cols, vals, local, np.where(local >= 0, v.over_limit, NONE), -1.0)
        v.import_limit_rows = _add(lp, "import_limit", len(idx), rows, cols, vals, -INF,
                                   oi.import_limit_kwh - const)
    if v.peak_kw is not None:
        idx = np.nonzero(load + extra > 1e-9)[0]
        local = np.full(n_t, -1)
        local[idx] = np.arange(len(idx))
        rows, cols, vals, const = import_terms(v, idx, local, 1.0 / oi.dt_h)
        months = np.unique(oi.month_of_interval)
        where = np.searchsorted(months, oi.month_of_interval)
        rows.append(np.arange(len(idx)))
        cols.append(v.peak_kw[where[idx]])
        vals.append(-np.ones(len(idx)))
        _add(lp, "peak_import", len(idx), rows, cols, vals, -INF, -const)


# ---------------------------------------------------------------------------------------------
# rules and targets


def _user_weights(oi: OptimizationInputs, v: Variables, scope: str
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(columns of ``direct`` the scope reads, (T, U'') weight of each): the park reads every
    column at 1; a user reads its own column (per-user mode) or the park column at ``ρ_tu``."""
    n_u = v.direct.shape[1]
    if scope == "park":
        return np.arange(n_u), np.ones((v.n_intervals, n_u))
    u = oi.user_ids.index(scope)
    if n_u > 1:
        return np.array([u]), np.ones((v.n_intervals, 1))
    return np.array([0]), oi.user_share[:, [u]]


def _weighted(block: np.ndarray, weights: np.ndarray | float, mask: np.ndarray,
              const: np.ndarray | None = None) -> Expr:
    """``Σ_{t ∈ mask} w_t · block_t`` (+ the constants where ``block`` is no column)."""
    b = block[mask]
    w = np.broadcast_to(weights, block.shape)[mask] if np.ndim(weights) else \
        np.full(b.shape, float(weights))
    keep = b >= 0
    expr = Expr.of(b[keep], w[keep])
    if const is not None:
        expr.const = float(np.sum(np.broadcast_to(const, block.shape)[mask] * w))
    return expr


def _discharge_green(v: Variables) -> np.ndarray:
    """(T, K) green discharge columns (interval first)."""
    return v.discharge.T


def _green_delivered(oi: OptimizationInputs, v: Variables, mask: np.ndarray, scope: str
                     ) -> Expr:
    cols, w = _user_weights(oi, v, scope)
    expr = _weighted(v.direct[:, cols], w, mask, v.direct_const[:, cols])
    if v.user_discharge is not None:
        expr = expr + _weighted(v.user_discharge[:, cols], w, mask)
    else:
        expr = expr + _weighted(_discharge_green(v), w[:, :1], mask)
    return expr


def _available_generation(oi: OptimizationInputs, v: Variables, mask: np.ndarray) -> Expr:
    if v.generation is not None:
        return Expr(const=float(v.generation[mask].sum()))
    expr = Expr()
    for profile, sizes in ((oi.pv_kwh_per_kw, v.pv_kw), (oi.wind_kwh_per_kw, v.wind_kw)):
        if len(sizes):
            expr = expr + Expr.of(sizes, profile[:, mask].sum(axis=1))
    return expr


def _soc_start(oi: OptimizationInputs, v: Variables, first: int) -> Expr:
    """Green stored energy before interval ``first`` as the KPI module reads it from flows.

    The flows carry the green energy above the floor ``s`` (the floor ``σ_min E`` is the
    initial charge: grid energy). After the first row it is ``Σ_k s_k,first−1``; before the
    first row ``policy.kpis.green_battery_loss_kwh`` starts from 0 green stored energy (the
    start of the year), so the term is 0 and the checker sees exactly the share the LP imposed.
    The year is cyclic, so the green energy it ends with is not counted as stored at its start:
    the self-use share of an optimised year is conservative by at most that energy.
    """
    if first > 0:
        return Expr.of(v.soc[:, first - 1], 1.0)
    return Expr.of(v.energy_kwh, np.zeros(len(oi.batteries)))


def _hour_load_shares(oi: OptimizationInputs, scope: str) -> np.ndarray:
    """λ_u,h per interval: the user's share of its clock hour's park load."""
    load = oi.load_kwh
    park_h = np.bincount(oi.hour_of_interval, weights=load.sum(axis=1))
    user = oi.user_ids.index(scope)
    user_h = np.bincount(oi.hour_of_interval, weights=load[:, user])
    share_h = np.divide(user_h, park_h, out=np.zeros_like(user_h), where=park_h > 1e-12)
    return np.asarray(share_h[oi.hour_of_interval])


def _supply_blocks(oi: OptimizationInputs, v: Variables, scope: str
                   ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """The green supply ``a_t`` of the matching KPIs as (columns (T, n), weights, constants):
    green delivered to the scope, plus exports (the park's, or a user's share of its hour's)."""
    cols, w = _user_weights(oi, v, scope)
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]] = [
        (v.direct[:, cols], w, v.direct_const[:, cols])]
    if v.user_discharge is not None:
        out.append((v.user_discharge[:, cols], w, None))
    else:
        out.append((_discharge_green(v), np.broadcast_to(w[:, :1], (v.n_intervals,
                                                                  v.discharge.shape[0])), None))
    share = np.ones(v.n_intervals) if scope == "park" else _hour_load_shares(oi, scope)
    out.append((v.export[:, None], share[:, None], None))
    return out


def _requirement_expressions(lp: LpBuilder, oi: OptimizationInputs, v: Variables,
                             req: Requirement) -> tuple[Expr, Expr]:
    """(numerator, denominator) of a requirement's KPI, both linear in the LP's columns."""
    mask = req.mask
    load_kwh = float(oi.load_kwh[mask].sum() if req.scope == "park"
                     else oi.load_kwh[mask, oi.user_ids.index(req.scope)].sum())
    all_users = np.ones(v.direct.shape, dtype=float)
    charge = v.charge.T
    used = _weighted(v.direct, all_users, mask, v.direct_const) + _weighted(charge, 1.0, mask) \
        + _weighted(v.export[:, None], 1.0, mask)
    gen_den = _available_generation(oi, v, mask) if oi.readings.curtailment_in_denominator \
        else used
    m = req.metric
    if m in ("green_share_of_consumption", "physically_delivered_share"):
        return _green_delivered(oi, v, mask, req.scope), Expr(const=load_kwh)
    if m == "self_use_share_of_generation":
        if oi.readings.storage_losses_count_as_self_use:
            num = _weighted(v.direct, all_users, mask, v.direct_const) \
                + _weighted(charge, 1.0, mask)
            if len(oi.batteries):
                last = int(np.nonzero(mask)[0][-1])
                num = num - Expr.of(v.soc[:, last], 1.0) \
                    + _soc_start(oi, v, int(np.nonzero(mask)[0][0]))
        else:
            num = _green_delivered(oi, v, mask, "park")
        return num, gen_den
    if m == "export_share_of_generation":
        return _weighted(v.export[:, None], 1.0, mask), gen_den
    if m == "annual_matched_share":
        num = Expr()
        for cols, w, const in _supply_blocks(oi, v, req.scope):
            num = num + _weighted(cols, w, mask, const)
        return num, Expr(const=load_kwh)
    if m == "hourly_matched_share":
        return _hourly_matched(lp, oi, v, req, load_kwh)
    raise ValueError(f"metric {m!r} is not linear")


def _hourly_matched(lp: LpBuilder, oi: OptimizationInputs, v: Variables, req: Requirement,
                    load_kwh: float) -> tuple[Expr, Expr]:
    """``Σ_h min(a_h, L_h)`` as ``Σ_h μ_h`` with ``μ_h ≤ a_h`` (rows) and ``μ_h ≤ L_h`` (bound);
    a rule and a target on the same scope and period share one ``μ`` (and its rows)."""
    key = (req.scope, req.period, bytes(np.packbits(req.mask)))
    if key in v.matched:
        return v.matched[key]
    idx = np.nonzero(req.mask)[0]
    hours, local = np.unique(oi.hour_of_interval[idx], return_inverse=True)
    n_h = len(hours)
    if req.scope == "park":
        load_t = oi.load_kwh[idx].sum(axis=1)
    else:
        load_t = oi.load_kwh[idx, oi.user_ids.index(req.scope)]
    load_h = np.bincount(local, weights=load_t, minlength=n_h)
    name = f"matched_{req.id}_{req.scope}_{req.period}"
    mu = lp.add_vars(name, n_h, 0.0, load_h, 0.0)
    rows: list[np.ndarray] = [np.arange(n_h)]
    cols: list[np.ndarray] = [mu]
    vals: list[np.ndarray] = [np.ones(n_h)]
    const_h = np.zeros(n_h)
    for block, w, const in _supply_blocks(oi, v, req.scope):
        part = block[idx]
        wt = np.broadcast_to(w, block.shape)[idx]
        r = np.repeat(local, part.shape[1]).reshape(part.shape)
        _coo(rows, cols, vals, r.ravel(), part.ravel(), -wt.ravel())
        if const is not None:
            const_h += np.bincount(local, weights=(np.broadcast_to(const, block.shape)[idx]
                                                   * wt).sum(axis=1), minlength=n_h)
    _add(lp, name, n_h, rows, cols, vals, -INF, const_h)
    v.matched[key] = (Expr.of(mu, 1.0), Expr(const=load_kwh))
    return v.matched[key]


def define_requirement_constraints(lp: LpBuilder, oi: OptimizationInputs, v: Variables) -> None:
    """Every applicable ratio rule and user target, as one elastic linear row.

    A ratio rule ``N(x) / D(x) ≥ k`` (``≤ k``) becomes ``N(x) − k D(x) + σ ≥ 0``
    (``N − k D − σ ≤ 0``) with ``σ ≥ 0`` the shortfall in kWh, priced at the penalty so it is
    used only when the rule cannot be met. The KPIs, as in ``policy/kpis.py``:

    * self-use share of generation: ``N = Σ d + Σ c − (s_end − s_start)`` (green delivered plus
      green battery losses; ``s_start`` is 0 before the first interval, see :func:`_soc_start`),
      ``D = Σ_p G_p P_p + …`` (available generation; minus curtailment when the rule set says so);
    * green share of consumption (park or user): ``N = Σ (d + b)`` (a user's share ``ρ_tu`` of it,
      or its own columns), ``D = Σ L``;
    * export share of generation: ``N = Σ x``, ``D`` as above;
    * annual-matched share: ``N = Σ a_t`` (green supply incl. exports attributed by load share);
    * hourly-matched share: ``N = Σ_h μ_h`` with ``μ_h ≤ Σ_{t∈h} a_t`` and ``μ_h ≤ L_h``.
    """
    for i, req in enumerate(oi.requirements):
        num, den = _requirement_expressions(lp, oi, v, req)
        # a hair inside the threshold, so the checker's 1e-9 tolerance never sees LP round-off
        k = min(req.threshold + THRESHOLD_MARGIN, 1.0) if req.operator == ">=" \
            else max(req.threshold - THRESHOLD_MARGIN, 0.0)
        k = req.threshold if req.threshold in (0.0, 1.0) else k
        expr = num - den * k
        slack = int(lp.add_vars(f"slack_{i}", 1, 0.0, INF, oi.costs.penalty_per_kwh)[0])
        if req.operator == ">=":
            row = lp.add_expr_row(f"req_{i}", expr + Expr.of(np.array([slack]), 1.0), lo=0.0)
        else:
            row = lp.add_expr_row(f"req_{i}", expr - Expr.of(np.array([slack]), 1.0), hi=0.0)
        v.slack[i] = slack
        v.req_rows[i] = row
        v.req_den[i] = den
