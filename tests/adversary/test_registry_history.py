"""Adversary: full write access to the registry database, but not the operator's signing key.

Whatever such an attacker changes, inserts, deletes or reorders — in any table that decides a
claim, or in the history itself, recomputing every hash they can compute — `greenlink registry
verify` must fail and name it (table, key, what is wrong). A legitimate history verifies; a
checkpoint a buyer keeps proves later history still extends it. On SQLite and PostgreSQL (the
attacker there goes past the append-only trigger, as the database owner can).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Connection, create_engine, delete, insert, select, text, update
from typer.testing import CliRunner

from greenlink.certificates.db import open_registry
from greenlink.certificates.models import Base
from greenlink.certificates.registry import Registry
from greenlink.cli.registry_cmd import registry_app
from greenlink.signing.keys import PUBLIC_NAME, generate_key, rotate_key
from tests.certificates.conftest import (  # noqa: F401
    db_url,
    gec_issued,
    hours,
    pg_server,
    pg_url,
)

H0 = datetime(2025, 6, 1, tzinfo=UTC)
#: The shipped example GEC export and its mapping (device pv, accounts park and alu).
GEC_DATA = Path(__file__).parents[2] / "src" / "greenlink" / "data" / "gec"
RUNNER = CliRunner()
#: Event payload keys of row and batch records (the published format, docs/registry.md).
ROWS, BATCHES = "chain_rows", "chain_batches"


@pytest.fixture(autouse=True)
def operator_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The operator's key folder (GREENLINK_KEY_DIR); the verifier's keyring is empty."""
    key_dir = tmp_path / "operator-keys"
    generate_key(key_dir)
    monkeypatch.setenv("GREENLINK_KEY_DIR", str(key_dir))
    monkeypatch.setenv("GREENLINK_KEYRING", str(tmp_path / "no-keyring.json"))
    return key_dir


def build(url: str) -> Registry:
    """A legitimate history that writes every chained table, per row and in bulk."""
    reg = open_registry(url)
    reg.add_account("park", "Park operator")
    reg.add_account("alu", "Aluminium", accepts_from=["park"])
    reg.add_account("steel", "Steel", accepts_from=["park", "alu"])
    reg.add_account("idle", "No business yet")
    reg.add_device("pv", account_id="park", energy_source="solar",
                   technology_type="photovoltaic", capacity_kw=1000)
    reg.add_device("bess", account_id="park", energy_source="solar",
                   technology_type="battery", capacity_kw=500, is_storage=True)
    reg.add_device("spare", account_id="park", energy_source="wind",
                   technology_type="wind turbine", capacity_kw=50)
    meta = reg.add_metadata(country_of_issuance="CN", connected_grid_identification="CN-JS",
                            issuing_body="test", issue_market_zone="CN-JS")
    reg.add_metadata(country_of_issuance="CN", connected_grid_identification="CN-JS",
                     issuing_body="unused", issue_market_zone="CN-JS")
    reg.issue(hours("pv", [1000, 800, 600, 400]), metadata_id=meta)  # bundles 1-4, in bulk
    reg.record_consumption_table(pd.DataFrame({  # in bulk
        "beneficiary": "alu", "hour_start": pd.date_range(H0, periods=4, freq="h"),
        "wh": [900, 900, 900, 900]}))
    reg.record_consumption("steel", H0, 500)  # one row
    reg.record_consumption("bess", H0 + timedelta(hours=1), 800)  # the battery's charging
    # the month's GECs (Chinese certificates are claimable only then)
    reg.import_gec_file(GEC_DATA / "example-records.csv", GEC_DATA / "example-mapping.toml")
    moved = reg.transfer(1, "alu", quantity_wh=400)  # split: 5 (alu), 6 (park)
    reg.cancel(moved, beneficiary="alu", purpose="tenant_scope2", claim_id="c-alu")
    reg.transfer(3, "steel")  # whole bundle
    reg.storage_charge("bess", [2], claim_id="c-bess")
    reg.storage_discharge("bess", H0 + timedelta(hours=5), 450, efficiency=0.9,
                          metadata_id=meta)
    gec_issued(reg, Path(tempfile.mkdtemp(prefix="gec-")), "pv", "2025-07", 10)  # GEC rows last
    check = reg.verify()
    assert check.ok, check.problems
    return reg


