"""No double claim: cancel the matching certificates in the registry for a batch or shipment claim.

A product claim ("this batch ran on X MWh of green power") uses the green energy of the hours the
batch ran. The same MWh must not also back a Scope 2 claim: the claim therefore cancels, hour by
hour, granular certificates of those hours in the registry (:mod:`greenlink.certificates`,
purpose ``product_batch`` or ``shipment``). A cancelled certificate is no longer Active, so it
cannot be cancelled again for ``tenant_scope2``; the registry also refuses claims beyond the
beneficiary's registered consumption of the hour.

Per batch and hour: ``claim_Wh = kwh_to_wh(overlap_fraction × green_kWh_hour × line_share)``
(:func:`greenlink.units.kwh_to_wh`, the rule by which the certificates were issued). An hour is
a clock hour of the flows table's zone (the scenario's, :func:`greenlink.flows.hour_key`): the
hours certificates are issued for.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from greenlink import flows as fl
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


def cancel_for_claims(registry: object, claims: pd.DataFrame, *, account_id: str,
                      beneficiary: str, purpose: str = "product_batch") -> pd.DataFrame:
    """Cancel Active certificates of each claimed hour in ``account_id`` for ``beneficiary``.

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
        Per claim row: ``cancelled_wh``, ``shortfall_wh`` (no certificates left for that hour:
        that part of the claim is not backed), ``bundle_ids``.
    """
    active = registry.bundles(account_id=account_id, status="Active")  # type: ignore[attr-defined]
    active["hour"] = pd.to_datetime(active["production_starting_interval"], utc=True)
    pools: dict[pd.Timestamp, list[tuple[int, int]]] = {}
    active = active.sort_values("id")
    for hour_, bid_, qty_ in zip(pd.DatetimeIndex(active["hour"]), active["id"].tolist(),
                                 active["bundle_quantity"].tolist(), strict=True):
        pools.setdefault(hour_, []).append((int(bid_), int(qty_)))
    out = []
    for batch_id, hour_start, claim_wh in zip(
            claims["batch_id"].tolist(), pd.DatetimeIndex(claims["hour_start"]),
            claims["claim_wh"].tolist(), strict=True):
        need = int(claim_wh)
        hour = hour_start.tz_convert("UTC")
        pool = pools.get(hour, [])
        used: list[int] = []
        while need > 0 and pool:
            bundle_id, qty = pool[0]
            take = min(need, qty)
            cancelled = registry.cancel(  # type: ignore[attr-defined]
                bundle_id, beneficiary=beneficiary, purpose=purpose, account_id=account_id,
                quantity_wh=take)
            used.append(int(cancelled))
            need -= take
            if take == qty:
                pool.pop(0)
            else:  # the rest of a split bundle is the newest Active bundle of that hour
                rest = registry.bundles(  # type: ignore[attr-defined]
                    account_id=account_id, status="Active")
                rest = rest[pd.to_datetime(rest["production_starting_interval"], utc=True)
                            == hour].sort_values("id")
                pool[0] = (int(rest["id"].iat[-1]), qty - take)
        out.append({"batch_id": batch_id, "hour_start": hour,
                    "claim_wh": int(claim_wh), "cancelled_wh": int(claim_wh) - need,
                    "shortfall_wh": need, "bundle_ids": used})
    return pd.DataFrame(out)
