"""Signed history: what is chained, transactions, migration of an older registry."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy import inspect as sa_inspect

from greenlink import database
from greenlink.certificates.adopt import ADOPT
from greenlink.certificates.chained import BUNDLES, CHAINED, NOT_CHAINED
from greenlink.certificates.db import MIGRATIONS, VERSION_TABLE, open_registry
from greenlink.certificates.digests import (
    BATCHES_KEY,
    GENESIS,
    LEAF_CHARS,
    ROWS_KEY,
    event_hash,
    row_hash,
)
from greenlink.certificates.from_meters import issue_from_store
from greenlink.certificates.models import Base, Event, GranularCertificateBundle
from greenlink.certificates.registry import Registry, RegistryError
from tests.certificates.conftest import claim_ready, hours, park
from tests.certificates.test_wh_rule import QUARTERS, _metered_park


def test_every_registry_table_is_chained_or_is_the_chain() -> None:
    """A table added to the models must be added to chained.CHAINED (one line) — or, if it is
    part of the chain itself, to NOT_CHAINED."""
    chained = {c.name for c in CHAINED}
    assert set(Base.metadata.tables) == chained | set(NOT_CHAINED)
    assert not chained & set(NOT_CHAINED)
    for c in CHAINED:  # the key columns identify a row: they are the primary key
        assert c.key == tuple(col.name for col in c.table.primary_key.columns), c.name


def test_row_digests_are_unambiguous() -> None:
    bundles = BUNDLES
    row = {name: None for name in bundles.columns}
    other = dict(row, beneficiary="")
    assert row_hash(bundles, row) != row_hash(bundles, other)  # NULL is not ''
    a = dict(row, beneficiary="a\x1fb", claim_purpose="c")
    b = dict(row, beneficiary="a", claim_purpose="b\x1fc")
    assert row_hash(bundles, a) != row_hash(bundles, b)


def test_every_write_records_its_rows_and_the_last_event_of_a_commit_is_signed(
        db_url: str) -> None:
    reg, meta = park(db_url)
    reg.issue(hours("pv", [1000, 800]), metadata_id=meta)
    reg.transfer(1, "alu")
    with reg.sessions() as s:
        events = s.execute(select(Event).order_by(Event.seq)).scalars().all()
    assert all(e.signature for e in events)  # one operation per commit here
    transfer = json.loads(events[-1].payload)
    (record,) = transfer[ROWS_KEY]
    assert record[:2] == ["gc_bundle", ["1"]] and record[2] != record[3]
    issue = json.loads(events[-2].payload)
    (batch,) = issue[BATCHES_KEY]
    assert batch["runs"] == [[1, 2]] and len(batch["leaves"]) == 2 * LEAF_CHARS
    assert reg.verify().signatures_checked and reg.verify().ok


def test_a_transaction_is_one_commit_or_nothing(db_url: str) -> None:
    reg, meta = park(db_url)
    reg.issue(hours("pv", [1000, 800]), metadata_id=meta)
    claim_ready(reg)  # alu's metered consumption, the month's GECs
    before = reg.events()
    with pytest.raises(RegistryError, match="changed my mind"), reg.transaction() as view:
        view.transfer(1, "alu")
        view.cancel(2, beneficiary="alu", purpose="tenant_scope2")
        raise RegistryError("changed my mind")
    assert reg.events() == before and set(reg.bundles()["account_id"]) == {"park"}
    with reg.transaction() as view:
        view.transfer(1, "alu")
        assert view.verify().ok  # its own pending events included, unsigned until the commit
        view.record_consumption("alu", pd.Timestamp("2025-06-01 01:00", tz="UTC"), 100)
        with pytest.raises(RegistryError, match="consumed 100 Wh"):
            # splits bundle 2, then finds the claim too large: its savepoint is undone
            view.cancel(2, beneficiary="alu", purpose="tenant_scope2", quantity_wh=500)
        view.transfer(2, "alu")
    with reg.sessions() as s:
        last_two = s.execute(select(Event).order_by(Event.seq.desc()).limit(2)).scalars().all()
    assert last_two[0].signature and not last_two[1].signature  # one signature per commit
    assert reg.events() == before + 3 and reg.verify().ok
    assert len(reg.bundles()) == 2  # the refused cancel's split left nothing


def test_issuing_from_a_store_is_one_transaction(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    sc, store, _t0 = _metered_park(tmp_path, "Asia/Shanghai", QUARTERS)
    reg = open_registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")

    def broken(self: Registry, table: pd.DataFrame) -> int:
        raise RegistryError("consumption could not be written")

    monkeypatch.setattr(Registry, "record_consumption_table", broken)
    with pytest.raises(RegistryError, match="consumption"):
        issue_from_store(reg, sc, store)
    assert reg.events() == 0 and reg.bundles().empty  # no bundles without their consumption
    monkeypatch.undo()
    result = issue_from_store(reg, sc, store)
    assert result.bundles == 3 and reg.verify().ok


def test_a_registry_older_than_signed_history_is_adopted(tmp_path: Path) -> None:
    """Migration 0002 on a registry with events: an unsigned 'adopt' event restates every row;
    verify with keys reports it unsigned until the operator seals it."""
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = database.make_engine(url)
    cfg = database.alembic_config(MIGRATIONS, VERSION_TABLE, engine.url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text("INSERT INTO gc_account (id, account_name) VALUES ('park', '')"))
        prev = GENESIS
        for seq in (1, 2):  # a legacy chain (same link rule, old payloads)
            h = event_hash(prev, seq, "2025-01-01T00:00:00Z", "add_account", "{}")
            conn.execute(text("INSERT INTO gc_event VALUES (:s, :a, 'add_account', '{}', :p, "
                              ":h)"), {"s": seq, "a": "2025-01-01T00:00:00Z", "p": prev,
                                       "h": h})
            prev = h
        conn.execute(text("INSERT INTO gc_chain_head VALUES (1, 2, :h)"), {"h": prev})
    engine.dispose()
    reg = open_registry(url)  # upgrades: adopt event 3
    with reg.sessions() as s:
        adopt = s.execute(select(Event).where(Event.seq == 3)).scalar_one()
    assert adopt.kind == ADOPT and adopt.signature is None
    result = reg.verify()
    assert result.unsigned_tail == 3 and "is not signed" in result.problems[0]
    reg.seal("adopted after the upgrade")
    assert reg.verify().ok
    reg.add_account("alu", accepts_from=["park"])
    assert reg.verify().ok


def test_concurrent_registries_share_one_chain(pg_url: str) -> None:
    """Two Registry objects (two processes, as far as the database can tell) write at once:
    one chain, no gap, every row recorded."""
    import threading

    reg, meta = park(pg_url)
    reg.issue(hours("pv", [1000] * 40), metadata_id=meta)
    other = open_registry(pg_url)
    errors: list[BaseException] = []

    def client(r: Registry, ids: range) -> None:
        try:
            for i in ids:
                r.transfer(i, "alu" if i % 2 else "steel", from_account="park")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(r, range(k, k + 5)))
               for k, r in zip(range(1, 41, 5), [reg, other] * 4, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with reg.sessions() as s:
        seqs = s.execute(select(Event.seq).order_by(Event.seq)).scalars().all()
        moved = s.execute(select(func.count()).select_from(GranularCertificateBundle).where(
            GranularCertificateBundle.account_id != "park")).scalar_one()
    assert seqs == list(range(1, len(seqs) + 1)) and moved == 40
    assert reg.verify().ok


def test_migration_0002_downgrades_and_upgrades_again(db_url: str) -> None:
    reg = open_registry(db_url)
    cfg = database.alembic_config(MIGRATIONS, VERSION_TABLE, reg.engine.url)
    with reg.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    with reg.engine.connect() as conn:
        columns = {c["name"] for c in sa_inspect(conn).get_columns("gc_event")}
    assert "signature" not in columns
    reg = open_registry(db_url)
    reg.add_account("park")
    assert reg.verify().ok
