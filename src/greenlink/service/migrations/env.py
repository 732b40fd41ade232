"""Alembic environment of the service (:func:`greenlink.database.run_env`); its version table is
``alembic_version_service`` so it can share a database with other greenlink Alembic trees (e.g.
the certificate registry), and it only looks at its own ``svc_`` tables."""

from __future__ import annotations

from greenlink.database import run_env
from greenlink.service.models import Base

run_env(Base.metadata, include_name=lambda name, type_, _parent: type_ != "table"
        or (name or "").startswith("svc_"))
