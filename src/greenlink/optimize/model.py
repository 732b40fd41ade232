"""Build the sizing-and-dispatch LP from :class:`OptimizationInputs` (one call per family).

Objective (minimise, currency of the tariff, over the modelled period; annual costs × the
modelled fraction of a year ``φ``)::

    φ [ Σ_p a_pv P_p + Σ_w a_wind W_w + a_E E + a_B B ]
    + Σ_t π_t Σ_u (L_tu − d_tu − b_tu) − Σ_t π_x x_t + Σ_t v_B Σ_u b_tu
    + Σ_t f^green_t Σ_u (d_tu + b_tu) + Σ_t f^load_t Σ_u L_tu + Σ_t τ_t
    + Σ_months κ K_month + Π (Σ_t o_t + Σ_r σ_r)

``a_*`` annuities (capex × CRF + fixed O&M); ``π_t`` the import price: tariff plus the per-kWh
direct-line fees on grid energy ``f^grid_t`` plus the carbon cost ``p_CO2 · EF``; ``f^green_t``
and ``f^load_t`` the fees on green energy used and on all consumption; ``τ_t`` the T&D capacity
charge on the connection capacity, each month's charge spread over its intervals (a constant).
The fees are those settlement bills (:class:`~greenlink.optimize.inputs.FeeArrays`). ``π_x`` the
export price, ``v_B`` the battery's variable O&M, ``κ`` the demand charge and ``Π`` the penalty
on import above the limit and on missed rules and targets.
"""

from __future__ import annotations

import numpy as np

from greenlink import flows
from greenlink.optimize.constraints import (
    Variables,
    define_battery_constraints,
    define_generation_constraints,
    define_grid_constraints,
    define_load_balance_constraints,
    define_requirement_constraints,
    define_size_copies,
    define_size_variables,
)
from greenlink.optimize.inputs import OptimizationInputs
from greenlink.optimize.lp import LpBuilder


def build_model(oi: OptimizationInputs, split_sizes: bool = False
                ) -> tuple[LpBuilder, Variables]:
    """Variables, constraint families and objective of the LP.

    ``split_sizes`` chains per-interval copies of the sizes (see
    :func:`~greenlink.optimize.constraints.define_size_copies`). Off by default: HiGHS's presolve
    merges the copies back into the size columns, so on the benchmark park (one site, hourly,
    CPU seconds on a 2-core machine) they cost time (solve 3.4 s with, 3.05 s without; at
    15-minute resolution 48 s with, 45 s without).
    """
    lp = LpBuilder()
    c = oi.costs
    sizes = define_size_variables(lp, oi)
    n_t = oi.n_intervals
    load = oi.load_kwh if oi.per_user else oi.load_kwh.sum(axis=1, keepdims=True)
    n_u = load.shape[1]
    price = oi.price_per_kwh[:, None] * np.ones((1, n_u))
    fee = oi.fees.per_kwh(flows.USER_GREEN_KWH)[:, None]
    # import m = L − d − b is substituted: Σ π m = Σ π L (a constant) − Σ π (d + b)
    direct = lp.add_vars("direct_kwh", (n_t, n_u), 0.0, load, fee - price)
    v = Variables(pv_kw=np.asarray(sizes["pv_kw"]), wind_kw=np.asarray(sizes["wind_kw"]),
                  direct=direct, load_kwh=load)
    if oi.battery is not None:
        v.discharge = lp.add_vars("discharge_kwh", (n_t, n_u), 0.0, load,
                                  fee + c.battery_variable_per_kwh - price)
        v.charge = lp.add_vars("charge_kwh", n_t, 0.0, oi.battery_max_kw * oi.dt_h)
        v.soc = lp.add_vars("soc_above_min_kwh", n_t, 0.0,
                            (oi.battery.soc_max - oi.battery.soc_min) * oi.battery_max_kwh)
        v.energy_kwh = int(sizes["energy_kwh"])
        v.power_kw = int(sizes["power_kw"])
    if oi.export_cap_kwh > 0:
        v.export = lp.add_vars(flows.EXPORT_KWH, n_t, 0.0, oi.export_cap_kwh,
                               -oi.export_price_per_kwh)
    if float(oi.load_kwh.sum(axis=1).max(initial=0.0)) > oi.import_limit_kwh + 1e-9:
        v.over_limit = lp.add_vars(flows.IMPORT_OVER_LIMIT_KWH, n_t, 0.0, np.inf,
                                   c.penalty_per_kwh)
    if c.demand_charge_per_kw_month > 0:
        months = np.unique(oi.month_of_interval)
        v.peak_kw = lp.add_vars("peak_import_kw", len(months), 0.0, np.inf,
                                c.demand_charge_per_kw_month)
    lp.offset = float(oi.fees.capacity.sum()) + float(np.sum(price * load)) \
        + float(np.sum(oi.fees.per_kwh(flows.USER_LOAD_KWH)[:, None] * load))

    define_size_copies(lp, v, n_t, split=split_sizes)
    define_generation_constraints(lp, oi, v)
    define_load_balance_constraints(lp, v)
    if oi.battery is not None:
        define_battery_constraints(lp, oi, v)
    define_grid_constraints(lp, oi, v)
    define_requirement_constraints(lp, oi, v)
    return lp, v
