"""Alembic environment of the registry: runs on the engine passed in ``config.attributes``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from greenlink.certificates.models import Base

config = context.config
VERSION_TABLE = config.get_main_option("version_table") or "alembic_version_registry"


def run() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        url = config.get_main_option("sqlalchemy.url")
        assert url, "set sqlalchemy.url or pass an engine"
        engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          version_table=VERSION_TABLE, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run()
