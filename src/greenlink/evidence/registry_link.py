"""Certificates for a pack: cancel them in the registry for the claim, and export their records.

Building a pack with certificates cancels, hour by hour, Active granular certificates of the
operator's account for the claim's beneficiary, in one request to the registry's one claim path
(``greenlink.certificates.registry.Registry.claim``, the pack's claim id as its id): per clock
hour ``claim_Wh = kwh_to_wh(matched_kWh) − Wh already claimed for the user in that hour`` of the
user's hourly-matched energy. :func:`greenlink.units.kwh_to_wh` is the rule issuance uses too,
so a fully green hour is claimable to its last issued Wh. Hours are the scenario's local clock
hours (:func:`greenlink.flows.hour_key`), the hours certificates are issued for. A cancelled
certificate is no longer Active and the Wh already claimed for the user count against the hour,
so a second pack on the same certificates (or the same matched energy) is refused: nothing is
left to cancel. The pack records each cancelled bundle with its EnergyTag GC fields and the GEC
serials behind it, the registry's claim id and its audit-chain head (sequence number and hash)
after the cancellation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from greenlink import flows
from greenlink.errors import GreenlinkError, Problem
from greenlink.units import kwh_to_wh

#: EnergyTag / FEA fields copied from the registry beside the required certificate columns.
ENERGYTAG_EXTRA = ["issuance_id", "hash", "energy_carrier", "face_value", "account_id",
                   "metadata_id", "is_storage", "issuance_datestamp", "expiry_datestamp"]


@dataclass(frozen=True)
class CancelledCertificates:
    """Records of the cancelled bundles (pack table) and the registry facts for claim.json."""

    table: pd.DataFrame
    context: dict[str, Any]


def hour_claims(hours: pd.DataFrame, claim_id: str) -> pd.DataFrame:
    """Whole Wh to cancel per clock hour: ``kwh_to_wh(matched_kwh)`` (hours with 0 left out)."""
    wh = kwh_to_wh(hours["matched_kwh"].to_numpy(dtype=float))
    frame = pd.DataFrame({"batch_id": claim_id,
                          "hour_start": pd.DatetimeIndex(hours.index).tz_convert("UTC"),
                          "claim_wh": wh})
    return frame[frame["claim_wh"] > 0].reset_index(drop=True)


def chain_head(registry: Any) -> tuple[int, str]:
    """(sequence, hash) of the registry's last audit event."""
    from sqlalchemy import select

    from greenlink.certificates.models import ChainHead

    with registry.sessions() as s:
        head = s.execute(select(ChainHead)).scalars().first()
    if head is None:
        return 0, ""
    return int(head.seq), str(head.hash)


def _records(bundles: pd.DataFrame) -> pd.DataFrame:
    def iso(col: str) -> list[str]:
        return [pd.Timestamp(t).tz_convert("UTC").isoformat() if pd.Timestamp(t).tzinfo
                else pd.Timestamp(t).tz_localize("UTC").isoformat() for t in bundles[col]]

    out = pd.DataFrame({
        "bundle_id": bundles["id"].astype("int64"),
        "device_id": bundles["device_id"].astype(str),
        "energy_source": bundles["energy_source"].astype(str),
        "production_start": iso("production_starting_interval"),
        "production_end": iso("production_ending_interval"),
        "bundle_id_range_start": bundles["certificate_bundle_id_range_start"].astype("int64"),
        "bundle_id_range_end": bundles["certificate_bundle_id_range_end"].astype("int64"),
        "quantity_wh": bundles["bundle_quantity"].astype("int64"),
        "status": bundles["certificate_bundle_status"].astype(str),
        "beneficiary": bundles["beneficiary"].astype(str),
        "purpose": bundles["claim_purpose"].astype(str),
    })
    for col in ENERGYTAG_EXTRA:
        if col in bundles.columns:
            out[col] = [str(v) for v in bundles[col]]
    return out


def claimed_wh_per_hour(registry: Any, beneficiary: str,
                        timezone: str | None = None) -> dict[pd.Timestamp, int]:
    """Wh of certificates already claimed for ``beneficiary``, per production hour.

    Keys are the UTC instants at which the clock hours of ``timezone`` (the scenario's; ``None``:
    UTC) start, :func:`greenlink.flows.hour_key` of each bundle's production start.
    """
    bundles = registry.bundles(status="Claimed")
    bundles = bundles[bundles["beneficiary"] == beneficiary]
    if bundles.empty:
        return {}
    starts = pd.DatetimeIndex(pd.to_datetime(bundles["production_starting_interval"], utc=True))
    hours = flows.hour_key(starts, timezone).tz_convert("UTC")
    sums = pd.Series(bundles["bundle_quantity"].to_numpy(), index=hours).groupby(level=0).sum()
    return {pd.Timestamp(h): int(v) for h, v in zip(pd.DatetimeIndex(sums.index),
                                                     sums.tolist(), strict=True)}


