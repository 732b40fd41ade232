"""What enters the registry: certificates issued from metered generation, the metered
consumption that caps claims, and imported GEC records — each in one event, rows inserted in
bulk recorded as batches (PostgreSQL: COPY).

The issuance ceiling (:func:`hour_limit_wh`) is the bound meter ingest puts on a generator's
readings, so every hour ingest stores is issuable.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from greenlink.certificates import identity
from greenlink.certificates.chained import BUNDLE_FIELDS, BUNDLES, BY_MODEL
from greenlink.certificates.digests import _text, batch_record, format_template, key_of, row_hash
from greenlink.certificates.errors import RegistryError
from greenlink.certificates.models import (
    ACTIVE,
    Consumption,
    Device,
    GecRecord,
    GranularCertificateBundle,
    IssuanceMetaData,
    as_utc,
)
from greenlink.certificates.writer import Tx
from greenlink.units import kwh_to_wh

Bundle = GranularCertificateBundle

#: Every hour start lies on this grid of UTC: a local clock hour of any real time zone starts on
#: a whole quarter hour of UTC (UTC+8 on the hour, UTC+5:30 at half past, UTC+5:45 at a quarter
#: to).
HOUR_START_GRID = pd.Timedelta(minutes=15)


@lru_cache(maxsize=1)
def rating_margin() -> float:
    """The tolerance above a rating that meter ingest allows (``rating_margin`` of
    ``data/metering/defaults.toml``): the registry's issuance ceiling uses the same number."""
    from greenlink.metering.validate import ValidationParams

    return float(ValidationParams.defaults().rating_margin)


def hour_limit_wh(capacity_kw: Any) -> Any:
    """Most Wh a device of ``capacity_kw`` may be issued for one hour: ``kwh_to_wh(capacity ×
    1 h × rating_margin)`` — the sum of the most its meter may read in the hour's intervals
    (:func:`greenlink.metering.validate.interval_limit_kwh`), so every hour ingest stores is
    issuable."""
    from greenlink.metering.validate import interval_limit_kwh

    return kwh_to_wh(interval_limit_kwh(capacity_kw, 60, rating_margin()))


