"""GEC records in the registry database: queries for the claim path, import, checks."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.orm import Session

from greenlink.certificates import identity
from greenlink.certificates.gec.facts import (
    gec_timezone,
    month_bounds_utc,
    month_of,
    month_start,
    record_range,
)
from greenlink.certificates.gec.mapping import (
    GecMapping,
    ParsedFile,
    ParsedRow,
    _norm,
    _refuse,
    load_mapping,
    parse_gec_csv,
)
from greenlink.certificates.gec.position import (
    Claim,
    ClaimBacking,
    GecEntry,
    GecPosition,
    _entry,
    _stage,
    assign_serials,
    device_month_position,
)
from greenlink.certificates.models import (
    CANCELLED,
    CLAIMED,
    GEC_ISSUED,
    Account,
    Device,
    GecRecord,
    GranularCertificateBundle,
)
from greenlink.certificates.purposes import STORAGE_CHARGE
from greenlink.errors import InputError, Problem

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
    #: the records stored, as inserted (for the registry's chain)
    stored_rows: list[dict[str, Any]] = field(default_factory=list, repr=False)


def _row_hash(values: Mapping[str, Any]) -> str:
    keys = ("device_id", "production_month", "serial_prefix", "serial_suffix", "serial_digits",
            "serial_start", "serial_end", "certificate_count", "status", "tradable",
            "holder_name", "holder_account_id", "holder_external", "beneficiary_name",
            "beneficiary_account_id", "beneficiary_external")
    canon = {k: (v.isoformat() if isinstance(v, date) else v) for k in keys
             for v in [values[k]]}
    return hashlib.sha256(json.dumps(canon, sort_keys=True, ensure_ascii=False, allow_nan=False,
                                     separators=(",", ":")).encode()).hexdigest()



def read_gec_file(path: str | Path, mapping: GecMapping | str | Path
                  ) -> tuple[ParsedFile, GecMapping]:
    """Parse a GEC export with its mapping (nothing stored); every bad row refused at once.

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
    return parsed, mapping


def store_gec_rows(s: Session, parsed: ParsedFile, mapping: GecMapping) -> ImportResult:
    """Check parsed rows against the database and insert them, in the caller's transaction
    (nothing is written when a problem is found)."""
    if _dialect(s) == "postgresql":  # one import at a time; claims (SHARE) wait for it
        s.execute(text(f"LOCK TABLE {GecRecord.__tablename__} IN SHARE ROW EXCLUSIVE MODE"))
    result = ImportResult(parsed.name, parsed.sha256, len(parsed.rows))
    accounts = set(s.execute(select(Account.id)).scalars())
    devices = {d: a for d, a in s.execute(select(Device.id, Device.account_id)).all()}
    known = identity.known_ids(s)
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
        if _norm(name) not in to_external:
            # a name standing for itself must not look like a registered id: GECs cancelled
            # for "ALU_EXTRUDER" are not the park user alu_extruder's, nor an outsider's
            twin = identity.refusal(name, fld, known, new=False)
            if twin is not None:
                problems.append(Problem(twin, file=parsed.name, location=parsed.where(row, fld),
                                        expected="the registered id itself, or a name mapped "
                                                 "in [accounts] or [external]"))
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
                                  if record_range(i).overlaps(r.serials)), False)
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
        first = int(s.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1
        for n, v in enumerate(stored):
            v["id"] = first + n  # explicit ids: the registry's chain records each row by id
        s.execute(insert(GecRecord), stored)
    result.stored_rows = stored
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
                        f"serials {record_range(culprit)} overlap serials "
                        f"{record_range(other)} {verb} in {origin(other)}", file=parsed.name,
                        location=parsed.where(culprit["source_row"], "serial_start"),
                        expected="each GEC serial issued, transferred and cancelled at most "
                                 "once"))
            if prev is None or v["serial_end"] > prev["serial_end"]:
                reach[key] = v
    issued = [v for v in everything if v["status"] == GEC_ISSUED]
    for v in stored:
        if v["status"] == GEC_ISSUED:
            continue
        rng = record_range(v)
        cover = sorted((i for i in issued if record_range(i).overlaps(rng)),
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