@contextmanager
def attacker(url: str) -> Iterator[Connection]:
    """A plain connection with full write access: foreign keys not enforced (SQLite's default),
    triggers off (PostgreSQL: session_replication_role, as a superuser or owner can)."""
    engine = create_engine(url)
    try:
        with engine.begin() as con:
            if con.dialect.name == "postgresql":
                con.execute(text("SET LOCAL session_replication_role = replica"))
            yield con
    finally:
        engine.dispose()


def failing(reg: Registry) -> list[str]:
    result = reg.verify()
    assert not result.ok, "verify passed after tampering"
    return [*result.problems, *getattr(result, "untrusted", [])]


def named(problems: list[str], *parts: str) -> bool:
    return any(all(p in line for p in parts) for line in problems)


def table(name: str) -> Any:
    return Base.metadata.tables[name]


def where(tab: Any, key: dict[str, Any]) -> list[Any]:
    return [tab.c[k] == v for k, v in key.items()]


def row_digest(name: str, row: Any) -> str | None:
    """A row's digest by the registry's published rule."""
    from greenlink.certificates.chained import BY_NAME
    from greenlink.certificates.digests import row_hash

    return str(row_hash(BY_NAME[name], row))


def fix_own_hash(con: Connection, name: str, key: dict[str, Any]) -> str | None:
    """Recompute the row's digest, and its own hash column (gc_bundle.hash), as the published
    rule does."""
    tab = table(name)
    row = con.execute(select(tab).where(*where(tab, key))).mappings().one()
    digest = row_digest(name, row)
    if name == "gc_bundle":
        con.execute(update(tab).where(*where(tab, key)).values(hash=digest))
    return digest


def rechain(con: Connection, first: int) -> None:
    """Recompute every event hash from event ``first`` on and move the head (signatures stay:
    the attacker cannot make them)."""
    ev = table("gc_event")
    rows = con.execute(select(ev).order_by(ev.c.seq)).mappings().all()
    prev = "0" * 64
    last = None
    for r in rows:
        if r["seq"] >= first:
            h = hashlib.sha256(f"{prev}|{r['seq']}|{r['at']}|{r['kind']}|{r['payload']}"
                               .encode()).hexdigest()
            con.execute(update(ev).where(ev.c.seq == r["seq"]).values(prev_hash=prev, hash=h))
            prev = h
        else:
            prev = r["hash"]
        last = r["seq"]
    con.execute(update(table("gc_chain_head")).values(seq=last, hash=prev))


def record_edit(con: Connection, name: str, key: dict[str, Any], new_hash: str,
                new_key: dict[str, Any] | None = None) -> int:
    """Make the history agree with an edited row: rewrite the last event that records it (its
    row digest and key, or its batch leaf and digest) and rebuild the chain from there."""
    from greenlink.certificates.chained import BY_NAME
    from greenlink.certificates.digests import (
        LEAF_CHARS,
        _text,
        batch_digest,
        decode_keys,
        key_of,
        row_hash,
    )

    ev = table("gc_event")
    events = con.execute(select(ev).order_by(ev.c.seq)).mappings().all()
    chained = BY_NAME[name]
    key_text = [_text(key[k]) for k in chained.key]
    for r in reversed(events):
        payload = json.loads(r["payload"])
        for rec in payload.get(ROWS, []):
            if rec[0] == name and rec[1] == key_text:
                rec[3] = new_hash
                if new_key is not None:
                    rec[1] = [_text(new_key[k]) for k in chained.key]
                return _rewrite(con, r["seq"], payload)
        for batch in payload.get(BATCHES, []):
            keys = [list(k) for k in decode_keys(batch)]
            if batch["table"] == name and key_text in keys:
                i = keys.index(key_text)
                leaves = batch["leaves"]
                n = LEAF_CHARS
                batch["leaves"] = leaves[:i * n] + new_hash[:n] + leaves[(i + 1) * n:]
                # each row as the batch created it: the "before" of the first later event
                # that changed it, else the row as it is now
                tab = table(name)
                initial = {key_of(chained, row): row_hash(chained, row)
                           for row in con.execute(select(tab)).mappings()}
                for later in reversed(events):
                    if later["seq"] <= r["seq"]:
                        break
                    for rec in json.loads(later["payload"]).get(ROWS, []):
                        if rec[0] == name and rec[2] is not None:
                            initial[tuple(rec[1])] = rec[2]
                batch["digest"] = batch_digest([initial[tuple(k)] for k in keys])
                return _rewrite(con, r["seq"], payload)
    raise AssertionError(f"no event records {name} {key}")


