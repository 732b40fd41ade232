"""Shipment SEE in the pack: direct, indirect and precursors recomputed; tamper cases."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from greenlink.carbon.embedded import round_see
from greenlink.evidence.build import SIGNER_NAME, build_shipment_pack, signed_members
from greenlink.evidence.embedded_see import (
    FUELS_FILE,
    PRECURSORS_FILE,
    EmbeddedInputs,
    PrecursorRow,
)
from greenlink.evidence.manifest import MANIFEST_NAME, SIGNATURE_NAME
from greenlink.evidence.pack import read_pack
from greenlink.evidence.shipment import PACT_FILE, SHIPMENT, ShipmentRequest
from greenlink.evidence.verify import verify_members
from greenlink.scenario.installations import Process
from tests.evidence.conftest import request_for, tiny_flows
from tests.evidence.test_shipment import COMPLETE, GRID, SHIP

#: DirEm = 10 t × 2 t/t × (1 − 0.5) + 5 = 15 t; precursor 4 t × (2.5 direct, 0.5 indirect);
#: AL = 10 t → SEE_dir = (15 + 10)/10 = 2.5; SEE_ind = 8.12 (EF 0.25375 × 0.032 MWh / 0.001 t,
#: test_shipment) + 4 × 0.5/10 = 8.32.
PROCESS = Process(id="mill", cn_code="7604 21 00", activity_level_t=10.0,
                  process_emissions_t=5.0, electricity_share=1.0,
                  fuels=[{"name": "gas", "amount": 10.0, "unit": "t", "ef_t_co2_per_unit": 2.0,
                          "biomass_fraction": 0.5}],
                  precursors=[{"precursor": "billet", "amount_t": 4.0}])
#: Aluminium is an Annex II good: CBAM counts direct emissions only (so does the billet).
INPUTS = EmbeddedInputs(PROCESS, True, (PrecursorRow("billet", "76012080", "actual", 4.0, 2.5,
                                                     0.5, 0.0),))


def _members(tmp_path: Path, key: Ed25519PrivateKey) -> dict[str, bytes]:
    req = ShipmentRequest(request_for(tiny_flows(), "u", flows_source="metered"), SHIP, GRID,
                          (COMPLETE,), embedded=INPUTS)
    build_shipment_pack(req, key, tmp_path / "s.zip")
    return read_pack(tmp_path / "s.zip")


def _resigned(members: dict[str, bytes], key: Ed25519PrivateKey, file: str, old: bytes,
              new: bytes) -> dict[str, bytes]:
    """Edit one member and sign again with the operator's key (a forger holding the key)."""
    assert old in members[file]
    body = {k: v for k, v in members.items() if k not in (MANIFEST_NAME, SIGNATURE_NAME,
                                                          SIGNER_NAME)}
    body[file] = members[file].replace(old, new)
    return signed_members(body, SHIPMENT, dt.datetime(2025, 1, 1, 2), key)


def _where(members: dict[str, bytes], key: Ed25519PrivateKey) -> tuple[str, int | None, str | None]:
    failure = verify_members(members, key.public_key()).failure
    assert failure is not None
    return failure.file, failure.row, failure.field


def test_see_known_by_hand_and_verified(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    members = _members(tmp_path, key)
    emb = json.loads(members["claim.json"])["embedded"]
    assert emb["direct_emissions_t"] == pytest.approx(15.0)
    assert emb["precursor_direct_t"] == pytest.approx(10.0)
    assert emb["see_direct_t_per_t"] == 2.5
    assert emb["see_indirect_t_per_t"] == pytest.approx(8.32, abs=1e-12)
    assert emb["see_total_t_per_t"] == pytest.approx(10.82, abs=1e-12)
    assert emb["see_counted_t_per_t"] == 2.5  # Annex II: direct only
    assert json.loads(members[PACT_FILE])["pcf"]["pCfExcludingBiogenic"] == "10.82000"
    assert b"gas,10.0,t,2.0,0.5,10.0" in members[FUELS_FILE]
    assert verify_members(members, key.public_key()).ok


def test_edited_fuel_quantity_names_row_and_field(tmp_path: Path,
                                                  key: Ed25519PrivateKey) -> None:
    members = _members(tmp_path, key)
    forged = _resigned(members, key, FUELS_FILE, b"gas,10.0,", b"gas,8.0,")
    assert _where(forged, key) == (FUELS_FILE, 1, "emissions_t")


def test_edited_fuel_row_consistent_fails_on_the_totals(tmp_path: Path,
                                                        key: Ed25519PrivateKey) -> None:
    members = _members(tmp_path, key)
    forged = _resigned(members, key, FUELS_FILE, b"gas,10.0,t,2.0,0.5,10.0",
                       b"gas,8.0,t,2.0,0.5,8.0")
    assert _where(forged, key) == ("claim.json", None, "embedded.direct_emissions_t")


def test_edited_precursor_see_names_row_and_field(tmp_path: Path,
                                                  key: Ed25519PrivateKey) -> None:
    members = _members(tmp_path, key)
    forged = _resigned(members, key, PRECURSORS_FILE, b"4.0,2.5,", b"4.0,1.5,")
    assert _where(forged, key) == (PRECURSORS_FILE, 1, "direct_t")
    consistent = _resigned(members, key, PRECURSORS_FILE, b"4.0,2.5,0.5,0.0,10.0,",
                           b"4.0,1.5,0.5,0.0,6.0,")
    assert _where(consistent, key) == ("claim.json", None, "embedded.precursor_direct_t")


def test_edited_claimed_see_fails_at_five_decimals(tmp_path: Path,
                                                   key: Ed25519PrivateKey) -> None:
    members = _members(tmp_path, key)
    forged = _resigned(members, key, "claim.json", b'"see_direct_t_per_t": 2.5',
                       b'"see_direct_t_per_t": 2.50001')
    assert _where(forged, key) == ("claim.json", None, "embedded.see_direct_t_per_t")


def test_annex_ii_flag_flipped_fails(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    members = _members(tmp_path, key)
    forged = _resigned(members, key, "claim.json", b'"annex_ii": true', b'"annex_ii": false')
    assert _where(forged, key) == ("claim.json", None, "embedded.annex_ii")


def test_unreadable_fuel_amount_names_row_and_field(tmp_path: Path,
                                                    key: Ed25519PrivateKey) -> None:
    members = _members(tmp_path, key)
    forged = _resigned(members, key, FUELS_FILE, b"gas,10.0,", b"gas,ten,")
    assert _where(forged, key) == (FUELS_FILE, 1, "amount")


def test_rounding_is_half_up_at_five_decimals() -> None:
    assert round_see(0.123455) == 0.12346 and round_see(2.5) == 2.5
