"""Offline verification of an evidence pack: trusted signature, every hash, recomputed claim,
regenerated statement and summary.

Needs no database and no network, and trusts nothing the pack carries. Order of checks (stops
at the first failure):

1. the pack is a zip whose central directory passes the reader's limits and rules — no
   directory, link, absolute, ``..`` or duplicate entries, no declared size or compression ratio
   over :class:`~greenlink.evidence.pack.PackLimits` — checked before any member is read;
2. ``manifest.json`` parses; ``manifest.sig`` is a valid Ed25519 signature of its exact bytes by
   the key in ``signer.pub`` — or, with ``--key``, by that key, which must be the pack's signer;
3. every member is listed in the manifest with the right size (checked without reading) and
   SHA-256 (hashed as a stream), and every listed file is present;
4. the claim is recomputed from the raw tables (per claim kind) and compared number by number;
5. the statement in ``claim.json`` and the summaries' text are regenerated from the checked
   claim and compared (:mod:`greenlink.evidence.headline`);
6. certificates (when present) agree with the claim, and with ``--against`` no certificate id
   range is claimed in another pack;
7. the signer is trusted: the key given with ``--key``, or a fingerprint in the verifier's
   keyring (:mod:`greenlink.signing.trust`). A pack that passes 1–6 but whose embedded key
   alone vouches for it is **UNTRUSTED** (not ok): anyone can sign a consistent pack.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator, Mapping, Sequence
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
from greenlink.signing.keys import fingerprint, load_public_key, signature_valid

#: Recompute function per claim kind.
RECOMPUTE: dict[str, Callable[[Mapping[str, bytes]], Any]] = {
    GREEN_SHARE: recompute_green_share,
    SHIPMENT: recompute_shipment,
}
#: How the signer came to be trusted: given with ``--key``.
BY_KEY = "--key"


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of :func:`verify_pack`.

    ``failure`` is the first failure (None when the pack passes). ``key_trusted`` is True when
    the signer is a key the verifier trusts; ``trusted_by`` says how (``"--key"`` or
    ``"keyring: <label>"``). ``untrusted`` is True when every check held but the signer is not
    trusted (``failure`` then names ``signer.pub``).
    """

    pack: str
    failure: Failure | None
    fingerprint: str | None = None
    key_trusted: bool = False
    claim: Mapping[str, Any] = field(default_factory=dict)
    files_checked: int = 0
    notes: tuple[str, ...] = ()
    trusted_by: str | None = None
    untrusted: bool = False

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def status(self) -> str:
        """``PASS``, ``UNTRUSTED`` (consistent, signer not trusted) or ``FAIL``."""
        if self.failure is None:
            return "PASS"
        return "UNTRUSTED" if self.untrusted else "FAIL"


def check_signature(members: Mapping[str, bytes], public_key: Ed25519PublicKey | None = None,
                    trusted: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """Check ``manifest.sig``; returns (signer fingerprint, how it is trusted or None).

    The signature must hold for the key in ``signer.pub`` (and that must be ``public_key`` when
    given). The signer is trusted when it is ``public_key`` or its fingerprint is in
    ``trusted`` (fingerprint → label); a valid signature alone proves only that *someone* signed.
    """
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
    fp = fingerprint(key)
    if public_key is not None:
        return fp, BY_KEY
    if trusted is not None and fp in trusted:
        return fp, f"keyring: {trusted[fp]}" if trusted[fp] else "keyring"
    return fp, None


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


def _untrusted_message(fp: str) -> str:
    return (f"UNTRUSTED signer {fp}: the signature and every check hold, but this key was "
            "neither given with --key nor is it in the verifier's keyring — anyone can sign a "
            "consistent pack with a key of their own. Compare the fingerprint with the "
            "operator's out of band, then pass --key or `greenlink keys trust` their key")


class _Reads(Mapping[str, bytes]):
    """The pack's members, noting which ones the checks read."""

    def __init__(self, members: Mapping[str, bytes]) -> None:
        self.members = members
        self.names: set[str] = set()

    def __getitem__(self, name: str) -> bytes:
        data = self.members[name]
        self.names.add(name)
        return data

    def __iter__(self) -> Iterator[str]:
        return iter(self.members)

    def __len__(self) -> int:
        return len(self.members)

    def __contains__(self, name: object) -> bool:
        return name in self.members


def verify_members(members: Mapping[str, bytes], public_key: Ed25519PublicKey | None = None,
                   *, trusted: Mapping[str, str] | None = None, pack: str = "pack",
                   others: Sequence[tuple[str, Mapping[str, bytes]]] = ()) -> VerifyReport:
    """Verify the members of one pack (see module docstring); never raises for pack content.

    ``public_key``: the operator's key the verifier holds; ``trusted``: the verifier's keyring
    (fingerprint → label). With neither, a consistent pack is UNTRUSTED.
    """
    fp: str | None = None
    trusted_by: str | None = None
    claim: Mapping[str, Any] = {}
    files = 0
    notes: list[str] = []

    def report(failure: Failure | None, untrusted: bool = False) -> VerifyReport:
        return VerifyReport(pack, failure, fp, trusted_by is not None, claim, files,
                            tuple(notes), trusted_by, untrusted)

    try:
        fp, trusted_by = check_signature(members, public_key, trusted)
        if trusted_by is None:
            notes.append(f"signer {fp} is not a trusted key (not given with --key, not in the "
                         "keyring)")
        files = check_hashes(members)
        read = _Reads(members)
        doc = read_claim(read)
        claim = doc
        kind = str(doc.get("kind"))
        if kind not in RECOMPUTE:
            raise fail("claim.json", f"unknown claim kind {kind!r}", field="kind")
        RECOMPUTE[kind](read)
        check_statement(doc)
        check_summaries(read, doc)
        check_certificates(read, doc)
        mine = certificate_ranges(read)
        extra = sorted(set(members) - read.names - {MANIFEST_NAME, SIGNATURE_NAME, SIGNER_NAME})
        if extra:
            notes.append(f"not part of the claim, only their hash was checked: {', '.join(extra)}")
        for other_name, other in others:
            clash = overlapping_ranges(mine, certificate_ranges(other))
            if clash is not None:
                raise fail(clash.file, f"certificate id range {clash.describe()} is also "
                           f"claimed in {other_name}", row=clash.row, field="bundle_id_range")
    except PackFailure as exc:
        return report(exc.failure)
    if trusted_by is None:
        assert fp is not None
        notes.clear()  # the failure says it
        return report(Failure(SIGNER_NAME, _untrusted_message(fp)), untrusted=True)
    return report(None)


def verify_pack(path: Path, public_key: Ed25519PublicKey | None = None,
                against: Sequence[Path] = (), *, trusted: Mapping[str, str] | None = None,
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
        return verify_members(members, public_key, trusted=trusted, pack=str(path),
                              others=others)
    raise AssertionError("unreachable")  # pragma: no cover


def _in_pack(failure: Failure, path: Path) -> Failure:
    """A reader failure, naming the pack when it names one of its members."""
    if failure.file == str(path):
        return failure
    return Failure(str(path), f"{failure.file}: {failure.message}", failure.row, failure.field)
