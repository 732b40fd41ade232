"""Integration with the certificate registry: cancel for the claim, refuse a second pack."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from greenlink.certificates.db import open_registry
from greenlink.errors import GreenlinkError
from greenlink.evidence.build import build_green_share_pack, with_registry_certificates
from greenlink.evidence.pack import read_pack
from greenlink.evidence.registry_link import hour_claims
from greenlink.evidence.verify import verify_pack
from tests.certificates.conftest import gec_issued
from tests.evidence.conftest import request_for, tiny_flows


def _registry(tmp_path: Path, wh: list[int]):  # type: ignore[no-untyped-def]
    reg = open_registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    reg.add_account("park", "Park operator")
    reg.add_device("pv", account_id="park", energy_source="solar",
                   technology_type="photovoltaic", capacity_kw=1000)
    meta = reg.add_metadata(country_of_issuance="CN", connected_grid_identification="CN-JS",
                            issuing_body="test", issue_market_zone="CN-JS")
    hours = pd.DataFrame({"device_id": "pv", "hour_start": pd.date_range(
        "2025-01-01", periods=len(wh), freq="h", tz="Asia/Shanghai"), "energy_wh": wh})
    reg.issue(hours, metadata_id=meta, issuance_date=pd.Timestamp("2025-01-02").date())
    # what a claim needs besides certificates: the users' metered consumption of those hours
    # registered (the tiny flows' user u, the example park's alu_extruder) and the month's GECs
    reg.record_consumption_table(pd.DataFrame({
        "beneficiary": [u for u in ("u", "alu_extruder") for _ in hours["hour_start"]],
        "hour_start": [t for _ in range(2) for t in hours["hour_start"]], "wh": 1_000_000}))
    gec_issued(reg, tmp_path / "gec", "pv", "2025-01", 1)
    return reg


def test_hour_claims_floor_matched_energy() -> None:
    hours = pd.DataFrame({"matched_kwh": [16.0, 2.0004, 0.0]}, index=pd.date_range(
        "2025-01-01", periods=3, freq="h", tz="Asia/Shanghai"))
    claims = hour_claims(hours, "c1")
    assert claims["claim_wh"].tolist() == [16000, 2000]
    assert str(claims["hour_start"].iloc[0]) == "2024-12-31 16:00:00+00:00"


def test_pack_cancels_certificates_and_second_pack_is_refused(
        tmp_path: Path, key: Ed25519PrivateKey) -> None:
    # tiny flows: matched 16 kWh then 2 kWh; the plant made 20 and 2 kWh
    reg = _registry(tmp_path, [20_000, 2_000])
    req = with_registry_certificates(request_for(tiny_flows(), "u"), reg, account_id="park")
    built = build_green_share_pack(req, key, tmp_path / "p.zip")
    cert = built.claim["certificates"]
    assert cert["total_wh"] == 18_000 and cert["count"] == 2 and cert["shortfall_wh"] == 0
    assert len(cert["registry_chain_head_hash"]) == 64
    assert cert["registry_chain_head_seq"] == reg.events()
    members = read_pack(tmp_path / "p.zip")
    table = members["certificates/cancelled.csv"].decode()
    assert "Claimed" in table and "tenant_scope2" in table and "issuance_id" in table
    # the GEC serials behind the claim: in the pack's claim and beside each certificate
    assert cert["gec_serials"] == "GECPV202501T000001" and "GECPV202501T000001" in table
    assert cert["registry_claim_id"] == reg.claims()["claim_id"].iat[0]
    assert verify_pack(tmp_path / "p.zip", key.public_key()).ok
    claimed = reg.bundles(account_id="park", status="Claimed")
    assert int(claimed["bundle_quantity"].sum()) == 18_000
    assert reg.verify().ok
    with pytest.raises(GreenlinkError, match="second pack"):
        with_registry_certificates(request_for(tiny_flows(), "u"), reg, account_id="park")