def _rewrite(con: Connection, seq: int, payload: dict[str, Any]) -> int:
    ev = table("gc_event")
    con.execute(update(ev).where(ev.c.seq == seq).values(
        payload=json.dumps(payload, sort_keys=True, separators=(",", ":"))))
    rechain(con, seq)
    return seq


# table, row to edit (key, change), row to insert (copied from key, new values), row to delete
TARGETS: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any],
                    dict[str, Any]]] = [
    ("gc_account", {"id": "alu"}, {"account_name": "Mallory Ltd"},
     {"id": "alu"}, {"id": "mallory"}, {"id": "idle"}),
    ("gc_account_whitelist", {"account_id": "alu", "sender_account_id": "park"},
     {"sender_account_id": "idle"},
     {"account_id": "alu", "sender_account_id": "park"},
     {"account_id": "park", "sender_account_id": "steel"},
     {"account_id": "steel", "sender_account_id": "alu"}),
    ("gc_device", {"id": "pv"}, {"capacity": 100000.0},
     {"id": "pv"}, {"id": "ghost"}, {"id": "spare"}),
    ("gc_issuance_metadata", {"id": 1}, {"issuing_body": "mallory"},
     {"id": 1}, {"id": 99}, {"id": 2}),
    ("gc_bundle", {"id": 4}, {"account_id": "steel"},
     {"id": 6}, {"id": 100}, {"id": 5}),
    ("gc_consumption", {"beneficiary": "alu", "hour_start": H0}, {"consumption_wh": 99999},
     {"beneficiary": "alu", "hour_start": H0},
     {"hour_start": H0 + timedelta(hours=10)},
     {"beneficiary": "steel", "hour_start": H0}),
    ("gc_storage_charge_record", {"id": 1}, {"remaining_wh": 1000},
     {"id": 1}, {"id": 7}, {"id": 1}),
    ("gc_storage_discharge_record", {"id": 1}, {"loss_wh": 0},
     {"id": 1}, {"id": 7}, {"id": 1}),
    ("gc_gec_record", {"id": 1}, {"tradable": False},  # sellable GECs made non-tradable
     {"id": 1}, {"id": 99, "source_row": 999}, {"id": 4}),  # a cancellation record removed
    ("gc_claim", {"id": "c-alu"}, {"beneficiary": "steel"},  # a claim given to another
     {"id": "c-alu"}, {"id": "forged-claim"}, {"id": "c-bess"}),
    ("gc_claim_part", {"bundle_id": 5}, {"gec_serials": "[]"},  # the GEC serials erased
     {"bundle_id": 5}, {"bundle_id": 100}, {"bundle_id": 2}),
]
IDS = [t[0] for t in TARGETS]


def _first(key: dict[str, Any]) -> str:
    return str(next(iter(key.values())))


def test_every_chained_table_is_attacked_here() -> None:
    from greenlink.certificates.chained import CHAINED

    assert {c.name for c in CHAINED} == set(IDS)


@pytest.mark.parametrize(("name", "key", "change", "_c", "_n", "_d"), TARGETS, ids=IDS)
def test_edited_row_with_its_hash_recomputed_is_named(db_url: str, name: str,  # noqa: F811
                                                      key: dict[str, Any],
                                                      change: dict[str, Any], _c: Any, _n: Any,
                                                      _d: Any) -> None:
    reg = build(db_url)
    with attacker(db_url) as con:
        tab = table(name)
        con.execute(update(tab).where(*where(tab, key)).values(change))
        fix_own_hash(con, name, {**key, **{k: v for k, v in change.items() if k in key}})
    assert named(failing(reg), f"[{name}]", _first(key))


