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


@pytest.mark.parametrize("example", ["jiangsu_park", "minimal"])
def test_apply_params_round_trips_every_shipped_example(example: str) -> None:
    # the Jiangsu park's PPA to a buyer outside the park refuses `surplus` given at all: a copy
    # that wrote out the defaults was refused, and every sweep of the example with it
    path = Path(__file__).parents[2] / "src/greenlink/examples" / example / "park.toml"
    sc = load_scenario(path).scenario
    assert apply_params(sc, {}) == sc
    half = sc.grid.export_limit_kw / 2
    new = apply_params(sc, {"grid.export_limit_kw": half})
    assert new.grid.export_limit_kw == half
    assert new.model_copy(update={"grid": sc.grid}) == sc


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


def test_engine_choice_pays_for_a_cluster_only_where_it_is_faster() -> None:
    from greenlink.workflows.sweep import CLUSTER_START_S, choose_engine

    # 2 cores: the workers would only take turns with this process
    assert choose_engine(3, 30.0, cores=2)[0] == "here"
    # 16 cores, 3 variants of a second: starting a cluster costs more than it saves
    assert choose_engine(3, 1.0, cores=16)[0] == "here"
    # 16 cores, 20 variants of a minute: 15 workers finish in ~80 s + start-up, not 1200 s
    engine, workers, why = choose_engine(20, 60.0, cores=16)
    assert engine == "cluster" and workers == 15
    assert f"{CLUSTER_START_S + 20 * 60 / 15:.0f} s" in why
    # an explicit worker count asks for the cluster
    assert choose_engine(3, 1.0, cores=2, workers=2)[0] == "cluster"


def test_small_sweep_runs_in_this_process_by_default(park_file: Path) -> None:
    notes: list[str] = []
    table = run_sweep(park_file, [("optimize.wind.capex_per_kw", [3000.0, 6000.0])],
                      engine_note=notes.append)
    assert list(table["variant"]) == [0, 1] and (table["error"] == "").all()
    assert notes and "in this process" in notes[0]


def test_sweep_page_labels_points_and_writes_plain_numbers(tmp_path: Path) -> None:
    from greenlink.report.sweep import write_sweep

    table = pd.DataFrame({"variant": [0, 1], "optimize.battery.capex_per_kwh": [300.0, 400.0],
                          "feasible": [True, True], "total_cost": [12_345_678.9, 23_456_789.0],
                          "green_share_of_consumption": [0.31, 0.42],
                          "hourly_matched_share": [0.25, 0.33], "battery_kwh": [1.5e6, 2.0e5],
                          "error": ["", ""]})
    page = write_sweep(table, tmp_path, ["optimize.battery.capex_per_kwh"])["sweep.html"]
    text = page.read_text()
    assert "v0 battery.capex_per_kwh=300" in text and "v1 battery.capex_per_kwh=400" in text
    assert "12,345,679" in text and "1,500,000" in text and "31.00 %" in text
    body = text[text.index("<h2>Variants</h2>"):]
    assert "e+0" not in body and "e+1" not in body
    assert "--green: #2e7d32" in text  # the report's style sheet
