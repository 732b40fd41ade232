"""``greenlink cbam`` commands on the example park (flows simulated once per module)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from greenlink.cli.cbam_cmd import EXAMPLE, cbam_app

runner = CliRunner()


@pytest.fixture(scope="module")
def flows_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from greenlink.workflows.run import run_scenario
    path = tmp_path_factory.mktemp("flows") / "flows.parquet"
    run_scenario(EXAMPLE).flows.reset_index().to_parquet(path, index=False)
    return path


def test_goods_json() -> None:
    res = runner.invoke(cbam_app, ["goods", "7604 21 00", "25232900", "85076000", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert [r["cn_code"] for r in rows] == ["76042100", "25232900", "85076000"]
    assert rows[0]["sector"] == "aluminium" and rows[0]["indirect_emissions_counted"] is False
    assert rows[1]["goods_category"] == "Cement" and rows[1]["indirect_emissions_counted"]
    assert rows[2]["is_cbam_good"] is False
    assert {"cn_code", "is_cbam_good", "sector", "goods_category",
            "indirect_emissions_counted"} <= set(rows[0])


def test_goods_bad_code_exits_2() -> None:
    res = runner.invoke(cbam_app, ["goods", "12AB"])
    assert res.exit_code == 2 and "8-digit" in res.output


def test_see_liability_exposure(flows_file: Path) -> None:
    f = ["--flows", str(flows_file)]
    see = json.loads(runner.invoke(cbam_app, ["see", "-i", "alu_plant", "--json", *f]).output)
    procs = {p["process"]: p for p in see["processes"]}
    assert procs["hollow_profiles"]["ef_route"] == "default"
    assert "SHA-256" in procs["hollow_profiles"]["missing_evidence"]
    res = runner.invoke(cbam_app, ["liability", "-i", "cement_plant", "--json", *f])
    assert res.exit_code == 0, res.output
    liab = json.loads(res.output)
    year = liab["per_year"][0]
    assert year["year"] == 2026 and year["certificates_dc"] < year["certificates_grid"]
    res = runner.invoke(cbam_app, ["exposure", "-i", "fastener_plant", "--json", *f])
    rows = json.loads(res.output)
    assert rows[0]["rank"] == 1 and all(r["saving_eur"] == 0 for r in rows)
    costs = [r["cost_grid_eur"] for r in rows]
    assert costs == sorted(costs, reverse=True)


def test_template_scope2_pact_declaration(flows_file: Path, tmp_path: Path) -> None:
    f = ["--flows", str(flows_file)]
    out = tmp_path / "cement.xlsx"
    res = runner.invoke(cbam_app, ["template", "-i", "cement_plant", "--out", str(out), *f])
    assert res.exit_code == 0, res.output and out.exists()
    s2 = json.loads(runner.invoke(cbam_app, ["scope2", "--json", *f]).output)
    assert {r["user"] for r in s2} >= {"cement_grinding", "data_centre"}
    assert all(r["market_based_t"] <= r["location_based_t"] for r in s2)
    pact = json.loads(runner.invoke(cbam_app, ["pact", "-i", "cement_plant", *f]).output)
    assert pact[0]["pcf"]["declaredUnit"] == "kilogram" and pact[0]["specVersion"]
    decl = json.loads(runner.invoke(cbam_app, ["declaration", "-i", "cement_plant", *f]).output)
    assert 0 < decl[0]["product_footprint"]["green_share_hourly_matched"] < 1


def test_unknown_installation_exits_2(flows_file: Path) -> None:
    res = runner.invoke(cbam_app, ["see", "-i", "nope", "--flows", str(flows_file)])
    assert res.exit_code == 2 and "unknown installation" in res.output


def test_summary_section_for_the_report(flows_file: Path) -> None:
    from greenlink.flows import read_flows
    from greenlink.jsonio import dumps
    from greenlink.scenario.load import load_scenario
    from greenlink.workflows.cbam import summary_section
    section = summary_section(load_scenario(EXAMPLE), read_flows(flows_file))
    by_id = {i["id"]: i for i in section["installations"]}
    assert by_id["alu_plant"]["liability_per_year"][0]["saving_eur"] == 0.0
    assert by_id["cement_plant"]["liability_per_year"][0]["saving_eur"] > 0.0
    json_text = dumps(section)
    assert "NaN" not in json_text
