"""Evaluating rule sets: pass/fail/margin, not applicable, overrides, month and per-user scope."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from greenlink.errors import InputError
from greenlink.policy.evaluate import evaluate
from greenlink.policy.ruleset import load_ruleset

from .test_kpis import four_hours, make_flows
from .test_ruleset import MINIMAL, SINGLE, write

STRUCT = {"reverse_flow_allowed": False, "connection_voltage_kv": 110.0}


def test_single_user_defaults() -> None:
    report = evaluate(SINGLE, four_hours(), ["A", "B"], STRUCT)
    assert report.check_date == date(2025, 7, 1)
    assert report.parameters["check_year"] == 2025
    assert report.parameters["commissioning_year"] == 2025

    r = report.result("self_use_share_of_generation_min")
    assert (r.status, r.period, r.scope) == ("pass", "2025", "park")
    assert r.value == pytest.approx(0.67) and r.margin == pytest.approx(0.07)
    assert r.rests_on_assumption  # readings of the formula are assumptions
    assert r.clause_zh and "60%" in r.clause_zh and r.confidence == "official_text"

    r = report.result("green_share_of_consumption_min")
    assert r.passed and r.margin == pytest.approx(0.35) and not r.rests_on_assumption

    r = report.result("export_share_of_generation_max")
    assert r.status == "fail" and r.margin == pytest.approx(-0.05)

    r = report.result("no_reverse_flow_energy")
    assert r.status == "fail" and r.rests_on_assumption  # spot market status assumed
    assert report.result("no_reverse_flow_setup").passed is True
    assert report.result("no_reverse_flow_setup").period == "static"

    r = report.result("connection_voltage_max")
    assert r.passed and r.margin == pytest.approx(110.0)

    r = report.result("single_user")
    assert r.status == "no_data" and r.passed is None

    r = report.result("green_share_of_consumption_min_2030_650")
    assert r.status == "not_applicable" and "check_year" in (r.reason or "")
    r = report.result("green_share_of_consumption_min_2030_1192")
    assert r.status == "not_applicable" and "2025-10-01" in (r.reason or "")
    assert report.result("off_grid_no_export_capacity").status == "not_applicable"

    assert not report.all_passed
    data = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert data["all_passed"] is False and data["check_date"] == "2025-07-01"
    assert len(data["results"]) == len(report.results) == 11
    assert data["readings"]["curtailment_in_denominator"] is True


def test_overrides_what_if() -> None:
    report = evaluate(SINGLE, four_hours(), ["A", "B"], {**STRUCT, "users_count": 1},
                      {"spot_market_continuous": True, "export_share_of_generation_max": 0.3,
                       "connection_voltage_max": "100"})
    r = report.result("export_share_of_generation_max")
    assert r.passed and r.threshold == 0.3 and r.margin == pytest.approx(0.05)
    assert report.result("no_reverse_flow_energy").status == "not_applicable"
    assert report.result("connection_voltage_max").margin == pytest.approx(-10.0)
    assert report.result("single_user").passed
    assert [x.rule_id for x in report.failed] == ["connection_voltage_max"]


def test_2030_reading_switch() -> None:
    flows = four_hours()
    by_2030 = evaluate(SINGLE, flows, [], STRUCT, {"check_year": 2030})
    assert by_2030.result("green_share_of_consumption_min_2030_650").status == "pass"
    assert by_2030.result("green_share_of_consumption_min_2030_1192").status == "not_applicable"
    new_projects = evaluate(SINGLE, flows, [], STRUCT,
                            {"share_2030_reading": "1192_new_projects_from_2030",
                             "commissioning_year": 2030}, check_date=date(2030, 12, 31))
    assert new_projects.result("green_share_of_consumption_min_2030_1192").status == "pass"
    r = new_projects.result("green_share_of_consumption_min_2030_650")
    assert r.status == "not_applicable" and "share_2030_reading" in (r.reason or "")


def test_before_in_force_not_applicable() -> None:
    report = evaluate(SINGLE, four_hours(), [], STRUCT, check_date=date(2025, 1, 1))
    assert {r.status for r in report.results} == {"not_applicable"}
    assert report.all_passed
    assert "in force from 2025-05-30" in (report.results[0].reason or "")


def test_ruleset_rules_are_readings_parameters() -> None:
    report = evaluate(SINGLE, four_hours(), [], STRUCT,
                      {"storage_losses_count_as_self_use": False})
    assert report.result("self_use_share_of_generation_min").value == pytest.approx(0.65)
    assert report.readings.storage_losses_count_as_self_use is False


def test_each_user_monthly_rule(tmp_path: Path) -> None:
    rs = load_ruleset(write(tmp_path, MINIMAL.replace("{metric}", "green_share_of_consumption")))
    flows = make_flows([
        {"generation_kwh": 4, "load_kwh": 4, "green_to_load_kwh": 4,
         "A.load_kwh": 2, "A.green_kwh": 2, "B.load_kwh": 2, "B.green_kwh": 2},
        {"generation_kwh": 1, "load_kwh": 4, "green_to_load_kwh": 1, "import_kwh": 3,
         "A.load_kwh": 2, "A.green_kwh": 1, "B.load_kwh": 2, "B.green_kwh": 0},
    ], start="2025-01-31 23:00")
    report = evaluate(rs, flows, ["A", "B"])
    cells = {(r.scope, r.period): r for r in report.results}
    assert set(cells) == {("A", "2025-01"), ("B", "2025-01"), ("A", "2025-02"), ("B", "2025-02")}
    assert cells["A", "2025-02"].passed and cells["A", "2025-02"].margin == pytest.approx(0.0)
    assert cells["B", "2025-02"].status == "fail"
    assert cells["B", "2025-02"].margin == pytest.approx(-0.5)
    assert cells["A", "2025-01"].value == pytest.approx(1.0)
    assert not report.all_passed
    (no_users,) = evaluate(rs, flows, []).results
    assert no_users.status == "no_data" and no_users.reason == "no users given"


def test_undefined_month_is_no_data(tmp_path: Path) -> None:
    text = MINIMAL.replace("{metric}", "green_share_of_consumption").replace(
        'scope = "each_user"', 'scope = "park"')
    flows = make_flows([{"generation_kwh": 1, "load_kwh": 1, "green_to_load_kwh": 1},
                        {"generation_kwh": 0, "load_kwh": 0}], start="2025-01-31 23:00")
    report = evaluate(load_ruleset(write(tmp_path, text)), flows, [])
    assert [r.status for r in report.results] == ["pass", "no_data"]
    assert not report.all_passed


def test_multi_user_hourly_rule_rests_on_assumption() -> None:
    report = evaluate("cn-ndrc-nea-2026-688-multi-user", four_hours(), ["A", "B"],
                      {**STRUCT, "users_count": 2, "meter_interval_minutes_max": 15},
                      check_date=date(2026, 6, 30))
    r = report.result("hourly_matched_share_min")
    assert r.passed and r.rests_on_assumption and r.confidence == "assumption"
    assert r.value == pytest.approx(0.65)
    assert report.result("multiple_users").passed
    assert report.result("meter_interval_hourly").passed
    off = evaluate("cn-ndrc-nea-2026-688-multi-user", four_hours(), [], STRUCT,
                   {"hourly_traceability_check": False}, check_date=date(2026, 6, 30))
    assert off.result("hourly_matched_share_min").status == "not_applicable"


def test_input_errors() -> None:
    with pytest.raises(InputError, match="cn-ndrc-nea-2025-650"):
        evaluate("cn-unknown", four_hours(), [])
    with pytest.raises(InputError, match="unknown structural KPI"):
        evaluate(SINGLE, four_hours(), [], {"colour": "green"})
    with pytest.raises(InputError, match="connection_voltage_kv"):
        evaluate(SINGLE, four_hours(), [], {"connection_voltage_kv": "high"})
    with pytest.raises(InputError, match="no rule or parameter"):
        evaluate(SINGLE, four_hours(), [], STRUCT, {"nope": 1})
