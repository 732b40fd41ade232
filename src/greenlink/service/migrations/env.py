"""Alembic environment of the service; its version table is ``alembic_version_service`` so it can
share a database with other greenlink Alembic trees (e.g. the certificate registry)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from greenlink.service.db import VERSION_TABLE
from greenlink.service.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
        with engine.begin() as conn:
            _run(conn)
    else:
        _run(connection)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      version_table=VERSION_TABLE, render_as_batch=True,
                      include_name=lambda name, type_, _p: type_ != "table"
                      or (name or "").startswith("svc_"))
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_metadata, version_table=VERSION_TABLE,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run()
