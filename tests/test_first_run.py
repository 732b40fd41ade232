"""A first run that works (issue 14, point 4): ``init`` writes a scenario that validates and
simulates as written; ``validate`` checks every file the scenario names; an unexpected error in
any command exits 2 with one line and the ``--debug`` hint (1 stays "a rule fails")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from greenlink.cli.main import app

runner = CliRunner()


def run(*args: object, **kwargs):
    return runner.invoke(app, [str(a) for a in args], **kwargs)


def test_init_validate_simulate_check_as_written(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    res = run("init", folder)
    assert res.exit_code == 0, res.output
    assert "greenlink validate" in res.output
    val = run("validate", folder / "park.toml")
    assert val.exit_code == 0, val.output
    assert "series/load.csv: CSV, UTF-8 (detected)" in val.output
    sim = run("simulate", folder / "park.toml", "--out", folder / "out", "-q")
    assert sim.exit_code == 0, sim.output
    summary = json.loads((folder / "out" / "summary.json").read_text())
    assert summary["warnings"] == []
    assert 1000 < summary["specific_yield_kwh_per_kwp"]["park"] < 1400
    check = run("check", folder / "park.toml", "--json")
    assert check.exit_code == 0, check.output  # the starter passes the single-user rules
    assert run("init", folder).exit_code == 2  # never overwrites


def test_init_never_overwrites_a_users_file(tmp_path: Path) -> None:
    (tmp_path / "series").mkdir()
    (tmp_path / "series" / "load.csv").write_text("mine")
    res = run("init", tmp_path)
    assert res.exit_code == 2 and "load.csv: already exists" in res.output
    assert (tmp_path / "series" / "load.csv").read_text() == "mine"
    assert not (tmp_path / "park.toml").exists()


def test_init_example_jiangsu_copies_every_file_it_names(tmp_path: Path) -> None:
    folder = tmp_path / "j"
    res = run("init", folder, "--example", "jiangsu")
    assert res.exit_code == 0, res.output
    assert (folder / "cbam" / "cement_batches.csv").is_file()
    val = run("validate", folder / "park.toml")
    assert val.exit_code == 0, val.output
    for name in ("series/loads.csv", "cbam/alu_batches.csv", "cbam/fasteners_shipments.csv"):
        assert f"{name}: CSV, UTF-8 (detected)" in val.output
    assert run("init", tmp_path / "x", "--example", "nowhere").exit_code == 2


def test_validate_checks_batches_and_shipments(tmp_path: Path) -> None:
    folder = tmp_path / "j"
    assert run("init", folder, "--example", "jiangsu").exit_code == 0
    (folder / "cbam" / "alu_batches.csv").unlink()
    shipments = folder / "cbam" / "cement_shipments.csv"
    shipments.write_text(shipments.read_text().replace(",23665.294,", ",-1,", 1))
    res = run("validate", folder / "park.toml")
    assert res.exit_code == 2
    assert "alu_batches.csv: batches file not found (named by installations[1].batches_file)" \
        in res.output
    res = run("validate", folder / "park.toml", "--no-series")
    assert res.exit_code == 2 and "alu_batches.csv" in res.output  # existence without reading
    (folder / "cbam" / "alu_batches.csv").write_text("batch_id,process\n")
    res = run("validate", folder / "park.toml")
    assert res.exit_code == 2
    assert "missing columns ['sku', 'start', 'end', 'tonnes']" in res.output
    assert "shipment S00000: tonnage '-1' is not positive" in res.output  # all problems at once


@pytest.mark.parametrize("command", [["simulate", "{park}", "--out", "{out}", "-q"],
                                     ["check", "{park}"], ["validate", "{park}"]])
def test_unexpected_error_exits_2_with_one_line(tmp_path: Path, monkeypatch,
                                                command: list[str]) -> None:
    import greenlink.inputs as inputs

    assert run("init", tmp_path / "p").exit_code == 0

    def broken(*_args, **_kwargs):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(inputs, "tariff_periods", broken)
    args = [a.format(park=tmp_path / "p" / "park.toml", out=tmp_path / "o") for a in command]
    res = run(*args)
    assert res.exit_code == 2, res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert lines[-1].startswith("error: unexpected ZeroDivisionError: float division by zero")
    assert "rerun with --debug for the traceback" in lines[-1]
    assert "Traceback" not in res.output
    debug = run("--debug", *args)
    assert isinstance(debug.exception, ZeroDivisionError)  # --debug: raised, traceback and all
    monkeypatch.setenv("GREENLINK_DEBUG", "1")
    assert isinstance(run(*args).exception, ZeroDivisionError)


def test_a_failing_rule_is_still_exit_1(tmp_path: Path) -> None:
    assert run("init", tmp_path / "p").exit_code == 0
    res = run("check", tmp_path / "p" / "park.toml", "--set",
              "green_share_of_consumption_min=0.9", "--json")
    assert res.exit_code == 1, res.output


def test_usage_errors_keep_their_own_exit_code() -> None:
    assert run("simulate").exit_code == 2  # missing argument (Typer's usage error)
    assert run("--help").exit_code == 0
    assert "--debug" in run("--help").output
