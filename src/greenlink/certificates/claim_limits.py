"""What bounds a claim, checked in the claim's transaction: who it may name (a registered
beneficiary, by id), the beneficiary's hourly cap (its metered consumption of each hour), and
for Chinese bundles the GEC serials that back them (rules in :mod:`greenlink.certificates.claims`,
applied by :meth:`greenlink.certificates.registry.Registry.claim`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenlink.certificates import identity
from greenlink.certificates.claims import (
    GEC_COUNTRY,
    SOLD,
    ClaimRequest,
    _utc,
    claims_in_hour,
)
from greenlink.certificates.errors import ClaimRefused
from greenlink.certificates.models import (
    Account,
    Consumption,
    Device,
    GranularCertificateBundle,
    IssuanceMetaData,
)
from greenlink.certificates.purposes import STORAGE_CHARGE

# ---------------------------------------------------------------------------- beneficiaries


@dataclass(frozen=True)
class Beneficiary:
    """Who a claim is for: ``kind`` ``user`` (consumption registered), ``account`` (a
    registered account without consumption here), ``storage`` (a storage device)."""

    id: str
    kind: str

    @property
    def capped(self) -> bool:
        return self.kind != "account"


def _registered_ids(s: Session) -> list[str]:
    users = s.execute(select(Consumption.beneficiary).distinct()).scalars().all()
    return sorted({*s.execute(select(Account.id)).scalars().all(), *users})


def _suggest(s: Session, name: str, candidates: Iterable[str] | None = None) -> str:
    pool = candidates if candidates is not None else _registered_ids(s)
    key = identity.fold(" ".join(name.split()))
    close = [c for c in pool if identity.fold(" ".join(c.split())) == key]
    if not close:
        close = [c for c in pool if identity.skeleton(c) == identity.skeleton(name)]
    return (f" (did you mean {close[0]!r}? ids are matched exactly: no case or white-space "
            "variants)") if close else ""


def resolve_beneficiary(s: Session, request: ClaimRequest) -> Beneficiary:
    """The request's beneficiary, registered under exactly that id, or :class:`ClaimRefused`."""
    name = request.beneficiary
    assert name is not None
    if request.purpose == STORAGE_CHARGE:
        d = s.get(Device, name)
        if d is None or not d.is_storage:
            storage = s.execute(select(Device.id).where(Device.is_storage.is_(True))
                                ).scalars().all()
            raise ClaimRefused(f"{name!r} is not a registered storage device: certificates are "
                               "cancelled into storage only with a storage device's charge "
                               f"record{_suggest(s, name, storage)}")
        return Beneficiary(name, "storage")
    has_use = s.execute(select(Consumption.beneficiary).where(Consumption.beneficiary == name)
                        .limit(1)).first() is not None
    if has_use:
        return Beneficiary(name, "user")
    if s.get(Account, name) is None:
        raise ClaimRefused(f"beneficiary {name!r} is not a registered account or user"
                           f"{_suggest(s, name)}; beneficiaries are referred to by id "
                           "(greenlink registry account …, or users registered by issue)")
    if request.purpose != SOLD:
        raise ClaimRefused(f"{name} has no metered consumption registered: nothing can be "
                           f"claimed for it ({request.purpose}); a claim never exceeds the "
                           "beneficiary's metered consumption of the hour")
    if request.account_id is not None and request.account_id == name:
        raise ClaimRefused(f"a sale to {name}, the account that holds the certificates, is not "
                           "a sale")
    owned = s.execute(select(Device.id).where(Device.account_id == name).limit(1)).scalar()
    if owned is not None:
        raise ClaimRefused(f"{name} holds the park's devices (e.g. {owned}): a sale is to a "
                           "buyer outside the park, not to the park itself")
    # an uncapped sale: never to a look-alike of a park user, a device or another account
    # (registered before such ids were refused, or by writing the database directly)
    twin = identity.refusal(name, "beneficiary", identity.known_ids(s), new=False)
    if twin is not None:
        raise ClaimRefused(f"a sale is refused: {twin}; a sale outside the park is not capped "
                           "by consumption")
    return Beneficiary(name, "account")


