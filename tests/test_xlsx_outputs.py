"""Outputs users open (issue 14, point 3): xlsx files for flows, summary, settlement statements,
sweep results and CBAM tables, opened back with openpyxl — names in row 1, units in row 2, both
rows frozen — and linked from the report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from greenlink.cli.main import app
from greenlink.xlsxfile import Sheet, unit_of, write_xlsx
from tests.scenario.parks import write_park

runner = CliRunner()


def header(ws) -> tuple[list, list]:
    rows = ws.iter_rows(min_row=1, max_row=2, values_only=True)
    names, units = next(rows), next(rows)
    return list(names), list(units)


def test_writer_units_frozen_rows_local_times(tmp_path: Path) -> None:
    index = pd.date_range("2025-01-01", periods=3, freq="15min", tz="Asia/Shanghai")
    frame = pd.DataFrame({"interval_start": index, "load_kwh": [1.0, np.nan, np.inf],
                          "green_share": [0.5, 0.25, 1.0], "name": ["a", "[[battery]]", "厂"],
                          "price_per_kwh": [0.65, 0.65, 0.65]})
    path = write_xlsx(tmp_path / "t.xlsx", [Sheet("flows", frame, currency="CNY",
                                                  freeze_columns=1)])
    book = openpyxl.load_workbook(path)
    ws = book["flows"]
    names, units = header(ws)
    assert names == ["interval_start", "load_kwh", "green_share", "name", "price_per_kwh"]
    assert units == ["local time, Asia/Shanghai (UTC+08:00), interval beginning", "kWh",
                     "fraction 0..1", None, "CNY/kWh"]
    assert ws.freeze_panes == "B3"
    assert [c.value for c in ws["A"]][2:] == [pd.Timestamp("2025-01-01 00:00"),
                                             pd.Timestamp("2025-01-01 00:15"),
                                             pd.Timestamp("2025-01-01 00:30")]
    assert [c.value for c in ws["B"]][2:] == [1.0, None, None]  # NaN and inf: empty cells
    assert ws["D4"].value == "[[battery]]" and ws["D5"].value == "厂"


def test_units_from_column_names() -> None:
    assert unit_of("alu_extruder.load_kwh") == "kWh"
    assert unit_of("pv_kw_dc") == "kWp"
    assert unit_of("see_counted_dc_t_per_t") == "t CO2e/t"
    assert unit_of("cost_dc_eur") == "EUR"
    assert unit_of("hourly_matched_share") == "fraction 0..1"
    assert unit_of("green_share_of_consumption") == "fraction 0..1"
    assert unit_of("cost_per_kwh", "CNY") == "CNY/kWh"
    assert unit_of("rank") == ""


def test_simulate_format_xlsx_flows_summary_and_report_links(tmp_path: Path) -> None:
    park = write_park(tmp_path / "park")
    out = tmp_path / "out"
    res = runner.invoke(app, ["simulate", str(park), "--out", str(out), "--format", "xlsx", "-q"])
    assert res.exit_code == 0, res.output
    flows = pd.read_parquet(out / "flows.parquet")
    book = openpyxl.load_workbook(out / "flows.xlsx", read_only=False)
    ws = book["flows"]
    names, units = header(ws)
    assert names == list(flows.columns)
    assert units[names.index("a.load_kwh")] == "kWh"
    assert units[names.index("battery_soc_kwh")] == "kWh"
    assert units[0].startswith("local time, Asia/Shanghai (UTC+08:00)")
    assert ws.freeze_panes == "B3" and ws.max_row == 2 + len(flows)
    assert ws.cell(3, names.index("a.load_kwh") + 1).value == pytest.approx(
        round(float(flows["a.load_kwh"].iloc[0]), 6))
    meaning = {r[0]: r[1] for r in book["columns"].iter_rows(min_row=3, values_only=True)}
    assert meaning["a.green_kwh"] == "kWh"
    summary = openpyxl.load_workbook(out / "summary.xlsx")
    assert {"summary", "users", "monthly", "policy", "products"} <= set(summary.sheetnames)
    rows = {(r[0], r[1]): (r[2], r[3])
            for r in summary["summary"].iter_rows(min_row=3, values_only=True)}
    assert rows[("shares", "green_share_of_consumption")][1] == "fraction 0..1"
    assert rows[("totals_kwh", "load_kwh")][1] == "kWh"
    assert summary["summary"].freeze_panes == "C3"
    users_names, users_units = header(summary["users"])
    assert users_units[users_names.index("load_kwh")] == "kWh"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'href="flows.xlsx"' in html and 'href="summary.xlsx"' in html
    again = runner.invoke(app, ["report", str(out)])  # a re-rendered report keeps the links
    assert again.exit_code == 0 and 'href="flows.xlsx"' in (out / "report.html").read_text()
    bad = runner.invoke(app, ["simulate", str(park), "--out", str(out), "--format", "ods"])
    assert bad.exit_code == 2 and "unknown format 'ods'" in bad.output


def test_settlement_xlsx(tmp_path: Path) -> None:
    from greenlink.economics.settlement import settle
    from greenlink.workflows.settle import write_settlement_xlsx
    from tests.economics.conftest import tiny_fees, tiny_flows, tiny_scenario

    s = settle(tiny_flows(), tiny_scenario(), "2025-01", fees=tiny_fees())
    path = write_settlement_xlsx(s, tmp_path)
    book = openpyxl.load_workbook(path)
    assert {"tenants", "a", "b", "contract wind-a", "contract park-b", "buyers"} <= set(
        book.sheetnames)
    names, units = header(book["tenants"])
    assert units[names.index("total")] == "CNY" and units[names.index("load_kwh")] == "kWh"
    totals = {r[0]: r[names.index("total")]
              for r in book["tenants"].iter_rows(min_row=3, values_only=True)}
    assert totals["a"] == pytest.approx(float(s.statement("a").total))
    lines, line_units = header(book["a"])
    assert line_units[lines.index("amount")] == "CNY"
    amounts = [r[lines.index("amount")] for r in book["a"].iter_rows(min_row=3, values_only=True)]
    assert sum(amounts) == pytest.approx(float(s.statement("a").total))
    assert book["a"].freeze_panes == "C3"


def test_sweep_xlsx(tmp_path: Path) -> None:
    from greenlink.report.sweep import write_sweep

    table = pd.DataFrame({"variant": [0, 1], "battery.cost": [300, 400], "feasible": [True, True],
                          "total_cost": [1e6, 2e6], "green_share_of_consumption": [0.3, 0.5],
                          "hourly_matched_share": [0.2, 0.4], "battery_kwh": [100.0, 200.0]})
    written = write_sweep(table, tmp_path, xlsx=True)
    assert "sweep.xlsx" in written
    ws = openpyxl.load_workbook(tmp_path / "sweep.xlsx")["sweep"]
    names, units = header(ws)
    assert units[names.index("battery_kwh")] == "kWh"
    assert units[names.index("hourly_matched_share")] == "fraction 0..1"
    assert ws.freeze_panes == "B3" and ws.max_row == 4
    assert "sweep.xlsx" in (tmp_path / "sweep.html").read_text()


def test_cbam_table_as_xlsx(tmp_path: Path, monkeypatch) -> None:
    from greenlink.workflows import cbam as svc

    rows = [{"sku": "CEM", "rank": 1, "tonnes_per_year": 1000.0, "cost_grid_eur": 5.0,
             "cost_dc_eur": 4.0, "saving_eur": 1.0}]
    monkeypatch.setattr(svc, "context", lambda scenario, flows: (None, None))
    monkeypatch.setattr(svc, "accounts_for", lambda *a, **k: None)
    monkeypatch.setattr(svc, "exposure_report", lambda acc, by: pd.DataFrame(rows))
    out = tmp_path / "exposure.xlsx"
    res = runner.invoke(app, ["cbam", "exposure", "-i", "cement_plant", "--out", str(out)])
    assert res.exit_code == 0, res.output
    ws = openpyxl.load_workbook(out)["exposure by sku"]
    names, units = header(ws)
    assert units[names.index("cost_dc_eur")] == "EUR"
    assert units[names.index("tonnes_per_year")] == "t/year"
    assert ws.freeze_panes == "B3"
    bad = runner.invoke(app, ["cbam", "exposure", "-i", "x", "--out", str(tmp_path / "e.json")])
    assert bad.exit_code == 2 and "ending in .xlsx" in bad.output
