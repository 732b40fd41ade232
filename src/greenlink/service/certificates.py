"""Park meter files (``greenlink.metering``) and the park's certificate registry
(``greenlink.certificates``) behind the service.

Each park keeps its metering store (DuckDB) and its registry (SQLite) in its own folder:
``<park>/meters/meters.duckdb`` and ``<park>/registry.sqlite``, so parks never share accounts or
certificates. Registry accounts: ``park`` (the operator's, which receives every issuance) and one
per scenario user, named after the user id and accepting transfers from ``park``. The operator
(and admin) transfer and claim from ``park`` only; a tenant acts on its own account only and
claims for itself only; nobody moves another account's certificates.

Every state change is written to the service's audit log after the registry or store has
committed it (the registry keeps its own tamper-evident hash chain as well).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select

from greenlink import jsonio
from greenlink.database import transaction
from greenlink.errors import InputError, Problem
from greenlink.service import audit
from greenlink.service.context import Principal, ServiceContext
from greenlink.service.errors import NotFound
from greenlink.service.models import MeterIngest
from greenlink.service.parks import ParkScope, park_scope
from greenlink.service.roles import Action
from greenlink.service.uploads import UploadedFile, as_uploaded
from greenlink.workflows import registry as flow
from greenlink.workflows.registry import USER_CLAIM_PURPOSES

PARK_ACCOUNT = "park"
METER_SUFFIXES = (".csv", ".parquet")
MAX_STORED_ISSUES = 2000  # issues kept in a stored report (the counts per meter are complete)
BUNDLE_FIELDS = ["id", "account_id", "device_id", "production_starting_interval",
                 "bundle_quantity", "certificate_bundle_status", "beneficiary", "claim_purpose",
                 "energy_source", "issuance_id"]

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()
_registries: dict[tuple[str, Path | None], Any] = {}


def _lock(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def store_path(scope: ParkScope) -> Path:
    return scope.folder / "meters" / "meters.duckdb"


def registry_url(scope: ParkScope) -> str:
    return f"sqlite:///{scope.folder / 'registry.sqlite'}"


def _scenario(scope: ParkScope) -> Any:
    from greenlink.scenario.load import load_scenario

    return load_scenario(scope.folder / "scenario" / "park.toml").scenario


def registry_of(scope: ParkScope, key_dir: Path | None = None) -> Any:
    """The park's registry (migrated once, cached), signing with the operator's key folder
    (``Settings.registry_key_dir``)."""
    url = registry_url(scope)
    with _lock("registry-open"):
        if (url, key_dir) not in _registries:
            _registries[(url, key_dir)] = flow.open_registry(url, key_dir=key_dir)
        return _registries[(url, key_dir)]


def _registry(ctx: ServiceContext, scope: ParkScope) -> Any:
    return registry_of(scope, ctx.settings.registry_key_dir)


# ------------------------------------------------------------------ meter files


def _meters_of_user(scenario: Any, user_id: str) -> set[str]:
    return {m.id for m in scenario.meters if m.measures == user_id}


def ingest_meter_files(ctx: ServiceContext, actor: Principal, park_id: int,
                       files: list[UploadedFile]) -> MeterIngest:
    """Read, validate and store park meter files (CSV or Parquet, long or wide layout, see
    docs/metering.md) in the park's store; the validation report is kept with the ingest.

    Bad files raise :class:`InputError` and nothing is stored (one store transaction).
    """
    from greenlink.workflows.meters import ingest as ingest_files

    scope = park_scope(ctx, actor, park_id, Action.METER_INGEST)
    if not files:
        raise InputError(Problem("no files", location="files", expected="meter files"))
    names = []
    for f in files:
        name = Path(f.filename).name
        if not name.lower().endswith(METER_SUFFIXES) or name.startswith("."):
            raise InputError(Problem(f"file {f.filename!r}", location="files",
                                     expected="a .csv or .parquet meter file"))
        names.append(name)
    if len(set(names)) != len(names):
        raise InputError(Problem("two files with the same name", location="files",
                                 expected="distinct file names"))
    scenario = _scenario(scope)
    staging = ctx.settings.data_dir / "staging" / f"meters-{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    try:
        paths = []
        for name, f in zip(names, files, strict=True):
            (staging / name).write_bytes(f.content)
            paths.append(staging / name)
        store = store_path(scope)
        store.parent.mkdir(parents=True, exist_ok=True)
        with _lock(f"store-{store}"):
            report = ingest_files(scenario, paths, store)
    except InputError as exc:
        raise as_uploaded(exc, staging) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    data: dict[str, Any] = report.to_json()
    issues = list(data.get("issues", []))
    data["issues_total"] = len(issues)
    data["issues"] = issues[:MAX_STORED_ISSUES]
    with transaction(ctx.sessions) as s:
        row = MeterIngest(park_id=park_id, filenames=names, readings=int(report.readings),
                          issues=len(issues), report=data, uploaded_by=actor.user_id)
        s.add(row)
        s.flush()
        audit.record(s, actor, "meter.ingest", f"meter_ingest:{row.id}", park_id=park_id,
                     files=names, readings=row.readings, issues=row.issues,
                     sha256=[f["sha256"] for f in data["files"]])
        return row


def _filter_report(report: dict[str, Any], meters: set[str]) -> dict[str, Any]:
    out = dict(report)
    out["per_meter"] = {k: v for k, v in report.get("per_meter", {}).items() if k in meters}
    out["issues"] = [i for i in report.get("issues", []) if i.get("meter_id") in meters]
    out["issues_total"] = len(out["issues"])
    return out


def list_meter_ingests(ctx: ServiceContext, actor: Principal, park_id: int
                       ) -> list[MeterIngest]:
    park_scope(ctx, actor, park_id, Action.METER_REPORT_READ)
    with ctx.sessions() as s:
        return list(s.scalars(select(MeterIngest).where(MeterIngest.park_id == park_id)
                              .order_by(MeterIngest.id.desc())))


def meter_ingest_report(ctx: ServiceContext, actor: Principal, park_id: int,
                        ingest_id: int) -> dict[str, Any]:
    """The validation report of one ingest; a tenant sees only its own user's meters."""
    scope = park_scope(ctx, actor, park_id, Action.METER_REPORT_READ)
    with ctx.sessions() as s:
        row = s.get(MeterIngest, ingest_id)
    if row is None or row.park_id != park_id:
        raise NotFound(f"meter ingest {ingest_id} not found in park {park_id}")
    report = dict(row.report)
    if scope.user_id is not None:
        report = _filter_report(report, _meters_of_user(_scenario(scope), scope.user_id))
    return {"id": row.id, "park_id": park_id, "filenames": row.filenames,
            "created_at": row.created_at.isoformat(), "report": report}


