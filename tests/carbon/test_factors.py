"""Grid emission factors: data file integrity and lookup with fallbacks."""

from __future__ import annotations

import pytest

from greenlink.carbon.factors import cbam_default_factor, grid_factor, list_factors
from greenlink.errors import InputError

COLUMNS = ["factor_id", "region_kind", "region", "year", "ef_t_per_mwh", "basis", "publisher",
           "document", "url", "confidence"]


def test_data_file_columns_and_provenance() -> None:
    table = list_factors()
    assert list(table.columns[: len(COLUMNS)]) == COLUMNS
    assert table["factor_id"].is_unique
    assert set(table["region_kind"]) == {"national", "regional", "provincial", "cbam_default"}
    assert set(table["basis"]) == {"location_average", "excl_market_nonfossil", "fossil_only",
                                   "cbam_default"}
    assert (table["ef_t_per_mwh"] >= 0).all() and (table["ef_t_per_mwh"] < 1.5).all()
    for column in ("publisher", "document", "confidence", "published"):
        assert (table[column] != "").all(), column
    assert table.duplicated(["region", "year", "basis"]).sum() == 0


def test_china_cbam_default_is_not_invented() -> None:
    table = list_factors()
    cbam = table[table["basis"] == "cbam_default"]
    assert "CN" not in set(cbam["region"])
    with pytest.raises(InputError, match="not shipped"):
        cbam_default_factor("CN")


def test_cbam_default_other_countries() -> None:
    factor = cbam_default_factor()
    assert factor.ef_t_per_mwh == pytest.approx(0.465)
    assert "2025/2621" in factor.document and factor.confidence == "T"


@pytest.mark.parametrize(("basis", "year", "value"), [
    ("location_average", 2021, 0.5568), ("location_average", 2022, 0.5366),
    ("location_average", 2023, 0.5306), ("excl_market_nonfossil", 2022, 0.5856),
    ("excl_market_nonfossil", 2023, 0.6096), ("fossil_only", 2021, 0.8426),
    ("fossil_only", 2022, 0.8325), ("fossil_only", 2023, 0.8273),
])
def test_national_values(basis: str, year: int, value: float) -> None:
    factor = grid_factor(year=year, basis=basis)
    assert factor.region == "CN" and factor.year == year
    assert factor.ef_t_per_mwh == pytest.approx(value)
    assert factor.fallback is None


def test_latest_national_by_default() -> None:
    factor = grid_factor()
    assert (factor.year, factor.ef_t_per_mwh) == (2023, pytest.approx(0.5306))
    assert "公告2025年第47号" in factor.source


@pytest.mark.parametrize(("province", "value"), [
    ("CN-JS", 0.5827), ("CN-ZJ", 0.4974), ("CN-GD", 0.4419), ("CN-SD", 0.6191),
    ("CN-NM", 0.6479), ("CN-YN", 0.1333), ("CN-SH", 0.5737), ("CN-SC", 0.1564),
])
def test_provincial_2023(province: str, value: float) -> None:
    factor = grid_factor(province, 2023)
    assert factor.region_kind == "provincial" and factor.region == province
    assert factor.ef_t_per_mwh == pytest.approx(value)


def test_province_latest_year_not_after_request() -> None:
    factor = grid_factor("CN-JS", 2025)
    assert factor.year == 2023 and factor.ef_t_per_mwh == pytest.approx(0.5827)
    assert factor.fallback is not None and "2025" in factor.fallback
    assert grid_factor("js", 2022).ef_t_per_mwh == pytest.approx(0.5978)


def test_unknown_province_falls_back_to_national() -> None:
    factor = grid_factor("CN-HB", 2022)
    assert factor.region == "CN" and factor.ef_t_per_mwh == pytest.approx(0.5366)
    assert factor.requested_region == "CN-HB"
    assert factor.fallback is not None and "national" in factor.fallback


def test_basis_only_national_falls_back() -> None:
    factor = grid_factor("CN-JS", 2023, basis="fossil_only")
    assert factor.region == "CN" and factor.ef_t_per_mwh == pytest.approx(0.8273)
    assert factor.fallback is not None


def test_regional_grid() -> None:
    assert grid_factor(grid_region="east_china", year=2023).ef_t_per_mwh == pytest.approx(0.55)
    assert grid_factor(grid_region="south_china", year=2022).ef_t_per_mwh == pytest.approx(0.3869)


@pytest.mark.parametrize(("kwargs", "where"), [
    ({"basis": "market"}, "basis"),
    ({"basis": "cbam_default"}, "basis"),
    ({"province": "Jiangsu"}, "province"),
    ({"year": 2020}, "year"),
    ({"year": 2021, "basis": "excl_market_nonfossil"}, "year"),
    ({"grid_region": "atlantis"}, "grid_region"),
    ({"province": "CN-JS", "grid_region": "east_china"}, "province"),
])
def test_errors(kwargs: dict[str, object], where: str) -> None:
    with pytest.raises(InputError) as info:
        grid_factor(**kwargs)  # type: ignore[arg-type]
    assert info.value.problems[0].location == where
