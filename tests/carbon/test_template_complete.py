"""Issue 12, point 4: a template that is complete, not just equal — the share of emissions by
default values, the Commission's goods categories, one half-up rounding, the data bars kept.

Hand case (cement): the kiln makes 1000 t clinker from 100 t coal × 2.5 + 500 t process CO2:
SEE direct 0.75. The mill makes 2000 t cement from 800 t of that clinker and 40 t of bought
clinker at default values (US, IR 2025/2621 Annex I: 1.160 direct): direct embedded
800 × 0.75 + 40 × 1.160 = 646.4 t, SEE direct 0.3232; of it 46.4 t from default values:
share 46.4 / 646.4 = 0.071782… (≈ 7 %).
"""

from __future__ import annotations

import os
import re
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest

from greenlink.carbon.embedded import round_see, see_difference
from greenlink.carbon.installations import account
from greenlink.carbon.template import (
    DEFAULT,
    TEMPLATE_GOODS,
    compare_with_template,
    fill_template,
    goods_category,
    read_summary_details,
    recalculate,
    soffice,
    template_path,
)
from greenlink.carbon.xlsx_cells import set_cells
from greenlink.errors import InputError
from greenlink.scenario.installations import Installation

from .conftest import cement_installation, make_flows

FLOWS = make_flows(load_kwh=2000.0, green_kwh=800.0)
SHARE = 46.4 / 646.4


def mill_with_default_clinker() -> Installation:
    inst = cement_installation()
    data = inst.model_dump()
    data["processes"][1]["precursors"] = [{"precursor": "kiln", "amount_t": 800},
                                          {"precursor": "bought", "amount_t": 40}]
    data["purchased_precursors"] = [{"id": "bought", "name": "Bought clinker",
                                     "cn_code": "25231000", "country": "US",
                                     "data": "default"}]
    return Installation.model_validate(data)


def steel_works() -> Installation:
    """A caster (crude steel) using ferro-manganese (FeMn alloy) and a mill (flat products)."""
    return Installation.model_validate({
        "id": "steel", "name": "Test steel works", "user": "plant",
        "grid_factor": {"ef_t_per_mwh": 0.5, "source": "test"},
        "processes": [
            {"id": "caster", "name": "Caster", "cn_code": "7207 11 14", "activity_level_t": 1000,
             "measured_emissions_t": 1800, "electricity_mwh": 40,
             "precursors": [{"precursor": "femn", "amount_t": 10}]},
            {"id": "mill", "name": "Rolling mill", "cn_code": "7208 10 00",
             "activity_level_t": 900, "measured_emissions_t": 90, "electricity_mwh": 30,
             "precursors": [{"precursor": "caster", "amount_t": 500},
                            {"precursor": "slab", "amount_t": 450}]}],
        "purchased_precursors": [
            {"id": "femn", "name": "Ferro-manganese", "cn_code": "7202 11 20", "country": "ZA",
             "data": "actual", "see_direct_t_per_t": 1.2, "see_indirect_t_per_t": 2.0,
             "verification_report": "VR-9"},
            {"id": "slab", "name": "Bought slab", "cn_code": "7207 12 10", "country": "CN",
             "data": "default"}]})


def test_default_share_by_hand() -> None:
    acc = account(mill_with_default_clinker(), FLOWS)
    mill = acc.see["mill"]
    assert mill.see_direct_t_per_t == pytest.approx(0.3232)
    assert mill.default_share_direct == pytest.approx(SHARE)
    assert acc.see["kiln"].default_share_direct == 0.0


def test_goods_categories_follow_the_commission_list() -> None:
    assert goods_category("72071114") == "Crude steel"
    assert goods_category("72021120") == "Alloys (FeMn, FeCr, FeNi)"
    assert goods_category("72011011") == "Pig iron"
    assert goods_category("72031000") == "Direct reduced iron"
    assert goods_category("72081000") == "Iron or steel products"
    assert goods_category("26011200") == "Sintered Ore"
    assert goods_category("31021019", 2025) == "Urea"
    assert goods_category("25070080") == "Calcined clays "  # the template's own spelling
    with pytest.raises(InputError, match="not a CBAM good"):
        goods_category("85076000")


def test_category_names_are_the_templates_own() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(template_path(), read_only=True)
    t = wb["Translations"]
    rows = [664, 665, 666, 667, 611, 668, 673, 674, 677, 678, 650, 682, 685, 686, 687, 688, 689,
            692]  # Parameters_Constants A89:A106 point at these rows
    names = tuple(t.cell(r, 3).value for r in rows)
    wb.close()
    assert names == TEMPLATE_GOODS


