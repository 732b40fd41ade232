"""The finance workflow on the example park: lifetime re-dispatch, terms, outputs, views."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pytest
from typer.testing import CliRunner

from greenlink.cli.main import app, example_dir
from greenlink.economics.finance import npv
from greenlink.economics.finance_terms import load_terms
from greenlink.errors import InputError
from greenlink.summary import read_summary, tenant_view
from greenlink.workflows.finance import FinanceCase, capacity_factors, run_finance, write_finance

PARK = example_dir() / "park.toml"


@pytest.fixture(scope="module")
def case() -> FinanceCase:
    return run_finance(PARK)


def test_capacity_factors_by_hand() -> None:
    # PV: 1 % in year 1, then 0.4 %/yr compounding: 0.99, 0.99*0.996 = 0.98604, ...
    # battery: 2.5 %/yr linear fade; below 80 % it is augmented back to 100 %:
    #   ages 0..8 give 1.0, 0.975, ..., 0.8 (not below); age 9 would be 0.775 -> in year 10
    #   the battery buys back 22.5 % of its nameplate and starts again at 1.0
    terms = load_terms()
    pv, battery, bought = capacity_factors(terms, battery_lifetime_years=15)
    np.testing.assert_allclose(pv[:2], [0.99, 0.98604])
    np.testing.assert_allclose(battery[:10], [1.0, 0.975, 0.95, 0.925, 0.9, 0.875, 0.85, 0.825,
                                              0.8, 1.0])
    assert bought[9] == pytest.approx(0.225)
    assert bought[:9].sum() == 0
    replace = load_terms(overrides={"degradation": {"battery_strategy": "replace"}})
    _, battery, bought = capacity_factors(replace, battery_lifetime_years=15)
    assert bought[15] == 1.0 and battery[15] == 1.0 and battery[14] == pytest.approx(0.65)


def test_lifetime_and_figures(case: FinanceCase) -> None:
    life = case.lifetime
    assert len(life) == 25
    gen = life["generation_kwh"].to_numpy()
    assert (np.diff(gen[:9]) < 0).all()  # PV degrades year after year
    table = case.result.table
    assert len(table) == 26
    assert case.result.npv_project == pytest.approx(
        npv(case.result.discount_rate, table["cash_flow_project"].to_numpy()))
    # the augmentation of year 10 is capex of that year, at year-1 prices x inflation^9
    augmentation = table["capex_battery_augmentation"].to_numpy()
    assert augmentation[10] > 0 and augmentation[:10].sum() == 0
    s = case.summary()
    assert s.initial_capex == pytest.approx(table["capex"].iloc[0])
    # 60 MWp x 3304 + 40 MWh x 400 + 20 MW x 130 = 198.24 + 16 + 2.6 = 216.84 MCNY
    assert s.initial_capex == pytest.approx(216.84e6)
    assert s.lcoe_green_supply_nominal_per_kwh and s.lcoe_green_supply_nominal_per_kwh > 0
    assert len(s.yearly) == 26


def test_terms_file_overrides_and_errors(tmp_path: Path) -> None:
    f = tmp_path / "terms.toml"
    f.write_text("project_life_years = 20\n[debt]\nfraction = 0.7\n", encoding="utf-8")
    terms = load_terms(f)
    assert terms.project_life_years == 20 and terms.debt.fraction == 0.7
    assert terms.tax.income_tax_rate == 0.25  # kept from the defaults
    f.write_text("[debt]\nfracton = 0.7\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_terms(f)
    assert any("fracton" in str(p) for p in info.value.problems)


def test_outputs_and_tenant_view(case: FinanceCase, tmp_path: Path) -> None:
    written = write_finance(case, tmp_path)
    assert {"finance.json", "finance.xlsx", "report.html", "summary.json"} <= set(written)
    summary = read_summary((tmp_path / "summary.json").read_bytes())
    assert summary.finance is not None
    assert summary.finance.npv_project == pytest.approx(case.result.npv_project)
    assert "finance" not in tenant_view(summary, "data_centre").model_dump()
    book = openpyxl.load_workbook(tmp_path / "finance.xlsx")
    assert {"summary", "cash_flow", "terms"} <= set(book.sheetnames)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Lifetime finance" in html and "<svg" in html


def test_cli_finance_with_debt(tmp_path: Path) -> None:
    terms = tmp_path / "terms.toml"
    terms.write_text("[debt]\nfraction = 0.6\nrepayment = 'sculpted'\n"
                     "[escalation]\ntariff = 0.02\n[optimize]\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["finance", str(PARK), "--terms", str(terms), "--out",
                                      str(tmp_path / "out"), "-q"])
    assert result.exit_code == 2  # [optimize] is not a finance table
    terms.write_text("[debt]\nfraction = 0.6\nrepayment = 'sculpted'\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["finance", str(PARK), "--terms", str(terms), "--out",
                                      str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    summary = read_summary((tmp_path / "out" / "summary.json").read_bytes())
    assert summary.finance is not None and summary.finance.terms["debt"]["fraction"] == 0.6


def test_finance_after_optimize(tmp_path: Path) -> None:
    """``--optimize``: the optimiser's sizes are financed; wind capex = its kW x 4000 CNY/kW."""
    from tests.optimize.test_cli import OPTIMIZE
    from tests.scenario.parks import park_toml, write_park

    path = write_park(tmp_path / "park", park_toml() + OPTIMIZE)
    case = run_finance(path, optimise=True)
    s = case.summary()
    assert s.sized_by_optimiser
    wind_kw = case.run.summary.capacity.wind_kw
    assert 0 < wind_kw <= 6000 + 1e-6
    assert case.result.table["capex_wind"].iloc[0] == pytest.approx(wind_kw * 4000.0)
    assert case.run.summary.optimization is not None and case.run.summary.finance is not None
    res = CliRunner().invoke(app, ["finance", str(path), "--optimize", "--out",
                                   str(tmp_path / "out"), "-q"])
    assert res.exit_code == 0, res.output
    summary = read_summary((tmp_path / "out" / "summary.json").read_bytes())
    assert summary.finance is not None
    assert summary.finance.npv_project == pytest.approx(s.npv_project, rel=1e-9)