@pytest.mark.parametrize(("name", "key", "change", "_c", "_n", "_d"), TARGETS, ids=IDS)
def test_edit_with_the_whole_chain_rebuilt_is_named(db_url: str, name: str,  # noqa: F811
                                                    key: dict[str, Any],
                                                    change: dict[str, Any], _c: Any, _n: Any,
                                                    _d: Any) -> None:
    """Row, its hash column, the event that records it, every later event hash and the head:
    all recomputed — only the signatures could not be."""
    reg = build(db_url)
    new_key = {**key, **{k: v for k, v in change.items() if k in key}}
    with attacker(db_url) as con:
        tab = table(name)
        con.execute(update(tab).where(*where(tab, key)).values(change))
        digest = fix_own_hash(con, name, new_key)
        record_edit(con, name, key, digest or "", new_key)
    problems = failing(reg)
    assert named(problems, "signature does not match", name), problems


@pytest.mark.parametrize(("name", "_k", "_e", "source", "new", "_d"), TARGETS, ids=IDS)
def test_inserted_row_is_named(db_url: str, name: str, _k: Any, _e: Any,  # noqa: F811
                               source: dict[str, Any], new: dict[str, Any], _d: Any) -> None:
    reg = build(db_url)
    with attacker(db_url) as con:
        tab = table(name)
        row = dict(con.execute(select(tab).where(*where(tab, source))).mappings().one())
        row.update(new)
        con.execute(insert(tab).values(row))
        fix_own_hash(con, name, {c.name: row[c.name] for c in tab.primary_key.columns})
    assert named(failing(reg), f"[{name}]", _first(new) if name != "gc_consumption"
                 else "2025-06-01T10:00:00", "no event records this row")


@pytest.mark.parametrize(("name", "_k", "_e", "_s", "_n", "key"), TARGETS, ids=IDS)
def test_deleted_row_is_named(db_url: str, name: str, _k: Any, _e: Any, _s: Any,  # noqa: F811
                              _n: Any, key: dict[str, Any]) -> None:
    reg = build(db_url)
    with attacker(db_url) as con:
        tab = table(name)
        assert con.execute(delete(tab).where(*where(tab, key))).rowcount == 1
    assert named(failing(reg), f"[{name}]", _first(key), "deleted outside the registry")


def test_row_changed_then_used_by_the_registry_is_named(db_url: str) -> None:  # noqa: F811
    """Tampering is not laundered by a later legitimate operation on the tampered row: the
    operation records the digest it found, which differs from the last record."""
    reg = build(db_url)
    reg.record_consumption("steel", H0 + timedelta(hours=3), 500)  # so steel may claim it
    with attacker(db_url) as con:
        bundles = table("gc_bundle")
        con.execute(update(bundles).where(bundles.c.id == 4).values(account_id="steel"))
        fix_own_hash(con, "gc_bundle", {"id": 4})
    reg.cancel(4, beneficiary="steel", purpose="tenant_scope2")  # the registry believes it
    assert named(failing(reg), "bundle 4 [gc_bundle]", "changed outside the registry")


def test_deleted_last_event_is_found(db_url: str) -> None:  # noqa: F811
    reg = build(db_url)
    with attacker(db_url) as con:
        con.execute(text("DELETE FROM gc_event WHERE seq = (SELECT max(seq) FROM gc_event)"))
    problems = failing(reg)
    assert "the chain head names event" in problems[0] and "were deleted" in problems[0]
    # what the deleted event did is now unexplained: the GEC import's rows (the last event)
    assert named(problems, "[gc_gec_record]", "no event records this row")


def test_deleted_last_event_and_rewound_head_is_found(db_url: str) -> None:  # noqa: F811
    """A truncation by one event that also moves the head back: the rows it wrote betray it."""
    reg = build(db_url)
    with attacker(db_url) as con:
        last = con.execute(text("SELECT max(seq) FROM gc_event")).scalar_one()
        prev = con.execute(text(f"SELECT seq, hash, signer, signature FROM gc_event "
                                f"WHERE seq = {last - 1}")).one()
        con.execute(text(f"DELETE FROM gc_event WHERE seq = {last}"))
        con.execute(update(table("gc_chain_head")).values(
            seq=prev.seq, hash=prev.hash, signer=prev.signer, signature=prev.signature))
    assert named(failing(reg), "[gc_gec_record]", "no event records this row")


