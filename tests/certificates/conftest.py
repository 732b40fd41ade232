"""Registry fixtures: SQLite always; PostgreSQL from a throwaway cluster (initdb + pg_ctl).

The cluster starts once per test session (about 1-2 s) and each test gets a fresh database in
it. As root (CI), the server runs as the ``postgres`` system user. Where no server binaries are
installed the PostgreSQL cases are skipped with the reason — unless
``GREENLINK_REQUIRE_POSTGRES=1`` (set it in CI), which turns that into a failure.

The operator's signing key: a throwaway key folder for these tests (``GREENLINK_KEY_DIR``), so
every registry signs its heads and ``verify()`` checks them; the verifier's keyring points to a
file that does not exist (nothing of the developer's own set-up is read).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from greenlink.certificates import pgtemp
from greenlink.certificates.db import open_registry
from greenlink.certificates.registry import Registry
from greenlink.signing.keys import generate_key

_counter = itertools.count()


@pytest.fixture(scope="package", autouse=True)
def operator_key_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    key_dir = tmp_path_factory.mktemp("operator") / "keys"
    generate_key(key_dir)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GREENLINK_KEY_DIR", str(key_dir))
        mp.setenv("GREENLINK_KEYRING", str(key_dir.parent / "no-keyring.json"))
        yield key_dir


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    if not pgtemp.available():
        if os.environ.get("GREENLINK_REQUIRE_POSTGRES") == "1":
            pytest.fail("GREENLINK_REQUIRE_POSTGRES=1 but no PostgreSQL server binaries "
                        "(initdb, pg_ctl) or no non-root 'postgres' user")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not installed")
    with pgtemp.throwaway_cluster() as url:
        yield url


def fresh_pg_database(server_url: str) -> str:
    name = f"t{os.getpid()}_{next(_counter)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.sqlite'}"
    return fresh_pg_database(request.getfixturevalue("pg_server"))


@pytest.fixture
def pg_url(pg_server: str) -> str:
    return fresh_pg_database(pg_server)


def hours(device: str, wh: list[int], start: str = "2025-06-01") -> pd.DataFrame:
    return pd.DataFrame({"device_id": device,
                         "hour_start": pd.date_range(start, periods=len(wh), freq="h",
                                                     tz="UTC"),
                         "energy_wh": wh})


def park(url: str) -> tuple[Registry, int]:
    """A registry with a park account (devices pv 1000 kW, bess storage), tenants alu and steel
    (both accept from park; steel also from alu), and one metadata row."""
    reg = open_registry(url)
    reg.add_account("park", "Park operator")
    reg.add_account("alu", "Aluminium", accepts_from=["park"])
    reg.add_account("steel", "Steel", accepts_from=["park", "alu"])
    reg.add_device("pv", account_id="park", energy_source="solar",
                   technology_type="photovoltaic", capacity_kw=1000)
    reg.add_device("bess", account_id="park", energy_source="solar",
                   technology_type="battery", capacity_kw=500, is_storage=True)
    meta = reg.add_metadata(country_of_issuance="CN", connected_grid_identification="CN-JS",
                            issuing_body="test", issue_market_zone="CN-JS",
                            dissemination_level="private line")
    return reg, meta
