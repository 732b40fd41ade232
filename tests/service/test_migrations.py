"""The Alembic migrations build exactly the schema the models describe (SQLite)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from greenlink.database import make_engine
from greenlink.service.db import VERSION_TABLE, alembic_config, migrate
from greenlink.service.models import Base


def head_revision() -> str:
    """The newest revision of the service's migrations."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def test_migrations_match_models_and_use_own_version_table(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(engine)
    migrate(engine)  # idempotent
    with engine.connect() as conn:
        mc = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        assert mc.get_current_revision() == head_revision() == "0004"
        diff = compare_metadata(mc, Base.metadata)
    assert diff == []
    tables = set(inspect(engine).get_table_names())
    assert VERSION_TABLE in tables and "alembic_version" not in tables
    engine.dispose()