def test_deleted_head_is_found(db_url: str) -> None:  # noqa: F811
    reg = build(db_url)
    with attacker(db_url) as con:
        con.execute(text("DELETE FROM gc_chain_head"))
    problems = failing(reg)
    assert "chain head row is missing" in problems[0]


@pytest.mark.parametrize("rebuild", [False, True], ids=["swapped", "swapped-and-rehashed"])
def test_reordered_events_are_found(db_url: str, rebuild: bool) -> None:  # noqa: F811
    reg = build(db_url)
    with attacker(db_url) as con:
        ev = table("gc_event")
        a, b = 13, 14  # the partial transfer and the cancel of what it moved
        con.execute(update(ev).where(ev.c.seq == a).values(seq=-1))
        con.execute(update(ev).where(ev.c.seq == b).values(seq=a))
        con.execute(update(ev).where(ev.c.seq == -1).values(seq=b))
        if rebuild:
            rechain(con, a)
    problems = failing(reg)
    if rebuild:
        assert named(problems, "event 13", "signature does not match"), problems
    else:
        assert named(problems, "event 13", "broken link"), problems


def _attacker_signature(seq: int, digest: str) -> tuple[str, str]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from greenlink.certificates.heads import head_message, raw_hex

    key = Ed25519PrivateKey.from_private_bytes(b"\x07" * 32)
    return raw_hex(key.public_key()), key.sign(head_message(seq, digest)).hex()


def test_head_signature_replaced_by_the_attackers_key_is_found(db_url: str  # noqa: F811
                                                                ) -> None:
    reg = build(db_url)
    with attacker(db_url) as con:
        last = con.execute(text("SELECT seq, hash FROM gc_event ORDER BY seq DESC LIMIT 1")
                           ).one()
        signer, signature = _attacker_signature(last.seq, last.hash)
        con.execute(update(table("gc_event")).where(table("gc_event").c.seq == last.seq)
                    .values(signer=signer, signature=signature))
        con.execute(update(table("gc_chain_head")).values(signer=signer, signature=signature))
    problems = failing(reg)
    assert named(problems, f"event {last.seq}", "not a key you trust"), problems


def test_head_row_signature_swapped_is_found(db_url: str) -> None:  # noqa: F811
    reg = build(db_url)
    with attacker(db_url) as con:
        signer, signature = _attacker_signature(1, "0" * 64)
        con.execute(update(table("gc_chain_head")).values(signer=signer, signature=signature))
    assert named(failing(reg), "chain head's signature differs")


def test_history_rebuilt_and_signed_by_the_attacker_is_untrusted(db_url: str,  # noqa: F811
                                                                 tmp_path: Path) -> None:
    """Edit, rebuild the chain and sign every head with one's own key: the history is
    consistent, but not signed by the operator — verify exits 3 (UNTRUSTED), never 0."""
    reg = build(db_url)
    reg.record_consumption("steel", H0 + timedelta(hours=3), 500)  # so steel may claim it
    with attacker(db_url) as con:
        bundles = table("gc_bundle")
        con.execute(update(bundles).where(bundles.c.id == 4).values(account_id="steel"))
        digest = fix_own_hash(con, "gc_bundle", {"id": 4})
        record_edit(con, "gc_bundle", {"id": 4}, digest or "")
        ev = table("gc_event")
        for r in con.execute(select(ev.c.seq, ev.c.hash, ev.c.signature)).all():
            if r.signature:
                signer, signature = _attacker_signature(r.seq, r.hash)
                con.execute(update(ev).where(ev.c.seq == r.seq).values(
                    signer=signer, signature=signature))
        con.execute(text("UPDATE gc_chain_head SET signer = (SELECT signer FROM gc_event "
                         "WHERE seq = gc_chain_head.seq), signature = (SELECT signature FROM "
                         "gc_event WHERE seq = gc_chain_head.seq)"))
    result = reg.verify()
    assert not result.ok and result.untrusted and not result.problems
    out = RUNNER.invoke(registry_app, ["verify", "--db", db_url])
    assert out.exit_code == 3 and "UNTRUSTED" in out.output


