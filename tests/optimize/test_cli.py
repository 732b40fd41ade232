"""``greenlink optimize`` through Typer's CliRunner on a small file-based park (a year, hourly)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from greenlink.cli.optimize_cmd import optimize_app
from tests.scenario.parks import park_toml, write_park

OPTIMIZE = """
[optimize]
rules = "none"
battery = { max_energy_kwh = 0 }
wind = { max_capacity_kw = { w = 6000 }, capex_per_kw = 4000 }
targets = [ { metric = "green_share_of_consumption", scope = "park", min = 0.3 } ]
"""


def test_optimize_writes_simulate_formats(tmp_path: Path) -> None:
    path = write_park(tmp_path / "park", park_toml() + OPTIMIZE)
    out = tmp_path / "out"
    result = CliRunner().invoke(optimize_app, ["optimize", str(path), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    for name in ("flows.parquet", "flows.csv", "summary.json", "report.html",
                 "optimization.json"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    opt = summary["optimization"]
    assert opt["feasible"]
    assert 0 < opt["sizes"]["wind_kw"]["w"] <= 6000 + 1e-6
    assert summary["shares"]["green_share_of_consumption"] >= 0.3 - 1e-9
    flows = pd.read_parquet(out / "flows.parquet")
    assert {"interval_start", "generation_kwh", "a.green_kwh", "b.grid_kwh"} <= set(flows.columns)
    assert "Optimisation (HiGHS)" in (out / "report.html").read_text()


def test_optimize_infeasible_exits_1_and_says_why(tmp_path: Path) -> None:
    text = park_toml() + OPTIMIZE.replace("min = 0.3", "min = 0.99")
    path = write_park(tmp_path / "park", text)
    result = CliRunner().invoke(optimize_app, ["optimize", str(path), "--out",
                                               str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "cannot be met" in result.output and "must relax by" in result.output


def test_optimize_bad_input_exits_2(tmp_path: Path) -> None:
    text = park_toml() + OPTIMIZE.replace('scope = "park"', 'scope = "nobody"')
    path = write_park(tmp_path / "park", text)
    result = CliRunner().invoke(optimize_app, ["optimize", str(path), "-q"])
    assert result.exit_code == 2
    assert "nobody" in result.output


def test_what_binds_in_terminal_json_and_report(tmp_path: Path) -> None:
    # wind almost free: the optimiser builds all 6,000 kW it may; that bound binds and all three
    # outputs say so with the same sentence, naming the key to raise
    text = park_toml() + OPTIMIZE.replace("capex_per_kw = 4000", "capex_per_kw = 1")
    path = write_park(tmp_path / "park", text)
    out = tmp_path / "out"
    result = CliRunner().invoke(optimize_app, ["optimize", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    binding = json.loads((out / "optimization.json").read_text())["binding"]
    by_key = {b["key"]: b for b in binding}
    wind = by_key["optimize.wind.max_capacity_kw.w"]
    assert wind["value"] == wind["bound"] == 6000.0 and wind["shadow_price"] > 0
    assert "wind w sits at its upper bound 6,000 kW" in wind["message"]
    # the export limit binds where green is curtailed: one more kW exports one more kWh in each
    # such hour at the export price 0.39
    export = by_key["grid.export_limit_kw"]
    hours = int(re.search(r"binds in ([\d,]+) intervals", export["message"])[1].replace(",", ""))
    assert hours > 0 and export["shadow_price"] == pytest.approx(0.39 * hours, rel=1e-9)
    terminal = " ".join(result.output.split())
    report = (out / "report.html").read_text()
    assert "what binds" in terminal
    for b in (wind, export):
        assert " ".join(b["message"].split()) in terminal and b["message"] in report
