"""Shipment claim: factor route with its D.4.3 conditions, indirect SEE, PACT interop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from greenlink.carbon.emission_factor_routes import GridFactor
from greenlink.evidence.build import SIGNER_NAME, build_shipment_pack, signed_members
from greenlink.evidence.manifest import MANIFEST_NAME, SIGNATURE_NAME
from greenlink.evidence.pack import read_pack
from greenlink.evidence.shipment import (
    CBAM_FILE,
    PACT_FILE,
    SHIPMENT,
    ShipmentInfo,
    ShipmentRequest,
)
from greenlink.evidence.verify import verify_members
from greenlink.scenario.installations import ElectricityEvidence
from tests.evidence.conftest import request_for, tiny_flows

GRID = GridFactor(0.58, "MEE 2023 national grid factor (test)")
COMPLETE = ElectricityEvidence(
    route="direct_technical_link", source="pv", ef_t_per_mwh=0.0,
    single_line_diagram="sld/tiny-rev1.pdf", single_line_diagram_sha256="ab" * 32,
    meter_interval_minutes=15, production_meter="m-pv", delivery_meter="m-u",
    offtake_contract="gsa-1")
SHIP = ShipmentInfo("EU-1", "ALU-6063-HP", "76042100", 0.001, "Tiny Co", "tiny")


def _build(tmp_path: Path, key: Ed25519PrivateKey, evidence: tuple[ElectricityEvidence, ...],
           **changes: object) -> dict[str, bytes]:
    req = ShipmentRequest(request_for(tiny_flows(), "u", flows_source="metered", **changes),
                          SHIP, GRID, evidence)
    build_shipment_pack(req, key, tmp_path / "s.zip")
    return read_pack(tmp_path / "s.zip")


def test_weighted_average_route_known_by_hand(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    members = _build(tmp_path, key, (COMPLETE,))
    doc = json.loads(members["claim.json"])
    ef = doc["electricity_factor"]
    # 18 of 32 kWh matched: EF = (0.014 MWh × 0.58) / 0.032 MWh = 0.25375 t/MWh
    assert doc["kind"] == SHIPMENT
    assert (ef["route"], ef["template_code"]) == ("weighted_average", "Mix")
    assert ef["ef_t_per_mwh"] == pytest.approx(0.25375)
    assert ef["see_indirect_t_per_t"] == pytest.approx(0.25375 * 0.032 / 0.001)
    pact = json.loads(members[PACT_FILE])
    assert pact["pcf"]["pCfExcludingBiogenic"] == "8.12000"
    cbam = json.loads(members[CBAM_FILE])
    assert cbam["D_Processes"]["L67_emission_factor_source"] == "Mix"
    assert cbam["D_Processes"]["L65_electricity_consumption_mwh"] == pytest.approx(0.032)
    assert cbam["specific_electricity_mwh_per_t"] == pytest.approx(32.0)
    assert verify_members(members, key.public_key()).ok


def test_edited_cbam_figure_resigned_fails(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    import datetime as dt

    members = _build(tmp_path, key, (COMPLETE,))
    bad = dict(members)
    bad[CBAM_FILE] = members[CBAM_FILE].replace(b'"L67_emission_factor_source": "Mix"',
                                                b'"L67_emission_factor_source": "D.4.3.1"')
    body = {k: v for k, v in bad.items() if k not in (MANIFEST_NAME, SIGNATURE_NAME,
                                                      SIGNER_NAME)}
    forged = signed_members(body, SHIPMENT, dt.datetime(2025, 1, 1, 2), key)
    failure = verify_members(forged, key.public_key()).failure
    assert failure is not None
    assert (failure.file, failure.field) == (CBAM_FILE, "D_Processes.L67_emission_factor_source")


def test_fully_matched_hour_takes_the_direct_link_route(tmp_path: Path,
                                                        key: Ed25519PrivateKey) -> None:
    flows = tiny_flows()
    members = _build(tmp_path, key, (COMPLETE,), end=flows.index[2])
    ef = json.loads(members["claim.json"])["electricity_factor"]
    assert (ef["route"], ef["template_code"], ef["ef_t_per_mwh"]) == (
        "actual_direct_link", "D.4.3.1", 0.0)
    assert verify_members(members, key.public_key()).ok


def test_missing_evidence_falls_back_to_default_and_lists_it(tmp_path: Path,
                                                             key: Ed25519PrivateKey) -> None:
    gap = COMPLETE.model_copy(update={"single_line_diagram_sha256": None,
                                      "meter_interval_minutes": 90})
    members = _build(tmp_path, key, (gap,))
    ef = json.loads(members["claim.json"])["electricity_factor"]
    assert ef["route"] == "default" and ef["ef_t_per_mwh"] == 0.58
    assert any("SHA-256" in m for m in ef["missing_evidence"])
    assert any("90 min" in m for m in ef["missing_evidence"])
    assert verify_members(members, key.public_key()).ok


def test_claimed_route_changed_and_resigned_fails(tmp_path: Path,
                                                  key: Ed25519PrivateKey) -> None:
    members = _build(tmp_path, key, (COMPLETE,))
    bad = dict(members)
    bad["claim.json"] = members["claim.json"].replace(b'"route": "weighted_average"',
                                                      b'"route": "actual_direct_link"')
    body = {k: v for k, v in bad.items() if k not in (MANIFEST_NAME, SIGNATURE_NAME,
                                                      SIGNER_NAME)}
    import datetime as dt
    forged = signed_members(body, SHIPMENT, dt.datetime(2025, 1, 1, 2), key)
    failure = verify_members(forged, key.public_key()).failure
    assert failure is not None
    assert (failure.file, failure.field) == ("claim.json", "electricity_factor.route")
