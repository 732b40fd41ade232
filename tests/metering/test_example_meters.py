"""The example park's generated meter files: planted faults are found, the rest is clean."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from greenlink.cli.ingest_cmd import ingest_app
from greenlink.cli.main import example_dir
from greenlink.metering.actuals import actual_flows, metered_arrays
from greenlink.metering.ingest import ingest_files
from greenlink.metering.store import open_store
from greenlink.metering.synthetic import write_example_meter_files
from greenlink.workflows.run import run_scenario

PARK = example_dir() / "park.toml"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("meters")
    run = run_scenario(PARK)
    files = write_example_meter_files(run.inputs.scenario, run.flows, out, seed=2025)
    return run, files, out


def test_generation_is_seeded(example, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run, files, _ = example
    again = write_example_meter_files(run.inputs.scenario, run.flows, tmp_path, seed=2025)
    assert [p.read_bytes() == q.read_bytes() for p, q in zip(files, again, strict=True)] \
        == [True, True]


def test_planted_faults_are_reported(example) -> None:  # type: ignore[no-untyped-def]
    run, files, out = example
    report = ingest_files(run.inputs.scenario, files, out / "store.duckdb")
    found = {(r.meter_id, r.check, r.interval_start.strftime("%m-%d %H:%M"))
             for r in report.issues.itertuples()}
    assert ("load_cement_grinding", "gap", "03-12 10:00") in found
    assert ("load_steel_fasteners", "duplicate", "04-02 09:00") in found
    assert ("gen_rooftops", "negative", "05-05 03:00") in found
    assert ("load_data_centre", "stuck", "06-10 14:00") in found
    counts = report.issues.groupby("check").size().to_dict()
    # a reading above its meter's rating is no longer planted: ingest refuses such a file
    # (tests/adversary/test_meter_data.py), and the balance closes in every complete interval
    assert counts == {"gap": 8, "duplicate": 1, "negative": 1, "stuck": 12}
    # metered flows track the simulation closely (0.2 % meter noise)
    sc = run.inputs.scenario
    with open_store(out / "store.duckdb") as con:
        flows = actual_flows(sc, metered_arrays(sc, con))
    sim = run.flows
    for user in sc.user_ids:
        assert flows[f"{user}.green_kwh"].sum() == pytest.approx(
            sim[f"{user}.green_kwh"].sum(), rel=0.03)
    assert (flows.filter(like=".green_kwh").to_numpy()
            <= flows.filter(like=".load_kwh").to_numpy() + 1e-9).all()


def test_cli_ingest(example, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, files, _ = example
    store = tmp_path / "s.duckdb"
    args = [*map(str, files), "--scenario", str(PARK), "--store", str(store), "--report",
            str(tmp_path / "r.json")]
    result = CliRunner().invoke(ingest_app, args)
    assert result.exit_code == 0, result.output
    assert "420472 new" in result.output
    again = CliRunner().invoke(ingest_app, args)
    assert "already stored" in again.output
    bad = CliRunner().invoke(ingest_app, [str(tmp_path / "nope.csv"), "--scenario", str(PARK),
                                          "--store", str(store)])
    assert bad.exit_code == 2 and "not found" in bad.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["per_meter"]["load_cement_grinding"]["gap"] == 8
    assert report["readings"] == 455513
