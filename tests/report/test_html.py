"""Tests of the self-contained HTML report (greenlink.report.html and .plots)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from greenlink.errors import InputError
from greenlink.flows import normalise
from greenlink.report import plots
from greenlink.report.html import render_report, write_report
from greenlink.report.tables import format_cell, format_share, header_label, policy_table

USERS = {"fab": ("Fab & Co <Works>", 0.7), "office": ("Office 办公楼", 0.3)}
MAX_BYTES = 3 * 1024 * 1024


def synthetic_flows(start: str = "2025-01-01", periods: int = 4 * 7 * 24, freq: str = "1h",
                    seed: int = 1) -> pd.DataFrame:
    """A small but physically consistent flows table (energy balance closes per interval)."""
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=periods, freq=freq, tz="Asia/Shanghai",
                          name="interval_start")
    h = (index[1] - index[0]).total_seconds() / 3600.0
    hour = index.hour + index.minute / 60.0
    season = 0.75 + 0.25 * np.sin(2 * np.pi * (index.day_of_year - 80) / 365.0)
    clouds = np.repeat(rng.uniform(0.3, 1.0, periods // int(24 / h) + 1), int(24 / h))[:periods]
    gen = 1000.0 * np.clip(np.sin(np.pi * (hour - 6) / 12), 0, None) * season * clouds * h
    base = 380.0 + 250.0 * ((hour >= 8) & (hour < 20)) + rng.normal(0, 20, periods)
    weekday = np.where(index.day_of_week < 5, 1.0, 0.45)
    load = np.clip(base * weekday, 50, None) * h
    cap, pmax, eta, export_limit = 800.0, 300.0, 0.95, 250.0 * h
    cols = {k: np.zeros(periods) for k in (
        "green_direct_kwh", "battery_charge_kwh", "battery_charge_green_kwh",
        "battery_discharge_kwh", "battery_discharge_green_kwh", "battery_soc_kwh",
        "battery_soc_green_kwh", "export_kwh", "curtailed_kwh", "import_kwh")}
    soc = soc_green = 0.0
    for i in range(periods):
        direct = min(gen[i], load[i])
        surplus, deficit = gen[i] - direct, load[i] - direct
        charge_green = min(surplus, pmax * h, (cap - soc) / eta)
        charge_grid = 0.0
        if 2 <= hour[i] < 4 and soc < 0.3 * cap:
            charge_grid = min(pmax * h - charge_green, (0.3 * cap - soc) / eta)
        discharge = 0.0 if charge_green + charge_grid > 0 else min(deficit, pmax * h, soc)
        fraction = soc_green / soc if soc > 0 else 0.0
        discharge_green = discharge * fraction
        soc += (charge_green + charge_grid) * eta - discharge
        soc_green += charge_green * eta - discharge_green
        export = min(surplus - charge_green, export_limit)
        values = {
            "green_direct_kwh": direct, "battery_charge_kwh": charge_green + charge_grid,
            "battery_charge_green_kwh": charge_green, "battery_discharge_kwh": discharge,
            "battery_discharge_green_kwh": discharge_green, "battery_soc_kwh": soc,
            "battery_soc_green_kwh": soc_green, "export_kwh": export,
            "curtailed_kwh": surplus - charge_green - export,
            "import_kwh": deficit - discharge + charge_grid,
        }
        for key, value in values.items():
            cols[key][i] = value
    table = pd.DataFrame(cols, index=index)
    table.insert(0, "generation_kwh", gen)
    table.insert(1, "load_kwh", load)
    table["green_to_load_kwh"] = table["green_direct_kwh"] + table["battery_discharge_green_kwh"]
    table["import_over_limit_kwh"] = 0.0
    table["pv1.generation_kwh"] = gen
    for uid, (_, part) in USERS.items():
        table[f"{uid}.load_kwh"] = load * part
        table[f"{uid}.green_kwh"] = table["green_to_load_kwh"] * part
        table[f"{uid}.grid_kwh"] = table[f"{uid}.load_kwh"] - table[f"{uid}.green_kwh"]
    return table.reset_index()


def synthetic_summary(flows: pd.DataFrame) -> dict[str, Any]:
    """A summary dict shaped as docs/formats.md describes, with a few policy rows and products."""
    totals = {c: float(flows[c].sum()) for c in flows.columns
              if c.endswith("_kwh") and "." not in c and "soc" not in c}
    green = totals["green_to_load_kwh"] / totals["load_kwh"]
    users = []
    for uid, (name, part) in USERS.items():
        users.append({"id": uid, "name": name, "kind": "factory" if uid == "fab" else "office",
                      "load_kwh": totals["load_kwh"] * part,
                      "green_kwh": totals["green_to_load_kwh"] * part,
                      "grid_kwh": (totals["load_kwh"] - totals["green_to_load_kwh"]) * part,
                      "green_share_of_consumption": green,
                      "annual_matched_share": min(1.0, green + 0.15),
                      "hourly_matched_share": green + 0.04})
    return {
        "greenlink_version": "0.1.0",
        "scenario": {"name": "Suzhou demo park", "file": "examples/suzhou.toml", "year": 2025,
                     "interval_minutes": 60, "timezone": "Asia/Shanghai", "province": "CN-JS",
                     "currency": "CNY", "allocation_method": "pro_rata",
                     "battery_colour_rule": "pro_rata"},
        "weather": {"source": "CMA station 58238 climatology", "time_shift_minutes": 30,
                    "calibration": "scaled to station annual GHI", "notes": ["synthetic test"]},
        "capacity": {"pv_kw_dc": 1200, "wind_kw": 0, "battery_kwh": 1200, "battery_kw": 400},
        "specific_yield_kwh_per_kwp": {"park": 1123.4, "pv1": 1123.4},
        "totals_kwh": {**totals, "battery_loss_kwh": 12.5},
        "shares": {"green_share_of_consumption": green, "annual_matched_share": green + 0.15,
                   "hourly_matched_share": green + 0.04, "self_use_share_of_generation": 0.81,
                   "export_share_of_generation": 0.15, "curtailment_share_of_generation": 0.04},
        "users": users,
        "monthly_kwh": [],
        "cost": {"currency": "CNY", "import_cost": 123456.7, "export_revenue": 2345.0,
                 "grid_only_cost": 234567.0, "net_cost": 121111.7},
        "grid": {"import_over_limit_kwh": 0.0, "intervals_over_import_limit": 0},
        "energy_balance_max_abs_error_kwh": 1e-9,
        "policy": {
            "ruleset": {"id": "cn-ndrc-nea-2025-650", "version": "2025-05",
                        "title": "Green-power direct connection",
                        "document_number": "发改能源〔2025〕650号"},
            "all_passed": False, "rests_on_assumption": True,
            "results": [
                _rule("self_use_min", "Self-use ≥ 60 % of generation",
                      "self_use_share_of_generation", ">=", 0.6, 0.81, 0.21, True),
                {**_rule("green_share_min", "Green share ≥ 35 %", "green_share_of_consumption",
                         ">=", 0.35, 0.30, -0.05, False, scope="fab"),
                 "rests_on_assumption": "export counted as self-use <assumed>"},
                _rule("import_limit", "No import over limit", "intervals_over_import_limit",
                      "<=", 0, 0, 0, True),
                {**_rule("reverse_flow", "No reverse flow before 2030", "reverse_flow_allowed",
                         "==", False, None, None, None), "status": "not_applicable",
                 "reason": "applies from 2030-01-01"},
            ]},
        "products": [
            _product("AL-6061", "7604 29", True, True, 15200.0, 8.1, 5.6),
            _product("PUMP-X", "8413 70", False, False, 900.0, 0.48, 0.33),
        ],
    }


def _rule(rule_id: str, title: str, kpi: str, op: str, threshold: Any, value: Any,
          margin: Any, passed: bool | None, scope: str = "park") -> dict[str, Any]:
    """A policy result shaped like greenlink.policy.evaluate.RuleResult.to_dict()."""
    status = "pass" if passed else "fail"
    return {"rule_id": rule_id, "title": title, "kpi": kpi, "operator": op,
            "threshold": threshold, "scope": scope, "period": "year", "value": value,
            "margin": margin, "passed": passed, "status": status, "confidence": "high",
            "clause": {"zh": "第三条", "en": "Article 3: self-use share of generation"},
            "source": "NDRC/NEA 2025 No. 650", "rests_on_assumption": False, "reason": None}


def _product(sku: str, cn: str, cbam: bool, indirect: bool, kwh_per_t: float, grid_t: float,
             direct_t: float) -> dict[str, Any]:
    """A product record shaped like greenlink.carbon.products rows."""
    return {"sku": sku, "name": f"{sku} product", "cn_code": cn, "user_id": "fab",
            "annual_output_t": 1000.0, "electricity_kwh_per_t": kwh_per_t,
            "electricity_mwh_per_year": kwh_per_t, "green_share_annual": 0.49,
            "green_share_hourly": 0.38, "green_share_of_consumption": 0.31,
            "ef_t_per_mwh": 0.5366, "ef_source": "MEE 2022 national average",
            "indirect_emissions_grid_t": grid_t * 1000, "indirect_emissions_direct_line_t":
            direct_t * 1000, "specific_indirect_grid_t_per_t": grid_t,
            "specific_indirect_direct_line_t_per_t": direct_t, "direct_emissions_t": 0.0,
            "specific_direct_t_per_t": 0.0, "is_cbam_good": cbam, "sector": "aluminium",
            "cbam_counts_indirect": indirect,
            "cbam_relevant_indirect_saving_t": (grid_t - direct_t) * 1000 if indirect else 0.0,
            "cbam_note": "Annex I good: CBAM counts indirect emissions" if cbam else
            "not a CBAM good (CN code outside Annex I)"}


@pytest.fixture(scope="module")
def small() -> tuple[pd.DataFrame, dict[str, Any]]:
    flows = synthetic_flows()
    return flows, synthetic_summary(flows)


@pytest.fixture(scope="module")
def html(small: tuple[pd.DataFrame, dict[str, Any]]) -> str:
    return render_report(*small)


def test_synthetic_flows_balance(small: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    f = small[0]
    lhs = f["generation_kwh"] + f["battery_discharge_kwh"] + f["import_kwh"]
    rhs = f["load_kwh"] + f["battery_charge_kwh"] + f["export_kwh"] + f["curtailed_kwh"]
    assert np.allclose(lhs, rhs, atol=1e-6)


def test_no_network_references(html: str) -> None:
    lower = html.lower()
    assert "http" not in lower
    assert "<script" not in lower
    assert "<link" not in lower
    assert "@import" not in lower
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", lower)
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", lower)


def test_four_inline_svg_plots(html: str) -> None:
    assert html.count("<svg") == 4
    assert html.count('class="plot"') == 4
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "element ids must be unique across the inline SVGs"


def test_policy_rows_and_verdicts(html: str) -> None:
    for rule in ("self_use_min", "green_share_min", "import_limit"):
        assert rule in html
    assert html.count('<td class="pass">') == 2
    assert html.count('<td class="fail">') == 1
    assert "not applicable" in html and "applies from 2030-01-01" in html
    assert "Green-power direct connection (发改能源〔2025〕650号, 2025-05)" in html
    assert "−5.0 pp" in html or "-5.0 pp" in html
    assert "81.0 %" in html
    assert "not all rules pass" in html
    assert "export counted as self-use &lt;assumed&gt;" in html  # assumption note, escaped


def test_users_products_and_escaping(html: str) -> None:
    assert "Fab &amp; Co &lt;Works&gt;" in html
    assert "Office 办公楼" in html
    assert "<Works>" not in html
    for text in ("AL-6061", "7604 29", "CBAM good?", "Indirect counted?", "SKU", "CN code",
                 "Indirect emissions direct line t", "Green share hourly", "49.0 %"):
        assert text in html


def test_kpis_weather_footer(html: str) -> None:
    for text in ("Green share", "Hourly-matched share", "Self-use share", "Export share",
                 "Specific yield", "Import cost", "123,457", "kWh/kWp", "CMA station 58238",
                 "30 min", "scaled to station annual GHI", "examples/suzhou.toml", "beginning"):
        assert text in html


def test_size_small(html: str) -> None:
    assert len(html.encode("utf-8")) < MAX_BYTES


def test_index_or_column_give_same_report(small: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    flows, summary = small
    indexed = flows.set_index("interval_start")
    assert render_report(indexed, summary, title="T") == render_report(flows, summary, title="T")


def test_naive_timestamps_rejected(small: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    flows, summary = small
    naive = flows.assign(interval_start=flows["interval_start"].dt.tz_localize(None))
    with pytest.raises(InputError):
        render_report(naive, summary)


def test_minimal_summary_renders(small: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    html = render_report(small[0], {})
    assert html.count("<svg") == 4
    assert "No policy rules were checked." in html


def test_write_report(tmp_path: Path, small: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    path = write_report(tmp_path / "out" / "report.html", *small)
    assert path.exists()
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_full_year_15min_is_fast_and_small() -> None:
    flows = synthetic_flows(periods=35040, freq="15min")
    assert len(flows) == 35040
    summary = synthetic_summary(flows)
    t0 = time.perf_counter()
    html = render_report(flows, summary)
    elapsed = time.perf_counter() - t0
    assert elapsed < 10.0
    assert len(html.encode("utf-8")) < MAX_BYTES
    assert html.count("<svg") == 4


def test_busiest_week_and_given_start(small: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    table = normalise(small[0])
    start = plots.busiest_week_start(table)
    assert start.tz is not None
    assert start == start.normalize()
    svg = plots.battery_week_svg(table, start="2025-01-08")
    assert "Week from 2025-01-08" in svg


def test_seasonal_profiles_only_seasons_with_data(
        small: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    profiles = plots.seasonal_profiles(normalise(small[0]))
    assert list(profiles) == ["Winter (DJF)"]
    assert len(profiles["Winter (DJF)"]) == 24


def test_monthly_energy_sums_to_load(small: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    monthly = plots.monthly_energy(normalise(small[0]))
    supply = monthly["green_direct"] + monthly["green_battery"] + monthly["grid"]
    assert np.allclose(supply, monthly["load"])


def test_cell_formatting() -> None:
    share_rule = {"kpi": "green_share_of_consumption"}
    assert format_cell("passed", True, {}).css == "pass"
    assert format_cell("passed", False, {}).css == "fail"
    assert format_cell("threshold", 0.35, share_rule).text == "35.0 %"
    assert format_cell("margin", 0.05, share_rule).text == "+5.0 pp"
    assert format_cell("threshold", 3, {"kpi": "intervals_over_import_limit"}).text == "3"
    assert format_cell("operator", ">=", {}).text == "≥"
    assert format_cell("hourly_matched_share", 0.5, {}).text == "50.0 %"
    assert format_share(None) == "–"
    assert header_label("cbam_good", boolean=True) == "CBAM good?"
    assert header_label("electricity_kwh_per_t") == "Electricity kWh per t"
    table = policy_table({"results": [{"passed": True, "rule_id": "r", "extra": [1, 2]}]})
    assert table.headers == ["Rule", "Verdict", "Details"]
    assert table.rows[0][2].details == (("Extra", "1, 2"),)
    unknown = policy_table({"results": [{"a": 1, "b_share": 0.5}]})
    assert unknown.headers == ["A", "B share"]
    assert unknown.rows[0][1].text == "50.0 %"
    not_checked = format_cell("passed", None, {"status": "not_applicable"})
    assert (not_checked.text, not_checked.css) == ("not applicable", "na")


def test_plain_text_escapes_mathtext() -> None:
    svg = plots.user_share_svg([{"id": "u", "name": "A$B$C", "green_share_of_consumption": 0.2}])
    assert "A$B$C" in svg


def test_no_pyplot_and_rcparams_untouched(small: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    # reading rcParams["backend"] would itself import pyplot, so only named keys are compared
    keys = ("svg.fonttype", "svg.hashsalt", "font.size", "figure.figsize", "axes.grid")
    code = ("import sys, matplotlib; import greenlink.report.html; "
            "assert 'matplotlib.pyplot' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
    import matplotlib

    params: Any = matplotlib.rcParams
    before = {k: params[k] for k in keys}
    render_report(*small)
    assert {k: params[k] for k in keys} == before
