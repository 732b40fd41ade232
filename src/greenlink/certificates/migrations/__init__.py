"""Alembic migrations of the certificate registry (version table ``alembic_version_registry``)."""
