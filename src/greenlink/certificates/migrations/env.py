"""Alembic environment of the registry (:func:`greenlink.database.run_env`)."""

from __future__ import annotations

from greenlink.certificates.models import Base
from greenlink.database import run_env

run_env(Base.metadata)
