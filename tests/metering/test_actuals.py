from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from greenlink.metering.actuals import (
    actual_flows,
    hourly_generation_wh,
    hourly_matched,
    metered_arrays,
)
from greenlink.metering.ingest import ingest_files
from greenlink.metering.store import open_store
from tests.metering.helpers import scenario

T0 = pd.Timestamp("2025-01-01", tz="Asia/Shanghai")
READINGS = {  # kWh per interval (load_b in Wh, exp in MWh: converted on read)
    "gen": [10, 20, 0, 4],
    "load_a": [6, 6, 6, 3],
    "load_b": [4000, 4000, 2000, 1000],
    "line_a1": [4.5, 4.5, 4.5, 2.25],
    "line_a2": [1.5, 1.5, 1.5, 0.75],
    "chg": [0, 10, 0, 0],
    "dis": [0, 0, 8, 0],
    "imp": [0, 0, 0, 0],
    "exp": [0, 0, 0, 0],
}


def store_with(tmp_path: Path, readings: dict[str, list[float]], sc=None):  # type: ignore
    rows = [(T0 + pd.Timedelta(minutes=15 * i), m, v) for m, vs in readings.items()
            for i, v in enumerate(vs)]
    f = tmp_path / "m.parquet"
    pd.DataFrame(rows, columns=["timestamp", "meter_id", "value"]).to_parquet(f)
    store = tmp_path / "s.duckdb"
    ingest_files(sc or scenario(), [f], store)
    with open_store(store) as con:
        return metered_arrays(sc or scenario(), con)


def test_allocation_of_metered_energy_by_hand(tmp_path: Path) -> None:
    sc = scenario()
    arrays = store_with(tmp_path, READINGS)
    flows = actual_flows(sc, arrays)
    head = flows.iloc[:4]
    # direct: min(gen, load) pro rata to loads; battery: stored green energy, η = 8/10
    np.testing.assert_allclose(head["a.green_kwh"], [6, 6, 6, 3])
    np.testing.assert_allclose(head["b.green_kwh"], [4, 4, 2, 1])
    np.testing.assert_allclose(head["battery_charge_green_kwh"], [0, 10, 0, 0])
    np.testing.assert_allclose(head["battery_discharge_green_kwh"], [0, 0, 8, 0])
    np.testing.assert_allclose(head["metered_residual_kwh"], 0, atol=1e-9)
    expected = {"generation_kwh", "load_kwh", "green_to_load_kwh", "green_direct_kwh",
                "battery_charge_kwh", "battery_charge_green_kwh", "battery_discharge_kwh",
                "battery_discharge_green_kwh", "battery_soc_kwh", "battery_soc_green_kwh",
                "export_kwh", "curtailed_kwh", "import_kwh", "import_over_limit_kwh",
                "pv.generation_kwh", "a.load_kwh", "a.green_kwh", "a.grid_kwh", "b.load_kwh",
                "b.green_kwh", "b.grid_kwh", "metered_residual_kwh"}
    assert set(flows.columns) == expected
    assert len(flows) == 35040 and str(flows.index.tz) == "Asia/Shanghai"
    hourly = hourly_matched(sc, flows, arrays)
    first = hourly[hourly["hour_start"] == T0].set_index(["user_id", "production_line"])
    assert first.loc[("a", ""), "green_kwh"] == pytest.approx(21)
    assert first.loc[("b", ""), "green_kwh"] == pytest.approx(11)
    assert first.loc[("a", "l1"), "green_kwh"] == pytest.approx(21 * 0.75)
    assert first.loc[("a", "l2"), "load_kwh"] == pytest.approx(5.25)
    gen = hourly_generation_wh(sc, arrays)
    assert gen.iloc[0][["energy_wh", "complete"]].tolist() == [34000, True]
    assert not gen.iloc[1]["complete"]


def test_grid_charged_battery_energy_is_not_green(tmp_path: Path) -> None:
    readings = {"gen": [0, 0], "load_a": [0, 5], "load_b": [0, 0], "chg": [10, 0],
                "dis": [0, 5], "imp": [10, 0], "exp": [0, 0]}
    for rule in ("pro_rata", "fifo"):
        (tmp_path / rule).mkdir()
        sc = scenario(method="pro_rata", battery_colour_rule=rule)
        flows = actual_flows(sc, store_with(tmp_path / rule, readings, sc))
        assert flows["battery_discharge_green_kwh"].iloc[1] == 0
        assert flows["a.green_kwh"].iloc[1] == 0 and flows["a.grid_kwh"].iloc[1] == 5


def test_fifo_colour_uses_oldest_charge_first(tmp_path: Path) -> None:
    # green 10 kWh stored first, then 10 kWh from the grid; discharge 10 (η = 1)
    readings = {"gen": [10, 0, 0, 0], "load_a": [0, 0, 5, 5], "load_b": [0, 0, 0, 0],
                "chg": [10, 10, 0, 0], "dis": [0, 0, 5, 5], "imp": [0, 10, 0, 0],
                "exp": [0, 0, 0, 0]}
    green = {}
    for rule in ("pro_rata", "fifo"):
        (tmp_path / rule).mkdir()
        sc = scenario(method="pro_rata", battery_colour_rule=rule)
        # η = Σ dis / Σ chg = 0.5: the first 5 kWh out take 10 kWh of the store; FIFO takes
        # the green 10 kWh (→ 5 kWh green), pro rata half green (→ 2.5 kWh)
        green[rule] = actual_flows(sc, store_with(tmp_path / rule, readings, sc))[
            "battery_discharge_green_kwh"].iloc[2]
    assert green["pro_rata"] == pytest.approx(2.5)
    assert green["fifo"] == pytest.approx(5.0)
