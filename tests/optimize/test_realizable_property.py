"""Property test over random small parks: the optimiser's dispatch can happen, and it agrees
with ``simulate`` at the same sizes (or says why not).

Random parks: one or two users, a day or three hourly, random PV profile and loads, a
time-of-use price with a valley, an export price that may lie above the valley price, an
optional battery that may or may not charge from the grid, an optional export cap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greenlink import flows
from greenlink.optimize.agreement import COST_SHARE, KPI_POINTS
from greenlink.workflows.optimise import optimize_park
from tests.optimize.tiny import park, scenario

TOL = 1e-6


@st.composite
def parks(draw: st.DrawFn) -> tuple:
    days = draw(st.integers(1, 3))
    n = 24 * days
    users = draw(st.integers(1, 2))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    hours = np.arange(n) % 24
    sun = np.clip(np.sin((hours - 6) / 12 * np.pi), 0, None) * rng.uniform(0.3, 1.0, n)
    load = rng.uniform(5.0, 15.0, (n, users))
    valley = draw(st.floats(0.1, 0.4))
    prices = np.where((hours < 6) | ((hours >= 11) & (hours < 13)), valley,
                      np.where((hours >= 17) & (hours < 22), 1.1, 0.65))
    export_price = draw(st.floats(0.0, 0.6))
    export_kw = draw(st.sampled_from([0.0, 5.0, 50.0]))
    battery = draw(st.booleans())
    grid_charging = draw(st.booleans())
    pv_cost = draw(st.floats(0.0, 0.5))
    spec: dict = {"rules": "none", "pv": {"capex_per_kw_dc": 0.0,
                                          "fixed_om_per_kw_year": pv_cost * 8760 / n}}
    if battery:
        spec["battery"] = {"capex_per_kwh": 0.02 * 8760 / n, "capex_per_kw": 0.0,
                           "fixed_om_per_kw_year": 0.0, "variable_om_per_kwh": 0.0,
                           "max_energy_kwh": 60.0, "max_power_kw": 20.0}
    bat = [{"id": "bess", "energy_kwh": 1.0, "power_kw": 1.0, "charge_efficiency": 0.95,
            "discharge_efficiency": 0.95, "soc_min": 0.1, "soc_max": 0.9, "soc_initial": 0.1,
            "grid_charging": grid_charging}] if battery else []
    sc = scenario(users=users, pv_max_kw=60.0, battery=False, export_kw=export_kw,
                  export_price=export_price, parameters={"spot_market_continuous": True},
                  optimize=spec, extra={"batteries": bat})
    return sc, park(sc, load if users > 1 else load[:, 0], sun, prices=prices), grid_charging


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parks())
def test_optimised_dispatch_can_happen_and_agrees_with_simulate(case: tuple) -> None:
    _sc, inputs, grid_charging = case
    r = optimize_park(inputs)
    f: pd.DataFrame = r.run.flows
    imp, exp = f[flows.IMPORT_KWH].to_numpy(), f[flows.EXPORT_KWH].to_numpy()
    # 1. never import and export in the same interval
    assert not ((imp > TOL) & (exp > TOL)).any()
    # 2. green serves the loads first: the direct green is min(generation, load) ...
    gen, load = f[flows.GENERATION_KWH].to_numpy(), f[flows.LOAD_KWH].to_numpy()
    direct = f[flows.GREEN_DIRECT_KWH].to_numpy()
    np.testing.assert_allclose(direct, np.minimum(gen, load), atol=1e-5)
    # ... so a battery charges green only from what the loads left over
    charge_green = f[flows.BATTERY_CHARGE_GREEN_KWH].to_numpy()
    assert (charge_green <= gen - direct + 1e-5).all()
    # 3. from the grid only where allowed, and never while green is left over
    grid_charge = f[flows.BATTERY_CHARGE_KWH].to_numpy() - charge_green
    if not grid_charging:
        assert (grid_charge <= 1e-5).all()
    assert ((grid_charge <= 1e-5) | (gen - direct <= 1e-5)).all()
    # the optimiser's own check finds nothing either
    assert r.departures is None or not r.departures.any
    # 4. re-simulation: agree within the tolerances, or say why not
    a = r.agreement
    assert a is not None
    worst = max((abs(k["difference_points"]) for k in a.kpis
                 if k["difference_points"] is not None), default=0.0)
    if a.agree:
        assert worst <= KPI_POINTS + 1e-9
        assert abs(a.cost["relative_difference"]) <= COST_SHARE + 1e-12
    else:
        assert a.reasons
    # without a battery the dispatch has no choice left: both must agree
    if r.sizes.battery_kwh <= 1e-9:
        assert a.agree, a.message
