"""Certificates inside a pack: EnergyTag GC bundle records cancelled for the claim.

A bundle is identified by ``device_id`` and its inclusive id range
``[bundle_id_range_start, bundle_id_range_end]`` (one id per Wh, EnergyTag GC Scheme Standard);
two packs double-claim when a device's ranges overlap.

Per clock hour of the claim's zone (:func:`greenlink.flows.hour_key`) the certificates may hold
at most ``kwh_to_wh(matched_kwh)`` Wh (:func:`greenlink.units.kwh_to_wh`): the rule by which
the registry issued them and the pack claimed them, so the check is exact in whole Wh.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from greenlink import flows
from greenlink.evidence.claims import (
    CERTIFICATE_COLUMNS,
    CERTIFICATES_FILE,
    CLAIM_FILE,
    HOUR,
    HOURS_FILE,
)
from greenlink.evidence.tables import fail
from greenlink.units import kwh_to_wh

#: Registry statuses of a certificate that was cancelled (claimed) for a beneficiary.
CLAIMED_STATUSES = ("Claimed", "Cancelled")


@dataclass(frozen=True)
class IdRange:
    """One certificate bundle's id range, and where it sits in its pack."""

    device_id: str
    start: int
    end: int
    file: str
    row: int

    def describe(self) -> str:
        return f"{self.device_id} [{self.start}, {self.end}]"


def _table(members: Mapping[str, bytes]) -> pd.DataFrame | None:
    if CERTIFICATES_FILE not in members:
        return None
    try:
        table = pd.read_csv(io.BytesIO(members[CERTIFICATES_FILE]), dtype=str,
                            keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise fail(CERTIFICATES_FILE, f"not a readable CSV table: {exc}") from exc
    for col in CERTIFICATE_COLUMNS:
        if col not in table.columns:
            raise fail(CERTIFICATES_FILE, "column missing", field=col)
    for col in ("bundle_id_range_start", "bundle_id_range_end", "quantity_wh"):
        num = pd.to_numeric(table[col], errors="coerce")
        bad = np.flatnonzero(num.isna().to_numpy() | (num.to_numpy() < 0))
        if len(bad):
            raise fail(CERTIFICATES_FILE, f"not a non-negative integer: "
                       f"{table[col].iloc[bad[0]]!r}", row=int(bad[0]) + 1, field=col)
        table[col] = num.astype("int64")
    return table


def certificate_ranges(members: Mapping[str, bytes]) -> list[IdRange]:
    """Id ranges of the certificates of a pack (empty when it holds none)."""
    table = _table(members)
    if table is None:
        return []
    return [IdRange(str(d), int(s), int(e), CERTIFICATES_FILE, i + 1)
            for i, (d, s, e) in enumerate(zip(table["device_id"], table["bundle_id_range_start"],
                                              table["bundle_id_range_end"], strict=True))]


def overlapping_ranges(mine: list[IdRange], other: list[IdRange]) -> IdRange | None:
    """First range of ``mine`` that overlaps a range of ``other`` on the same device."""
    by_device: dict[str, list[IdRange]] = {}
    for r in other:
        by_device.setdefault(r.device_id, []).append(r)
    for r in mine:
        for o in by_device.get(r.device_id, []):
            if r.start <= o.end and o.start <= r.end:
                return r
    return None


def check_certificates(members: Mapping[str, bytes], claim: Mapping[str, Any]) -> None:
    """Certificates agree with the claim: status, beneficiary, ranges, counts, Wh per hour.

    Rules: every row's status in :data:`CLAIMED_STATUSES` and ``beneficiary == claim user``;
    range length ``end − start + 1 == quantity_wh``; ranges of a device do not overlap inside
    the pack;
    ``claim.json`` ``certificates.count``/``total_wh`` match the table; per production hour
    the certificates' Wh do not exceed ``kwh_to_wh`` of the hour's matched energy in
    ``claim_hours.csv``.
    """
    table = _table(members)
    meta = claim.get("certificates")
    if table is None:
        if meta:
            raise fail(CERTIFICATES_FILE, "claim.json lists certificates but the file is missing")
        return
    if not isinstance(meta, Mapping):
        raise fail(CLAIM_FILE, "certificates present but not described", field="certificates")
    user = str(claim.get("user_id", ""))
    records = table.to_dict("records")
    for i, rec in enumerate(records, start=1):
        if rec["status"] not in CLAIMED_STATUSES:
            raise fail(CERTIFICATES_FILE, f"status {rec['status']!r}", row=i, field="status")
        if rec["beneficiary"] != user:
            raise fail(CERTIFICATES_FILE, f"beneficiary {rec['beneficiary']!r} is not the "
                       f"claim's user {user!r}", row=i, field="beneficiary")
        if int(rec["bundle_id_range_end"]) - int(rec["bundle_id_range_start"]) + 1 != int(
                rec["quantity_wh"]):
            raise fail(CERTIFICATES_FILE, "id range length ≠ quantity_wh", row=i,
                       field="quantity_wh")
    ranges = certificate_ranges(members)
    for i, r in enumerate(ranges):
        clash = overlapping_ranges([r], ranges[:i])
        if clash is not None:
            raise fail(CERTIFICATES_FILE, f"id range {r.describe()} listed twice", row=r.row,
                       field="bundle_id_range_start")
    if int(meta.get("count", -1)) != len(table):
        raise fail(CLAIM_FILE, f"says {meta.get('count')} certificates, the file has "
                   f"{len(table)}", field="certificates.count")
    if int(meta.get("total_wh", -1)) != int(table["quantity_wh"].sum()):
        raise fail(CLAIM_FILE, f"says {meta.get('total_wh')} Wh, the file sums to "
                   f"{int(table['quantity_wh'].sum())}", field="certificates.total_wh")
    hours = pd.read_csv(io.BytesIO(members[HOURS_FILE]))
    tz = str(claim["period"]["timezone"])
    matched_wh = pd.Series(kwh_to_wh(hours["matched_kwh"].to_numpy(dtype=float)),
                           index=pd.to_datetime(hours[HOUR], utc=True).dt.tz_convert(tz))
    try:
        starts = pd.to_datetime(table["production_start"], utc=True).dt.tz_convert(tz)
    except (ValueError, TypeError) as exc:
        raise fail(CERTIFICATES_FILE, f"production_start unreadable: {exc}",
                   field="production_start") from exc
    hour_of_row = pd.Series(flows.hour_key(pd.DatetimeIndex(starts), tz), index=table.index)
    per_hour = table["quantity_wh"].groupby(hour_of_row).sum()
    for hour, wh in per_hour.items():
        key = pd.Timestamp(str(hour))
        limit = int(matched_wh.get(key, 0))
        if wh > limit:
            row = int(np.flatnonzero((hour_of_row == key).to_numpy())[0]) + 1
            raise fail(CERTIFICATES_FILE, f"{int(wh)} Wh cancelled for hour {key}, more than "
                       f"the {limit} Wh hourly-matched", row=row, field="quantity_wh")
