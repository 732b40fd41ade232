"""Offline verification of an evidence pack: signature, every hash, then recompute the claim.

Needs no database and no network. Order of checks (stops at the first failure):

1. the pack is a zip whose central directory passes the reader's limits and rules — no
   directory, link, absolute, ``..`` or duplicate entries, no declared size or compression ratio
   over :class:`~greenlink.evidence.pack.PackLimits` — checked before any member is read;
2. ``manifest.json`` parses; ``manifest.sig`` is a valid Ed25519 signature of its exact bytes by
   the signer key — the one given with ``--key`` (whose fingerprint must equal ``signer.pub``),
   or else the embedded ``signer.pub`` (then the result says the key is *not* independently
   trusted, and prints its fingerprint for out-of-band comparison);
3. every member is listed in the manifest with the right size (checked without reading) and
   SHA-256 (hashed as a stream), and every listed file is present;
4. the claim is recomputed from the raw tables (per claim kind) and compared number by number;
5. the statement in ``claim.json`` and the summaries' text are regenerated from the checked
   claim and compared (:mod:`greenlink.evidence.headline`);
6. certificates (when present) agree with the claim, and with ``--against`` no certificate id
   range is claimed in another pack.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from greenlink.errors import GreenlinkError
from greenlink.evidence.build import SIGNER_NAME
from greenlink.evidence.certs import (
    certificate_ranges,
    check_certificates,
    overlapping_ranges,
)
from greenlink.evidence.claims import GREEN_SHARE, read_claim, recompute_green_share
from greenlink.evidence.headline import check_statement, check_summaries
from greenlink.evidence.keys import fingerprint, load_public_key, signature_valid
from greenlink.evidence.manifest import (
    MANIFEST_NAME,
    SIGNATURE_NAME,
    parse_manifest,
)
from greenlink.evidence.pack import (
    DEFAULT_LIMITS,
    PackLimits,
    PackMembers,
    member_digest,
    member_size,
    open_pack,
)
from greenlink.evidence.shipment import SHIPMENT, recompute_shipment
from greenlink.evidence.tables import Failure, PackFailure, fail

#: Recompute function per claim kind.
RECOMPUTE: dict[str, Callable[[Mapping[str, bytes]], Any]] = {
    GREEN_SHARE: recompute_green_share,
    SHIPMENT: recompute_shipment,
}


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of :func:`verify_pack`.

    ``failure`` is the first failure (None when the pack passes). ``key_trusted`` is True when
    the signature was checked against a key the verifier supplied (not the embedded one).
    """

    pack: str
    failure: Failure | None
    fingerprint: str | None = None
    key_trusted: bool = False
    claim: Mapping[str, Any] = field(default_factory=dict)
    files_checked: int = 0
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.failure is None


