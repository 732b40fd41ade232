"""Issue 12, points 1 and 2 in the evidence pack of kind shipment: the pack carries the period
value of the process, the same for every shipment of that process and period and equal to the
CBAM accounts; the process claims only its share of the contract.

Hand case (``tests/evidence/conftest.tiny_flows``): two hours, the user ``u`` uses 32 kWh and
receives 18 kWh of green energy. Process ``mill`` draws half: E = 0.016 MWh, G = 0.009 MWh.
Its contract (6 kWh) is also drawn on by another installation's press, matched 3 kWh: 12 kWh
matched on 6 kWh, so the mill may claim 0.009 × 6/12 = 0.0045 MWh. Grid 0.58 t/MWh, source 0:
EF = (0.0045 × 0 + 0.0115 × 0.58) / 0.016 = 0.416875 t/MWh. Activity 2 t over the period:
SEE indirect = 0.416875 × 0.016 / 2 = 0.003335 t/t, whatever the shipment's tonnes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from greenlink.carbon.emission_factor_routes import ContractClaim, GridFactor, contract_key
from greenlink.carbon.installations import account
from greenlink.evidence.build import build_shipment_pack
from greenlink.evidence.embedded_see import inputs_from_accounts
from greenlink.evidence.pack import read_pack
from greenlink.evidence.shipment import (
    CBAM_FILE,
    PACT_FILE,
    ProcessPeriod,
    ShipmentInfo,
    ShipmentRequest,
)
from greenlink.evidence.verify import verify_members
from greenlink.scenario.installations import ElectricityEvidence, Installation
from tests.evidence.conftest import request_for, tiny_flows

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
EVIDENCE = ElectricityEvidence(
    route="direct_technical_link", source="pv", ef_t_per_mwh=0.0,
    single_line_diagram="sld/tiny-rev1.pdf", single_line_diagram_sha256="ab" * 32,
    meter_interval_minutes=15, production_meter="m-pv", delivery_meter="m-u",
    offtake_contract="gsa-1", offtake_contracted_mwh=0.006)
INST = Installation.model_validate({
    "id": "cem", "user": "u", "grid_factor": {"ef_t_per_mwh": 0.58, "source": "test"},
    "electricity_evidence": [EVIDENCE.model_dump()],
    "processes": [{"id": "mill", "cn_code": "2523 29 00", "activity_level_t": 2.0,
                   "process_emissions_t": 1.0, "electricity_share": 0.5}]})
OTHER = ContractClaim("other/press", contract_key(EVIDENCE), 0.003, 0.006)


def _pack(tmp_path: Path, shipment: str, tonnes: float, claimed_mwh: float = 0.009
          ) -> dict[str, bytes]:
    acc = account(INST, tiny_flows(), interval_minutes=15, flows_metered=True,
                  contract_pool=[ContractClaim("cem/mill", OTHER.contract, 0.009, 0.006), OTHER])
    process = ProcessPeriod("cem", "mill", 2.0, 0.5, None,
                            (ContractClaim("cem/mill", OTHER.contract, claimed_mwh, 0.006),
                             OTHER))
    req = ShipmentRequest(request_for(tiny_flows(), "u", flows_source="metered"),
                          ShipmentInfo(shipment, "CEM", "25232900", tonnes),
                          GridFactor(0.58, "test"), (EVIDENCE,), False,
                          inputs_from_accounts(INST.processes[0], acc.see), process)
    build_shipment_pack(req, KEY, tmp_path / f"{shipment}.zip")
    return read_pack(tmp_path / f"{shipment}.zip")


def test_every_shipment_pack_carries_the_period_value(tmp_path: Path) -> None:
    one, two = _pack(tmp_path, "S1", 0.3), _pack(tmp_path, "S2", 1.7)
    docs = [json.loads(m["claim.json"]) for m in (one, two)]
    for doc in docs:
        ef = doc["electricity_factor"]
        assert ef["electricity_mwh"] == pytest.approx(0.016)
        assert ef["green_mwh_matched"] == pytest.approx(0.009)
        assert ef["green_mwh_claimed"] == pytest.approx(0.0045)
        assert ef["ef_t_per_mwh"] == pytest.approx(0.416875)
        assert ef["see_indirect_t_per_t"] == pytest.approx(0.003335)
        assert doc["embedded"]["see_indirect_t_per_t"] == 0.00334  # half-up of 0.003335
        assert doc["embedded"]["see_direct_t_per_t"] == 0.5  # 1 t / 2 t
        assert "period value of process mill" in doc["statement"]
    assert docs[0]["embedded"] == docs[1]["embedded"]
    assert json.loads(one[PACT_FILE])["pcf"]["pCfExcludingBiogenic"] == json.loads(
        two[PACT_FILE])["pcf"]["pCfExcludingBiogenic"] == "0.50334"
    assert json.loads(one[CBAM_FILE])["D_Processes"]["L16_production_t"] == 2.0
    # the CBAM accounts give the same period value
    acc = account(INST, tiny_flows(), interval_minutes=15, flows_metered=True,
                  contract_pool=[ContractClaim("cem/mill", OTHER.contract, 0.009, 0.006),
                                 OTHER])
    assert acc.see["mill"].see_indirect_rounded == docs[0]["embedded"]["see_indirect_t_per_t"]
    assert verify_members(one, KEY.public_key()).ok and verify_members(two, KEY.public_key()).ok


def test_own_claim_on_the_contract_is_recomputed(tmp_path: Path) -> None:
    # the pack states the mill matched 0.001 MWh (the tables give 0.009): the verifier says so
    members = _pack(tmp_path, "S1", 1.0, claimed_mwh=0.001)
    failure = verify_members(members, KEY.public_key()).failure
    assert failure is not None and failure.field is not None
    assert "contract_claims" in failure.field
