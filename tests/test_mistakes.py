"""Guards against the common mistakes (issue 14, point 5): one test per mistake.

* a share given as a percentage number (20 for 20 %) — scenario, rule file, ``--set``,
  ``[policy] parameters``; a fraction given to a percent field (``losses_percent = 0.14``);
* loads in MW declared as kW (and the reverse), one warning per file;
* local times shifted against UTC ("looks shifted by 8 h");
* a leap year's file for a common year, and ``reuse_year``;
* one message per problem, not one per user sharing the file;
* no Rich markup mangling of names such as ``[[battery]]``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from greenlink.cli.main import app
from tests.scenario.parks import BASE_TOML, loads_frame, write_park

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def park_with(tmp_path: Path, old: str, new: str, frame: pd.DataFrame | None = None) -> Path:
    toml = BASE_TOML.format(loads="loads.csv")
    assert old in toml
    return write_park(tmp_path, toml.replace(old, new, 1), frame)


# --- shares as percentages ---------------------------------------------------------------------


def test_scenario_fraction_given_as_percentage(tmp_path: Path) -> None:
    park = park_with(tmp_path, "soc_min = 0.1", "soc_min = 10")
    res = run("validate", park, "--no-series")
    assert res.exit_code == 2
    assert "10 looks like a percentage, but this is a fraction 0..1: write 0.1 for 10 %" \
        in res.output
    assert "batteries[0].soc_min" in res.output


def test_percent_field_given_as_fraction(tmp_path: Path) -> None:
    toml = BASE_TOML.format(loads="loads.csv") + """
