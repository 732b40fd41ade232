"""SQLAlchemy 2 models of the service: organisations, users, tokens, parks, jobs, uploads, audit.

Times are stored in UTC; SQLite returns them naive, :func:`utc` makes them aware again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def now_utc() -> datetime:
    return datetime.now(UTC)


def utc(value: datetime) -> datetime:
    """The same instant, timezone-aware (SQLite drops the zone)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else utc(value).astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else utc(value)


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    __tablename__ = "svc_organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class User(Base):
    __tablename__ = "svc_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("svc_organisation.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: the dashboard's language (``en``, ``zh-CN``); NULL: from the browser's Accept-Language
    language: Mapped[str | None] = mapped_column(String(10), nullable=True, default=None)


class ApiToken(Base):
    __tablename__ = "svc_api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("svc_user.id"))
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: the token this one was made with (``None``: made by logging in); it dies with its parent
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("svc_api_token.id"), nullable=True)


class Park(Base):
    __tablename__ = "svc_park"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("svc_organisation.id"))
    folder: Mapped[str] = mapped_column(String(500))
    user_ids: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class ParkAccess(Base):
    """An organisation that may see a park; a tenant is bound to one scenario user."""

    __tablename__ = "svc_park_access"
    __table_args__ = (UniqueConstraint("park_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("svc_park.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("svc_organisation.id"))
    park_user_id: Mapped[str | None] = mapped_column(String(100), nullable=True)


class Job(Base):
    __tablename__ = "svc_job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("svc_park.id"))
    kind: Mapped[str] = mapped_column(String(20))
    ruleset: Mapped[str | None] = mapped_column(String(100), nullable=True)
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result_folder: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("svc_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class MeterUpload(Base):
    __tablename__ = "svc_meter_upload"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("svc_park.id"))
    park_user_id: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    energy_kwh: Mapped[float] = mapped_column(Float)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("svc_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class MeterIngest(Base):
    """One ingest of park meter files (greenlink.metering) and its validation report."""

    __tablename__ = "svc_meter_ingest"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("svc_park.id"))
    filenames: Mapped[list[str]] = mapped_column(JSON)
    readings: Mapped[int] = mapped_column(Integer)
    issues: Mapped[int] = mapped_column(Integer)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("svc_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class AuditEvent(Base):
    __tablename__ = "svc_audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("svc_user.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
