"""The demo pack: one cement shipment of the example park, built, signed and verified."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from greenlink.evidence.embedded_see import FUELS_FILE
from greenlink.evidence.pack import read_pack
from greenlink.evidence.verify import verify_members
from greenlink.scenario.load import LoadedScenario, load_scenario
from greenlink.signing.keys import PUBLIC_NAME, load_public_key
from greenlink.workflows.cbam import accounts_for
from greenlink.workflows.demo import DEMO_KEY_DIR, build_demo_shipment_pack
from greenlink.workflows.run import run_scenario

EXAMPLE = (Path(__file__).parents[2] / "src" / "greenlink" / "examples" / "jiangsu_park"
           / "park.toml")


@pytest.fixture(scope="module")
def park() -> tuple[LoadedScenario, pd.DataFrame]:
    loaded = load_scenario(EXAMPLE)
    return loaded, run_scenario(loaded).flows


def test_demo_pack_passes_and_carries_the_see(park: tuple[LoadedScenario, pd.DataFrame],
                                              tmp_path: Path) -> None:
    loaded, flows = park
    path, result = build_demo_shipment_pack(loaded, flows, tmp_path / "evidence")
    assert path == tmp_path / "evidence" / "shipment_cement_plant_S00000.zip"
    assert result.ok and result.report.failure is None and result.report.key_trusted
    assert "PASS" in result.message and result.fingerprint in result.message
    assert result.public_key == tmp_path / "evidence" / DEMO_KEY_DIR / PUBLIC_NAME
    with zipfile.ZipFile(path) as zf:
        doc = json.loads(zf.read("claim.json"))
    emb = doc["embedded"]
    # direct SEE and the precursor part are the line's period values of the CBAM accounts
    see = accounts_for(loaded, flows, "cement_plant").see["grinding"]
    assert emb["see_direct_t_per_t"] == see.see_direct_rounded
    clinker = 487500 * 0.046 / 650000  # example park: clinker t × its indirect SEE / AL
    assert emb["see_indirect_precursors_t_per_t"] == round(clinker, 5)
    assert emb["see_indirect_t_per_t"] == pytest.approx(
        emb["see_indirect_own_t_per_t"] + emb["see_indirect_precursors_t_per_t"], abs=1.5e-5)
    assert doc["shipment"]["shipment_id"] == "S00000"
    assert "certificates" not in doc


def test_demo_rerun_new_key_same_claim_and_tamper_fails(
        park: tuple[LoadedScenario, pd.DataFrame], tmp_path: Path) -> None:
    loaded, flows = park
    first, r1 = build_demo_shipment_pack(loaded, flows, tmp_path)
    claim1 = read_pack(first)["claim.json"]
    second, r2 = build_demo_shipment_pack(loaded, flows, tmp_path)
    members = read_pack(second)
    assert r2.ok and r1.fingerprint != r2.fingerprint
    assert members["claim.json"] == claim1
    members[FUELS_FILE] = members[FUELS_FILE].replace(b",1.9,", b",1.5,")
    failure = verify_members(members, load_public_key(r2.public_key.read_bytes())).failure
    assert failure is not None and failure.file == FUELS_FILE
