"""End-to-end: the CLI commands on a small park and on the bundled example park."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from greenlink.cli.main import app
from greenlink.scenario.schema import scenario_json_schema, scenario_reference_markdown
from tests.scenario.parks import write_park

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]
PARK_COLUMNS = ["generation_kwh", "load_kwh", "green_to_load_kwh", "battery_charge_kwh",
                "battery_discharge_kwh", "battery_soc_kwh", "export_kwh", "curtailed_kwh",
                "import_kwh"]


def check_outputs(out: Path, users: list[str]) -> tuple[pd.DataFrame, dict]:
    flows = pd.read_parquet(out / "flows.parquet")
    csv = pd.read_csv(out / "flows.csv")
    summary = json.loads((out / "summary.json").read_text())
    assert len(flows) == len(csv)
    assert isinstance(flows["interval_start"].dtype, pd.DatetimeTZDtype)
    assert csv["interval_start"].iloc[0].endswith("+08:00")
    for col in PARK_COLUMNS:
        assert col in flows.columns
    for u in users:
        for suffix in ("load_kwh", "green_kwh", "grid_kwh"):
            assert f"{u}.{suffix}" in flows.columns
    balance = (flows["generation_kwh"] + flows["battery_discharge_kwh"] + flows["import_kwh"]
               - flows["load_kwh"] - flows["battery_charge_kwh"] - flows["export_kwh"]
               - flows["curtailed_kwh"])
    assert np.abs(balance).max() < 1e-6
    assert summary["energy_balance_max_abs_error_kwh"] < 1e-6
    html = (out / "report.html").read_text()
    assert "<svg" in html and 'src="http' not in html
    return flows, summary


def test_simulate_small_park(tmp_path: Path) -> None:
    park = write_park(tmp_path / "park")
    out = tmp_path / "out"
    result = runner.invoke(app, ["simulate", str(park), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    flows, summary = check_outputs(out, ["a", "b"])
    assert len(flows) == 8760
    users = {u["id"]: u for u in summary["users"]}
    assert users["a"]["load_kwh"] == pytest.approx(flows["a.load_kwh"].sum())
    shares = summary["shares"]
    assert 0 < shares["green_share_of_consumption"] <= shares["hourly_matched_share"] + 1e-12
    assert shares["hourly_matched_share"] <= shares["annual_matched_share"] + 1e-12
    assert summary["products"][0]["sku"] == "BOLT-1"
    assert summary["policy"]["results"]


def test_report_command_rerenders(tmp_path: Path) -> None:
    park = write_park(tmp_path / "park")
    out = tmp_path / "out"
    assert runner.invoke(app, ["simulate", str(park), "--out", str(out), "-q"]).exit_code == 0
    (out / "report.html").unlink()
    result = runner.invoke(app, ["report", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "report.html").stat().st_size > 10_000


def test_failed_run_leaves_existing_outputs(tmp_path: Path) -> None:
    park = write_park(tmp_path / "park")
    out = tmp_path / "out"
    assert runner.invoke(app, ["simulate", str(park), "--out", str(out), "-q"]).exit_code == 0
    before = (out / "summary.json").read_bytes()
    broken = park.read_text().replace("capacity_kw = 3000", "capacity_kw = -1")
    park.write_text(broken)
    result = runner.invoke(app, ["simulate", str(park), "--out", str(out), "-q"])
    assert result.exit_code == 2
    assert (out / "summary.json").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["flows.csv", "flows.parquet", "report.html",
                                                     "summary.json"]


def test_check_exit_codes_and_what_if(tmp_path: Path) -> None:
    park = write_park(tmp_path / "park")
    ok = runner.invoke(app, ["check", str(park), "--ruleset", "cn-ndrc-nea-2026-688-multi-user",
                             "--json"])
    report = json.loads(ok.stdout)
    assert ok.exit_code == (0 if report["all_passed"] else 1)
    green = next(r for r in report["results"]
                 if r["kpi"] == "green_share_of_consumption" and r["status"] in ("pass", "fail"))
    # what-if: demand a green share just above what the park reaches -> that rule fails, exit 1
    target = green["value"] + 0.01
    res = runner.invoke(app, ["check", str(park), "--ruleset", "cn-ndrc-nea-2026-688-multi-user",
                              "--set", f"{green['rule_id']}={target}", "--json"])
    assert res.exit_code == 1
    again = json.loads(res.stdout)
    verdict = next(r for r in again["results"] if r["rule_id"] == green["rule_id"])
    assert verdict["status"] == "fail"
    assert verdict["margin"] == pytest.approx(-0.01)
    table = runner.invoke(app, ["check", str(park)])
    assert table.exit_code in (0, 1) and "pp" in table.output


def test_bad_set_value_is_exit_2(tmp_path: Path) -> None:
    park = write_park(tmp_path / "park")
    res = runner.invoke(app, ["check", str(park), "--set", "no_such_rule=1"])
    assert res.exit_code == 2
    assert "no_such_rule" in res.output


def test_init_writes_valid_starter(tmp_path: Path) -> None:
    res = runner.invoke(app, ["init", str(tmp_path / "mypark")])
    assert res.exit_code == 0, res.output
    toml = (tmp_path / "mypark" / "park.toml").read_text()
    assert toml.lstrip().startswith("#")  # commented
    assert runner.invoke(app, ["validate", str(tmp_path / "mypark" / "park.toml"),
                               "--no-series"]).exit_code == 0
    again = runner.invoke(app, ["init", str(tmp_path / "mypark")])
    assert again.exit_code == 2


def test_committed_schema_and_reference_are_current() -> None:
    committed = json.loads((REPO / "docs" / "scenario.schema.json").read_text())
    assert committed == scenario_json_schema(), \
        "run: greenlink schema --out docs/scenario.schema.json"
    reference = (REPO / "docs" / "scenario-reference.md").read_text()
    assert reference == scenario_reference_markdown(), \
        "run: greenlink schema --markdown --out docs/scenario-reference.md"


def test_demo_on_example_park(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    users = ["alu_extruder", "steel_fasteners", "cement_grinding", "battery_cells", "data_centre"]
    flows, summary = check_outputs(out, users)
    assert len(flows) == 35040
    # ground plant: 27° south, calibrated Nanjing -> within ±10 % of the reference 1,160 kWh/kWp
    assert summary["specific_yield_kwh_per_kwp"]["ground"] == pytest.approx(1160, rel=0.10)
    assert summary["weather"]["calibration"] != "none"
    assert summary["weather"]["time_shift_minutes"] == 0
    assert len(summary["products"]) >= 5
    assert {p["cn_code"] for p in summary["products"]} >= {"76042100", "25232900"}
    assert "all rules pass" in result.output or "some rules fail" in result.output
    # the demo also builds and verifies a signed evidence pack for one cement shipment
    assert "PASS" in result.output
    packs = list((out / "evidence").glob("shipment_*.zip"))
    assert len(packs) == 1
    verify = runner.invoke(app, ["evidence", "verify", str(packs[0]), "--key",
                                 str(out / "evidence" / "demo_key" / "signing_key.pub")])
    assert verify.exit_code == 0, verify.output
    assert "cbam" in summary and summary["cbam"]["installations"]


def test_synthetic_weather_for_a_site_without_file(tmp_path: Path) -> None:
    park = write_park(tmp_path / "park")
    toml = park.read_text().replace("[allocation]", """[weather]
kind = "synthetic"
station = "58238"
seed = 3

[[pv]]
id = "roof"
capacity_kw_dc = 2000
tilt_deg = 27

[allocation]""")
    park.write_text(toml)
    out = tmp_path / "out"
    result = runner.invoke(app, ["simulate", str(park), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert "synthetic" in summary["weather"]["source"].lower()
    # synthetic Nanjing year scaled to station means: near the calibrated reference yield
    assert summary["specific_yield_kwh_per_kwp"]["roof"] == pytest.approx(1160, rel=0.12)
