"""Issue 12, point 3: CN codes by nomenclature year — the 2024 → 2025 test set, lookups by the
date of import, headings expanded, Unicode digits, one bad code among good ones."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from greenlink.carbon.cbam_goods import (
    classify,
    cn_codes,
    cn_digits,
    cn_year,
    expand,
    lookup,
    lookup_all,
    shipped_cn_years,
)
from greenlink.carbon.liability import PriceAssumptions, shipment_liability
from greenlink.cli.cbam_cmd import cbam_app
from greenlink.errors import InputError

NEW_UREA = ("31021012", "31021015", "31021019")
PRICES = PriceAssumptions({y: 80.0 for y in range(2026, 2035)}, 0.0, 1.0, ())

#: The CN 2024 → CN 2025 changes that touch CBAM goods (IR 2024/2522: liquid urea), each code
#: with its answer in both years: (code, CBAM good in 2024, CBAM good in 2025).
CN_2024_2025 = [
    ("31021010", True, False),   # urea > 45 % N: split up in CN 2025
    ("31021012", False, True),   # urea in aqueous solution, 31.8–33.2 % urea
    ("31021015", False, True),   # urea in aqueous solution, > 33.2–55 % urea
    ("31021019", False, True),   # other urea > 45 % N
    ("31021090", True, True),    # urea ≤ 45 % N: unchanged
    ("31022100", True, True),    # ammonium sulphate: unchanged
    ("76042100", True, True),    # aluminium profiles: unchanged
    ("85076000", False, False),  # lithium-ion accumulators: never a CBAM good
]


def test_shipped_years() -> None:
    assert shipped_cn_years() == (2024, 2025, 2026)
    assert cn_year(None) == (2026, None)
    assert cn_year(2023)[0] == 2024 and "not shipped" in str(cn_year(2023)[1])
    assert cn_year(dt.date(2031, 5, 1))[0] == 2026


@pytest.mark.parametrize(("code", "in_2024", "in_2025"), CN_2024_2025)
def test_cn_2024_to_2025(code: str, in_2024: bool, in_2025: bool) -> None:
    assert classify(code, 2024).is_cbam_good is in_2024
    assert classify(code, 2025).is_cbam_good is in_2025
    assert classify(code, 2026).is_cbam_good is in_2025  # no CBAM change known for CN 2026


def test_new_urea_codes_are_fertilisers_with_indirect_emissions() -> None:
    for code in NEW_UREA:
        good = classify(code, 2025)
        assert (good.sector, good.goods_category, good.indirect_emissions_counted) == (
            "fertilisers", "Urea", True)
        assert good.description and "urea" in good.description.lower()
        assert good.note is not None and "3102 10 10" in good.note
        assert "2024/2522" in good.source


def test_correlation_notes_both_ways() -> None:
    retired = classify("3102 10 10", 2025)
    assert retired.note is not None
    assert all(f"3102 10 {c[-2:]}" in retired.note for c in NEW_UREA)
    early = classify("3102 10 15", 2024)
    assert early.note is not None and "CN 2025" in early.note and "3102 10 10" in early.note


def test_lookups_take_the_date_of_import() -> None:
    assert classify("31021010", on=dt.date(2024, 12, 31)).is_cbam_good
    assert not classify("31021010", on=dt.date(2025, 1, 1)).is_cbam_good
    assert classify("31021019", on=dt.date(2025, 1, 1)).cn_year == 2025


def test_fertiliser_counts_per_year() -> None:
    def count(year: int) -> int:
        return sum(1 for c in cn_codes(year).index if classify(c, year).sector == "fertilisers")
    assert (count(2024), count(2025), count(2026)) == (25, 27, 27)
    assert len(cn_codes(2024)) == 569 and len(cn_codes(2025)) == 571


def test_heading_and_subheading_expand_with_descriptions() -> None:
    assert [g.cn_code for g in expand("310210", 2024)] == ["31021010", "31021090"]
    assert [g.cn_code for g in expand("310210", 2025)] == [*NEW_UREA, "31021090"]
    answer = lookup("3102", 2025)
    assert answer.expanded_from == "3102" and answer.error is None
    assert len(answer.goods) == 14 and all(g.description for g in answer.goods)
    bolts = lookup("7318 15")
    assert bolts.goods and all(g.cn_code.startswith("731815") for g in bolts.goods)
    nothing = lookup("8507")
    assert nothing.goods == () and nothing.notes


@pytest.mark.parametrize("typed", [
    "７６０４ ２１ ００",          # full-width digits and spaces
    "٧٦٠٤٢١٠٠",                # Arabic-Indic digits
    "۷۶۰۴.۲۱.۰۰",              # extended Arabic-Indic with dots
    "7604\u00a021\u200900",    # no-break and thin spaces
    "7604\u300021\u300000",    # ideographic spaces
])
def test_unicode_digits_are_normalised(typed: str) -> None:
    assert cn_digits(typed) == "76042100"
    assert classify(typed).cn_code == "76042100"


def test_one_bad_code_reports_its_error_while_the_others_answer() -> None:
    answers = lookup_all(["7604 21 00", "12AB", "310210", "7604-21-00"], 2025)
    assert [a.error is None for a in answers] == [True, False, True, False]
    assert answers[0].goods[0].is_cbam_good and len(answers[2].goods) == 4
    assert answers[1].error is not None and "'12AB'" in answers[1].error.message


def test_goods_cli_answers_the_good_codes_and_exits_2() -> None:
    res = CliRunner().invoke(cbam_app, ["goods", "３１０２ １０ １２", "bad!", "3102 10",
                                        "--date", "2025-06-30", "--json"])
    assert res.exit_code == 2
    rows = json.loads(res.output)
    assert rows[0]["is_cbam_good"] and rows[0]["cn_year"] == 2025
    assert "error" in rows[1] and "8-digit" in rows[1]["expected"]
    assert [g["cn_code"] for g in rows[2]["goods"]] == [*NEW_UREA, "31021090"]


def test_liability_classifies_in_the_year_of_import() -> None:
    row = {"shipment_id": "s", "customer": "K", "sku": "U", "cn_code": "31021019",
           "tonnes": 100.0, "year": 2026, "importer": "I", "see_direct_t_per_t": 1.0,
           "see_counted_grid_t_per_t": 1.1, "see_counted_dc_t_per_t": 1.1}
    out = shipment_liability(pd.DataFrame([row]), prices=PRICES, country="XX").iloc[0]
    # urea 3102 10 19: benchmark column A 0.053 (UNVERIFIED parameter):
    # 100 t × (1.1 − 0.975 × 0.053) = 104.8325 certificates
    assert out["certificates_dc"] == pytest.approx(100 * (1.1 - 0.975 * 0.053))
    with pytest.raises(InputError, match="3102 10 12"):
        shipment_liability(pd.DataFrame([{**row, "cn_code": "31021010"}]), prices=PRICES)
