"""The registry and the service open databases the same way (greenlink.database): the same URL
forms give the same dialect and driver, and every SQLite connection of either has the same
settings; a bad URL is an InputError that names it."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from greenlink.certificates.db import open_registry
from greenlink.database import BUSY_TIMEOUT_S, database_url
from greenlink.errors import InputError
from greenlink.service.settings import make_settings
from greenlink.service.startup import open_service
from tests.service.conftest import FAST_HASH

_db_counter = itertools.count()


def _registry_engine(url: str | Path, tmp: Path) -> Iterator[Engine]:
    registry = open_registry(url)
    yield registry.engine
    registry.engine.dispose()


def _service_engine(url: str | Path, tmp: Path) -> Iterator[Engine]:
    ctx = open_service(make_settings(str(url), tmp / "data", **FAST_HASH), start_runner=False)
    yield ctx.engine
    ctx.close()


OPENERS: dict[str, Callable[[str | Path, Path], Iterator[Engine]]] = {
    "registry": _registry_engine, "service": _service_engine}

SQLITE_FORMS: dict[str, Callable[[Path], str | Path]] = {
    "sqlite:///absolute": lambda tmp: f"sqlite:///{tmp / 'db' / 'g.sqlite'}",
    "bare absolute path": lambda tmp: str(tmp / "db" / "g.sqlite"),
    "pathlib.Path": lambda tmp: tmp / "db" / "g.sqlite",
    "bare relative path": lambda tmp: "db/g.sqlite",
    "sqlite:///relative": lambda tmp: "sqlite:///db/g.sqlite",
}


def _file_of(engine: Engine) -> Path:
    return Path(str(engine.url.database)).resolve()


@pytest.mark.parametrize("opener", OPENERS)
@pytest.mark.parametrize("form", SQLITE_FORMS)
def test_sqlite_url_forms_open_alike(form: str, opener: str, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = SQLITE_FORMS[form](tmp_path)
    for engine in OPENERS[opener](url, tmp_path):
        assert (engine.dialect.name, engine.dialect.driver) == ("sqlite", "pysqlite")
        assert _file_of(engine) == (tmp_path / "db" / "g.sqlite").resolve()  # folder made
        engine.dispose()  # the next connection is a fresh one
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == BUSY_TIMEOUT_S * 1000
        # every transaction takes the write lock when it begins (BEGIN IMMEDIATE)
        with engine.begin() as conn:
            conn.execute(text("SELECT 1"))
            other = sqlite3.connect(_file_of(engine), timeout=0, isolation_level=None)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()
        assert engine.pool.size() == 20 and engine.pool._max_overflow == 40  # type: ignore[attr-defined]


def test_registry_and_service_share_one_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    for reg_engine in _registry_engine(url, tmp_path):
        for svc_engine in _service_engine(url, tmp_path):
            with svc_engine.connect() as conn:
                tables = {r[0] for r in conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")}
            assert {"alembic_version_registry", "alembic_version_service"} <= tables
            assert reg_engine.url == svc_engine.url


@pytest.fixture
def pg_database(postgres_url: str) -> str:
    """A fresh database on the session's cluster, as ``host:port/name`` (no scheme)."""
    name = f"forms_{next(_db_counter)}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return postgres_url.split("://", 1)[1].rsplit("/", 1)[0] + f"/{name}"


@pytest.mark.parametrize("opener", OPENERS)
@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_postgresql_url_forms_open_alike(scheme: str, opener: str, pg_database: str,
                                         tmp_path: Path) -> None:
    for engine in OPENERS[opener](f"{scheme}://{pg_database}", tmp_path):
        assert engine.url.drivername == "postgresql+psycopg"
        assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
        assert engine.pool.size() == 20 and engine.pool._max_overflow == 40  # type: ignore[attr-defined]
        assert engine.pool._pre_ping  # type: ignore[attr-defined]


BAD_URLS = ["mysql://user@host/db", "postgresql+nodriver://host/db", "sqlite+nodriver:///x.db",
            "postgresql:host/db", "://nothing"]


@pytest.mark.parametrize("opener", OPENERS)
@pytest.mark.parametrize("url", BAD_URLS)
def test_bad_url_is_an_input_error_naming_it(url: str, opener: str, tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        list(OPENERS[opener](url, tmp_path))
    assert url in str(err.value)
    assert "expected sqlite:///" in str(err.value)


def test_bad_url_message_hides_the_password() -> None:
    with pytest.raises(InputError) as err:
        database_url("mysql://user:secret@host/db")
    assert "user:***@host/db" in str(err.value) and "secret" not in str(err.value)
    with pytest.raises(InputError, match="empty database URL"):
        database_url("  ")
