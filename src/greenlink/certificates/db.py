"""Open a registry database (:mod:`greenlink.database`) and bring its schema up to date with the
packaged Alembic migrations (version table ``alembic_version_registry``, so the registry can
share a database with other Alembic-managed schemas)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from greenlink import database
from greenlink.certificates.registry import Registry

MIGRATIONS = "greenlink.certificates.migrations"
VERSION_TABLE = "alembic_version_registry"
DEFAULT_URL = "sqlite:///greenlink-registry.sqlite"


def upgrade(engine: Engine) -> None:
    """Apply every packaged migration (idempotent)."""
    database.migrate(engine, MIGRATIONS, VERSION_TABLE)


def open_registry(url: str | Path = DEFAULT_URL, *, migrate: bool = True) -> Registry:
    """Engine (any URL form of :func:`greenlink.database.database_url`) + migrations +
    :class:`Registry`."""
    engine = database.make_engine(url)
    if migrate:
        upgrade(engine)
    return Registry(engine)
