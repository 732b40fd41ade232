"""History that cannot be rewritten quietly: the event chain, the rows it covers, verification.

* **Chained tables.** :data:`greenlink.certificates.chained.CHAINED` lists every table that
  decides a claim, with the columns that identify a row. Each row has a digest
  (:func:`greenlink.certificates.digests.row_hash`: sha256 of all its columns in an unambiguous
  canonical text). A table added to the registry is covered by adding one line to
  :data:`~greenlink.certificates.chained.CHAINED` (and a test fails until every table of the
  models is either chained or listed in :data:`~greenlink.certificates.chained.NOT_CHAINED`).
* **Events.** Every registry operation appends one event ``(seq, at, kind, payload, prev_hash,
  hash)`` with ``hash = sha256(prev_hash | seq | at | kind | payload)`` (``prev_hash`` of event 1
  is 64 zeros). The payload records every chained row the operation changed:
  ``"chain_rows": [[table, key, before, after], …]`` (digests; ``before`` null for an insert,
  ``after`` null for a delete). Bulk inserts (an issuance of 175,200 bundles, a year of
  consumption) record ``"chain_batches": [{"table", "keys", "leaves", "digest"}]``: the keys,
  the first :data:`~greenlink.certificates.digests.LEAF_CHARS` hex digits of each row digest
  (to name a changed row) and the sha256 over the full digests (the check itself).
* **Signatures.** The last event of every commit carries the operator's Ed25519 signature over
  its ``(seq, hash)`` (:mod:`greenlink.certificates.heads`), which covers it and everything before
  it. ``gc_chain_head`` repeats the last event's ``seq``, ``hash`` and signature.
* :func:`verify` replays the events, checks every link, every signature against keys the
  verifier trusts, the head against the last event, a kept checkpoint, and then every row of
  every chained table against what the events recorded: a row changed, inserted or deleted
  outside the registry, an event rewritten or removed, is named (table, key, what is wrong).
* Adopt events and seals: :mod:`greenlink.certificates.adopt`; values stored in another form
  than the registry writes (SQLite): :mod:`greenlink.certificates.stored_forms`.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenlink.certificates.adopt import ADOPT, adopt_migration, adopt_problems
from greenlink.certificates.chained import BUNDLES, BY_NAME, CHAINED, Chained, describe
from greenlink.certificates.digests import (
    BATCHES_KEY,
    GENESIS,
    LEAF_CHARS,
    ROWS_KEY,
    batch_digest,
    decode_keys,
    event_hash,
    key_of,
    row_hash,
)
from greenlink.certificates.heads import Checkpoint, Trust, fingerprint_of_hex, head_message
from greenlink.certificates.models import ChainHead, Event
from greenlink.certificates.stored_forms import stored_form_problems


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify`.

    ``problems``: tampering found (the first one first); ``untrusted``: fingerprints of signers
    the verifier does not trust (the chain may be intact, but not vouched for by a trusted key);
    ``signatures_checked``: whether a trusted key set was given.
    """

    events: int
    bundles: int
    problems: list[str] = field(default_factory=list)
    untrusted: list[str] = field(default_factory=list)
    signatures_checked: bool = False
    head_seq: int = 0
    head_hash: str = GENESIS
    head_signer: str | None = None  # fingerprint
    head_at: str = ""
    rows: dict[str, int] = field(default_factory=dict)
    unsigned_tail: int = 0  # events after the last signed one

    @property
    def ok(self) -> bool:
        return not self.problems and not self.untrusted


@dataclass
class _Batch:
    seq: int
    kind: str
    chained: Chained
    keys: list[tuple[str, ...]]
    leaves: str
    digest: str
    full: dict[tuple[str, ...], str] = field(default_factory=dict)


@dataclass
class _Expect:
    hash: str | None  # full digest, a leaf (prefix) of it, or None: deleted
    seq: int
    batch: _Batch | None = None  # set while only the leaf is known



