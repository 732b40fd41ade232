"""What an account received: the certificates transferred into it (or issued to it), by the
device and production period they came from — whatever happened to them afterwards.

A buyer statement reconciles with the certificates the seller *delivered* into the buyer's
account in a month. The bundles the account holds today do not answer that: the buyer may have
moved some on to another account, split them, or claimed them. The history does: every transfer
event names the bundle moved and the receiving account (``{"moved": id, "to": account, …}``).

:func:`received_ranges` returns, per device, the Wh id ranges of its certificates produced in
``[start, end)`` that entered the account by a transfer or are held or claimed there now, as a
union of disjoint ranges (Wh ids are numbered per device): a certificate received twice (sent on
and back) counts once.
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

__all__ = ["merged", "received_ranges", "total_wh"]

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


def received_ranges(session: Session, account_id: str, *, device_id: str | None,
                    start: datetime, end: datetime) -> dict[str, list[tuple[int, int]]]:
    """Per device, disjoint Wh id ranges of ``device_id``'s certificates (every device when
    None) produced in ``[start, end)`` (aware datetimes) that were transferred into
    ``account_id`` or are held or claimed there now (split parents and withdrawn bundles are
    left out of the holdings)."""
    moved: set[int] = set()
    needle = canonical({"to": account_id})[1:-1]  # '"to":"…"' as the payload spells it
    rows = session.execute(select(Event.payload).where(Event.kind.in_(TRANSFER_KINDS))
                           .where(Event.payload.contains(needle, autoescape=True)))
    for (payload,) in rows:
        data = json.loads(payload)
        if data.get("to") == account_id and isinstance(data.get("moved"), int):
            moved.add(int(data["moved"]))
    ranges: dict[str, list[tuple[int, int]]] = {}
    ids = sorted(moved)
    for i in range(0, len(ids), 500):
        for b in session.scalars(select(Bundle).where(Bundle.id.in_(ids[i:i + 500]))):
            if _in_period(b, device_id, start, end):
                ranges.setdefault(b.device_id, []).append(
                    (b.certificate_bundle_id_range_start, b.certificate_bundle_id_range_end))
    held = select(Bundle).where(Bundle.account_id == account_id).where(
        Bundle.certificate_bundle_status.not_in([BUNDLE_SPLIT, WITHDRAWN]))
    if device_id is not None:
        held = held.where(Bundle.device_id == device_id)
    for b in session.scalars(held):
        if _in_period(b, device_id, start, end):
            ranges.setdefault(b.device_id, []).append(
                (b.certificate_bundle_id_range_start, b.certificate_bundle_id_range_end))
    return {device: merged(r) for device, r in sorted(ranges.items())}
