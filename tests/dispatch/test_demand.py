"""Demand charges in simulate: the tariff's price on each month's peak import."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from greenlink.dispatch.demand import demand_charge, month_labels, monthly_peak_kw


def test_monthly_peaks_and_charge_by_hand() -> None:
    # hourly: January peaks at 30 kWh in one hour (30 kW), February at 12 kW
    index = pd.date_range("2026-01-31 22:00", periods=4, freq="60min", tz="Asia/Shanghai")
    months = month_labels(index, "Asia/Shanghai")
    assert months.tolist() == ["2026-01", "2026-01", "2026-02", "2026-02"]
    imp = np.array([10.0, 30.0, 12.0, 5.0])
    assert monthly_peak_kw(imp, 1.0, months) == {"2026-01": 30.0, "2026-02": 12.0}
    # 15-minute intervals: 5 kWh in a quarter hour is 20 kW
    assert monthly_peak_kw(np.array([5.0]), 0.25, np.array(["2026-03"])) == {"2026-03": 20.0}
    # 8 per kW and month: 8 · (30 + 12) = 336
    assert demand_charge(imp, 1.0, months, 8.0) == pytest.approx(336.0)
    assert demand_charge(imp, 1.0, months, 0.0) == 0.0


def test_simulate_reports_the_demand_charge(tmp_path) -> None:
    from greenlink.dispatch.simulate import simulate
    from greenlink.results import summarise
    from tests.optimize.tiny import park, scenario

    sc = scenario(battery=False)
    sc = sc.model_copy(update={"tariff": sc.tariff.model_copy(
        update={"demand_charge_per_kw_month": 8.0})})
    # no PV: the park imports its load; January's peak is 30 kW
    inputs = park(sc, [10, 30, 20], [0, 0, 0])
    table = simulate(inputs)
    cost = summarise(inputs, table).cost
    assert cost.demand_charge == pytest.approx(240.0)
    assert cost.net_cost == pytest.approx(cost.import_cost - cost.export_revenue + 240.0)
    assert cost.grid_only_cost == pytest.approx(60.0 + 240.0)
