"""CBAM liability: hand examples, de minimis, Annex II honesty, exposure ranking."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from greenlink.carbon.exposure import exposure_map
from greenlink.carbon.liability import (
    PriceAssumptions,
    carbon_price_deduction_t,
    certificates_due,
    de_minimis_exempt,
    free_allocation_adjustment_t,
    shipment_liability,
)

PRICES = PriceAssumptions({y: 80.0 for y in range(2026, 2035)}, 0.0, 1.0, ())


def _ship(**kw: object) -> pd.DataFrame:
    row = {"shipment_id": "s1", "customer": "K", "sku": "HRC", "cn_code": "72081000",
           "tonnes": 100.0, "year": 2026, "importer": "I", "see_direct_t_per_t": 2.0,
           "see_counted_grid_t_per_t": 2.0, "see_counted_dc_t_per_t": 2.0}
    row.update(kw)
    return pd.DataFrame([row])


def test_hbi_example_from_the_notes() -> None:
    # cbam.md §6 vector 6: DRI default 1.325 × 1.10 − 0.975 × 0.397 ≈ 1.08 t/t (CSCF 1)
    # (1000 t, above the 50 t de-minimis threshold)
    out = shipment_liability(_ship(cn_code="72031000", tonnes=1000.0), country="XX",
                             prices=PRICES).iloc[0]
    assert out["certificates_default"] / 1000 == pytest.approx(1.458 - 0.975 * 0.397)
    out30 = shipment_liability(_ship(cn_code="72031000", tonnes=1000.0, year=2030),
                               country="XX", prices=PRICES).iloc[0]
    assert out30["certificates_default"] / 1000 == pytest.approx(1.723 - 0.515 * 0.397)


def test_actual_liability_by_hand() -> None:
    # 7208 actual: 100 t × 2.0 − 100 × 0.975 × 1 × BM_A (none shipped → 0), price 80
    out = shipment_liability(_ship(), prices=PRICES).iloc[0]
    assert out["certificates_grid"] == pytest.approx(200.0)
    assert out["cost_grid_eur"] == pytest.approx(16000.0)
    assert "no column-A benchmark" in out["factor_notes"]
    # default: 3.187 × 1.1 = 3.506; BM_B bf_bof 1.370
    assert out["certificates_default"] == pytest.approx(100 * (3.506 - 0.975 * 1.370))


def test_annex_ii_zero_saving_cement_saving() -> None:
    steel = shipment_liability(_ship(see_counted_dc_t_per_t=2.0), prices=PRICES).iloc[0]
    assert steel["saving_eur"] == 0.0
    cem = shipment_liability(_ship(cn_code="25232900", see_direct_t_per_t=0.6,
                                   see_counted_grid_t_per_t=0.65, see_counted_dc_t_per_t=0.62),
                             prices=PRICES).iloc[0]
    assert cem["saving_eur"] == pytest.approx(100 * 0.03 * 80)


def test_de_minimis_threshold_is_inclusive_and_per_importer_year() -> None:
    table = pd.DataFrame({"importer": ["a", "a", "b", "c"], "year": [2026, 2026, 2026, 2026],
                          "tonnes": [25.0, 25.0, 50.001, 1.0],
                          "sector": ["iron_steel", "cement", "aluminium", "hydrogen"]})
    assert list(de_minimis_exempt(table)) == [True, True, False, False]
    out = shipment_liability(_ship(tonnes=40.0), prices=PRICES).iloc[0]
    assert out["de_minimis"] and out["certificates_grid"] == 0.0


def test_electricity_has_no_free_allocation() -> None:
    assert free_allocation_adjustment_t(10, 2026, 0.5, sector="electricity") == 0.0
    assert free_allocation_adjustment_t(10, 2026, 0.5) == pytest.approx(10 * 0.975 * 0.5)
    assert free_allocation_adjustment_t(10, 2034, 0.5) == 0.0


def test_carbon_price_deduction() -> None:
    assert carbon_price_deduction_t(100, 40, 80) == 50
    assert carbon_price_deduction_t(100, 400, 80) == 100
    out = shipment_liability(_ship(), prices=PriceAssumptions(
        {y: 80.0 for y in range(2026, 2035)}, 20.0, 1.0, ())).iloc[0]
    assert out["deduction_t"] == pytest.approx(50.0)
    assert out["certificates_default"] == pytest.approx(100 * (3.506 - 0.975 * 1.370))


@given(emb=st.floats(0, 1e6), faa=st.floats(0, 1e6), ded=st.floats(0, 1e6))
def test_certificates_never_negative(emb: float, faa: float, ded: float) -> None:
    assert certificates_due(emb, faa, ded) >= 0.0


def test_exposure_map_ranks_highest_first() -> None:
    ships = pd.concat([_ship(shipment_id="a", sku="A", tonnes=100.0),
                       _ship(shipment_id="b", sku="B", tonnes=500.0),
                       _ship(shipment_id="c", sku="C", tonnes=300.0)])
    table = exposure_map(ships, by="sku", prices=PRICES)
    assert list(table["sku"]) == ["B", "C", "A"] and list(table["rank"]) == [1, 2, 3]
    # 2034: full obligation, 500 t × 2.0 × 80 EUR
    assert table.set_index("sku").loc["B", "cost_dc_2034_eur"] == pytest.approx(80000.0)


def test_cbam_costs_rounded_half_up_per_line_and_totals_are_their_sums() -> None:
    from decimal import Decimal

    from greenlink.carbon.cbam_data import phase_in_years
    from greenlink.carbon.liability import annual_summary

    # electricity (no free allocation): 1 t × 0.015625 t/t × 8 EUR = 0.125 EUR exactly per line
    prices = PriceAssumptions({y: 8.0 for y in phase_in_years()}, 0.0, 1.0, ())
    ships = pd.concat([_ship(shipment_id=s, sku=s, cn_code="27160000", tonnes=1.0,
                             see_direct_t_per_t=0.0, see_counted_grid_t_per_t=0.015625,
                             see_counted_dc_t_per_t=0.0) for s in ("a", "b")])
    lines = shipment_liability(ships, prices=prices)
    assert list(lines["cost_grid_eur"]) == [0.13, 0.13]  # half-up, not round(0.125, 2) == 0.12
    assert list(lines["saving_eur"]) == [0.13, 0.13]
    year = annual_summary(lines).iloc[0]
    assert year["cost_grid_eur"] == year["saving_eur"] == 0.26  # Σ rounded lines, not 0.25
    table = exposure_map(ships, by="customer", prices=prices)
    n = len(phase_in_years())
    assert table.iloc[0]["cost_grid_eur"] == float(Decimal("0.13") * 2 * n)
    # any prices: every line is in cents and the year is the exact sum of its lines
    many = shipment_liability(pd.concat([_ship(shipment_id=f"s{i}", tonnes=77.7 + i,
                                               see_counted_dc_t_per_t=1.2345)
                                         for i in range(7)]), prices=PRICES)
    for col in ("cost_grid_eur", "cost_dc_eur", "saving_eur"):
        cents = [Decimal(repr(float(v))) for v in many[col]]
        assert all(c == c.quantize(Decimal("0.01")) for c in cents), col
        assert Decimal(repr(float(annual_summary(many).iloc[0][col]))) == sum(cents), col
