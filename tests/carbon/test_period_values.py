"""Issue 12, point 1: every CBAM figure is the period value of the process, the same for every
shipment of that process and period; batch- and hour-resolved footprints stay apart, labelled.

Hand case: one user, 48 h at 1000 kWh/h; green energy 800 kWh/h in the first 24 h ("sunny"),
none in the last 24 h ("dark"). The mill (cement, 2523 29 00) draws half the user's load:
E = 0.5 × 48 MWh = 24 MWh, green G = 0.5 × 19.2 MWh = 9.6 MWh, complete D.4.3 evidence (EF 0),
grid 0.5 t/MWh. Period factor EF = (9.6 × 0 + 14.4 × 0.5) / 24 = 0.3 t/MWh. Activity 1000 t,
process emissions 600 t: SEE direct 0.6, indirect 24 × 0.3 / 1000 = 0.0072, counted 0.6072;
grid-only indirect 24 × 0.5 / 1000 = 0.012.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from greenlink.carbon.installations import account
from greenlink.carbon.liability import PriceAssumptions
from greenlink.carbon.scope2 import green_declaration
from greenlink.carbon.template import template_cells
from greenlink.scenario.installations import Installation

from .conftest import EVIDENCE_OK

TZ = "Asia/Shanghai"
PRICES = PriceAssumptions({y: 80.0 for y in range(2026, 2035)}, 0.0, 1.0, ())


def sunny_dark_flows() -> pd.DataFrame:
    index = pd.date_range("2025-03-01T00:00", periods=48, freq="60min", tz=TZ,
                          name="interval_start")
    green = np.where(np.arange(48) < 24, 800.0, 0.0)
    return pd.DataFrame({"plant.load_kwh": np.full(48, 1000.0), "plant.green_kwh": green},
                        index=index)


def write_case(folder: Path, sunny_first: bool) -> Installation:
    """Batch A (10 t) and batch B (10 t) of the mill, one in sunny and one in dark hours;
    shipment S1 takes A, S2 takes B. ``sunny_first=False`` swaps the hours of A and B."""
    hours = {"sunny": ("2025-03-01T02:00", "2025-03-01T06:00"),
             "dark": ("2025-03-02T02:00", "2025-03-02T06:00")}
    a, b = ("sunny", "dark") if sunny_first else ("dark", "sunny")
    pd.DataFrame([
        {"batch_id": "A", "process": "mill", "sku": "CEM", "start": hours[a][0],
         "end": hours[a][1], "tonnes": 10.0},
        {"batch_id": "B", "process": "mill", "sku": "CEM", "start": hours[b][0],
         "end": hours[b][1], "tonnes": 10.0},
    ]).to_csv(folder / "batches.csv", index=False)
    pd.DataFrame([
        {"shipment_id": "S1", "customer": "K1", "sku": "CEM", "cn_code": "25232900",
         "tonnes": 10.0, "batches": "A", "date": "2026-03-01", "importer": "I"},
        {"shipment_id": "S2", "customer": "K2", "sku": "CEM", "cn_code": "25232900",
         "tonnes": 10.0, "batches": "B", "date": "2026-03-01", "importer": "I"},
    ]).to_csv(folder / "shipments.csv", index=False)
    return Installation.model_validate({
        "id": "cem", "user": "plant", "grid_factor": {"ef_t_per_mwh": 0.5, "source": "test"},
        "electricity_evidence": [EVIDENCE_OK],
        "processes": [{"id": "mill", "cn_code": "2523 29 00", "activity_level_t": 1000,
                       "process_emissions_t": 600, "electricity_share": 0.5}],
        "batches_file": "batches.csv", "shipments_file": "shipments.csv"})


def _accounts(tmp_path: Path, sunny_first: bool):  # type: ignore[no-untyped-def]
    folder = tmp_path / ("sunny_first" if sunny_first else "dark_first")
    folder.mkdir()
    inst = write_case(folder, sunny_first)
    return account(inst, sunny_dark_flows(), base_dir=folder, tz=TZ, prices=PRICES)


def test_period_value_by_hand_is_the_same_for_both_shipments(tmp_path: Path) -> None:
    acc = _accounts(tmp_path, sunny_first=True)
    d = acc.decisions["mill"]
    assert d.route == "weighted_average" and d.ef_t_per_mwh == pytest.approx(0.3)
    mill = acc.see["mill"]
    assert (mill.see_direct_rounded, mill.see_indirect_rounded) == (0.6, 0.0072)
    ships = acc.shipments.set_index("shipment_id")
    for sid in ("S1", "S2"):
        assert ships.loc[sid, "see_direct_t_per_t"] == pytest.approx(0.6)
        assert ships.loc[sid, "see_indirect_t_per_t"] == pytest.approx(0.0072)
        assert ships.loc[sid, "see_counted_dc_t_per_t"] == pytest.approx(0.6072)
        assert ships.loc[sid, "see_counted_grid_t_per_t"] == pytest.approx(0.612)
    # the batch footprints differ: sunny batch 4 MWh×0.5 share → 2 MWh, 80 % green at EF 0
    # → (0.4 × 0.5) / 10 t = 0.02 t/t; dark batch 2 MWh × 0.5 / 10 t = 0.1 t/t (+ 0.6 direct)
    assert ships.loc["S1", "footprint_dc_t_per_t"] == pytest.approx(0.6 + 0.02)
    assert ships.loc["S2", "footprint_dc_t_per_t"] == pytest.approx(0.6 + 0.1)
    liab = acc.liability.set_index("shipment_id")
    assert liab.loc["S1", "certificates_dc"] == liab.loc["S2", "certificates_dc"]


def _cbam_numbers(acc) -> dict[str, object]:  # type: ignore[no-untyped-def]
    ships = acc.shipments.sort_values("shipment_id")
    liab = acc.liability.sort_values("shipment_id")
    decl = [green_declaration(row, acc.decisions["mill"], acc.period_label, "mill")["cbam"]
            for _, row in ships.iterrows()]
    return {
        "see": {pid: (s.see_direct_t_per_t, s.see_indirect_t_per_t, s.see_counted_t_per_t)
                for pid, s in acc.see.items()},
        "ships": ships[[c for c in ships.columns if c.startswith("see_")]].to_dict("list"),
        "liability": liab[["certificates_grid", "certificates_dc", "certificates_default",
                           "cost_grid_eur", "cost_dc_eur", "saving_eur"]].to_dict("list"),
        "declarations": decl,
        "template": template_cells(acc.installation, acc.electricity_mwh, acc.decisions,
                                   acc.see),
    }


def test_moving_batches_between_sunny_and_dark_hours_changes_no_cbam_number(
        tmp_path: Path) -> None:
    before = _accounts(tmp_path, sunny_first=True)
    after = _accounts(tmp_path, sunny_first=False)
    assert _cbam_numbers(before) == _cbam_numbers(after)
    # ... while the product footprint of the batches' hours does move with them
    fp = before.shipments.set_index("shipment_id")["footprint_dc_t_per_t"]
    fp2 = after.shipments.set_index("shipment_id")["footprint_dc_t_per_t"]
    assert fp["S1"] == pytest.approx(fp2["S2"]) and fp["S1"] < fp2["S1"]


def test_declaration_keeps_cbam_and_product_footprint_apart(tmp_path: Path) -> None:
    acc = _accounts(tmp_path, sunny_first=True)
    row = acc.shipments.set_index("shipment_id").loc["S1"].copy()
    row["shipment_id"] = "S1"
    decl = green_declaration(row, acc.decisions["mill"], acc.period_label, "mill")
    assert decl["cbam"]["see_counted_t_per_t"] == 0.6072
    assert "period value" in decl["cbam"]["basis"]
    assert decl["cbam"]["embedded_emissions_counted_t"] == 6.0  # 10 t × 0.6072, full tonnes
    pf = decl["product_footprint"]
    assert pf["regime"] == "ghg-scope2-hourly" and "not a CBAM figure" in pf["basis"]
    assert pf["footprint_t_per_t_with_direct_line"] == 0.62