# ------------------------------------------------------------------------ the hourly cap


@dataclass
class HourlyCap:
    """The beneficiary's consumption rows as the claim uses them (locked when first read)."""

    session: Session
    beneficiary: Beneficiary
    claim_id: str
    rows: dict[datetime, Consumption | None] = field(default_factory=dict)

    def charge(self, hour: datetime, wh: int) -> None:
        """Count ``wh`` against the hour; refused above the metered consumption."""
        if not self.beneficiary.capped:
            return
        who = self.beneficiary.id
        if hour not in self.rows:
            self.rows[hour] = self.session.execute(select(Consumption).where(
                Consumption.beneficiary == who, Consumption.hour_start == hour)
                .with_for_update()).scalar_one_or_none()
        c = self.rows[hour]
        what = "metered charging" if self.beneficiary.kind == "storage" else \
            "metered consumption"
        if c is None:
            raise ClaimRefused(f"{who} has no {what} registered for the hour from "
                               f"{hour.isoformat()}: nothing can be claimed for it in that hour")
        if c.claimed_wh + wh > c.consumption_wh:
            before = claims_in_hour(self.session, who, hour, exclude=self.claim_id)
            by = ("by " + "; ".join(before)) if before else \
                "(claimed before claim records were kept)" if c.claimed_wh else ""
            raise ClaimRefused(
                f"{who} consumed {c.consumption_wh} Wh in the hour from {hour.isoformat()}; "
                f"{c.claimed_wh} Wh are claimed already{' ' + by if by else ''}; {wh} Wh more "
                "would exceed it")
        c.claimed_wh += wh


# -------------------------------------------------------------------------------- GEC link


@dataclass
class GecLink:
    """GEC serials for the bundles of one claim: the device-month positions read once (inside
    the claim's transaction, GEC table locked), each bundle's serials assigned in turn
    (:func:`greenlink.certificates.gec.claim_next`, the rule of :func:`~greenlink.certificates
    .gec.gec_backing`)."""

    session: Session
    beneficiary: str
    purpose: str
    countries: dict[int, str] = field(default_factory=dict)
    positions: dict[tuple[str, date], Any] = field(default_factory=dict)
    locked: bool = False

    def needs_gec(self, b: GranularCertificateBundle) -> bool:
        if b.is_storage:  # counted against the generator's GECs when it was charged
            return False
        if b.metadata_id not in self.countries:
            m = self.session.get(IssuanceMetaData, b.metadata_id)
            self.countries[b.metadata_id] = "" if m is None else \
                str(m.country_of_issuance).strip().upper()
        return self.countries[b.metadata_id] == GEC_COUNTRY

    def serials(self, b: GranularCertificateBundle, wh: int) -> tuple[Mapping[str, Any], ...]:
        if not self.needs_gec(b):
            return ()
        from greenlink.certificates import gec

        if not self.locked:
            gec.lock_for_claims(self.session)
            self.locked = True
        hour = _utc(b.production_starting_interval)
        key = (b.device_id, gec.month_of(hour))
        if key not in self.positions:
            self.positions[key] = gec.gec_position(self.session, b.device_id, key[1],
                                                   exclude_bundle_ids={int(b.id)})
        try:
            self.positions[key], backing = gec.claim_next(
                self.positions[key], wh, beneficiary=self.beneficiary, purpose=self.purpose,
                key=int(b.id))
        except gec.GecError as exc:
            raise ClaimRefused(f"bundle {b.id} ({b.device_id}, hour from {hour.isoformat()}): "
                               f"{exc}") from exc
        return tuple({**sl.as_dict(), "prefix": sl.serials.prefix, "suffix": sl.serials.suffix,
                      "digits": sl.serials.digits, "start": sl.serials.start,
                      "end": sl.serials.end} for sl in backing.slices)
