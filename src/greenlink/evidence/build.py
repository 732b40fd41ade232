"""Build a signed evidence pack: claim members + summary + manifest + Ed25519 signature → zip.

With certificates from the registry (:func:`with_registry_certificates`) a build either writes
the pack *and* claims the certificates, or does neither: in one registry transaction
(:func:`greenlink.evidence.registry_tx.one_transaction`) it cancels the certificates, builds,
summarises and signs the pack, writes it completely to a temporary file beside ``out`` and
renames that file to ``out``; only then is the transaction committed. A failure at any step
rolls every cancellation back and leaves no file; a failed commit removes ``out`` again.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from greenlink.errors import InputError, Problem
from greenlink.evidence.claims import (
    CLAIM_FILE,
    GreenShareRequest,
    GreenShareResult,
    build_green_share,
    cut_period,
    green_share,
)
from greenlink.evidence.manifest import (
    MANIFEST_NAME,
    SIGNATURE_NAME,
    build_manifest,
    sha256_hex,
)
from greenlink.evidence.pack import move_into_place, pack_bytes, write_pack, write_temp
from greenlink.evidence.shipment import ShipmentRequest, build_shipment
from greenlink.evidence.summary import summary_html, summary_pdf
from greenlink.evidence.tables import round_table
from greenlink.signing.keys import fingerprint, public_pem, sign

SIGNER_NAME = "signer.pub"
SUMMARY_HTML = "summary/summary.html"
SUMMARY_PDF = "summary/summary.pdf"
#: Builds the members of a pack from its (green-share) request: (members, result, claim).
MakeMembers = Callable[[GreenShareRequest], tuple[dict[str, bytes], GreenShareResult,
                                                  dict[str, Any]]]


@dataclass(frozen=True)
class BuiltPack:
    """What a build produced: the pack path (if written), its bytes, claim and signer."""

    path: Path | None
    data: bytes
    claim: Mapping[str, Any]
    fingerprint: str
    files: int


def data_timestamp(request: GreenShareRequest) -> dt.datetime:
    """The pack's time stamp: the end of the claim period (wall clock in the scenario zone)."""
    end = pd.Timestamp(request.end).tz_convert(request.timezone)
    return end.to_pydatetime().replace(tzinfo=None)


def signed_members(members: Mapping[str, bytes], claim_kind: str, timestamp: dt.datetime,
                   private_key: Ed25519PrivateKey) -> dict[str, bytes]:
    """Add the signer's public key, the manifest and its signature to ``members``."""
    body = dict(members)
    body[SIGNER_NAME] = public_pem(private_key.public_key())
    manifest = build_manifest(body, claim_kind, timestamp.isoformat()).to_bytes()
    body[MANIFEST_NAME] = manifest
    body[SIGNATURE_NAME] = base64.b64encode(sign(private_key, manifest)) + b"\n"
    return body


def claim_id(request: GreenShareRequest) -> str:
    """Deterministic id of a claim: user, period and scenario snapshot hashed (16 hex digits)."""
    text = "|".join([request.user_id, request.start.isoformat(), request.end.isoformat(),
                     sha256_hex(request.scenario_toml.encode("utf-8"))])
    return "gs-" + sha256_hex(text.encode("utf-8"))[:16]


@dataclass(frozen=True)
class RegistryClaim:
    """Certificates to cancel when the pack is built: in ``registry`` (a
    :class:`greenlink.certificates.registry.Registry`), of ``account_id``, for ``purpose``."""

    registry: Any
    account_id: str
    purpose: str = "tenant_scope2"


def with_registry_certificates(request: GreenShareRequest, registry: Any, *, account_id: str,
                               purpose: str = "tenant_scope2") -> GreenShareRequest:
    """The request, set to cancel certificates for the claim when its pack is built.

    Nothing is cancelled here: the cancellation is tried in a transaction that is rolled back
    (so a claim with nothing left to cancel is refused now, ``GreenlinkError``, e.g. for a
    second pack on the same certificates), and done for real by the build, in the transaction
    it commits once the pack file is complete (module docstring).
    """
    from greenlink.evidence.registry_tx import one_transaction

    claim = RegistryClaim(registry, account_id, purpose)
    with one_transaction(registry, commit=False) as view:
        _cancel_certificates(request, view, claim)
    return replace(request, registry_claim=claim)


