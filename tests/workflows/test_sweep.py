"""Sweep parameters, variants on Dask, the tidy table, the Pareto front and the CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from greenlink.cli.optimize_cmd import optimize_app
from greenlink.errors import InputError
from greenlink.scenario.load import load_scenario
from greenlink.scenario.variants import apply_params, needs_new_inputs, parse_param, variants
from greenlink.workflows.sweep import pareto_front, run_sweep
from tests.optimize.test_cli import OPTIMIZE
from tests.scenario.parks import park_toml, write_park


@pytest.fixture(scope="module")
def park_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_park(tmp_path_factory.mktemp("sweep") / "park", park_toml() + OPTIMIZE)


def test_parse_aliases_and_product() -> None:
    key, values = parse_param("battery.cost=300, 400")
    assert key == "optimize.battery.capex_per_kwh" and values == [300.0, 400.0]
    combos = variants([(key, values), ("grid.export_limit_kw", [0.0, 500.0, 1000.0])])
    assert len(combos) == 6 and combos[0] == {key: 300.0, "grid.export_limit_kw": 0.0}
    with pytest.raises(InputError):
        parse_param("battery.cost")


def test_apply_params_by_id_and_errors(park_file: Path) -> None:
    sc = load_scenario(park_file).scenario
    new = apply_params(sc, {"wind.w.capacity_kw": 1234.0, "grid.export_limit_kw": 0.0})
    assert new.wind[0].capacity_kw == 1234.0 and new.grid.export_limit_kw == 0.0
    assert sc.grid.export_limit_kw == 500.0  # the original is unchanged
    with pytest.raises(InputError, match="no entry"):
        apply_params(sc, {"wind.nope.capacity_kw": 1.0})
    with pytest.raises(InputError):
        apply_params(sc, {"grid.export_limit_kw": -5.0})
    assert needs_new_inputs({"wind.w.capacity_kw": 1.0})
    assert not needs_new_inputs({"optimize.wind.capex_per_kw": 1.0})


def test_pareto_front_by_hand() -> None:
    table = pd.DataFrame({"total_cost": [1.0, 2.0, 2.0, 3.0],
                          "green_share_of_consumption": [0.3, 0.5, 0.4, 0.5],
                          "feasible": [True, True, True, True]})
    assert pareto_front(table).tolist() == [True, True, False, False]


def test_sweep_in_process_and_on_a_dask_cluster(park_file: Path) -> None:
    from distributed import LocalCluster

    params = [("optimize.wind.capex_per_kw", [3000.0, 6000.0])]
    local = run_sweep(park_file, params, scheduler="local")
    assert list(local["variant"]) == [0, 1]
    assert (local["error"] == "").all()
    # dearer wind: never more wind, never a lower cost
    assert local["wind_kw"][1] <= local["wind_kw"][0] + 1e-6
    assert local["total_cost"][1] >= local["total_cost"][0] - 1e-6
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        remote = run_sweep(park_file, params, scheduler=cluster.scheduler_address)
    pd.testing.assert_series_equal(remote["total_cost"], local["total_cost"], rtol=1e-9)


def test_sweep_cli_writes_table_and_report(park_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = CliRunner().invoke(optimize_app, [
        "sweep", str(park_file), "--param", "wind.cost=3000", "--param",
        "grid.export_limit_kw=0,500", "--scheduler", "local", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out / "sweep.parquet")
    assert len(table) == 2 and "pareto" in table.columns
    assert "Pareto front" in (out / "sweep.html").read_text()
    bad = CliRunner().invoke(optimize_app, ["sweep", str(park_file), "--param", "nope.x=1",
                                            "--scheduler", "local"])
    assert bad.exit_code == 2
