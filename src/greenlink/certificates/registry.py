"""The registry service: accounts, devices, issuance and the life of certificate bundles.

Every write is one database transaction that first locks the chain head (``SELECT … FOR UPDATE``
on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so writers are serialised: two clients can never
spend the same Wh, and no update is lost. Each transaction appends one event to the hash chain
(:mod:`greenlink.certificates.audit`).

Rules (EnergyTag GC standard, FEA registry)
-------------------------------------------
* issue: from metered generation, whole Wh (:func:`greenlink.units.kwh_to_wh`: rounded down,
  the rule every claim uses), one issuance per device and hour (``gc_issuance`` unique key),
  ``energy_wh ≤ kwh_to_wh(capacity_kW · 1 h)``; an hour is a clock hour of the park's zone,
  stored as the UTC instant it starts at (a whole quarter hour of UTC);
* transfer: only Active bundles of the sending account, only to an account whose whitelist
  names the sender; a partial transfer splits the bundle first;
* split: a bundle of ``q`` Wh → two bundles of ``k`` and ``q − k`` Wh with consecutive id ranges;
  the parent keeps its row with status "Bundle Split";
* cancel (claim): for a beneficiary and a purpose; where the beneficiary's metered consumption
  of that hour is registered, its claims in that hour never exceed it;
* withdraw: by the issuing body (e.g. meter data found wrong);
* storage: certificates cancelled into a storage device make a charge record (SCR); a metered
  discharge draws on the charge records FIFO, ``drawn = ⌈discharge / η⌉`` Wh, loss
  ``drawn − discharge``, and issues storage-discharge GCs (``is_storage``) of ``discharge`` Wh.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from greenlink.certificates import audit
from greenlink.certificates.models import (
    ACTIVE,
    BUNDLE_SPLIT,
    CANCELLED,
    CLAIMED,
    WITHDRAWN,
    Account,
    AccountWhitelist,
    ChainHead,
    Consumption,
    Device,
    Event,
    GranularCertificateBundle,
    IssuanceMetaData,
    StorageChargeRecord,
    StorageDischargeRecord,
)
from greenlink.certificates.purposes import CLAIM_PURPOSES, STORAGE_CHARGE
from greenlink.database import session_factory
from greenlink.errors import GreenlinkError
from greenlink.units import kwh_to_wh

DISSEMINATION_LEVELS = ("self-consumed", "private line", "public grid")
Bundle = GranularCertificateBundle
#: Every hour start lies on this grid of UTC: a local clock hour of any real time zone starts on
#: a whole quarter hour of UTC (UTC+8 on the hour, UTC+5:30 at half past, UTC+5:45 at a quarter
#: to).
HOUR_START_GRID = pd.Timedelta(minutes=15)


class RegistryError(GreenlinkError):
    """An operation the registry refuses (double issuance, wrong owner, over-claim, …)."""


def _utc(ts: datetime) -> datetime:
    if ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class _Tx:
    session: Session
    seq: int
    touched: list[Bundle] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)


class Registry:
    """Python API of the registry on one SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)

    # -- transactions ----------------------------------------------------------------------
    @contextmanager
    def _write(self, kind: str) -> Iterator[_Tx]:
        with self.sessions.begin() as s:
            head = s.execute(select(ChainHead).where(ChainHead.id == 1)
                             .with_for_update()).scalar_one_or_none()
            if head is None:
                head = ChainHead(id=1, seq=0, hash=audit.GENESIS)
                s.add(head)
            tx = _Tx(s, head.seq + 1)
            yield tx
            if tx.touched:
                s.flush()
                bundles = []
                for b in tx.touched:
                    b.last_event_seq = tx.seq
                    b.hash = audit.bundle_hash(audit.row_dict(b))
                    bundles.append([b.id, b.hash])
                tx.payload["bundles"] = bundles
            payload = audit.canonical(tx.payload)
            at = _now()
            h = audit.event_hash(head.hash, tx.seq, at, kind, payload)
            s.add(Event(seq=tx.seq, at=at, kind=kind, payload=payload, prev_hash=head.hash,
                        hash=h))
            head.seq, head.hash = tx.seq, h

    def _next_bundle_id(self, s: Session) -> int:
        return int(s.execute(select(func.coalesce(func.max(Bundle.id), 0))).scalar_one()) + 1

    def _lock_bundle(self, s: Session, bundle_id: int) -> Bundle:
        b = s.execute(select(Bundle).where(Bundle.id == bundle_id).with_for_update()
                      ).scalar_one_or_none()
        if b is None:
            raise RegistryError(f"bundle {bundle_id} does not exist")
        return b

    # -- accounts, devices, metadata -------------------------------------------------------
    def add_account(self, account_id: str, name: str = "",
                    accepts_from: Sequence[str] = ()) -> None:
        with self._write("add_account") as tx:
            if tx.session.get(Account, account_id) is not None:
                raise RegistryError(f"account {account_id!r} exists already")
            unknown = [a for a in accepts_from if tx.session.get(Account, a) is None]
            if unknown:
                raise RegistryError(f"accounts {unknown} do not exist (create them first)")
            tx.session.add(Account(id=account_id, account_name=name))
            tx.session.flush()
            for sender in accepts_from:
                tx.session.add(AccountWhitelist(account_id=account_id,
                                                sender_account_id=sender))
            tx.payload = {"account": account_id, "name": name, "accepts_from": list(accepts_from)}

    def whitelist(self, account_id: str, sender_account_id: str) -> None:
        """Let ``account_id`` receive transfers from ``sender_account_id``."""
        with self._write("whitelist") as tx:
            for a in (account_id, sender_account_id):
                if tx.session.get(Account, a) is None:
                    raise RegistryError(f"account {a!r} does not exist")
            if tx.session.get(AccountWhitelist, (account_id, sender_account_id)) is None:
                tx.session.add(AccountWhitelist(account_id=account_id,
                                                sender_account_id=sender_account_id))
            tx.payload = {"account": account_id, "accepts_from": sender_account_id}

    def add_device(self, device_id: str, *, account_id: str, energy_source: str,
                   technology_type: str, capacity_kw: float, is_storage: bool = False,
                   **fields: Any) -> None:
        with self._write("add_device") as tx:
            if tx.session.get(Account, account_id) is None:
                raise RegistryError(f"account {account_id!r} does not exist")
            if tx.session.get(Device, device_id) is not None:
                raise RegistryError(f"device {device_id!r} exists already")
            tx.session.add(Device(id=device_id, account_id=account_id,
                                  energy_source=energy_source, technology_type=technology_type,
                                  capacity=float(capacity_kw), is_storage=is_storage,
                                  next_wh_id=1, **fields))
            tx.payload = {"device": device_id, "account": account_id, "capacity_kw":
                          float(capacity_kw), "energy_source": energy_source,
                          "is_storage": is_storage, **{k: audit._text(v)
                                                       for k, v in fields.items()}}

    def add_metadata(self, *, country_of_issuance: str, connected_grid_identification: str,
                     issuing_body: str, issue_market_zone: str,
                     dissemination_level: str = "private line", **fields: Any) -> int:
        if dissemination_level not in DISSEMINATION_LEVELS:
            raise RegistryError(f"dissemination_level {dissemination_level!r} is not one of "
                                f"{DISSEMINATION_LEVELS}")
        with self._write("add_metadata") as tx:
            m = IssuanceMetaData(country_of_issuance=country_of_issuance,
                                 connected_grid_identification=connected_grid_identification,
                                 issuing_body=issuing_body, issue_market_zone=issue_market_zone,
                                 dissemination_level=dissemination_level, **fields)
            tx.session.add(m)
            tx.session.flush()
            tx.payload = {"metadata_id": m.id, "country": country_of_issuance,
                          "grid": connected_grid_identification, "issuing_body": issuing_body,
                          "zone": issue_market_zone, "dissemination_level": dissemination_level,
                          **{k: audit._text(v) for k, v in fields.items()}}
            return m.id

    # -- issuance --------------------------------------------------------------------------
    def issue(self, hours: pd.DataFrame, *, metadata_id: int, issuance_date: date | None = None,
              expiry_days: int = 365 * 2, energy_carrier: str = "Electricity") -> int:
        """Issue one bundle per device and hour from metered generation; return bundles issued.

        ``hours`` has columns ``device_id``, ``hour_start`` (tz-aware) and ``energy_wh`` (whole
        Wh, :func:`greenlink.units.kwh_to_wh` of the metered kWh); hours with 0 Wh are skipped.

        An hour is a clock hour of the park's time zone (:func:`greenlink.flows.hour_key`),
        stored as the UTC instant it starts at. Its start must lie on a whole quarter hour of
        UTC: every real zone's clock hour starts on one (UTC+8 on the hour, India's UTC+5:30 at
        half past, Nepal's UTC+5:45 at a quarter to), so anything else is not an hour start.
        ``energy_wh`` may not exceed ``kwh_to_wh(capacity_kW · 1 h)``.
        """
        hours = hours[hours["energy_wh"] > 0]
        issued_on = issuance_date or datetime.now(UTC).date()
        expiry = issued_on + timedelta(days=expiry_days)
        with self._write("issue") as tx:
            s = tx.session
            if s.get(IssuanceMetaData, metadata_id) is None:
                raise RegistryError(f"issuance metadata {metadata_id} does not exist")
            devices = {d.id: d for d in s.execute(
                select(Device).where(Device.id.in_(hours["device_id"].unique().tolist()))
                .with_for_update()).scalars()}
            missing = sorted(set(hours["device_id"]) - set(devices))
            if missing:
                raise RegistryError(f"devices not registered: {missing}")
            starts = pd.DatetimeIndex(hours["hour_start"]).tz_convert("UTC")
            off_grid = np.flatnonzero(starts != starts.floor(HOUR_START_GRID))
            if off_grid.size:
                raise RegistryError(f"hour_start {starts[int(off_grid[0])].isoformat()} is not on "
                                    "a whole quarter hour of UTC (the start of a clock hour "
                                    "in the park's zone)")
            energy = hours["energy_wh"].to_numpy().astype("int64")
            device_ids = hours["device_id"].astype(str).tolist()
            one_hour_kwh = np.array([devices[d].capacity for d in device_ids], dtype=float)
            capacity_wh = kwh_to_wh(one_hour_kwh)  # capacity [kW] × 1 h
            over = np.flatnonzero(energy > capacity_wh)
            if over.size:
                i = int(over[0])
                raise RegistryError(f"device {device_ids[i]} hour {starts[i].isoformat()}: "
                                    f"{energy[i]} Wh is above capacity × 1 h = "
                                    f"{capacity_wh[i]} Wh")
            start_list = starts.to_pydatetime().tolist()
            end_list = (starts + pd.Timedelta(hours=1)).to_pydatetime().tolist()
            stamp = starts.strftime("%Y%m%dT%H%MZ").tolist()
            next_id = self._next_bundle_id(s)
            bulk_copy = s.connection().dialect.name == "postgresql"
            bundle_rows: list[dict[str, Any]] = []
            accounts: dict[str, str] = {}
            hashes: list[str] = []
            template = {"certificate_bundle_status": ACTIVE, "metadata_id": metadata_id,
                        "beneficiary": None, "claim_purpose": None, "face_value": 1,
                        "energy_carrier": energy_carrier,
                        "issuance_post_energy_carrier_conversion": False,
                        "emissions_factor_production_device": None,
                        "emissions_factor_source": None, "issuance_datestamp": issued_on,
                        "expiry_datestamp": expiry, "sdr_allocation_id": None,
                        "storage_efficiency_factor": None, "is_deleted": False,
                        "parent_bundle_id": None, "issued_event_seq": tx.seq,
                        "last_event_seq": tx.seq}
            cols = [c.name for c in Bundle.__table__.columns]
            varying = ["id", "issuance_id", "hash", "account_id",
                       "certificate_bundle_id_range_start", "certificate_bundle_id_range_end",
                       "bundle_quantity", "energy_source", "device_id",
                       "production_starting_interval", "production_ending_interval",
                       "is_storage"]
            hash_line = audit.format_template(audit.BUNDLE_FIELDS, template, varying,
                                              audit._text)
            copy_line = audit.format_template(cols, template, varying, _copy_text)
            start_text = [_copy_text(t) for t in start_list]
            end_text = [_copy_text(t) for t in end_list]
            start_canon = [audit._text(t) for t in start_list]
            end_canon = [audit._text(t) for t in end_list]
            lines: list[str] = []
            sha = hashlib.sha256
            for k, (dev_id, tag, wh) in enumerate(zip(device_ids, stamp, energy.tolist(),
                                                      strict=True)):
                d = devices[dev_id]
                issuance_id = f"{dev_id}-{energy_carrier}-{tag}"
                lo = d.next_wh_id
                values = {"id": next_id, "issuance_id": issuance_id,
                          "account_id": d.account_id, "certificate_bundle_id_range_start": lo,
                          "certificate_bundle_id_range_end": lo + wh - 1,
                          "bundle_quantity": wh, "energy_source": d.energy_source,
                          "device_id": dev_id, "is_storage": "1" if d.is_storage else "0"}
                h = sha(hash_line.format(
                    production_starting_interval=start_canon[k],
                    production_ending_interval=end_canon[k], hash="", **values).encode()
                    ).hexdigest()
                values["is_storage"] = "t" if d.is_storage else "f"
                lines.append(copy_line.format(
                    production_starting_interval=start_text[k],
                    production_ending_interval=end_text[k], hash=h, **values))
                hashes.append(h)
                if not bulk_copy:
                    row = dict(template)
                    row.update(values, hash=h, is_storage=d.is_storage,
                               production_starting_interval=start_list[k],
                               production_ending_interval=end_list[k])
                    bundle_rows.append(row)
                accounts[dev_id] = d.account_id
                d.next_wh_id += wh
                next_id += 1
            if lines:
                taken = _already_issued(s, device_ids, start_list)
                if taken:
                    raise RegistryError(f"already issued (device and hour): {taken[:5]}"
                                        f"{' …' if len(taken) > 5 else ''} — no device/hour is "
                                        "issued twice")
                if bulk_copy:
                    _copy_lines(s, Bundle.__tablename__, cols, lines)
                else:
                    for i in range(0, len(bundle_rows), 10000):
                        s.execute(insert(Bundle), bundle_rows[i:i + 10000])
            tx.payload = {"count": len(hashes), "digest": audit.batch_digest(hashes),
                          "accounts": accounts, "metadata_id": metadata_id,
                          "wh": int(energy.sum())}
            return len(hashes)

    # -- lifecycle -------------------------------------------------------------------------
    def _split(self, tx: _Tx, b: Bundle, quantity: int) -> tuple[Bundle, Bundle]:
        if not 0 < quantity < b.bundle_quantity:
            raise RegistryError(f"bundle {b.id}: cannot split {quantity} Wh off "
                                f"{b.bundle_quantity} Wh (need 0 < quantity < size)")
        next_id = self._next_bundle_id(tx.session)
        base = audit.row_dict(b)
        children = []
        ranges = [(b.certificate_bundle_id_range_start,
                   b.certificate_bundle_id_range_start + quantity - 1),
                  (b.certificate_bundle_id_range_start + quantity,
                   b.certificate_bundle_id_range_end)]
        for i, (lo, hi) in enumerate(ranges):
            fields = dict(base)
            fields.update(id=next_id + i, certificate_bundle_id_range_start=lo,
                          certificate_bundle_id_range_end=hi, bundle_quantity=hi - lo + 1,
                          parent_bundle_id=b.id, issued_event_seq=tx.seq,
                          last_event_seq=tx.seq, hash="")
            child = Bundle(**fields)
            tx.session.add(child)
            children.append(child)
        b.certificate_bundle_status = BUNDLE_SPLIT
        tx.touched.extend([b, *children])
        tx.session.flush()
        return children[0], children[1]

    def _active_of(self, tx: _Tx, bundle_id: int, account_id: str | None) -> Bundle:
        b = self._lock_bundle(tx.session, bundle_id)
        if b.certificate_bundle_status != ACTIVE:
            raise RegistryError(f"bundle {bundle_id} is {b.certificate_bundle_status}, not "
                                "Active")
        if account_id is not None and b.account_id != account_id:
            raise RegistryError(f"bundle {bundle_id} belongs to account {b.account_id!r}, not "
                                f"{account_id!r}")
        return b

    def split(self, bundle_id: int, quantity_wh: int, *, account_id: str | None = None
              ) -> tuple[int, int]:
        """Split ``quantity_wh`` off an Active bundle; return the two new bundle ids."""
        with self._write("split") as tx:
            b = self._active_of(tx, bundle_id, account_id)
            a, c = self._split(tx, b, quantity_wh)
            tx.payload.update(bundle=bundle_id, quantity_wh=quantity_wh)
            return a.id, c.id

    def transfer(self, bundle_id: int, to_account: str, *, from_account: str | None = None,
                 quantity_wh: int | None = None) -> int:
        """Transfer a bundle (or ``quantity_wh`` of it) to ``to_account``; return its id."""
        with self._write("transfer") as tx:
            b = self._active_of(tx, bundle_id, from_account)
            sender = b.account_id
            if tx.session.get(Account, to_account) is None:
                raise RegistryError(f"account {to_account!r} does not exist")
            if to_account != sender and tx.session.get(
                    AccountWhitelist, (to_account, sender)) is None:
                raise RegistryError(f"account {to_account!r} has not whitelisted "
                                    f"{sender!r}; it cannot receive from it")
            if quantity_wh is not None and quantity_wh != b.bundle_quantity:
                b, _rest = self._split(tx, b, quantity_wh)
            b.account_id = to_account
            if b not in tx.touched:
                tx.touched.append(b)
            tx.payload.update(bundle=bundle_id, moved=b.id, sender=sender, to=to_account,
                              quantity_wh=b.bundle_quantity)
            return b.id

    def cancel(self, bundle_id: int, *, beneficiary: str, purpose: str,
               account_id: str | None = None, quantity_wh: int | None = None) -> int:
        """Cancel (claim) a bundle or part of it for a beneficiary and purpose; return its id."""
        if purpose not in CLAIM_PURPOSES:
            raise RegistryError(f"purpose {purpose!r} is not one of {CLAIM_PURPOSES}")
        if not beneficiary:
            raise RegistryError("a cancellation needs a beneficiary")
        with self._write("cancel") as tx:
            b = self._active_of(tx, bundle_id, account_id)
            if quantity_wh is not None and quantity_wh != b.bundle_quantity:
                b, _rest = self._split(tx, b, quantity_wh)
            hour = _utc(b.production_starting_interval)
            c = tx.session.execute(select(Consumption).where(
                Consumption.beneficiary == beneficiary, Consumption.hour_start == hour
            ).with_for_update()).scalar_one_or_none()
            if c is not None and purpose != STORAGE_CHARGE:
                if c.claimed_wh + b.bundle_quantity > c.consumption_wh:
                    raise RegistryError(
                        f"{beneficiary} consumed {c.consumption_wh} Wh in the hour from "
                        f"{hour.isoformat()}; {c.claimed_wh} Wh are claimed already, "
                        f"{b.bundle_quantity} Wh more would exceed it")
                c.claimed_wh += b.bundle_quantity
            b.certificate_bundle_status = CLAIMED if purpose != STORAGE_CHARGE else CANCELLED
            b.beneficiary = beneficiary
            b.claim_purpose = purpose
            if b not in tx.touched:
                tx.touched.append(b)
            tx.payload.update(bundle=bundle_id, cancelled=b.id, beneficiary=beneficiary,
                              purpose=purpose, quantity_wh=b.bundle_quantity)
            return b.id

    def withdraw(self, bundle_id: int, *, reason: str = "") -> None:
        """Withdraw an Active bundle (issuing body only: e.g. the meter data were wrong)."""
        with self._write("withdraw") as tx:
            b = self._active_of(tx, bundle_id, None)
            b.certificate_bundle_status = WITHDRAWN
            tx.touched.append(b)
            tx.payload.update(bundle=bundle_id, reason=reason)

    def record_consumption(self, beneficiary: str, hour_start: datetime, wh: int) -> None:
        """Register a beneficiary's metered consumption in one hour (ceiling of its claims)."""
        hour = _utc(hour_start)
        with self._write("consumption") as tx:
            c = tx.session.get(Consumption, (beneficiary, hour))
            if c is None:
                tx.session.add(Consumption(beneficiary=beneficiary, hour_start=hour,
                                           consumption_wh=int(wh), claimed_wh=0))
            elif c.claimed_wh > wh:
                raise RegistryError(f"{beneficiary} has {c.claimed_wh} Wh claimed in that hour, "
                                    f"more than {wh} Wh")
            else:
                c.consumption_wh = int(wh)
            tx.payload.update(beneficiary=beneficiary, hour=hour.isoformat(), wh=int(wh))

    def record_consumption_table(self, table: pd.DataFrame) -> int:
        """Register many hourly consumptions at once (``beneficiary``, ``hour_start``, ``wh``);
        existing hours are updated (never below what is claimed). One event; returns rows."""
        with self._write("consumption_table") as tx:
            s = tx.session
            existing = {(c.beneficiary, _utc(c.hour_start)): c for c in s.execute(
                select(Consumption).where(Consumption.beneficiary.in_(
                    sorted(set(table["beneficiary"])))).with_for_update()).scalars()}
            hours = pd.DatetimeIndex(table["hour_start"]).tz_convert("UTC").to_pydatetime()
            new: list[dict[str, Any]] = []
            total = 0
            for who, hour, wh in zip(table["beneficiary"].astype(str).tolist(), hours,
                                     table["wh"].astype("int64").tolist(), strict=True):
                total += wh
                c = existing.get((who, hour))
                if c is None:
                    new.append({"beneficiary": who, "hour_start": hour, "consumption_wh": wh,
                                "claimed_wh": 0})
                elif c.claimed_wh > wh:
                    raise RegistryError(f"{who} has {c.claimed_wh} Wh claimed in the hour from "
                                        f"{hour.isoformat()}, more than {wh} Wh")
                else:
                    c.consumption_wh = wh
            for i in range(0, len(new), 10000):
                s.execute(insert(Consumption), new[i:i + 10000])
            tx.payload.update(rows=len(table), wh=total)
            return len(table)

    # -- storage ---------------------------------------------------------------------------
    def storage_charge(self, storage_device: str, bundle_ids: Sequence[int], *,
                       account_id: str | None = None) -> int:
        """Cancel bundles into a storage device: one storage charge record (SCR); its id."""
        with self._write("storage_charge") as tx:
            s = tx.session
            d = s.get(Device, storage_device)
            if d is None or not d.is_storage:
                raise RegistryError(f"{storage_device!r} is not a registered storage device")
            total = 0
            starts: list[datetime] = []
            for bid in bundle_ids:
                b = self._active_of(tx, bid, account_id)
                b.certificate_bundle_status = CANCELLED
                b.beneficiary = storage_device
                b.claim_purpose = STORAGE_CHARGE
                tx.touched.append(b)
                total += b.bundle_quantity
                starts.append(_utc(b.production_starting_interval))
            if not starts:
                raise RegistryError("a storage charge needs at least one bundle")
            scr = StorageChargeRecord(device_id=storage_device, charging_start=min(starts),
                                      charging_end=max(starts) + timedelta(hours=1),
                                      charge_wh=total, remaining_wh=total,
                                      gc_allocation_bundle_ids=",".join(map(str, bundle_ids)))
            s.add(scr)
            s.flush()
            tx.payload.update(scr=scr.id, device=storage_device, wh=total)
            return scr.id

    def storage_discharge(self, storage_device: str, hour_start: datetime, discharge_wh: int,
                          *, efficiency: float, metadata_id: int) -> int:
        """Record a metered discharge, draw on charge records FIFO, issue SD-GCs; the SDR id.

        ``drawn = ⌈discharge_wh / efficiency⌉`` Wh of charge records are used (oldest first);
        ``loss = drawn − discharge_wh``. Raises if the records hold less than ``drawn``.
        """
        if not 0 < efficiency <= 1:
            raise RegistryError("storage efficiency must be in (0, 1]")
        hour = _utc(hour_start)
        with self._write("storage_discharge") as tx:
            s = tx.session
            d = s.get(Device, storage_device, with_for_update=True)
            if d is None or not d.is_storage:
                raise RegistryError(f"{storage_device!r} is not a registered storage device")
            drawn = math.ceil(discharge_wh / efficiency - 1e-9)
            records = s.execute(select(StorageChargeRecord).where(
                StorageChargeRecord.device_id == storage_device,
                StorageChargeRecord.remaining_wh > 0,
                StorageChargeRecord.charging_start <= hour).order_by(
                StorageChargeRecord.charging_start, StorageChargeRecord.id).with_for_update()
            ).scalars().all()
            available = sum(r.remaining_wh for r in records)
            if available < drawn:
                raise RegistryError(f"storage {storage_device} holds {available} Wh of charge "
                                    f"records; discharging {discharge_wh} Wh at efficiency "
                                    f"{efficiency:g} needs {drawn} Wh")
            need = drawn
            parts: list[str] = []
            for r in records:
                take = min(need, r.remaining_wh)
                if take <= 0:
                    break
                r.remaining_wh -= take
                parts.append(f"{r.id}:{take}")
                need -= take
            sdr = StorageDischargeRecord(
                device_id=storage_device, discharging_start=hour,
                discharging_end=hour + timedelta(hours=1), discharge_wh=discharge_wh,
                drawn_charge_wh=drawn, loss_wh=drawn - discharge_wh, allocation_method="FIFO",
                storage_efficiency_factor=efficiency, scr_allocations=",".join(parts))
            s.add(sdr)
            s.flush()
            issuance_id = f"{storage_device}-SD-{hour.strftime('%Y%m%dT%H%MZ')}-{sdr.id}"
            bundle = Bundle(
                id=self._next_bundle_id(s), issuance_id=issuance_id, hash="",
                certificate_bundle_status=ACTIVE, account_id=d.account_id,
                metadata_id=metadata_id, certificate_bundle_id_range_start=d.next_wh_id,
                certificate_bundle_id_range_end=d.next_wh_id + discharge_wh - 1,
                bundle_quantity=discharge_wh, face_value=1, energy_carrier="Electricity",
                energy_source=d.energy_source, issuance_post_energy_carrier_conversion=False,
                device_id=storage_device, production_starting_interval=hour,
                production_ending_interval=hour + timedelta(hours=1),
                issuance_datestamp=datetime.now(UTC).date(),
                expiry_datestamp=datetime.now(UTC).date() + timedelta(days=730),
                is_storage=True, sdr_allocation_id=sdr.id, storage_efficiency_factor=efficiency,
                is_deleted=False, parent_bundle_id=None, issued_event_seq=tx.seq,
                last_event_seq=tx.seq)
            d.next_wh_id += discharge_wh
            s.add(bundle)
            tx.touched.append(bundle)
            tx.payload.update(sdr=sdr.id, device=storage_device, discharge_wh=discharge_wh,
                              drawn_wh=drawn, allocations=parts)
            return sdr.id

    # -- queries ---------------------------------------------------------------------------
    def bundles(self, *, account_id: str | None = None, status: str | None = None,
                device_id: str | None = None) -> pd.DataFrame:
        """Bundles as a table (every FEA field), optionally filtered."""
        q = select(Bundle.__table__)
        if account_id is not None:
            q = q.where(Bundle.account_id == account_id)
        if status is not None:
            q = q.where(Bundle.certificate_bundle_status == status)
        if device_id is not None:
            q = q.where(Bundle.device_id == device_id)
        with self.engine.connect() as con:
            return pd.read_sql(q.order_by(Bundle.id), con)

    def verify(self) -> audit.VerifyResult:
        with self.sessions() as s:
            return audit.verify(s)

    def events(self) -> int:
        with self.sessions() as s:
            return int(s.execute(select(func.count()).select_from(Event)).scalar_one())


def _already_issued(s: Session, device_ids: list[str], starts: list[datetime]) -> list[str]:
    """``device@hour`` of the given issues that exist already (one range query)."""
    existing = set(s.execute(select(Bundle.device_id, Bundle.production_starting_interval).where(
        Bundle.device_id.in_(sorted(set(device_ids))), Bundle.parent_bundle_id.is_(None),
        Bundle.is_storage.is_(False), Bundle.production_starting_interval >= min(starts),
        Bundle.production_starting_interval <= max(starts))).tuples())
    if not existing:
        return []
    have = {(d, _utc(t)) for d, t in existing}
    return [f"{d}@{t.isoformat()}" for d, t in zip(device_ids, starts, strict=True)
            if (d, _utc(t)) in have]


def _copy_text(value: Any) -> str:
    """A value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                .replace("\r", "\\r"))
    return text


def _copy_lines(s: Session, table: str, cols: list[str], lines: list[str]) -> None:
    """COPY pre-formatted text lines into a PostgreSQL table (fast bulk insert)."""
    raw = s.connection().connection.dbapi_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(  # type: ignore[attr-defined]
            f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
        for i in range(0, len(lines), 20000):
            copy.write("".join(lines[i:i + 20000]))
