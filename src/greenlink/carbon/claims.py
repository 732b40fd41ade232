"""No double claim: cancel the matching certificates in the registry for a batch or shipment claim.

A product claim ("this batch ran on X MWh of green power") uses the green energy of the hours the
batch ran. The same MWh must not also back a Scope 2 claim: the claim therefore cancels, hour by
hour, granular certificates of those hours in the registry (:mod:`greenlink.certificates`,
purpose ``product_batch`` or ``shipment``). A cancelled certificate is no longer Active, so it
cannot be cancelled again for ``tenant_scope2``; the registry also refuses claims beyond the
beneficiary's registered consumption of the hour.

Per batch and hour: ``claim_Wh = ⌊overlap_fraction × green_kWh_hour × line_share × 1000⌋``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from greenlink.carbon.batches import interval_starts


def batch_hour_claims(batches: pd.DataFrame, flows: pd.DataFrame, user: str,
                      line_share: Mapping[str, float]) -> pd.DataFrame:
    """Green Wh to claim per batch and clock hour (whole Wh, rounded down).

    Returns
    -------
    DataFrame
        ``batch_id, hour_start (UTC), claim_wh``; hours with 0 Wh are left out.
    """
    green = pd.Series(flows[f"{user}.green_kwh"].to_numpy(dtype=float),
                      index=interval_starts(flows)).resample("1h").sum()
    rows = []
    starts = pd.DatetimeIndex(batches["start"])
    ends = pd.DatetimeIndex(batches["end"])
    ids = [str(b) for b in batches["batch_id"]]
    lines = [str(p) for p in batches["process"]]
    one_hour = pd.Timedelta(hours=1)
    for bid, line, start, end in zip(ids, lines, starts, ends, strict=True):
        for h in pd.date_range(start.floor("h"), end, freq="1h", inclusive="left"):
            lo, hi = max(start, h), min(end, h + one_hour)
            frac = (hi - lo) / one_hour
            kwh = float(green.get(h, 0.0)) * frac * float(line_share[line])
            wh = int(np.floor(kwh * 1000.0 + 1e-9))
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
