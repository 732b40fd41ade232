"""The registry's history as the operator sees it: verify it, show the unsigned tail, seal
it, sign a checkpoint of its head (:mod:`greenlink.certificates.audit` for what is checked)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from greenlink.certificates import audit
from greenlink.certificates.adopt import SEAL
from greenlink.certificates.errors import RegistryError
from greenlink.certificates.heads import Checkpoint, Signer, Trust
from greenlink.certificates.models import Event
from greenlink.certificates.writer import Job, Tx, Writer


class HistoryOps:
    """Verify, seal and checkpoint of :class:`greenlink.certificates.registry.Registry`."""

    if TYPE_CHECKING:
        sessions: sessionmaker[Session]
        signer: Signer | None
        trust: Trust | None
        _writer: Writer | None

        def own_trust(self) -> Trust: ...

        def _run_batch(self, batch: list[Job], *, sealing: tuple[int, str] | None = None
                       ) -> None: ...

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

        def op(tx: Tx) -> int:
            tx.payload = {"note": note, "signer": signer.fingerprint, "sealed": tail.sealed,
                          "adopts": tail.adopts}
            return tx.seq
        job = Job(SEAL, op)
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

