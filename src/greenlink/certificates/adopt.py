"""Adopt events and seals: events that vouch for history the operator's key did not sign.

* An ``adopt`` event (:func:`adopt_history`), written by a migration that changes what row
  digests cover, restates every row of every chained table as it is; events before it are then
  checked for their links and signatures only. Whoever can append one could launder any edit,
  so it counts only as :func:`adopt_problems` allows.
* A ``seal`` event (``greenlink registry checkpoint --seal``) is the operator's signed word for
  the unsigned events before it; its payload names them and the adopt events among them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from greenlink.certificates.chained import CHAINED
from greenlink.certificates.digests import (
    BATCHES_KEY,
    batch_record,
    canonical,
    event_hash,
    key_of,
    row_hash,
)
from greenlink.certificates.heads import Trust, head_message
from greenlink.certificates.models import ChainHead, Event

#: Event kind written by a migration that changes what row digests cover, on a registry that
#: had history before it: its rows as they were then (events before it are checked for their
#: links only). It counts only as :func:`adopt_problem` allows.
ADOPT = "adopt"
#: Event kind of the operator's seal: a signed event vouching for the unsigned events before it
#: (``greenlink registry checkpoint --seal``); its payload names them and the adopt events
#: among them.
SEAL = "seal"
#: Migrations that write an ``adopt`` event, and what each may adopt: ``0003_history`` brought
#: signed heads, so it adopts only a history in which no event is signed yet.
ADOPTING_MIGRATIONS: dict[str, str] = {
    "0003_history": "a registry from before signed heads (no event of it is signed)",
}
#: The note of the adopt events ``0003_history`` wrote before adopt events named their
#: migration.
_LEGACY_ADOPT_NOTE = "migration 0002_history"


def adopt_migration(payload: Mapping[str, Any]) -> str | None:
    """The migration an adopt event says wrote it (adopt events of ``0003_history`` from before
    they named it: by their note)."""
    named = payload.get("migration")
    if isinstance(named, str):
        return named
    if str(payload.get("note", "")).startswith(_LEGACY_ADOPT_NOTE):
        return "0003_history"
    return None


def adopt_problems(session: Session, trust: Trust | None) -> dict[int, str]:
    """Why each adopt event that does not count does not (sequence number → reason).

    An adopt event restates every row as it is: whoever can append one can launder any edit.
    It counts only when

    * it names a migration that adopts (:data:`ADOPTING_MIGRATIONS`), and no earlier adopt
      names the same one (a migration runs once);
    * what that migration may adopt holds: ``0003_history`` adopts only a history in which no
      earlier event is signed;
    * the first signed event after it is signed by a key the verifier trusts (with ``trust``)
      and is the operator's **seal** naming it (sequence number and hash) — or, for
      ``0003_history`` (whose adopt events were signed by the operator's next write before
      seals named them), any such event.

    An adopt event with no signed event after it yet counts for the rows (it awaits its seal;
    ``verify`` reports it as unsigned).
    """
    adopts = session.execute(select(Event.seq, Event.hash, Event.payload)
                             .where(Event.kind == ADOPT).order_by(Event.seq)).all()
    if not adopts:
        return {}
    first_signed = session.execute(select(func.min(Event.seq)).where(
        Event.signature.is_not(None), Event.signature != "")).scalar()
    seen: set[str] = set()
    out: dict[int, str] = {}
    for seq, hash_, text_ in adopts:
        try:
            payload = json.loads(text_)
            payload = payload if isinstance(payload, dict) else {}
        except ValueError:
            payload = {}
        migration = adopt_migration(payload)
        if migration not in ADOPTING_MIGRATIONS:
            out[seq] = (f"it names no migration that adopts ({migration!r}; the ones that do: "
                        f"{', '.join(ADOPTING_MIGRATIONS)})")
            continue
        if migration in seen:
            out[seq] = f"migration {migration} adopted the registry before (it runs once)"
            continue
        seen.add(migration)
        if migration == "0003_history" and first_signed is not None and first_signed < seq:
            out[seq] = (f"migration {migration} adopts only {ADOPTING_MIGRATIONS[migration]}, "
                        f"but event {first_signed} before it is signed")
            continue
        sealer = session.execute(select(Event).where(
            Event.seq > seq, Event.signature.is_not(None), Event.signature != "")
            .order_by(Event.seq).limit(1)).scalar_one_or_none()
        if sealer is None:
            continue  # awaits its seal: reported as unsigned
        if trust is not None and trust.check(sealer.signer or "", head_message(
                sealer.seq, sealer.hash), sealer.signature or "") != "ok":
            out[seq] = (f"the first signed event after it ({sealer.seq}) is not signed by a key "
                        "you trust")
            continue
        if _seal_names(sealer, seq, hash_) or migration == "0003_history":
            continue
        out[seq] = (f"the operator did not seal it: the first signed event after it "
                    f"({sealer.seq}, {sealer.kind}) is not a seal naming it")
    return out


def _seal_names(ev: Any, seq: int, hash_: str) -> bool:
    if ev.kind != SEAL:
        return False
    try:
        named = json.loads(ev.payload).get("adopts", [])
    except (ValueError, AttributeError):
        return False
    return [seq, hash_] in named


def adopt_history(connection: Connection, note: str, *, migration: str) -> int | None:
    """Append an ``adopt`` event that restates every row of every chained table as it is now.

    For migrations that change what a row digest covers (``0003_history`` on a registry that had
    history before signed heads, or a later migration adding a column to a chained table):
    hash columns are rewritten, and the event records every row in batch form, and names the
    ``migration`` (one of :data:`ADOPTING_MIGRATIONS`). Events before it are then checked for
    their links and signatures only. It is written unsigned; a registry that signs writes
    nothing more until the operator seals it (``greenlink registry checkpoint --seal``, which
    shows it and the rows it restates differently). :func:`adopt_problems` says when it counts.
    Returns its sequence number, or ``None`` when the registry has no events (nothing to adopt).
    """
    if migration not in ADOPTING_MIGRATIONS:
        raise ValueError(f"migration {migration!r} is not one that adopts "
                         f"({', '.join(ADOPTING_MIGRATIONS)}): add it to ADOPTING_MIGRATIONS")
    present = set(sa_inspect(connection).get_table_names())
    last = connection.execute(select(Event.seq, Event.hash).order_by(Event.seq.desc())
                              .limit(1)).one_or_none()
    if last is None:
        return None
    batches = []
    for c in CHAINED:
        if c.name not in present:
            continue
        pk = [col.name for col in c.table.primary_key.columns]
        hashes: list[str] = []
        keys: list[tuple[str, ...]] = []
        fixes: list[dict[str, Any]] = []
        for row in connection.execute(select(c.table).order_by(
                *[c.table.c[k] for k in c.key])).mappings():
            h = row_hash(c, row)
            hashes.append(h)
            keys.append(key_of(c, row))
            if c.hash_column and row[c.hash_column] != h:
                fixes.append({**{f"k_{k}": row[k] for k in pk}, "h": h})
        if fixes and c.hash_column:
            connection.execute(update(c.table).where(
                *[c.table.c[k] == bindparam(f"k_{k}") for k in pk]).values(
                {c.hash_column: bindparam("h")}), fixes)
        if hashes:
            batches.append(batch_record(c.name, hashes, keys=keys))
    seq = int(last.seq) + 1
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    payload = canonical({"note": note, "migration": migration, BATCHES_KEY: batches})
    h = event_hash(str(last.hash), seq, at, ADOPT, payload)
    connection.execute(insert(Event).values(seq=seq, at=at, kind=ADOPT, payload=payload,
                                            prev_hash=str(last.hash), hash=h))
    if connection.execute(select(ChainHead.id).where(ChainHead.id == 1)).first() is None:
        connection.execute(insert(ChainHead).values(id=1, seq=seq, hash=h))
    else:
        connection.execute(update(ChainHead).where(ChainHead.id == 1).values(
            seq=seq, hash=h, signer=None, signature=None))
    return seq
