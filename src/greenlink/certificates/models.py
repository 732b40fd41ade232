"""SQLAlchemy 2 models of the registry, following the EnergyTag Granular Certificate standard.

Field names of :class:`GranularCertificateBundle` and :class:`IssuanceMetaData` are those of the
FEA demonstration registry (``gc_registry/certificate/schemas.py``), so the two map field for
field; greenlink adds ``claim_purpose`` (what a cancellation is for), ``parent_bundle_id``
(lineage of splits) and ``issued_event_seq`` / ``last_event_seq`` (the audit-log events that
created and last changed the row).

Units: every quantity in **Wh** (whole numbers); one certificate = one Wh (``face_value`` = 1) and
each Wh has a sequential id per device, so a bundle is the id range
``[certificate_bundle_id_range_start, certificate_bundle_id_range_end]`` with
``bundle_quantity = end − start + 1``. Times are UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {"ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
          "ck": "ck_%(table_name)s_%(constraint_name)s",
          "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
          "pk": "pk_%(table_name)s"}

# certificate_bundle_status values (FEA CertificateStatus)
ACTIVE = "Active"
CANCELLED = "Cancelled"
CLAIMED = "Claimed"
EXPIRED = "Expired"
WITHDRAWN = "Withdrawn"
LOCKED = "Locked"
RESERVED = "Reserved"
BUNDLE_SPLIT = "Bundle Split"


def as_utc(ts: datetime) -> datetime:
    """A time as an aware UTC datetime (a naive one, as SQLite reads times back, is UTC)."""
    if ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Account(Base):
    """A registry account (a producer, a park operator, a tenant)."""

    __tablename__ = "gc_account"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_name: Mapped[str] = mapped_column(String(200), default="")


class AccountWhitelist(Base):
    """``account_id`` accepts transfers from ``sender_account_id`` (FEA account whitelist)."""

    __tablename__ = "gc_account_whitelist"
    account_id: Mapped[str] = mapped_column(ForeignKey("gc_account.id"), primary_key=True)
    sender_account_id: Mapped[str] = mapped_column(ForeignKey("gc_account.id"),
                                                   primary_key=True)


class Device(Base):
    """A production (or storage) device; ``next_wh_id`` is the next free certificate id."""

    __tablename__ = "gc_device"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_name: Mapped[str] = mapped_column(String(200), default="")
    account_id: Mapped[str] = mapped_column(ForeignKey("gc_account.id"))
    meter_data_id: Mapped[str] = mapped_column(String(64), default="")
    grid: Mapped[str] = mapped_column(String(100), default="")
    energy_source: Mapped[str] = mapped_column(String(50))
    technology_type: Mapped[str] = mapped_column(String(50))
    operational_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    capacity: Mapped[float] = mapped_column(Float)  # kW
    peak_demand: Mapped[float] = mapped_column(Float, default=0.0)  # kW
    location: Mapped[str] = mapped_column(String(200), default="")
    is_storage: Mapped[bool] = mapped_column(Boolean, default=False)
    next_wh_id: Mapped[int] = mapped_column(BigInteger, default=1)


class IssuanceMetaData(Base):
    """Issuance metadata shared by many bundles (FEA ``IssuanceMetaData``)."""

    __tablename__ = "gc_issuance_metadata"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    country_of_issuance: Mapped[str] = mapped_column(String(10))
    connected_grid_identification: Mapped[str] = mapped_column(String(100))
    issuing_body: Mapped[str] = mapped_column(String(200))
    legal_status: Mapped[str | None] = mapped_column(String(200), nullable=True)
    issuance_purpose: Mapped[str | None] = mapped_column(String(200), nullable=True)
    support_received: Mapped[str | None] = mapped_column(String(200), nullable=True)
    quality_scheme_reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    dissemination_level: Mapped[str | None] = mapped_column(String(50), nullable=True)
    issue_market_zone: Mapped[str] = mapped_column(String(100))


class GranularCertificateBundle(Base):
    """A bundle of certificates (1 Wh each) with consecutive ids (FEA
    ``GranularCertificateBundle``).

    ``account_id``, ``device_id`` and ``metadata_id`` refer to ``gc_account``, ``gc_device`` and
    ``gc_issuance_metadata``; the registry checks them under its write lock instead of
    foreign-key triggers, which would cost a third of the bulk-issuance time on PostgreSQL.
    """

    __tablename__ = "gc_bundle"
    __table_args__ = (Index("ix_gc_bundle_account_status", "account_id",
                            "certificate_bundle_status"),
                      # one issuance per device and hour: the guard against issuing twice
                      # (split children share device and hour; storage releases are separate)
                      Index("uq_gc_bundle_device_hour", "device_id",
                            "production_starting_interval", unique=True,
                            postgresql_where=text("parent_bundle_id IS NULL AND NOT is_storage"),
                            sqlite_where=text("parent_bundle_id IS NULL AND NOT is_storage")))
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    issuance_id: Mapped[str] = mapped_column(String(120))
    hash: Mapped[str] = mapped_column(String(64))
    certificate_bundle_status: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[str] = mapped_column(String(64))
    metadata_id: Mapped[int] = mapped_column(Integer)
    beneficiary: Mapped[str | None] = mapped_column(String(200), nullable=True)
    claim_purpose: Mapped[str | None] = mapped_column(String(50), nullable=True)
    certificate_bundle_id_range_start: Mapped[int] = mapped_column(BigInteger)
    certificate_bundle_id_range_end: Mapped[int] = mapped_column(BigInteger)
    bundle_quantity: Mapped[int] = mapped_column(BigInteger)
    face_value: Mapped[int] = mapped_column(Integer, default=1)
    energy_carrier: Mapped[str] = mapped_column(String(20), default="Electricity")
    energy_source: Mapped[str] = mapped_column(String(50))
    issuance_post_energy_carrier_conversion: Mapped[bool] = mapped_column(Boolean,
                                                                          default=False)
    emissions_factor_production_device: Mapped[float | None] = mapped_column(Float,
                                                                              nullable=True)
    emissions_factor_source: Mapped[str | None] = mapped_column(String(200), nullable=True)
    device_id: Mapped[str] = mapped_column(String(64))
    production_starting_interval: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    production_ending_interval: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issuance_datestamp: Mapped[date] = mapped_column(Date)
    expiry_datestamp: Mapped[date] = mapped_column(Date)
    is_storage: Mapped[bool] = mapped_column(Boolean, default=False)
    sdr_allocation_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    storage_efficiency_factor: Mapped[float | None] = mapped_column(Float, nullable=True)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    parent_bundle_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    issued_event_seq: Mapped[int] = mapped_column(BigInteger)
    last_event_seq: Mapped[int] = mapped_column(BigInteger)


class StorageChargeRecord(Base):
    """Energy put into storage: certificates cancelled into the storage device (SCR)."""

    __tablename__ = "gc_storage_charge_record"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("gc_device.id"))
    charging_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    charging_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    charge_wh: Mapped[int] = mapped_column(BigInteger)
    remaining_wh: Mapped[int] = mapped_column(BigInteger)
    gc_allocation_bundle_ids: Mapped[str] = mapped_column(Text)  # comma-separated


class StorageDischargeRecord(Base):
    """Energy released from storage and the charge records it draws on (SDR, FIFO)."""

    __tablename__ = "gc_storage_discharge_record"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("gc_device.id"))
    discharging_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    discharging_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    discharge_wh: Mapped[int] = mapped_column(BigInteger)
    drawn_charge_wh: Mapped[int] = mapped_column(BigInteger)
    loss_wh: Mapped[int] = mapped_column(BigInteger)
    allocation_method: Mapped[str] = mapped_column(String(20))
    storage_efficiency_factor: Mapped[float] = mapped_column(Float)
    scr_allocations: Mapped[str] = mapped_column(Text)  # "scr_id:wh,..."


class Consumption(Base):
    """Metered consumption of a beneficiary in one hour: the ceiling of its hourly claims."""

    __tablename__ = "gc_consumption"
    beneficiary: Mapped[str] = mapped_column(String(200), primary_key=True)
    hour_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    consumption_wh: Mapped[int] = mapped_column(BigInteger)
    claimed_wh: Mapped[int] = mapped_column(BigInteger, default=0)


#: ``gc_claim.kind``: a cancellation for a beneficiary and purpose, or a withdrawal by the
#: issuing body.
CLAIM_KIND = "claim"
WITHDRAW_KIND = "withdraw"
CLAIM_KINDS = (CLAIM_KIND, WITHDRAW_KIND)


class ClaimRecord(Base):
    """One claim (or withdrawal): what the one claim path (``Registry.claim``) did for one
    request. Its id is the caller's claim id: the same request again returns this record and
    changes nothing; another claim over the same Wh is refused naming this one.

    ``request_digest`` is the sha256 of the request's canonical text (kind, purpose,
    beneficiary, account, lines); ``operation`` says which entry point made it (``registry
    cancel``, ``cbam claim``, ``evidence build``, ``api``, ``web``, ``library``, …);
    ``created_event_seq`` is the registry event that made it. Wh: requested, claimed, and the
    shortfall (hours without certificates left, when the request allowed it). The bundles
    cancelled and the GEC serials behind them are its parts (:class:`ClaimPart`).
    """

    __tablename__ = "gc_claim"
    __table_args__ = (CheckConstraint("kind IN ('claim', 'withdraw')", name="kind"),
                      Index("ix_gc_claim_beneficiary", "beneficiary"))
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str | None] = mapped_column(String(50), nullable=True)
    beneficiary: Mapped[str | None] = mapped_column(String(200), nullable=True)
    account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    operation: Mapped[str] = mapped_column(String(100))
    request_digest: Mapped[str] = mapped_column(String(64))
    lines: Mapped[int] = mapped_column(Integer)
    hours: Mapped[int] = mapped_column(Integer)
    first_hour: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_hour: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    requested_wh: Mapped[int] = mapped_column(BigInteger)
    claimed_wh: Mapped[int] = mapped_column(BigInteger)
    shortfall_wh: Mapped[int] = mapped_column(BigInteger)
    storage_charge_record_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_event_seq: Mapped[int] = mapped_column(BigInteger)


class ClaimPart(Base):
    """One bundle a claim cancelled (or withdrew): a bundle belongs to one claim at most.

    ``line_no`` is the request line it serves, ``subject`` what the line claims for (a product
    batch, a shipment; ``None``: the beneficiary's consumption itself), ``gec_serials`` the GEC
    serial ranges behind its Wh (canonical JSON: ``[{"from", "to", "gec", "wh", "tradable",
    "pool"}, …]``; ``[]`` for a bundle that needs none — not Chinese, storage discharge,
    withdrawal).
    """

    __tablename__ = "gc_claim_part"
    __table_args__ = (Index("ix_gc_claim_part_claim", "claim_id"),
                      Index("ix_gc_claim_part_hour", "hour_start"))
    bundle_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    claim_id: Mapped[str] = mapped_column(ForeignKey("gc_claim.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    device_id: Mapped[str] = mapped_column(String(64))
    hour_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    wh: Mapped[int] = mapped_column(BigInteger)
    subject: Mapped[str | None] = mapped_column(String(200), nullable=True)
    gec_serials: Mapped[str] = mapped_column(Text, default="[]")


class Event(Base):
    """Append-only audit log; ``hash = sha256(prev_hash | seq | at | kind | payload)``.

    The last event of each commit is signed: ``signature`` (hex Ed25519) over its ``seq`` and
    ``hash`` by the key ``signer`` (raw public key, hex); see :mod:`greenlink.certificates.heads`.
    On PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE (migration ``0002_history``).
    """

    __tablename__ = "gc_event"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))  # ISO 8601 UTC
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    signer: Mapped[str | None] = mapped_column(String(64), nullable=True)
    signature: Mapped[str | None] = mapped_column(String(128), nullable=True)


class ChainHead(Base):
    """One row: the last event and its signature. Locking it serialises commits (the chain is a
    total order)."""

    __tablename__ = "gc_chain_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    signer: Mapped[str | None] = mapped_column(String(64), nullable=True)
    signature: Mapped[str | None] = mapped_column(String(128), nullable=True)


# status of a GEC record (China green electricity certificate, 绿证; greenlink.certificates.gec)
GEC_ISSUED = "issued"
GEC_TRANSFERRED = "transferred"
GEC_CANCELLED = "cancelled"
GEC_EXPIRED = "expired"
GEC_STATUSES = (GEC_ISSUED, GEC_TRANSFERRED, GEC_CANCELLED, GEC_EXPIRED)


class GecRecord(Base):
    """One record of the national GEC platform (绿证) on a range of serials of one device and
    production month: issued to a holder, transferred to a holder, cancelled (used) for a
    beneficiary, or expired. One GEC = 1 MWh (``certificate_count`` MWh in all).

    A serial is ``serial_prefix + number (zero-padded to serial_digits, 0 = not padded) +
    serial_suffix``; the range holds the numbers ``serial_start … serial_end``. A holder or
    beneficiary named in the file (``*_name``) maps to a registry account (``*_account_id``: the
    park's own) or to an external party (``*_external``: its label, which a
    ``sold_as_certificate`` claim names as its beneficiary). ``source_file_hash`` (sha256 of the
    file) and ``source_row`` (row number in the file) say where the record came from;
    ``row_hash`` is the sha256 of the record's content (not its source), so the same record
    in two exports has the same hash. Rules: :mod:`greenlink.certificates.gec`.
    """

    __tablename__ = "gc_gec_record"
    __table_args__ = (
        Index("ix_gc_gec_record_device_month", "device_id", "production_month"),
        Index("ix_gc_gec_record_serial", "serial_prefix", "serial_suffix", "serial_start"),
        Index("uq_gc_gec_record_source", "source_file_hash", "source_row", unique=True),
        CheckConstraint("serial_start >= 0 AND serial_end >= serial_start",
                        name="serial_order"),
        CheckConstraint("certificate_count = serial_end - serial_start + 1",
                        name="count_matches_range"),
        CheckConstraint("status IN ('issued', 'transferred', 'cancelled', 'expired')",
                        name="status"),
        CheckConstraint("holder_account_id IS NULL OR holder_external IS NULL",
                        name="holder_one_kind"),
        CheckConstraint("beneficiary_account_id IS NULL OR beneficiary_external IS NULL",
                        name="beneficiary_one_kind"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("gc_device.id"))
    production_month: Mapped[date] = mapped_column(Date)  # first day of the month
    serial_prefix: Mapped[str] = mapped_column(String(64))
    serial_suffix: Mapped[str] = mapped_column(String(32), default="")
    serial_digits: Mapped[int] = mapped_column(Integer)
    serial_start: Mapped[int] = mapped_column(BigInteger)
    serial_end: Mapped[int] = mapped_column(BigInteger)
    certificate_count: Mapped[int] = mapped_column(BigInteger)  # GECs = MWh
    status: Mapped[str] = mapped_column(String(20))
    tradable: Mapped[bool] = mapped_column(Boolean)
    holder_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    holder_account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    holder_external: Mapped[str | None] = mapped_column(String(200), nullable=True)
    beneficiary_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    beneficiary_account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    beneficiary_external: Mapped[str | None] = mapped_column(String(200), nullable=True)
    source_file_name: Mapped[str] = mapped_column(String(300))
    source_file_hash: Mapped[str] = mapped_column(String(64))
    source_row: Mapped[int] = mapped_column(Integer)
    row_hash: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
