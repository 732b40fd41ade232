"""Issue 12, point 6: regimes beyond CBAM, as data, and one footprint engine.

Hand cases (engine): an LFP cell plant uses 9500 kWh per tonne of cells holding 166 kWh of rated
energy: 9500 / 166 = 57.2289 kWh of electricity per kWh of battery. Its user takes 100 MWh over
the period, 40 MWh of it green over the direct line. Battery Regulation (draft reading): direct
line counted, the rest at China's national consumption mix 0.5306 t/MWh:
57.2289 × 0.6 × 0.5306 = 18.2194 kg CO2e/kWh (grid only 57.2289 × 0.5306 = 30.3657).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from greenlink.carbon.emission_factor_routes import EfDecision
from greenlink.carbon.footprint import (
    Factor,
    GridFactors,
    ProductData,
    Supply,
    product_footprint,
)
from greenlink.carbon.regimes import ELECTRICITY_RULES, diff, list_regimes, load_regime, override
from greenlink.errors import InputError

CELLS = ProductData(sku="CELL", name="LFP cells", user="cells", cn_code="85076000",
                    electricity_kwh_per_t=9500.0, declared_unit="kWh",
                    declared_units_per_t=166.0)
GRIDS = GridFactors(grid_default=Factor(0.5827, "CN-JS 2023"), location=Factor(0.5827, "JS"),
                    national_consumption_mix=Factor(0.5306, "CN 2023"),
                    residual_mix=Factor(0.6096, "CN 2023 excl. market non-fossil"))
DIRECT = Supply(load_mwh=100.0, green_mwh=40.0, hourly_matched_mwh=40.0)
E_PER_KWH = 9500 / 166  # kWh of electricity per kWh of battery


def test_shipped_regimes_set_every_rule_with_a_source() -> None:
    regimes = {r.id: r for r in list_regimes()}
    assert set(regimes) == {"cbam", "battery-regulation", "ghg-scope2-hourly", "pact-v3"}
    for r in regimes.values():
        assert set(ELECTRICITY_RULES) <= set(r.parameters)
        assert r.sources and all(p.source for p in r.parameters.values())
    battery = regimes["battery-regulation"]
    assert battery.status == "draft" and battery.cn_prefixes == ["8507"]
    assert battery.parameters["ppa_counted"].value is False
    assert battery.parameters["ppa_counted"].confidence == "unverified"
    assert regimes["cbam"].value("evidence_required") == "cbam_d43"
    assert regimes["ghg-scope2-hourly"].value("temporal_matching") == "hour"
    assert regimes["ghg-scope2-hourly"].value("resolution") == "batch"


def test_battery_footprint_per_kwh_by_hand() -> None:
    fp = product_footprint(CELLS, DIRECT, GRIDS, load_regime("battery-regulation"))
    assert fp.unit == "kg CO2e/kWh" and fp.declared_unit == "kWh"
    assert fp.electricity_mwh_per_unit * 1000 == pytest.approx(E_PER_KWH)
    assert fp.green_share_counted == pytest.approx(0.4)
    assert fp.total == pytest.approx(E_PER_KWH * 0.6 * 0.5306)  # 18.2194
    assert fp.total == pytest.approx(18.2194, abs=1e-4)
    assert fp.electricity_grid_only == pytest.approx(30.3657, abs=1e-4)
    assert fp.materials is None and "materials not included" in " ".join(fp.notes)
    assert {r.rule for r in fp.readings} >= {"ppa_counted", "residual_factor"}


def test_ppa_reading_is_a_parameter() -> None:
    ppa = Supply(load_mwh=100.0, green_mwh=40.0, hourly_matched_mwh=40.0, delivery="ppa")
    regime = load_regime("battery-regulation")
    draft = product_footprint(CELLS, ppa, GRIDS, regime)
    assert draft.green_share_counted == 0.0
    assert draft.total == pytest.approx(E_PER_KWH * 0.5306)
    assert any("ppa_counted = false" in n for n in draft.notes)
    jrc = product_footprint(CELLS, ppa, GRIDS, override(regime, {"ppa_counted": "true"}))
    assert jrc.total == pytest.approx(E_PER_KWH * 0.6 * 0.5306)
    reading = next(r for r in jrc.readings if r.rule == "ppa_counted")
    assert reading.value is True and "set by the user" in reading.description
    with pytest.raises(InputError, match="no rule"):
        override(regime, {"ppa_allowed": "true"})
    with pytest.raises(InputError, match="not a choice"):
        override(regime, {"residual_factor": "average"})


def test_pv_module_maker_per_kwp_under_pact_and_ghg_hourly() -> None:
    # modules: 20 kWp per tonne, 1500 kWh/t assembly electricity (75 kWh/kWp), 0.05 t/t direct,
    # materials 40 t CO2e/t (2000 kg/kWp); 30 of 100 MWh green, 25 of them hour-matched
    modules = ProductData(sku="PV-M", name="PV modules", user="pv_maker", cn_code="85414300",
                          electricity_kwh_per_t=1500.0, direct_t_per_t=0.05,
                          declared_unit="kWp", declared_units_per_t=20.0,
                          materials_t_co2e_per_t=40.0, materials_source="supplier PCFs")
    supply = Supply(load_mwh=100.0, green_mwh=30.0, hourly_matched_mwh=25.0)
    pact = product_footprint(modules, supply, GRIDS, load_regime("pact-v3"))
    assert pact.unit == "kg CO2e/kWp" and pact.green_share_counted == pytest.approx(0.3)
    assert pact.electricity == pytest.approx(75 * 0.7 * 0.6096)  # 32.004
    assert (pact.direct, pact.materials) == (pytest.approx(2.5), pytest.approx(2000.0))
    assert pact.total == pytest.approx(2034.504)
    assert "cradle to gate" in pact.boundary and "residual mix" in " ".join(pact.notes)
    hourly = product_footprint(modules, supply, GRIDS, load_regime("ghg-scope2-hourly"))
    assert hourly.green_share_counted == pytest.approx(0.25)
    assert hourly.electricity == pytest.approx(75 * 0.75 * 0.6096)  # 34.29


def test_cbam_regime_takes_the_route_check() -> None:
    cement = ProductData(sku="CEM", name="cement", user="c", cn_code="25232900",
                         electricity_kwh_per_t=38.0, direct_t_per_t=0.004)
    decision = EfDecision(route="weighted_average", template_code="Mix", ef_t_per_mwh=0.375,
                          grid_ef_t_per_mwh=0.5, source_ef_t_per_mwh=0.0, electricity_mwh=24.0,
                          green_mwh_claimed=6.0, reason="", grid_source="test grid")
    fp = product_footprint(cement, Supply(100.0, 40.0, 40.0, cbam_decision=decision), GRIDS,
                           load_regime("cbam"))
    # 6 of 24 MWh claimed: share 0.25; 0.038 MWh/t × 0.75 × 0.5 + 0.004 = 0.01825 t/t
    assert fp.unit == "t CO2e/t" and fp.green_share_counted == pytest.approx(0.25)
    assert fp.total == pytest.approx(0.038 * 0.75 * 0.5 + 0.004)
    no_evidence = product_footprint(cement, DIRECT, GRIDS, load_regime("cbam"))
    assert no_evidence.green_share_counted == 0.0
    assert no_evidence.ef_rest_t_per_mwh == 0.5827  # the grid default


def test_scope_and_declared_unit_are_checked() -> None:
    cement = ProductData(sku="CEM", name="cement", user="c", cn_code="25232900",
                         electricity_kwh_per_t=38.0)
    with pytest.raises(InputError, match="outside regime battery-regulation"):
        product_footprint(cement, DIRECT, GRIDS, load_regime("battery-regulation"))
    bare = ProductData(sku="CELL", name="cells", user="c", cn_code="85076000",
                       electricity_kwh_per_t=9500.0)
    with pytest.raises(InputError, match="declared_units_per_t"):
        product_footprint(bare, DIRECT, GRIDS, load_regime("battery-regulation"))


def test_diff_names_the_rules_that_differ() -> None:
    d = diff(load_regime("battery-regulation"), load_regime("pact-v3"))
    paths = {c.path: (c.a, c.b) for c in d.changed}
    assert paths["parameters.ppa_counted.value"] == (False, True)
    assert paths["parameters.residual_factor.value"] == ("national_consumption_mix",
                                                         "residual_mix")
    assert diff(load_regime("cbam"), load_regime("cbam")).identical


# ---------------------------------------------------------------------------------------------
# the example park: the LFP cell plant's Battery-Regulation footprint, CLI

runner = CliRunner()


@pytest.fixture(scope="module")
def flows_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from greenlink.cli.cbam_cmd import EXAMPLE
    from greenlink.workflows.run import run_scenario
    path = tmp_path_factory.mktemp("flows") / "flows.parquet"
    run_scenario(EXAMPLE).flows.reset_index().to_parquet(path, index=False)
    return path


def test_example_cell_plant_battery_footprint(flows_file: Path) -> None:
    from greenlink.cli.main import app
    from greenlink.flows import read_flows

    res = runner.invoke(app, ["footprint", "--regime", "battery-regulation", "-u",
                              "battery_cells", "--flows", str(flows_file), "--json"])
    assert res.exit_code == 0, res.output
    [fp] = json.loads(res.output)
    table = read_flows(flows_file)
    load = float(table["battery_cells.load_kwh"].sum())
    green = float(table["battery_cells.green_kwh"].sum())
    # 9500 kWh/t ÷ 166 kWh/t, the direct line's share at 0, the rest at CN 2023 0.5306
    assert fp["total"] == pytest.approx(E_PER_KWH * (1 - green / load) * 0.5306)
    assert fp["unit"] == "kg CO2e/kWh" and fp["regime_status"] == "draft"
    text = runner.invoke(app, ["footprint", "-r", "battery-regulation", "-u", "battery_cells",
                               "--flows", str(flows_file), "--set", "ppa_counted=true"])
    assert text.exit_code == 0 and "reading used: ppa_counted = true" in text.output
    wrong = runner.invoke(app, ["footprint", "-r", "battery-regulation", "-u",
                                "cement_grinding", "--flows", str(flows_file)])
    assert wrong.exit_code == 2 and "outside regime" in wrong.output


def test_regimes_cli() -> None:
    from greenlink.cli.main import app

    listed = runner.invoke(app, ["regimes", "list", "--json"])
    assert listed.exit_code == 0
    assert {r["id"] for r in json.loads(listed.output)} >= {"battery-regulation", "pact-v3"}
    shown = runner.invoke(app, ["regimes", "show", "battery-regulation"])
    assert shown.exit_code == 0 and "ppa_counted" in shown.output
    d = runner.invoke(app, ["regimes", "diff", "battery-regulation", "ghg-scope2-hourly",
                            "--json"])
    assert d.exit_code == 0 and not json.loads(d.output)["identical"]
    assert runner.invoke(app, ["regimes", "show", "nope"]).exit_code == 2


def test_summary_shows_the_battery_footprint_beside_zero_cbam_cost(flows_file: Path) -> None:
    from greenlink.cli.cbam_cmd import EXAMPLE
    from greenlink.flows import read_flows
    from greenlink.scenario.load import load_scenario
    from greenlink.summary import CbamSummary
    from greenlink.workflows.run import cbam_section

    section = cbam_section(load_scenario(EXAMPLE), read_flows(flows_file))
    summary = CbamSummary.model_validate(section)
    [fp] = summary.footprints
    assert (fp.sku, fp.regime, fp.cbam_good, fp.cbam_exposure_eur) == (
        "CELL-LFP-280", "battery-regulation", False, 0.0)
    assert fp.total is not None and 0 < fp.total < (fp.electricity_grid_only or 0)


def test_pv_module_maker_in_a_scenario_per_kwp(flows_file: Path) -> None:
    """A PV-module line added to the example park's data-centre user (no installation): its
    PACT footprint per kWp through the workflow, by hand from the user's flows."""
    from greenlink.cli.cbam_cmd import EXAMPLE
    from greenlink.flows import read_flows
    from greenlink.scenario.load import LoadedScenario, load_scenario
    from greenlink.scenario.model import Product
    from greenlink.workflows.footprint import footprints, regime_for

    loaded = load_scenario(EXAMPLE)
    modules = Product(sku="PV-MOD-550", name="550 W modules", cn_code="8541 43 00",
                      user="data_centre", electricity_kwh_per_t=1500.0,
                      direct_emissions_t_per_t=0.05, annual_output_t=1000.0,
                      declared_unit="kWp", declared_units_per_t=20.0)
    park = LoadedScenario(loaded.scenario.model_copy(update={"products": [modules]}),
                          loaded.path)
    table = read_flows(flows_file)
    [fp] = footprints(park, table, regime_for("pact-v3"), sku="PV-MOD-550")
    f = float(table["data_centre.green_kwh"].sum()) / float(table["data_centre.load_kwh"].sum())
    # 75 kWh/kWp; the rest at the residual-mix stand-in (CN 2023, 0.6096); 2.5 kg/kWp direct
    assert fp.unit == "kg CO2e/kWp" and fp.green_share_counted == pytest.approx(f)
    assert fp.total == pytest.approx(75 * (1 - f) * 0.6096 + 2.5)
    with pytest.raises(InputError, match="outside regime"):
        footprints(park, table, regime_for("battery-regulation"), sku="PV-MOD-550")
