"""``greenlink risk``: many weather years, every rule in each, distributions and margins."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from greenlink.cli.main import app, example_dir
from greenlink.inputs import builtin_weather_path
from greenlink.policy.ruleset import load_ruleset
from greenlink.workflows.risk import RiskResult, level, run_risk, summarise_years, write_risk

PARK = example_dir() / "park.toml"


@pytest.fixture(scope="module")
def result() -> RiskResult:
    return run_risk(PARK, years=8, seed=11, scheduler="local")


def test_levels_are_exceedance_levels() -> None:
    values = np.arange(1.0, 101.0)  # 1 … 100
    # low is bad: P90 is exceeded in 90 % of years = the 10th percentile = 10.9 (numpy linear)
    assert level(values, 90, low_is_bad=True) == pytest.approx(10.9)
    # high is bad: P90 is the 90th percentile = 90.1
    assert level(values, 90, low_is_bad=False) == pytest.approx(90.1)
    assert level(np.array([np.nan]), 50, True) is None


def test_failure_probability_and_margin_by_hand() -> None:
    # ten years of green share 0.25, 0.26, …, 0.34 against "≥ 0.30": 5 years fail -> 50 %;
    # P90 (10th percentile, linear) = 0.25 + 0.9 * 0.01 = 0.259 -> needs 0.30 - 0.259 = 0.041
    shares = np.round(np.arange(0.25, 0.345, 0.01), 2)
    key = "green_share_of_consumption_min@park"
    years = pd.DataFrame({
        "year": [f"y{i}" for i in range(10)], "error": "", "all_rules_passed": shares >= 0.30,
        "green_share_of_consumption": shares,
        f"rule:{key}:status": np.where(shares >= 0.30, "pass", "fail"),
        f"rule:{key}:value": shares, f"rule:{key}:threshold": 0.30})
    s = summarise_years(years, load_ruleset("cn-ndrc-nea-2025-650"), "test")
    (rule,) = s.rules
    assert rule.failure_probability == pytest.approx(0.5)
    assert rule.p90 == pytest.approx(0.259)
    assert rule.margin_needed_at_p90 == pytest.approx(0.041)
    assert s.probability_all_rules_pass == pytest.approx(0.5)


def test_example_years(result: RiskResult) -> None:
    years = result.years
    assert len(years) == 8 and (years["error"] == "").all()
    assert years["ghi_kwh_m2"].nunique() == 8  # each year its own weather
    metrics = {m.name: m for m in result.summary.metrics}
    gen = metrics["generation_kwh"].levels
    assert gen["P99"] <= gen["P90"] <= gen["P50"] <= gen["P10"]  # type: ignore[operator]
    export = metrics["export_share_of_generation"].levels
    assert export["P10"] <= export["P50"] <= export["P90"]  # type: ignore[operator]
    rules = {r.rule_id: r for r in result.summary.rules}
    green = rules["green_share_of_consumption_min"]
    assert green.years_checked == 8 and 0 <= green.failure_probability <= 1
    assert green.margin_needed_at_p90 == pytest.approx(green.threshold - green.p90)  # type: ignore[operator]


def test_outputs(result: RiskResult, tmp_path: Path) -> None:
    written = write_risk(result, tmp_path)
    assert set(written) == {"risk_years.parquet", "risk_years.csv", "risk.json",
                            "risk_report.html"}
    html = written["risk_report.html"].read_text(encoding="utf-8")
    assert html.count("<svg") >= 5 and "P(fail in a year)" in html
    assert len(pd.read_parquet(written["risk_years.parquet"])) == 8


def test_weather_folder_and_a_broken_file(tmp_path: Path) -> None:
    folder = tmp_path / "years"
    folder.mkdir()
    for name in ("2019.epw", "2020.epw"):
        shutil.copy(builtin_weather_path("nanjing"), folder / name)
    (folder / "2021.epw").write_text("not a weather file\n", encoding="utf-8")
    r = run_risk(PARK, weather_dir=folder, scheduler="local")
    assert list(r.years["year"]) == ["2019.epw", "2020.epw", "2021.epw"]
    errors = r.years.set_index("year")["error"]
    assert errors["2021.epw"] and not errors["2019.epw"]  # reported, the others still run
    assert r.summary.years_failed_to_run == 1
    # calibration = "station": the files' mean is scaled to the station's (1301 kWh/m²)
    ok = r.years[r.years["error"] == ""]
    np.testing.assert_allclose(ok["ghi_kwh_m2"], 1301.0, rtol=0.01)


def test_cli(tmp_path: Path) -> None:
    out = tmp_path / "risk"
    res = CliRunner().invoke(app, ["risk", str(PARK), "--years", "3", "--scheduler", "local",
                                   "--out", str(out), "-q"])
    assert res.exit_code in (0, 1), res.output
    assert (out / "risk.json").is_file()
    bad = CliRunner().invoke(app, ["risk", str(PARK), "--years", "0", "--out",
                                   str(tmp_path / "bad"), "-q"])
    assert bad.exit_code == 2


def test_no_pv_is_bad_input(tmp_path: Path) -> None:
    from greenlink.errors import InputError
    from tests.scenario.parks import park_toml, write_park

    with pytest.raises(InputError, match="no PV plant"):
        run_risk(write_park(tmp_path / "park", park_toml()), years=2, scheduler="local")