def _holders(registry: Any, beneficiary: str) -> str:
    """`` (claims A, B)`` of the claims the beneficiary holds, or ``""``."""
    table = registry.claims(beneficiary=beneficiary)
    ids = list(dict.fromkeys(table["claim_id"].tolist())) if len(table) else []
    return f" (claims {', '.join(ids[:5])}{' …' if len(ids) > 5 else ''})" if ids else ""


def cancel_for_green_share(registry: Any, hours: pd.DataFrame, *, account_id: str,
                           beneficiary: str, claim_id: str,
                           purpose: str = "tenant_scope2") -> CancelledCertificates:
    """Cancel certificates for a green-share claim and return their records.

    Every hour of the claim goes to the registry's one claim path
    (:meth:`~greenlink.certificates.registry.Registry.claim`) in one request with the claim's
    id: the beneficiary's hourly cap, its registration, the GEC serials behind each bundle
    (stored with the claim and written to the pack) — all hours or none.

    Parameters
    ----------
    registry : greenlink.certificates.registry.Registry
    hours : DataFrame
        Claim hours (index tz-aware hour start, column ``matched_kwh`` [kWh]).
    account_id, beneficiary, claim_id, purpose
        Whose certificates, for whom, under which claim id and registry purpose.

    Raises
    ------
    GreenlinkError
        When the registry's audit chain does not verify, the claim was made before (a second
        pack on the same certificates), or no certificate at all is left to cancel for the
        claim's hours (they were cancelled already — e.g. for another pack); the registry's
        refusals (:class:`~greenlink.certificates.errors.ClaimRefused`) as they are.
    """
    check = registry.verify()
    if not check.ok:
        raise GreenlinkError(Problem("the registry's audit chain does not verify",
                                     location="registry", expected="`greenlink registry "
                                     "verify` to pass before certificates are claimed"))
    first = registry.claim_record(claim_id)
    if first is not None:
        raise GreenlinkError(Problem(
            f"claim {claim_id} was made already (registry event {first.event_seq}, "
            f"{first.claimed_wh:,} Wh, by {first.operation}): its certificates back the pack "
            "built then", location="certificates",
            expected="a claim not made before (a second pack on the same certificates is "
            "refused)"))
    claims = hour_claims(hours, claim_id)
    zone = pd.DatetimeIndex(hours.index).tz
    already = claimed_wh_per_hour(registry, beneficiary, None if zone is None else str(zone))
    before = claims["claim_wh"].to_numpy()
    taken = np.array([already.get(h, 0) for h in pd.DatetimeIndex(claims["hour_start"])],
                     dtype="int64")
    claims["claim_wh"] = np.maximum(before - taken, 0)
    claims = claims[claims["claim_wh"] > 0].reset_index(drop=True)
    if claims.empty and int(taken.sum()) > 0:
        raise GreenlinkError(Problem(
            f"the hourly-matched energy of {beneficiary!r} in the claim's hours is already "
            f"backed by {int(taken.sum())} Wh of claimed certificates"
            f"{_holders(registry, beneficiary)}", location="certificates",
            expected="certificates not yet claimed for these hours (a second pack on the same "
            "certificates is refused)"))
    nothing = GreenlinkError(Problem(
        f"no Active certificates of account {account_id!r} left for the claim's hours",
        location="certificates", expected="certificates not yet cancelled (a second pack "
        "on the same certificates is refused)"))
    if claims.empty:
        raise nothing
    from greenlink.certificates.claims import ClaimRequest
    from greenlink.certificates.errors import NothingToClaim

    request = ClaimRequest.for_hours(claims, beneficiary=beneficiary, purpose=purpose,
                                     account_id=account_id, claim_id=claim_id,
                                     operation="evidence build", allow_shortfall=True)
    try:
        result = registry.claim(request)
    except NothingToClaim as exc:
        raise nothing from exc
    ids = sorted(result.bundle_ids)
    bundles = registry.bundles(account_id=account_id)
    bundles = bundles[bundles["id"].isin(ids)].sort_values("id")
    table = _records(bundles)
    serials = {p.bundle_id: p.serial_text() for p in result.parts}
    table["gec_serials"] = [serials.get(int(i), "") for i in table["bundle_id"]]
    seq, digest = chain_head(registry)
    context = {"registry_account": account_id, "registry_purpose": purpose,
               "registry_claim_id": result.claim_id,
               "registry_chain_head_seq": seq, "registry_chain_head_hash": digest,
               "claimed_wh_requested": int(before.sum()),
               "claimed_wh_before": int(taken.sum()),
               "shortfall_wh": int(result.shortfall_wh),
               "gec_serials": result.serial_text()}
    return CancelledCertificates(table, context)
