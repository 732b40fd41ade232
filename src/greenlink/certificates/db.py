"""Open a registry database (:mod:`greenlink.database`) and bring its schema up to date with the
packaged Alembic migrations (version table ``alembic_version_registry``, so the registry can
share a database with other Alembic-managed schemas).

PostgreSQL: the application role (the database user the registry's writers connect as; setting
:data:`APP_ROLE_ENV` or ``app_role=``) is granted what the registry needs and no UPDATE, DELETE or
TRUNCATE on the event table (migration ``0002_history``; docs/registry.md).
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine

from greenlink import database
from greenlink.certificates.heads import Signer, Trust, signer_from_key_dir
from greenlink.certificates.registry import Registry

MIGRATIONS = "greenlink.certificates.migrations"
VERSION_TABLE = "alembic_version_registry"
DEFAULT_URL = "sqlite:///greenlink-registry.sqlite"
#: Environment variable naming the PostgreSQL application role the migrations grant to.
APP_ROLE_ENV = "GREENLINK_REGISTRY_APP_ROLE"
#: Alembic configuration attribute the migrations read the application role from.
APP_ROLE_ATTRIBUTE = "greenlink_registry_app_role"


def upgrade(engine: Engine, *, app_role: str | None = None) -> None:
    """Apply every packaged migration (idempotent), in one transaction.

    ``app_role`` (default ``$GREENLINK_REGISTRY_APP_ROLE``): PostgreSQL role to grant the
    registry's rights to when ``0002_history`` runs.
    """
    from alembic import command

    cfg = database.alembic_config(MIGRATIONS, VERSION_TABLE, engine.url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        cfg.attributes[APP_ROLE_ATTRIBUTE] = app_role or os.environ.get(APP_ROLE_ENV) or None
        command.upgrade(cfg, "head")


def open_registry(url: str | Path = DEFAULT_URL, *, migrate: bool = True,
                  key_dir: Path | None = None, signer: Signer | None = None,
                  app_role: str | None = None) -> Registry:
    """Engine (any URL form of :func:`greenlink.database.database_url`) + migrations +
    :class:`Registry`.

    Heads are signed with ``signer``, else with the key of ``key_dir`` (which must hold one),
    else with the key of the default key folder (``$GREENLINK_KEY_DIR`` or
    ``~/.greenlink/keys``) when it holds one; otherwise they are written unsigned. The
    registry's own :meth:`Registry.verify` then trusts the keys of that folder.
    """
    engine = database.make_engine(url)
    if migrate:
        upgrade(engine, app_role=app_role)
    if signer is None:
        signer = signer_from_key_dir(key_dir)
    trust = None
    if signer is not None:
        trust = Trust({signer.fingerprint: None})
        if signer.key_dir is not None:
            trust = Trust.from_key_dir(signer.key_dir).merged(trust)
    return Registry(engine, signer=signer, trust=trust)
