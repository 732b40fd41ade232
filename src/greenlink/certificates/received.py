"""What an account received: the certificates transferred into it (or issued to it), by the
device and production period they came from — whatever happened to them afterwards.

A buyer statement reconciles with the certificates the seller *delivered* into the buyer's
account in a month. The bundles the account holds today do not answer that: the buyer may have
moved some on to another account, split them, or claimed them. The history does: every transfer
event names the bundle moved and the receiving account (``{"moved": id, "to": account, …}``).

:func:`received_ranges` returns, per device, the Wh id ranges of its certificates produced in
``[start, end)`` that the account received and kept, as disjoint ranges (Wh ids are numbered per
device): ids sent back to where they came from, or withdrawn since, are not a delivery; ids sent
on to a third party are (the buyer disposed of them); one received twice counts once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenlink.certificates.digests import canonical
from greenlink.certificates.models import BUNDLE_SPLIT, WITHDRAWN, Event
from greenlink.certificates.models import GranularCertificateBundle as Bundle

__all__ = ["merged", "received_ranges", "total_wh", "without"]

#: Event kinds whose payload moves a bundle into ``to`` (one bundle per event).
TRANSFER_KINDS = ("transfer",)


def merged(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Inclusive Wh id ranges merged into disjoint, sorted ranges (adjacent ones joined)."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def without(ranges: Iterable[tuple[int, int]], cut: tuple[int, int]) -> list[tuple[int, int]]:
    """Disjoint inclusive ``ranges`` with the ids of ``cut`` taken out."""
    c_lo, c_hi = cut
    out: list[tuple[int, int]] = []
    for lo, hi in ranges:
        if hi < c_lo or lo > c_hi:
            out.append((lo, hi))
            continue
        if lo < c_lo:
            out.append((lo, c_lo - 1))
        if hi > c_hi:
            out.append((c_hi + 1, hi))
    return out


def total_wh(ranges: Iterable[tuple[int, int]]) -> int:
    """Wh in disjoint inclusive ranges."""
    return sum(hi - lo + 1 for lo, hi in ranges)


def _in_period(b: Any, device_id: str | None, start: datetime, end: datetime) -> bool:
    if device_id is not None and b.device_id != device_id:
        return False
    if b.is_storage:
        return False
    hour = b.production_starting_interval
    if hour.tzinfo is None:  # SQLite returns naive UTC
        hour = hour.replace(tzinfo=UTC)
    return bool(start <= hour < end)


def _cut(segments: list[tuple[int, int, str]], lo: int, hi: int,
         origin: str | None) -> list[tuple[int, int, str]]:
    """``segments`` without the ids ``lo..hi`` (only those that came from ``origin``, or all of
    them when ``origin`` is None)."""
    out: list[tuple[int, int, str]] = []
    for s_lo, s_hi, sender in segments:
        if s_hi < lo or s_lo > hi or (origin is not None and sender != origin):
            out.append((s_lo, s_hi, sender))
            continue
        if s_lo < lo:
            out.append((s_lo, lo - 1, sender))
        if s_hi > hi:
            out.append((hi + 1, s_hi, sender))
    return out


def _transfers(session: Session, account_id: str) -> list[tuple[int, str, str, int]]:
    """(seq, sender, receiver, moved bundle id) of every transfer into or out of the account,
    in the order they happened."""
    out: list[tuple[int, str, str, int]] = []
    for key in ("to", "sender"):
        needle = canonical({key: account_id})[1:-1]  # '"to":"…"' as the payload spells it
        rows = session.execute(
            select(Event.seq, Event.payload).where(Event.kind.in_(TRANSFER_KINDS))
            .where(Event.payload.contains(needle, autoescape=True)))
        for seq, payload in rows:
            data = json.loads(payload)
            if data.get(key) == account_id and isinstance(data.get("moved"), int):
                out.append((int(seq), str(data.get("sender")), str(data.get("to")),
                            int(data["moved"])))
    return sorted(set(out))


def received_ranges(session: Session, account_id: str, *, device_id: str | None,
                    start: datetime, end: datetime) -> dict[str, list[tuple[int, int]]]:
    """Per device, disjoint Wh id ranges of ``device_id``'s certificates (every device when
    None) produced in ``[start, end)`` (aware datetimes) that the account received and kept.

    Replayed in event order: a transfer into the account adds the bundle's ids, noting where
    they came from; a transfer out of it takes away only the ids going back to the account they
    came from (a round trip is no delivery). Ids sent on to anyone else stay delivered (the
    buyer's to dispose of). Bundles the account holds or has claimed now are added (issued to it
    directly); ids now withdrawn are taken out (the issuing body cancelled them as wrong)."""
    events = _transfers(session, account_id)
    bundles: dict[int, Any] = {}
    ids = sorted({moved for *_, moved in events})
    for i in range(0, len(ids), 500):
        for b in session.scalars(select(Bundle).where(Bundle.id.in_(ids[i:i + 500]))):
            bundles[b.id] = b
    # per device: disjoint (lo, hi, sender) segments of ids received and still kept
    kept: dict[str, list[tuple[int, int, str]]] = {}
    for _seq, sender, receiver, moved in events:
        m = bundles.get(moved)
        if m is None or not _in_period(m, device_id, start, end):
            continue
        lo, hi = m.certificate_bundle_id_range_start, m.certificate_bundle_id_range_end
        segments = kept.get(m.device_id, [])
        if receiver == account_id:  # received: these ids now came from ``sender``
            segments = [*_cut(segments, lo, hi, None), (lo, hi, sender)]
        else:  # sent out: a delivery undone only for ids going back where they came from
            segments = _cut(segments, lo, hi, receiver)
        kept[m.device_id] = sorted(segments)
    ranges = {device: merged((lo, hi) for lo, hi, _s in segments)
              for device, segments in kept.items()}
    now = select(Bundle).where(Bundle.account_id == account_id).where(
        Bundle.certificate_bundle_status.not_in([BUNDLE_SPLIT, WITHDRAWN]))
    if device_id is not None:
        now = now.where(Bundle.device_id == device_id)
    for b in session.scalars(now):
        if _in_period(b, device_id, start, end):
            ranges[b.device_id] = merged([*ranges.get(b.device_id, []), (
                b.certificate_bundle_id_range_start, b.certificate_bundle_id_range_end)])
    gone = select(Bundle).where(Bundle.certificate_bundle_status == WITHDRAWN)
    if device_id is not None:
        gone = gone.where(Bundle.device_id == device_id)
    for b in session.scalars(gone):
        if b.device_id in ranges and _in_period(b, device_id, start, end):
            ranges[b.device_id] = without(ranges[b.device_id], (
                b.certificate_bundle_id_range_start, b.certificate_bundle_id_range_end))
    return {device: r for device, r in sorted(ranges.items()) if r}
