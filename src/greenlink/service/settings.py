"""Typed service settings, built by a factory (never read at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from greenlink.errors import InputError, Problem

DEFAULT_DATA_DIR = Path("greenlink-service")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


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
        Mark the session and CSRF cookies ``Secure`` (named with the ``__Host-`` prefix) and
        send ``Strict-Transport-Security``: on by default, for a service behind HTTPS. Turn it
        off (``GREENLINK_COOKIE_SECURE=0`` or ``greenlink serve --insecure-cookies``) only for
        plain-http use on your own machine.
    secret_key : str or None
        Key that signs the dashboard's CSRF tokens. ``None``: a random key per process (forms
        opened before a restart must be reloaded); set it when several processes serve.
    login_max_failures_per_account : int
        Failed logins of one email address within ``login_failure_window_s`` after which that
        address is refused (HTTP 429) until the window has passed, known address or not.
    login_max_failures_per_client : int
        The same for one client address (every email address together).
    login_failure_window_s : int
        The moving window of both login limits [s].
    rate_limit_storage : str
        Where the login counters live, as a ``limits`` storage URI: ``memory://`` (one
        process) or e.g. ``redis://host:6379`` shared by several processes.
    max_active_jobs_per_org : int
        Jobs one organisation may have queued or running at once; more answer HTTP 429.
    argon2_time_cost, argon2_memory_kib : int
        Cost of new password hashes (argon2id); defaults are argon2-cffi's RFC 9106
        low-memory profile (3 passes, 64 MiB). Tests lower them; existing hashes keep theirs.
    registry_key_dir : Path or None
        The operator's key folder (``greenlink keys generate``) that signs every write to the
        parks' certificate registries, and whose keys the registry ``verify`` trusts
        (``GREENLINK_KEY_DIR``). ``None``: the default folder
        ``~/.greenlink/keys`` when it holds a key; otherwise writes are unsigned and verify
        reports that nothing could be checked.
    """

    db_url: str
    data_dir: Path
    max_request_bytes: int = 20 * 1024 * 1024
    token_ttl_hours: float = 12.0
    job_workers: int = 1
    cookie_secure: bool = True
    secret_key: str | None = None
    login_max_failures_per_account: int = 5
    login_max_failures_per_client: int = 20
    login_failure_window_s: int = 15 * 60
    rate_limit_storage: str = "memory://"
    max_active_jobs_per_org: int = 4
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    registry_key_dir: Path | None = None


def env_flag(name: str) -> bool | None:
    """A yes/no environment variable (``1/true/yes/on``, ``0/false/no/off``); None if unset."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return None
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InputError(Problem(f"{name}={raw!r}", location=name, expected="1 or 0 (true/false)"))


def make_settings(db_url: str | None = None, data_dir: str | Path | None = None,
                  **overrides: object) -> Settings:
    """Build settings from arguments, then the environment, then defaults.

    ``GREENLINK_DB`` / ``GREENLINK_DATA`` (the default database is ``<data_dir>/service.db``,
    SQLite), ``GREENLINK_COOKIE_SECURE``, ``GREENLINK_SECRET_KEY``,
    ``GREENLINK_RATE_LIMIT_STORAGE`` and ``GREENLINK_KEY_DIR``; keyword overrides win over the
    environment.
    """
    folder = Path(data_dir or os.environ.get("GREENLINK_DATA") or DEFAULT_DATA_DIR)
    url = db_url or os.environ.get("GREENLINK_DB") or f"sqlite:///{folder / 'service.db'}"
    from_env: dict[str, object] = {}
    secure = env_flag("GREENLINK_COOKIE_SECURE")
    if secure is not None:
        from_env["cookie_secure"] = secure
    if os.environ.get("GREENLINK_SECRET_KEY"):
        from_env["secret_key"] = os.environ["GREENLINK_SECRET_KEY"]
    if os.environ.get("GREENLINK_RATE_LIMIT_STORAGE"):
        from_env["rate_limit_storage"] = os.environ["GREENLINK_RATE_LIMIT_STORAGE"]
    if os.environ.get("GREENLINK_KEY_DIR"):
        from_env["registry_key_dir"] = Path(os.environ["GREENLINK_KEY_DIR"])
    values: dict[str, Any] = {**from_env, **overrides}
    return Settings(db_url=url, data_dir=folder, **values)
