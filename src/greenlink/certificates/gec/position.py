"""Which GEC serials back which claims: the fate of serials, pools and allocation
(pure functions over records and claims)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from itertools import pairwise
from typing import Any, Literal

from greenlink.certificates.gec.facts import (
    SOLD_AS_CERTIFICATE,
    GecError,
    SerialRange,
    month_start,
    record_range,
    valid_until,
    wh_per_gec,
)
from greenlink.certificates.models import (
    GEC_CANCELLED,
    GEC_EXPIRED,
    GEC_ISSUED,
    GEC_TRANSFERRED,
)

# ----------------------------------------------------------------------- records and claims


@dataclass(frozen=True)
class GecEntry:
    """A GEC record as the linking sees it (plain data: from the table or built in a test)."""

    device_id: str
    month: date
    serials: SerialRange
    status: str
    holder_account_id: str | None = None
    holder_external: str | None = None
    beneficiary_account_id: str | None = None
    beneficiary_external: str | None = None


def _entry(r: Mapping[str, Any]) -> GecEntry:
    """A GEC record (a row of ``gc_gec_record`` as a mapping) for the linking."""
    return GecEntry(r["device_id"], r["production_month"], record_range(r), r["status"],
                    r["holder_account_id"], r["holder_external"], r["beneficiary_account_id"],
                    r["beneficiary_external"])


@dataclass(frozen=True)
class Claim:
    """Wh claimed against a device-month: its bundle (or any key), beneficiary and purpose."""

    key: int | str
    beneficiary: str
    purpose: str
    wh: int


@dataclass(frozen=True)
class SerialSlice:
    """Serials behind part of a claim and the Wh they back; ``pool`` is where they come from
    (``held``, ``cancelled:<beneficiary>``, ``external:<party>``)."""

    serials: SerialRange
    wh: int
    pool: str

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.serials.first, "to": self.serials.last, "gec": self.serials.count,
                "wh": self.wh, "tradable": self.serials.tradable, "pool": self.pool}


@dataclass(frozen=True)
class ClaimBacking:
    """The GEC serials behind one claim; ``uncovered_wh`` Wh of it have none."""

    claim: Claim
    slices: tuple[SerialSlice, ...]
    uncovered_wh: int = 0

    @property
    def covered_wh(self) -> int:
        return sum(s.wh for s in self.slices)

    def serial_text(self) -> str:
        """``A–B, C`` (the ranges, in order)."""
        return ", ".join(str(s.serials) for s in self.slices)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (for an audit event or a statement)."""
        return {"key": self.claim.key, "beneficiary": self.claim.beneficiary,
                "purpose": self.claim.purpose, "wh": self.claim.wh,
                "uncovered_wh": self.uncovered_wh,
                "gec_serials": [s.as_dict() for s in self.slices]}


# ----------------------------------------------------------------------------- fate of serials

HELD = "held"
Fate = Literal["held", "cancelled_own", "external", "cancelled_external", "expired",
               "expired_held"]


@dataclass(frozen=True)
class Segment:
    """Issued serials with one fate; ``party``: the own beneficiary (``cancelled_own``), the
    external party (``external``, ``cancelled_external``) or the holding account (``held``)."""

    serials: SerialRange
    fate: Fate
    party: str | None


def _stage(status: str) -> int:
    return {GEC_ISSUED: 0, GEC_TRANSFERRED: 1, GEC_CANCELLED: 2, GEC_EXPIRED: 2}[status]


def serial_fates(entries: Iterable[GecEntry], *, as_of: date) -> list[Segment]:
    """Each issued serial of the entries with its fate on ``as_of`` (pure).

    The last record of a serial decides: an expiry or cancellation, else a transfer, else the
    issuance. Serials held by the park (holder a registry account) past their validity
    (:func:`valid_until`) are ``expired_held``.
    """
    by_series: dict[tuple[str, str], list[GecEntry]] = defaultdict(list)
    for e in entries:
        by_series[e.serials.series].append(e)
    out: list[Segment] = []
    for group in by_series.values():
        issued = sorted((e for e in group if e.status == GEC_ISSUED), key=lambda e: e.serials)
        later = [e for e in group if e.status != GEC_ISSUED]
        for iss in issued:
            lo, hi = iss.serials.start, iss.serials.end
            touching = [e for e in later if e.serials.start <= hi and e.serials.end >= lo]
            cuts = {lo, hi + 1}
            for e in touching:
                cuts.update(c for c in (e.serials.start, e.serials.end + 1) if lo < c <= hi)
            points = sorted(cuts)
            for a, b in pairwise(points):
                covering = [e for e in touching if e.serials.start <= a <= e.serials.end]
                final = next((e for e in covering if _stage(e.status) == 2), None)
                moved = next((e for e in covering if e.status == GEC_TRANSFERRED), None)
                part = iss.serials.sub(a, b - 1)
                out.append(_fate(part, final or moved or iss, iss.month, as_of))
    return out


