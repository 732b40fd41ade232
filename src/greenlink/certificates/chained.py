"""The chained tables: every table that decides a claim, with the columns that identify a row.

Each row of a chained table has a digest (:func:`greenlink.certificates.digests.row_hash`), and
every registry event records the digests of the chained rows it changed
(:mod:`greenlink.certificates.audit`). A table added to the registry is covered by adding one
line to :data:`CHAINED` (and a test fails until every table of the models is either chained or
listed in :data:`NOT_CHAINED`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Table

from greenlink.certificates.models import (
    Account,
    AccountWhitelist,
    Base,
    ClaimPart,
    ClaimRecord,
    Consumption,
    Device,
    GecRecord,
    GranularCertificateBundle,
    IssuanceMetaData,
    StorageChargeRecord,
    StorageDischargeRecord,
)


@dataclass(frozen=True)
class Chained:
    """A chained table: its model, the columns identifying a row, a label for messages, and
    optionally the column holding the row's own digest (excluded from it, checked against it)
    and a column stamped with the sequence number of the event that last changed the row."""

    model: type[Base]
    key: tuple[str, ...]
    label: str
    hash_column: str | None = None
    stamp_column: str | None = None

    @property
    def table(self) -> Table:
        return self.model.__table__  # type: ignore[return-value]

    @property
    def name(self) -> str:
        return str(self.model.__tablename__)

    @property
    def columns(self) -> list[str]:
        """Columns the row digest covers, in table order."""
        return [c.name for c in self.table.columns if c.name != self.hash_column]


#: Every table that decides a claim, with its key columns. Add a line for a new table (e.g.
#: ``Chained(GecRecord, ("id",), "GEC record"),``); docs/registry.md, "Adding a table".
CHAINED: tuple[Chained, ...] = (
    Chained(Account, ("id",), "account"),
    Chained(AccountWhitelist, ("account_id", "sender_account_id"), "whitelist entry"),
    Chained(Device, ("id",), "device"),
    Chained(IssuanceMetaData, ("id",), "issuance metadata"),
    Chained(GranularCertificateBundle, ("id",), "bundle", hash_column="hash",
            stamp_column="last_event_seq"),
    Chained(Consumption, ("beneficiary", "hour_start"), "consumption"),
    Chained(StorageChargeRecord, ("id",), "storage charge record (SCR)"),
    Chained(StorageDischargeRecord, ("id",), "storage discharge record (SDR)"),
    Chained(GecRecord, ("id",), "GEC record"),
    Chained(ClaimRecord, ("id",), "claim"),
    Chained(ClaimPart, ("bundle_id",), "claim part"),
)
#: Tables of the registry that are the chain itself (everything else must be in CHAINED).
NOT_CHAINED: tuple[str, ...] = ("gc_event", "gc_chain_head")
BY_NAME: dict[str, Chained] = {c.name: c for c in CHAINED}
BY_MODEL: dict[type, Chained] = {c.model: c for c in CHAINED}
BUNDLES = BY_MODEL[GranularCertificateBundle]
#: Columns of a bundle's digest (the FEA ``hash`` column), in order.
BUNDLE_FIELDS = BUNDLES.columns


def describe(chained: Chained | None, table: str, key: Sequence[str]) -> str:
    """``bundle 3 [gc_bundle]``: how a row is named in problems."""
    label = chained.label if chained is not None else table
    shown = " / ".join("NULL" if k == "\\N" else k for k in key)
    return f"{label} {shown} [{table}]"