def test_signatures_stripped_are_found(db_url: str) -> None:  # noqa: F811
    reg = build(db_url)
    reg.record_consumption("steel", H0 + timedelta(hours=3), 500)  # so steel may claim it
    with attacker(db_url) as con:
        bundles = table("gc_bundle")
        con.execute(update(bundles).where(bundles.c.id == 4).values(account_id="steel"))
        digest = fix_own_hash(con, "gc_bundle", {"id": 4})
        seq = record_edit(con, "gc_bundle", {"id": 4}, digest or "")
        # keep the signatures before the rewritten event, drop the ones it broke
        con.execute(text(f"UPDATE gc_event SET signer = NULL, signature = NULL "
                         f"WHERE seq >= {seq}"))
        con.execute(text("UPDATE gc_chain_head SET signer = NULL, signature = NULL"))
    problems = failing(reg)
    assert named(problems, "is not signed", "gc_bundle"), problems


def _snapshot(url: str) -> dict[str, list[dict[str, Any]]]:
    from greenlink.certificates.chained import CHAINED

    with attacker(url) as con:
        return {c.name: [dict(r) for r in con.execute(select(table(c.name))).mappings()]
                for c in CHAINED} | {
            "gc_chain_head": [dict(r) for r in con.execute(select(
                table("gc_chain_head"))).mappings()]}


def _truncate_to(url: str, snapshot: dict[str, list[dict[str, Any]]]) -> None:
    """Roll the whole database back to a snapshot: later events deleted, every chained row
    and the head as they were — a consistent earlier registry."""
    with attacker(url) as con:
        head = snapshot["gc_chain_head"][0]
        con.execute(text(f"DELETE FROM gc_event WHERE seq > {int(head['seq'])}"))
        for name, rows in snapshot.items():
            con.execute(delete(table(name)))
            if rows:
                con.execute(insert(table(name)), rows)


def test_truncation_is_found_against_a_kept_checkpoint(db_url: str, tmp_path: Path  # noqa: F811
                                                      ) -> None:
    reg = build(db_url)
    before = _snapshot(db_url)
    cp = tmp_path / "checkpoint.json"
    reg.transfer(4, "alu")
    made = RUNNER.invoke(registry_app, ["checkpoint", "--out", str(cp), "--db", db_url])
    assert made.exit_code == 0, made.output
    reg.transfer(6, "steel")  # more legal writes after the checkpoint
    reg.record_consumption("steel", H0 + timedelta(hours=1), 700)
    ok = RUNNER.invoke(registry_app, ["verify", "--db", db_url, "--checkpoint", str(cp)])
    assert ok.exit_code == 0 and "extends the checkpoint" in ok.output, ok.output
    _truncate_to(db_url, before)  # back to before the checkpoint, consistently
    # alone, a consistent earlier registry verifies (docs/registry.md: only a kept checkpoint
    # finds a truncation to an earlier signed head)
    assert reg.verify().ok
    bad = RUNNER.invoke(registry_app, ["verify", "--db", db_url, "--checkpoint", str(cp)])
    assert bad.exit_code == 1, bad.output
    assert "truncated below the checkpoint" in bad.output


