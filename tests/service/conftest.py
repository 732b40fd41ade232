"""Fixtures of the service tests: a service with the demo accounts and the example park
simulated once per session, API clients per role, tokens."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from greenlink.service import accounts, jobs
from greenlink.service.context import ServiceContext
from greenlink.service.demo import DEMO_DOMAIN, seed_demo
from greenlink.service.settings import make_settings
from greenlink.service.startup import open_service
from greenlink.web.app import create_app

PASSWORD = "test-password-123"
FAST_HASH = {"argon2_time_cost": 1, "argon2_memory_kib": 8192}  # tests only: quick hashes
EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "greenlink" / "examples" / "jiangsu_park"


@dataclass
class Demo:
    ctx: ServiceContext
    client: TestClient
    park_id: int
    tokens: dict[str, str]  # role or tenant user id -> bearer token
    job_id: int

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def cookies(self, who: str) -> dict[str, str]:
        """The dashboard's session cookie of ``who`` (its name follows the settings)."""
        from greenlink.api.deps import session_cookie_name

        return {session_cookie_name(self.ctx.settings): self.tokens[who]}


def example_upload() -> list[tuple[str, tuple[str, bytes, str]]]:
    """Multipart ``files`` of the example park: park.toml first, then every file it uses."""
    from greenlink.service.demo import example_files

    files = sorted(example_files(), key=lambda f: f.filename != "park.toml")
    return [("files", (f.filename, f.content, "application/octet-stream")) for f in files]


def operator_keys(folder: Path) -> Path:
    """The operator's key folder that signs the parks' registries (Settings.registry_key_dir),
    made in ``folder``."""
    from greenlink.signing.keys import generate_key

    key_dir = folder / "operator-keys"
    if not key_dir.exists():
        generate_key(key_dir)
    return key_dir


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo accounts and the example park, simulated once (about 8 s)."""
    folder = tmp_path_factory.mktemp("service")
    settings = make_settings(f"sqlite:///{folder / 'service.db'}", folder,
                             max_request_bytes=8 * 1024 * 1024,
                             registry_key_dir=operator_keys(folder), **FAST_HASH)
    ctx = open_service(settings)
    park_id, made = seed_demo(ctx, PASSWORD)
    tokens = {}
    for acc in made:
        key = acc.park_user_id or acc.role
        tokens[key] = accounts.login(ctx, acc.email, PASSWORD).secret
    tokens["tenant"] = tokens["alu_extruder"]
    operator = accounts.authenticate(ctx, tokens["operator"])
    job = jobs.submit_job(ctx, operator, park_id, "simulate")
    assert ctx.runner is not None
    ctx.runner.wait(job.id, timeout_s=120)
    app = create_app(settings, ctx)
    with TestClient(app) as client:
        yield Demo(ctx, client, park_id, tokens, job.id)
    ctx.close()


@pytest.fixture()
def fresh(tmp_path: Path) -> Iterator[tuple[ServiceContext, TestClient]]:
    """An empty service (own database and folder) with its job worker."""
    settings = make_settings(f"sqlite:///{tmp_path / 'service.db'}", tmp_path / "data",
                             max_request_bytes=4 * 1024 * 1024,
                             registry_key_dir=operator_keys(tmp_path), **FAST_HASH)
    ctx = open_service(settings)
    with TestClient(create_app(settings, ctx)) as client:
        yield ctx, client
    ctx.close()


def operator_token(ctx: ServiceContext, org: str = "Park Co") -> str:
    email = f"op-{org.replace(' ', '-').lower()}@{DEMO_DOMAIN}"
    accounts.create_user(ctx, None, email, PASSWORD, "operator", org, create_org=True)
    return accounts.login(ctx, email, PASSWORD).secret


# ------------------------------------------------------------------ PostgreSQL (throwaway cluster)


def _as_postgres_user(cmd: list[str]) -> list[str]:
    """Run as the ``postgres`` user when we are root (PostgreSQL refuses to run as root)."""
    import os

    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL cluster made with ``initdb`` in a temporary folder, listening on a free
    loopback port; yields a ``postgresql+psycopg://`` URL and stops the cluster afterwards."""
    import os
    import shutil
    import socket
    import subprocess

    if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not on PATH")
    import tempfile

    # outside pytest's private (0700, root-owned) temp tree, so the postgres user can reach it
    root = Path(tempfile.mkdtemp(prefix="greenlink-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = {"check": True, "capture_output": True, "timeout": 120}
    subprocess.run(_as_postgres_user(["initdb", "-D", str(data), "-U", "postgres",
                                      "--auth=trust", "-E", "UTF8"]), **run)  # type: ignore[call-overload]
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(_as_postgres_user(["pg_ctl", "-D", str(data), "-o", opts, "-w", "-l",
                                      str(root / "log"), "start"]), **run)  # type: ignore[call-overload]
    try:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                        "greenlink"], **run)  # type: ignore[call-overload]
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/greenlink"
    finally:
        subprocess.run(_as_postgres_user(["pg_ctl", "-D", str(data), "-m", "fast", "stop"]),
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
