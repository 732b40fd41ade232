"""Batches and Scope 2 take the flows table through greenlink.flows: any zone, index or column.

Expected values are worked out by hand in each test.
"""

from __future__ import annotations

import pandas as pd
import pytest

from greenlink.carbon.batches import batch_energy, check_batches
from greenlink.carbon.scope2 import scope2

from .conftest import make_flows

TZ = "Asia/Shanghai"
KOLKATA = "Asia/Kolkata"  # UTC+5:30: local clock hours begin at half past a UTC hour


def _hourly_flows() -> pd.DataFrame:
    f = make_flows(hours=4)  # 2025-03-01 00:00-04:00 Shanghai, hourly
    f["plant.load_kwh"] = [1000.0, 2000.0, 3000.0, 4000.0]
    f["plant.green_kwh"] = [500.0, 500.0, 0.0, 4000.0]
    return f


def _forms(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    utc = frame.tz_convert("UTC")
    return {"local index": frame, "UTC index": utc, "column, UTC": utc.reset_index(),
            "column, rows reversed": frame.reset_index().iloc[::-1]}


@pytest.mark.parametrize("form", ["local index", "UTC index", "column, UTC",
                                  "column, rows reversed"])
def test_batch_energy_whatever_the_form_of_the_table(form: str) -> None:
    batches = check_batches(pd.DataFrame([
        {"batch_id": "b1", "process": "mill", "sku": "S", "start": "2025-03-01T00:30",
         "end": "2025-03-01T02:15", "tonnes": 10.0},
        {"batch_id": "b2", "process": "mill", "sku": "S", "start": "2025-03-01T03:00",
         "end": "2025-03-01T04:00", "tonnes": 5.0}]), TZ)
    out = batch_energy(batches, _forms(_hourly_flows())[form], "plant", {"mill": 0.5})
    # b1: (0.5 × 1000 + 2000 + 0.25 × 3000) × 0.5 = 1625 kWh; green (250 + 500 + 0) × 0.5
    # b2: the 03:00 hour, 4000 kWh all green, × 0.5
    assert out["electricity_mwh"].tolist() == pytest.approx([1.625, 2.0])
    assert out["green_mwh"].tolist() == pytest.approx([0.375, 2.0])


def _kolkata_quarters() -> pd.DataFrame:
    """Two local clock hours (00:00-02:00 in Kolkata) of 15-minute intervals.

    Within each local hour the green energy comes in the first half and the load in the second,
    so each local hour matches 20 of its 20 kWh: score 1. Grouped by UTC hours (18:00, 19:00,
    20:00 UTC) the hours would match 0, 20 and 0 of 40 kWh: score 0.5.
    """
    index = pd.date_range("2025-03-01T00:00", periods=8, freq="15min", tz=KOLKATA,
                          name="interval_start")
    return pd.DataFrame({"plant.load_kwh": [0.0, 0.0, 10.0, 10.0, 0.0, 0.0, 10.0, 10.0],
                         "plant.green_kwh": [10.0, 10.0, 0.0, 0.0, 10.0, 10.0, 0.0, 0.0]},
                        index=index)


@pytest.mark.parametrize("form", ["local index", "UTC index", "column, UTC",
                                  "column, rows reversed"])
def test_scope2_matches_local_clock_hours_of_the_park(form: str) -> None:
    table = _forms(_kolkata_quarters())[form]
    result = scope2(table, "plant", 0.5, "test", timezone=KOLKATA)
    assert result.hourly_matched_score == pytest.approx(1.0)
    assert result.load_mwh == pytest.approx(0.04)
    # location-based 0.04 MWh × 0.5 t/MWh; market-based (0.04 − 0.04 green) × 0.5
    assert result.location_based_t == pytest.approx(0.02)
    assert result.market_based_t == pytest.approx(0.0)


def test_scope2_without_a_zone_uses_the_zone_of_the_index() -> None:
    table = _kolkata_quarters()
    assert scope2(table, "plant", 0.5, "test").hourly_matched_score == pytest.approx(1.0)
    # the same intervals labelled in UTC are matched by UTC clock hours (see _kolkata_quarters)
    utc = table.tz_convert("UTC")
    assert scope2(utc, "plant", 0.5, "test").hourly_matched_score == pytest.approx(0.5)
