"""Writing to the registry: one transaction per batch of operations, one event per operation.

* :class:`Tx`: one operation inside a write transaction: its event's sequence number and
  payload; the chained rows it changes are captured from the ORM session (:func:`before_flush`)
  and recorded with their digests before and after; rows inserted in bulk are added as batch
  records.
* :class:`Writer`: one write transaction: the chain head locked first, the tail it extends
  checked (the last event signed by the operator's own keys), operations appended as events,
  whole-bundle transfers applied many at once (:meth:`Writer.run_transfers`), the last event
  signed at commit.
* :class:`GroupCommit`: concurrent writers of one registry share transactions (one head lock,
  one commit, one signature per batch).
"""
from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Table, bindparam, func, insert, inspect, select, update
from sqlalchemy.orm import NO_VALUE, Session

from greenlink.certificates import heads
from greenlink.certificates.chained import BUNDLES, BY_MODEL, CHAINED, Chained
from greenlink.certificates.digests import (
    BATCHES_KEY,
    GENESIS,
    ROWS_KEY,
    canonical,
    event_hash,
    key_of,
    row_hash,
)
from greenlink.certificates.errors import RegistryError
from greenlink.certificates.heads import Signer, Trust
from greenlink.certificates.models import (
    ACTIVE,
    Account,
    AccountWhitelist,
    ChainHead,
    Event,
    GranularCertificateBundle,
)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_TX = "greenlink.registry.tx"
_EVENTS: Table = Event.__table__  # type: ignore[assignment]
_HEAD: Table = ChainHead.__table__  # type: ignore[assignment]
_BUNDLES: Table = GranularCertificateBundle.__table__  # type: ignore[assignment]
#: Most operations one commit batches (group commit, :class:`GroupCommit`).
MAX_BATCH = 512


class Host(Protocol):
    """What a writer needs of the registry it writes for
    (:class:`greenlink.certificates.registry.Registry`)."""

    signer: Signer | None
    #: the last head (seq, hash, signer, signature) whose signature was checked or made here
    _head_cache: list[tuple[int, str, str | None, str | None] | None]

    def own_trust(self) -> Trust: ...

    def _run_batch(self, batch: list[Job], *, sealing: tuple[int, str] | None = None
                   ) -> None: ...


@dataclass
class _Change:
    obj: Any
    chained: Chained
    before: str | None
    deleted: bool = False


@dataclass
class Tx:
    """One operation inside a write transaction: its event's sequence number and payload; the
    chained rows it changes are captured from the session (:func:`before_flush`), rows inserted
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


def _note(tx: Tx, obj: Any, *, new: bool = False, deleted: bool = False) -> None:
    chained = BY_MODEL.get(type(obj))
    if chained is None:
        return
    change = tx.changes.get(id(obj))
    if change is not None:
        change.deleted = change.deleted or deleted
        return
    before = None if new else row_hash(chained, _committed_row(tx.session, chained, obj))
    tx.changes[id(obj)] = _Change(obj, chained, before, deleted)


def _capture(tx: Tx, session: Session) -> None:
    for obj in session.new:
        _note(tx, obj, new=True)
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            _note(tx, obj)
    for obj in session.deleted:
        _note(tx, obj, deleted=True)


def before_flush(session: Session, _context: Any, _instances: Any) -> None:
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


def row_of(chained: Chained, obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in chained.columns}


def _finish(tx: Tx) -> None:
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
            setattr(change.obj, c.hash_column, row_hash(c, row_of(c, change.obj)))
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
            row = row_of(c, change.obj)
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


class Writer:
    """One write transaction: the chain head locked first (``SELECT … FOR UPDATE``; SQLite:
    ``BEGIN IMMEDIATE``), operations appended as events, the last event signed at the end.

    A registry that signs first checks what it is about to extend (:meth:`_check_tail`): the
    head must be the last event, and that event signed by one of the operator's own keys —
    otherwise its signature would vouch for events it never wrote. ``sealing`` (``(seq,
    hash)``): the write is a seal of the unsigned events up to that head, which the operator
    was shown (:meth:`Registry.seal`)."""

    def __init__(self, registry: Host, session: Session, *, head_each_op: bool,
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

    def run(self, kind: str, fn: Callable[[Tx], Any], *, savepoint: bool) -> Any:
        """One operation written through the ORM session (its changes captured)."""
        tx = Tx(self.session, self.next_seq, kind)
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

    def run_transfers(self, jobs: list[Job]) -> None:
        """Whole-bundle transfers, many at once: one locking read of their bundles, the rules
        applied in order (:func:`transfer_refusal`, the rules of :meth:`Registry.transfer`),
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
            refusal = transfer_refusal(
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


def transfer_refusal(bundle_id: int, row: Any, from_account: str | None, to_account: str,
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
class WholeTransfer:
    bundle_id: int
    to_account: str
    from_account: str | None


@dataclass
class Job:
    kind: str
    fn: Callable[[Tx], Any] | None
    vector: WholeTransfer | None = None
    result: Any = None
    error: BaseException | None = None
    ok: bool = False
    done: bool = False


class GroupCommit:
    """Group commit: concurrent writers of one :class:`Registry` share transactions.

    A writer queues its operation; whoever finds no batch running becomes the leader, takes
    every queued operation (up to :data:`MAX_BATCH`), runs them in one transaction — the head
    locked once, each operation in a savepoint when there are several, so a refused one leaves
    the others — and commits them with one signature. The others wait for their result. Writers
    in other processes still serialise on the head row.
    """

    def __init__(self, registry: Host) -> None:
        self.registry = registry
        self.cond = threading.Condition()
        self.queue: deque[Job] = deque()
        self.busy = False
        self.local = threading.local()

    def submit(self, job: Job) -> Any:
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



class ConnectionAsEngine:
    """Stands in for the engine inside :meth:`Registry.transaction`: ``connect()`` hands out the
    one open connection (not closed after use); everything else is the real engine's."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        yield self._connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection.engine, name)
