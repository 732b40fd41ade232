"""Build a signed evidence pack: claim members + summary + manifest + Ed25519 signature → zip."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from greenlink.evidence.claims import (
    GreenShareRequest,
    GreenShareResult,
    build_green_share,
    cut_period,
    green_share,
)
from greenlink.evidence.keys import fingerprint, public_pem, sign
from greenlink.evidence.manifest import (
    MANIFEST_NAME,
    SIGNATURE_NAME,
    build_manifest,
    sha256_hex,
)
from greenlink.evidence.pack import pack_bytes, write_pack
from greenlink.evidence.shipment import ShipmentRequest, build_shipment
from greenlink.evidence.summary import summary_html, summary_pdf
from greenlink.evidence.tables import round_table

SIGNER_NAME = "signer.pub"
SUMMARY_HTML = "summary/summary.html"
SUMMARY_PDF = "summary/summary.pdf"


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


def with_registry_certificates(request: GreenShareRequest, registry: Any, *, account_id: str,
                               purpose: str = "tenant_scope2") -> GreenShareRequest:
    """Cancel certificates for the claim in the registry and attach their records.

    The matched energy per hour is computed first (as the pack will hold it), then
    :func:`greenlink.evidence.registry_link.cancel_for_green_share` cancels
    ``⌊matched_kWh·1000⌋`` Wh per hour for the user. Refused (``GreenlinkError``) when nothing
    is left to cancel, e.g. for a second pack on the same certificates.
    """
    from greenlink.evidence.registry_link import cancel_for_green_share

    flows = cut_period(request.flows, request.start, request.end)
    hours = round_table(green_share(flows, request.user_id, request.timezone).hours)
    cancelled = cancel_for_green_share(registry, hours, account_id=account_id,
                                       beneficiary=request.user_id,
                                       claim_id=claim_id(request), purpose=purpose)
    context = {"claim_id": claim_id(request), **cancelled.context}
    return replace(request, certificates=cancelled.table, certificate_context=context)


def build_green_share_pack(request: GreenShareRequest, private_key: Ed25519PrivateKey,
                           out: Path | None = None, *, summaries: bool = True) -> BuiltPack:
    """Build (and write to ``out`` when given) a signed ``user_green_share`` pack.

    The pack bytes depend only on the request and the key: member order, time stamps (end of
    the claim period), file modes and compression are fixed.
    """
    members, result, doc = build_green_share(request)
    return _finish(request, members, result, doc, private_key, out, summaries)


def build_shipment_pack(request: ShipmentRequest, private_key: Ed25519PrivateKey,
                        out: Path | None = None, *, summaries: bool = True) -> BuiltPack:
    """Build a signed ``shipment_electricity`` pack (factor route, D.4.3 conditions, SEE)."""
    members, result, doc = build_shipment(request)
    return _finish(request.green, members, result, doc, private_key, out, summaries)


def build_pack(request: GreenShareRequest | ShipmentRequest, private_key: Ed25519PrivateKey,
               out: Path | None = None) -> BuiltPack:
    """Build the pack of either claim kind."""
    if isinstance(request, ShipmentRequest):
        return build_shipment_pack(request, private_key, out)
    return build_green_share_pack(request, private_key, out)


def _finish(request: GreenShareRequest, members: dict[str, bytes], result: GreenShareResult,
            doc: dict[str, Any], private_key: Ed25519PrivateKey, out: Path | None,
            summaries: bool) -> BuiltPack:
    if summaries:
        members[SUMMARY_HTML] = summary_html(doc, result.hours)
        members[SUMMARY_PDF] = summary_pdf(doc, result.hours)
    when = data_timestamp(request)
    body = signed_members(members, str(doc["kind"]), when, private_key)
    if out is not None:
        write_pack(out, body, when)
        data = out.read_bytes()
    else:
        data = pack_bytes(body, when)
    return BuiltPack(out, data, doc, fingerprint(private_key.public_key()), len(body))
