"""Build the sizing-and-dispatch LP from :class:`OptimizationInputs` (one call per family).

Objective (minimise, currency of the tariff, over the modelled period; annual costs × the
modelled fraction of a year ``φ``)::

    φ [ Σ_p a_pv P_p + Σ_w a_wind W_w + Σ_k (a_E E_k + a_B B_k) ]
    + Σ_t π_t m_t − Σ_t π_x x_t + Σ_t v_B Σ_k (b_kt + r_kt)
    + Σ_t f^green_t (d_t + Σ_k b_kt) + Σ_t f^load_t L_t + Σ_t τ_t
    + Σ_months κ K_month + Π (Σ_t o_t + Σ_r σ_r)

with the import ``m_t = L_t − d_t − Σ_k (b_kt + r_kt) + Σ_k h_kt`` substituted. ``a_*``
annuities (capex × CRF + fixed O&M); ``π_t`` the import price: tariff plus the per-kWh
direct-line fees on grid energy ``f^grid_t`` plus the carbon cost ``p_CO2 · EF``; ``f^green_t``
and ``f^load_t`` the fees on green energy used and on all consumption; ``τ_t`` the T&D capacity
charge on the connection capacity, each month's charge spread over its intervals (a constant).
The fees are those settlement bills (:class:`~greenlink.optimize.inputs.FeeArrays`). ``π_x`` the
export price, ``v_B`` the battery's variable O&M, ``κ`` the tariff's demand charge and ``Π`` the
penalty on import above the limit and on missed rules and targets.

Three modes (:mod:`greenlink.optimize.constraints`):

* ``relaxed`` — the plain LP: any green may be stored or exported, whatever the loads need;
* ``sizing`` — generation sized, the realizable dispatch relaxed to its convex hull per interval
  (:mod:`greenlink.optimize.regimes`): a lower bound of the realizable least cost;
* ``dispatch`` — generation fixed: the direct green is ``min(G_t, L_t)``, only the surplus is
  stored or exported and only the deficit met by discharge, so every solution is realizable;
  batteries are still sized.
"""

from __future__ import annotations

import numpy as np

from greenlink import flows
from greenlink.dispatch.allocation import allocate
from greenlink.optimize.constraints import (
    DISPATCH,
    NONE,
    RELAXED,
    SIZING,
    Variables,
    define_battery_constraints,
    define_direct_supply_constraints,
    define_generation_constraints,
    define_grid_constraints,
    define_load_balance_constraints,
    define_requirement_constraints,
    widened,
)
from greenlink.optimize.inputs import OptimizationInputs
from greenlink.optimize.lp import INF, LpBuilder
from greenlink.optimize.regimes import NIGHT, SURPLUS, Regimes, fixed_regimes, regimes


def allocation_kwargs(oi: OptimizationInputs) -> dict[str, np.ndarray]:
    """The allocation method's parameters of the scenario's users."""
    sc = oi.park.scenario
    return {"shares": np.array([u.share or 0.0 for u in sc.users]),
            "priorities": np.array([u.priority or 1 for u in sc.users]),
            "entitlements": np.array([(u.contracted_kw or 0.0) * oi.dt_h for u in sc.users])}


def _columns(lp: LpBuilder, name: str, where: np.ndarray, lo: float | np.ndarray,
             hi: float | np.ndarray, cost: float | np.ndarray) -> np.ndarray:
    """Columns where ``where`` (same shape), ``-1`` elsewhere; bounds and costs broadcast."""
    out = np.full(where.shape, NONE, dtype=np.int64)
    n = int(where.sum())
    pick = np.broadcast_to
    out[where] = lp.add_vars(name, n, pick(np.asarray(lo, dtype=float), where.shape)[where],
                             pick(np.asarray(hi, dtype=float), where.shape)[where],
                             pick(np.asarray(cost, dtype=float), where.shape)[where])
    return out


def implied_caps(oi: OptimizationInputs, store_cap: np.ndarray
                 ) -> tuple[list[np.ndarray], list[np.ndarray], list[float]]:
    """Per battery, finite upper bounds that the rows already imply: green charge (T,) and grid
    charge (T,) per interval, and the state of charge above its minimum.

    Green charge is at most the generation at the sizes' upper bounds (the generation row) and
    ``store_cap``; every charge at most the power's upper bound times ``Δt`` (the power row);
    the state at most the usable energy's upper bound (the state-of-charge row). Not the usable
    energy over the charge efficiency: an interval that charges and discharges at once (which a
    relaxation may, e.g. the hourly one for quarter-hours that alternate) can charge more. The
    LP's optimum is unchanged; the interior-point solver, given a box instead of a half-line
    for these columns, takes a quarter less time on a year of hourly dispatch (one site,
    relaxed LP, ``benchmarks/optimize_vs_pypsa.py --headline``).
    """
    generation = np.minimum(store_cap, oi.generation_kwh(oi.pv_max_kw, oi.wind_max_kw)
                            if np.isfinite(oi.pv_max_kw).all()
                            and np.isfinite(oi.wind_max_kw).all() else INF)
    green, grid, state = [], [], []
    for b in oi.batteries:
        per_interval = b.max_kw * oi.dt_h
        green.append(np.asarray(widened(np.minimum(generation, per_interval))))
        grid.append(np.full(oi.n_intervals, widened(per_interval)))
        state.append(float(widened(b.window * b.max_kwh if b.window > 0 else 0.0)))  # no inf×0
    return green, grid, state


