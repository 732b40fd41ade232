"""Packs that trust nothing they carry: one test (or more) per attack of the adversarial review.

1. a pack re-signed with an attacker's key, verified without ``--key``;
2. a claim statement (or summary) saying more than the pack's numbers;
3. a small zip with a 1 GiB member (and other entries a reader must refuse unread);
4. a build that fails after it cancelled certificates.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import unicodedata
import zipfile
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

import greenlink
from greenlink.cli.evidence_cmd import evidence_app, keys_app
from greenlink.errors import GreenlinkError, InputError
from greenlink.evidence import build as build_mod
from greenlink.evidence import pack as pack_mod
from greenlink.evidence.build import (
    SIGNER_NAME,
    build_green_share_pack,
    build_shipment_pack,
    signed_members,
    with_registry_certificates,
)
from greenlink.evidence.claims import GREEN_SHARE
from greenlink.evidence.manifest import (
    MANIFEST_NAME,
    SIGNATURE_NAME,
    ManifestEntry,
    parse_manifest,
)
from greenlink.evidence.pack import read_pack, write_pack
from greenlink.evidence.shipment import SHIPMENT, ShipmentRequest
from greenlink.evidence.summary import summary_pdf
from greenlink.evidence.verify import verify_members, verify_pack
from greenlink.signing.keys import fingerprint, public_pem
from tests.evidence.conftest import request_for, tiny_flows
from tests.evidence.test_registry_link import _registry
from tests.evidence.test_shipment import COMPLETE, GRID, SHIP

runner = CliRunner()
MIB, GIB = 1024**2, 1024**3
WHEN = pd.Timestamp("2025-01-01 02:00").to_pydatetime()
OPERATOR = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))  # conftest's `key`
#: Peak memory allowed to verify a pack holding a 1 GiB member [bytes].
PEAK_RSS_LIMIT = 200 * MIB


def _members(tmp_path: Path, key: Ed25519PrivateKey) -> dict[str, bytes]:
    build_green_share_pack(request_for(tiny_flows(), "u"), key, tmp_path / "p.zip")
    return read_pack(tmp_path / "p.zip")


def _resign(members: dict[str, bytes], key: Ed25519PrivateKey,
            kind: str = GREEN_SHARE) -> dict[str, bytes]:
    body = {k: v for k, v in members.items()
            if k not in (MANIFEST_NAME, SIGNATURE_NAME, SIGNER_NAME)}
    return signed_members(body, kind, WHEN, key)


def _write(path: Path, members: dict[str, bytes]) -> Path:
    write_pack(path, members, WHEN)
    return path


# ---------------------------------------------------------------------------------------------
# 1. re-signed with the attacker's key: only a key the verifier trusts passes


def test_resigned_by_attacker_is_untrusted_without_key(
        tmp_path: Path, key: Ed25519PrivateKey, other_key: Ed25519PrivateKey) -> None:
    forged = _resign(_members(tmp_path, key), other_key)
    report = verify_members(forged)
    assert not report.ok and report.status == "UNTRUSTED" and not report.key_trusted
    assert report.failure is not None and report.failure.file == SIGNER_NAME
    assert fingerprint(other_key.public_key()) in report.failure.message
    # the operator's key in the keyring does not make the attacker's pack trusted
    ring = {fingerprint(key.public_key()): "operator"}
    assert verify_members(forged, trusted=ring).status == "UNTRUSTED"
    assert verify_members(forged, key.public_key()).status == "FAIL"


def test_cli_attacker_pack_without_key_exits_untrusted(
        tmp_path: Path, key: Ed25519PrivateKey, other_key: Ed25519PrivateKey) -> None:
    forged = _write(tmp_path / "forged.zip", _resign(_members(tmp_path, key), other_key))
    out = runner.invoke(evidence_app, ["verify", str(forged)])
    assert out.exit_code == 3, out.output
    assert "UNTRUSTED" in out.output and "PASS" not in out.output
    assert fingerprint(other_key.public_key()) in out.output.replace("\n", "")


def test_keyring_trust_untrust_and_trusted(tmp_path: Path, key: Ed25519PrivateKey,
                                           other_key: Ed25519PrivateKey) -> None:
    genuine = _write(tmp_path / "genuine.zip", _members(tmp_path, key))
    forged = _write(tmp_path / "forged.zip", _resign(_members(tmp_path, key), other_key))
    (tmp_path / "operator.pub").write_bytes(public_pem(key.public_key()))
    ring = tmp_path / "cfg" / "ring.json"
    op_fp = fingerprint(key.public_key())
    assert runner.invoke(evidence_app, ["verify", str(genuine), "--keyring",
                                        str(ring)]).exit_code == 3
    out = runner.invoke(keys_app, ["trust", str(tmp_path / "operator.pub"), "--label",
                                   "park operator", "--keyring", str(ring)])
    assert out.exit_code == 0 and op_fp in out.output.replace("\n", "")
    body = json.loads(ring.read_text())
    assert body["keys"] == {op_fp: "park operator"}
    assert stat.S_IMODE(ring.stat().st_mode) == 0o600
    assert [p.name for p in ring.parent.iterdir()] == ["ring.json"]  # no temporary left
    listed = runner.invoke(keys_app, ["trusted", "--keyring", str(ring)])
    assert op_fp in listed.output and "park operator" in listed.output
    ok = runner.invoke(evidence_app, ["verify", str(genuine), "--keyring", str(ring)])
    assert ok.exit_code == 0 and "PASS" in ok.output and "keyring" in ok.output
    bad = runner.invoke(evidence_app, ["verify", str(forged), "--keyring", str(ring)])
    assert bad.exit_code == 3 and "UNTRUSTED" in bad.output
    # the environment names the keyring too
    env = runner.invoke(evidence_app, ["verify", str(genuine)],
                        env={"GREENLINK_KEYRING": str(ring)})
    assert env.exit_code == 0, env.output
    assert runner.invoke(keys_app, ["untrust", op_fp, "--keyring", str(ring)]).exit_code == 0
    assert json.loads(ring.read_text())["keys"] == {}
    assert runner.invoke(evidence_app, ["verify", str(genuine), "--keyring",
                                        str(ring)]).exit_code == 3
    # a broken keyring is bad input, never an empty one
    ring.write_text("{not json")
    assert runner.invoke(evidence_app, ["verify", str(genuine), "--keyring",
                                        str(ring)]).exit_code == 2


# ---------------------------------------------------------------------------------------------
# 2. statement and summary regenerated from the checked numbers


def _doc(members: dict[str, bytes]) -> dict:  # type: ignore[type-arg]
    return json.loads(members["claim.json"])


def test_statement_claiming_99_9_percent_fails(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    members = _members(tmp_path, key)
    doc = _doc(members)
    assert "56.25%" in doc["statement"]
    doc["statement"] = doc["statement"].replace("56.25%", "99.9 %")
    bad = _resign({**members, "claim.json": (json.dumps(doc, indent=2, sort_keys=True,
                                                        ensure_ascii=False) + "\n").encode()},
                  key)
    failure = verify_members(bad, key.public_key()).failure
    assert failure is not None
    assert (failure.file, failure.field) == ("claim.json", "statement")
    assert "56.25%" in failure.message and "99.9 %" in failure.message
    out = runner.invoke(evidence_app, ["verify", str(_write(tmp_path / "bad.zip", bad)),
                                       "--key", str(_pub(tmp_path, key))])
    assert out.exit_code == 1 and "FAIL" in out.output and "statement" in out.output


def _pub(tmp_path: Path, key: Ed25519PrivateKey) -> Path:
    path = tmp_path / "operator.pub"
    path.write_bytes(public_pem(key.public_key()))
    return path


def test_summary_html_headline_number_fails(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    members = _members(tmp_path, key)
    page = members["summary/summary.html"]
    row = b"<tr><th>hourly_matched_share</th><td>0.562500</td></tr>"
    assert row in page
    bad = _resign({**members, "summary/summary.html": page.replace(row, row.replace(
        b"0.562500", b"0.999000"))}, key)
    failure = verify_members(bad, key.public_key()).failure
    assert failure is not None
    assert (failure.file, failure.field) == ("summary/summary.html", "hourly_matched_share")


def test_summary_html_text_smuggled_into_the_plot_fails(tmp_path: Path,
                                                        key: Ed25519PrivateKey) -> None:
    members = _members(tmp_path, key)
    page = members["summary/summary.html"]
    bad = _resign({**members, "summary/summary.html": page.replace(
        b"</svg>", b'<text x="10" y="20">99.9 % hourly-matched</text></svg>', 1)}, key)
    failure = verify_members(bad, key.public_key()).failure
    assert failure is not None and (failure.file, failure.field) == ("summary/summary.html",
                                                                     "plot")


def test_summary_pdf_headline_fails(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    members = _members(tmp_path, key)
    doc = _doc(members)
    hours = pd.DataFrame({"load_kwh": [16.0, 16.0], "supply_kwh": [20.0, 2.0],
                          "matched_kwh": [16.0, 2.0]},
                         index=pd.date_range("2025-01-01", periods=2, freq="h",
                                             tz="Asia/Shanghai"))
    lying = {**doc, "statement": doc["statement"].replace("56.25%", "99.90%")}
    bad = _resign({**members, "summary/summary.pdf": summary_pdf(lying, hours)}, key)
    failure = verify_members(bad, key.public_key()).failure
    assert failure is not None
    assert (failure.file, failure.field) == ("summary/summary.pdf", "statement")
    claimed = {**doc, "claimed": {**doc["claimed"], "load_kwh": 3.2}}
    bad = _resign({**members, "summary/summary.pdf": summary_pdf(claimed, hours)}, key)
    failure = verify_members(bad, key.public_key()).failure
    assert failure is not None
    assert (failure.file, failure.field) == ("summary/summary.pdf", "load_kwh")


def test_extra_signed_document_is_named_as_not_verified(tmp_path: Path,
                                                        key: Ed25519PrivateKey) -> None:
    members = _members(tmp_path, key)
    extra = _resign({**members, "summary/cover-letter.html": b"<p>99.9 % hourly-matched</p>"},
                    key)
    report = verify_members(extra, key.public_key())
    assert report.ok and any("summary/cover-letter.html" in n and "only their hash" in n
                             for n in report.notes)
    path = _write(tmp_path / "extra.zip", extra)
    out = runner.invoke(evidence_app, ["verify", str(path), "--key", str(_pub(tmp_path, key))])
    assert out.exit_code == 0 and "cover-letter.html" in out.output
    assert not verify_members(members, key.public_key()).notes  # a built pack has no extras


def test_shipment_statement_is_regenerated(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    req = ShipmentRequest(request_for(tiny_flows(), "u", flows_source="metered"), SHIP, GRID,
                          (COMPLETE,))
    build_shipment_pack(req, key, tmp_path / "s.zip")
    members = read_pack(tmp_path / "s.zip")
    assert verify_members(members, key.public_key()).ok
    doc = _doc(members)
    doc["statement"] = doc["statement"].replace("56.2%", "99.9%")
    bad = _resign({**members, "claim.json": (json.dumps(doc, indent=2, sort_keys=True,
                                                        ensure_ascii=False) + "\n").encode()},
                  key, SHIPMENT)
    failure = verify_members(bad, key.public_key()).failure
    assert failure is not None and (failure.file, failure.field) == ("claim.json", "statement")


# ---------------------------------------------------------------------------------------------
# 3. zip bombs and entries refused unread; peak memory measured in a subprocess

_DRIVER = """
import resource, subprocess, sys
proc = subprocess.run([sys.executable, "-c", sys.argv[1]], capture_output=True, text=True)
lines = proc.stdout.strip().splitlines()
print(lines[-1] if lines else "NO OUTPUT " + proc.stderr[-3000:].replace(chr(10), " | "))
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""
_VERIFY = """
from pathlib import Path
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from greenlink.evidence.verify import verify_pack
{prelude}
key = Ed25519PrivateKey.from_private_bytes(bytes(range(32))).public_key()
report = verify_pack(Path({path!r}), key{limits})
print("PASS" if report.ok else "FAIL", report.failure)
"""


