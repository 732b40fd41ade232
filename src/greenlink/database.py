"""One way to open a greenlink database: the web service's and the certificate registry's.

Both accept the same URL forms (:func:`database_url`), get engines with one pool policy and one
set of SQLite settings (:func:`make_engine`), sessions from :func:`session_factory` and their
schema from their own Alembic migrations package, each with its own version table
(:func:`migrate`), so that several greenlink schemas can share one database.

This is a bottom layer: it imports SQLAlchemy, Alembic, the standard library and
:mod:`greenlink.errors` only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from greenlink.errors import InputError, Problem

EXPECTED_URL = ("sqlite:///path/to/file.sqlite, a file path (SQLite), or "
                "postgresql://user:password@host:port/database")

# Pool policy (every engine, SQLite file or PostgreSQL): up to 20 kept connections and 40 more
# under load, enough for the service's request and job threads and for the registry's
# concurrent clients (32 in tests/certificates/test_concurrency.py) while staying well below
# PostgreSQL's default max_connections of 100. ``pool_pre_ping`` replaces a connection the
# server closed (restart, idle timeout) instead of failing the next request with it.
POOL_SIZE = 20
MAX_OVERFLOW = 40

_SCHEME_WITHOUT_SLASHES = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:(?!//)")

# How long a SQLite connection waits for another writer before "database is locked".
BUSY_TIMEOUT_S = 30


def database_url(url: str | Path | URL) -> URL:
    """The SQLAlchemy URL of a database, in the one form greenlink uses.

    * ``sqlite:///path`` (and ``sqlite://`` for an in-memory database) as given;
    * a bare file path (no ``scheme://``) → ``sqlite:///path``;
    * ``postgresql://…`` or ``postgres://…`` → ``postgresql+psycopg://…`` (psycopg 3, the driver
      greenlink installs); an explicit ``postgresql+driver://`` is kept.

    Raises
    ------
    InputError
        The URL cannot be read, names another database, or a driver that is not installed; the
        problem names the URL (password hidden).
    """
    if isinstance(url, URL):
        parsed = url
    else:
        text = str(url).strip()
        if not text:
            raise InputError(Problem("empty database URL", location="database URL",
                                     expected=EXPECTED_URL))
        if isinstance(url, Path) or "://" not in text:
            if _SCHEME_WITHOUT_SLASHES.match(text):  # "postgresql:host/db", not "C:\\db"
                raise InputError(Problem(f"cannot read database URL {text!r}",
                                         location="database URL", expected=EXPECTED_URL))
            parsed = URL.create("sqlite", database=text)
        else:
            try:
                parsed = make_url(text)
            except (ArgumentError, ValueError) as exc:
                raise InputError(Problem(f"cannot read database URL {text!r}",
                                         location="database URL",
                                         expected=EXPECTED_URL)) from exc
    shown = parsed.render_as_string(hide_password=True)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.drivername.split("+", 1)[0]
    if backend not in ("sqlite", "postgresql"):
        raise InputError(Problem(f"database URL {shown!r} names the database {backend!r}",
                                 location="database URL", expected=EXPECTED_URL))
    try:
        parsed.get_dialect().import_dbapi()
    except (NoSuchModuleError, ImportError) as exc:
        raise InputError(Problem(f"database URL {shown!r}: driver {parsed.drivername!r} is not "
                                 "available", location="database URL",
                                 expected=EXPECTED_URL)) from exc
    return parsed


def is_sqlite_memory(url: URL) -> bool:
    """True for an in-memory SQLite database (``sqlite://``, ``:memory:``, ``mode=memory``)."""
    return url.get_backend_name() == "sqlite" and (
        url.database in (None, "", ":memory:") or url.query.get("mode") == "memory")


def make_engine(url: str | Path | URL) -> Engine:
    """An engine for ``url`` (any form :func:`database_url` accepts) with the one pool policy;
    SQLite files get their folder created and the settings of :func:`_sqlite_settings`."""
    parsed = database_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, pool_size=POOL_SIZE,
                             max_overflow=MAX_OVERFLOW)
    # connections move between threads (service job runner, registry clients): the pool, not
    # pysqlite's same-thread check, keeps one thread per connection at a time
    connect_args = {"check_same_thread": False, "timeout": BUSY_TIMEOUT_S}
    if is_sqlite_memory(parsed):
        # an in-memory database lives in its connection: one connection, shared
        engine = create_engine(parsed, connect_args=connect_args, poolclass=StaticPool)
    else:
        Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args=connect_args, pool_pre_ping=True,
                               pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW)
    _sqlite_settings(engine)
    return engine


def _sqlite_settings(engine: Engine) -> None:
    """The SQLite settings of every greenlink engine, on each new connection."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy, not pysqlite, starts transactions (see _begin): pysqlite's own BEGIN
        # comes only before the first write, so reads earlier in a transaction are not in it
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        # wait up to BUSY_TIMEOUT_S for a lock held by another connection instead of failing
        # at once with "database is locked" (set first: switching to WAL may need the lock)
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        # write-ahead log: readers do not block the writer nor the writer the readers, so API
        # reads go on while a job or a registry transaction writes (persists in the file)
        cur.execute("PRAGMA journal_mode=WAL")
        # SQLite ignores FOREIGN KEY clauses unless this is on, per connection; both schemas
        # rely on them (bundles → accounts/devices, jobs → parks, …)
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # take the write lock when the transaction starts: writers serialise (the registry's
        # guarantee that no Wh is spent twice), a read-then-write cannot be overtaken, and a
        # waiting writer waits busy_timeout instead of failing when its read lock cannot be
        # upgraded (SQLITE_BUSY, which no timeout helps)
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on ``engine``; objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


# ------------------------------------------------------------------------------ migrations


def migrations_dir(package: str) -> Path:
    """Folder of an Alembic migrations package (``env.py``, ``versions/``)."""
    return Path(str(resources.files(package)))


def alembic_config(package: str, version_table: str, url: str | URL | None = None) -> Any:
    """Alembic configuration of the migrations in ``package`` with their own version table."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir(package)))
    cfg.set_main_option("version_table", version_table)
    if url is not None:
        text = url.render_as_string(hide_password=False) if isinstance(url, URL) else str(url)
        cfg.set_main_option("sqlalchemy.url", text.replace("%", "%%"))
    return cfg


def migrate(engine: Engine, package: str, version_table: str) -> None:
    """Apply every migration of ``package`` not yet applied, in one transaction (idempotent)."""
    from alembic import command

    cfg = alembic_config(package, version_table, engine.url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def run_env(target_metadata: MetaData, **options: Any) -> None:
    """The body of a migrations package's ``env.py``.

    Runs on the connection :func:`migrate` passes in (``config.attributes["connection"]``), or
    on an engine of ``sqlalchemy.url``, or offline (SQL script); the version table comes from the
    configuration. ``options`` go to ``context.configure`` (e.g. ``include_name``).
    """
    from alembic import context

    config = context.config
    kw: dict[str, Any] = {"target_metadata": target_metadata, "render_as_batch": True,
                          "version_table": config.get_main_option("version_table")
                          or "alembic_version", **options}
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True, **kw)
        with context.begin_transaction():
            context.run_migrations()
        return

    def run(connection: Any) -> None:
        context.configure(connection=connection, **kw)
        with context.begin_transaction():
            context.run_migrations()

    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as conn:
            run(conn)
    finally:
        engine.dispose()
