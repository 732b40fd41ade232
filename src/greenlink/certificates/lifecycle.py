"""The life of a certificate bundle after issuance: split, transfer, and the one claim path
(:meth:`ClaimOps.claim`) that every claim, cancellation into storage and withdrawal goes
through (rules in :mod:`greenlink.certificates.claims`), and the claims as stored.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from greenlink.certificates import claim_limits
from greenlink.certificates import claims as claim_rules
from greenlink.certificates.chained import BUNDLES
from greenlink.certificates.claims import ClaimLine, ClaimRequest, ClaimResult
from greenlink.certificates.errors import ClaimRefused, NothingToClaim, RegistryError
from greenlink.certificates.models import (
    ACTIVE,
    BUNDLE_SPLIT,
    CANCELLED,
    CLAIMED,
    WITHDRAW_KIND,
    WITHDRAWN,
    Account,
    AccountWhitelist,
    ClaimPart,
    ClaimRecord,
    GranularCertificateBundle,
    as_utc,
)
from greenlink.certificates.purposes import STORAGE_CHARGE
from greenlink.certificates.writer import Tx, WholeTransfer, row_of, transfer_refusal

Bundle = GranularCertificateBundle


class _Replayed(Exception):
    """Raised inside a claim operation that finds its claim made meanwhile: nothing is
    written, and :meth:`Registry.claim` returns the first result."""

    def __init__(self, result: ClaimResult) -> None:
        super().__init__(result.claim_id)
        self.result = result



class ClaimOps:
    """Split, transfer, cancel, withdraw and claim of :class:`greenlink.certificates.registry
    .Registry`, and its claim queries."""

    if TYPE_CHECKING:
        sessions: sessionmaker[Session]

        def _run(self, kind: str, fn: Callable[[Tx], Any]) -> Any: ...

        def _run_vector(self, kind: str, vector: WholeTransfer) -> Any: ...

        def _next_bundle_id(self, s: Session) -> int: ...

        def _lock_bundle(self, s: Session, bundle_id: int) -> Bundle: ...

        def _charge_record(self, s: Session, request: ClaimRequest,
                           parts: list[ClaimPart]) -> int: ...

    def _split(self, tx: Tx, b: Bundle, quantity: int) -> tuple[Bundle, Bundle]:
        if not 0 < quantity < b.bundle_quantity:
            raise RegistryError(f"bundle {b.id}: cannot split {quantity} Wh off "
                                f"{b.bundle_quantity} Wh (need 0 < quantity < size)")
        next_id = self._next_bundle_id(tx.session)
        base = row_of(BUNDLES, b)
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

    def _active_of(self, tx: Tx, bundle_id: int, account_id: str | None) -> Bundle:
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
        def op(tx: Tx) -> Any:
            b = self._active_of(tx, bundle_id, account_id)
            a, c = self._split(tx, b, quantity_wh)
            tx.payload.update(bundle=bundle_id, quantity_wh=quantity_wh)
            return a.id, c.id
        return self._run("split", op)

    def transfer(self, bundle_id: int, to_account: str, *, from_account: str | None = None,
                 quantity_wh: int | None = None) -> int:
        """Transfer a bundle (or ``quantity_wh`` of it) to ``to_account``; return its id.

        A whole bundle (no ``quantity_wh``) goes the batched way (:meth:`Writer.run_transfers`:
        concurrent transfers share one read and one write); a partial one splits first."""
        if quantity_wh is None:
            return int(self._run_vector("transfer", WholeTransfer(int(bundle_id), to_account,
                                                                   from_account)))

        def op(tx: Tx) -> Any:
            b = self._lock_bundle(tx.session, bundle_id)
            refusal = transfer_refusal(
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

        def op(tx: Tx) -> Any:
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

    def _claim_op(self, tx: Tx, request: ClaimRequest, claim_id: str) -> ClaimResult:
        s = tx.session
        for bid in sorted({ln.bundle_id for ln in request.lines if ln.bundle_id is not None}):
            self._lock_bundle(s, bid)  # exists; locked in id order
        withdraw = request.kind == WITHDRAW_KIND
        who = None if withdraw else claim_limits.resolve_beneficiary(s, request)
        cap = None if who is None else claim_limits.HourlyCap(s, who, claim_id)
        gec = None if withdraw else claim_limits.GecLink(s, str(request.beneficiary),
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
                hour = as_utc(line.hour_start)
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
                no, None if line.hour_start is None else as_utc(line.hour_start), line.subject,
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
        hours = sorted({as_utc(ln.hour_start) for ln in request.lines
                        if ln.hour_start is not None})
        pools: dict[datetime, list[Bundle]] = {}
        for i in range(0, len(hours), 500):
            chunk = hours[i:i + 500]
            for b in s.execute(select(Bundle).where(
                    Bundle.account_id == request.account_id,
                    Bundle.certificate_bundle_status == ACTIVE,
                    Bundle.production_starting_interval.in_(chunk))
                    .order_by(Bundle.id).with_for_update()).scalars():
                pools.setdefault(as_utc(b.production_starting_interval), []).append(b)
        return pools

    def _hour_holders(self, s: Session, request: ClaimRequest, hour: datetime) -> str:
        if request.beneficiary is None:
            return ""
        held = claim_rules.claims_in_hour(s, request.beneficiary, hour)
        return f"; {request.beneficiary} holds in that hour: " + "; ".join(held) if held else ""

    def _claimable(self, tx: Tx, bundle_id: int, request: ClaimRequest) -> Bundle:
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

    def _claim_bundle(self, tx: Tx, request: ClaimRequest, claim_id: str, line_no: int,
                      line: ClaimLine, b: Bundle, cap: claim_limits.HourlyCap | None,
                      gec: claim_limits.GecLink | None) -> ClaimPart:
        """Cancel (or withdraw) one whole bundle for the claim: cap, subject, GEC serials."""
        hour = as_utc(b.production_starting_interval)
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
