"""Typed service settings, built by a factory (never read at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = Path("greenlink-service")


@dataclass(frozen=True)
class Settings:
    """Everything the service needs to start.

    Attributes
    ----------
    db_url : str
        SQLAlchemy URL: ``sqlite:///path.db`` (default) or ``postgresql+psycopg://...``.
    data_dir : Path
        Folder for stored scenarios and job results.
    max_request_bytes : int
        Largest request body accepted [bytes]; larger ones get HTTP 413.
    token_ttl_hours : float
        Lifetime of a login token [h].
    job_workers : int
        Threads that run simulate/check jobs outside the request.
    cookie_secure : bool
        Mark the session cookie ``Secure`` (set behind HTTPS).
    argon2_time_cost, argon2_memory_kib : int
        Cost of new password hashes (argon2id); defaults are argon2-cffi's RFC 9106
        low-memory profile (3 passes, 64 MiB). Tests lower them; existing hashes keep theirs.
    """

    db_url: str
    data_dir: Path
    max_request_bytes: int = 20 * 1024 * 1024
    token_ttl_hours: float = 12.0
    job_workers: int = 1
    cookie_secure: bool = False
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536


def make_settings(db_url: str | None = None, data_dir: str | Path | None = None,
                  **overrides: object) -> Settings:
    """Build settings from arguments, then ``GREENLINK_DB`` / ``GREENLINK_DATA``, then defaults.

    The default database is ``<data_dir>/service.db`` (SQLite).
    """
    folder = Path(data_dir or os.environ.get("GREENLINK_DATA") or DEFAULT_DATA_DIR)
    url = db_url or os.environ.get("GREENLINK_DB") or f"sqlite:///{folder / 'service.db'}"
    return Settings(db_url=url, data_dir=folder, **overrides)  # type: ignore[arg-type]