def test_checkpoint_file_tampered_is_found(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    build(db_url)
    cp = tmp_path / "checkpoint.json"
    assert RUNNER.invoke(registry_app, ["checkpoint", "--out", str(cp), "--db", db_url]
                         ).exit_code == 0
    body = json.loads(cp.read_text())
    body["seq"] -= 1
    cp.write_text(json.dumps(body))
    bad = RUNNER.invoke(registry_app, ["verify", "--db", db_url, "--checkpoint", str(cp)])
    assert bad.exit_code == 1 and "checkpoint's signature does not match" in bad.output


def test_legitimate_history_verifies_with_the_operators_public_key(
        db_url: str, operator_keys: Path, tmp_path: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    build(db_url)
    # a buyer: no key folder of their own, only the operator's public key file
    monkeypatch.setenv("GREENLINK_KEY_DIR", str(tmp_path / "buyer-has-no-keys"))
    out = RUNNER.invoke(registry_app, ["verify", "--db", db_url, "--key",
                                       str(operator_keys / PUBLIC_NAME)])
    assert out.exit_code == 0 and "chain intact" in out.output, out.output
    none = RUNNER.invoke(registry_app, ["verify", "--db", db_url])
    assert none.exit_code == 2 and "no trusted key" in none.output


def test_heads_signed_before_a_key_rotation_still_verify(db_url: str,  # noqa: F811
                                                         operator_keys: Path,
                                                         tmp_path: Path) -> None:
    reg = build(db_url)
    old_public = tmp_path / "old.pub"
    old_public.write_bytes((operator_keys / PUBLIC_NAME).read_bytes())
    cp = tmp_path / "checkpoint.json"
    assert RUNNER.invoke(registry_app, ["checkpoint", "--out", str(cp), "--db", db_url]
                         ).exit_code == 0
    rotate_key(operator_keys)
    # the retired key still verifies what it signed: a checkpoint and the head as it stands
    assert RUNNER.invoke(registry_app, ["verify", "--db", db_url, "--checkpoint", str(cp)]
                         ).exit_code == 0
    reg = open_registry(db_url)  # signs with the new key now
    reg.transfer(4, "alu")
    out = RUNNER.invoke(registry_app, ["verify", "--db", db_url, "--checkpoint", str(cp)])
    assert out.exit_code == 0, out.output
    new_only = RUNNER.invoke(registry_app, ["verify", "--db", db_url, "--key",
                                            str(operator_keys / PUBLIC_NAME)])
    assert new_only.exit_code == 0, new_only.output
    # a verifier who has only the retired key: the head is signed by a key it does not know
    old_only = RUNNER.invoke(registry_app, ["verify", "--db", db_url, "--key", str(old_public)])
    assert old_only.exit_code == 1 and "not a key you trust" in old_only.output


def test_unsigned_writes_fail_verify_until_the_operator_seals_them(
        db_url: str, operator_keys: Path, tmp_path: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    build(db_url)
    monkeypatch.setenv("GREENLINK_KEY_DIR", str(tmp_path / "no-key-here"))
    keyless = open_registry(db_url)
    assert keyless.signer is None
    keyless.transfer(4, "alu")
    monkeypatch.setenv("GREENLINK_KEY_DIR", str(operator_keys))
    bad = RUNNER.invoke(registry_app, ["verify", "--db", db_url])
    assert bad.exit_code == 1 and "is not signed" in bad.output
    refused = RUNNER.invoke(registry_app, ["checkpoint", "--out", str(tmp_path / "c.json"),
                                           "--db", db_url])
    assert refused.exit_code == 2 and "--seal" in refused.output
    sealed = RUNNER.invoke(registry_app, ["checkpoint", "--seal", "--out",
                                          str(tmp_path / "c.json"), "--db", db_url],
                           input="y\n")  # it shows the unsigned events, and asks
    assert sealed.exit_code == 0, sealed.output
    assert RUNNER.invoke(registry_app, ["verify", "--db", db_url]).exit_code == 0


# ------------------------------------------------------------------ PostgreSQL: append-only
APP_ROLE = "greenlink_app"


def test_event_table_is_append_only_for_the_application_role(pg_url: str) -> None:  # noqa: F811
    owner = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with owner.connect() as con:
        exists = con.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"),
                             {"r": APP_ROLE}).first()
        if not exists:
            con.execute(text(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER"))
        assert not con.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = :r"),
                               {"r": APP_ROLE}).scalar()
    owner.dispose()
    open_registry(pg_url, app_role=APP_ROLE)  # migrations as the owner: trigger and grants
    app_url = pg_url.replace("://greenlink@", f"://{APP_ROLE}@")
    reg = build(app_url)  # the registry works as the application role
    app = create_engine(app_url)
    for sql in ("UPDATE gc_event SET kind = 'x' WHERE seq = 1", "DELETE FROM gc_event",
                "TRUNCATE gc_event", "DELETE FROM gc_bundle WHERE id = 1"):
        with app.connect() as con, pytest.raises(Exception, match="permission denied"):
            con.execute(text(sql))
    app.dispose()
    # even the owner meets the trigger (only dropping it, or a superuser's replica mode, passes)
    owner = create_engine(pg_url)
    for sql in ("UPDATE gc_event SET kind = 'x' WHERE seq = 1", "DELETE FROM gc_event",
                "TRUNCATE gc_event"):
        with owner.connect() as con, pytest.raises(Exception, match="append-only"):
            con.execute(text(sql))
    owner.dispose()
    assert reg.verify().ok