# ------------------------------------------------------------------ certificates


def issue_certificates(ctx: ServiceContext, actor: Principal, park_id: int) -> dict[str, int]:
    """Issue hourly certificates into the ``park`` account from the park's ingested meter data
    (complete, not yet issued hours only; see docs/registry.md)."""
    scope = park_scope(ctx, actor, park_id, Action.CERT_ISSUE)
    store = store_path(scope)
    if not store.exists():
        raise NotFound(f"park {park_id} has no meter data yet (ingest meter files first)")
    scenario = _scenario(scope)
    registry = _registry(ctx, scope)
    with _lock(f"store-{store}"):
        flow.ensure_users(registry, PARK_ACCOUNT, list(scope.park.user_ids))
        r = flow.issue_from_store(registry, scenario, store, account_id=PARK_ACCOUNT)
    result = {"bundles": int(r.bundles), "wh": int(r.wh),
              "skipped_incomplete_hours": int(r.skipped_incomplete_hours),
              "skipped_already_issued": int(r.skipped_already_issued)}
    with transaction(ctx.sessions) as s:
        audit.record(s, actor, "cert.issue", f"park:{park_id}", **result)
    return result


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    frame = frame.copy()
    for col in ("production_starting_interval",):
        frame[col] = pd.to_datetime(frame[col], utc=True).map(lambda t: t.isoformat())
    return jsonio.records(frame)


