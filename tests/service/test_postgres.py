"""The service on PostgreSQL: migrations (own version table, beside another Alembic tree) and one
API flow, on a throwaway cluster."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text

from greenlink.service.db import VERSION_TABLE
from greenlink.service.settings import make_settings
from greenlink.service.startup import open_service
from greenlink.web.app import create_app
from tests.service.conftest import FAST_HASH, example_upload, operator_token
from tests.service.test_migrations import head_revision


def test_migrations_and_api_flow_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    # another Alembic tree (e.g. the certificate registry) already uses the default table
    other = create_engine(postgres_url)
    with other.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('registry_0001')"))
    settings = make_settings(postgres_url, tmp_path, **FAST_HASH)
    ctx = open_service(settings)
    ctx.close()
    ctx = open_service(settings)  # a second start finds the schema current
    try:
        names = set(inspect(ctx.engine).get_table_names())
        assert {"svc_user", "svc_park", "svc_job", "svc_audit_event", VERSION_TABLE} <= names
        with ctx.engine.connect() as conn:
            assert conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar() \
                == head_revision()
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() \
                == "registry_0001"
        h = {"Authorization": f"Bearer {operator_token(ctx)}"}
        with TestClient(create_app(settings, ctx)) as client:
            park = client.post("/api/v1/parks", headers=h, files=example_upload())
            assert park.status_code == 201
            job = client.post(f"/api/v1/parks/{park.json()['id']}/jobs", headers=h, json={})
            assert ctx.runner is not None
            ctx.runner.wait(job.json()["id"], timeout_s=120)
            done = client.get(f"/api/v1/jobs/{job.json()['id']}", headers=h).json()
            assert done["status"] == "succeeded", done
            assert done["created_at"].endswith("+00:00") or done["created_at"].endswith("Z")
            result = client.get(f"/api/v1/parks/{park.json()['id']}/result", headers=h).json()
            assert len(result["summary"]["users"]) == 5
            actions = [e["action"] for e in client.get("/api/v1/audit", headers=h).json()]
            assert {"park.create", "job.create", "job.succeed"} <= set(actions)
    finally:
        ctx.close()
        other.dispose()
