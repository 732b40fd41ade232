"""The park of issue 13's complaint, built from files as a user would: a Yinchuan data centre and
two factories, PV + wind + battery, hourly, a year; the export price (0.2595) above the valley
import price (0.22), export capped at 10 MW, no grid charging.

The plain LP sells green and buys the load's energy in the same hour here (the test checks that
the temptation is real); the optimiser's dispatch must not, and then — hourly intervals, no hour
that imports and exports — the hourly-matched share *is* what the line delivered: in an hour that
exports, green served every load; in an hour that imports, nothing green left the park.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from greenlink import flows
from greenlink.inputs import build_inputs
from greenlink.scenario.load import load_scenario
from greenlink.workflows.optimise import optimize_park

TOL_KWH = 1e-3

PARK = """\
schema_version = 1
name = "Yinchuan data centre park"

[site]
latitude = 38.47
longitude = 106.27
timezone = "Asia/Shanghai"
province = "CN-NX"

[time]
year = 2025
interval_minutes = 60

[weather]
kind = "epw"
path = "builtin:yinchuan"

[allocation]
method = "pro_rata"

USERS

[[pv]]
id = "ground"
capacity_kw_dc = 1000
tilt_deg = 35
max_capacity_kw_dc = 40000

[[wind]]
id = "wind"
capacity_kw = 1000
capacity_factor = { path = "loads.csv", column = "wind_cf", unit = "fraction" }

[[batteries]]
id = "bess"
energy_kwh = 1000
power_kw = 500
soc_min = 0.05
soc_max = 0.95

[grid]
connection_capacity_kw = 40000
import_limit_kw = 40000
export_limit_kw = 10000
reverse_flow_allowed = true

[tariff]
currency = "CNY"
prices_per_kwh = { peak = 0.62, flat = 0.41, valley = 0.22 }
export_price_per_kwh = 0.2595

[[tariff.seasons]]
name = "all"
months = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
default_period = "flat"
windows = [ { period = "valley", start = "10:00", end = "16:00" },
            { period = "valley", start = "00:00", end = "06:00" },
            { period = "peak", start = "18:00", end = "22:00" } ]

[policy]
ruleset = "cn-ndrc-nea-2025-650"
parameters = { spot_market_continuous = true }

[optimize]
rules = "none"
fees = "none"
wind = { max_capacity_kw = { wind = 30000 } }
battery = { max_energy_kwh = 200000, max_power_kw = 50000 }
""".replace("USERS", "\n".join(
    f'[[users]]\nid = "{u}"\nkind = "{kind}"\nload = {{ path = "loads.csv", column = "{u}_kw" }}'
    for u, kind in (("dc", "data_centre"), ("glass", "factory"), ("cells", "factory"))))


def _loads() -> pd.DataFrame:
    index = pd.date_range("2025-01-01", "2026-01-01", freq="60min", inclusive="left",
                          tz="Asia/Shanghai")
    rng = np.random.default_rng(13)
    hours = index.hour.to_numpy()
    day = (hours >= 8) & (hours < 20)
    n = len(index)
    wind = np.clip(0.3 + 0.2 * np.sin(np.arange(n) / 29.0) + rng.normal(0, 0.12, n), 0, 1)
    return pd.DataFrame({
        "interval_start": [t.isoformat() for t in index],
        "dc_kw": (18000 + rng.uniform(-500, 500, n)).round(1),
        "glass_kw": (6000 + 2000 * day + rng.uniform(0, 400, n)).round(1),
        "cells_kw": (2000 + 5000 * day + rng.uniform(0, 400, n)).round(1),
        "wind_cf": wind.round(4)})


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder: Path = tmp_path_factory.mktemp("yinchuan")
    _loads().to_csv(folder / "loads.csv", index=False)
    (folder / "park.toml").write_text(PARK, encoding="utf-8")
    return build_inputs(load_scenario(folder / "park.toml"))


def _simultaneous(f: pd.DataFrame) -> int:
    imp, exp = f[flows.IMPORT_KWH].to_numpy(), f[flows.EXPORT_KWH].to_numpy()
    return int(((imp > TOL_KWH) & (exp > TOL_KWH)).sum())


def test_the_plain_lp_is_tempted_here(inputs) -> None:  # type: ignore[no-untyped-def]
    sc = inputs.scenario
    spec = sc.optimize.model_copy(update={"dispatch": "relaxed"})
    relaxed = optimize_park(type(inputs)(**{**vars(inputs), "scenario": sc.model_copy(
        update={"optimize": spec})}))
    assert relaxed.departures is not None and relaxed.departures.any
    assert relaxed.departures.simultaneous_intervals > 100


def test_the_optimised_dispatch_can_happen_and_matching_is_delivery(inputs) -> None:  # type: ignore[no-untyped-def]
    r = optimize_park(inputs)
    f = r.run.flows
    assert r.feasible and r.sizes.battery_kwh > 0 and sum(r.sizes.wind_kw.values()) > 0
    # never import and export in one hour
    assert _simultaneous(f) == 0
    # green serves the loads first; the battery charges only from what they left over
    gen, load = f[flows.GENERATION_KWH].to_numpy(), f[flows.LOAD_KWH].to_numpy()
    direct = f[flows.GREEN_DIRECT_KWH].to_numpy()
    np.testing.assert_allclose(direct, np.minimum(gen, load), atol=TOL_KWH)
    charge = f[flows.BATTERY_CHARGE_KWH].to_numpy()
    assert (charge <= np.maximum(gen - direct, 0.0) + TOL_KWH).all()
    # no charge while the grid feeds the loads (grid_charging = false)
    imp = f[flows.IMPORT_KWH].to_numpy()
    assert float(charge[imp > TOL_KWH].sum()) <= TOL_KWH
    # hourly: the hourly-matched share is what the line delivered
    shares = r.run.summary.shares
    assert shares.hourly_matched_share == pytest.approx(shares.green_share_of_consumption,
                                                        abs=1e-6)
    # re-simulated at the same sizes: agree, or say why not
    assert r.agreement is not None and (r.agreement.agree or r.agreement.reasons)
