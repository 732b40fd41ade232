"""CBAM goods: the Commission's CN list and the Annex I/II rules."""

from __future__ import annotations

from collections import Counter

import pytest

from greenlink.carbon.cbam_goods import SECTORS, annex_rules, classify, cn_list
from greenlink.errors import InputError


def test_list_has_569_codes() -> None:
    table = cn_list()
    assert len(table) == 569 and table.index.is_unique
    assert all(len(code) == 8 and code.isdigit() for code in table.index)


def test_every_listed_code_has_an_annex_rule_and_sector_counts() -> None:
    goods = [classify(code, 2024) for code in cn_list().index]  # the template's list is CN 2024
    assert all(g.is_cbam_good and g.sector in SECTORS for g in goods)
    counts = Counter(g.sector for g in goods)
    assert counts == {"iron_steel": 478, "aluminium": 58, "fertilisers": 25, "cement": 6,
                      "electricity": 1, "hydrogen": 1}
    indirect = {g.sector for g in goods if g.indirect_emissions_counted}
    assert indirect == {"cement", "fertilisers", "iron_steel"}  # iron_steel: only 2601 12 00
    assert [g.cn_code for g in goods if g.sector == "iron_steel" and g.indirect_emissions_counted] \
        == ["26011200"]


def test_rules_have_legal_source() -> None:
    rules = annex_rules()
    assert rules["cn_prefix"].is_unique
    assert (rules["legal_source"] != "").all()
    assert set(rules.loc[rules["in_annex_i"], "sector"]) == set(SECTORS)


def test_aluminium_profiles_direct_only() -> None:
    good = classify("7604 29 10")
    assert good.cn_code == "76042910" and good.is_cbam_good
    assert good.sector == "aluminium" and not good.indirect_emissions_counted
    assert good.goods_category == "Aluminium products" and good.description
    assert "Annex II" in good.source


@pytest.mark.parametrize("code", ["2523 29 00", "25232900", "2523.29.00"])
def test_cement_indirect_counted(code: str) -> None:
    good = classify(code)
    assert good.sector == "cement" and good.indirect_emissions_counted


def test_sintered_ore_indirect_counted() -> None:
    good = classify("2601 12 00")
    assert good.sector == "iron_steel" and good.indirect_emissions_counted


def test_electricity_direct_only_since_2025_2083() -> None:
    good = classify("2716 00 00")
    assert good.sector == "electricity" and not good.indirect_emissions_counted
    assert "2025/2083" in good.source


def test_hydrogen_direct_only_and_ammonia_indirect() -> None:
    assert not classify("2804 10 00").indirect_emissions_counted
    assert classify("2814 10 00").indirect_emissions_counted


def test_lithium_ion_cells_not_cbam() -> None:
    good = classify("8507 60 00")
    assert not good.is_cbam_good and good.sector is None
    assert not good.indirect_emissions_counted


def test_bolts_iron_steel() -> None:
    good = classify("73181595")
    assert good.is_cbam_good and good.sector == "iron_steel"
    assert not good.indirect_emissions_counted


def test_scrap_not_cbam_and_cn2025_urea_flagged() -> None:
    assert not classify("7204 21 10").is_cbam_good
    assert classify("7204 21 10").note is None
    # in CN 2024 the code does not exist yet (flagged); from CN 2025 it is a CBAM good (issue 12)
    urea = classify("3102 10 12", 2024)
    assert not urea.is_cbam_good and urea.note is not None and "3102" in urea.note
    assert classify("3102 10 12", 2025).is_cbam_good


def test_kaolinic_clay_ex_code_noted() -> None:
    good = classify("2507 00 80")
    assert good.is_cbam_good and good.note is not None and "calcined" in good.note


@pytest.mark.parametrize("code", ["7604", "7604 29 1", "760429100", "7604-29-10", "ABCD2910", ""])
def test_malformed_code(code: str) -> None:
    with pytest.raises(InputError) as info:
        classify(code)
    problem = info.value.problems[0]
    assert repr(code) in problem.message
    assert problem.expected is not None and "8-digit" in problem.expected
