"""The report reads well (issue 14, point 7), without a browser: the optimisation and finance
sections inside the page and kept by ``greenlink report``, costs that say what they contain,
plain number notation, years without thousands separators, user labels that cannot collide."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from greenlink.cli.main import app
from greenlink.report import plots
from greenlink.report.html import render_report
from greenlink.report.numbers import format_number, format_year, is_year_key
from greenlink.report.optimization import optimization_html
from greenlink.report.tables import format_cell, format_value, records_table
from greenlink.workflows.finance import run_finance, write_finance
from greenlink.workflows.optimise import optimize_scenario, write_optimization
from tests.report.test_html import synthetic_flows, synthetic_summary
from tests.scenario.parks import park_toml, write_park

OPTIMIZE = """
[optimize]
rules = "none"
battery = { max_energy_kwh = 0 }
wind = { max_capacity_kw = { w = 6000 }, capex_per_kw = 4000 }
targets = [ { metric = "green_share_of_consumption", scope = "park", min = 0.3 } ]
"""
EXPONENT = re.compile(r"\d[eE][+-]?\d")


def _visible_text(html: str) -> str:
    """The page's text outside <style> and the inline figures."""
    html = re.sub(r"<style>.*?</style>|<svg.*?</svg>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def _section(html: str, section_id: str) -> str:
    start = html.index(f"<section id='{section_id}'>")
    return html[start:html.index("</section>", start)]


@pytest.fixture(scope="module")
def park(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_park(tmp_path_factory.mktemp("park"), park_toml() + OPTIMIZE)


def test_optimisation_section_inside_the_page_and_kept_by_report(park: Path,
                                                                  tmp_path: Path) -> None:
    out = tmp_path / "opt"
    write_optimization(optimize_scenario(park), out)
    first = (out / "report.html").read_text(encoding="utf-8")
    assert first.count("<section id='optimization'>") == 1
    assert first.index("<section id='optimization'>") < first.index("<footer>")
    assert first.rstrip().endswith("</html>")
    (out / "report.html").unlink()
    result = CliRunner().invoke(app, ["report", str(out)])
    assert result.exit_code == 0, result.output
    again = (out / "report.html").read_text(encoding="utf-8")
    assert again.index("<section id='optimization'>") < again.index("<footer>")
    assert _section(again, "optimization") == _section(first, "optimization")


def test_finance_section_inside_the_page_and_kept_by_report(park: Path, tmp_path: Path) -> None:
    out = tmp_path / "fin"
    write_finance(run_finance(park, optimise=True), out)
    first = (out / "report.html").read_text(encoding="utf-8")
    for section in ("optimization", "finance"):
        assert first.count(f"<section id='{section}'>") == 1
        assert first.index(f"<section id='{section}'>") < first.index("<footer>")
    assert CliRunner().invoke(app, ["report", str(out)]).exit_code == 0
    again = (out / "report.html").read_text(encoding="utf-8")
    assert _section(again, "finance") == _section(first, "finance")
    # the energy Cost table points to the sections that add capex and fees
    assert 'href="#finance"' in again and 'href="#optimization"' in again
    assert "initial capex" in again
    assert not EXPONENT.search(_visible_text(again))


def test_cost_table_says_what_each_figure_contains() -> None:
    flows = synthetic_flows()
    summary = synthetic_summary(flows)
    summary["cost"] = {"currency": "CNY", "import_cost": 48_656_581.2, "export_revenue":
                       2_414_626.0, "demand_charge": 0.0, "grid_only_cost": 85_934_057.4,
                       "net_cost": 46_241_955.2}
    html = render_report(flows, summary)
    text = " ".join(_visible_text(html).split())
    for phrase in ("Cost of the year's energy at the tariff (CNY)",
                   "Grid purchases (imported energy at the tariff) 48,656,581",
                   "Export revenue -2,414,626", "Net energy cost 46,241,955",
                   "Grid only: the whole load bought from the grid 85,934,057",
                   "Energy cost avoided (grid only − net) 39,692,102",
                   "Neither contains capex, O&M, the direct-line fees",
                   "greenlink finance adds them over the project life",
                   "energy only, no capex or fees (see Cost)"):
        assert phrase in text, phrase
    assert "net 46,241,955" not in text  # the bare "net … vs grid only …" of the KPI is gone


def test_optimisation_costs_are_labelled_and_plain() -> None:
    opt = {"status": "Optimal", "feasible": True, "currency": "CNY", "method": {},
           "sizes": {"pv_kw_dc": {"roof": 2500.0}, "wind_kw": {}, "batteries": {}},
           "cost_breakdown": {"pv_annuity_and_om": 1.2e6, "import_energy_cost": 3.4e7,
                              "fee_re_fund": 2.8e5, "td_capacity_charge": 8.9e5,
                              "export_revenue": -9.2e5, "total": 3.5e7},
           "lcoe_green_per_kwh": 0.1706, "cost_parameters": {"discount_rate": 0.06},
           "direct_line_fees": {"source": "CN-JS.toml"}, "binding": [],
           "requirements": [{"id": "cap", "scope": "park", "period": "2025", "operator": "<=",
                             "threshold": 1.5e6, "met": True, "binding": False}],
           "relaxations_needed": []}
    html = optimization_html(opt)
    for phrase in ("PV: capex (annuity) and O&amp;M", "grid purchases (energy at the tariff)",
                   "direct-line fee: renewable energy fund", "T&amp;D capacity charge",
                   "34,000,000 CNY", "&lt;= 1,500,000", "discount rate 6 %", "CN-JS.toml",
                   "The total contains the capex of the chosen sizes as an annuity"):
        assert phrase in html, phrase
    assert not EXPONENT.search(_visible_text(html))


def test_plain_numbers_and_years() -> None:
    assert format_number(1.82e-12) == "< 0.0001"
    assert format_number(-3e-9) == "> −0.0001"
    assert format_number(12_345_678.9) == "12,345,679"
    assert format_number(0.00681) == "0.00681"
    assert format_number(0.5) == "0.5" and format_number(3.42) == "3.42"
    assert format_number(110.0) == "110.0" and format_number(2) == "2"
    assert not EXPONENT.search(" ".join(format_number(10.0 ** k) for k in range(-4, 16)))
    assert format_year(2026) == "2026" and format_year(2026.0) == "2026"
    assert is_year_key("year") and is_year_key("grid_factor_year")
    assert not is_year_key("tonnes_per_year") and not is_year_key("project_life_years")
    assert format_cell("year", 2026, {}).text == "2026"
    assert format_cell("tonnes_per_year", 617_792.9, {}).text == "617,793"
    assert format_value({"year": 2030, "tonnes": 1234.5}) == "year: 2030; tonnes: 1,234"
    table = records_table([{"year": 2026, "tonnes": 617_793.0}, {"year": 2027, "tonnes": 1.0}])
    assert [row[0].text for row in table.rows] == ["2026", "2027"]


def test_report_text_has_no_exponent_or_separated_year() -> None:
    flows = synthetic_flows()
    summary: dict[str, Any] = synthetic_summary(flows)
    summary["energy_balance_max_abs_error_kwh"] = 1.82e-12
    summary["cbam"] = {"installations": [{
        "id": "plant", "user": "fab", "processes": [],
        "liability_per_year": [{"year": 2026, "tonnes": 617_793.0, "cost_grid_eur": 1.0e7}],
        "exposure_by_sku": [], "assumptions": []}]}
    html = render_report(flows, summary)
    text = _visible_text(html)
    assert "Largest energy-balance error in any interval: < 0.0001 kWh." in text
    assert not EXPONENT.search(text)
    assert "2,026" not in text and "2026" in text


def test_user_labels_one_row_each_whatever_their_length() -> None:
    users = [{"id": f"u{i}", "name": f"Tenant number {i} with a rather long trading name "
              "(building B, floor 3)", "green_share_of_consumption": 0.4,
              "annual_matched_share": 0.5, "hourly_matched_share": 0.45} for i in range(30)]
    svg = plots.user_share_svg(users, {"green_share_of_consumption": 0.4})
    assert svg.count("Tenant number") == 30
    assert plots.wrap_label("Aluminium extrusion (6063 profiles)") == \
        "Aluminium extrusion (6063\nprofiles)"
    long = plots.wrap_label("x" * 100)
    assert long.count("\n") == 1 and long.endswith("…")
    # a Chinese name counts its characters double
    assert plots.label_width("办公楼") == 6
