"""Shipped CBAM parameters: phase-in, mark-ups, defaults, benchmarks (cbam.md test vectors)."""

from __future__ import annotations

import pytest

from greenlink.carbon import cbam_data
from greenlink.carbon.liability import default_with_markup
from greenlink.errors import InputError


def test_phase_in_is_the_complement_of_the_cbam_factor() -> None:
    # cbam.md §6 vector 7
    expected = [0.025, 0.05, 0.10, 0.225, 0.485, 0.61, 0.735, 0.86, 1.0]
    got = [round(cbam_data.phase_in(y), 6) for y in range(2026, 2035)]
    assert got == expected
    assert cbam_data.cbam_factor(2025) == 1.0
    assert cbam_data.cbam_factor(2040) == 0.0


def test_markups_by_sector_and_year() -> None:
    assert [cbam_data.markup("cement", y) for y in (2025, 2026, 2027, 2028, 2034)] == [
        0.0, 0.10, 0.20, 0.30, 0.30]
    assert cbam_data.markup("fertilisers", 2030) == 0.01


def test_markup_vectors_from_published_us_rows() -> None:
    # cbam.md §6 vector 1: US grey Portland cement 1.210 -> 1.331 / 1.452 / 1.573
    got = [default_with_markup("25232900", y, "US").value_t_per_t for y in (2026, 2027, 2028)]
    assert got == [1.331, 1.452, 1.573]
    assert default_with_markup("28080000", 2026, "US").value_t_per_t == 1.919


def test_china_steel_default_and_fallback() -> None:
    dv = cbam_data.default_value("72081000", "CN")
    assert (dv.direct_t_per_t, dv.fallback, dv.unverified) == (3.187, None, False)
    assert default_with_markup("72081000", 2026, "CN").value_t_per_t == 3.506
    other = cbam_data.default_value("28041000", "XX")
    assert other.direct_t_per_t == 17.74 and other.fallback is not None


def test_missing_default_is_an_error_not_zero() -> None:
    with pytest.raises(InputError, match="no CBAM default"):
        cbam_data.default_value("73089098", "CN")


def test_unverified_values_are_flagged_parameters() -> None:
    assert cbam_data.default_value("76042100", "CN").unverified
    assert cbam_data.parameters()["cscf_default"].unverified
    assert cbam_data.parameters()["cbam_price_q1_2026_eur_per_t"].value == 75.36
    with pytest.raises(InputError, match="no shipped value"):
        cbam_data.parameter("cn_grid_ef_cbam_default_t_per_mwh")


def test_benchmarks() -> None:
    assert cbam_data.benchmark("72081000", "B", "dri_eaf").benchmark_t_per_t == 0.481
    assert cbam_data.benchmark("27160000", "A").benchmark_t_per_t == 0.0
    assert cbam_data.benchmark("31021010", "A") is None


def test_phase_in_years_come_from_the_data_file_only() -> None:
    import csv
    from importlib import resources

    from greenlink.carbon.exposure import exposure_map
    from greenlink.carbon.liability import price_assumptions
    from tests.carbon.test_liability import PRICES, _ship

    with resources.files("greenlink").joinpath("data/cbam/phase_in.csv").open(
            encoding="utf-8") as fh:
        years = tuple(int(row["year"]) for row in csv.DictReader(fh))
    assert cbam_data.phase_in_years() == years
    assert cbam_data.phase_in_span() == f"{years[0]}–{years[-1]}"
    # before the first year nothing is due; after the last the last year's factor holds
    assert cbam_data.cbam_factor(years[0] - 1) == 1.0
    assert cbam_data.cbam_factor(years[-1] + 6) == cbam_data.cbam_factor(years[-1])
    # the default price horizon and the exposure map run over exactly these years
    assert tuple(price_assumptions().cbam_price_eur_per_t) == years
    table = exposure_map(_ship(), by="sku", prices=PRICES)
    assert [c for c in table.columns if c.startswith("cost_dc_2")] == [
        f"cost_dc_{y}_eur" for y in years]