def test_filled_cells_sources_and_justification(tmp_path: Path) -> None:
    acc = account(mill_with_default_clinker(), FLOWS)
    filled = fill_template(acc.installation, acc.electricity_mwh, acc.decisions, acc.see,
                           tmp_path / "f.xlsx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(filled.path)
    e = wb["E_PurchPrec"]
    assert (e["L49"].value, e["M49"].value, e["M50"].value) == (1.16, DEFAULT, DEFAULT)
    assert e["K54"].value == "Data gaps" and e["M51"].value in ("D.4(a)", "D.4(b)")
    assert str(e["E54"].value).startswith("=")  # the label formula is left alone
    a = wb["A_InstData"]
    assert [a["E62"].value, a["E63"].value] == ["Cement clinker", "Cement"]
    wb.close()


def test_data_bars_custom_xml_and_printer_settings_kept(tmp_path: Path) -> None:
    acc = account(steel_works(), FLOWS)
    filled = fill_template(acc.installation, acc.electricity_mwh, acc.decisions, acc.see,
                           tmp_path / "s.xlsx")
    with zipfile.ZipFile(template_path()) as a, zipfile.ZipFile(filled.path) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            if name.startswith("xl/worksheets/sheet"):
                bars = [len(re.findall(r"<x14:dataBar\b", z.read(name).decode()))
                        for z in (a, b)]
                assert bars[0] == bars[1], name
            elif name != "xl/workbook.xml":
                assert a.read(name) == b.read(name), name  # custom XML, printer settings ...
        total = sum(len(re.findall(r"<x14:dataBar\b", b.read(n).decode()))
                    for n in b.namelist() if n.startswith("xl/worksheets/sheet"))
        assert total == 37  # F_Tools 1, Summary_Processes 36
        assert 'fullCalcOnLoad="1"' in b.read("xl/workbook.xml").decode()


def test_cell_writer_never_overwrites_a_formula() -> None:
    xml = ('<worksheet><sheetData><row r="2"><c r="B2"><f>A1*2</f><v>0</v></c></row>'
           "</sheetData></worksheet>")
    with pytest.raises(InputError, match="formula"):
        set_cells(xml, {"B2": 1.0})
    out = set_cells(xml, {"A2": "x & y", "C1": 3.5, "A3": 7})
    assert '<row r="1"><c r="C1"><v>3.5</v></c></row><row r="2">' in out
    assert '<c r="A2" t="inlineStr"><is><t xml:space="preserve">x &amp; y</t></is></c>' \
        '<c r="B2">' in out
    assert '<row r="3"><c r="A3"><v>7</v></c></row>' in out


def test_one_half_up_rounding_in_the_comparison() -> None:
    acc = account(mill_with_default_clinker(), FLOWS)
    from dataclasses import replace
    see = {"mill": replace(acc.see["mill"], see_direct_t_per_t=0.610875,
                           see_indirect_t_per_t=0.0169)}
    rows = compare_with_template({"mill": (0.610875, 0.0169)}, see)
    assert rows[0]["template_see_direct"] == 0.61088 == rows[0]["greenlink_see_direct"]
    assert rows[0]["equal_to_5_decimals"] is True
    assert round_see(0.610875) == 0.61088 and round(0.610875, 5) == 0.61087  # binary
    assert see_difference(0.3, 0.1) == 0.2 and see_difference(0.123455, 0.0) == 0.12346


def _need_soffice() -> None:
    if soffice() is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice is required in CI (apt-get install libreoffice-calc-nogui)")
        pytest.skip("LibreOffice (soffice) not installed on this machine")


def test_libreoffice_default_share_and_goods_categories(tmp_path: Path) -> None:
    """The template's own formulas, recalculated by LibreOffice: SEE, the share of emissions
    by default value (Summary_Products M) and the goods category it derives (E) equal
    greenlink's, for the cement mill (≈ 7 % from defaults) and the steel works (crude steel,
    FeMn alloy precursor, 450 t of slab at default values)."""
    _need_soffice()
    for name, inst in (("cement", mill_with_default_clinker()), ("steel", steel_works())):
        acc = account(inst, FLOWS)
        filled = fill_template(acc.installation, acc.electricity_mwh, acc.decisions, acc.see,
                               tmp_path / f"{name}.xlsx")
        details = read_summary_details(recalculate(filled.path, tmp_path / name),
                                       filled.product_rows)
        cats = {p.id: goods_category(p.cn_code) for p in inst.processes}
        rows = compare_with_template(details, acc.see, cats)
        assert all(r["equal_to_5_decimals"] for r in rows), rows
        for pid, d in details.items():
            assert d.goods_category.strip() == cats[pid].strip()
            assert not d.unit.startswith("#")
        if name == "cement":
            assert details["mill"].default_share == pytest.approx(SHARE)
            assert round_see(details["mill"].default_share) == 0.07178
            assert details["kiln"].default_share == 0.0
        else:
            assert details["caster"].goods_category == "Crude steel"
            # mill: 450 t slab × 3.169 default of 500 × SEE(caster) + 450 × 3.169 + 90 (direct)
            caster = (1800 + 10 * 1.2) / 1000
            share = 450 * 3.169 / (500 * caster + 450 * 3.169 + 90)
            assert details["mill"].default_share == pytest.approx(share)