[[pv]]
id = "roof"
capacity_kw_dc = 500
tilt_deg = 20
losses_percent = 0.14
"""
    park = write_park(tmp_path, toml)
    res = run("validate", park, "--no-series")
    assert res.exit_code == 2
    assert ("0.14 looks like a fraction, but this field is in percent: write 14 for 14 %"
            in res.output)


def test_set_share_as_percentage_is_refused_with_the_fix(tmp_path: Path) -> None:
    park = write_park(tmp_path)
    res = run("check", park, "--set", "export_share_of_generation_max=20", "--json")
    assert res.exit_code == 2, res.output
    assert "20 looks like a percentage" in res.output
    assert "export_share_of_generation_max = 0.2" in res.output
    ok = run("check", park, "--set", "export_share_of_generation_max=20%", "--json")
    assert ok.exit_code in (0, 1), ok.output
    assert '"threshold": 0.2' in ok.output


def test_policy_parameters_share_as_percentage(tmp_path: Path) -> None:
    park = park_with(tmp_path, '[allocation]', '[policy]\nparameters = '
                     '{ export_share_of_generation_max = 20 }\n\n[allocation]')
    res = run("validate", park)
    assert res.exit_code == 2
    assert "20 looks like a percentage" in res.output


def test_rule_file_threshold_as_percentage(tmp_path: Path) -> None:
    from greenlink.errors import InputError
    from greenlink.policy.ruleset import load_ruleset, shipped_ruleset_paths

    text = shipped_ruleset_paths()["cn-ndrc-nea-2025-650"].read_text(encoding="utf-8")
    text = text.replace("threshold = 0.60", "threshold = 60", 1)
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="60 looks like a percentage") as err:
        load_ruleset(path)
    assert "threshold = 0.6" in str(err.value)


# --- units of loads --------------------------------------------------------------------------


def test_load_in_mw_declared_as_kw_warns_once_per_file(tmp_path: Path) -> None:
    frame = loads_frame()
    frame["a_kw"] = frame["a_kw"] / 1000  # MW written in a column declared kW
    frame["b_kw"] = frame["b_kw"] / 1000
    park = write_park(tmp_path, frame=frame)
    res = run("validate", park)
    assert res.exit_code == 0, res.output
    warnings = [line for line in res.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, res.output  # users a and b share loads.csv: one message
    assert "the loads of a, b peak at" in warnings[0]
    assert "are the columns in MW (or MWh) but declared kW?" in warnings[0]
    assert 'unit = "MW"' in res.output
    out = tmp_path / "out"
    sim = run("simulate", park, "--out", out, "-q")
    assert sim.exit_code == 0 and "warning:" in sim.output
    assert '"warnings": [' in (out / "summary.json").read_text()


def test_load_in_kw_declared_as_mw_warns(tmp_path: Path) -> None:
    park = park_with(tmp_path, 'column = "a_kw" }', 'column = "a_kw", unit = "MW" }')
    toml = park.read_text().replace('column = "b_kw" }', 'column = "b_kw", unit = "MW" }')
    park.write_text(toml)
    frame = loads_frame().rename(columns={"a_kw": "a_kw", "b_kw": "b_kw"})
    frame.to_csv(tmp_path / "loads.csv", index=False)
    res = run("validate", park)
    # the column names say kW: that mismatch is an error already; name them neutrally
    assert res.exit_code == 2 and "is in kW by its name" in res.output
    frame.rename(columns={"a_kw": "a", "b_kw": "b"}).to_csv(tmp_path / "loads.csv", index=False)
    park.write_text(toml.replace('column = "a_kw"', 'column = "a"')
                    .replace('column = "b_kw"', 'column = "b"'))
    res = run("validate", park)
    assert res.exit_code == 0, res.output
    assert "are the columns in kW but declared MW?" in res.output


# --- time axis -------------------------------------------------------------------------------


def test_local_times_written_as_utc_say_shifted_by_8_h(tmp_path: Path) -> None:
    frame = loads_frame()
    # local wall-clock times labelled +00:00: the year starts 8 h late in Asia/Shanghai
    frame["interval_start"] = frame["interval_start"].str.replace("+08:00", "+00:00")
    park = write_park(tmp_path, frame=frame)
    res = run("validate", park)
    assert res.exit_code == 2
    assert "8 interval(s) missing" in res.output
    assert "looks shifted by 8 h against the year in Asia/Shanghai (UTC+08:00)" in res.output
    assert "starts at 2025-01-01 08:00 instead of 2025-01-01 00:00 local time" in res.output
    assert "2025-01-01T00:00:00+08:00" in res.output  # the fix shows the site's offset


def test_leap_year_file_for_a_common_year_and_reuse_year(tmp_path: Path) -> None:
    frame = loads_frame(year=2024)  # 8,784 hours of 2024 for the scenario year 2025
    park = write_park(tmp_path, frame=frame)
    res = run("validate", park)
    assert res.exit_code == 2
    assert "the file holds 2024 (a leap year), the scenario year is 2025" in res.output
    assert "reuse_year = 2024 on the series" in res.output
    assert "29 February dropped" in res.output
    toml = park.read_text().replace('column = "a_kw" }', 'column = "a_kw", reuse_year = 2024 }')
    toml = toml.replace('column = "b_kw" }', 'column = "b_kw", reuse_year = 2024 }')
    toml = toml.replace('unit = "fraction" }', 'unit = "fraction", reuse_year = 2024 }')
    park.write_text(toml)
    ok = run("validate", park)
    assert ok.exit_code == 0, ok.output


def test_reuse_year_maps_by_calendar_date() -> None:
    from greenlink.flows import year_index
    from greenlink.scenario.series import reuse_year_values

    src = year_index(2024, 60, "Asia/Shanghai")
    values = (src.month * 100 + src.day).to_numpy(dtype=float)  # MMDD
    common = reuse_year_values(values, src, year_index(2025, 60, "Asia/Shanghai"))
    assert len(common) == 8760 and 229 not in common  # 29 February dropped
    assert common[59 * 24] == 301  # 1 March 2025 takes 1 March 2024
    back = reuse_year_values(common, year_index(2025, 60, "Asia/Shanghai"),
                             year_index(2028, 60, "Asia/Shanghai"))
    assert len(back) == 8784 and back[59 * 24] == 228  # 29 February repeats the 28th


def test_one_message_per_problem_for_users_sharing_a_file(tmp_path: Path) -> None:
    frame = loads_frame().drop(index=range(100, 108))  # 8 hours missing in the shared file
    park = write_park(tmp_path, frame=frame)
    res = run("validate", park)
    assert res.exit_code == 2
    assert res.output.count("8 interval(s) missing") == 1, res.output
    assert "error: 1 problem(s)" in res.output


def test_efficiency_and_ingest_tolerance_given_as_percentage(tmp_path: Path) -> None:
    park = park_with(tmp_path, "soc_min = 0.1", "soc_min = 0.1\ncharge_efficiency = 95")
    res = run("validate", park, "--no-series")
    assert res.exit_code == 2 and "write 0.95 for 95 %" in res.output
    res = run("ingest", tmp_path / "loads.csv", "--scenario", park, "--tolerance", "2")
    assert res.exit_code == 2 and "write 0.02 for 2 %" in res.output


def test_capacity_factor_in_percent(tmp_path: Path) -> None:
    frame = loads_frame()
    frame["wind_cf"] = (frame["wind_cf"] * 100).round(2)
    park = write_park(tmp_path, frame=frame)
    res = run("validate", park)
    assert res.exit_code == 2
    assert "it looks like percent" in res.output and "divide the column by 100" in res.output


# --- terminal markup -------------------------------------------------------------------------


def test_names_with_brackets_print_as_they_are(tmp_path: Path) -> None:
    park = park_with(tmp_path, 'name = "test park"', 'name = "Park [[battery]] [bold]B[/bold]"')
    res = run("simulate", park, "--out", tmp_path / "out [1]")
    assert res.exit_code == 0, res.output
    assert "Park [[battery]] [bold]B[/bold]" in res.output.replace("\n", "")
    assert "out [1]" in res.output
    toml = park.read_text().replace('column = "a_kw"', 'column = "[[battery]]"')
    park.write_text(toml)
    bad = run("validate", park)
    assert bad.exit_code == 2 and "column '[[battery]]' not found" in bad.output
    ok = park_with(tmp_path / "v [x]", "x", "x")
    assert "v [x]" in run("validate", ok).output


def test_policy_table_keeps_rule_names(tmp_path: Path) -> None:
    from greenlink.policy.ruleset import shipped_ruleset_paths

    text = shipped_ruleset_paths()["cn-ndrc-nea-2025-650"].read_text(encoding="utf-8")
    text = text.replace('id = "single_user"', 'id = "single_user_[[battery]]"', 1)
    (tmp_path / "rules.toml").write_text(text, encoding="utf-8")
    park = write_park(tmp_path)
    res = runner.invoke(app, ["check", str(park), "--ruleset", str(tmp_path / "rules.toml")],
                        env={"COLUMNS": "300"})
    assert res.exit_code in (0, 1), res.output
    assert "single_user_[[battery]]" in res.output


def test_loads_frame_helper_is_a_full_year() -> None:
    assert len(loads_frame()) == 8760 and np.isfinite(loads_frame()["a_kw"]).all()
