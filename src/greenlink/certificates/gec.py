"""China's green electricity certificates (GEC, 绿证) linked to the registry's hourly bundles.

In China the GEC is the sole proof of the environmental attributes of renewable electricity
(``data/gec/facts.toml``): 1 GEC = 1 MWh, issued monthly per project for the previous month,
valid 2 years, tradable or non-tradable (self-generated, self-consumed electricity gets
non-tradable GECs). The park's hourly certificates can therefore only be claimed for energy
whose GECs the park kept: this module imports the park's GEC records from the national
platform and says, for each device and production month, how many Wh may still be claimed,
for whom, and which GEC serials back each claim.

Records (table ``gc_gec_record``)
---------------------------------
One record per row of a platform export, on a range of serials of one device and production
month: ``issued`` to a holder, ``transferred`` to a holder, ``cancelled`` (used, 核销) for a
beneficiary, or ``expired``. Holders and beneficiaries are the park's own when they map to a
registry account, external otherwise. The fate of a serial is its last record:
expired/cancelled, else transferred, else issued.

Import (:func:`import_gec_file`, ``greenlink registry gec import``): a CSV (UTF-8, UTF-8 with
BOM or GBK) whose columns a mapping file names (:class:`GecMapping`). All or nothing: every bad
row is refused naming file, row and column, and nothing is stored on any error. Re-importing a
file changes nothing (file hash + row), and a record already known from another export (same
content) is skipped. Refused: serials issued twice, transferred twice, cancelled or expired
twice (overlapping ranges), a transfer, cancellation or expiry of serials not issued to that
device and month, a tradable flag that contradicts the issuance.

Linking rules
-------------
* **Retained** serials back claims: held by a park account (and within validity: 2 years from
  the production month), or cancelled for a park beneficiary. Serials transferred to an external
  holder, cancelled for an external beneficiary or expired back no claim of the park.
* **Pools.** Serials cancelled for park beneficiary ``B`` back only claims for ``B`` (pool
  ``cancelled:B``); serials held by the park back any park claim (pool ``held``); serials
  transferred or cancelled to external party ``E`` back only ``sold_as_certificate`` claims
  whose beneficiary is ``E`` (pool ``external:E``, the buyer already holds them).
* **Serial order.** Within a device-month, claims are taken in the order they were made.
  A consumption claim for ``B`` (any purpose but ``sold_as_certificate``; a storage charge too)
  uses ``cancelled:B`` serials in serial order, then the ``held`` serials from the front,
  non-tradable first, then tradable. A ``sold_as_certificate`` claim for ``E`` uses
  ``external:E`` tradable serials in order, then **tradable** ``held`` serials from the back.
  The n-th Wh taken from a pool lies in its ⌈n / 10⁶⌉-th serial: a partial MWh uses that serial,
  and the next claim continues in it.
* **Non-tradable** GECs back claims for the park's own consumption, never
  ``sold_as_certificate``.
* **No records yet** for a device-month: nothing may be claimed (headroom 0) until its GECs are
  imported. GECs are issued monthly after the fact, so claims wait for them; a claim made before
  would rest on no proof, and GECs sold on the platform meanwhile would be counted twice.
* Wh of the device-month's hourly bundles count against its GECs when claimed (status Claimed)
  or cancelled into storage (the attribute moves into the storage device; storage-discharge
  bundles are not checked again). The month is a calendar month of China Standard Time.
* Energy below 1 MWh in a month is carried by the platform into the next month's issuance;
  greenlink links a month's bundles to that month's GECs only, so up to 1 MWh per device and
  month stays unclaimable (conservative).

The claim path calls :func:`gec_backing` (inside its write transaction, before the bundle is
marked claimed): it refuses a claim the GECs do not cover and returns the serials behind it.
:func:`gec_headroom_wh` and :func:`gec_position` answer how much remains and why. The pure
functions (:func:`device_month_position`, :func:`assign_serials`, :func:`parse_gec_csv`) work on
plain records and claims.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Connection, Engine, insert, select, text
from sqlalchemy.orm import Session

from greenlink.certificates.models import (
    CANCELLED,
    CLAIMED,
    GEC_CANCELLED,
    GEC_EXPIRED,
    GEC_ISSUED,
    GEC_STATUSES,
    GEC_TRANSFERRED,
    Account,
    Device,
    GecRecord,
    GranularCertificateBundle,
)
from greenlink.certificates.purposes import STORAGE_CHARGE
from greenlink.database import session_factory
from greenlink.errors import GreenlinkError, InputError, Problem
from greenlink.tomlfile import load_toml

SOLD_AS_CERTIFICATE = "sold_as_certificate"
GecStatus = Literal["issued", "transferred", "cancelled", "expired"]


class GecError(GreenlinkError):
    """A claim the device-month's GECs do not back (none imported, used up, non-tradable…)."""