class _Verifier:
    def __init__(self, session: Session, trust: Trust | None, checkpoint: Checkpoint | None,
                 max_problems: int) -> None:
        self.session = session
        self.trust = trust
        self.checkpoint = checkpoint
        self.max = max_problems
        self.chain: list[str] = []
        self.rows_problems: list[str] = []
        self.untrusted: list[str] = []
        self.state: dict[str, dict[tuple[str, ...], _Expect]] = {c.name: {} for c in CHAINED}
        self.batches: list[_Batch] = []
        self.recorded: dict[int, list[str]] = {}  # seq -> rows it records (for messages)
        self.adopt_seq = 0
        self.refused_adopts: dict[int, str] = {}  # seq -> why the adopt does not count
        self.adopt_changes: dict[int, list[str]] = {}  # seq -> rows it restates differently
        self.pending: list[Any] = []
        self.hash_at: dict[int, str] = {}
        self.last_trusted = 0
        self.untrusted_events: list[tuple[int, str, str]] = []

    # -- events ------------------------------------------------------------------------
    def events(self) -> tuple[int, Any, int]:
        expected_seq = 1
        prev = GENESIS
        last: Any = None
        count = 0
        last_signed = 0
        unsigned_since = 1
        bad_signature_seen = False
        hash_at: dict[int, str] = {}
        stored = self.session.execute(select(Event).order_by(Event.seq)).scalars()
        for ev in itertools.chain(stored, self.pending):
            count += 1
            if ev.seq != expected_seq:
                if ev.seq > expected_seq:
                    missing = (f"event {expected_seq} is missing" if ev.seq == expected_seq + 1
                               else f"events {expected_seq}–{ev.seq - 1} are missing")
                    self.chain.append(f"{missing} (found event {ev.seq} next): events were "
                                      "deleted from the history")
                else:
                    self.chain.append(f"event {ev.seq} appears out of order")
            if ev.prev_hash != prev or event_hash(ev.prev_hash, ev.seq, ev.at, ev.kind,
                                                  ev.payload) != ev.hash:
                self.chain.append(f"event {ev.seq} ({ev.kind}): broken link — its stored "
                                  "content or hash was changed, or events before it were "
                                  "removed or reordered")
            hash_at[ev.seq] = ev.hash
            self._apply(ev)
            if ev.signature:
                verdict = self._signature(ev)
                if verdict == "bad" and not bad_signature_seen:
                    bad_signature_seen = True
                    self.chain.append(
                        f"event {ev.seq} ({ev.kind}): its signature does not match its hash: "
                        f"events {unsigned_since}–{ev.seq} were rewritten after they were "
                        f"signed{self._rows_of(unsigned_since, ev.seq)}")
                elif verdict == "bad":
                    self.chain.append(f"event {ev.seq} ({ev.kind}): signature does not match "
                                      "either")
                last_signed = ev.seq
                unsigned_since = ev.seq + 1
            elif ev.signer:
                self.chain.append(f"event {ev.seq} ({ev.kind}): names a signer but has no "
                                  "signature (the signature was removed)")
            prev = ev.hash
            expected_seq = ev.seq + 1
            last = ev
        self.hash_at = hash_at
        # a signature by a key the verifier does not trust, followed by a trusted one, adds
        # nothing (the trusted one covers the history before it: e.g. a retired key the
        # verifier was never given); after the last trusted one it is a forgery — or, when no
        # signature at all is trusted, the verifier lacks the operator's key (UNTRUSTED)
        after = [u for u in self.untrusted_events if u[0] > self.last_trusted]
        if self.last_trusted:
            for seq, kind, fp in after[:5]:
                self.chain.append(f"event {seq} ({kind}): signed by key {fp}, which is not a "
                                  f"key you trust, after event {self.last_trusted} was signed "
                                  "by one: its signature was replaced, or events were "
                                  "appended by someone else (or the operator rotated to a key "
                                  "you do not trust yet)")
            self.untrusted = []
        else:
            self.untrusted = list(dict.fromkeys(fp for _s, _k, fp in after))
        return count, last, last_signed

    def _signature(self, ev: Any) -> str:
        if self.trust is None:
            return "ok"
        verdict = self.trust.check(ev.signer or "", head_message(ev.seq, ev.hash),
                                   ev.signature or "")
        if verdict == "untrusted":
            fp = fingerprint_of_hex(ev.signer or "") or "?"
            self.untrusted_events.append((int(ev.seq), str(ev.kind), fp))
        elif verdict == "ok":
            self.last_trusted = int(ev.seq)
        return verdict

    def _rows_of(self, first: int, last: int, limit: int = 6) -> str:
        named: list[str] = []
        for seq in range(first, last + 1):
            named.extend(self.recorded.get(seq, []))
        if not named:
            return ""
        more = f" and {len(named) - limit} more" if len(named) > limit else ""
        return "; they record " + ", ".join(named[:limit]) + more

    def _apply(self, ev: Any) -> None:
        try:
            payload = json.loads(ev.payload)
            if not isinstance(payload, dict):
                raise ValueError("not an object")
        except ValueError:
            self.chain.append(f"event {ev.seq} ({ev.kind}): payload is not a JSON object")
            return
        if ev.kind == ADOPT and ev.seq in self.refused_adopts:
            self.chain.append(f"event {ev.seq} (adopt) does not count: "
                              f"{self.refused_adopts[ev.seq]}. The rows it restates are not "
                              "taken as recorded: each is checked against the events before "
                              "it (an adopt event written outside a migration launders edits)")
            self.recorded[ev.seq] = ["every row (refused)"]
            self.adopt_changes[ev.seq] = self._restated_differently(payload)
            return
        if ev.seq < self.adopt_seq:
            return  # history older than signed history: its links only
        if ev.kind == ADOPT:
            self.adopt_changes[ev.seq] = self._restated_differently(payload)
            self.state = {c.name: {} for c in CHAINED}
            self.batches = []
        named: list[str] = []
        for record in payload.get(ROWS_KEY, []):
            try:
                table, key, before, after = record
                key = tuple(str(k) for k in key)
            except (TypeError, ValueError):
                self.chain.append(f"event {ev.seq} ({ev.kind}): unreadable row record")
                continue
            chained = BY_NAME.get(table)
            named.append(describe(chained, table, key))
            if chained is None:
                self.chain.append(f"event {ev.seq} ({ev.kind}) records table {table!r}, which "
                                  "is not chained")
                continue
            self._row_record(ev, chained, key, before, after)
        for record in payload.get(BATCHES_KEY, []):
            chained = BY_NAME.get(str(record.get("table")))
            if chained is None:
                self.chain.append(f"event {ev.seq} ({ev.kind}) records a batch of table "
                                  f"{record.get('table')!r}, which is not chained")
                continue
            keys = decode_keys(record)
            leaves = str(record.get("leaves", ""))
            batch = _Batch(ev.seq, ev.kind, chained, keys, leaves, str(record.get("digest")))
            if len(leaves) != LEAF_CHARS * len(keys):
                self.chain.append(f"event {ev.seq} ({ev.kind}): batch of {chained.name} has "
                                  f"{len(keys)} keys but {len(leaves) // LEAF_CHARS} digests")
            self.batches.append(batch)
            named.append(f"{len(keys)} {chained.name} rows")
            st = self.state[chained.name]
            for i, key in enumerate(keys):
                if key in st and st[key].hash is not None:
                    self.rows_problems.append(f"{describe(chained, chained.name, key)}: event "
                                              f"{ev.seq} ({ev.kind}) inserts a row that exists")
                st[key] = _Expect(leaves[i * LEAF_CHARS:(i + 1) * LEAF_CHARS], ev.seq, batch)
        self.recorded[ev.seq] = named

    def _restated_differently(self, payload: Mapping[str, Any], limit: int = 20) -> list[str]:
        """Rows an adopt event restates otherwise than the events before it recorded them (a
        different digest, new, or left out): what sealing it would vouch for."""
        changed: list[str] = []
        restated: dict[str, set[tuple[str, ...]]] = {c.name: set() for c in CHAINED}
        for record in payload.get(BATCHES_KEY, []):
            chained = BY_NAME.get(str(record.get("table")))
            if chained is None:
                continue
            st = self.state[chained.name]
            leaves = str(record.get("leaves", ""))
            keys = decode_keys(record)
            for i, key in enumerate(keys):
                want = st.get(key)
                leaf = leaves[i * LEAF_CHARS:(i + 1) * LEAF_CHARS]
                if want is None or want.hash is None:
                    changed.append(f"{describe(chained, chained.name, key)} (new)")
                elif want.hash[:LEAF_CHARS] != leaf:
                    changed.append(f"{describe(chained, chained.name, key)} (changed)")
            restated[chained.name].update(keys)
        for chained in CHAINED:
            changed += [f"{describe(chained, chained.name, key)} (left out)"
                        for key, want in sorted(self.state[chained.name].items())
                        if want.hash is not None and key not in restated[chained.name]]
        return changed[:limit] + ([f"… {len(changed) - limit} more"]
                                  if len(changed) > limit else [])

    def _row_record(self, ev: Any, chained: Chained, key: tuple[str, ...], before: Any,
                    after: Any) -> None:
        st = self.state[chained.name]
        cur = st.get(key)
        name = describe(chained, chained.name, key)
        if cur is None or cur.hash is None:
            if before is not None:
                self.rows_problems.append(f"{name}: event {ev.seq} ({ev.kind}) changed a row "
                                          "no earlier event created (inserted outside the "
                                          "registry)")
        elif before is None:
            self.rows_problems.append(f"{name}: event {ev.seq} ({ev.kind}) inserts a row that "
                                      f"exists since event {cur.seq}")
        elif cur.batch is not None:
            if str(before)[:LEAF_CHARS] != cur.hash:
                self.rows_problems.append(
                    f"{name}: changed outside the registry after event {cur.seq} "
                    f"({cur.batch.kind}) created it and before event {ev.seq} ({ev.kind})")
            cur.batch.full[key] = str(before)
        elif before != cur.hash:
            self.rows_problems.append(f"{name}: changed outside the registry after event "
                                      f"{cur.seq} recorded it and before event {ev.seq} "
                                      f"({ev.kind})")
        st[key] = _Expect(None if after is None else str(after), ev.seq)

    # -- rows --------------------------------------------------------------------------
    def rows(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        if self.session.get_bind().dialect.name == "sqlite":
            self.rows_problems.extend(stored_form_problems(self.session))
        for chained in CHAINED:
            try:
                counts[chained.name] = self._table_rows(chained)
            except (ValueError, TypeError, OverflowError) as exc:
                self.rows_problems.append(
                    f"{chained.label} rows [{chained.name}]: a row cannot be read ({exc}): a "
                    "value is stored in a form the registry never writes (edited outside the "
                    "registry)")
        for batch in self.batches:
            full = [batch.full.get(k) for k in batch.keys]
            if any(h is None for h in full):
                continue  # a row is missing or differs: named above
            if batch_digest([str(h) for h in full]) != batch.digest:
                self.rows_problems.append(
                    f"event {batch.seq} ({batch.kind}): the {len(batch.keys)} "
                    f"{batch.chained.name} rows it created do not hash to its digest (a row "
                    "was forged to match its recorded leaf)")
        return counts

    def _table_rows(self, chained: Chained) -> int:
        """Check every row of one chained table against what the events recorded."""
        st = self.state[chained.name]
        seen: set[tuple[str, ...]] = set()
        n = 0
        for row in self.session.execute(select(chained.table)).mappings():
            n += 1
            key = key_of(chained, row)
            seen.add(key)
            actual = row_hash(chained, row)
            want = st.get(key)
            name = describe(chained, chained.name, key)
            if want is None:
                self.rows_problems.append(f"{name}: no event records this row (inserted "
                                          "outside the registry)")
            elif want.hash is None:
                self.rows_problems.append(f"{name}: event {want.seq} deleted this row, "
                                          "but it is there (inserted outside the registry)")
            elif want.batch is not None:
                if actual[:LEAF_CHARS] != want.hash:
                    self.rows_problems.append(
                        f"{name}: row differs from what event {want.seq} "
                        f"({want.batch.kind}) recorded (edited outside the registry)")
                want.batch.full.setdefault(key, actual)
            elif actual != want.hash:
                self.rows_problems.append(f"{name}: row differs from what event {want.seq} "
                                          "recorded (edited outside the registry)")
            if chained.hash_column and row[chained.hash_column] != actual:
                self.rows_problems.append(f"{name}: its stored {chained.hash_column} column "
                                          "was changed")
        for key, want in sorted(st.items()):
            if want.hash is not None and key not in seen:
                self.rows_problems.append(
                    f"{describe(chained, chained.name, key)}: event {want.seq} recorded "
                    "this row, but it is gone (deleted outside the registry)")
        return n



def verify(session: Session, *, trust: Trust | None = None, checkpoint: Checkpoint | None = None,
           max_problems: int = 50, pending: Sequence[Mapping[str, Any]] = ()) -> VerifyResult:
    """Check the whole history: links, signatures (with ``trust``: only keys the verifier trusts;
    ``None``: signatures are not checked), the head, a kept ``checkpoint``, and every row of every
    chained table against what the events recorded.

    ``pending``: events of the open transaction ``session`` belongs to, not yet written (they are
    written, the last one signed, when it commits): checked like the others, but not required to
    be signed.
    """
    return _verify(session, trust=trust, checkpoint=checkpoint, max_problems=max_problems,
                   pending=pending)[0]


def _verify(session: Session, *, trust: Trust | None, checkpoint: Checkpoint | None,
            max_problems: int, pending: Sequence[Mapping[str, Any]]
            ) -> tuple[VerifyResult, _Verifier, str | None]:
    """:func:`verify`, with the verifier (its replay) and the unsigned-tail problem apart."""
    v = _Verifier(session, trust, checkpoint, max_problems)
    v.pending = [SimpleNamespace(**e) for e in pending]
    v.refused_adopts = adopt_problems(session, trust)
    counted = session.execute(select(Event.seq).where(Event.kind == ADOPT)).scalars().all()
    v.adopt_seq = max([int(q) for q in counted if q not in v.refused_adopts], default=0)
    count, last, last_signed = v.events()
    if v.pending and last_signed < v.pending[0].seq:  # the commit signs what is pending
        last_signed = int(last.seq)
    head_problems: list[str] = []
    heads = session.execute(select(ChainHead)).scalars().all()
    head = next((h for h in heads if h.id == 1), None)
    if len(heads) > 1 or (heads and head is None):
        head_problems.append("gc_chain_head holds rows other than the one head (id 1)")
    last_seq = int(last.seq) if last is not None else 0
    if head is None:
        if count:
            head_problems.append(f"the chain head row is missing (the history has {count} "
                                 "events): it was deleted")
    else:
        if head.seq != last_seq or head.hash != (last.hash if last is not None else GENESIS):
            if head.seq > last_seq:
                head_problems.append(
                    f"the chain head names event {head.seq}, but the history ends at event "
                    f"{last_seq}: events {last_seq + 1}–{head.seq} were deleted")
            else:
                head_problems.append(
                    f"the chain head (event {head.seq}, hash {head.hash[:12]}…) does not match "
                    f"the last event {last_seq}: the head or the events were changed")
        elif last is not None and ((head.signer or None) != (last.signer or None)
                                   or (head.signature or None) != (last.signature or None)):
            head_problems.append("the chain head's signature differs from its event's: it was "
                                 "replaced")
    unsigned: str | None = None
    if trust is not None and last is not None and last_signed != last_seq:
        unsigned = (
            f"the last event {last_seq} is not signed: events {last_signed + 1}–{last_seq} are "
            f"covered by no signature (written without a signing key, or signatures removed)"
            f"{v._rows_of(last_signed + 1, last_seq)}")
        head_problems.append(unsigned)
    cp_problems: list[str] = []
    if checkpoint is not None:
        cp_problems = _check_checkpoint(v, checkpoint, trust, last_seq)
    counts = v.rows()
    problems = [*v.chain, *head_problems, *cp_problems, *v.rows_problems]
    if len(problems) > max_problems:
        problems = [*problems[:max_problems],
                    f"… and {len(problems) - max_problems} more problems"]
    return VerifyResult(
        events=count, bundles=counts.get(BUNDLES.name, 0), problems=problems,
        untrusted=list(v.untrusted), signatures_checked=trust is not None, head_seq=last_seq,
        head_hash=last.hash if last is not None else GENESIS,
        head_signer=fingerprint_of_hex(last.signer) if last is not None and last.signer
        else None, head_at=last.at if last is not None else "", rows=counts,
        unsigned_tail=last_seq - last_signed), v, unsigned


# ------------------------------------------------------------------------- sealing
@dataclass(frozen=True)
class TailEvent:
    """One event a seal would vouch for: what it says it did and the rows it records."""

    seq: int
    kind: str
    at: str
    hash: str
    fields: dict[str, Any]
    rows: list[str]
    adopt: str | None = None  # for an adopt event: its migration and the rows it changes

    def lines(self) -> list[str]:
        shown = ", ".join(f"{k}={v!r}" for k, v in list(self.fields.items())[:8])
        out = [f"event {self.seq} ({self.kind}) at {self.at}" + (f": {shown}" if shown else "")]
        if self.rows:
            out.append("    records " + ", ".join(self.rows[:8])
                       + (f" and {len(self.rows) - 8} more" if len(self.rows) > 8 else ""))
        if self.adopt:
            out.append(f"    {self.adopt}")
        return out


@dataclass(frozen=True)
class UnsignedTail:
    """The events after the last one signed by a trusted key — what a seal vouches for — and
    what keeps them from being sealed (``problems``: everything ``verify`` finds besides the
    missing signature)."""

    first_seq: int
    head_seq: int
    head_hash: str
    events: list[TailEvent]  # the first of them (``limit``)
    adopts: list[list[Any]]  # [seq, hash] of every adopt event among them
    problems: list[str]

    @property
    def count(self) -> int:
        return max(0, self.head_seq - self.first_seq + 1)

    @property
    def through(self) -> tuple[int, str]:
        return self.head_seq, self.head_hash

    @property
    def sealed(self) -> list[int] | None:
        return [self.first_seq, self.head_seq] if self.count else None

    def lines(self) -> list[str]:
        if not self.count:
            return ["no unsigned events: the last event is signed by your key"]
        out = [f"{self.count} event(s) not signed by your key, {self.first_seq}–"
               f"{self.head_seq}:"]
        for e in self.events:
            out += ["  " + line for line in e.lines()]
        if self.count > len(self.events):
            out.append(f"  … and {self.count - len(self.events)} more")
        return out


def unsigned_tail(session: Session, trust: Trust, limit: int = 200) -> UnsignedTail:
    """What sealing would vouch for: the events after the last one signed by a key of
    ``trust`` (the operator's own), each with the rows it records, after verifying every link,
    row and signature (``problems``)."""
    result, v, unsigned = _verify(session, trust=trust, checkpoint=None, max_problems=50,
                                  pending=())
    problems = [p for p in result.problems if p != unsigned]
    problems += [f"event signed by key {fp}, which is not one of your keys"
                 for fp in result.untrusted]
    first = v.last_trusted + 1
    events: list[TailEvent] = []
    for ev in session.execute(select(Event).where(Event.seq >= first).order_by(Event.seq)
                              .limit(limit)).scalars():
        try:
            payload = json.loads(ev.payload)
            payload = payload if isinstance(payload, dict) else {}
        except ValueError:
            payload = {}
        fields = {k: (val if len(repr(val)) <= 80 else f"{repr(val)[:77]}…")
                  for k, val in payload.items() if k not in (ROWS_KEY, BATCHES_KEY)}
        adopt = None
        if ev.kind == ADOPT:
            changed = v.adopt_changes.get(int(ev.seq), [])
            refused = v.refused_adopts.get(int(ev.seq))
            adopt = (f"adopt by migration {adopt_migration(payload)!r}"
                     + (f" (does not count: {refused})" if refused else "")
                     + ": every row restated; "
                     + (f"differing from the history before it: {', '.join(changed)}"
                        if changed else "every row as the history before it recorded it"))
        events.append(TailEvent(int(ev.seq), str(ev.kind), str(ev.at), str(ev.hash), fields,
                                list(v.recorded.get(int(ev.seq), [])), adopt))
    adopts = [[int(q), str(h)] for q, h in session.execute(
        select(Event.seq, Event.hash).where(Event.seq >= first, Event.kind == ADOPT)
        .order_by(Event.seq)).all()]
    return UnsignedTail(first, result.head_seq, result.head_hash, events, adopts, problems)


def _check_checkpoint(v: _Verifier, cp: Checkpoint, trust: Trust | None, last_seq: int
                      ) -> list[str]:
    out: list[str] = []
    if trust is None:
        out.append("the checkpoint's signature cannot be checked without a trusted key")
    else:
        verdict = trust.check(cp.public_key, cp.message(), cp.signature)
        if verdict == "untrusted":
            out.append(f"the checkpoint is signed by key {cp.key}, which you do not trust")
        elif verdict == "bad":
            out.append("the checkpoint's signature does not match its content (the checkpoint "
                       "file was changed)")
    have = v.hash_at.get(cp.seq)
    if have is None:
        out.append(f"the checkpoint's event {cp.seq} is no longer in the history (it ends at "
                   f"event {last_seq}): the history was truncated below the checkpoint")
    elif have != cp.hash:
        out.append(f"event {cp.seq} differs from the checkpoint (hash {have[:12]}… instead of "
                   f"{cp.hash[:12]}…): the history up to it was rewritten")
    return out