def _peak_verify(path: Path, prelude: str = "", limits: str = "") -> tuple[str, int]:
    """Verify in a child of a small driver process: (status line, child's peak RSS bytes)."""
    code = _VERIFY.format(prelude=prelude, path=str(path), limits=limits)
    env = {**os.environ, "PYTHONPATH": str(Path(greenlink.__file__).parents[1])}
    out = subprocess.run([sys.executable, "-c", _DRIVER, code], capture_output=True, text=True,
                         env=env, check=True, timeout=600)
    status, peak_kib = out.stdout.strip().splitlines()[-2:]
    return status, int(peak_kib) * 1024


@pytest.fixture(scope="module")
def gib_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A genuine signed pack plus ``padding.bin``: 1 GiB of zeros (about 1 MiB deflated),
    listed in the signed manifest with its true SHA-256."""
    built = build_green_share_pack(request_for(tiny_flows(), "u"), OPERATOR)
    with zipfile.ZipFile(io.BytesIO(built.data)) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    chunk = bytes(MIB)
    digest = hashlib.sha256()
    for _ in range(1024):
        digest.update(chunk)
    manifest = parse_manifest(members[MANIFEST_NAME])
    files = sorted([*manifest.files, ManifestEntry("padding.bin", digest.hexdigest(), GIB)],
                   key=lambda e: e.path)
    text = replace(manifest, files=tuple(files)).to_bytes()
    path = tmp_path_factory.mktemp("bomb") / "gib.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST_NAME, text)
        zf.writestr(SIGNATURE_NAME, base64.b64encode(OPERATOR.sign(text)) + b"\n")
        for name, data in members.items():
            if name not in (MANIFEST_NAME, SIGNATURE_NAME):
                zf.writestr(name, data)
        with zf.open("padding.bin", "w", force_zip64=True) as w:
            for _ in range(1024):
                w.write(chunk)
    assert path.stat().st_size < 4 * MIB
    return path


def test_gib_member_refused_unread_with_default_limits(gib_pack: Path) -> None:
    status, peak = _peak_verify(gib_pack)
    assert peak < PEAK_RSS_LIMIT, f"peak RSS {peak / MIB:.0f} MiB ({status})"
    assert status.startswith("FAIL padding.bin") and "max_member_bytes" in status, status


def test_gib_member_hashed_as_a_stream_when_limits_allow_it(gib_pack: Path) -> None:
    status, peak = _peak_verify(
        gib_pack, "from greenlink.evidence.pack import PackLimits, GIB",
        ", limits=PackLimits(max_member_bytes=2 * GIB, max_pack_bytes=4 * GIB, max_ratio=2000)")
    assert peak < PEAK_RSS_LIMIT, f"peak RSS {peak / MIB:.0f} MiB ({status})"
    assert status == "PASS None", status  # streamed, hashed, equal: the pack is genuine


def _zip_with(tmp_path: Path, key: Ed25519PrivateKey, extra: list[tuple[zipfile.ZipInfo, bytes]],
              ) -> Path:
    """The genuine pack's entries, then the extra (hostile) entries."""
    members = _members(tmp_path, key)
    path = tmp_path / "hostile.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for info, data in extra:
            zf.writestr(info, data)
    return path