def _fate(part: SerialRange, last: GecEntry, month: date, as_of: date) -> Segment:
    if last.status == GEC_EXPIRED:
        return Segment(part, "expired", None)
    if last.status == GEC_CANCELLED:
        if last.beneficiary_account_id is not None:
            return Segment(part, "cancelled_own", last.beneficiary_account_id)
        return Segment(part, "cancelled_external", last.beneficiary_external)
    if last.holder_account_id is not None:
        if as_of >= valid_until(month):
            return Segment(part, "expired_held", last.holder_account_id)
        return Segment(part, "held", last.holder_account_id)
    return Segment(part, "external", last.holder_external)


# ------------------------------------------------------------------------------- allocation


@dataclass(frozen=True)
class Pool:
    """Serials in allocation order and the Wh used from the front and from the back.

    ``nontradable_wh``: Wh of the leading non-tradable serials (the ``held`` pool puts them
    first); taking from the back never reaches into them.
    """

    name: str
    ranges: tuple[SerialRange, ...]
    front: int = 0
    back: int = 0

    @property
    def total_wh(self) -> int:
        return sum(r.count for r in self.ranges) * wh_per_gec()

    @property
    def nontradable_wh(self) -> int:
        n = 0
        for r in self.ranges:
            if r.tradable:
                break
            n += r.count
        return n * wh_per_gec()

    @property
    def free_wh(self) -> int:
        return max(0, self.total_wh - self.front - self.back)

    @property
    def free_tradable_wh(self) -> int:
        """Wh the back may still take (tradable serials only)."""
        return max(0, self.total_wh - self.back - max(self.front, self.nontradable_wh))

    def take_front(self, wh: int) -> tuple[Pool, list[SerialSlice]]:
        q = min(wh, self.free_wh)
        return replace(self, front=self.front + q), self._cut(self.front, self.front + q)

    def take_back(self, wh: int) -> tuple[Pool, list[SerialSlice]]:
        q = min(wh, self.free_tradable_wh)
        end = self.total_wh - self.back
        return replace(self, back=self.back + q), self._cut(end - q, end)

    def _cut(self, a: int, b: int) -> list[SerialSlice]:
        """The serials holding Wh positions ``[a, b)`` of the pool."""
        w = wh_per_gec()
        out: list[SerialSlice] = []
        offset = 0
        for r in self.ranges:
            lo, hi = offset, offset + r.count * w
            s, e = max(a, lo), min(b, hi)
            if s < e:
                out.append(SerialSlice(r.sub(r.start + (s - lo) // w, r.start + (e - 1 - lo) // w),
                                       e - s, self.name))
            offset = hi
        return out


def _sorted(ranges: Iterable[SerialRange]) -> tuple[SerialRange, ...]:
    return tuple(sorted(ranges, key=lambda r: (r.series, r.start)))


@dataclass(frozen=True)
class GecPosition:
    """The GECs of one device and production month, the claims against them and what is left.

    Counts in GEC (= MWh), energy in Wh. ``backings`` are the claims so far, in order, with
    their serials; ``held``, ``cancelled`` and ``external`` the pools after them.
    """

    device_id: str
    month: date
    as_of: date
    issued_gec: int
    held_gec: int
    held_tradable_gec: int
    cancelled_own_gec: int
    transferred_away_gec: int
    cancelled_elsewhere_gec: int
    expired_gec: int
    held: Pool
    cancelled: Mapping[str, Pool]
    external: Mapping[str, Pool]
    backings: tuple[ClaimBacking, ...] = ()

    @property
    def has_records(self) -> bool:
        """False while no GEC of the device-month is imported (claims wait: "GEC pending")."""
        return self.issued_gec > 0

    @property
    def retained_gec(self) -> int:
        """GECs kept by the park: held (valid) or cancelled for its own beneficiaries."""
        return self.held_gec + self.cancelled_own_gec

    @property
    def retained_wh(self) -> int:
        return self.retained_gec * wh_per_gec()

    @property
    def claimed_wh(self) -> int:
        return sum(b.claim.wh for b in self.backings)

    @property
    def uncovered_wh(self) -> int:
        """Wh claimed that no GEC backs (GECs sold or used elsewhere after the claim)."""
        return sum(b.uncovered_wh for b in self.backings)

    def headroom_wh(self, beneficiary: str | None = None, purpose: str | None = None) -> int:
        """Wh that may still be claimed.

        ``purpose="sold_as_certificate"``: tradable held serials (and, with ``beneficiary``,
        serials that buyer holds already). Otherwise for the park's own consumption: with
        ``beneficiary``, the held serials and those cancelled for it; without, the held serials
        and those cancelled for any park beneficiary (retained GEC Wh − Wh claimed against
        them).
        """
        if purpose == SOLD_AS_CERTIFICATE:
            own = self.external.get(beneficiary or "")
            return self.held.free_tradable_wh + (own.free_wh if own else 0)
        if beneficiary is None:
            return self.held.free_wh + sum(p.free_wh for p in self.cancelled.values())
        pool = self.cancelled.get(beneficiary)
        return self.held.free_wh + (pool.free_wh if pool else 0)

    def as_dict(self) -> dict[str, Any]:
        return {"device_id": self.device_id, "month": self.month.strftime("%Y-%m"),
                "as_of": self.as_of.isoformat(), "issued_gec": self.issued_gec,
                "held_gec": self.held_gec, "held_tradable_gec": self.held_tradable_gec,
                "cancelled_own_gec": self.cancelled_own_gec,
                "transferred_away_gec": self.transferred_away_gec,
                "cancelled_elsewhere_gec": self.cancelled_elsewhere_gec,
                "expired_gec": self.expired_gec, "retained_wh": self.retained_wh,
                "claimed_wh": self.claimed_wh, "uncovered_wh": self.uncovered_wh,
                "headroom_wh": self.headroom_wh()}


def device_month_position(entries: Iterable[GecEntry], claims: Sequence[Claim], *,
                          device_id: str, month: date | str, as_of: date) -> GecPosition:
    """Position of one device-month from its GEC records and its claims in order (pure).

    Entries of other device-months are ignored. Claims are allocated by the rules of the module
    (:func:`assign_serials` for each, in order); a claim the pools cannot cover keeps its
    uncovered Wh in ``ClaimBacking.uncovered_wh``.
    """
    first = month_start(month)
    mine = [e for e in entries if e.device_id == device_id and month_start(e.month) == first]
    segments = serial_fates(mine, as_of=as_of)
    sums: dict[str, int] = defaultdict(int)
    for s in segments:
        sums[s.fate] += s.serials.count
    held = [s.serials for s in segments if s.fate == "held"]
    cancelled: dict[str, list[SerialRange]] = defaultdict(list)
    external: dict[str, list[SerialRange]] = defaultdict(list)
    for s in segments:
        if s.fate == "cancelled_own" and s.party is not None:
            cancelled[s.party].append(s.serials)
        elif s.fate in ("external", "cancelled_external") and s.party is not None \
                and s.serials.tradable:
            external[s.party].append(s.serials)
    position = GecPosition(
        device_id=device_id, month=first, as_of=as_of,
        issued_gec=sum(s.serials.count for s in segments),
        held_gec=sums["held"], held_tradable_gec=sum(r.count for r in held if r.tradable),
        cancelled_own_gec=sums["cancelled_own"], transferred_away_gec=sums["external"],
        cancelled_elsewhere_gec=sums["cancelled_external"],
        expired_gec=sums["expired"] + sums["expired_held"],
        held=Pool(HELD, _sorted(r for r in held if not r.tradable)
                  + _sorted(r for r in held if r.tradable)),
        cancelled={b: Pool(f"cancelled:{b}", _sorted(rs)) for b, rs in cancelled.items()},
        external={p: Pool(f"external:{p}", _sorted(rs)) for p, rs in external.items()})
    pools = _Pools(position.held, dict(position.cancelled), dict(position.external))
    backings = [pools.take(c) for c in claims]
    return replace(position, held=pools.held, cancelled=pools.cancelled,
                   external=pools.external, backings=tuple(backings))


@dataclass
class _Pools:
    """The pools of a position while claims are allocated in order."""

    held: Pool
    cancelled: dict[str, Pool]
    external: dict[str, Pool]

    def take(self, claim: Claim) -> ClaimBacking:
        slices: list[SerialSlice] = []
        need = claim.wh
        cancelled, external = self.cancelled, self.external
        if claim.purpose == SOLD_AS_CERTIFICATE:
            if claim.beneficiary in external:
                external[claim.beneficiary], got = external[claim.beneficiary].take_front(need)
                slices += got
                need -= sum(s.wh for s in got)
            self.held, got = self.held.take_back(need)
        else:
            if claim.beneficiary in cancelled:
                cancelled[claim.beneficiary], got = cancelled[claim.beneficiary].take_front(need)
                slices += got
                need -= sum(s.wh for s in got)
            self.held, got = self.held.take_front(need)
        slices += got
        need -= sum(s.wh for s in got)
        return ClaimBacking(claim, tuple(slices), need)


def _allocate(position: GecPosition, claim: Claim) -> tuple[GecPosition, ClaimBacking]:
    pools = _Pools(position.held, dict(position.cancelled), dict(position.external))
    backing = pools.take(claim)
    return replace(position, held=pools.held, cancelled=pools.cancelled,
                   external=pools.external, backings=(*position.backings, backing)), backing


def assign_serials(position: GecPosition, wh: int, *, beneficiary: str, purpose: str,
                   key: int | str = "new") -> ClaimBacking:
    """The GEC serials that back a new claim of ``wh`` Wh after the position's claims (pure;
    :func:`claim_next` also returns the position after the claim).

    Rule (module docstring): a consumption claim for ``B`` takes serials cancelled for ``B``,
    then held serials from the front (non-tradable first); ``sold_as_certificate`` takes the
    buyer's serials, then tradable held serials from the back; the n-th Wh of a pool lies in
    its ⌈n / 10⁶⌉-th serial (a partial MWh uses that serial).

    Raises
    ------
    GecError
        No GEC records for the device-month yet, or the retained GECs do not cover ``wh``
        (for a sale: not enough tradable ones); the message says which and how much is left.
    """
    return claim_next(position, wh, beneficiary=beneficiary, purpose=purpose, key=key)[1]


def claim_next(position: GecPosition, wh: int, *, beneficiary: str, purpose: str,
               key: int | str = "new") -> tuple[GecPosition, ClaimBacking]:
    """:func:`assign_serials` and the position with the claim added: claim many bundles of a
    device-month in one transaction from one :func:`gec_position` (pure; raises the same)."""
    if wh <= 0:
        raise GecError(f"a claim needs a positive number of Wh (got {wh})")
    where = f"device {position.device_id}, month {position.month:%Y-%m}"
    if not position.has_records:
        raise GecError(f"{where}: no GEC records imported yet (GEC pending); claims wait until "
                       "the month's GECs are imported (greenlink registry gec import)")
    after, backing = _allocate(position, Claim(key, beneficiary, purpose, wh))
    if backing.uncovered_wh:
        left = position.headroom_wh(beneficiary, purpose)
        if purpose == SOLD_AS_CERTIFICATE:
            held_nt = position.held_gec - position.held_tradable_gec
            why = (f"only {left:,} Wh of tradable GECs are left for a sale"
                   + (f"; {held_nt} GEC held are non-tradable (self-consumed electricity): they "
                      "back the park's own consumption, never sold_as_certificate"
                      if held_nt else ""))
        else:
            why = (f"the GECs retained by the park back {left:,} Wh more for {beneficiary} "
                   f"({position.retained_gec} GEC retained of {position.issued_gec} issued; "
                   f"{position.transferred_away_gec} transferred away, "
                   f"{position.cancelled_elsewhere_gec} cancelled for others, "
                   f"{position.expired_gec} expired)")
        raise GecError(f"{where}: cannot claim {wh:,} Wh ({purpose}): {why}")
    return after, backing
