"""End to end on the example park: meters → certificates → claims → statement and export."""

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from greenlink.cli.ingest_cmd import ingest_app
from greenlink.cli.main import example_dir
from greenlink.cli.registry_cmd import registry_app
from greenlink.metering.synthetic import write_example_meter_files
from greenlink.workflows.run import run_scenario
from tests.certificates.conftest import GEC_MAPPING

PARK = example_dir() / "park.toml"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    tmp = tmp_path_factory.mktemp("e2e")
    run = run_scenario(PARK)
    files = write_example_meter_files(run.inputs.scenario, run.flows, tmp / "meters")
    store = tmp / "store.duckdb"
    r = CliRunner().invoke(ingest_app, [*map(str, files), "-s", str(PARK), "--store",
                                        str(store)])
    assert r.exit_code == 0, r.output
    return tmp, store, f"sqlite:///{tmp / 'registry.sqlite'}"


def invoke(*args: str) -> str:
    r = CliRunner().invoke(registry_app, list(args))
    assert r.exit_code == 0, r.output
    return r.output


def test_issue_claim_statement_export(setup: tuple[Path, Path, str]) -> None:
    tmp, store, db = setup
    out = invoke("issue", "-s", str(PARK), "--store", str(store), "--db", db)
    assert "issued" in out
    again = invoke("issue", "-s", str(PARK), "--store", str(store), "--db", db)
    assert "issued 0 bundles" in again  # idempotent: nothing issued twice
    invoke("account", "alu_extruder", "--accepts-from", "park", "--db", db)
    invoke("export", "--out", str(tmp / "gc.csv"), "--db", db)
    gc = pd.read_csv(tmp / "gc.csv")
    noon = gc[gc["production_starting_interval"].str.startswith("2025-06-02T04:00")]
    bid = int(noon[noon["device_id"] == "ground"]["id"].iloc[0])
    invoke("transfer", str(bid), "--to", "alu_extruder", "--quantity", "1000000", "--db", db)
    moved = int(pd.read_csv(tmp / "gc.csv").shape[0]) + 1  # first child of the split
    # Chinese certificates: claimable once the month's GECs are imported ("GEC pending")
    pending = CliRunner().invoke(registry_app, ["cancel", str(moved), "--beneficiary",
                                                "alu_extruder", "--purpose", "tenant_scope2",
                                                "--db", db])
    assert pending.exit_code == 2 and "GEC pending" in pending.output, pending.output
    (tmp / "gec.toml").write_text(GEC_MAPPING, encoding="utf-8")
    (tmp / "gec.csv").write_text("device,month,from,to\nground,2025-06,G2506000001,"
                                 "G2506009999\n", encoding="utf-8")
    assert "1 of 1 records imported" in invoke("gec", "import", str(tmp / "gec.csv"),
                                                "--mapping", str(tmp / "gec.toml"), "--db", db)
    out = invoke("cancel", str(moved), "--beneficiary", "alu_extruder", "--purpose",
                 "tenant_scope2", "--db", db)
    assert "GEC serials: G2506000001" in out, out
    invoke("statement", "--user", "alu_extruder", "--month", "2025-06", "-s", str(PARK),
           "--store", str(store), "--out", str(tmp / "st"), "--db", db)
    st = json.loads((tmp / "st" / "alu_extruder_2025-06.json").read_text())
    assert st["certificates"]["claimed_wh"] == 1_000_000
    assert st["certificates"]["by_purpose_wh"] == {"tenant_scope2": 1_000_000}
    assert st["metered"]["matched_green_kwh"] > 1000
    assert set(st["metered"]["production_lines"]) == {"line-1", "line-2"}
    assert st["claims_within_matched_energy"]
    (claim,) = st["certificates"]["claims"]
    assert claim["gec_serial_text"] == "G2506000001" and claim["wh"] == 1_000_000
    assert st["certificates"]["bundles"][0]["gec_serials"][0]["from"] == "G2506000001"
    assert "Green energy statement" in (tmp / "st" / "alu_extruder_2025-06.html").read_text()
    invoke("export", "--out", str(tmp / "gc.json"), "--status", "Claimed", "--db", db)
    exported = json.loads((tmp / "gc.json").read_text())["bundles"]
    assert [b["beneficiary"] for b in exported] == ["alu_extruder"]
    assert exported[0]["bundle_quantity"] == 1_000_000 and exported[0]["face_value"] == 1
    assert "chain intact" in invoke("verify", "--db", db)


def test_user_errors_exit_2(setup: tuple[Path, Path, str]) -> None:
    _, _, db = setup
    r = CliRunner().invoke(registry_app, ["transfer", "999999999", "--to", "x", "--db", db])
    assert r.exit_code == 2 and "does not exist" in r.output
    r = CliRunner().invoke(registry_app, ["cancel", "1", "--beneficiary", "x", "--purpose",
                                          "fun", "--db", db])
    assert r.exit_code == 2 and "purpose" in r.output