def _info(name: str, mode: int = 0o100644, **fields: object) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
    info.create_system = 3
    info.external_attr = mode << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    for k, v in fields.items():
        setattr(info, k, v)
    return info


HOSTILE = {
    "directory entry": ([(_info("data/extra/", 0o40755), b"")], "directory entry"),
    "symbolic link": ([(_info("data/link.csv", 0o120777), b"/etc/passwd")], "symbolic link"),
    "absolute name": ([(_info("/etc/cron.d/x"), b"x")], "absolute path"),
    "dot-dot": ([(_info("data/../../evil.csv"), b"x")], "'..' component"),
    "duplicate": ([(_info("claim.json"), b"{}")], "duplicate"),
    "ratio bomb": ([(_info("data/zeros.bin"), bytes(8 * MIB))], "compression ratio"),
    "backslash": ([(_info("data\\evil.csv"), b"x")], "backslash"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_entries_refused_before_any_member_is_read(
        case: str, tmp_path: Path, key: Ed25519PrivateKey,
        monkeypatch: pytest.MonkeyPatch) -> None:
    extra, why = HOSTILE[case]
    with pytest.warns(UserWarning) if case == "duplicate" else nullcontext():
        path = _zip_with(tmp_path, key, extra)
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def spy(self: zipfile.ZipFile, name: object, *args: object, **kw: object) -> object:
        opened.append(name.filename if isinstance(name, zipfile.ZipInfo) else str(name))
        return real_open(self, name, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    report = verify_pack(path, key.public_key())
    assert not report.ok and report.failure is not None
    assert opened == [], f"members read before the refusal: {opened}"
    assert why in report.failure.message, report.failure


def test_declared_size_over_a_set_limit_is_refused(tmp_path: Path,
                                                   key: Ed25519PrivateKey) -> None:
    from greenlink.evidence.pack import PackLimits

    path = _write(tmp_path / "p.zip", _members(tmp_path, key))
    report = verify_pack(path, key.public_key(), limits=PackLimits(max_member_bytes=1000))
    assert report.failure is not None and "max_member_bytes" in report.failure.message
    assert verify_pack(path, key.public_key(), limits=PackLimits()).ok


def test_folder_pack_with_a_symlink_is_refused(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    members = _members(tmp_path, key)
    folder = tmp_path / "unpacked"
    for name, data in members.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    assert verify_pack(folder, key.public_key()).ok
    (folder / "data" / "secret.csv").symlink_to("/etc/hostname")
    report = verify_pack(folder, key.public_key())
    assert report.failure is not None and "symbolic link" in report.failure.message


#: Member names that are another, verified member on a reader's file system, or that a listing
#: shows as one (the review: each passed verify with only a note). The signer adds them, so
#: the attacker holds the signing key; the pack must still fail, naming the member.
COLLIDING = {
    "upper case": ("CLAIM.JSON", "case-insensitive"),
    "upper case in a folder": ("summary/Summary.html", "case-insensitive"),
    "NFD": (unicodedata.normalize("NFD", "claim\u0301.json"), "NFC"),
    "NFD of a member": (unicodedata.normalize("NFD", "summary/r\u00e9sum\u00e9.html"), "NFC"),
    "zero-width space": ("claim.json\u200b", "U+200B"),
    "right-to-left override": ("claim\u202enosj.csv", "U+202E"),
    "no-break space": ("claim\u00a0.json", "U+00A0"),
    "C1 control": ("claim\u0085.json", "U+0085"),
    "trailing dot": ("claim.json.", "ends with a dot"),
    "trailing space": ("summary /x.html", "ends with a dot or space"),
    "full-width letters": ("\uff43\uff4c\uff41\uff49\uff4d.json", "case-insensitive"),
    "Windows device": ("data/CON.csv", "device name"),
    # NTFS compares upper-cased names: 'ı'.upper() == 'I', so this one overwrites claim.json
    "dotless i": ("cla\u0131m.json", "case-insensitive"),
    "superscript device": ("data/COM\u00b9.csv", "device name"),
    "console device": ("data/CONIN$.csv", "device name"),
    "8.3 alias": ("summary/SUMMAR~1.HTM", "short (8.3) name"),
    "question mark": ("claim?json", "Windows cannot store"),
    "star": ("summary/*.html", "Windows cannot store"),
    "member under a file": ("claim.json/x", "its folder"),
    "member under a file, case-folded": ("CLAIM.json/x", "its folder"),
    "over 255 bytes": ("data/" + "a" * 300 + ".csv", "255 bytes"),
}


def _signed_zip(path: Path, members: dict[str, bytes]) -> Path:
    """A zip of ``members`` written without the pack writer (which refuses such names)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(_info(name), data)
    return path


@pytest.mark.parametrize("case", sorted(COLLIDING))
def test_member_names_that_collide_or_hide_are_refused(
        case: str, tmp_path: Path, key: Ed25519PrivateKey,
        monkeypatch: pytest.MonkeyPatch) -> None:
    name, why = COLLIDING[case]
    members = _members(tmp_path, key)
    fake = members["claim.json"].replace(b"56.2", b"99.9")
    signed = _resign({**members, name: fake}, key)  # the manifest lists and signs it
    path = _signed_zip(tmp_path / "colliding.zip", signed)
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def spy(self: zipfile.ZipFile, member: object, *args: object, **kw: object) -> object:
        opened.append(member.filename if isinstance(member, zipfile.ZipInfo) else str(member))
        return real_open(self, member, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    report = verify_pack(path, key.public_key())
    monkeypatch.undo()
    assert report.status == "FAIL", (report.status, report.notes)
    assert report.failure is not None and why in report.failure.message, report.failure
    assert report.failure.file == name
    assert opened == [], f"members read before the refusal: {opened}"
    # the pack writer never writes such a pack
    with pytest.raises(InputError, match=r"case-insensitive|unsafe member name"):
        write_pack(tmp_path / "written.zip", signed, WHEN)
    assert not (tmp_path / "written.zip").exists()


def test_unpacked_folder_with_colliding_names_is_refused(tmp_path: Path,
                                                         key: Ed25519PrivateKey) -> None:
    """On a case-sensitive file system a folder can hold claim.json and CLAIM.JSON."""
    members = _members(tmp_path, key)
    signed = _resign({**members, "CLAIM.JSON": members["claim.json"]}, key)
    folder = tmp_path / "unpacked"
    for name, data in signed.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    report = verify_pack(folder, key.public_key())
    assert report.status == "FAIL" and report.failure is not None
    assert "case-insensitive" in report.failure.message


# ---------------------------------------------------------------------------------------------
# 4. build with certificates: the pack and the claims, or nothing

def _registry_state(reg) -> tuple[dict[str, int], int, bool]:  # type: ignore[no-untyped-def]
    bundles = reg.bundles(account_id="park")
    wh = bundles.groupby("certificate_bundle_status")["bundle_quantity"].sum()
    return {str(k): int(v) for k, v in wh.items()}, reg.events(), reg.verify().ok


def _boom(*_args: object, **_kw: object) -> None:
    raise RuntimeError("injected failure")


def _inject(step: str, monkeypatch: pytest.MonkeyPatch, reg) -> None:  # type: ignore[no-untyped-def]
    """Make one step of the build fail."""
    if step == "cancel":  # the second of several cancellations (bundles of the claim) fails
        from greenlink.certificates.registry import Registry

        real, calls = Registry._claim_bundle, []

        def cancel(self, *args, **kw):  # type: ignore[no-untyped-def]
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("injected failure")
            return real(self, *args, **kw)

        monkeypatch.setattr(Registry, "_claim_bundle", cancel)
    elif step == "commit":
        from sqlalchemy import event

        event.listen(reg.engine, "commit", _boom)
    elif step == "write":  # the temporary pack is written, then flushing it fails
        monkeypatch.setattr(pack_mod.os, "fsync", _boom)
    else:
        target = {"members": "build_green_share", "summary": "summary_pdf", "sign": "sign",
                  "move": "move_into_place"}[step]
        monkeypatch.setattr(build_mod, target, _boom)


STEPS = ["cancel", "members", "summary", "sign", "write", "move", "commit"]


@pytest.mark.parametrize("step", STEPS)
def test_failed_build_claims_nothing_and_writes_nothing(
        step: str, tmp_path: Path, key: Ed25519PrivateKey,
        monkeypatch: pytest.MonkeyPatch) -> None:
    reg = _registry(tmp_path, [20_000, 2_000])
    before = _registry_state(reg)
    out = tmp_path / "out" / "pack.zip"
    with monkeypatch.context() as m:
        req = with_registry_certificates(request_for(tiny_flows(), "u"), reg,
                                         account_id="park")
        _inject(step, m, reg)
        with pytest.raises(RuntimeError, match="injected failure"):
            build_green_share_pack(req, key, out)
    if step == "commit":
        from sqlalchemy import event

        event.remove(reg.engine, "commit", _boom)
    assert _registry_state(reg) == before  # no Wh cancelled or claimed, no audit event
    assert not out.exists()
    assert not out.parent.exists() or not any(out.parent.iterdir())  # no temporary left
    # and nothing was used up: the same build now succeeds and claims the 18 kWh
    built = build_green_share_pack(req, key, out)
    assert built.claim["certificates"]["total_wh"] == 18_000
    assert _registry_state(reg)[0]["Claimed"] == 18_000
    assert verify_pack(out, key.public_key()).ok


def test_certificate_pack_never_replaces_a_file(tmp_path: Path,
                                                key: Ed25519PrivateKey) -> None:
    reg = _registry(tmp_path, [20_000, 2_000])
    before = _registry_state(reg)
    out = tmp_path / "pack.zip"
    out.write_bytes(b"an older pack")
    req = with_registry_certificates(request_for(tiny_flows(), "u"), reg, account_id="park")
    with pytest.raises(InputError, match="exists"):
        build_green_share_pack(req, key, out)
    assert out.read_bytes() == b"an older pack" and _registry_state(reg) == before


def test_cli_build_failing_after_cancellation_claims_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.evidence.test_cli import _claim_file

    reg = _registry(tmp_path, [20_000, 2_000])
    before = _registry_state(reg)
    claim = _claim_file(tmp_path)
    url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    claim.write_text(claim.read_text() + f'[certificates]\nregistry = "{url}"\n'
                     'account = "park"\n', encoding="utf-8")
    kd = str(tmp_path / "keys")
    runner.invoke(keys_app, ["generate", "--key-dir", kd])
    args = ["build", "--claim", str(claim), "--out", str(tmp_path / "a.zip"), "--key-dir", kd]
    with monkeypatch.context() as m:
        m.setattr(build_mod, "summary_pdf", _boom)
        failed = runner.invoke(evidence_app, args)
    assert failed.exit_code != 0 and not (tmp_path / "a.zip").exists()
    assert _registry_state(reg) == before
    ok = runner.invoke(evidence_app, args)
    assert ok.exit_code == 0, ok.output
    assert _registry_state(reg)[0]["Claimed"] == 18_000


def test_dry_run_still_refuses_a_second_pack(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    reg = _registry(tmp_path, [20_000, 2_000])
    req = with_registry_certificates(request_for(tiny_flows(), "u"), reg, account_id="park")
    build_green_share_pack(req, key, tmp_path / "a.zip")
    state = _registry_state(reg)
    with pytest.raises(GreenlinkError, match="second pack"):
        with_registry_certificates(request_for(tiny_flows(), "u"), reg, account_id="park")
    assert _registry_state(reg) == state


@pytest.mark.parametrize("name", ["aux.toml", "Com1.toml", "park:2025.toml", "park~1.toml",
                                  unicodedata.normalize("NFD", "Zürich.toml"), "铝型材厂.toml"])
def test_any_scenario_file_name_packs_and_verifies(name: str, tmp_path: Path,
                                                   key: Ed25519PrivateKey) -> None:
    """The scenario travels in the pack under a safe member name whatever its file is called
    (a Windows device name, a colon, NFD as macOS lists it, Chinese)."""
    path = tmp_path / "p.zip"
    build_green_share_pack(request_for(tiny_flows(), "u", scenario_name=name), key, path)
    report = verify_pack(path, key.public_key())
    assert report.status == "PASS", (report.status, report.failure)
    scenario = [m for m in read_pack(path) if m.startswith("scenario/")]
    assert len(scenario) == 1 and pack_mod.unsafe_name(scenario[0]) is None, scenario