def holdings(ctx: ServiceContext, actor: Principal, park_id: int, account_id: str | None = None,
             status: str | None = None, limit: int = 200, offset: int = 0) -> dict[str, Any]:
    """Bundles of the park's registry with totals per account and status; a tenant sees its own
    account only."""
    scope = park_scope(ctx, actor, park_id, Action.CERT_READ)
    if scope.user_id is not None:
        if account_id not in (None, scope.user_id):
            raise NotFound(f"account {account_id!r} not found")
        account_id = scope.user_id
    frame = _registry(ctx, scope).bundles(account_id=account_id, status=status)
    leaves = frame[frame["certificate_bundle_status"] != "Bundle Split"]
    totals = (leaves.groupby(["account_id", "certificate_bundle_status"])["bundle_quantity"]
              .sum().reset_index())
    return {"park_id": park_id, "account_id": account_id, "status": status,
            "bundles_total": len(frame),
            "totals": [{"account_id": str(a), "status": str(st), "wh": int(q)}
                       for a, st, q in totals.itertuples(index=False)],
            "bundles": _records(frame[BUNDLE_FIELDS].iloc[offset:offset + limit])}


def holder_account(scope: ParkScope) -> str:
    """The registry account the caller acts on: a tenant's own, otherwise ``park``."""
    return scope.user_id or PARK_ACCOUNT


def transfer(ctx: ServiceContext, actor: Principal, park_id: int, bundle_id: int,
             to_account: str, quantity_wh: int | None = None) -> int:
    """Transfer a bundle (or ``quantity_wh`` of it): a tenant from its own account, the
    operator (and admin) from the ``park`` account."""
    scope = park_scope(ctx, actor, park_id, Action.CERT_TRANSFER)
    new_id = flow.transfer(_registry(ctx, scope), bundle_id, to_account,
                           from_account=holder_account(scope), quantity_wh=quantity_wh)
    with transaction(ctx.sessions) as s:
        audit.record(s, actor, "cert.transfer", f"park:{park_id}", bundle=bundle_id,
                     moved=new_id, to=to_account, quantity_wh=quantity_wh)
    return new_id


def cancel(ctx: ServiceContext, actor: Principal, park_id: int, bundle_id: int,
           beneficiary: str | None, purpose: str, quantity_wh: int | None = None, *,
           claim_id: str | None = None, operation: str = "service") -> Any:
    """Cancel (claim) a bundle for a beneficiary and purpose through the registry's one claim
    path: a tenant from its own account for itself, the operator (and admin) from the ``park``
    account for any registered beneficiary. Returns the claim
    (:class:`greenlink.certificates.claims.ClaimResult`: its id, Wh, GEC serials)."""
    scope = park_scope(ctx, actor, park_id, Action.CERT_CANCEL)
    if purpose not in USER_CLAIM_PURPOSES:
        raise InputError(Problem(f"purpose {purpose!r}", location="purpose",
                                 expected=" | ".join(USER_CLAIM_PURPOSES)))
    if scope.user_id is not None:
        if beneficiary not in (None, scope.user_id):
            raise InputError(Problem(f"beneficiary {beneficiary!r}", location="beneficiary",
                                     expected=f"{scope.user_id} (a tenant claims for itself)"))
        beneficiary = scope.user_id
    if not beneficiary:
        raise InputError(Problem("beneficiary missing", location="beneficiary",
                                 expected="a registered account or user id"))
    result = flow.cancel(_registry(ctx, scope), bundle_id, beneficiary=beneficiary,
                         purpose=purpose, quantity_wh=quantity_wh,
                         account_id=holder_account(scope), claim_id=claim_id,
                         operation=operation)
    if not result.replayed:
        with transaction(ctx.sessions) as s:
            audit.record(s, actor, "cert.cancel", f"park:{park_id}", bundle=bundle_id,
                         cancelled=result.parts[0].bundle_id, beneficiary=beneficiary,
                         purpose=purpose, quantity_wh=quantity_wh, claim=result.claim_id,
                         gec_serials=result.serial_text())
    return result


