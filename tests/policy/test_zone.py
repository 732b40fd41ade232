"""KPIs use the clock hours and calendar periods of the scenario's zone, whatever the index's."""

from __future__ import annotations

import numpy as np
import pandas as pd

from greenlink import flows
from greenlink.policy.kpis import compute_kpis
from tests.flows.test_io_validate import tiny


def _varied() -> pd.DataFrame:
    """Eight 15-minute rows from 00:00 Asia/Shanghai: PV only in the first half hour."""
    table = tiny(8)
    gen = np.array([20, 20, 0, 0, 0, 0, 0, 0], dtype=float)
    green_each = np.minimum(gen, 12.0) / 2
    table[flows.GENERATION_KWH] = gen
    table[flows.GREEN_TO_LOAD_KWH] = table[flows.GREEN_DIRECT_KWH] = 2 * green_each
    table[flows.EXPORT_KWH] = gen - 2 * green_each
    table[flows.IMPORT_KWH] = 12.0 - 2 * green_each
    for u in ("a", "b"):
        table[flows.user_green(u)] = green_each
        table[flows.user_grid(u)] = 6.0 - green_each
    return table


def test_kpis_follow_the_scenario_zone_not_the_index() -> None:
    table = _varied()
    in_kolkata = table.tz_convert("Asia/Kolkata")
    local = compute_kpis(table, ["a", "b"])
    converted = compute_kpis(in_kolkata, ["a", "b"], timezone="Asia/Shanghai")
    pd.testing.assert_frame_equal(local, converted)
    # Shanghai clock hours: 00:00–01:00 supply 40, load 48 → matched 40; 01:00–02:00 nothing.
    # Share 40 / 96. Kolkata clock hours start at hh:30 Shanghai time: 00:00–00:30 (supply 40,
    # load 24) is the end of one Kolkata hour → matched 24; share 24 / 96.
    as_kolkata = compute_kpis(in_kolkata, ["a", "b"])
    hourly = local[(local.scope == "park") & (local.kpi == "hourly_matched_share")].value.iloc[0]
    other = as_kolkata[(as_kolkata.scope == "park")
                       & (as_kolkata.kpi == "hourly_matched_share")].value.iloc[0]
    assert hourly == 40 / 96
    assert other == 24 / 96
