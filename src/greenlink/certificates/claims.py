"""The one claim path: what a claim request is, the rules every claim obeys, and the records
it leaves (``gc_claim``, ``gc_claim_part``).

Every way to claim, cancel or withdraw green energy — ``greenlink registry cancel`` (every
purpose), ``registry withdraw``, ``cbam claim``, ``evidence build``, the REST API, the dashboard
forms and the Python API (``Registry.cancel``, ``Registry.withdraw``,
``Registry.storage_charge``) — ends in :meth:`greenlink.certificates.registry.Registry.claim`
with a :class:`ClaimRequest`. In one registry operation (one event, one transaction: all lines
or none) it enforces:

* **Beneficiaries by id.** A beneficiary is a registered account or a registered user (a
  beneficiary with metered consumption registered: ``gc_consumption``), named exactly by its id:
  no free text, no case or whitespace variants (``"ALU_EXTRUDER"`` or ``"alu_extruder "`` are
  refused when the id is ``alu_extruder``). Cancelling into storage names a registered storage
  device.
* **Hourly cap, every purpose.** A beneficiary's claims in an hour never exceed its metered
  consumption registered for that hour; a beneficiary without registered consumption in that
  hour can claim nothing in it. Storage charging is capped by the storage device's metered
  charging (its consumption rows). The one exception is a **sale**
  (``sold_as_certificate``) to a buyer outside the park: a registered account with no
  consumption registered here at all. The sale moves the attribute to the buyer (EnergyTag: a
  transfer to the buyer's account), whose own claim is capped by its own consumption where it
  claims; here the sale is bounded by the bundles (each Wh once) and, for Chinese bundles, by
  the park's tradable GECs. A buyer that is also a park user (consumption registered here) is
  capped like any other claim, so no tenant can call an over-claim a sale.
* **Storage.** ``storage_charge`` only into a registered storage device, always with its
  storage charge record (SCR), made by the same operation.
* **One transaction.** A multi-hour claim is one operation: a refusal in any hour leaves
  nothing claimed.
* **Claim ids.** A request carries an id (or gets one derived from its content). The same
  request again returns the first result and changes nothing; the same id with other content
  is refused; another claim over the same Wh — a bundle claimed already, an hour whose
  consumption is used up, a batch or shipment of an hour claimed already — is refused naming
  the first claim.
* **GEC.** For Chinese bundles (issuance metadata country ``CN``) the GEC serials behind each
  bundle are assigned in the claim's transaction (:mod:`greenlink.certificates.gec`: GECs
  transferred away or cancelled for others back nothing, non-tradable GECs are never sold, and
  nothing is claimed while the month's GECs are not imported — "GEC pending") and stored with
  the claim (``gc_claim_part.gec_serials``).
* **Whole Wh.** Lines are whole Wh; kWh → Wh only through :func:`greenlink.units.kwh_to_wh`
  (:meth:`ClaimRequest.for_hours` takes Wh computed by it).

The beneficiary, the hourly cap and the GEC backing are checked by
:mod:`greenlink.certificates.claim_limits`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from greenlink.certificates import digests
from greenlink.certificates.errors import ClaimRefused
from greenlink.certificates.models import (
    CLAIM_KIND,
    WITHDRAW_KIND,
    ClaimPart,
    ClaimRecord,
    GranularCertificateBundle,
)
from greenlink.certificates.purposes import CLAIM_PURPOSES, STORAGE_CHARGE

SOLD = "sold_as_certificate"
#: Issuance country whose bundles need GEC backing (China's green certificates).
GEC_COUNTRY = "CN"
#: Longest claim id, subject and reason accepted.
MAX_ID, MAX_SUBJECT, MAX_REASON = 100, 200, 500
_CLAIM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,99}")
#: Event kind of each claim kind (the log keeps the names it always had).
EVENT_KIND = {CLAIM_KIND: "cancel", WITHDRAW_KIND: "withdraw"}


# ------------------------------------------------------------------------------ the request


def _utc(ts: datetime | pd.Timestamp) -> datetime:
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return t.to_pydatetime()


@dataclass(frozen=True)
class ClaimLine:
    """One line of a claim: a bundle (``bundle_id``; ``wh`` of it, default all of it), or an
    hour (``hour_start``, the UTC instant the clock hour starts at; ``wh`` Wh of the account's
    Active bundles of that hour, taken in id order). ``subject``: what the line claims for (a
    product batch, a shipment), so that another claim of the same subject and hour is refused.
    """

    wh: int | None = None
    bundle_id: int | None = None
    hour_start: datetime | None = None
    subject: str | None = None

    def canonical(self) -> list[Any]:
        return [self.bundle_id, None if self.hour_start is None
                else _utc(self.hour_start).isoformat(), self.wh, self.subject]


@dataclass(frozen=True)
class ClaimRequest:
    """What to claim (``kind="claim"``: cancel for a beneficiary and purpose) or withdraw
    (``kind="withdraw"``: the issuing body takes bundles out, e.g. meter data found wrong).

    ``account_id``: whose certificates (``None``: any owner, for bundle lines only);
    ``claim_id``: the caller's id (``None``: derived from the content, so the same request is
    the same claim); ``operation``: which entry point makes it (stored with the claim);
    ``allow_shortfall``: hour lines may find fewer Active Wh than asked (the shortfall is
    recorded) instead of being refused.
    """

    lines: tuple[ClaimLine, ...]
    kind: str = CLAIM_KIND
    purpose: str | None = None
    beneficiary: str | None = None
    account_id: str | None = None
    claim_id: str | None = None
    operation: str = "library"
    allow_shortfall: bool = False
    reason: str = ""

    # -- constructors --------------------------------------------------------------------
    @classmethod
    def for_bundle(cls, bundle_id: int, *, beneficiary: str, purpose: str,
                   quantity_wh: int | None = None, account_id: str | None = None,
                   claim_id: str | None = None, operation: str = "library") -> ClaimRequest:
        """Claim one bundle (or ``quantity_wh`` of it) for a beneficiary and purpose."""
        return cls((ClaimLine(wh=quantity_wh, bundle_id=int(bundle_id)),), purpose=purpose,
                   beneficiary=beneficiary, account_id=account_id, claim_id=claim_id,
                   operation=operation)

    @classmethod
    def storage_charge(cls, storage_device: str, bundle_ids: Sequence[int], *,
                       account_id: str | None = None, claim_id: str | None = None,
                       operation: str = "library") -> ClaimRequest:
        """Cancel whole bundles into a registered storage device (one SCR)."""
        return cls(tuple(ClaimLine(bundle_id=int(b)) for b in bundle_ids),
                   purpose=STORAGE_CHARGE, beneficiary=storage_device, account_id=account_id,
                   claim_id=claim_id, operation=operation)

    @classmethod
    def withdrawal(cls, bundle_id: int, *, reason: str = "", claim_id: str | None = None,
                   operation: str = "library") -> ClaimRequest:
        """Withdraw one whole Active bundle (issuing body)."""
        return cls((ClaimLine(bundle_id=int(bundle_id)),), kind=WITHDRAW_KIND, reason=reason,
                   claim_id=claim_id, operation=operation)

    @classmethod
    def for_hours(cls, table: pd.DataFrame, *, beneficiary: str, purpose: str,
                  account_id: str, claim_id: str | None = None, operation: str = "library",
                  allow_shortfall: bool = False, subject_column: str | None = None
                  ) -> ClaimRequest:
        """Claim ``claim_wh`` (whole Wh, from :func:`greenlink.units.kwh_to_wh`) of the account's
        certificates in each ``hour_start`` of ``table``; ``subject_column`` names each line's
        subject (e.g. ``batch_id``)."""
        starts = pd.DatetimeIndex(pd.to_datetime(table["hour_start"], utc=True))
        subjects = (table[subject_column].astype(str).tolist() if subject_column
                    else [None] * len(table))
        lines = tuple(ClaimLine(wh=int(wh), hour_start=t.to_pydatetime(), subject=subj)
                      for t, wh, subj in zip(starts, table["claim_wh"].tolist(), subjects,
                                             strict=True))
        return cls(lines, purpose=purpose, beneficiary=beneficiary, account_id=account_id,
                   claim_id=claim_id, operation=operation, allow_shortfall=allow_shortfall)

    # -- identity ------------------------------------------------------------------------
    def canonical(self) -> dict[str, Any]:
        """The content that makes a claim the same claim (not the entry point)."""
        return {"kind": self.kind, "purpose": self.purpose, "beneficiary": self.beneficiary,
                "account": self.account_id, "allow_shortfall": self.allow_shortfall,
                "reason": self.reason, "lines": [ln.canonical() for ln in self.lines]}

    def digest(self) -> str:
        return hashlib.sha256(digests.canonical(self.canonical()).encode()).hexdigest()

    def resolved_id(self) -> str:
        """The claim id: the caller's, else ``<kind or purpose>-<16 hex digits of the
        digest>``."""
        if self.claim_id is not None:
            return self.claim_id
        label = self.kind if self.kind == WITHDRAW_KIND else (self.purpose or "claim")
        return f"{label}-{self.digest()[:16]}"


def check_request(request: ClaimRequest) -> ClaimRequest:
    """Refuse a malformed request before anything is read (pure)."""
    if request.kind not in EVENT_KIND:
        raise ClaimRefused(f"claim kind {request.kind!r} is not one of {tuple(EVENT_KIND)}")
    if request.claim_id is not None and not _CLAIM_ID.fullmatch(request.claim_id):
        raise ClaimRefused(f"claim id {request.claim_id!r} is not a plain id (letters, digits "
                           f"and . _ : @ + = -, at most {MAX_ID} characters, starting with a "
                           "letter or digit)")
    if not request.lines:
        raise ClaimRefused("a claim needs at least one bundle or hour")
    if len(request.operation) > MAX_ID:
        raise ClaimRefused("operation name too long")
    if len(request.reason) > MAX_REASON:
        raise ClaimRefused(f"reason longer than {MAX_REASON} characters")
    for i, ln in enumerate(request.lines, start=1):
        where = f"line {i}"
        if (ln.bundle_id is None) == (ln.hour_start is None):
            raise ClaimRefused(f"{where}: give a bundle or an hour, not both or neither")
        if ln.wh is not None and (not isinstance(ln.wh, int) or isinstance(ln.wh, bool)
                                  or ln.wh <= 0):
            raise ClaimRefused(f"{where}: {ln.wh!r} Wh is not a positive whole number of Wh")
        if ln.hour_start is not None and ln.wh is None:
            raise ClaimRefused(f"{where}: an hour line needs its Wh")
        if ln.subject is not None:
            _check_text(ln.subject, f"{where}: subject", MAX_SUBJECT)
    if request.kind == WITHDRAW_KIND:
        if request.purpose is not None or request.beneficiary is not None:
            raise ClaimRefused("a withdrawal has no beneficiary or purpose")
        if any(ln.hour_start is not None or ln.wh is not None for ln in request.lines):
            raise ClaimRefused("a withdrawal takes whole bundles")
        return request
    if request.purpose not in CLAIM_PURPOSES:
        raise ClaimRefused(f"purpose {request.purpose!r} is not one of {CLAIM_PURPOSES}")
    if not request.beneficiary:
        raise ClaimRefused("a cancellation needs a beneficiary")
    _check_text(request.beneficiary, "beneficiary", MAX_SUBJECT)
    if any(ln.hour_start is not None for ln in request.lines) and request.account_id is None:
        raise ClaimRefused("an hour line needs the account whose certificates it claims")
    return request


def _check_text(value: str, what: str, limit: int) -> None:
    if not isinstance(value, str) or not value:
        raise ClaimRefused(f"{what} is empty")
    if value != value.strip() or any((c.isspace() and c != " ") or not c.isprintable()
                                     for c in value) or "  " in value:
        raise ClaimRefused(f"{what} {value!r} has leading, trailing or unusual white space or "
                           "control characters: ids are given exactly")
    if len(value) > limit:
        raise ClaimRefused(f"{what} longer than {limit} characters")


# ------------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class ClaimedPart:
    """One bundle a claim cancelled (or withdrew), with the GEC serials behind its Wh."""

    bundle_id: int
    line_no: int
    device_id: str
    hour_start: datetime
    wh: int
    subject: str | None
    gec_serials: tuple[Mapping[str, Any], ...] = ()

    def serial_text(self) -> str:
        return serial_text(self.gec_serials)

    def as_dict(self) -> dict[str, Any]:
        return {"bundle_id": self.bundle_id, "line": self.line_no, "device_id": self.device_id,
                "hour_start": _utc(self.hour_start).isoformat(), "wh": self.wh,
                "subject": self.subject, "gec_serials": [dict(s) for s in self.gec_serials]}


@dataclass(frozen=True)
class LineOutcome:
    """What one request line got: Wh asked, claimed, short (no certificates left)."""

    line_no: int
    hour_start: datetime | None
    subject: str | None
    requested_wh: int
    claimed_wh: int
    bundle_ids: tuple[int, ...]

    @property
    def shortfall_wh(self) -> int:
        return self.requested_wh - self.claimed_wh


@dataclass(frozen=True)
class ClaimResult:
    """The claim as the registry keeps it (``replayed``: the same request was made before and
    this is that first result; nothing changed now)."""

    claim_id: str
    kind: str
    purpose: str | None
    beneficiary: str | None
    account_id: str | None
    operation: str
    event_seq: int
    requested_wh: int
    claimed_wh: int
    shortfall_wh: int
    parts: tuple[ClaimedPart, ...]
    lines: tuple[LineOutcome, ...]
    storage_charge_record_id: int | None = None
    reason: str = ""
    replayed: bool = False

    @property
    def bundle_ids(self) -> list[int]:
        return [p.bundle_id for p in self.parts]

    @property
    def gec_serials(self) -> list[dict[str, Any]]:
        """Every GEC serial range behind the claim, with its device and the Wh it backs."""
        return [{"bundle_id": p.bundle_id, "device_id": p.device_id, **dict(s)}
                for p in self.parts for s in p.gec_serials]

    def serial_text(self) -> str:
        """The GEC serial ranges behind the claim, merged (``A–B, C``), or ``""``."""
        return serial_text(s for p in self.parts for s in p.gec_serials)

    def as_dict(self) -> dict[str, Any]:
        return {"claim_id": self.claim_id, "kind": self.kind, "purpose": self.purpose,
                "beneficiary": self.beneficiary, "account_id": self.account_id,
                "operation": self.operation, "event_seq": self.event_seq,
                "requested_wh": self.requested_wh, "claimed_wh": self.claimed_wh,
                "shortfall_wh": self.shortfall_wh, "bundle_ids": self.bundle_ids,
                "hours": sorted({_utc(p.hour_start).isoformat() for p in self.parts}),
                "gec_serials": self.gec_serials, "gec_serial_text": self.serial_text(),
                "storage_charge_record_id": self.storage_charge_record_id,
                "reason": self.reason, "replayed": self.replayed}


def serial_text(serials: Iterable[Mapping[str, Any]]) -> str:
    """GEC serial ranges merged per series (``A–B, C``): overlapping and adjacent ranges of the
    slices (a partly used GEC backs two bundles) become one range; ``""`` for none."""
    from greenlink.certificates.gec import SerialRange

    runs: dict[tuple[str, str, int, bool], list[list[int]]] = defaultdict(list)
    loose: dict[str, None] = {}
    for x in serials:
        if "start" not in x:  # a slice without its numbers: as written
            loose[x["from"] if x["from"] == x["to"] else f"{x['from']}–{x['to']}"] = None
            continue
        runs[(x["prefix"], x["suffix"], int(x["digits"]), bool(x["tradable"]))].append(
            [int(x["start"]), int(x["end"])])
    out: list[str] = []
    for (prefix, suffix, digits, tradable), spans in runs.items():
        merged: list[list[int]] = []
        for a, b in sorted(spans):
            if merged and a <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        out += [str(SerialRange(prefix, suffix, a, b, digits, tradable)) for a, b in merged]
    return ", ".join([*out, *loose])


def _serials(text: str) -> tuple[Mapping[str, Any], ...]:
    return tuple(json.loads(text or "[]"))


def result_of(s: Session, record: ClaimRecord, request: ClaimRequest | None = None, *,
              replayed: bool = False) -> ClaimResult:
    """A stored claim as a :class:`ClaimResult` (its lines from ``request`` when given: the
    request that made it, the same content)."""
    parts = tuple(ClaimedPart(int(p.bundle_id), int(p.line_no), p.device_id,
                              _utc(p.hour_start), int(p.wh), p.subject, _serials(p.gec_serials))
                  for p in s.execute(select(ClaimPart).where(ClaimPart.claim_id == record.id)
                                     .order_by(ClaimPart.line_no, ClaimPart.bundle_id))
                  .scalars())
    lines: list[LineOutcome] = []
    if request is not None:
        for i, ln in enumerate(request.lines):
            mine = [p for p in parts if p.line_no == i]
            got = sum(p.wh for p in mine)
            lines.append(LineOutcome(i, None if ln.hour_start is None else _utc(ln.hour_start),
                                     ln.subject, ln.wh if ln.wh is not None else got, got,
                                     tuple(p.bundle_id for p in mine)))
    return ClaimResult(record.id, record.kind, record.purpose, record.beneficiary,
                       record.account_id, record.operation, int(record.created_event_seq),
                       int(record.requested_wh), int(record.claimed_wh),
                       int(record.shortfall_wh), parts, tuple(lines),
                       record.storage_charge_record_id, record.reason, replayed)


def replay(s: Session, claim_id: str, request: ClaimRequest) -> ClaimResult | None:
    """The first result of this claim id when it exists (``None`` otherwise); refused when the
    id was used for other content."""
    record = s.get(ClaimRecord, claim_id)
    if record is None:
        return None
    if record.request_digest != request.digest():
        raise ClaimRefused(f"claim id {claim_id!r} was used already by another claim "
                           f"({_describe(record)}); a claim id names one claim: give a new one")
    return result_of(s, record, request, replayed=True)


# --------------------------------------------------------------------------- naming claims


def _describe(record: ClaimRecord) -> str:
    what = record.purpose or record.kind
    who = f" for {record.beneficiary}" if record.beneficiary else ""
    return f"{what}{who}, made by {record.operation}, event {record.created_event_seq}"


def claim_of_bundle(s: Session, bundle_id: int) -> str | None:
    """``claim 'X' (…)`` of the claim that holds the bundle or one of its split descendants
    (``None``: no claim record holds them)."""
    b = GranularCertificateBundle
    frontier, seen = [bundle_id], {bundle_id}
    for _ in range(64):
        part = s.execute(select(ClaimPart.claim_id).where(ClaimPart.bundle_id.in_(frontier))
                         .limit(1)).scalar_one_or_none()
        if part is not None:
            record = s.get(ClaimRecord, part)
            return f"claim {part!r} ({_describe(record)})" if record else f"claim {part!r}"
        frontier = [i for i in s.execute(select(b.id).where(b.parent_bundle_id.in_(frontier)))
                    .scalars() if i not in seen]
        seen.update(frontier)
        if not frontier:
            break
    return None


def claims_in_hour(s: Session, beneficiary: str, hour: datetime,
                   exclude: str | None = None) -> list[str]:
    """``claim 'X' (N Wh, …)`` of every claim for the beneficiary in the hour, first first."""
    rows = s.execute(select(ClaimRecord, func.sum(ClaimPart.wh)).join(
        ClaimPart, ClaimPart.claim_id == ClaimRecord.id).where(
        ClaimRecord.beneficiary == beneficiary, ClaimRecord.kind == CLAIM_KIND,
        ClaimPart.hour_start == hour).group_by(ClaimRecord.id)
        .order_by(func.min(ClaimRecord.created_event_seq))).all()
    return [f"claim {r.id!r} ({int(wh):,} Wh, {_describe(r)})" for r, wh in rows
            if r.id != exclude]


def _subject_holder(s: Session, beneficiary: str, subject: str, hour: datetime,
                    claim_id: str) -> ClaimRecord | None:
    return s.execute(select(ClaimRecord).join(ClaimPart, ClaimPart.claim_id == ClaimRecord.id)
                     .where(ClaimRecord.beneficiary == beneficiary,
                            ClaimRecord.kind == CLAIM_KIND, ClaimPart.subject == subject,
                            ClaimPart.hour_start == hour, ClaimRecord.id != claim_id)
                     .limit(1)).scalar_one_or_none()


# ------------------------------------------------------------------------------- the record


def subject_check(s: Session, request: ClaimRequest, claim_id: str, line: ClaimLine,
                  hour: datetime) -> None:
    """Refuse a line whose subject (batch, shipment) is claimed in that hour by another
    claim of the same beneficiary."""
    if line.subject is None or request.beneficiary is None:
        return
    other = _subject_holder(s, request.beneficiary, line.subject, hour, claim_id)
    if other is not None:
        raise ClaimRefused(f"{line.subject} of {request.beneficiary} in the hour from "
                           f"{hour.isoformat()} is claimed already by claim {other.id!r} "
                           f"({_describe(other)}): another claim over the same Wh is refused")


def new_record(request: ClaimRequest, claim_id: str, seq: int, parts: Sequence[ClaimPart],
               outcomes: Sequence[LineOutcome], scr_id: int | None) -> ClaimRecord:
    hours = sorted({_utc(p.hour_start) for p in parts})
    requested = sum(o.requested_wh for o in outcomes)
    claimed = sum(int(p.wh) for p in parts)
    return ClaimRecord(id=claim_id, kind=request.kind, purpose=request.purpose,
                       beneficiary=request.beneficiary, account_id=request.account_id,
                       operation=request.operation, request_digest=request.digest(),
                       lines=len(request.lines), hours=len(hours),
                       first_hour=hours[0] if hours else None,
                       last_hour=hours[-1] if hours else None, requested_wh=requested,
                       claimed_wh=claimed, shortfall_wh=requested - claimed,
                       storage_charge_record_id=scr_id, reason=request.reason,
                       created_event_seq=seq)


def serial_json(serials: Sequence[Mapping[str, Any]]) -> str:
    """The GEC serials of a claim part as stored (canonical JSON)."""
    return digests.canonical([dict(x) for x in serials])


# ------------------------------------------------------------------------------- queries


def claim_table(s: Session, *, beneficiary: str | None = None, claim_id: str | None = None,
                start: datetime | None = None, end: datetime | None = None) -> pd.DataFrame:
    """Claim parts with their claim's fields (one row per bundle), optionally filtered."""
    q = (select(ClaimRecord.id.label("claim_id"), ClaimRecord.kind, ClaimRecord.purpose,
                ClaimRecord.beneficiary, ClaimRecord.account_id, ClaimRecord.operation,
                ClaimRecord.created_event_seq, ClaimPart.bundle_id, ClaimPart.line_no,
                ClaimPart.device_id, ClaimPart.hour_start, ClaimPart.wh, ClaimPart.subject,
                ClaimPart.gec_serials)
         .join(ClaimPart, ClaimPart.claim_id == ClaimRecord.id))
    if beneficiary is not None:
        q = q.where(ClaimRecord.beneficiary == beneficiary)
    if claim_id is not None:
        q = q.where(ClaimRecord.id == claim_id)
    if start is not None:
        q = q.where(ClaimPart.hour_start >= start)
    if end is not None:
        q = q.where(ClaimPart.hour_start < end)
    rows = s.execute(q.order_by(ClaimRecord.created_event_seq, ClaimPart.line_no,
                                ClaimPart.bundle_id)).mappings().all()
    cols = ["claim_id", "kind", "purpose", "beneficiary", "account_id", "operation",
            "created_event_seq", "bundle_id", "line_no", "device_id", "hour_start", "wh",
            "subject", "gec_serials"]
    frame = pd.DataFrame([dict(r) for r in rows], columns=cols)
    if len(frame):
        frame["hour_start"] = pd.to_datetime(frame["hour_start"], utc=True)
    return frame


__all__ = ["EVENT_KIND", "ClaimLine", "ClaimRefused", "ClaimRequest", "ClaimResult",
           "ClaimedPart", "LineOutcome", "check_request", "claim_of_bundle", "claim_table",
           "claims_in_hour", "new_record", "replay", "result_of", "serial_json", "serial_text",
           "subject_check"]
