"""Deterministic zip layout, manifest, and key management."""

from __future__ import annotations

import datetime as dt
import io
import json
import stat
import zipfile
from pathlib import Path

import pytest

from greenlink.errors import GreenlinkError, InputError
from greenlink.evidence.build import build_green_share_pack
from greenlink.evidence.manifest import build_manifest, parse_manifest, sha256_hex
from greenlink.evidence.pack import pack_bytes, read_pack
from greenlink.signing.keys import (
    PRIVATE_NAME,
    PUBLIC_NAME,
    fingerprint,
    generate_key,
    load_private_key,
    load_public_key,
    read_keyring,
    rotate_key,
)
from tests.evidence.conftest import random_flows, request_for, tiny_flows


def test_pack_built_twice_is_byte_identical(tmp_path: Path, key) -> None:  # type: ignore[no-untyped-def]
    req = request_for(random_flows(3), "u0")
    a = build_green_share_pack(req, key, tmp_path / "a.zip")
    b = build_green_share_pack(req, key, tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert a.data == b.data


def test_layout_order_times_and_modes(tmp_path: Path, key) -> None:  # type: ignore[no-untyped-def]
    req = request_for(tiny_flows(), "u")
    built = build_green_share_pack(req, key, tmp_path / "p.zip")
    with zipfile.ZipFile(io.BytesIO(built.data)) as zf:
        infos = zf.infolist()
    names = [i.filename for i in infos]
    assert names[:2] == ["manifest.json", "manifest.sig"]
    assert names[2:] == sorted(names[2:])
    # time stamp = end of the claim period (02:00 local), not the clock
    assert {i.date_time for i in infos} == {(2025, 1, 1, 2, 0, 0)}
    assert {(i.external_attr >> 16) & 0o777 for i in infos} == {0o644}
    assert "summary/summary.pdf" in names and "summary/summary.html" in names


def test_manifest_lists_every_member_with_its_hash(tmp_path: Path, key) -> None:  # type: ignore[no-untyped-def]
    built = build_green_share_pack(request_for(tiny_flows(), "u"), key, tmp_path / "p.zip")
    members = read_pack(tmp_path / "p.zip")
    manifest = parse_manifest(members["manifest.json"])
    assert {e.path for e in manifest.files} == set(members) - {"manifest.json", "manifest.sig"}
    for entry in manifest.files:
        assert entry.sha256 == sha256_hex(members[entry.path])
    assert built.files == len(members)


def test_manifest_canonical_and_order_independent() -> None:
    a = build_manifest({"b": b"2", "a": b"1"}, "k", "2025-01-01T00:00:00")
    b = build_manifest({"a": b"1", "b": b"2"}, "k", "2025-01-01T00:00:00")
    assert a.to_bytes() == b.to_bytes()
    assert parse_manifest(a.to_bytes()) == a
    assert json.loads(a.to_bytes())["files"][0]["sha256"] == sha256_hex(b"1")


def test_zip_time_is_from_the_data_and_unsafe_names_refused() -> None:
    when = dt.datetime(2025, 7, 1, 13, 45, 31)
    one = pack_bytes({"x.txt": b"x"}, when)
    assert one == pack_bytes({"x.txt": b"x"}, when)
    with pytest.raises(InputError):
        pack_bytes({"../evil": b"x"}, when)


def test_generate_writes_0600_key_and_refuses_overwrite(tmp_path: Path) -> None:
    info = generate_key(tmp_path / "k")
    mode = stat.S_IMODE((tmp_path / "k" / PRIVATE_NAME).stat().st_mode)
    assert mode == 0o600
    key = load_private_key(tmp_path / "k")
    public = load_public_key((tmp_path / "k" / PUBLIC_NAME).read_bytes())
    assert fingerprint(key.public_key()) == fingerprint(public) == info.fingerprint
    assert info.fingerprint.startswith("SHA256:") and len(info.fingerprint) == 7 + 64 + 15
    with pytest.raises(GreenlinkError):
        generate_key(tmp_path / "k")


def test_loose_private_key_mode_refused(tmp_path: Path) -> None:
    generate_key(tmp_path)
    (tmp_path / PRIVATE_NAME).chmod(0o644)
    with pytest.raises(InputError, match="mode"):
        load_private_key(tmp_path)


def test_rotate_keeps_old_public_key_as_retired(tmp_path: Path) -> None:
    first = generate_key(tmp_path)
    old, new = rotate_key(tmp_path)
    assert old.fingerprint == first.fingerprint and new.fingerprint != first.fingerprint
    ring = {k.fingerprint: k.status for k in read_keyring(tmp_path)}
    assert ring == {first.fingerprint: "retired", new.fingerprint: "active"}
    assert fingerprint(load_private_key(tmp_path).public_key()) == new.fingerprint
    assert stat.S_IMODE((tmp_path / PRIVATE_NAME).stat().st_mode) == 0o600
    _old2, third = rotate_key(tmp_path)
    statuses = [k.status for k in read_keyring(tmp_path)]
    assert statuses == ["retired", "retired", "active"] and third.sequence == 3
