"""Every tamper case makes verify fail and name the file (and row and field where it can)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from greenlink.evidence.build import SIGNER_NAME, build_green_share_pack, signed_members
from greenlink.evidence.claims import GREEN_SHARE
from greenlink.evidence.manifest import MANIFEST_NAME, SIGNATURE_NAME
from greenlink.evidence.pack import read_pack, write_pack
from greenlink.evidence.verify import verify_members, verify_pack
from greenlink.signing.keys import public_pem
from tests.evidence.conftest import request_for, tiny_flows

WHEN = dt.datetime(2025, 1, 1, 2)


def _certificates(user: str, wh: list[int], start_id: int = 1) -> pd.DataFrame:
    rows, next_id = [], start_id
    for hour, q in enumerate(wh):
        begin = pd.Timestamp("2025-01-01", tz="Asia/Shanghai") + pd.Timedelta(hours=hour)
        rows.append({"bundle_id": hour + 1, "device_id": "pv", "energy_source": "solar",
                     "production_start": begin.isoformat(),
                     "production_end": (begin + pd.Timedelta(hours=1)).isoformat(),
                     "bundle_id_range_start": next_id, "bundle_id_range_end": next_id + q - 1,
                     "quantity_wh": q, "status": "Claimed", "beneficiary": user,
                     "purpose": "green_share_claim"})
        next_id += q
    return pd.DataFrame(rows)


@pytest.fixture
def pack(tmp_path: Path, key: Ed25519PrivateKey) -> dict[str, bytes]:
    req = request_for(tiny_flows(), "u", certificates=_certificates("u", [16000, 2000]),
                      certificate_context={"registry_chain_head": "cd" * 32})
    build_green_share_pack(req, key, tmp_path / "p.zip")
    return read_pack(tmp_path / "p.zip")


def _edit(members: dict[str, bytes], path: str, old: bytes, new: bytes) -> dict[str, bytes]:
    assert old in members[path]
    return {**members, path: members[path].replace(old, new, 1)}


def _resign(members: dict[str, bytes], key: Ed25519PrivateKey) -> dict[str, bytes]:
    body = {k: v for k, v in members.items()
            if k not in (MANIFEST_NAME, SIGNATURE_NAME, SIGNER_NAME)}
    return signed_members(body, GREEN_SHARE, WHEN, key)


def test_untouched_pack_passes(pack: dict[str, bytes], key: Ed25519PrivateKey) -> None:
    report = verify_members(pack, key.public_key())
    assert report.ok, report.failure
    assert report.key_trusted and report.files_checked == len(pack) - 2


def test_without_key_is_untrusted_not_passed(pack: dict[str, bytes]) -> None:
    # formerly passed (ok) with a note: the embedded key alone vouched for the pack
    report = verify_members(pack)
    assert not report.ok and not report.key_trusted and report.status == "UNTRUSTED"
    assert report.failure is not None and report.failure.file == SIGNER_NAME
    assert report.fingerprint is not None and report.fingerprint in report.failure.message


def test_edited_meter_value_fails_on_its_hash(pack: dict[str, bytes]) -> None:
    bad = _edit(pack, "data/generation.csv", b"10.000000", b"10.500000")
    failure = verify_members(bad).failure
    assert failure is not None and failure.file == "data/generation.csv"
    assert "SHA-256" in failure.message


def test_edited_meter_value_resigned_fails_on_recompute(pack: dict[str, bytes],
                                                        key: Ed25519PrivateKey) -> None:
    # the operator's own key re-signs doctored delivery data: the recomputation catches it
    bad = _resign(_edit(pack, "data/delivery.csv", b"8.000000,8.000000,0.000000",
                        b"8.000000,9.000000,1.000000"), key)
    failure = verify_members(bad, key.public_key()).failure
    assert failure is not None
    assert (failure.file, failure.row, failure.field) == ("claim_hours.csv", 1, "load_kwh")


def test_green_above_load_resigned_fails_naming_row(pack: dict[str, bytes],
                                                    key: Ed25519PrivateKey) -> None:
    text = pack["data/allocation.csv"].decode().splitlines()
    fields = text[2].split(",")
    fields[2] = "9.000000"  # u.green_kwh of row 2 above its 8 kWh load
    text[2] = ",".join(fields)
    bad = _resign({**pack, "data/allocation.csv": ("\n".join(text) + "\n").encode()}, key)
    failure = verify_members(bad, key.public_key()).failure
    assert failure is not None
    assert (failure.file, failure.row, failure.field) == ("data/allocation.csv", 2, "u.green_kwh")


def test_edited_claim_fails(pack: dict[str, bytes], key: Ed25519PrivateKey) -> None:
    bad = _edit(pack, "claim.json", b'"hourly_matched_share": 0.5625',
                b'"hourly_matched_share": 0.6')
    failure = verify_members(bad).failure
    assert failure is not None and failure.file == "claim.json"
    # the same edit re-signed: caught by the recomputation, naming the field
    failure = verify_members(_resign(bad, key), key.public_key()).failure
    assert failure is not None
    assert (failure.file, failure.field) == ("claim.json", "claimed.hourly_matched_share")


def test_edited_hour_row_resigned_fails_naming_row_and_field(pack: dict[str, bytes],
                                                             key: Ed25519PrivateKey) -> None:
    bad = _resign(_edit(pack, "claim_hours.csv", b"2.000000,2.000000", b"2.000000,2.500000"),
                  key)
    failure = verify_members(bad, key.public_key()).failure
    assert failure is not None
    assert (failure.file, failure.row, failure.field) == ("claim_hours.csv", 2, "matched_kwh")


def test_edited_manifest_fails_on_signature(pack: dict[str, bytes]) -> None:
    bad = _edit(pack, MANIFEST_NAME, b'"claim_kind": "user_green_share"',
                b'"claim_kind": "user_green_sharE"')
    failure = verify_members(bad).failure
    assert failure is not None and failure.file == MANIFEST_NAME
    assert "signature" in failure.message


def test_swapped_key_fails(pack: dict[str, bytes], key: Ed25519PrivateKey,
                           other_key: Ed25519PrivateKey) -> None:
    # verifier expects the operator's key, pack carries it: checking with another key fails
    failure = verify_members(pack, other_key.public_key()).failure
    assert failure is not None and failure.file == SIGNER_NAME
    # an attacker re-signs everything with their own key: fails against the operator's key
    forged = _resign(pack, other_key)
    failure = verify_members(forged, key.public_key()).failure
    assert failure is not None and failure.file == SIGNER_NAME
    # an attacker swaps only signer.pub: the manifest hash of signer.pub breaks the signature
    swapped = {**pack, SIGNER_NAME: public_pem(other_key.public_key())}
    failure = verify_members(swapped).failure
    assert failure is not None and failure.file == MANIFEST_NAME


def test_added_and_removed_files_fail(pack: dict[str, bytes]) -> None:
    failure = verify_members({**pack, "extra.txt": b"x"}).failure
    assert failure is not None and failure.file == "extra.txt"
    gone = {k: v for k, v in pack.items() if k != "data/delivery.csv"}
    failure = verify_members(gone).failure
    assert failure is not None and failure.file == "data/delivery.csv"


def test_edited_certificate_fails(pack: dict[str, bytes], key: Ed25519PrivateKey) -> None:
    bad = _edit(pack, "certificates/cancelled.csv", b",u,", b",someone_else,")
    failure = verify_members(bad).failure
    assert failure is not None and failure.file == "certificates/cancelled.csv"
    failure = verify_members(_resign(bad, key), key.public_key()).failure
    assert failure is not None
    assert (failure.file, failure.row, failure.field) == (
        "certificates/cancelled.csv", 1, "beneficiary")


def test_certificates_above_matched_energy_fail(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    req = request_for(tiny_flows(), "u", certificates=_certificates("u", [16000, 2500]))
    build_green_share_pack(req, key, tmp_path / "over.zip")
    failure = verify_pack(tmp_path / "over.zip", key.public_key()).failure
    assert failure is not None
    assert (failure.file, failure.row, failure.field) == (
        "certificates/cancelled.csv", 2, "quantity_wh")


def test_against_flags_ranges_claimed_twice(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    build_green_share_pack(request_for(tiny_flows(), "u", certificates=_certificates(
        "u", [16000, 2000])), key, tmp_path / "a.zip")
    build_green_share_pack(request_for(tiny_flows(), "u", certificates=_certificates(
        "u", [1000, 1000], start_id=18_001)), key, tmp_path / "b.zip")
    build_green_share_pack(request_for(tiny_flows(), "u", certificates=_certificates(
        "u", [1000, 1000], start_id=17_500)), key, tmp_path / "c.zip")
    assert verify_pack(tmp_path / "a.zip", key.public_key(), [tmp_path / "b.zip"]).ok
    failure = verify_pack(tmp_path / "a.zip", key.public_key(), [tmp_path / "c.zip"]).failure
    assert failure is not None and "c.zip" in failure.message
    assert (failure.file, failure.row) == ("certificates/cancelled.csv", 2)


def test_broken_zip_fails_naming_the_pack(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    path = tmp_path / "p.zip"
    build_green_share_pack(request_for(tiny_flows(), "u"), key, path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    report = verify_pack(path, key.public_key())
    assert not report.ok and report.failure is not None


def test_unpacked_folder_verifies_too(tmp_path: Path, pack: dict[str, bytes],
                                      key: Ed25519PrivateKey) -> None:
    for name, data in pack.items():
        (tmp_path / "dir" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "dir" / name).write_bytes(data)
    assert verify_pack(tmp_path / "dir", key.public_key()).ok
    write_pack(tmp_path / "again.zip", pack, WHEN)
    assert verify_pack(tmp_path / "again.zip", key.public_key()).ok