def claims(ctx: ServiceContext, actor: Principal, park_id: int) -> list[dict[str, Any]]:
    """The park registry's claim records with their GEC serials; a tenant sees its own."""
    scope = park_scope(ctx, actor, park_id, Action.CERT_READ)
    table = flow.claims(_registry(ctx, scope), beneficiary=scope.user_id)
    out: dict[str, dict[str, Any]] = {}
    for row in table.to_dict("records"):
        c = out.setdefault(row["claim_id"], {
            "claim_id": row["claim_id"], "kind": row["kind"], "purpose": row["purpose"],
            "beneficiary": row["beneficiary"], "operation": row["operation"],
            "event_seq": int(row["created_event_seq"]), "wh": 0, "bundle_ids": [],
            "hours": [], "gec_serials": [], "gec_serial_text": ""})
        c["wh"] += int(row["wh"])
        c["bundle_ids"].append(int(row["bundle_id"]))
        hour = pd.Timestamp(row["hour_start"]).isoformat()
        if hour not in c["hours"]:
            c["hours"].append(hour)
        c["gec_serials"] += [{"bundle_id": int(row["bundle_id"]), **x}
                             for x in _serials(row["gec_serials"])]
    for c in out.values():
        c["gec_serial_text"] = flow.serial_text(c["gec_serials"])
    return list(out.values())


def _serials(text: str) -> list[dict[str, Any]]:
    import json

    return list(json.loads(text or "[]"))


def import_gec(ctx: ServiceContext, actor: Principal, park_id: int, records: UploadedFile,
               mapping: UploadedFile) -> dict[str, Any]:
    """Import the park's GEC records (a platform export and its mapping file, see
    docs/registry.md): all rows or none. Operator and admin (the issuing role)."""
    scope = park_scope(ctx, actor, park_id, Action.CERT_ISSUE)
    registry = _registry(ctx, scope)
    with tempfile.TemporaryDirectory() as tmp:
        rec = Path(tmp) / "records.csv"
        rec.write_bytes(records.content)
        mp = Path(tmp) / "mapping.toml"
        mp.write_bytes(mapping.content)
        r = flow.import_gec(registry, rec, mp)
    result = {"rows": int(r.rows), "imported": int(r.imported),
              "already_imported": int(r.already_imported), "known": int(r.known),
              "gec_by_status": {str(k): int(v) for k, v in r.gec_by_status.items()}}
    with transaction(ctx.sessions) as s:
        audit.record(s, actor, "cert.gec_import", f"park:{park_id}", sha256=r.sha256,
                     **result)
    return result


def verify(ctx: ServiceContext, actor: Principal, park_id: int) -> dict[str, Any]:
    """The registry's history verified with the keys the service trusts (its operator's key
    folder, ``Settings.registry_key_dir``): ``ok`` only when every link, row and signature
    checks and the head is signed by a trusted key."""
    scope = park_scope(ctx, actor, park_id, Action.CERT_VERIFY)
    r = flow.verify_trusted(_registry(ctx, scope))
    return {"park_id": park_id, "ok": r.ok, "trusted": r.trusted, "events": r.events,
            "bundles": r.bundles, "problems": [*r.problems, *r.untrusted]}


def export_energytag(ctx: ServiceContext, actor: Principal, park_id: int,
                     status: str | None = None) -> bytes:
    """Bundles with the EnergyTag / FEA field names as JSON (``greenlink registry export``)."""
    scope = park_scope(ctx, actor, park_id, Action.CERT_EXPORT)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gc.json"
        flow.export(_registry(ctx, scope), path, status=status)
        return path.read_bytes()