class IssuanceOps:
    """Issuance, consumption records and GEC import of :class:`greenlink.certificates.registry
    .Registry`."""

    if TYPE_CHECKING:
        def _run(self, kind: str, fn: Callable[[Tx], Any]) -> Any: ...

        def _next_bundle_id(self, s: Session) -> int: ...

    def issue(self, hours: pd.DataFrame, *, metadata_id: int, issuance_date: date | None = None,
              expiry_days: int = 365 * 2, energy_carrier: str = "Electricity") -> int:
        """Issue one bundle per device and hour from metered generation; return bundles issued.

        ``hours`` has columns ``device_id``, ``hour_start`` (tz-aware) and ``energy_wh`` (whole
        Wh, :func:`greenlink.units.kwh_to_wh` of the metered kWh); hours with 0 Wh are skipped.

        An hour is a clock hour of the park's time zone (:func:`greenlink.flows.hour_key`),
        stored as the UTC instant it starts at. Its start must lie on a whole quarter hour of
        UTC: every real zone's clock hour starts on one (UTC+8 on the hour, India's UTC+5:30 at
        half past, Nepal's UTC+5:45 at a quarter to), so anything else is not an hour start.
        ``energy_wh`` may not exceed :func:`hour_limit_wh` (capacity × 1 h × ``rating_margin``,
        the bound meter ingest puts on a generator's readings).
        """
        hours = hours[hours["energy_wh"] > 0]
        issued_on = issuance_date or datetime.now(UTC).date()
        expiry = issued_on + timedelta(days=expiry_days)
        def op(tx: Tx) -> Any:
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
            capacity_kw = np.array([devices[d].capacity for d in device_ids], dtype=float)
            capacity_wh = hour_limit_wh(capacity_kw)  # capacity [kW] × 1 h × rating_margin
            over = np.flatnonzero(energy > capacity_wh)
            if over.size:
                i = int(over[0])
                raise RegistryError(f"device {device_ids[i]} hour {starts[i].isoformat()}: "
                                    f"{energy[i]} Wh is above capacity × 1 h × rating_margin "
                                    f"= {capacity_wh[i]} Wh ({capacity_kw[i]:g} kW, "
                                    f"rating_margin {rating_margin():g})")
            start_list = starts.to_pydatetime().tolist()
            end_list = [] if s.connection().dialect.name == "postgresql" else (
                starts + pd.Timedelta(hours=1)).to_pydatetime().tolist()
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
            hash_line, hash_order = format_template(BUNDLE_FIELDS, template,
                                                          varying, _text)
            copy_line, copy_order = format_template(cols, template, varying, _copy_text)
            # the varying values of a row, in this order, picked for each template
            canonical_order = ["id", "issuance_id", "account_id",
                               "certificate_bundle_id_range_start",
                               "certificate_bundle_id_range_end", "bundle_quantity",
                               "energy_source", "device_id", "is_storage",
                               "production_starting_interval", "production_ending_interval",
                               "hash"]
            hash_pick = itemgetter(*[canonical_order.index(n) for n in hash_order])
            copy_pick = itemgetter(*[canonical_order.index(n) for n in copy_order])
            # hour starts lie on the quarter-hour grid (checked above): whole seconds, so the
            # vectorised texts equal _copy_text (COPY) and _text (digest) of each instant
            ends = starts + pd.Timedelta(hours=1)
            start_text = starts.strftime("%Y-%m-%dT%H:%M:%S+00:00").tolist()
            end_text = ends.strftime("%Y-%m-%dT%H:%M:%S+00:00").tolist()
            start_canon = starts.strftime("%Y-%m-%dT%H:%M:%S").tolist()
            end_canon = ends.strftime("%Y-%m-%dT%H:%M:%S").tolist()
            next_wh = {dev_id: int(d.next_wh_id) for dev_id, d in devices.items()}
            lines: list[str] = []
            sha = hashlib.sha256
            # per device: its strings as the digest renders them and as COPY does (escaping
            # is per character, so a rendered prefix + the time tag renders the issuance id)
            canon: dict[str, tuple[str, str, str, str, str]] = {}
            copied: dict[str, tuple[str, str, str, str, str]] = {}
            for dev_id, d in devices.items():
                prefix = f"{dev_id}-{energy_carrier}-"
                canon[dev_id] = (_text(prefix), _text(d.account_id),
                                 _text(d.energy_source), _text(dev_id),
                                 "1" if d.is_storage else "0")
                copied[dev_id] = (_copy_text(prefix), _copy_text(d.account_id),
                                  _copy_text(d.energy_source), _copy_text(dev_id),
                                  "t" if d.is_storage else "f")
            first_id = next_id
            for k, (dev_id, tag, wh) in enumerate(zip(device_ids, stamp, energy.tolist(),
                                                      strict=True)):
                lo = next_wh[dev_id]
                hi = lo + wh - 1
                c = canon[dev_id]
                text = hash_line % hash_pick((
                    next_id, c[0] + tag, c[1], lo, hi, wh, c[2], c[3], c[4], start_canon[k],
                    end_canon[k], ""))
                h = sha(text.encode()).hexdigest()
                if bulk_copy:
                    p = copied[dev_id]
                    lines.append(copy_line % copy_pick((
                        next_id, p[0] + tag, p[1], lo, hi, wh, p[2], p[3], p[4], start_text[k],
                        end_text[k], h)))
                else:
                    d = devices[dev_id]
                    row = dict(template)
                    row.update(id=next_id, issuance_id=f"{dev_id}-{energy_carrier}-{tag}",
                               account_id=d.account_id, certificate_bundle_id_range_start=lo,
                               certificate_bundle_id_range_end=hi, bundle_quantity=wh,
                               energy_source=d.energy_source, device_id=dev_id,
                               is_storage=d.is_storage, hash=h,
                               production_starting_interval=start_list[k],
                               production_ending_interval=end_list[k])
                    bundle_rows.append(row)
                hashes.append(h)
                next_wh[dev_id] = lo + wh
                next_id += 1
            for dev_id, d in devices.items():
                accounts[dev_id] = d.account_id
                if d.next_wh_id != next_wh[dev_id]:
                    d.next_wh_id = next_wh[dev_id]
            if hashes:
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
                tx.add_batch(batch_record(BUNDLES.name, hashes,
                                                id_range=(first_id, next_id - 1)))
            tx.payload.update(count=len(hashes), accounts=accounts, metadata_id=metadata_id,
                              wh=int(energy.sum()))
            return len(hashes)
        return self._run("issue", op)


    def record_consumption(self, beneficiary: str, hour_start: datetime, wh: int) -> None:
        """Register a beneficiary's metered consumption in one hour (ceiling of its claims)."""
        hour = as_utc(hour_start)
        def op(tx: Tx) -> Any:
            c = tx.session.get(Consumption, (beneficiary, hour))
            if c is None and tx.session.execute(select(Consumption.beneficiary).where(
                    Consumption.beneficiary == beneficiary).limit(1)).first() is None:
                identity.refuse_variants(tx.session, "user", [beneficiary])  # a new user
            if c is None:
                tx.session.add(Consumption(beneficiary=beneficiary, hour_start=hour,
                                           consumption_wh=int(wh), claimed_wh=0))
            elif c.claimed_wh > wh:
                raise RegistryError(f"{beneficiary} has {c.claimed_wh} Wh claimed in that hour, "
                                    f"more than {wh} Wh")
            else:
                c.consumption_wh = int(wh)
            tx.payload.update(beneficiary=beneficiary, hour=hour.isoformat(), wh=int(wh))
        self._run("consumption", op)

    def record_consumption_table(self, table: pd.DataFrame) -> int:
        """Register many hourly consumptions at once (``beneficiary``, ``hour_start``, ``wh``);
        existing hours are updated (never below what is claimed). One event; returns rows."""
        def op(tx: Tx) -> Any:
            s = tx.session
            existing = {(c.beneficiary, as_utc(c.hour_start)): c for c in s.execute(
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
            users = {who for who, _hour in existing}
            identity.refuse_variants(s, "user", sorted({r["beneficiary"] for r in new} - users))
            for i in range(0, len(new), 10000):
                s.execute(insert(Consumption), new[i:i + 10000])
            if new:
                chained = BY_MODEL[Consumption]
                tx.add_batch(batch_record(
                    chained.name, [row_hash(chained, r) for r in new],
                    keys=[key_of(chained, r) for r in new]))
            tx.payload.update(rows=len(table), wh=total)
            return len(table)
        return self._run("consumption_table", op)

    # -- China's green certificates (GEC) ----------------------------------------------------
    def import_gec_file(self, path: str | Path, mapping: Any) -> Any:
        """Import a GEC export (``greenlink registry gec import``): all rows in one event, or
        none (:mod:`greenlink.certificates.gec`: checks, idempotence, serial overlaps)."""
        from greenlink.certificates.gec import read_gec_file, store_gec_rows

        parsed, mapping = read_gec_file(path, mapping)

        def op(tx: Tx) -> Any:
            result = store_gec_rows(tx.session, parsed, mapping)
            if result.stored_rows:
                chained = BY_MODEL[GecRecord]
                tx.add_batch(batch_record(
                    chained.name, [row_hash(chained, r) for r in result.stored_rows],
                    keys=[key_of(chained, r) for r in result.stored_rows]))
            tx.payload.update(gec_file=Path(parsed.name).name, sha256=parsed.sha256,
                              imported=result.imported, digest=result.digest)
            return result
        return self._run("gec_import", op)


def _already_issued(s: Session, device_ids: list[str], starts: list[datetime]) -> list[str]:
    """``device@hour`` of the given issues that exist already (one range query)."""
    existing = set(s.execute(select(Bundle.device_id, Bundle.production_starting_interval).where(
        Bundle.device_id.in_(sorted(set(device_ids))), Bundle.parent_bundle_id.is_(None),
        Bundle.is_storage.is_(False), Bundle.production_starting_interval >= min(starts),
        Bundle.production_starting_interval <= max(starts))).tuples())
    if not existing:
        return []
    have = {(d, as_utc(t)) for d, t in existing}
    return [f"{d}@{t.isoformat()}" for d, t in zip(device_ids, starts, strict=True)
            if (d, as_utc(t)) in have]


def _copy_text(value: Any) -> str:
    """A value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
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
