"""Batches and shipments from hourly flows: energy integral, green share, bad input."""

from __future__ import annotations

import pandas as pd
import pytest

from greenlink.carbon.batches import (
    batch_energy,
    check_batches,
    check_shipments,
    shipment_footprints,
)
from greenlink.carbon.installations import account
from greenlink.errors import InputError

from .conftest import cement_installation, make_flows

TZ = "Asia/Shanghai"


def _flows() -> pd.DataFrame:
    f = make_flows(hours=4)
    f["plant.load_kwh"] = [1000.0, 2000.0, 3000.0, 4000.0]
    f["plant.green_kwh"] = [500.0, 500.0, 0.0, 4000.0]
    return f


def _batches(**row: object) -> pd.DataFrame:
    base = {"batch_id": "b1", "process": "mill", "sku": "S", "start": "2025-03-01T00:30",
            "end": "2025-03-01T02:15", "tonnes": 10.0}
    base.update(row)
    return check_batches(pd.DataFrame([base]), TZ)


def test_partial_intervals_count_pro_rata() -> None:
    out = batch_energy(_batches(), _flows(), "plant", {"mill": 0.5})
    # (0.5 × 1000 + 2000 + 0.25 × 3000) kWh × 0.5 = 1625 kWh
    assert out["electricity_mwh"].iat[0] == pytest.approx(1.625)
    # green (0.5 × 500 + 500 + 0.25 × 0) × 0.5 = 375 kWh
    assert out["green_mwh"].iat[0] == pytest.approx(0.375)
    assert out["green_share"].iat[0] == pytest.approx(0.375 / 1.625)


def test_batch_outside_metered_hours() -> None:
    with pytest.raises(InputError, match="outside the metered hours"):
        batch_energy(_batches(end="2025-03-01T05:00"), _flows(), "plant", {"mill": 0.5})


def test_negative_tonnage() -> None:
    with pytest.raises(InputError, match="not positive"):
        _batches(tonnes=-3)


def test_end_before_start_and_overlap() -> None:
    with pytest.raises(InputError, match="ends before"):
        _batches(end="2025-03-01T00:00")
    rows = pd.DataFrame([
        {"batch_id": "a", "process": "l", "sku": "S", "start": "2025-03-01T00:00",
         "end": "2025-03-01T02:00", "tonnes": 1},
        {"batch_id": "b", "process": "l", "sku": "S", "start": "2025-03-01T01:00",
         "end": "2025-03-01T03:00", "tonnes": 1}])
    with pytest.raises(InputError, match="overlaps"):
        check_batches(rows, TZ)


def test_unknown_line() -> None:
    with pytest.raises(InputError, match="unknown lines"):
        batch_energy(_batches(process="nope"), _flows(), "plant", {"mill": 0.5})


def test_shipments_take_tonne_weighted_batches(tmp_path: object) -> None:
    flows = make_flows(load_kwh=2000.0, green_kwh=800.0)
    acc = account(cement_installation(), flows)
    batches = check_batches(pd.DataFrame([
        {"batch_id": "x", "process": "mill", "sku": "C", "start": "2025-03-01T00:00",
         "end": "2025-03-01T10:00", "tonnes": 100},
        {"batch_id": "y", "process": "mill", "sku": "C", "start": "2025-03-01T10:00",
         "end": "2025-03-01T12:00", "tonnes": 300}]), TZ)
    from greenlink.carbon.batches import batch_footprints
    energy = batch_energy(batches, flows, "plant", acc.line_share)
    table = batch_footprints(energy, acc.see, acc.see_grid_only, 0.5, 0.0)
    # batch x: 10 h × 2000 kWh × 30/96 = 6.25 MWh → 0.0625 MWh/t; y: 1.25 MWh / 300 t
    assert table.set_index("batch_id").loc["x", "electricity_mwh_per_t"] == pytest.approx(0.0625)
    ships = check_shipments(pd.DataFrame([{"shipment_id": "s", "customer": "K", "sku": "C",
                                           "cn_code": "25232900", "tonnes": 200,
                                           "batches": "x;y", "date": "2026-05-01"}]), TZ)
    out = shipment_footprints(ships, table).iloc[0]
    assert out["electricity_mwh_per_t"] == pytest.approx((100 * 0.0625 + 300 * 1.25 / 300) / 400)
    assert out["green_share"] == pytest.approx(0.4)
    assert out["year"] == 2026
    too_much = ships.assign(tonnes=401.0)
    with pytest.raises(InputError, match="batches made 400"):
        shipment_footprints(too_much, table)
    with pytest.raises(InputError, match="unknown batch"):
        shipment_footprints(ships.assign(batches="x;zz"), table)
