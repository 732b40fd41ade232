"""No double claim: cancel the matching certificates in the registry for a batch or shipment claim.

A product claim ("this batch ran on X MWh of green power") uses the green energy of the hours the
batch ran. The same MWh must not also back a Scope 2 claim: the claim therefore cancels, hour by
hour, granular certificates of those hours in the registry (:mod:`greenlink.certificates`,
purpose ``product_batch`` or ``shipment``). A cancelled certificate is no longer Active, so it
cannot be cancelled again for ``tenant_scope2``; the registry also refuses claims beyond the
beneficiary's registered consumption of the hour. Every batch-hour of a claim goes to the
registry's one claim path in one request (:func:`batch_claim_request`): all hours or none, an
id so that the same claim twice changes nothing, each line's subject its batch so that a batch
claimed twice is refused naming the first claim, and the GEC serials behind each bundle.

Per batch and hour: ``claim_Wh = kwh_to_wh(overlap_fraction × green_kWh_hour × line_share)``
(:func:`greenlink.units.kwh_to_wh`, the rule by which the certificates were issued). An hour is
a clock hour of the flows table's zone (the scenario's, :func:`greenlink.flows.hour_key`): the
hours certificates are issued for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from greenlink import flows as fl
from greenlink.certificates.claims import ClaimRequest, ClaimResult, serial_text
from greenlink.units import kwh_to_wh


def batch_hour_claims(batches: pd.DataFrame, flows: pd.DataFrame, user: str,
                      line_share: Mapping[str, float]) -> pd.DataFrame:
    """Green Wh to claim per batch and clock hour (whole Wh, rounded down).

    Returns
    -------
    DataFrame
        ``batch_id, hour_start (UTC), claim_wh``; hours with 0 Wh are left out.
    """
    index = fl.time_index(flows)
    green = pd.Series(flows[fl.user_green(user)].to_numpy(dtype=float),
                      index=fl.hour_key(index)).groupby(level=0).sum()
    hours = pd.DatetimeIndex(green.index)
    green_kwh = green.to_numpy()
    rows = []
    starts = pd.DatetimeIndex(batches["start"])
    ends = pd.DatetimeIndex(batches["end"])
    ids = [str(b) for b in batches["batch_id"]]
    lines = [str(p) for p in batches["process"]]
    one_hour = pd.Timedelta(hours=1)
    for bid, line, start, end in zip(ids, lines, starts, ends, strict=True):
        for k in np.flatnonzero((hours < end) & (hours + one_hour > start)).tolist():
            h = hours[k]
            lo, hi = max(start, h), min(end, h + one_hour)
            frac = (hi - lo) / one_hour
            wh = kwh_to_wh(float(green_kwh[k]) * frac * float(line_share[line]))
            if wh > 0:
                rows.append({"batch_id": bid, "hour_start": h.tz_convert("UTC"),
                             "claim_wh": wh})
    return pd.DataFrame(rows, columns=["batch_id", "hour_start", "claim_wh"])


def batch_claim_request(claims: pd.DataFrame, *, account_id: str, beneficiary: str,
                        purpose: str = "product_batch", claim_id: str | None = None,
                        operation: str = "library", allow_shortfall: bool = True
                        ) -> ClaimRequest:
    """The registry claim of batch-hour claims: one line per batch and hour (its subject the
    batch), all in one request — all hours or none.

    ``claim_id`` ``None``: derived from the content, so the same batches claimed again are the
    same claim (the registry returns the first result and changes nothing), and a batch-hour
    claimed by another claim is refused naming it.
    """
    return ClaimRequest.for_hours(claims, beneficiary=beneficiary, purpose=purpose,
                                  account_id=account_id, claim_id=claim_id,
                                  operation=operation, allow_shortfall=allow_shortfall,
                                  subject_column="batch_id")


def claim_outcomes(claims: pd.DataFrame, result: ClaimResult) -> pd.DataFrame:
    """Per claim row (:func:`batch_hour_claims`): ``cancelled_wh``, ``shortfall_wh`` (no
    certificates left for that hour: that part of the claim is not backed), ``bundle_ids`` and
    the GEC serials behind them."""
    out = []
    by_bundle = {p.bundle_id: p for p in result.parts}
    for (batch_id, hour_start, claim_wh), line in zip(
            zip(claims["batch_id"].tolist(), pd.DatetimeIndex(claims["hour_start"]),
                claims["claim_wh"].tolist(), strict=True), result.lines, strict=True):
        out.append({"batch_id": batch_id, "hour_start": hour_start.tz_convert("UTC"),
                    "claim_wh": int(claim_wh), "cancelled_wh": line.claimed_wh,
                    "shortfall_wh": line.shortfall_wh, "bundle_ids": list(line.bundle_ids),
                    "gec_serials": serial_text(s for b in line.bundle_ids
                                               for s in by_bundle[b].gec_serials),
                    "claim_id": result.claim_id})
    return pd.DataFrame(out, columns=["batch_id", "hour_start", "claim_wh", "cancelled_wh",
                                      "shortfall_wh", "bundle_ids", "gec_serials", "claim_id"])


def cancel_for_claims(registry: Any, claims: pd.DataFrame, *, account_id: str,
                      beneficiary: str, purpose: str = "product_batch",
                      claim_id: str | None = None, operation: str = "library"
                      ) -> pd.DataFrame:
    """Cancel Active certificates of each claimed hour in ``account_id`` for ``beneficiary``,
    through the registry's one claim path (:meth:`~greenlink.certificates.registry.Registry
    .claim`): one transaction for every batch-hour.

    Parameters
    ----------
    registry : greenlink.certificates.registry.Registry
    claims : DataFrame
        From :func:`batch_hour_claims` (``batch_id, hour_start, claim_wh``).
    purpose : str
        ``product_batch`` or ``shipment``.

    Returns
    -------
    DataFrame
        :func:`claim_outcomes`.
    """
    if claims.empty:
        return claim_outcomes(claims, _empty_result(account_id, beneficiary, purpose))
    result = registry.claim(batch_claim_request(
        claims, account_id=account_id, beneficiary=beneficiary, purpose=purpose,
        claim_id=claim_id, operation=operation))
    return claim_outcomes(claims, result)


def _empty_result(account_id: str, beneficiary: str, purpose: str) -> ClaimResult:
    return ClaimResult("", "claim", purpose, beneficiary, account_id, "", 0, 0, 0, 0, (), ())
