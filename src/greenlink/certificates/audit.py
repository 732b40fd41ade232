"""Tamper-evident audit log: hash chain of events and digests of bundle rows.

* Event ``n`` stores ``hash_n = sha256(hash_{n−1} | n | at | kind | payload)`` (``hash_0`` is 64
  zeros), so changing, inserting or deleting an event breaks every later link.
* A bundle's ``hash`` (the FEA field) is the sha256 of all its other columns in a canonical text
  form. Every event that changes bundles lists ``[id, hash]`` of each changed bundle; an issuance
  event instead stores one digest over the bundles it created, in id order (so 175,200 hourly
  bundles need one event, not 175,200).
* :func:`verify` replays the log: it recomputes every link, the expected current hash of every
  bundle, and compares with the rows. Editing a bundle row directly (even recomputing its
  ``hash`` column) is found, and named.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenlink.certificates.models import ACTIVE, Event, GranularCertificateBundle

GENESIS = "0" * 64
BUNDLE_FIELDS = [c.name for c in GranularCertificateBundle.__table__.columns if c.name != "hash"]
MUTABLE_FIELDS = {"certificate_bundle_status", "account_id", "beneficiary", "claim_purpose",
                  "last_event_seq", "is_deleted"}


@lru_cache(maxsize=65536)
def _datetime_text(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def _text(value: Any) -> str:
    """Canonical text of a column value (UTC times without offset, repr of floats)."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return str(value)
    if value is None:
        return ""
    if kind is bool:
        return "1" if value else "0"
    if isinstance(value, datetime):
        return _datetime_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def bundle_hash(row: Mapping[str, Any]) -> str:
    """sha256 of a bundle's columns (all but ``hash``) in canonical text form."""
    text = "\x1f".join([_text(row[name]) for name in BUNDLE_FIELDS])
    return hashlib.sha256(text.encode()).hexdigest()


def initial_state(row: Mapping[str, Any], account_id: str, seq: int) -> dict[str, Any]:
    """The row as its issuance event created it (mutable fields reset)."""
    out = dict(row)
    out.update(certificate_bundle_status=ACTIVE, account_id=account_id, beneficiary=None,
               claim_purpose=None, last_event_seq=seq, is_deleted=False)
    return out


def format_template(names: list[str], constants: Mapping[str, Any], varying: list[str],
                    render: Any) -> str:
    """A ``str.format`` template of one row: constants rendered once, ``{name}`` for the rest.

    Joined with the unit separator for :func:`bundle_hash` (``render=_text``) or with tabs and a
    newline for PostgreSQL COPY.
    """
    parts = []
    for name in names:
        if name in varying or name == "hash":
            parts.append("{" + name + "}")
        else:
            parts.append(render(constants[name]).replace("{", "{{").replace("}", "}}"))
    if render is _text:
        return "\x1f".join(parts)
    return "\t".join(parts) + "\n"


def batch_digest(hashes: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for h in hashes:
        digest.update(h.encode())
    return digest.hexdigest()


def event_hash(prev_hash: str, seq: int, at: str, kind: str, payload: str) -> str:
    return hashlib.sha256(f"{prev_hash}|{seq}|{at}|{kind}|{payload}".encode()).hexdigest()


def canonical(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=_text,
                      allow_nan=False)


def row_dict(bundle: GranularCertificateBundle) -> dict[str, Any]:
    return {name: getattr(bundle, name) for name in BUNDLE_FIELDS}


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify`: ``ok`` and the problems found (the first one first)."""

    events: int
    bundles: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session, *, max_problems: int = 20) -> VerifyResult:
    """Walk the chain and the bundle rows; report the first broken link and tampered rows."""
    problems: list[str] = []
    table = GranularCertificateBundle.__table__
    rows = {r["id"]: dict(r) for r in session.execute(select(table)).mappings()}
    by_issuance: dict[int, list[dict[str, Any]]] = {}
    for r in rows.values():
        by_issuance.setdefault(int(r["issued_event_seq"]), []).append(r)
    expected: dict[int, str] = {}
    prev = GENESIS
    n_events = 0
    for ev in session.execute(select(Event).order_by(Event.seq)).scalars():
        n_events += 1
        if ev.seq != n_events:
            problems.append(f"event {n_events} is missing (found event {ev.seq} next)")
            break
        if ev.prev_hash != prev or event_hash(prev, ev.seq, ev.at, ev.kind,
                                              ev.payload) != ev.hash:
            problems.append(f"event {ev.seq} ({ev.kind}): broken link — its stored content or "
                            "hash was changed")
            break
        prev = ev.hash
        try:
            payload = json.loads(ev.payload)
        except ValueError:
            problems.append(f"event {ev.seq}: payload is not JSON")
            break
        if ev.kind == "issue":
            created = sorted(by_issuance.get(ev.seq, []), key=lambda r: r["id"])
            accounts = payload["accounts"]
            initial = [bundle_hash(initial_state(r, accounts.get(r["device_id"], ""), ev.seq))
                       for r in created]
            if len(created) != payload["count"] or batch_digest(initial) != payload["digest"]:
                problems.append(f"event {ev.seq} (issue): the {payload['count']} bundles it "
                                f"issued do not match the log (found {len(created)} rows "
                                "pointing to it, or one of them was edited)")
            for r, h in zip(created, initial, strict=True):
                expected[r["id"]] = h
        for bundle_id, h in payload.get("bundles", []):
            expected[int(bundle_id)] = h
    for bundle_id, r in sorted(rows.items()):
        actual = bundle_hash(r)
        want = expected.get(bundle_id)
        if want is None:
            problems.append(f"bundle {bundle_id}: not recorded in the audit log (row inserted "
                            "directly)")
        elif actual != want:
            problems.append(f"bundle {bundle_id}: row differs from the audit log (edited "
                            "directly)")
        elif r["hash"] != actual:
            problems.append(f"bundle {bundle_id}: stored hash column was changed")
        if len(problems) >= max_problems:
            break
    for bundle_id in sorted(set(expected) - set(rows))[:max_problems]:
        problems.append(f"bundle {bundle_id}: recorded in the audit log but deleted")
    return VerifyResult(n_events, len(rows), problems)