# ------------------------------------------------------------------------------------- facts


class _Fact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    date: str
    confidence: Literal["HIGH", "MED", "LOW", "ASSUMPTION"]


class _Unit(_Fact):
    mwh_per_certificate: int = Field(gt=0)


class _Issuance(_Fact):
    frequency: str
    basis: str


class _Remainder(_Fact):
    carried_to_next_month: bool


class _Validity(_Fact):
    years: int = Field(gt=0)
    expiry: str
    counted_from: Literal["production_month"]


class _SoleProof(_Fact):
    statement: str


class _ProductionMonth(_Fact):
    timezone: str


class _SerialCode(_Fact):
    digits: int
    layout: str


class TradabilityRule(_Fact):
    """Whether electricity of a category gets tradable GECs (``issued = false``: none)."""

    category: str
    description: str
    tradable: bool | None = None
    issued: bool = True


class GecFacts(BaseModel):
    """``data/gec/facts.toml``: the GEC facts the linking uses, each with its source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: _Unit
    issuance: _Issuance
    remainder: _Remainder
    validity: _Validity
    sole_proof: _SoleProof
    production_month: _ProductionMonth
    serial_code: _SerialCode
    tradability: list[TradabilityRule]


def data_dir() -> Path:
    """``greenlink/data/gec``: facts, sources and the example mapping."""
    return Path(str(resources.files("greenlink") / "data" / "gec"))


@cache
def gec_facts() -> GecFacts:
    """The shipped GEC facts (``data/gec/facts.toml``)."""
    return load_toml(data_dir() / "facts.toml", GecFacts, kind="GEC facts file",
                     expected="data/gec/facts.toml as shipped with greenlink")


def wh_per_gec() -> int:
    """Wh of one GEC (1 MWh = 1,000,000 Wh)."""
    return gec_facts().unit.mwh_per_certificate * 1_000_000


def gec_timezone() -> str:
    """The time zone whose calendar months are GEC production months (Asia/Shanghai)."""
    return gec_facts().production_month.timezone


# ---------------------------------------------------------------------------- months, serials


def month_start(month: date | str) -> date:
    """First day of a month given as a date (any day of it) or ``YYYY-MM``."""
    if isinstance(month, date):
        return date(month.year, month.month, 1)
    m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", month)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InputError(Problem(f"month {month!r} is not a month", expected="YYYY-MM"))
    return date(int(m.group(1)), int(m.group(2)), 1)


def add_months(month: date, n: int) -> date:
    k = month.year * 12 + month.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


def month_of(instant: datetime, timezone: str | None = None) -> date:
    """The GEC production month of an instant (a bundle's hour start; naive = UTC)."""
    ts = pd.Timestamp(instant)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
    local = ts.tz_convert(timezone or gec_timezone())
    return date(local.year, local.month, 1)


def month_bounds_utc(month: date | str, timezone: str | None = None
                     ) -> tuple[datetime, datetime]:
    """UTC instants ``[start, end)`` of a calendar month of ``timezone``."""
    first = month_start(month)
    zone = ZoneInfo(timezone or gec_timezone())
    nxt = add_months(first, 1)
    start = datetime(first.year, first.month, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(nxt.year, nxt.month, 1, tzinfo=zone).astimezone(UTC)
    return start, end


def valid_until(month: date) -> date:
    """First day on which a GEC of production ``month`` is no longer valid (2 years later)."""
    return add_months(month_start(month), 12 * gec_facts().validity.years)


@dataclass(frozen=True, order=True)
class SerialRange:
    """GEC serials ``prefix + number + suffix`` for ``number`` in ``start … end``; ``digits``
    is the zero-padded width of the number (0: not padded)."""

    prefix: str
    suffix: str
    start: int
    end: int
    digits: int = 0
    tradable: bool = True

    @property
    def series(self) -> tuple[str, str]:
        """Serials of one series compare by number (padding ignored)."""
        return (self.prefix, self.suffix)

    @property
    def count(self) -> int:
        return self.end - self.start + 1

    def serial(self, number: int) -> str:
        return f"{self.prefix}{number:0{self.digits}d}{self.suffix}" if self.digits else \
            f"{self.prefix}{number}{self.suffix}"

    @property
    def first(self) -> str:
        return self.serial(self.start)

    @property
    def last(self) -> str:
        return self.serial(self.end)

    def sub(self, start: int, end: int) -> SerialRange:
        return replace(self, start=start, end=end)

    def overlaps(self, other: SerialRange) -> bool:
        return self.series == other.series and self.start <= other.end \
            and other.start <= self.end

    def __str__(self) -> str:
        return self.first if self.start == self.end else f"{self.first}–{self.last}"


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
    return GecEntry(r["device_id"], r["production_month"], _record_range(r), r["status"],
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


# ---------------------------------------------------------------------------- database layer

Db = Session | Connection


def _dialect(db: Db) -> str:
    bind = db.get_bind() if isinstance(db, Session) else db
    return bind.dialect.name


def lock_for_claims(db: Db) -> None:
    """Hold GEC records still until the transaction ends (PostgreSQL ``SHARE`` lock: claims may
    run together, an import waits). SQLite transactions are serialised already."""
    if _dialect(db) == "postgresql":
        db.execute(text(f"LOCK TABLE {GecRecord.__tablename__} IN SHARE MODE"))


def gec_entries(db: Db, device_id: str, month: date | str) -> list[GecEntry]:
    """GEC records of one device-month."""
    rows = db.execute(select(GecRecord.__table__).where(
        GecRecord.device_id == device_id,
        GecRecord.production_month == month_start(month))).mappings().all()
    return [_entry(dict(r)) for r in rows]


def device_month_claims(db: Db, device_id: str, month: date | str, *,
                        timezone: str | None = None,
                        exclude_bundle_ids: Collection[int] = ()) -> list[Claim]:
    """Claims against a device-month, in the order they were made: its bundles Claimed or
    cancelled into storage whose hour starts in the month (by the event that claimed them)."""
    start, end = month_bounds_utc(month, timezone)
    b = GranularCertificateBundle
    rows = db.execute(select(b.id, b.beneficiary, b.claim_purpose, b.bundle_quantity).where(
        b.device_id == device_id, b.is_storage.is_(False),
        b.production_starting_interval >= start, b.production_starting_interval < end,
        (b.certificate_bundle_status == CLAIMED)
        | ((b.certificate_bundle_status == CANCELLED) & (b.claim_purpose == STORAGE_CHARGE)))
        .order_by(b.last_event_seq, b.id)).all()
    return [Claim(int(i), who or "", purpose or "", int(q)) for i, who, purpose, q in rows
            if int(i) not in exclude_bundle_ids]


def _today() -> date:
    return datetime.now(ZoneInfo(gec_timezone())).date()


def gec_position(db: Db, device_id: str, month: date | str, *, as_of: date | None = None,
                 timezone: str | None = None,
                 exclude_bundle_ids: Collection[int] = ()) -> GecPosition:
    """:func:`device_month_position` of a device-month from the database (``as_of``: today in
    China by default; ``timezone``: of the production months, China Standard Time)."""
    return device_month_position(
        gec_entries(db, device_id, month),
        device_month_claims(db, device_id, month, timezone=timezone,
                            exclude_bundle_ids=exclude_bundle_ids),
        device_id=device_id, month=month, as_of=as_of or _today())


def gec_headroom_wh(db: Db, device_id: str, month: date | str, *,
                    beneficiary: str | None = None, purpose: str | None = None,
                    as_of: date | None = None, timezone: str | None = None) -> int:
    """Wh of the device-month's bundles that may still be claimed here (0 while no GEC record
    of the month is imported): GEC Wh retained by the park (held, or cancelled for its own
    beneficiaries) minus Wh claimed against them; see :meth:`GecPosition.headroom_wh` for
    ``beneficiary`` and ``purpose``."""
    return gec_position(db, device_id, month, as_of=as_of,
                        timezone=timezone).headroom_wh(beneficiary, purpose)


def gec_backing(db: Db, device_id: str, hour_start: datetime, wh: int, *, beneficiary: str,
                purpose: str, as_of: date | None = None, timezone: str | None = None,
                exclude_bundle_ids: Collection[int] = ()) -> ClaimBacking:
    """The GEC serials behind a new claim of ``wh`` Wh of ``device_id``'s hour from
    ``hour_start``; raises :class:`GecError` when the device-month's GECs do not back it.

    Call it in the claim's write transaction, before the bundle is marked claimed (or name it
    in ``exclude_bundle_ids``); it takes :func:`lock_for_claims`. Not for storage-discharge
    bundles: their Wh were counted against the generator's GECs when charged.
    """
    lock_for_claims(db)
    month = month_of(hour_start, timezone)
    position = gec_position(db, device_id, month, as_of=as_of, timezone=timezone,
                            exclude_bundle_ids=exclude_bundle_ids)
    return assign_serials(position, wh, beneficiary=beneficiary, purpose=purpose)


def claim_backings(db: Db, device_id: str, month: date | str, *, as_of: date | None = None,
                   timezone: str | None = None) -> dict[int | str, ClaimBacking]:
    """The serials behind each claim of a device-month so far (by bundle id), by the rule."""
    position = gec_position(db, device_id, month, as_of=as_of, timezone=timezone)
    return {b.claim.key: b for b in position.backings}


# ---------------------------------------------------------------------------------- mapping

FieldName = Literal["device", "production_month", "serial_start", "serial_end", "count",
                    "status", "tradable", "holder", "beneficiary"]
Headers = str | list[str]


class _CsvOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    encoding: Literal["auto", "utf-8", "gbk", "gb18030"] = "auto"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    skip_rows: int = Field(default=0, ge=0)


class _Columns(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    device: Headers
    production_month: Headers
    serial_start: Headers
    serial_end: Headers | None = None
    count: Headers | None = None
    status: Headers | None = None
    tradable: Headers | None = None
    holder: Headers | None = None
    beneficiary: Headers | None = None


class _Values(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: dict[str, GecStatus] = {}
    tradable: dict[str, bool] = {}


class _Serial(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str = r"^(?P<prefix>.*?)(?P<number>\d+)$"

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            rx = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        if "number" not in rx.groupindex:
            raise ValueError("the pattern needs a group (?P<number>\\d+): the serial's "
                             "running number")
        unknown = set(rx.groupindex) - {"prefix", "number", "suffix"}
        if unknown:
            raise ValueError(f"unknown groups {sorted(unknown)} (use prefix, number, suffix)")
        return value


class _Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: GecStatus | None = None
    tradable: bool | None = None


class GecMapping(BaseModel):
    """A mapping file (TOML): how the columns and values of a GEC export map to greenlink's
    fields. See docs/registry.md and ``data/gec/example-mapping.toml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    csv: _CsvOptions = _CsvOptions()
    columns: _Columns
    values: _Values = _Values()
    serial: _Serial = _Serial()
    devices: dict[str, str] = {}
    accounts: dict[str, str] = {}
    external: dict[str, str] = {}
    defaults: _Defaults = _Defaults()

    @model_validator(mode="after")
    def _status_and_tradable_known(self) -> GecMapping:
        if self.columns.status is None and self.defaults.status is None:
            raise ValueError("give columns.status or defaults.status (every record needs a "
                             "status)")
        return self


def load_mapping(path: str | Path) -> GecMapping:
    """Read a mapping file (problems name file, line and key)."""
    return load_toml(path, GecMapping, kind="GEC mapping file",
                     expected="a GEC mapping file (TOML, see docs/registry.md)")


# ------------------------------------------------------------------------------- CSV parsing


def _norm(text: str) -> str:
    """Compare headers and values: NFKC (full-width → ASCII), trimmed, case-folded."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


@dataclass(frozen=True)
class ParsedRow:
    """One data row of an export, parsed (no database needed)."""

    row: int
    device: str
    month: date
    serials: SerialRange
    status: str
    tradable: bool | None  # None: take it from the issuance (non-issued rows only)
    holder: str | None
    beneficiary: str | None


@dataclass(frozen=True)
class ParsedFile:
    name: str
    sha256: str
    headers: Mapping[str, str]  # field → the file's header
    rows: tuple[ParsedRow, ...]
    problems: tuple[Problem, ...] = ()

    def where(self, row: int, fld: str) -> str:
        return f"row {row}, column {self.headers.get(fld, fld)}"


def _decode(content: bytes, encoding: str, name: str) -> str:
    if encoding in ("auto", "utf-8"):
        try:
            return content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if encoding == "utf-8":
                line = content[:exc.start].count(b"\n") + 1
                raise InputError(Problem(f"not UTF-8 text (byte {exc.start + 1} cannot be read)",
                                         file=name, location=f"row {line}",
                                         expected="a CSV saved as UTF-8, or encoding = \"gbk\" "
                                                  "in the mapping's [csv]")) from None
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError as exc:
        line = content[:exc.start].count(b"\n") + 1
        raise InputError(Problem(f"neither UTF-8 nor GBK text (byte {exc.start + 1} cannot be "
                                 "read)", file=name, location=f"row {line}",
                                 expected="a CSV saved as UTF-8, UTF-8 with BOM or GBK")) from None


_MONTH_PATTERNS = (re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?"),
                   re.compile(r"(\d{4})(\d{2})"))
_SCIENTIFIC = re.compile(r"^[0-9.]+[eE][+-]?\d+$")


def _parse_month(cell: str) -> date | None:
    text_ = unicodedata.normalize("NFKC", cell).strip()
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?", text_)
    if m:
        y, mo, d = (int(g) for g in m.groups())
        try:
            date(y, mo, d)
        except ValueError:
            return None
        return date(y, mo, 1)
    for rx in _MONTH_PATTERNS:
        m = rx.fullmatch(text_)
        if m and 1 <= int(m.group(2)) <= 12:
            return date(int(m.group(1)), int(m.group(2)), 1)
    return None


def _clean_serial(cell: str) -> str:
    s = unicodedata.normalize("NFKC", cell).strip()
    if s.startswith('="') and s.endswith('"'):  # Excel's text guard
        s = s[2:-1]
    return s.lstrip("'\t").strip()


def _split_serial(cell: str, rx: re.Pattern[str]) -> tuple[str, str, str] | str:
    """``(prefix, number text, suffix)``, or the reason it cannot be read."""
    s = _clean_serial(cell)
    if not s:
        return "empty"
    if _SCIENTIFIC.match(s):
        return (f"{s!r} is a number in scientific notation (a spreadsheet rounded the serial); "
                "export the serials as text")
    m = rx.fullmatch(s)
    if not m:
        return f"{s!r} does not match the serial pattern {rx.pattern!r}"
    return (m.groupdict().get("prefix") or "", m.group("number"),
            m.groupdict().get("suffix") or "")


def _parse_int(cell: str) -> int | None:
    s = unicodedata.normalize("NFKC", cell).strip().replace(",", "").replace(" ", "")
    if re.fullmatch(r"\d+", s):
        return int(s)
    if re.fullmatch(r"\d+\.0*", s):
        return int(s.split(".")[0])
    return None


_STATUS_WORDS = {s: s for s in GEC_STATUSES}
_BOOL_WORDS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}
MAX_PROBLEMS = 50


def parse_gec_csv(content: bytes, mapping: GecMapping, *, name: str) -> ParsedFile:
    """Parse an export with a mapping (pure). Rows are numbered as a spreadsheet shows them
    (the first line of the file is row 1); blank rows are skipped.

    Returns the rows and every problem found (row and column named); callers refuse the file
    when there is any (:func:`import_gec_file`).
    """
    sha = hashlib.sha256(content).hexdigest()
    text_ = _decode(content, mapping.csv.encoding, name)
    records = list(csv.reader(io.StringIO(text_, newline=""), delimiter=mapping.csv.delimiter))
    header_row = mapping.csv.skip_rows + 1
    if len(records) < header_row:
        raise InputError(Problem("the file has no header row", file=name,
                                 location=f"row {header_row}",
                                 expected="a header row naming the columns of the mapping"))
    header = [_norm(h) for h in records[header_row - 1]]
    columns: dict[str, int] = {}
    headers: dict[str, str] = {}
    problems: list[Problem] = []
    for fld, names in mapping.columns.model_dump().items():
        if names is None:
            continue
        wanted = [names] if isinstance(names, str) else list(names)
        hits = [i for i, h in enumerate(header) if h in {_norm(n) for n in wanted}]
        if len(hits) > 1:
            problems.append(Problem(f"{len(hits)} columns match {fld}", file=name,
                                    location=f"row {header_row}",
                                    expected=f"one column named {' or '.join(wanted)}"))
        elif not hits:
            problems.append(Problem(f"no column for {fld}", file=name,
                                    location=f"row {header_row}",
                                    expected=f"a column named {' or '.join(wanted)} "
                                             f"(mapping [columns].{fld})"))
        else:
            columns[fld] = hits[0]
            headers[fld] = records[header_row - 1][hits[0]].strip().lstrip("\ufeff")
    if problems:
        raise InputError(problems)
    status_values = {_norm(k): v for k, v in mapping.values.status.items()}
    tradable_values = {_norm(k): v for k, v in mapping.values.tradable.items()}
    rx = re.compile(mapping.serial.pattern)
    to_device = {_norm(k): v for k, v in mapping.devices.items()}
    rows: list[ParsedRow] = []
    for number, record in enumerate(records[header_row:], start=header_row + 1):
        if not any(c.strip() for c in record):
            continue
        bad: list[Problem] = []

        def cell(fld: str, record: list[str] = record) -> str:
            i = columns.get(fld)
            return record[i].strip() if i is not None and i < len(record) else ""

        def problem(fld: str, message: str, expected: str | None = None,
                    number: int = number, bad: list[Problem] = bad) -> None:
            bad.append(Problem(message, file=name,
                               location=f"row {number}, column {headers.get(fld, fld)}",
                               expected=expected))

        device = cell("device")
        if not device:
            problem("device", "no device", "the device's code or name")
        month = _parse_month(cell("production_month"))
        if month is None:
            problem("production_month", f"{cell('production_month')!r} is not a month",
                    "a month such as 2025-06, 2025/06, 202506 or 2025年6月")
        start = _split_serial(cell("serial_start"), rx)
        end_cell = cell("serial_end")
        end = _split_serial(end_cell, rx) if end_cell else start
        serials: SerialRange | None = None
        if isinstance(start, str):
            problem("serial_start", f"serial {start}", "a GEC serial")
        elif isinstance(end, str):
            problem("serial_end", f"serial {end}", "a GEC serial")
        elif (start[0], start[2]) != (end[0], end[2]):
            problem("serial_end", f"serials {''.join(start)} and {''.join(end)} are not of one "
                    "series", "serials that differ only in their running number")
        else:
            lo, hi = int(start[1]), int(end[1])
            padded = start[1].startswith("0") or end[1].startswith("0")
            if padded and len(start[1]) != len(end[1]):
                problem("serial_end", f"serial numbers {start[1]} and {end[1]} differ in width",
                        "serials of one width")
            elif hi < lo:
                problem("serial_end", f"serial {''.join(end)} comes before "
                        f"{''.join(start)}", "the last serial of the range")
            else:
                digits = len(start[1]) if len(start[1]) == len(end[1]) else 0
                serials = SerialRange(start[0], start[2], lo, hi, digits)
        if cell("count"):
            count = _parse_int(cell("count"))
            if count is None or count <= 0:
                problem("count", f"{cell('count')!r} is not a whole positive number of GECs",
                        "a whole number of certificates (1 GEC = 1 MWh)")
            elif serials is not None and count != serials.count:
                problem("count", f"{count} GECs, but the serials {serials} are "
                        f"{serials.count}", "the number of serials from first to last")
        status: str | None = mapping.defaults.status
        if cell("status"):
            status = status_values.get(_norm(cell("status"))) \
                or _STATUS_WORDS.get(_norm(cell("status")))
            if status is None:
                known = sorted(set(mapping.values.status) | set(GEC_STATUSES))
                problem("status", f"unknown status {cell('status')!r}",
                        f"one of {', '.join(known)} (mapping [values.status])")
        elif status is None:
            problem("status", "no status", "a status (or defaults.status in the mapping)")
        tradable: bool | None = mapping.defaults.tradable
        if cell("tradable"):
            word = _norm(cell("tradable"))
            tradable = tradable_values[word] if word in tradable_values \
                else _BOOL_WORDS.get(word)
            if tradable is None:
                known = sorted(set(mapping.values.tradable) | {"true", "false"})
                problem("tradable", f"unknown GEC type {cell('tradable')!r}",
                        f"one of {', '.join(known)} (mapping [values.tradable])")
        elif tradable is None and status == GEC_ISSUED:
            problem("tradable", "an issuance that does not say whether its GECs are tradable",
                    "a tradable column ([values.tradable]) or defaults.tradable")
        holder = cell("holder") or None
        beneficiary = cell("beneficiary") or None
        if status == GEC_TRANSFERRED and holder is None:
            problem("holder", "a transfer without the holder it went to",
                    "the receiving holder")
        if status == GEC_CANCELLED and beneficiary is None:
            problem("beneficiary", "a cancellation without its beneficiary",
                    "the beneficiary the GECs were used for")
        if bad:
            problems.extend(bad)
            continue
        assert serials is not None and month is not None and status is not None
        rows.append(ParsedRow(number, to_device.get(_norm(device), device), month,
                              replace(serials, tradable=bool(tradable)), status, tradable,
                              holder, beneficiary))
    if not rows and not problems:
        problems.append(Problem("no GEC records in the file", file=name,
                                location=f"row {header_row + 1}",
                                expected="rows below the header"))
    return ParsedFile(name, sha, headers, tuple(rows), tuple(problems))


def _refuse(problems: list[Problem]) -> None:
    if len(problems) > MAX_PROBLEMS:
        extra = len(problems) - MAX_PROBLEMS
        problems = [*problems[:MAX_PROBLEMS], Problem(f"… and {extra} more problems")]
    raise InputError(problems)


# ----------------------------------------------------------------------------------- import


@dataclass
class ImportResult:
    """What one import did."""

    file: str
    sha256: str
    rows: int
    imported: int = 0
    already_imported: int = 0  # rows of this file stored before
    known: int = 0  # same record from another export
    gec_by_status: dict[str, int] = field(default_factory=dict)
    own_parties: list[str] = field(default_factory=list)
    external_parties: list[str] = field(default_factory=list)
    #: sha256 over the row hashes of the records stored, in row order (for an audit event)
    digest: str = ""


def _row_hash(values: Mapping[str, Any]) -> str:
    keys = ("device_id", "production_month", "serial_prefix", "serial_suffix", "serial_digits",
            "serial_start", "serial_end", "certificate_count", "status", "tradable",
            "holder_name", "holder_account_id", "holder_external", "beneficiary_name",
            "beneficiary_account_id", "beneficiary_external")
    canon = {k: (v.isoformat() if isinstance(v, date) else v) for k in keys
             for v in [values[k]]}
    return hashlib.sha256(json.dumps(canon, sort_keys=True, ensure_ascii=False, allow_nan=False,
                                     separators=(",", ":")).encode()).hexdigest()


def _record_range(r: Mapping[str, Any]) -> SerialRange:
    return SerialRange(r["serial_prefix"], r["serial_suffix"], r["serial_start"],
                       r["serial_end"], r["serial_digits"], r["tradable"])


def import_gec_file(engine: Engine, path: str | Path, mapping: GecMapping | str | Path
                    ) -> ImportResult:
    """Import a GEC export into the registry database: all rows in one transaction, or none.

    Raises
    ------
    InputError
        The file or mapping cannot be read, or any row is refused: every problem names the file,
        the row and the column.
    """
    if not isinstance(mapping, GecMapping):
        mapping = load_mapping(mapping)
    p = Path(path)
    if not p.is_file():
        raise InputError(Problem("GEC file not found" if not p.is_dir() else "GEC file is a "
                                 "folder", file=str(path), expected="a CSV export of GEC records"))
    parsed = parse_gec_csv(p.read_bytes(), mapping, name=str(path))
    if parsed.problems:
        _refuse(list(parsed.problems))
    with session_factory(engine).begin() as s:
        return store_gec_rows(s, parsed, mapping)


def store_gec_rows(s: Session, parsed: ParsedFile, mapping: GecMapping) -> ImportResult:
    """Check parsed rows against the database and insert them, in the caller's transaction
    (nothing is written when a problem is found)."""
    if _dialect(s) == "postgresql":  # one import at a time; claims (SHARE) wait for it
        s.execute(text(f"LOCK TABLE {GecRecord.__tablename__} IN SHARE ROW EXCLUSIVE MODE"))
    result = ImportResult(parsed.name, parsed.sha256, len(parsed.rows))
    accounts = set(s.execute(select(Account.id)).scalars())
    devices = {d: a for d, a in s.execute(select(Device.id, Device.account_id)).all()}
    table = GecRecord.__table__
    existing = [dict(r) for r in s.execute(select(table)).mappings()]
    same_file = {r["source_row"]: r for r in existing if r["source_file_hash"] == parsed.sha256}
    by_hash = {r["row_hash"] for r in existing}
    problems: list[Problem] = []
    own: set[str] = set()
    external: set[str] = set()
    to_account = {_norm(k): v for k, v in mapping.accounts.items()}
    to_external = {_norm(k): v for k, v in mapping.external.items()}

    def party(name: str | None, fld: str, row: int) -> tuple[str | None, str | None]:
        """(own account, external label) of a holder or beneficiary named in the file."""
        if name is None:
            return None, None
        if _norm(name) in to_account:
            account = to_account[_norm(name)]
            if account not in accounts:
                problems.append(Problem(f"{name!r} maps to account {account!r}, which is not "
                                        "registered", file=parsed.name,
                                        location=parsed.where(row, fld),
                                        expected="an existing registry account ([accounts] of "
                                                 "the mapping)"))
            own.add(account)
            return account, None
        if _norm(name) not in to_external and name in accounts:
            own.add(name)
            return name, None
        label = to_external.get(_norm(name), name)
        external.add(label)
        return None, label

    new: list[tuple[ParsedRow, dict[str, Any]]] = []
    now = datetime.now(UTC)
    for r in parsed.rows:
        if r.device not in devices:
            problems.append(Problem(f"device {r.device!r} is not registered", file=parsed.name,
                                    location=parsed.where(r.row, "device"),
                                    expected="a registered device id, or a [devices] entry "
                                             "mapping the file's code to one"))
            continue
        holder = r.holder
        if r.status == GEC_ISSUED and holder is None:
            holder = devices[r.device]  # GECs are issued to the project's owner
        h_acc, h_ext = party(holder, "holder", r.row)
        b_acc, b_ext = party(r.beneficiary, "beneficiary", r.row)
        values = {"device_id": r.device, "production_month": r.month,
                  "serial_prefix": r.serials.prefix, "serial_suffix": r.serials.suffix,
                  "serial_digits": r.serials.digits, "serial_start": r.serials.start,
                  "serial_end": r.serials.end, "certificate_count": r.serials.count,
                  "status": r.status, "tradable": r.serials.tradable, "holder_name": holder,
                  "holder_account_id": h_acc, "holder_external": h_ext,
                  "beneficiary_name": r.beneficiary, "beneficiary_account_id": b_acc,
                  "beneficiary_external": b_ext, "source_file_name": parsed.name[-300:],
                  "source_file_hash": parsed.sha256, "source_row": r.row,
                  "imported_at": now}
        new.append((r, values))
    # a later record whose tradability the file does not give takes its issuance's
    issued = [v for v in existing if v["status"] == GEC_ISSUED] \
        + [v for _, v in new if v["status"] == GEC_ISSUED]
    for r, v in new:
        if r.tradable is None and v["status"] != GEC_ISSUED:
            v["tradable"] = next((i["tradable"] for i in issued
                                  if _record_range(i).overlaps(r.serials)), False)
    stored: list[dict[str, Any]] = []
    for r, v in new:
        v["row_hash"] = _row_hash(v)
        before = same_file.get(r.row)
        if before is not None:
            if before["row_hash"] == v["row_hash"]:
                result.already_imported += 1
            else:
                problems.append(Problem("this row was imported before with other values (has "
                                        "the mapping changed?)", file=parsed.name,
                                        location=f"row {r.row}",
                                        expected="the same file and mapping as before, or a "
                                                 "new export"))
            continue
        if v["row_hash"] in by_hash:
            result.known += 1
            continue
        by_hash.add(v["row_hash"])
        stored.append(v)
    problems += _check_serials(existing, stored, parsed)
    if problems:
        _refuse(problems)
    if stored:
        s.execute(insert(GecRecord), stored)
    result.imported = len(stored)
    result.digest = hashlib.sha256("".join(v["row_hash"] for v in stored).encode()).hexdigest()
    for v in stored:
        result.gec_by_status[v["status"]] = result.gec_by_status.get(v["status"], 0) \
            + v["certificate_count"]
    result.own_parties, result.external_parties = sorted(own), sorted(external)
    return result


def verify_gec_records(db: Db) -> list[str]:
    """Records whose content no longer matches their ``row_hash`` (edited behind the
    importer's back); empty when all match."""
    return [f"GEC record {r['id']} (row {r['source_row']} of {r['source_file_name']}) was "
            "changed after import" for r in db.execute(
                select(GecRecord.__table__).order_by(GecRecord.id)).mappings()
            if _row_hash(dict(r)) != r["row_hash"]]


def _check_serials(existing: list[dict[str, Any]], stored: list[dict[str, Any]],
                   parsed: ParsedFile) -> list[Problem]:
    """Overlaps within each stage and coverage of later records by issuances."""
    problems: list[Problem] = []

    def origin(v: Mapping[str, Any]) -> str:
        if v["source_file_hash"] == parsed.sha256:
            return f"row {v['source_row']}"
        return f"row {v['source_row']} of {v['source_file_name']} (imported before)"

    everything = existing + stored
    new_ids = {id(v) for v in stored}
    for stage in (0, 1, 2):
        rows = sorted((v for v in everything if _stage(v["status"]) == stage),
                      key=lambda v: (v["serial_prefix"], v["serial_suffix"], v["serial_start"]))
        reach: dict[tuple[str, str], dict[str, Any]] = {}
        for v in rows:
            key = (v["serial_prefix"], v["serial_suffix"])
            prev = reach.get(key)
            if prev is not None and prev["serial_end"] >= v["serial_start"]:
                culprit, other = (v, prev) if id(v) in new_ids else (prev, v)
                if id(culprit) in new_ids:
                    verb = {0: "issued", 1: "transferred", 2: "cancelled or expired"}[stage]
                    problems.append(Problem(
                        f"serials {_record_range(culprit)} overlap serials "
                        f"{_record_range(other)} {verb} in {origin(other)}", file=parsed.name,
                        location=parsed.where(culprit["source_row"], "serial_start"),
                        expected="each GEC serial issued, transferred and cancelled at most "
                                 "once"))
            if prev is None or v["serial_end"] > prev["serial_end"]:
                reach[key] = v
    issued = [v for v in everything if v["status"] == GEC_ISSUED]
    for v in stored:
        if v["status"] == GEC_ISSUED:
            continue
        rng = _record_range(v)
        cover = sorted((i for i in issued if _record_range(i).overlaps(rng)),
                       key=lambda i: i["serial_start"])
        covered = 0
        for i in cover:
            if (i["device_id"], i["production_month"]) != (v["device_id"],
                                                           v["production_month"]):
                problems.append(Problem(
                    f"serials {rng} were issued for device {i['device_id']}, month "
                    f"{i['production_month']:%Y-%m} ({origin(i)})", file=parsed.name,
                    location=parsed.where(v["source_row"], "serial_start"),
                    expected="the device and month of the issuance"))
            elif i["tradable"] != v["tradable"]:
                problems.append(Problem(
                    f"serials {rng} are {'tradable' if v['tradable'] else 'non-tradable'} here "
                    f"but were issued {'tradable' if i['tradable'] else 'non-tradable'} "
                    f"({origin(i)})", file=parsed.name,
                    location=parsed.where(v["source_row"], "tradable"),
                    expected="the tradability of the issuance"))
            covered += min(i["serial_end"], rng.end) - max(i["serial_start"], rng.start) + 1
        if covered < rng.count:
            problems.append(Problem(
                f"{rng.count - covered} of the serials {rng} ({v['status']}) were never issued",
                file=parsed.name, location=parsed.where(v["source_row"], "serial_start"),
                expected="serials issued to this device and month (import the issuance records "
                         "first or in the same file)"))
    problems.sort(key=_row_of)
    return problems


def _row_of(p: Problem) -> int:
    m = re.match(r"row (\d+)", p.location or "")
    return int(m.group(1)) if m else 0
