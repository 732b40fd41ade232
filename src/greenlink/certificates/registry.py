"""The registry service: accounts, devices, issuance and the life of certificate bundles.

Every operation is one event of the hash chain (:mod:`greenlink.certificates.audit`) and runs in
a database transaction that first locks the chain head (``SELECT … FOR UPDATE`` on PostgreSQL,
``BEGIN IMMEDIATE`` on SQLite), so writers are serialised: two clients can never spend the same
Wh, and no update is lost. Concurrent operations of one :class:`Registry` share transactions
(group commit, :class:`_GroupCommit`): one head lock, one commit and one signature for a batch,
each operation in its own savepoint. :meth:`Registry.transaction` runs several operations in one
transaction. The last event of every commit is signed with the operator's key
(:mod:`greenlink.certificates.heads`).

Rules (EnergyTag GC standard, FEA registry)
-------------------------------------------
* issue: from metered generation, whole Wh (:func:`greenlink.units.kwh_to_wh`: rounded down,
  the rule every claim uses), one issuance per device and hour (``gc_issuance`` unique key),
  ``energy_wh ≤ kwh_to_wh(capacity_kW · 1 h · rating_margin)`` (the margin meter ingest
  allows, :func:`hour_limit_wh`); an hour is a clock hour of the park's zone,
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

import copy
import hashlib
import math
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    event,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.orm import NO_VALUE, Session, sessionmaker

from greenlink.certificates import audit, heads, identity
from greenlink.certificates import claims as claim_rules
from greenlink.certificates.adopt import SEAL
from greenlink.certificates.chained import BUNDLE_FIELDS, BUNDLES, BY_MODEL, CHAINED, Chained
from greenlink.certificates.claims import ClaimLine, ClaimRequest, ClaimResult
from greenlink.certificates.digests import (
    BATCHES_KEY,
    GENESIS,
    ROWS_KEY,
    _text,
    batch_record,
    canonical,
    event_hash,
    format_template,
    key_of,
    row_hash,
)
from greenlink.certificates.errors import ClaimRefused, NothingToClaim, RegistryError
from greenlink.certificates.heads import Checkpoint, Signer, Trust
from greenlink.certificates.models import (
    ACTIVE,
    BUNDLE_SPLIT,
    CANCELLED,
    CLAIMED,
    WITHDRAW_KIND,
    WITHDRAWN,
    Account,
    AccountWhitelist,
    ChainHead,
    ClaimPart,
    ClaimRecord,
    Consumption,
    Device,
    Event,
    GecRecord,
    GranularCertificateBundle,
    IssuanceMetaData,
    StorageChargeRecord,
    StorageDischargeRecord,
)
from greenlink.certificates.purposes import STORAGE_CHARGE
from greenlink.database import session_factory
from greenlink.units import kwh_to_wh

DISSEMINATION_LEVELS = ("self-consumed", "private line", "public grid")
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


def _utc(ts: datetime) -> datetime:
    if ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_TX = "greenlink.registry.tx"
_EVENTS: Table = Event.__table__  # type: ignore[assignment]
_HEAD: Table = ChainHead.__table__  # type: ignore[assignment]
_BUNDLES: Table = GranularCertificateBundle.__table__  # type: ignore[assignment]
#: Most operations one commit batches (group commit, :class:`_GroupCommit`).
MAX_BATCH = 512


@dataclass
class _Change:
    obj: Any
    chained: Chained
    before: str | None
    deleted: bool = False


@dataclass
class _Tx:
    """One operation inside a write transaction: its event's sequence number and payload; the
    chained rows it changes are captured from the session (:func:`_before_flush`), rows inserted
    in bulk are added as batch records (:meth:`add_batch`)."""

    session: Session
    seq: int
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    changes: dict[int, _Change] = field(default_factory=dict)
    batches: list[dict[str, Any]] = field(default_factory=list)

    def add_batch(self, record: dict[str, Any]) -> None:
        self.batches.append(record)


def _committed_row(session: Session, chained: Chained, obj: Any) -> dict[str, Any]:
    """The row as the database holds it now (before this flush): the committed values of the
    modified attributes, the current ones of the others."""
    state = inspect(obj)
    committed = state.committed_state
    row: dict[str, Any] = {}
    for name in chained.columns:
        value = committed[name] if name in committed else state.dict.get(name, NO_VALUE)
        if value is NO_VALUE:
            break
        row[name] = value
    else:
        return row
    ident = dict(zip([c.name for c in chained.table.primary_key.columns], state.identity or (),
                     strict=True))
    with session.no_autoflush:
        stored = session.connection().execute(select(chained.table).where(*[
            chained.table.c[k] == v for k, v in ident.items()])).mappings().one()
    return dict(stored)


def _note(tx: _Tx, obj: Any, *, new: bool = False, deleted: bool = False) -> None:
    chained = BY_MODEL.get(type(obj))
    if chained is None:
        return
    change = tx.changes.get(id(obj))
    if change is not None:
        change.deleted = change.deleted or deleted
        return
    before = None if new else row_hash(chained, _committed_row(tx.session, chained, obj))
    tx.changes[id(obj)] = _Change(obj, chained, before, deleted)


def _capture(tx: _Tx, session: Session) -> None:
    for obj in session.new:
        _note(tx, obj, new=True)
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            _note(tx, obj)
    for obj in session.deleted:
        _note(tx, obj, deleted=True)


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    tx = session.info.get(_TX)
    if tx is not None:
        _capture(tx, session)


def _apply_defaults(obj: Any, table: Any) -> None:
    """Scalar column defaults on a new object now (the flush would apply them), so its digest
    is computed from the values the row will hold."""
    present = inspect(obj).dict
    for col in table.columns:
        if col.name not in present and col.default is not None and col.default.is_scalar:
            setattr(obj, col.name, col.default.arg)


def _row_of(chained: Chained, obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in chained.columns}


def _finish(tx: _Tx) -> None:
    """Stamp and hash the changed rows, flush, and record every change in the payload."""
    s = tx.session
    _capture(tx, s)
    for change in tx.changes.values():
        c = change.chained
        if change.deleted or not (c.stamp_column or c.hash_column):
            continue
        if change.before is None:
            _apply_defaults(change.obj, c.table)
        if c.stamp_column:
            setattr(change.obj, c.stamp_column, tx.seq)
        if c.hash_column:
            setattr(change.obj, c.hash_column, row_hash(c, _row_of(c, change.obj)))
    s.flush()
    records: list[list[Any]] = []
    for change in tx.changes.values():
        c = change.chained
        if change.deleted:
            ident = inspect(change.obj).identity or ()
            row = dict(zip([col.name for col in c.table.primary_key.columns], ident,
                           strict=True))
            after = None
        else:
            row = _row_of(c, change.obj)
            after = row_hash(c, row)
        if change.before is None and after is None:
            continue  # inserted and deleted again
        records.append([c.name, list(key_of(c, row)), change.before, after])
    order = {c.name: i for i, c in enumerate(CHAINED)}
    records.sort(key=lambda r: (order[r[0]], r[1]))
    if records:
        tx.payload[ROWS_KEY] = records
    if tx.batches:
        tx.payload[BATCHES_KEY] = tx.batches


class _Writer:
    """One write transaction: the chain head locked first (``SELECT … FOR UPDATE``; SQLite:
    ``BEGIN IMMEDIATE``), operations appended as events, the last event signed at the end.

    A registry that signs first checks what it is about to extend (:meth:`_check_tail`): the
    head must be the last event, and that event signed by one of the operator's own keys —
    otherwise its signature would vouch for events it never wrote. ``sealing`` (``(seq,
    hash)``): the write is a seal of the unsigned events up to that head, which the operator
    was shown (:meth:`Registry.seal`)."""

    def __init__(self, registry: Registry, session: Session, *, head_each_op: bool,
                 sealing: tuple[int, str] | None = None) -> None:
        self.registry = registry
        self.session = session
        self.head_each_op = head_each_op
        self.sealing = sealing
        self.head_seq, self.head_hash = self._lock_head()
        self.pending: list[dict[str, Any]] = []

    def _lock_head(self) -> tuple[int, str]:
        conn = self.session.connection()
        row = conn.execute(select(_HEAD.c.seq, _HEAD.c.hash, _HEAD.c.signer, _HEAD.c.signature)
                           .where(_HEAD.c.id == 1).with_for_update()).one_or_none()
        if row is not None:
            self._check_tail(conn, row)
            return int(row.seq), str(row.hash)
        if conn.execute(select(func.max(_EVENTS.c.seq))).scalar():
            raise RegistryError("the registry's chain head is missing although it has events; "
                                "nothing is written (run `greenlink registry verify`)")
        conn.execute(insert(_HEAD).values(id=1, seq=0, hash=GENESIS))
        return 0, GENESIS

    def _check_tail(self, conn: Connection, head: Any) -> None:
        """Refuse to extend a history whose head is not the last event, or whose last event
        is not signed by the operator's own keys (when this registry signs). One read of the
        last event per transaction; its signature is checked once per head (cached)."""
        reg = self.registry
        if reg.signer is None and self.sealing is None:
            return  # a registry without a key writes unsigned heads (docs/registry.md)
        last = conn.execute(select(_EVENTS.c.seq, _EVENTS.c.hash, _EVENTS.c.kind,
                                   _EVENTS.c.signer, _EVENTS.c.signature)
                            .order_by(_EVENTS.c.seq.desc()).limit(1)).one_or_none()
        stored = (int(head.seq), str(head.hash), head.signer or None, head.signature or None)
        if last is None:
            if stored[:2] == (0, GENESIS):
                return  # an empty registry
            raise RegistryError(f"the registry's chain head names event {head.seq}, but it has "
                                "no events: nothing is written (run `greenlink registry "
                                "verify`)")
        found = (int(last.seq), str(last.hash), last.signer or None, last.signature or None)
        if found != stored:
            raise RegistryError(
                f"the registry's chain head (event {head.seq}) is not its last event "
                f"({last.seq}, {last.kind}): the head or the history was changed outside the "
                "registry; nothing is written (run `greenlink registry verify`)")
        if self.sealing is not None:
            if found[:2] != self.sealing:
                raise RegistryError(
                    f"the history changed since it was shown for sealing (it now ends at event "
                    f"{last.seq}, not {self.sealing[0]}): nothing is sealed; look again "
                    "(`greenlink registry checkpoint --seal`)")
            return
        if found == reg._head_cache[0]:
            return  # this head's signature was checked (or made) here before
        signer = reg.signer
        assert signer is not None
        verdict = "unsigned" if not last.signature else reg.own_trust().check(
            last.signer or "", heads.head_message(int(last.seq), str(last.hash)),
            last.signature)
        if verdict != "ok":
            who = {"unsigned": "is not signed",
                   "untrusted": f"is signed by key {heads.fingerprint_of_hex(last.signer or '')}, "
                                "which is not one of your keys",
                   "bad": "carries a signature that does not match it"}[verdict]
            raise RegistryError(
                f"the registry's last event {last.seq} ({last.kind}) {who}: it was written "
                "without your signing key — by a registry opened without it, or by someone "
                "with write access to the database. Signing a new head on top of it would "
                "vouch for it, so nothing is written. Check it (`greenlink registry verify`); "
                "if you vouch for the unsigned events, seal them (`greenlink registry "
                "checkpoint --seal`), which shows them first")
        reg._head_cache[0] = found

    @property
    def next_seq(self) -> int:
        return (self.pending[-1]["seq"] if self.pending else self.head_seq) + 1

    def append(self, seq: int, kind: str, payload: dict[str, Any]) -> None:
        """Append the event of an operation (buffered until :meth:`commit_events`)."""
        assert seq == self.next_seq
        text = canonical(payload)
        at = _now()
        prev = self.pending[-1]["hash"] if self.pending else self.head_hash
        h = event_hash(prev, seq, at, kind, text)
        self.pending.append({"seq": seq, "at": at, "kind": kind, "payload": text,
                             "prev_hash": prev, "hash": h, "signer": None, "signature": None})
        if self.head_each_op:  # readers inside the transaction see the new head
            self.session.connection().execute(update(_HEAD).where(_HEAD.c.id == 1).values(
                seq=seq, hash=h, signer=None, signature=None))

    def run(self, kind: str, fn: Callable[[_Tx], Any], *, savepoint: bool) -> Any:
        """One operation written through the ORM session (its changes captured)."""
        tx = _Tx(self.session, self.next_seq, kind)
        self.session.info[_TX] = tx
        try:
            if savepoint:
                with self.session.begin_nested():
                    result = fn(tx)
                    _finish(tx)
            else:
                result = fn(tx)
                _finish(tx)
        finally:
            self.session.info.pop(_TX, None)
        self.append(tx.seq, kind, tx.payload)
        return result

    def run_transfers(self, jobs: list[_Job]) -> None:
        """Whole-bundle transfers, many at once: one locking read of their bundles, the rules
        applied in order (:func:`_transfer_refusal`, the rules of :meth:`Registry.transfer`),
        one event each, one UPDATE per changed bundle. A refused transfer writes nothing."""
        s = self.session
        s.flush()
        conn = s.connection()
        t = _BUNDLES
        wanted = [j.vector for j in jobs if j.vector is not None]
        ids = sorted({v.bundle_id for v in wanted})
        rows = {int(r["id"]): dict(r) for r in conn.execute(
            select(t).where(t.c.id.in_(ids)).order_by(t.c.id).with_for_update()).mappings()}
        targets = sorted({v.to_account for v in wanted})
        accounts = set(conn.execute(select(Account.id).where(Account.id.in_(targets)))
                       .scalars())
        white = {(str(a), str(b)) for a, b in conn.execute(
            select(AccountWhitelist.account_id, AccountWhitelist.sender_account_id)
            .where(AccountWhitelist.account_id.in_(targets)))}
        changed: dict[int, dict[str, Any]] = {}
        hashes: dict[int, str] = {}
        for job in jobs:
            v = job.vector
            assert v is not None
            row = rows.get(v.bundle_id)
            refusal = _transfer_refusal(
                v.bundle_id, None if row is None else row, v.from_account, v.to_account,
                v.to_account in accounts,
                row is not None and (v.to_account, row["account_id"]) in white)
            if refusal is not None:
                job.error = RegistryError(refusal)
                continue
            assert row is not None
            seq = self.next_seq
            before = hashes.get(v.bundle_id) or row_hash(BUNDLES, row)
            sender = row["account_id"]
            row["account_id"] = v.to_account
            row["last_event_seq"] = seq
            after = row_hash(BUNDLES, row)
            row["hash"] = hashes[v.bundle_id] = after
            changed[v.bundle_id] = row
            self.append(seq, job.kind, {
                "bundle": v.bundle_id, "moved": v.bundle_id, "sender": sender,
                "to": v.to_account, "quantity_wh": row["bundle_quantity"],
                ROWS_KEY: [[BUNDLES.name, [str(v.bundle_id)], before, after]]})
            job.result, job.ok = v.bundle_id, True
        if changed:
            conn.execute(update(t).where(t.c.id == bindparam("b_id")).values(
                account_id=bindparam("b_account"), last_event_seq=bindparam("b_seq"),
                hash=bindparam("b_hash")), [
                {"b_id": i, "b_account": r["account_id"], "b_seq": r["last_event_seq"],
                 "b_hash": r["hash"]} for i, r in changed.items()])
        s.expire_all()  # the session reloads what these statements changed

    def commit_events(self) -> None:
        """Write the buffered events; the last one (the new head) signed."""
        if not self.pending:
            return
        last = self.pending[-1]
        signer = self.registry.signer
        if signer is not None:
            last["signer"] = signer.public_hex
            last["signature"] = signer.sign_head(last["seq"], last["hash"])
        conn = self.session.connection()
        conn.execute(insert(_EVENTS), self.pending)
        conn.execute(update(_HEAD).where(_HEAD.c.id == 1).values(
            seq=last["seq"], hash=last["hash"], signer=last["signer"],
            signature=last["signature"]))
        self.head_seq, self.head_hash = last["seq"], last["hash"]
        # signed here: the next transaction need not check this head's signature again
        self.registry._head_cache[0] = (last["seq"], last["hash"], last["signer"],
                                        last["signature"]) if signer is not None else None
        self.pending = []


def _transfer_refusal(bundle_id: int, row: Any, from_account: str | None, to_account: str,
                      to_exists: bool, whitelisted: bool) -> str | None:
    """Why a transfer of the bundle (``row``: its columns, ``None``: no such bundle) is refused,
    or ``None``: the transfer rules of the registry, in the order they are checked."""
    if row is None:
        return f"bundle {bundle_id} does not exist"
    status, owner = row["certificate_bundle_status"], row["account_id"]
    if status != ACTIVE:
        return f"bundle {bundle_id} is {status}, not Active"
    if from_account is not None and owner != from_account:
        return f"bundle {bundle_id} belongs to account {owner!r}, not {from_account!r}"
    if not to_exists:
        return f"account {to_account!r} does not exist"
    if to_account != owner and not whitelisted:
        return f"account {to_account!r} has not whitelisted {owner!r}; it cannot receive from it"
    return None


@dataclass(frozen=True)
class _WholeTransfer:
    bundle_id: int
    to_account: str
    from_account: str | None


@dataclass
class _Job:
    kind: str
    fn: Callable[[_Tx], Any] | None
    vector: _WholeTransfer | None = None
    result: Any = None
    error: BaseException | None = None
    ok: bool = False
    done: bool = False


class _GroupCommit:
    """Group commit: concurrent writers of one :class:`Registry` share transactions.

    A writer queues its operation; whoever finds no batch running becomes the leader, takes
    every queued operation (up to :data:`MAX_BATCH`), runs them in one transaction — the head
    locked once, each operation in a savepoint when there are several, so a refused one leaves
    the others — and commits them with one signature. The others wait for their result. Writers
    in other processes still serialise on the head row.
    """

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.cond = threading.Condition()
        self.queue: deque[_Job] = deque()
        self.busy = False
        self.local = threading.local()

    def submit(self, job: _Job) -> Any:
        if getattr(self.local, "leading", False):
            raise RuntimeError("a registry operation called another one inside its transaction")
        with self.cond:
            self.queue.append(job)
        while True:
            with self.cond:
                while not job.done and self.busy:
                    self.cond.wait()
                if job.done:
                    break
                self.busy = True
                batch = [self.queue.popleft() for _ in range(min(len(self.queue), MAX_BATCH))]
            self.local.leading = True
            try:
                self.registry._run_batch(batch)
            finally:
                self.local.leading = False
                with self.cond:
                    self.busy = False
                    self.cond.notify_all()
        if job.error is not None:
            raise job.error
        return job.result


class _Replayed(Exception):
    """Raised inside a claim operation that finds its claim made meanwhile: nothing is
    written, and :meth:`Registry.claim` returns the first result."""

    def __init__(self, result: ClaimResult) -> None:
        super().__init__(result.claim_id)
        self.result = result


class _ConnectionAsEngine:
    """Stands in for the engine inside :meth:`Registry.transaction`: ``connect()`` hands out the
    one open connection (not closed after use); everything else is the real engine's."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        yield self._connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection.engine, name)


