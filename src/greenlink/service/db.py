"""The service's Alembic migrations (own version table, run on start); engines and sessions come
from :mod:`greenlink.database`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from greenlink import database

MIGRATIONS = "greenlink.service.migrations"
VERSION_TABLE = "alembic_version_service"


def alembic_config(url: str) -> Any:
    """Alembic config pointing at the migrations shipped in this package."""
    return database.alembic_config(MIGRATIONS, VERSION_TABLE, url)


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (idempotent)."""
    database.migrate(engine, MIGRATIONS, VERSION_TABLE)