def period_ends(oi: OptimizationInputs) -> np.ndarray:
    """(T,) intervals whose stored energy a rule reads: each requirement period's last interval
    and the one before its first."""
    ends = np.zeros(oi.n_intervals, dtype=bool)
    if oi.n_intervals:
        ends[-1] = True
    for req in oi.requirements:
        idx = np.nonzero(req.mask)[0]
        if len(idx):
            ends[idx[-1]] = True
            if idx[0] > 0:
                ends[idx[0] - 1] = True
    return ends


def states_kept(charge: np.ndarray, grid_charge: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(T,) intervals whose state of charge is a column.

    Where a battery cannot charge its stored energy only falls, so between two charging
    intervals the bounds ``0 ≤ s ≤ window · E`` hold wherever they hold at the run's ends: the
    state is kept after every interval that can charge and before it (the run's low point), and
    where a rule reads it; a run of discharge-only intervals becomes one row of the dynamics.
    """
    can = np.asarray(charge, dtype=bool) | np.asarray(grid_charge, dtype=bool)
    kept = can | ends
    kept[:-1] |= can[1:]
    if len(kept) and not kept.any():
        kept[-1] = True
    return kept


def build_model(oi: OptimizationInputs, mode: str = RELAXED, *, reg: Regimes | None = None,
                pv_kw: np.ndarray | None = None, wind_kw: np.ndarray | None = None
                ) -> tuple[LpBuilder, Variables]:
    """Variables, constraint families and objective of the LP in one of the three modes.

    ``reg`` overrides the regimes of ``sizing`` (the hourly relaxation passes the sums of the
    fine intervals'); ``pv_kw``/``wind_kw`` are the fixed generation sizes of ``dispatch``.
    """
    lp = LpBuilder()
    c = oi.costs
    frac = oi.period_fraction
    n_t = oi.n_intervals
    load = oi.load_kwh if oi.per_user else oi.park_load_kwh[:, None]
    n_u = load.shape[1]
    park_load = oi.park_load_kwh
    price = oi.price_per_kwh
    f_green = oi.fees.per_kwh(flows.USER_GREEN_KWH)
    generation = None
    if mode == DISPATCH:
        pv_fixed = np.zeros(len(oi.pv_ids)) if pv_kw is None else np.asarray(pv_kw, float)
        wind_fixed = np.zeros(len(oi.wind_ids)) if wind_kw is None else np.asarray(wind_kw,
                                                                                   float)
        generation = oi.generation_kwh(pv_fixed, wind_fixed)
        reg = fixed_regimes(oi, generation)
        pv_cols = np.zeros(0, dtype=np.int64)
        wind_cols = np.zeros(0, dtype=np.int64)
        lp.offset += frac * (c.pv_per_kw_year * float(pv_fixed.sum())
                             + c.wind_per_kw_year * float(wind_fixed.sum()))
    else:
        reg = reg if reg is not None else regimes(oi)
        pv_cols = lp.add_vars("pv_kw", len(oi.pv_ids), oi.pv_min_kw, oi.pv_max_kw,
                              frac * c.pv_per_kw_year)
        wind_cols = lp.add_vars("wind_kw", len(oi.wind_ids), oi.wind_min_kw, oi.wind_max_kw,
                                frac * c.wind_per_kw_year)
    bats = oi.batteries
    n_b = len(bats)
    e_cols = lp.add_vars("battery_energy_kwh", n_b, np.array([b.min_kwh for b in bats]),
                         np.array([b.max_kwh for b in bats]), frac * c.battery_per_kwh_year)
    p_cols = lp.add_vars("battery_power_kw", n_b, np.array([b.min_kw for b in bats]),
                         np.array([b.max_kw for b in bats]), frac * c.battery_per_kw_year)

    # -- direct green
    direct_const = np.zeros((n_t, n_u))
    if mode == DISPATCH:
        assert generation is not None
        d = np.minimum(generation, park_load)
        if n_u > 1:
            direct_const = allocate(d, load, oi.park.scenario.allocation.method,
                                    **allocation_kwargs(oi))
        else:
            direct_const = d[:, None]
        has_direct = np.zeros((n_t, n_u), dtype=bool)
    elif mode == SIZING:
        surplus = reg.kind == SURPLUS
        direct_const[surplus] = load[surplus]
        has_direct = np.broadcast_to(((reg.kind != NIGHT) & ~surplus)[:, None], (n_t, n_u))
    else:
        has_direct = np.broadcast_to((reg.kind != NIGHT)[:, None], (n_t, n_u))
    has_direct = has_direct & (load > 0)
    direct = _columns(lp, "direct_kwh", has_direct, 0.0, load, (f_green - price)[:, None])

    # -- surplus and deficit sides
    if mode == DISPATCH:
        assert generation is not None
        surplus_kwh = np.maximum(generation - park_load, 0.0)
        deficit_kwh = np.maximum(park_load - generation, 0.0)
        can_store = surplus_kwh > 1e-9
        can_serve = deficit_kwh > 1e-9
        store_cap = surplus_kwh
        serve_cap = deficit_kwh
    elif mode == SIZING:
        can_store = reg.surplus_possible.copy()
        can_serve = reg.deficit_possible & (park_load > 0)
        store_cap = np.full(n_t, INF)
        serve_cap = park_load
    else:
        can_store = reg.kind != NIGHT
        can_serve = park_load > 0
        store_cap = np.full(n_t, INF)
        serve_cap = park_load
    no_surplus = {DISPATCH: ~can_store, SIZING: reg.kind != SURPLUS}.get(
        mode, np.ones(n_t, dtype=bool))

    def per_battery(name: str, where: np.ndarray, cap: np.ndarray | list[np.ndarray],
                    cost: np.ndarray | float, only: list[bool] | None = None) -> np.ndarray:
        out = np.full((n_b, n_t), NONE, dtype=np.int64)
        for k, b in enumerate(bats):
            if only is not None and not only[k]:
                continue
            # no bound from the power's upper bound itself here: it would take the power's
            # shadow price (two tight bounds on one vertex) and "what binds" would miss it
            out[k] = _columns(lp, f"{name}_{b.id}", where, 0.0,
                              cap[k] if isinstance(cap, list) else cap, cost)
        return out

    grid_ok = [b.spec.grid_charging for b in bats]
    green_cap, grid_cap, state_cap = implied_caps(oi, store_cap)
    charge = per_battery("charge_kwh", can_store, green_cap, 0.0)
    discharge = per_battery("discharge_kwh", can_serve, serve_cap,
                            f_green + c.battery_variable_per_kwh - price)
    grid_charge = per_battery("grid_charge_kwh", oi.cheap & no_surplus, grid_cap, price,
                              grid_ok)
    discharge_grid = per_battery("discharge_grid_kwh", can_serve, serve_cap,
                                 c.battery_variable_per_kwh - price, grid_ok)
    soc = np.full((n_b, n_t), NONE, dtype=np.int64)
    soc_grid = np.full((n_b, n_t), NONE, dtype=np.int64)
    ends = period_ends(oi)
    for k, b in enumerate(bats):
        kept = states_kept(charge[k] >= 0, grid_charge[k] >= 0, ends)
        soc[k] = _columns(lp, f"soc_above_min_kwh_{b.id}", kept, 0.0, state_cap[k], 0.0)
        if grid_ok[k]:
            soc_grid[k] = _columns(lp, f"soc_grid_above_min_kwh_{b.id}", kept, 0.0,
                                   state_cap[k], 0.0)
    export = np.full(n_t, NONE, dtype=np.int64)
    if oi.export_cap_kwh > 0:
        export = _columns(lp, flows.EXPORT_KWH, can_store, 0.0,
                          np.minimum(store_cap, oi.export_cap_kwh), -oi.export_price_per_kwh)
    user_discharge = None
    if oi.per_user and n_b:
        any_dis = np.asarray((discharge >= 0).any(axis=0), dtype=bool)
        room = load - direct_const
        user_discharge = _columns(lp, "user_discharge_kwh",
                                  np.broadcast_to(any_dis.reshape(-1, 1), (n_t, n_u))
                                  & (room > 1e-9), 0.0, room, 0.0)
    v = Variables(mode=mode, pv_kw=pv_cols, wind_kw=wind_cols, energy_kwh=e_cols,
                  power_kw=p_cols, direct=direct, direct_const=direct_const, load_kwh=load,
                  charge=charge, grid_charge=grid_charge, discharge=discharge,
                  discharge_grid=discharge_grid, soc=soc, soc_grid=soc_grid, export=export,
                  user_discharge=user_discharge, generation=generation, regimes=reg)
    residual = park_load - direct_const.sum(axis=1)
    if float(residual.max(initial=0.0)) > oi.import_limit_kwh + 1e-9:
        v.over_limit = _columns(lp, flows.IMPORT_OVER_LIMIT_KWH,
                                residual > oi.import_limit_kwh + 1e-9, 0.0, INF,
                                c.penalty_per_kwh)
    if oi.demand_charge_per_kw_month > 0:
        months = np.unique(oi.month_of_interval)
        v.peak_kw = lp.add_vars("peak_import_kw", len(months), 0.0, INF,
                                oi.demand_charge_per_kw_month)
    lp.offset += float(oi.fees.capacity.sum()) + float((price * park_load).sum()) \
        + float((oi.fees.per_kwh(flows.USER_LOAD_KWH) * park_load).sum()) \
        + float(np.sum((f_green - price)[:, None] * direct_const))

    define_generation_constraints(lp, oi, v, reg)
    if mode == SIZING:
        define_direct_supply_constraints(lp, oi, v, reg)
    define_load_balance_constraints(lp, oi, v)
    define_battery_constraints(lp, oi, v)
    define_grid_constraints(lp, oi, v)
    define_requirement_constraints(lp, oi, v)
    return lp, v