class Registry:
    """Python API of the registry on one SQLAlchemy engine (SQLite or PostgreSQL).

    ``signer``: the operator's key that signs every commit's head (``None``: heads are written
    unsigned, and ``greenlink registry verify`` reports them); ``trust``: the keys
    :meth:`verify` checks signatures with by default (``None``: signatures not checked).
    """

    def __init__(self, engine: Engine, *, signer: Signer | None = None,
                 trust: Trust | None = None) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)
        self.signer = signer
        self.trust = trust
        self._write_sessions = session_factory(engine)
        event.listen(self._write_sessions, "before_flush", _before_flush)
        self._committer: _GroupCommit | None = _GroupCommit(self)
        self._writer: _Writer | None = None
        #: the last head (seq, hash, signer, signature) whose signature was checked or made
        #: here (shared with the views of :meth:`transaction`)
        self._head_cache: list[tuple[int, str, str | None, str | None] | None] = [None]

    def own_trust(self) -> Trust:
        """The operator's own keys: the registry's trust and its signing key (what a write
        checks the head it extends against, and what a checkpoint verifies with)."""
        trust = self.trust or Trust()
        if self.signer is not None:
            trust = trust.merged(Trust({self.signer.fingerprint: None}))
        return trust

    # -- transactions ----------------------------------------------------------------------
    def _run(self, kind: str, fn: Callable[[_Tx], Any]) -> Any:
        """Run one operation as one event: in the open :meth:`transaction`, else through group
        commit."""
        if self._writer is not None:
            return self._writer.run(kind, fn, savepoint=True)
        assert self._committer is not None
        return self._committer.submit(_Job(kind, fn))

    def _run_vector(self, kind: str, vector: _WholeTransfer) -> Any:
        job = _Job(kind, None, vector)
        if self._writer is None:
            assert self._committer is not None
            return self._committer.submit(job)
        with self._writer.session.begin_nested():
            self._writer.run_transfers([job])
        if job.error is not None:
            raise job.error
        return job.result

    def _run_batch(self, batch: list[_Job], *, sealing: tuple[int, str] | None = None) -> None:
        session = self._write_sessions()
        try:
            with session.begin():
                writer = _Writer(self, session, head_each_op=False, sealing=sealing)
                several = len(batch) > 1
                i = 0
                while i < len(batch):
                    job = batch[i]
                    if job.vector is not None:  # a run of whole transfers: one go
                        j = i
                        while j < len(batch) and batch[j].vector is not None:
                            j += 1
                        writer.run_transfers(batch[i:j])
                        i = j
                        continue
                    i += 1
                    assert job.fn is not None
                    try:
                        job.result = writer.run(job.kind, job.fn, savepoint=several)
                        job.ok = True
                    except Exception as exc:
                        job.error = exc
                        if not several:
                            raise
                writer.commit_events()
        except BaseException as exc:
            for job in batch:
                if job.error is None:
                    job.ok, job.result, job.error = False, None, exc
            if not isinstance(exc, Exception):
                raise
        finally:
            session.close()
            for job in batch:
                job.done = True

    @contextmanager
    def transaction(self, *, commit: bool = True) -> Iterator[Registry]:
        """A view of the registry whose operations all land in one transaction.

        The chain head is locked when the block starts (other writers wait); each operation is a
        savepoint (a refused one leaves the others) and one event; the view's reads
        (:meth:`bundles`, ``sessions``) see its writes. Leaving the block commits — the last
        event signed — unless it raised or ``commit`` is false (a dry run: rolled back).
        """
        with self.engine.connect() as connection:
            outer = connection.begin()
            view = copy.copy(self)
            view.engine = _ConnectionAsEngine(connection)  # type: ignore[assignment]
            view.sessions = sessionmaker(bind=connection, expire_on_commit=False,
                                         join_transaction_mode="create_savepoint")
            view._committer = None
            session = self._write_sessions(bind=connection,
                                           join_transaction_mode="create_savepoint")
            try:
                with session.begin():
                    view._writer = _Writer(view, session, head_each_op=True)
                    yield view
                    view._writer.commit_events()
            except BaseException:
                outer.rollback()
                raise
            finally:
                view._writer = None
                session.close()
            if not commit:
                outer.rollback()
                return
            try:
                outer.commit()
            except BaseException:
                # the outcome of a failed COMMIT is not trusted: drop the connection, so an
                # unfinished transaction dies with it instead of going back to the pool
                connection.invalidate()
                raise

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
        """A new account. Its id is refused when it is a variant of an account, a registered
        user or a device (case, width, look-alike letters: :mod:`greenlink.certificates
        .identity`), or has white space or control characters."""
        problem = identity.id_problem(account_id, "account id")
        if problem is not None:
            raise RegistryError(problem)

        def op(tx: _Tx) -> Any:
            if tx.session.get(Account, account_id) is not None:
                raise RegistryError(f"account {account_id!r} exists already")
            _refuse_variants(tx.session, "account", [account_id])
            unknown = [a for a in accepts_from if tx.session.get(Account, a) is None]
            if unknown:
                raise RegistryError(f"accounts {unknown} do not exist (create them first)")
            tx.session.add(Account(id=account_id, account_name=name))
            tx.session.flush()
            for sender in accepts_from:
                tx.session.add(AccountWhitelist(account_id=account_id,
                                                sender_account_id=sender))
            tx.payload = {"account": account_id, "name": name, "accepts_from": list(accepts_from)}
        self._run("add_account", op)

    def whitelist(self, account_id: str, sender_account_id: str) -> None:
        """Let ``account_id`` receive transfers from ``sender_account_id``."""
        def op(tx: _Tx) -> Any:
            for a in (account_id, sender_account_id):
                if tx.session.get(Account, a) is None:
                    raise RegistryError(f"account {a!r} does not exist")
            if tx.session.get(AccountWhitelist, (account_id, sender_account_id)) is None:
                tx.session.add(AccountWhitelist(account_id=account_id,
                                                sender_account_id=sender_account_id))
            tx.payload = {"account": account_id, "accepts_from": sender_account_id}
        self._run("whitelist", op)

    def add_device(self, device_id: str, *, account_id: str, energy_source: str,
                   technology_type: str, capacity_kw: float, is_storage: bool = False,
                   **fields: Any) -> None:
        """A new device of an account. Its id is refused like an account's (a storage device
        is a beneficiary: :meth:`add_account`)."""
        problem = identity.id_problem(device_id, "device id")
        if problem is not None:
            raise RegistryError(problem)

        def op(tx: _Tx) -> Any:
            if tx.session.get(Account, account_id) is None:
                raise RegistryError(f"account {account_id!r} does not exist")
            if tx.session.get(Device, device_id) is not None:
                raise RegistryError(f"device {device_id!r} exists already")
            _refuse_variants(tx.session, "device", [device_id])
            tx.session.add(Device(id=device_id, account_id=account_id,
                                  energy_source=energy_source, technology_type=technology_type,
                                  capacity=float(capacity_kw), is_storage=is_storage,
                                  next_wh_id=1, **fields))
            tx.payload = {"device": device_id, "account": account_id, "capacity_kw":
                          float(capacity_kw), "energy_source": energy_source,
                          "is_storage": is_storage, **{k: _text(v)
                                                       for k, v in fields.items()}}
        self._run("add_device", op)

    def add_metadata(self, *, country_of_issuance: str, connected_grid_identification: str,
                     issuing_body: str, issue_market_zone: str,
                     dissemination_level: str = "private line", **fields: Any) -> int:
        if dissemination_level not in DISSEMINATION_LEVELS:
            raise RegistryError(f"dissemination_level {dissemination_level!r} is not one of "
                                f"{DISSEMINATION_LEVELS}")
        def op(tx: _Tx) -> Any:
            m = IssuanceMetaData(country_of_issuance=country_of_issuance,
                                 connected_grid_identification=connected_grid_identification,
                                 issuing_body=issuing_body, issue_market_zone=issue_market_zone,
                                 dissemination_level=dissemination_level, **fields)
            tx.session.add(m)
            tx.session.flush()
            tx.payload = {"metadata_id": m.id, "country": country_of_issuance,
                          "grid": connected_grid_identification, "issuing_body": issuing_body,
                          "zone": issue_market_zone, "dissemination_level": dissemination_level,
                          **{k: _text(v) for k, v in fields.items()}}
            return m.id
        return self._run("add_metadata", op)

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
        ``energy_wh`` may not exceed :func:`hour_limit_wh` (capacity × 1 h × ``rating_margin``,
        the bound meter ingest puts on a generator's readings).
        """
        hours = hours[hours["energy_wh"] > 0]
        issued_on = issuance_date or datetime.now(UTC).date()
        expiry = issued_on + timedelta(days=expiry_days)
        def op(tx: _Tx) -> Any:
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

    # -- lifecycle -------------------------------------------------------------------------
    def _split(self, tx: _Tx, b: Bundle, quantity: int) -> tuple[Bundle, Bundle]:
        if not 0 < quantity < b.bundle_quantity:
            raise RegistryError(f"bundle {b.id}: cannot split {quantity} Wh off "
                                f"{b.bundle_quantity} Wh (need 0 < quantity < size)")
        next_id = self._next_bundle_id(tx.session)
        base = _row_of(BUNDLES, b)
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
        def op(tx: _Tx) -> Any:
            b = self._active_of(tx, bundle_id, account_id)
            a, c = self._split(tx, b, quantity_wh)
            tx.payload.update(bundle=bundle_id, quantity_wh=quantity_wh)
            return a.id, c.id
        return self._run("split", op)

    def transfer(self, bundle_id: int, to_account: str, *, from_account: str | None = None,
                 quantity_wh: int | None = None) -> int:
        """Transfer a bundle (or ``quantity_wh`` of it) to ``to_account``; return its id.

        A whole bundle (no ``quantity_wh``) goes the batched way (:meth:`_Writer.run_transfers`:
        concurrent transfers share one read and one write); a partial one splits first."""
        if quantity_wh is None:
            return int(self._run_vector("transfer", _WholeTransfer(int(bundle_id), to_account,
                                                                   from_account)))

        def op(tx: _Tx) -> Any:
            b = self._lock_bundle(tx.session, bundle_id)
            refusal = _transfer_refusal(
                bundle_id, {"certificate_bundle_status": b.certificate_bundle_status,
                            "account_id": b.account_id}, from_account, to_account,
                tx.session.get(Account, to_account) is not None,
                tx.session.get(AccountWhitelist, (to_account, b.account_id)) is not None)
            if refusal is not None:
                raise RegistryError(refusal)
            sender = b.account_id
            if quantity_wh is not None and quantity_wh != b.bundle_quantity:
                b, _rest = self._split(tx, b, quantity_wh)
            b.account_id = to_account
            tx.payload.update(bundle=bundle_id, moved=b.id, sender=sender, to=to_account,
                              quantity_wh=b.bundle_quantity)
            return b.id
        return self._run("transfer", op)

    def cancel(self, bundle_id: int, *, beneficiary: str, purpose: str,
               account_id: str | None = None, quantity_wh: int | None = None,
               claim_id: str | None = None, operation: str = "library") -> int:
        """Cancel (claim) a bundle or part of it for a beneficiary and purpose; return the id
        of the bundle claimed. One line of :meth:`claim` (every rule of the one claim path)."""
        result = self.claim(ClaimRequest.for_bundle(
            bundle_id, beneficiary=beneficiary, purpose=purpose, quantity_wh=quantity_wh,
            account_id=account_id, claim_id=claim_id, operation=operation))
        return result.parts[0].bundle_id

    def withdraw(self, bundle_id: int, *, reason: str = "", claim_id: str | None = None,
                 operation: str = "library") -> None:
        """Withdraw an Active bundle (issuing body only: e.g. the meter data were wrong);
        through :meth:`claim` (a withdrawal record)."""
        self.claim(ClaimRequest.withdrawal(bundle_id, reason=reason, claim_id=claim_id,
                                           operation=operation))

    # -- the one claim path ------------------------------------------------------------------
    def claim(self, request: ClaimRequest) -> ClaimResult:
        """Claim, cancel into storage or withdraw: the one function every entry point calls
        (:mod:`greenlink.certificates.claims` for the rules).

        One operation (one event, one transaction): every line or none. The same request
        again (same claim id and content) returns the first result and writes nothing; the
        same id with other content, or another claim over the same Wh, is refused naming the
        first. Raises :class:`~greenlink.certificates.errors.ClaimRefused` (a
        :class:`RegistryError`) when refused; nothing is written then.
        """
        request = claim_rules.check_request(request)
        claim_id = request.resolved_id()
        with self.sessions() as s:
            first = claim_rules.replay(s, claim_id, request)
        if first is not None:
            return first

        def op(tx: _Tx) -> Any:
            s = tx.session
            again = claim_rules.replay(s, claim_id, request)  # made meanwhile (under the lock)
            if again is not None:
                raise _Replayed(again)
            return self._claim_op(tx, request, claim_id)

        kind = STORAGE_CHARGE if request.purpose == STORAGE_CHARGE else \
            claim_rules.EVENT_KIND[request.kind]
        try:
            return self._run(kind, op)  # type: ignore[no-any-return]
        except _Replayed as done:
            return done.result

    def _claim_op(self, tx: _Tx, request: ClaimRequest, claim_id: str) -> ClaimResult:
        s = tx.session
        for bid in sorted({ln.bundle_id for ln in request.lines if ln.bundle_id is not None}):
            self._lock_bundle(s, bid)  # exists; locked in id order
        withdraw = request.kind == WITHDRAW_KIND
        who = None if withdraw else claim_rules.resolve_beneficiary(s, request)
        cap = None if who is None else claim_rules.HourlyCap(s, who, claim_id)
        gec = None if withdraw else claim_rules.GecLink(s, str(request.beneficiary),
                                                        str(request.purpose))
        parts: list[ClaimPart] = []
        outcomes: list[claim_rules.LineOutcome] = []
        pools = self._hour_pools(s, request)
        for no, line in enumerate(request.lines):
            taken: list[ClaimPart] = []
            if line.bundle_id is not None:
                b = self._claimable(tx, line.bundle_id, request)
                if line.wh is not None and line.wh != b.bundle_quantity:
                    b, _rest = self._split(tx, b, line.wh)
                taken.append(self._claim_bundle(tx, request, claim_id, no, line, b, cap, gec))
                want = line.wh if line.wh is not None else taken[0].wh
            else:
                assert line.hour_start is not None and line.wh is not None
                hour = _utc(line.hour_start)
                pool = pools.get(hour, [])
                want = need = line.wh
                while need > 0 and pool:
                    b = pool[0]
                    if b.bundle_quantity > need:
                        b, rest = self._split(tx, b, need)
                        pool[0] = rest
                    else:
                        pool.pop(0)
                    part = self._claim_bundle(tx, request, claim_id, no, line, b, cap, gec)
                    taken.append(part)
                    need -= int(part.wh)
                if need and not request.allow_shortfall:
                    raise ClaimRefused(
                        f"no Active certificates of account {request.account_id!r} left for "
                        f"{need:,} Wh of the hour from {hour.isoformat()} ({want:,} Wh asked)"
                        + self._hour_holders(s, request, hour))
            parts.extend(taken)
            outcomes.append(claim_rules.LineOutcome(
                no, None if line.hour_start is None else _utc(line.hour_start), line.subject,
                int(want), sum(int(p.wh) for p in taken),
                tuple(int(p.bundle_id) for p in taken)))
        if not parts:
            raise NothingToClaim("nothing to claim: no Active certificates of account "
                               f"{request.account_id!r} in the claim's hours")
        scr_id = None
        if request.purpose == STORAGE_CHARGE:
            scr_id = self._charge_record(s, request, parts)
        record = claim_rules.new_record(request, claim_id, tx.seq, parts, outcomes, scr_id)
        s.add(record)
        s.flush()
        for p in parts:
            s.add(p)
        s.flush()
        tx.payload.update(claim=claim_id, kind=request.kind, purpose=request.purpose,
                          beneficiary=request.beneficiary, account=request.account_id,
                          operation=request.operation, quantity_wh=record.claimed_wh,
                          shortfall_wh=record.shortfall_wh, bundles=len(parts))
        if len(request.lines) == 1 and request.lines[0].bundle_id is not None:
            tx.payload.update(bundle=request.lines[0].bundle_id, cancelled=parts[0].bundle_id)
        if withdraw:
            tx.payload["reason"] = request.reason
        if scr_id is not None:
            tx.payload["scr"] = scr_id
        return claim_rules.result_of(s, record, request)

    def _hour_pools(self, s: Session, request: ClaimRequest) -> dict[datetime, list[Bundle]]:
        """Active bundles of the request's account in its hours (locked), by hour, id order."""
        hours = sorted({_utc(ln.hour_start) for ln in request.lines
                        if ln.hour_start is not None})
        pools: dict[datetime, list[Bundle]] = {}
        for i in range(0, len(hours), 500):
            chunk = hours[i:i + 500]
            for b in s.execute(select(Bundle).where(
                    Bundle.account_id == request.account_id,
                    Bundle.certificate_bundle_status == ACTIVE,
                    Bundle.production_starting_interval.in_(chunk))
                    .order_by(Bundle.id).with_for_update()).scalars():
                pools.setdefault(_utc(b.production_starting_interval), []).append(b)
        return pools

    def _hour_holders(self, s: Session, request: ClaimRequest, hour: datetime) -> str:
        if request.beneficiary is None:
            return ""
        held = claim_rules.claims_in_hour(s, request.beneficiary, hour)
        return f"; {request.beneficiary} holds in that hour: " + "; ".join(held) if held else ""

    def _claimable(self, tx: _Tx, bundle_id: int, request: ClaimRequest) -> Bundle:
        """The bundle of a bundle line, locked: Active, of the request's account."""
        b = self._lock_bundle(tx.session, bundle_id)
        if b.certificate_bundle_status != ACTIVE:
            holder = claim_rules.claim_of_bundle(tx.session, bundle_id)
            why = (f": it was claimed or withdrawn by {holder}; another claim over the same Wh "
                   "is refused") if holder else ""
            raise ClaimRefused(f"bundle {bundle_id} is {b.certificate_bundle_status}, not "
                               f"Active{why}")
        if request.account_id is not None and b.account_id != request.account_id:
            raise ClaimRefused(f"bundle {bundle_id} belongs to account {b.account_id!r}, not "
                               f"{request.account_id!r}")
        return b

    def _claim_bundle(self, tx: _Tx, request: ClaimRequest, claim_id: str, line_no: int,
                      line: ClaimLine, b: Bundle, cap: claim_rules.HourlyCap | None,
                      gec: claim_rules.GecLink | None) -> ClaimPart:
        """Cancel (or withdraw) one whole bundle for the claim: cap, subject, GEC serials."""
        hour = _utc(b.production_starting_interval)
        wh = int(b.bundle_quantity)
        serials: tuple[Any, ...] = ()
        if request.kind == WITHDRAW_KIND:
            b.certificate_bundle_status = WITHDRAWN
        else:
            claim_rules.subject_check(tx.session, request, claim_id, line, hour)
            assert cap is not None and gec is not None
            cap.charge(hour, wh)
            serials = gec.serials(b, wh)
            if request.purpose == claim_rules.SOLD and b.account_id == request.beneficiary:
                raise ClaimRefused(f"bundle {b.id} belongs to {b.account_id}: a sale to the "
                                   "account that holds the certificates is not a sale")
            storage = request.purpose == STORAGE_CHARGE
            b.certificate_bundle_status = CANCELLED if storage else CLAIMED
            b.beneficiary = request.beneficiary
            b.claim_purpose = request.purpose
        return ClaimPart(bundle_id=int(b.id), claim_id=claim_id, line_no=line_no,
                         device_id=b.device_id, hour_start=hour, wh=wh, subject=line.subject,
                         gec_serials=claim_rules.serial_json(serials))

    def _charge_record(self, s: Session, request: ClaimRequest, parts: list[ClaimPart]) -> int:
        """The storage charge record (SCR) of a cancellation into storage."""
        starts = [_utc(p.hour_start) for p in parts]
        total = sum(int(p.wh) for p in parts)
        scr = StorageChargeRecord(device_id=request.beneficiary, charging_start=min(starts),
                                  charging_end=max(starts) + timedelta(hours=1),
                                  charge_wh=total, remaining_wh=total,
                                  gc_allocation_bundle_ids=",".join(
                                      str(p.bundle_id) for p in parts))
        s.add(scr)
        s.flush()
        return int(scr.id)

    # -- claims (queries) ------------------------------------------------------------------
    def claim_record(self, claim_id: str) -> ClaimResult | None:
        """A claim as stored (its bundles, hours, Wh and GEC serials), or ``None``."""
        with self.sessions() as s:
            record = s.get(ClaimRecord, claim_id)
            return None if record is None else claim_rules.result_of(s, record)

    def claims(self, *, beneficiary: str | None = None, claim_id: str | None = None,
               start: datetime | None = None, end: datetime | None = None) -> pd.DataFrame:
        """Claim parts (one row per bundle) with their claim's fields, in claim order."""
        with self.sessions() as s:
            return claim_rules.claim_table(s, beneficiary=beneficiary, claim_id=claim_id,
                                           start=start, end=end)

    def record_consumption(self, beneficiary: str, hour_start: datetime, wh: int) -> None:
        """Register a beneficiary's metered consumption in one hour (ceiling of its claims)."""
        hour = _utc(hour_start)
        def op(tx: _Tx) -> Any:
            c = tx.session.get(Consumption, (beneficiary, hour))
            if c is None and tx.session.execute(select(Consumption.beneficiary).where(
                    Consumption.beneficiary == beneficiary).limit(1)).first() is None:
                _refuse_variants(tx.session, "user", [beneficiary])  # a new user
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
        def op(tx: _Tx) -> Any:
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
            users = {who for who, _hour in existing}
            _refuse_variants(s, "user", sorted({r["beneficiary"] for r in new} - users))
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

        def op(tx: _Tx) -> Any:
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

    # -- storage ---------------------------------------------------------------------------
    def storage_charge(self, storage_device: str, bundle_ids: Sequence[int], *,
                       account_id: str | None = None, claim_id: str | None = None,
                       operation: str = "library") -> int:
        """Cancel bundles into a storage device: one storage charge record (SCR); its id.
        Through :meth:`claim`: a registered storage device, capped by its metered charging."""
        result = self.claim(ClaimRequest.storage_charge(
            storage_device, bundle_ids, account_id=account_id, claim_id=claim_id,
            operation=operation))
        assert result.storage_charge_record_id is not None
        return result.storage_charge_record_id

    def storage_discharge(self, storage_device: str, hour_start: datetime, discharge_wh: int,
                          *, efficiency: float, metadata_id: int) -> int:
        """Record a metered discharge, draw on charge records FIFO, issue SD-GCs; the SDR id.

        ``drawn = ⌈discharge_wh / efficiency⌉`` Wh of charge records are used (oldest first);
        ``loss = drawn − discharge_wh``. Raises if the records hold less than ``drawn``.
        """
        if not 0 < efficiency <= 1:
            raise RegistryError("storage efficiency must be in (0, 1]")
        hour = _utc(hour_start)
        def op(tx: _Tx) -> Any:
            s = tx.session
            d = s.get(Device, storage_device, with_for_update=True)
            if d is None or not d.is_storage:
                raise RegistryError(f"{storage_device!r} is not a registered storage device")
            if discharge_wh <= 0 or discharge_wh > hour_limit_wh(d.capacity):
                raise RegistryError(f"storage {storage_device}: a discharge of {discharge_wh} Wh "
                                    "in one hour is not between 1 Wh and capacity × 1 h × "
                                    f"rating_margin = {hour_limit_wh(d.capacity)} Wh")
            twice = s.execute(select(StorageDischargeRecord.id).where(
                StorageDischargeRecord.device_id == storage_device,
                StorageDischargeRecord.discharging_start == hour)).scalar()
            if twice is not None:
                raise RegistryError(f"storage {storage_device}: the discharge of the hour from "
                                    f"{hour.isoformat()} is recorded already (SDR {twice}); "
                                    "energy discharged from storage is claimable once")
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
            tx.payload.update(sdr=sdr.id, device=storage_device, discharge_wh=discharge_wh,
                              drawn_wh=drawn, allocations=parts)
            return sdr.id
        return self._run("storage_discharge", op)

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

    def verify(self, *, trust: Trust | None = None, checkpoint: Checkpoint | None = None
               ) -> audit.VerifyResult:
        """:func:`greenlink.certificates.audit.verify` with ``trust`` (default: the registry's
        own, the keys of the operator's key folder when it signs; ``None`` there: signatures
        are not checked)."""
        pending = self._writer.pending if self._writer is not None else []
        with self.sessions() as s:
            return audit.verify(s, trust=trust if trust is not None else self.trust,
                                checkpoint=checkpoint, pending=pending)

    def unsigned_tail(self) -> audit.UnsignedTail:
        """The events a seal would vouch for (after the last one signed by the operator's own
        keys), each with the rows it records, and every problem ``verify`` finds besides
        their missing signature (:func:`greenlink.certificates.audit.unsigned_tail`)."""
        with self.sessions() as s:
            return audit.unsigned_tail(s, self.own_trust())

    def seal(self, note: str = "", *, through: tuple[int, str] | None = None) -> int:
        """Append a signed ``seal`` event: the operator vouches for the unsigned events before
        it (written by a registry opened without the key, or an ``adopt`` event of a
        migration). Returns its sequence number.

        The only way to sign over events this registry did not sign (every other write
        refuses them). The whole history is verified first: refused when any row, link or
        signature fails, or an adopt event would not count (:func:`greenlink.certificates
        .adopt.adopt_problems`). ``through``: the head ``(seq, hash)`` the operator was shown
        (:meth:`unsigned_tail`); refused when the history has changed since.
        """
        if self.signer is None:
            raise RegistryError("sealing needs the operator's signing key (greenlink keys "
                                "generate; --key-dir)")
        if self._writer is not None:
            raise RegistryError("seal outside a transaction: it vouches for the history as "
                                "committed")
        tail = self.unsigned_tail()
        if tail.problems:
            raise RegistryError("the registry does not verify; nothing sealed: "
                                + "; ".join(tail.problems[:3]))
        if through is not None and tuple(through) != tail.through:
            raise RegistryError(f"the history changed since it was shown for sealing (it now "
                                f"ends at event {tail.head_seq}, not {through[0]}): nothing is "
                                "sealed; look again")
        signer = self.signer

        def op(tx: _Tx) -> int:
            tx.payload = {"note": note, "signer": signer.fingerprint, "sealed": tail.sealed,
                          "adopts": tail.adopts}
            return tx.seq
        job = _Job(SEAL, op)
        self._run_batch([job], sealing=tail.through)
        if job.error is not None:
            raise job.error
        return int(job.result)

    def checkpoint(self, *, seal: bool = False, through: tuple[int, str] | None = None
                   ) -> Checkpoint:
        """A signed checkpoint of the head, after verifying the whole history with the
        operator's own keys. Unsigned events at the end (written without a key) are refused
        unless ``seal``: they are then sealed first (:meth:`seal`, up to ``through`` when
        given: the head the operator was shown)."""
        signer = self.signer
        if signer is None:
            raise RegistryError("a checkpoint is signed with the operator's key: none found "
                                "(greenlink keys generate; --key-dir)")
        trust = self.own_trust()
        result = self.verify(trust=trust)
        if result.unsigned_tail and seal:
            self.seal("checkpoint --seal", through=through)
            result = self.verify(trust=trust)
        if result.unsigned_tail:
            raise RegistryError(f"the last {result.unsigned_tail} event(s) are not signed "
                                "(written without a signing key): check them, then run "
                                "checkpoint with --seal to vouch for them")
        if not result.ok:
            raise RegistryError("the registry does not verify; no checkpoint: "
                                + "; ".join([*result.problems, *result.untrusted][:3]))
        return Checkpoint.sign(signer, result.head_seq, result.head_hash, result.head_at)

    def events(self) -> int:
        with self.sessions() as s:
            return int(s.execute(select(func.count()).select_from(Event)).scalar_one())


def _refuse_variants(s: Session, kind: str, ids: Sequence[str]) -> None:
    """Refuse new ids (of an account, a device or a user) that are malformed, or variants of
    an id the registry knows or of each other (:func:`greenlink.certificates.identity
    .refusal`)."""
    if not ids:
        return
    for value in ids:
        problem = identity.id_problem(value, f"{kind} id")
        if problem is not None:
            raise RegistryError(problem)
    known = identity.known_ids(s)
    for i, value in enumerate(ids):
        problem = identity.refusal(value, f"{kind} id", {**known, kind: [*known.get(kind, []),
                                                                         *ids[:i]]}, new=False)
        if problem is not None:
            raise RegistryError(problem)


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
