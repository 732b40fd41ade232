"""The registry service: accounts, devices, issuance and the life of certificate bundles.

Every operation is one event of the hash chain (:mod:`greenlink.certificates.audit`) and runs in
a database transaction that first locks the chain head (``SELECT … FOR UPDATE`` on PostgreSQL,
``BEGIN IMMEDIATE`` on SQLite), so writers are serialised: two clients can never spend the same
Wh, and no update is lost. Concurrent operations of one :class:`Registry` share transactions
(group commit, :class:`~greenlink.certificates.writer.GroupCommit`): one head lock, one commit
and one signature for a batch, each operation in its own savepoint.
:meth:`Registry.transaction` runs several operations in one transaction. The last event of
every commit is signed with the operator's key (:mod:`greenlink.certificates.heads`).

Rules (EnergyTag GC standard, FEA registry)
-------------------------------------------
* issue: from metered generation, whole Wh (:func:`greenlink.units.kwh_to_wh`: rounded down,
  the rule every claim uses), one issuance per device and hour (``gc_issuance`` unique key),
  ``energy_wh ≤ kwh_to_wh(capacity_kW · 1 h · rating_margin)`` (the margin meter ingest
  allows, :func:`~greenlink.certificates.issuance.hour_limit_wh`); an hour is a clock hour of
  the park's zone, stored as the UTC instant it starts at (a whole quarter hour of UTC);
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

Where it lives: this module holds the :class:`Registry` (construction, transactions, accounts,
devices, metadata, bundle queries); its operations come by concept from
:mod:`~greenlink.certificates.issuance` (issue, consumption, GEC import),
:mod:`~greenlink.certificates.lifecycle` (split, transfer and the one claim path),
:mod:`~greenlink.certificates.storage` (charge, discharge) and
:mod:`~greenlink.certificates.history` (verify, seal, checkpoint); the write machinery (events,
row capture, group commit) is :mod:`~greenlink.certificates.writer`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from greenlink.certificates import identity
from greenlink.certificates.digests import _text
from greenlink.certificates.errors import RegistryError
from greenlink.certificates.heads import Signer, Trust
from greenlink.certificates.history import HistoryOps
from greenlink.certificates.issuance import IssuanceOps
from greenlink.certificates.lifecycle import ClaimOps
from greenlink.certificates.models import (
    Account,
    AccountWhitelist,
    Device,
    GranularCertificateBundle,
    IssuanceMetaData,
)
from greenlink.certificates.storage import StorageOps
from greenlink.certificates.writer import (
    ConnectionAsEngine,
    GroupCommit,
    Job,
    Tx,
    WholeTransfer,
    Writer,
    before_flush,
)
from greenlink.database import session_factory

DISSEMINATION_LEVELS = ("self-consumed", "private line", "public grid")
Bundle = GranularCertificateBundle


class Registry(IssuanceOps, ClaimOps, StorageOps, HistoryOps):
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
        event.listen(self._write_sessions, "before_flush", before_flush)
        self._committer: GroupCommit | None = GroupCommit(self)
        self._writer: Writer | None = None
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
    def _run(self, kind: str, fn: Callable[[Tx], Any]) -> Any:
        """Run one operation as one event: in the open :meth:`transaction`, else through group
        commit."""
        if self._writer is not None:
            return self._writer.run(kind, fn, savepoint=True)
        assert self._committer is not None
        return self._committer.submit(Job(kind, fn))

    def _run_vector(self, kind: str, vector: WholeTransfer) -> Any:
        job = Job(kind, None, vector)
        if self._writer is None:
            assert self._committer is not None
            return self._committer.submit(job)
        with self._writer.session.begin_nested():
            self._writer.run_transfers([job])
        if job.error is not None:
            raise job.error
        return job.result

    def _run_batch(self, batch: list[Job], *, sealing: tuple[int, str] | None = None) -> None:
        session = self._write_sessions()
        try:
            with session.begin():
                writer = Writer(self, session, head_each_op=False, sealing=sealing)
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
            view.engine = ConnectionAsEngine(connection)  # type: ignore[assignment]
            view.sessions = sessionmaker(bind=connection, expire_on_commit=False,
                                         join_transaction_mode="create_savepoint")
            view._committer = None
            session = self._write_sessions(bind=connection,
                                           join_transaction_mode="create_savepoint")
            try:
                with session.begin():
                    view._writer = Writer(view, session, head_each_op=True)
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

        def op(tx: Tx) -> Any:
            if tx.session.get(Account, account_id) is not None:
                raise RegistryError(f"account {account_id!r} exists already")
            identity.refuse_variants(tx.session, "account", [account_id])
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
        def op(tx: Tx) -> Any:
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

        def op(tx: Tx) -> Any:
            if tx.session.get(Account, account_id) is None:
                raise RegistryError(f"account {account_id!r} does not exist")
            if tx.session.get(Device, device_id) is not None:
                raise RegistryError(f"device {device_id!r} exists already")
            identity.refuse_variants(tx.session, "device", [device_id])
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
        def op(tx: Tx) -> Any:
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
