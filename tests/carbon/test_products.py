"""Product footprints: the cbam.md §6 vector and the Annex II rule."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest

from greenlink.carbon.factors import cbam_default_factor, grid_factor
from greenlink.carbon.products import COLUMNS, product_footprints
from greenlink.errors import InputError

SHARES = {
    "cement_plant": {"annual_matched_share": 1.0, "hourly_matched_share": 1.0,
                     "green_share_of_consumption": 1.0},
    "alu": {"annual_matched_share": 0.9, "hourly_matched_share": 0.6,
            "green_share_of_consumption": 0.5},
}

CEMENT = {"sku": "C1", "cn_code": "2523 29 00", "user_id": "cement_plant", "name": "OPC",
          "electricity_kwh_per_t": 110.0, "direct_emissions_t_per_t": 0.8,
          "annual_output_t": 1000.0}
PROFILE = {"sku": "A1", "cn_code": "7604 29 10", "user_id": "alu", "name": "profile",
           "electricity_kwh_per_t": 2000.0, "direct_emissions_t_per_t": 0.5,
           "annual_output_t": 500.0}


def test_cbam_md_vector_cement() -> None:
    table = product_footprints([CEMENT], SHARES, cbam_default_factor())
    row = table.iloc[0]
    assert list(table.columns) == COLUMNS
    # cbam.md §6: 0.11 MWh/t × 0.465 t/MWh = 0.05115, quoted as 0.0512
    assert row["specific_indirect_grid_t_per_t"] == pytest.approx(0.0512, abs=5.1e-5)
    assert row["specific_indirect_grid_t_per_t"] == pytest.approx(0.11 * 0.465)
    assert row["specific_indirect_direct_line_t_per_t"] == 0.0
    assert row["electricity_mwh_per_year"] == pytest.approx(110.0)
    assert row["indirect_emissions_grid_t"] == pytest.approx(110.0 * 0.465)
    assert row["indirect_emissions_direct_line_t"] == 0.0
    assert row["cbam_counts_indirect"] and row["sector"] == "cement"
    assert row["cbam_relevant_indirect_saving_t"] == pytest.approx(110.0 * 0.465)
    assert row["specific_direct_t_per_t"] == 0.8 and row["direct_emissions_t"] == 800.0
    assert row["ef_t_per_mwh"] == 0.465 and "2025/2621" in row["ef_source"]


def test_annex_ii_goods_show_zero_cbam_saving() -> None:
    table = product_footprints([PROFILE], SHARES, 0.465).set_index("sku")
    row = table.loc["A1"]
    assert row["electricity_mwh_per_year"] == pytest.approx(1000.0)
    assert row["indirect_emissions_grid_t"] == pytest.approx(465.0)
    assert row["indirect_emissions_direct_line_t"] == pytest.approx(465.0 * 0.4)
    assert row["specific_indirect_direct_line_t_per_t"] == pytest.approx(2.0 * 0.4 * 0.465)
    assert row["green_share_annual"] == 0.9 and row["green_share_hourly"] == 0.6
    assert row["is_cbam_good"] and not row["cbam_counts_indirect"]
    assert row["cbam_relevant_indirect_saving_t"] == 0.0
    assert "Annex II" in row["cbam_note"] and "direct emissions only" in row["cbam_note"]
    assert row["ef_source"] == "user-supplied factor"


def test_non_cbam_good_and_scenario_style_objects() -> None:
    @dataclass(frozen=True)
    class Product:  # the scenario model names the user field `user`
        sku: str
        cn_code: str
        user: str
        electricity_kwh_per_t: float
        annual_output_t: float
        direct_emissions_t_per_t: float = 0.0
        name: str = ""

    cells = Product("B1", "85076000", "alu", 5000.0, 10.0)
    table = product_footprints([cells], SHARES, grid_factor("CN-JS", 2023))
    row = table.iloc[0]
    assert not row["is_cbam_good"] and row["sector"] is None
    assert row["cbam_relevant_indirect_saving_t"] == 0.0
    assert row["indirect_emissions_grid_t"] == pytest.approx(50.0 * 0.5827)
    assert row["user_id"] == "alu" and row["direct_emissions_t"] == 0.0


def test_dataframe_input_and_empty() -> None:
    table = product_footprints(pd.DataFrame([CEMENT, PROFILE]), SHARES, 0.5)
    assert list(table["sku"]) == ["C1", "A1"]
    empty = product_footprints([], SHARES, 0.5)
    assert empty.empty and list(empty.columns) == COLUMNS


def test_errors_are_collected() -> None:
    bad = dict(PROFILE, cn_code="7604", sku="X")
    unknown_user = dict(CEMENT, user_id="nobody", electricity_kwh_per_t=-1)
    with pytest.raises(InputError) as info:
        product_footprints([bad, unknown_user], SHARES, 0.465)
    locations = {p.location for p in info.value.problems}
    assert {"products[0].cn_code", "products[1].user_id",
            "products[1].electricity_kwh_per_t"} <= locations


def test_share_out_of_range_and_bad_factor() -> None:
    shares = {"alu": dict(SHARES["alu"], hourly_matched_share=1.2)}
    with pytest.raises(InputError, match="above 1"):
        product_footprints([PROFILE], shares, 0.465)
    with pytest.raises(InputError):
        product_footprints([PROFILE], SHARES, -0.1)