def check_signature(members: Mapping[str, bytes],
                    public_key: Ed25519PublicKey | None) -> tuple[str, bool]:
    """Check ``manifest.sig``; returns (signer fingerprint, whether the key was supplied)."""
    for name in (MANIFEST_NAME, SIGNATURE_NAME, SIGNER_NAME):
        if name not in members:
            raise fail(name, "missing from the pack")
    try:
        embedded = load_public_key(members[SIGNER_NAME], SIGNER_NAME)
    except GreenlinkError as exc:
        raise fail(SIGNER_NAME, str(exc)) from exc
    key = public_key or embedded
    if public_key is not None and fingerprint(public_key) != fingerprint(embedded):
        raise fail(SIGNER_NAME, f"pack signed by {fingerprint(embedded)}, not by the given key "
                   f"{fingerprint(public_key)}")
    try:
        signature = base64.b64decode(members[SIGNATURE_NAME].strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise fail(SIGNATURE_NAME, "not base64") from exc
    if not signature_valid(key, signature, members[MANIFEST_NAME]):
        raise fail(MANIFEST_NAME, f"signature does not match (key {fingerprint(key)}): the "
                   "manifest or the signature was changed")
    return fingerprint(key), public_key is not None


def check_hashes(members: Mapping[str, bytes]) -> int:
    """Every member listed with the right size and hash; every listed file present.

    Sizes are compared first, without reading; then each member is hashed as a stream. For a
    pack read from a file (:class:`~greenlink.evidence.pack.PackMembers`) the manifest's hashes
    are kept, so that members loaded later for the recomputation are checked again.
    """
    try:
        manifest = parse_manifest(members[MANIFEST_NAME])
    except GreenlinkError as exc:
        raise fail(MANIFEST_NAME, str(exc)) from exc
    listed = {e.path: e for e in manifest.files}
    if len(listed) != len(manifest.files):
        raise fail(MANIFEST_NAME, "lists a file twice", field="files")
    for name in sorted(members):
        if name in (MANIFEST_NAME, SIGNATURE_NAME):
            continue
        if name not in listed:
            raise fail(name, "not listed in manifest.json (file added)")
    missing = sorted(set(listed) - set(members))
    if missing:
        raise fail(missing[0], "listed in manifest.json but missing from the pack")
    for name, entry in sorted(listed.items()):
        size = member_size(members, name)
        if size != entry.size_bytes:
            raise fail(name, f"{size:,} bytes, manifest.json says {entry.size_bytes:,} (SHA-256 "
                       "cannot match): file changed after signing")
    for name, entry in sorted(listed.items()):
        digest, _size = member_digest(members, name)
        if digest != entry.sha256:
            raise fail(name, f"SHA-256 differs from manifest.json ({entry.sha256[:16]}…): file "
                       "changed after signing")
    if isinstance(members, PackMembers):
        members.expected = {e.path: (e.sha256, e.size_bytes) for e in manifest.files}
    return len(listed)


def verify_members(members: Mapping[str, bytes], public_key: Ed25519PublicKey | None = None,
                   *, pack: str = "pack",
                   others: Sequence[tuple[str, Mapping[str, bytes]]] = ()) -> VerifyReport:
    """Verify the members of one pack (see module docstring); never raises for pack content."""
    fp: str | None = None
    trusted = False
    claim: Mapping[str, Any] = {}
    files = 0
    notes: list[str] = []
    try:
        fp, trusted = check_signature(members, public_key)
        files = check_hashes(members)
        claim = read_claim(members)
        kind = str(claim.get("kind"))
        if kind not in RECOMPUTE:
            raise fail("claim.json", f"unknown claim kind {kind!r}", field="kind")
        RECOMPUTE[kind](members)
        check_statement(claim)
        check_summaries(members, claim)
        check_certificates(members, claim)
        mine = certificate_ranges(members)
        for other_name, other in others:
            clash = overlapping_ranges(mine, certificate_ranges(other))
            if clash is not None:
                raise fail(clash.file, f"certificate id range {clash.describe()} is also "
                           f"claimed in {other_name}", row=clash.row, field="bundle_id_range")
        if not trusted:
            notes.append(f"signature checked against the key inside the pack ({fp}); compare "
                         "this fingerprint with the operator's, or pass --key")
    except PackFailure as exc:
        return VerifyReport(pack, exc.failure, fp, trusted, claim, files, tuple(notes))
    return VerifyReport(pack, None, fp, trusted, claim, files, tuple(notes))


def verify_pack(path: Path, public_key: Ed25519PublicKey | None = None,
                against: Sequence[Path] = (), *,
                limits: PackLimits = DEFAULT_LIMITS) -> VerifyReport:
    """Verify a pack file (or unpacked folder), optionally against other packs.

    Members are read on demand within ``limits`` (never the whole pack at once): a member too
    large, too compressed or otherwise refused fails the pack before it is read.
    """
    with ExitStack() as stack:
        try:
            members = stack.enter_context(open_pack(path, limits))
        except PackFailure as exc:
            return VerifyReport(str(path), exc.failure)
        others: list[tuple[str, Mapping[str, bytes]]] = []
        for other in against:
            try:
                others.append((str(other), stack.enter_context(open_pack(other, limits))))
            except PackFailure as exc:
                return VerifyReport(str(path), _in_pack(exc.failure, other))
        return verify_members(members, public_key, pack=str(path), others=others)
    raise AssertionError("unreachable")  # pragma: no cover


def _in_pack(failure: Failure, path: Path) -> Failure:
    """A reader failure, naming the pack when it names one of its members."""
    if failure.file == str(path):
        return failure
    return Failure(str(path), f"{failure.file}: {failure.message}", failure.row, failure.field)