def _cancel_certificates(request: GreenShareRequest, registry: Any,
                         claim: RegistryClaim) -> GreenShareRequest:
    """Cancel certificates for the claim in ``registry`` and attach their records.

    The matched energy per hour is computed first (as the pack will hold it), then
    :func:`greenlink.evidence.registry_link.cancel_for_green_share` cancels
    ``⌊matched_kWh·1000⌋`` Wh per hour for the user.
    """
    from greenlink.evidence.registry_link import cancel_for_green_share

    flows = cut_period(request.flows, request.start, request.end)
    hours = round_table(green_share(flows, request.user_id, request.timezone).hours)
    cancelled = cancel_for_green_share(registry, hours, account_id=claim.account_id,
                                       beneficiary=request.user_id,
                                       claim_id=claim_id(request), purpose=claim.purpose)
    context = {"claim_id": claim_id(request), **cancelled.context}
    return replace(request, certificates=cancelled.table, certificate_context=context)


def build_green_share_pack(request: GreenShareRequest, private_key: Ed25519PrivateKey,
                           out: Path | None = None, *, summaries: bool = True) -> BuiltPack:
    """Build (and write to ``out`` when given) a signed ``user_green_share`` pack.

    The pack bytes depend only on the request and the key: member order, time stamps (end of
    the claim period), file modes and compression are fixed. With certificates to cancel
    (``request.registry_claim``) ``out`` is required and must not exist yet.
    """
    return _build(request, build_green_share, private_key, out, summaries)


def build_shipment_pack(request: ShipmentRequest, private_key: Ed25519PrivateKey,
                        out: Path | None = None, *, summaries: bool = True) -> BuiltPack:
    """Build a signed ``shipment_electricity`` pack (factor route, D.4.3 conditions, SEE)."""
    return _build(request.green, lambda green: build_shipment(replace(request, green=green)),
                  private_key, out, summaries)


def build_pack(request: GreenShareRequest | ShipmentRequest, private_key: Ed25519PrivateKey,
               out: Path | None = None) -> BuiltPack:
    """Build the pack of either claim kind."""
    if isinstance(request, ShipmentRequest):
        return build_shipment_pack(request, private_key, out)
    return build_green_share_pack(request, private_key, out)


def _signed_pack(request: GreenShareRequest, make: MakeMembers, private_key: Ed25519PrivateKey,
                 summaries: bool) -> tuple[dict[str, bytes], dict[str, Any]]:
    members, result, doc = make(request)
    if summaries:  # drawn from claim.json as stored (key order), as the verifier redraws them
        stored = json.loads(members[CLAIM_FILE])
        members[SUMMARY_HTML] = summary_html(stored, result.hours)
        members[SUMMARY_PDF] = summary_pdf(stored, result.hours)
    body = signed_members(members, str(doc["kind"]), data_timestamp(request), private_key)
    return body, doc


def _build(request: GreenShareRequest, make: MakeMembers, private_key: Ed25519PrivateKey,
           out: Path | None, summaries: bool) -> BuiltPack:
    when = data_timestamp(request)
    signer = fingerprint(private_key.public_key())
    claim: RegistryClaim | None = request.registry_claim
    if claim is None:
        body, doc = _signed_pack(request, make, private_key, summaries)
        if out is None:
            return BuiltPack(None, pack_bytes(body, when), doc, signer, len(body))
        write_pack(out, body, when)
        return BuiltPack(out, out.read_bytes(), doc, signer, len(body))
    if out is None:
        raise ValueError("a pack that cancels certificates must be written to a file (out)")
    if out.exists() or out.is_symlink():
        raise InputError(Problem("the pack file exists already", file=str(out),
                                 expected="a new file: a pack that claims certificates never "
                                 "replaces another"))
    from greenlink.evidence.registry_tx import one_transaction

    placed = False
    try:
        with one_transaction(claim.registry) as registry:
            request = _cancel_certificates(request, registry, claim)
            body, doc = _signed_pack(request, make, private_key, summaries)
            tmp = write_temp(out, body, when)
            try:
                move_into_place(tmp, out)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            placed = True
        # leaving the block committed the cancellations
    except BaseException:
        if placed:
            out.unlink(missing_ok=True)
        raise
    return BuiltPack(out, out.read_bytes(), doc, signer, len(body))
