"""Constraint families of the sizing-and-dispatch LP, one ``define_<family>_constraints`` each.

Notation (all energies in kWh per interval *t*, powers in kW, ``Δt`` the interval in hours):

* sizes: ``P_p`` PV capacity of candidate plant *p* (kWp), ``W_w`` wind capacity, ``E`` battery
  energy, ``B`` battery power;
* dispatch: ``d_tu`` green energy sent straight from the plants to user *u*, ``b_tu`` battery
  discharge to user *u*, ``c_t`` battery charge (from the plants only, so every stored kWh is
  green), ``x_t`` export, ``s_t`` stored energy above the
  minimum state of charge at the end of *t* (``s_t = SoC_t − σ_min E``, so ``s_t ≥ 0`` is a bound
  and the row ``SoC_t ≥ σ_min E`` is not needed); the grid import
  ``m_tu = L_tu − d_tu − b_tu`` is not a column but substituted (one column and one equality row
  fewer per interval and user);
* data: ``g_pt`` PV output per kWp, ``f_wt`` wind output per kW, ``L_tu`` load.

Users are one aggregate column (u = park) unless a rule or target is per user.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from greenlink.optimize.inputs import OptimizationInputs, Requirement
from greenlink.optimize.lp import INF, Expr, LpBuilder

#: Rules are imposed this far inside their threshold (share), against solver round-off.
THRESHOLD_MARGIN = 1e-8


@dataclass
class Variables:
    """Column indices of every variable block (``None`` where the block is absent)."""

    pv_kw: np.ndarray
    wind_kw: np.ndarray
    direct: np.ndarray  # (T, U')
    load_kwh: np.ndarray  # (T, U') the loads the columns serve
    discharge: np.ndarray | None = None  # (T, U')
    charge: np.ndarray | None = None  # (T,)
    soc: np.ndarray | None = None  # (T,) stored energy above σ_min E
    energy_kwh: int | None = None
    power_kw: int | None = None
    export: np.ndarray | None = None  # (T,)
    over_limit: np.ndarray | None = None  # (T,)
    peak_kw: np.ndarray | None = None  # (months,)
    pv_kw_t: np.ndarray | None = None  # (P, T) the PV size as seen by interval t
    wind_kw_t: np.ndarray | None = None  # (W, T)
    energy_kwh_t: np.ndarray | None = None  # (T,)
    power_kw_t: np.ndarray | None = None  # (T,)
    slack: dict[int, int] = field(default_factory=dict)  # requirement number -> column
    req_rows: dict[int, int] = field(default_factory=dict)  # requirement number -> row
    req_den: dict[int, Expr] = field(default_factory=dict)  # requirement -> denominator


def define_size_variables(lp: LpBuilder, oi: OptimizationInputs) -> dict[str, np.ndarray | int]:
    """Sizes with their annualised cost per unit (capex × CRF + fixed O&M, × modelled fraction).

    ``P_p``, ``W_w``, ``E``, ``B`` within their bounds (lower bounds 0 unless fixed).
    """
    frac = oi.period_fraction
    c = oi.costs
    out: dict[str, np.ndarray | int] = {
        "pv_kw": lp.add_vars("pv_kw", len(oi.pv_ids), oi.pv_min_kw, oi.pv_max_kw,
                             frac * c.pv_per_kw_year),
        "wind_kw": lp.add_vars("wind_kw", len(oi.wind_ids), oi.wind_min_kw, oi.wind_max_kw,
                               frac * c.wind_per_kw_year),
    }
    if oi.battery is not None:
        out["energy_kwh"] = int(lp.add_vars("battery_energy_kwh", 1, oi.battery_min_kwh,
                                            oi.battery_max_kwh,
                                            frac * c.battery_per_kwh_year)[0])
        out["power_kw"] = int(lp.add_vars("battery_power_kw", 1, oi.battery_min_kw,
                                          oi.battery_max_kw,
                                          frac * c.battery_per_kw_year)[0])
    return out


def define_size_copies(lp: LpBuilder, v: Variables, n_t: int, split: bool = True) -> None:
    """Per-interval copies of the sizes, chained ``z_t = z_{t−1}``, ``z_0 = z``.

    A size appears in every interval's rows; as one column that column is dense. The chain of
    copies keeps every column sparse and the matrix banded, for the same optimum
    (``split=False``, the default of :func:`~greenlink.optimize.model.build_model`, uses the
    size column itself in every row: HiGHS's presolve merges the copies back anyway and its
    interior-point solver treats the few dense columns separately).
    """
    def copies(name: str, cols: np.ndarray) -> np.ndarray:
        cols = np.atleast_1d(cols)
        if not split or n_t <= 1:
            return np.repeat(cols[:, None], n_t, axis=1)
        z = lp.add_vars(f"{name}_t", (len(cols), n_t), 0.0, INF, 0.0)
        k = len(cols)
        r = np.arange(k * n_t).reshape(k, n_t)
        prev = np.concatenate([cols[:, None], z[:, :-1]], axis=1)
        lp.add_rows(f"{name}_chain", k * n_t, np.concatenate([r.ravel(), r.ravel()]),
                    np.concatenate([z.ravel(), prev.ravel()]),
                    np.concatenate([np.ones(k * n_t), -np.ones(k * n_t)]), 0.0, 0.0)
        return z

    v.pv_kw_t = copies("pv_kw", v.pv_kw) if len(v.pv_kw) else np.zeros((0, n_t), dtype=np.int64)
    v.wind_kw_t = copies("wind_kw", v.wind_kw) if len(v.wind_kw) \
        else np.zeros((0, n_t), dtype=np.int64)
    if v.energy_kwh is not None and v.power_kw is not None:
        v.energy_kwh_t = copies("energy_kwh", np.array([v.energy_kwh]))[0]
        v.power_kw_t = copies("power_kw", np.array([v.power_kw]))[0]


def define_generation_constraints(lp: LpBuilder, oi: OptimizationInputs, v: Variables) -> None:
    """Green energy used cannot exceed what the plants make (the rest is curtailed).

    ``Σ_u d_tu + c_t + x_t − Σ_p g_pt P_p − Σ_w f_wt W_w ≤ 0`` for every *t*; curtailment is
    the slack of this row.
    """
    n_t, n_u = v.direct.shape
    t = np.arange(n_t)
    rows = [np.repeat(t, n_u)]
    cols = [v.direct.ravel()]
    vals = [np.ones(n_t * n_u)]
    for block in (v.charge, v.export):
        if block is not None:
            rows.append(t)
            cols.append(block)
            vals.append(np.ones(n_t))
    assert v.pv_kw_t is not None and v.wind_kw_t is not None
    for profile, sizes in ((oi.pv_kwh_per_kw, v.pv_kw_t), (oi.wind_kwh_per_kw, v.wind_kw_t)):
        for k in range(len(sizes)):
            nz = np.nonzero(profile[k])[0]
            rows.append(nz)
            cols.append(sizes[k][nz])
            vals.append(-profile[k][nz])
    lp.add_rows("generation", n_t, np.concatenate(rows), np.concatenate(cols),
                np.concatenate(vals), -INF, 0.0)


def define_load_balance_constraints(lp: LpBuilder, v: Variables) -> None:
    """Each user's load is met by direct green, battery discharge and grid import.

    ``d_tu + b_tu + m_tu = L_tu`` with ``m_tu ≥ 0`` substituted: ``d_tu + b_tu ≤ L_tu`` (green
    delivered never exceeds the load). Without a battery this is the bound ``d_tu ≤ L_tu``.
    """
    if v.discharge is None:
        return
    n_t, n_u = v.direct.shape
    n = n_t * n_u
    r = np.arange(n)
    lp.add_rows("load_balance", n, np.concatenate([r, r]),
                np.concatenate([v.direct.ravel(), v.discharge.ravel()]), 1.0, -INF,
                v.load_kwh.ravel())


def define_battery_constraints(lp: LpBuilder, oi: OptimizationInputs, v: Variables) -> None:
    """Battery dynamics, cyclic year, state-of-charge and power bounds.

    * ``s_t − s_{t−1} − η_c c_t + (1/η_d) Σ_u b_tu = 0`` with ``s_{−1} = s_{T−1}`` (cyclic);
    * ``0 ≤ s_t ≤ (σ_max − σ_min) E`` (``s`` counts from the minimum state of charge ``σ_min E``;
      ``E`` is constant, so the dynamics are the same for the shifted ``s``);
    * ``c_t ≤ B Δt`` and ``Σ_u b_tu ≤ B Δt``.
    """
    assert oi.battery is not None and v.soc is not None and v.charge is not None
    assert v.discharge is not None and v.energy_kwh is not None and v.power_kw is not None
    bat = oi.battery
    n_t, n_u = v.discharge.shape
    t = np.arange(n_t)
    prev = np.roll(v.soc, 1)
    rows = np.concatenate([t, t, t, np.repeat(t, n_u)])
    cols = np.concatenate([v.soc, prev, v.charge, v.discharge.ravel()])
    vals = np.concatenate([np.ones(n_t), -np.ones(n_t), np.full(n_t, -bat.charge_efficiency),
                           np.full(n_t * n_u, 1.0 / bat.discharge_efficiency)])
    if n_t == 1:  # s_0 − s_0 cancels: a single interval must end where it started
        keep = np.ones(len(rows), dtype=bool)
        keep[:2] = False
        rows, cols, vals = rows[keep], cols[keep], vals[keep]
    lp.add_rows("battery_dynamics", n_t, rows, cols, vals, 0.0, 0.0)
    assert v.energy_kwh_t is not None and v.power_kw_t is not None
    e = v.energy_kwh_t
    lp.add_rows("soc_max", n_t, np.concatenate([t, t]), np.concatenate([v.soc, e]),
                np.concatenate([np.ones(n_t), np.full(n_t, bat.soc_min - bat.soc_max)]),
                -INF, 0.0)
    p = v.power_kw_t
    lp.add_rows("charge_power", n_t, np.concatenate([t, t]), np.concatenate([v.charge, p]),
                np.concatenate([np.ones(n_t), np.full(n_t, -oi.dt_h)]), -INF, 0.0)
    lp.add_rows("discharge_power", n_t, np.concatenate([np.repeat(t, n_u), t]),
                np.concatenate([v.discharge.ravel(), p]),
                np.concatenate([np.ones(n_t * n_u), np.full(n_t, -oi.dt_h)]), -INF, 0.0)


def define_grid_constraints(lp: LpBuilder, oi: OptimizationInputs, v: Variables) -> None:
    """Import limit (elastic) and monthly peak import for demand charges.

    * ``Σ_u m_tu − o_t ≤ Ī Δt``, with ``o_t ≥ 0`` the import above the limit at a large penalty
      (added only where the load can exceed the limit);
    * ``Σ_u m_tu / Δt − K_month(t) ≤ 0``, ``K`` the month's peak import power (only with a
      demand charge). Export ``0 ≤ x_t ≤ X̄ Δt`` is a bound of ``x``.

    With ``m_tu = L_tu − d_tu − b_tu`` substituted, ``Σ_u m_tu`` is ``L_t − Σ_u (d_tu + b_tu)``
    and ``L_t`` moves to the right-hand side.
    """
    n_t, n_u = v.direct.shape
    t = np.arange(n_t)
    green = [v.direct] + ([v.discharge] if v.discharge is not None else [])
    g_rows = np.concatenate([np.repeat(t, n_u)] * len(green))
    g_cols = np.concatenate([b.ravel() for b in green])
    load_t = v.load_kwh.sum(axis=1)
    if v.over_limit is not None:
        lp.add_rows("import_limit", n_t, np.concatenate([g_rows, t]),
                    np.concatenate([g_cols, v.over_limit]),
                    np.concatenate([-np.ones(len(g_cols)), -np.ones(n_t)]), -INF,
                    oi.import_limit_kwh - load_t)
    if v.peak_kw is not None:
        months = np.unique(oi.month_of_interval)
        where = np.searchsorted(months, oi.month_of_interval)
        lp.add_rows("peak_import", n_t, np.concatenate([g_rows, t]),
                    np.concatenate([g_cols, v.peak_kw[where]]),
                    np.concatenate([np.full(len(g_cols), -1.0 / oi.dt_h), -np.ones(n_t)]),
                    -INF, -load_t / oi.dt_h)


def _user_columns(oi: OptimizationInputs, v: Variables, scope: str) -> np.ndarray:
    n_u = v.direct.shape[1]
    if scope == "park":
        return np.arange(n_u)
    return np.array([oi.user_ids.index(scope) if n_u > 1 else 0])


def _sum(block: np.ndarray | None, mask: np.ndarray, users: np.ndarray | None = None,
         coef: float | np.ndarray = 1.0) -> Expr:
    if block is None:
        return Expr()
    part = block[mask] if users is None else block[mask][:, users]
    weights = coef if np.ndim(coef) == 0 else np.broadcast_to(
        np.asarray(coef)[:, None] if part.ndim == 2 else coef, part.shape)
    return Expr.of(part, weights)


def _available_generation(oi: OptimizationInputs, v: Variables, mask: np.ndarray) -> Expr:
    expr = Expr()
    for profile, sizes in ((oi.pv_kwh_per_kw, v.pv_kw), (oi.wind_kwh_per_kw, v.wind_kw)):
        if len(sizes):
            expr = expr + Expr.of(sizes, profile[:, mask].sum(axis=1))
    return expr


def _green_delivered(v: Variables, mask: np.ndarray, users: np.ndarray) -> Expr:
    return _sum(v.direct, mask, users) + _sum(v.discharge, mask, users)


def _soc_start(oi: OptimizationInputs, v: Variables, first: int) -> Expr:
    """Green stored energy before interval ``first`` as the KPI module reads it from flows,
    less the floor ``σ_min E`` (the LP's ``s`` counts from it; the flows carry ``s + σ_min E``).

    After the first row it is ``s_{first−1}`` (the floor cancels against the end value). Before
    the first row ``policy.kpis.green_battery_loss_kwh`` starts from 0 green stored energy (the
    start of the year), so the floor does not cancel and the LP uses ``−σ_min E``; the checker
    sees exactly the share the LP imposed.
    """
    assert v.soc is not None and v.energy_kwh is not None and oi.battery is not None
    if first > 0:
        return Expr.of(np.array([v.soc[first - 1]]), 1.0)
    return Expr.of(np.array([v.energy_kwh]), -oi.battery.soc_min)


def _hour_load_shares(oi: OptimizationInputs, scope: str) -> np.ndarray:
    """λ_u,h per interval: the user's share of its clock hour's park load."""
    load = oi.load_kwh
    park_h = np.bincount(oi.hour_of_interval, weights=load.sum(axis=1))
    user = oi.user_ids.index(scope)
    user_h = np.bincount(oi.hour_of_interval, weights=load[:, user])
    share_h = np.divide(user_h, park_h, out=np.zeros_like(user_h), where=park_h > 1e-12)
    return np.asarray(share_h[oi.hour_of_interval])


def _requirement_expressions(lp: LpBuilder, oi: OptimizationInputs, v: Variables,
                             req: Requirement) -> tuple[Expr, Expr]:
    """(numerator, denominator) of a requirement's KPI, both linear in the LP's columns."""
    mask = req.mask
    users = _user_columns(oi, v, req.scope)
    load_kwh = float(oi.load_kwh[mask].sum() if req.scope == "park"
                     else oi.load_kwh[mask, oi.user_ids.index(req.scope)].sum())
    all_users = np.arange(v.direct.shape[1])
    used = _sum(v.direct, mask, all_users) + _sum(v.charge, mask) + _sum(v.export, mask)
    gen_den = _available_generation(oi, v, mask) if oi.readings.curtailment_in_denominator \
        else used
    m = req.metric
    if m in ("green_share_of_consumption", "physically_delivered_share"):
        return _green_delivered(v, mask, users), Expr(const=load_kwh)
    if m == "self_use_share_of_generation":
        if oi.readings.storage_losses_count_as_self_use:
            num = _sum(v.direct, mask, all_users) + _sum(v.charge, mask)
            if v.soc is not None and v.charge is not None and v.discharge is not None:
                num = num - Expr.of(np.array([v.soc[np.nonzero(mask)[0][-1]]]), 1.0) \
                    + _soc_start(oi, v, int(np.nonzero(mask)[0][0]))
        else:
            num = _green_delivered(v, mask, all_users)
        return num, gen_den
    if m == "export_share_of_generation":
        return _sum(v.export, mask), gen_den
    if req.scope == "park":
        supply_cols = [v.direct[:, all_users]] + \
            ([v.discharge[:, all_users]] if v.discharge is not None else []) + \
            ([v.export[:, None]] if v.export is not None else [])
        share = None
    else:
        supply_cols = [v.direct[:, users]] + \
            ([v.discharge[:, users]] if v.discharge is not None else [])
        share = _hour_load_shares(oi, req.scope)
    if m == "annual_matched_share":
        num = Expr()
        for block in supply_cols:
            num = num + _sum(block, mask)
        if share is not None and v.export is not None:
            num = num + _sum(v.export, mask, coef=share[mask])
        return num, Expr(const=load_kwh)
    if m == "hourly_matched_share":
        return _hourly_matched(lp, oi, v, req, supply_cols, share, load_kwh)
    raise ValueError(f"metric {m!r} is not linear")


def _hourly_matched(lp: LpBuilder, oi: OptimizationInputs, v: Variables, req: Requirement,
                    supply_cols: list[np.ndarray], share: np.ndarray | None, load_kwh: float
                    ) -> tuple[Expr, Expr]:
    """``Σ_h min(a_h, L_h)`` as ``Σ_h μ_h`` with ``μ_h ≤ a_h`` (rows) and ``μ_h ≤ L_h`` (bound)."""
    mask = req.mask
    idx = np.nonzero(mask)[0]
    hours, local = np.unique(oi.hour_of_interval[idx], return_inverse=True)
    n_h = len(hours)
    if req.scope == "park":
        load_t = oi.load_kwh[idx].sum(axis=1)
    else:
        load_t = oi.load_kwh[idx, oi.user_ids.index(req.scope)]
    load_h = np.bincount(local, weights=load_t, minlength=n_h)
    mu = lp.add_vars(f"matched_{req.id}_{req.scope}_{req.period}", n_h, 0.0, load_h, 0.0)
    rows: list[np.ndarray] = [np.arange(n_h)]
    cols: list[np.ndarray] = [mu]
    vals: list[np.ndarray] = [np.ones(n_h)]
    for block in supply_cols:
        part = block[idx]
        rows.append(np.repeat(local, part.shape[1]))
        cols.append(part.ravel())
        vals.append(-np.ones(part.size))
    if share is not None and v.export is not None:
        rows.append(local)
        cols.append(v.export[idx])
        vals.append(-share[idx])
    lp.add_rows(f"matched_{req.id}_{req.scope}_{req.period}", n_h, np.concatenate(rows),
                np.concatenate(cols), np.concatenate(vals), -INF, 0.0)
    return Expr.of(mu, 1.0), Expr(const=load_kwh)


def define_requirement_constraints(lp: LpBuilder, oi: OptimizationInputs, v: Variables) -> None:
    """Every applicable ratio rule and user target, as one elastic linear row.

    A ratio rule ``N(x) / D(x) ≥ k`` (``≤ k``) becomes ``N(x) − k D(x) + σ ≥ 0``
    (``N − k D − σ ≤ 0``) with ``σ ≥ 0`` the shortfall in kWh, priced at the penalty so it is
    used only when the rule cannot be met. The KPIs, as in ``policy/kpis.py``:

    * self-use share of generation: ``N = Σ d + Σ c − (s_end − s_start)`` (green delivered plus
      green battery losses; ``s_start`` is 0 before the first interval, see :func:`_soc_start`),
      ``D = Σ_p G_p P_p + …``
      (available generation; minus curtailment when the rule set says so);
    * green share of consumption (park or user): ``N = Σ (d + b)``, ``D = Σ L``;
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
