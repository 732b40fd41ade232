"""Open a registry database and bring its schema up to date with the packaged Alembic
migrations (version table ``alembic_version_registry``, so the registry can share a database
with other Alembic-managed schemas)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from greenlink.certificates.registry import Registry, sqlite_immediate
from greenlink.errors import InputError, Problem

VERSION_TABLE = "alembic_version_registry"
DEFAULT_URL = "sqlite:///greenlink-registry.sqlite"


def migrations_dir() -> Path:
    return Path(str(resources.files("greenlink.certificates") / "migrations"))


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("version_table", VERSION_TABLE)
    cfg.attributes["engine"] = engine
    return cfg


def make_engine(url: str) -> Engine:
    """SQLAlchemy engine; ``postgresql://`` URLs use psycopg 3, SQLite writers serialise."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise InputError(Problem(f"cannot read database URL {url!r}",
                                 expected="sqlite:///path.sqlite or "
                                 "postgresql://user@host:port/db")) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed)
        sqlite_immediate(engine)
        return engine
    return create_engine(parsed, pool_size=40, max_overflow=10)


def upgrade(engine: Engine) -> None:
    """Apply every packaged migration (idempotent)."""
    command.upgrade(alembic_config(engine), "head")


def open_registry(url: str = DEFAULT_URL, *, migrate: bool = True) -> Registry:
    """Engine + migrations + :class:`Registry`."""
    engine = make_engine(url)
    if migrate:
        upgrade(engine)
    return Registry(engine)
