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


#: A mapping for GEC issuance lists written by :func:`gec_issued` (status and tradability from
#: the defaults; holder left blank: the device's account).
GEC_MAPPING = """
[columns]
device = "device"
production_month = "month"
serial_start = "from"
serial_end = "to"

[defaults]
status = "issued"
tradable = true
"""
_gec_files = itertools.count()


def gec_issued(reg: Registry, folder: Path, device: str = "pv", month: str = "2025-06",
               count: int = 1000, *, tradable: bool = True) -> None:
    """Import the issuance of ``count`` GECs (1 MWh each) for a device and month, held by the
    device's account: the GEC records a Chinese bundle needs before it can be claimed."""
    folder.mkdir(parents=True, exist_ok=True)
    n = next(_gec_files)
    mapping = folder / f"gec-mapping-{n}.toml"
    mapping.write_text(GEC_MAPPING.replace("tradable = true",
                                           f"tradable = {str(tradable).lower()}"),
                       encoding="utf-8")
    stem = f"GEC{device.upper().replace('_', '')}{month.replace('-', '')}{'T' if tradable else 'N'}"
    records = folder / f"gec-{n}.csv"
    records.write_text(f"device,month,from,to\n{device},{month},{stem}000001,"
                       f"{stem}{count:06d}\n", encoding="utf-8")
    reg.import_gec_file(records, mapping)


def claim_ready(reg: Registry, *, users: tuple[str, ...] = ("alu", "steel"),
                start: str = "2025-06-01", periods: int = 48, wh: int = 10_000_000,
                devices: tuple[str, ...] = ("pv",), months: tuple[str, ...] = ("2025-06",),
                gec: int = 1000) -> None:
    """What a claim needs besides certificates: the users' metered hourly consumption
    registered (``wh`` per hour, large: the cap is not what such a test is about) and the
    GECs of the devices' months imported (Chinese bundles are claimable only then)."""
    if users:
        starts = pd.date_range(start, periods=periods, freq="h", tz="UTC")
        reg.record_consumption_table(pd.DataFrame({
            "beneficiary": [u for u in users for _ in starts],
            "hour_start": [t for _ in users for t in starts], "wh": wh}))
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="gec-"))
    for d in devices:
        for m in months:
            gec_issued(reg, folder, d, m, gec)
