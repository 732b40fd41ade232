"""End-to-end API flows: upload, jobs with progress, results, report, isolation, audit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from greenlink.service.models import ApiToken, AuditEvent, Job, MeterUpload, Park
from tests.service.conftest import PASSWORD, Demo, example_upload, operator_token


def test_openapi_is_published(demo: Demo) -> None:
    spec = demo.client.get("/openapi.json").json()
    assert "/api/v1/parks" in spec["paths"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_result_matches_a_direct_run_of_the_pipeline(demo: Demo) -> None:
    from greenlink.workflows.run import run_scenario

    r = demo.client.get(f"/api/v1/parks/{demo.park_id}/result", headers=demo.headers("operator"))
    assert r.status_code == 200
    summary = r.json()["summary"]
    direct = run_scenario(Path(demo.ctx.settings.data_dir).glob("parks/*/scenario/park.toml")
                          .__next__()).summary.model_dump(mode="json")
    assert summary["shares"] == pytest.approx(direct["shares"])
    assert [u["id"] for u in summary["users"]] == [u["id"] for u in direct["users"]]


def test_job_reports_progress_and_succeeds(demo: Demo) -> None:
    job = demo.client.get(f"/api/v1/jobs/{demo.job_id}", headers=demo.headers("operator")).json()
    assert job["status"] == "succeeded" and job["progress"] == 1.0 and job["error"] is None
    folder = Path(demo.ctx.settings.data_dir)
    outputs = sorted(p.name for p in folder.glob(f"parks/*/jobs/{demo.job_id}/*"))
    assert {"summary.json", "report.html", "flows.parquet", "plot_monthly.svg"} <= set(outputs)


def test_report_and_plot_download(demo: Demo) -> None:
    r = demo.client.get(f"/api/v1/parks/{demo.park_id}/report", headers=demo.headers("verifier"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "attachment" in r.headers["content-disposition"]
    svg = demo.client.get(f"/api/v1/parks/{demo.park_id}/plots/monthly.svg",
                          headers=demo.headers("tenant"))
    assert svg.status_code == 200 and svg.text.lstrip().startswith(("<?xml", "<svg"))


def test_tenant_sees_only_its_own_user(demo: Demo) -> None:
    h = demo.headers("steel_fasteners")
    summary = demo.client.get(f"/api/v1/parks/{demo.park_id}/result", headers=h).json()["summary"]
    assert [u["id"] for u in summary["users"]] == ["steel_fasteners"]
    assert all(p["user_id"] == "steel_fasteners" for p in summary["products"])
    own = demo.client.get(f"/api/v1/parks/{demo.park_id}/users/steel_fasteners", headers=h)
    assert own.status_code == 200
    other = demo.client.get(f"/api/v1/parks/{demo.park_id}/users/alu_extruder", headers=h)
    assert other.status_code == 404
    users_svg = demo.client.get(f"/api/v1/parks/{demo.park_id}/plots/users.svg", headers=h).text
    assert "Aluminium" not in users_svg and "alu_extruder" not in users_svg
    assert demo.client.get(f"/api/v1/parks/{demo.park_id}/report", headers=h).status_code == 403


def test_organisation_without_access_does_not_see_the_park(demo: Demo) -> None:
    token = operator_token(demo.ctx, "Other park operator")
    h = {"Authorization": f"Bearer {token}"}
    assert demo.client.get("/api/v1/parks", headers=h).json() == []
    assert demo.client.get(f"/api/v1/parks/{demo.park_id}", headers=h).status_code == 404
    assert demo.client.get(f"/api/v1/parks/{demo.park_id}/result",
                           headers=h).status_code == 404


def test_login_tokens_are_hashed_revocable_and_expire(demo: Demo) -> None:
    c = demo.client
    assert c.post("/api/v1/auth/login", json={"email": "operator@demo.greenlink",
                                              "password": "wrong-password"}).status_code == 401
    r = c.post("/api/v1/auth/login", json={"email": "operator@demo.greenlink",
                                           "password": PASSWORD})
    token = r.json()["token"]
    h = {"Authorization": f"Bearer {token}"}
    assert c.get("/api/v1/auth/me", headers=h).json()["role"] == "operator"
    with demo.ctx.sessions() as s:
        stored = list(s.scalars(select(ApiToken.token_sha256)))
        hashes = list(s.execute(select(func.count()).select_from(ApiToken)))
    assert token not in stored and hashes
    named = c.post("/api/v1/auth/tokens", json={"name": "script", "ttl_hours": 1}, headers=h)
    assert named.status_code == 201
    h2 = {"Authorization": f"Bearer {named.json()['token']}"}
    assert c.get("/api/v1/auth/me", headers=h2).status_code == 200
    assert c.delete(f"/api/v1/auth/tokens/{named.json()['id']}", headers=h).status_code == 200
    assert c.get("/api/v1/auth/me", headers=h2).status_code == 401
    # expire the login token by moving its expiry into the past
    from datetime import timedelta

    from greenlink.service.accounts import token_digest
    from greenlink.service.models import now_utc

    with demo.ctx.sessions() as s, s.begin():
        row = s.scalar(select(ApiToken).where(ApiToken.token_sha256 == token_digest(token)))
        assert row is not None
        row.expires_at = now_utc() - timedelta(seconds=1)
    assert c.get("/api/v1/auth/me", headers=h).status_code == 401


def test_passwords_are_stored_with_argon2(demo: Demo) -> None:
    from greenlink.service.models import User

    with demo.ctx.sessions() as s:
        hashes = list(s.scalars(select(User.password_hash)))
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert all(PASSWORD not in h for h in hashes)


def test_invalid_upload_stores_nothing(fresh) -> None:  # type: ignore[no-untyped-def]
    ctx, client = fresh
    h = {"Authorization": f"Bearer {operator_token(ctx)}"}
    files = example_upload()
    loads = next(f for f in files if f[1][0] == "loads.csv")
    broken = loads[1][1].replace(b"\n", b"\nnot-a-number,", 1)  # break the second line
    r = client.post("/api/v1/parks", headers=h, files=[
        *(f for f in files if f is not loads), ("files", ("loads.csv", broken, "text/csv"))])
    assert r.status_code == 422 and r.json()["problems"]
    missing = client.post("/api/v1/parks", headers=h, files=[files[0]])
    assert missing.status_code == 422
    assert any("loads.csv" in p for p in missing.json()["problems"])
    escape = client.post("/api/v1/parks", headers=h, files=[
        ("files", ("park.toml", files[0][1][1].replace(b'"series/loads.csv"',
                                                       b'"../../etc/passwd"'), "text/plain"))])
    assert escape.status_code == 422 and "leaves the scenario folder" in escape.text
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Park)) == 0
    data = ctx.settings.data_dir
    assert not list((data / "parks").glob("*")) if (data / "parks").exists() else True
    assert not list((data / "staging").glob("*")) if (data / "staging").exists() else True


def test_request_size_limit(fresh) -> None:  # type: ignore[no-untyped-def]
    ctx, client = fresh
    h = {"Authorization": f"Bearer {operator_token(ctx)}"}
    big = b"x" * (ctx.settings.max_request_bytes + 1)
    r = client.post("/api/v1/parks", headers=h, files=[("files", ("park.toml", big, "x"))])
    assert r.status_code == 413
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Park)) == 0


def test_failed_job_leaves_no_partial_results(fresh, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ctx, client = fresh
    h = {"Authorization": f"Bearer {operator_token(ctx)}"}
    park = client.post("/api/v1/parks", headers=h, files=example_upload()).json()

    def broken_report(*_a: object, **_k: object) -> None:
        raise RuntimeError("disk full while writing the report")

    monkeypatch.setattr("greenlink.report.html.write_report", broken_report)
    job = client.post(f"/api/v1/parks/{park['id']}/jobs", headers=h, json={"kind": "simulate"})
    assert job.status_code == 202 and job.json()["status"] == "queued"
    ctx.runner.wait(job.json()["id"], timeout_s=120)
    done = client.get(f"/api/v1/jobs/{job.json()['id']}", headers=h).json()
    # an unexpected error is reported generically (its text, which may name server paths,
    # goes to the server log only)
    assert done["status"] == "failed" and done["error"].startswith("internal error")
    assert "disk full" not in done["error"]
    jobs_dir = Path(ctx.settings.data_dir).glob("parks/*/jobs/*")
    assert list(jobs_dir) == []
    assert client.get(f"/api/v1/parks/{park['id']}/result", headers=h).status_code == 404
    # every state change of this story is in the audit log, in order, once
    events = client.get("/api/v1/audit", headers=h).json()
    assert [e["action"] for e in reversed(events)] == [
        "org.create", "user.create", "token.create", "park.create", "job.create", "job.fail"]
    assert json.dumps(events).count(f"park:{park['id']}") == 1


def test_unknown_ruleset_is_refused_before_queueing(demo: Demo) -> None:
    r = demo.client.post(f"/api/v1/parks/{demo.park_id}/jobs", headers=demo.headers("operator"),
                         json={"kind": "check", "ruleset": "no-such-ruleset"})
    assert r.status_code == 422
    with demo.ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Job)
                        .where(Job.ruleset == "no-such-ruleset")) == 0


def _meter_csv(values: list[float]) -> bytes:
    lines = ["interval_start,energy_kwh"]
    lines += [f"2025-03-01T{h:02d}:00:00+08:00,{v}" for h, v in enumerate(values)]
    return ("\n".join(lines) + "\n").encode()


def test_meter_upload_validated_scoped_and_audited(demo: Demo) -> None:
    url = f"/api/v1/parks/{demo.park_id}/meter-uploads"
    h = demo.headers("cement_grinding")
    ok = demo.client.post(url, headers=h, files={"file": ("m.csv", _meter_csv([1.5, 2.5]))})
    assert ok.status_code == 201
    assert ok.json()["park_user_id"] == "cement_grinding" and ok.json()["energy_kwh"] == 4.0
    bad = demo.client.post(url, headers=h, files={"file": ("m.csv", _meter_csv([1.0, -2.0]))})
    assert bad.status_code == 422 and "line 3" in bad.json()["problems"][0]
    other = demo.client.post(url, headers=h, data={"user_id": "data_centre"},
                             files={"file": ("m.csv", _meter_csv([1.0]))})
    assert other.status_code == 404
    listed = demo.client.get(url, headers=h).json()
    assert {m["park_user_id"] for m in listed} == {"cement_grinding"}
    with demo.ctx.sessions() as s:
        uploads = s.scalar(select(func.count()).select_from(MeterUpload)
                           .where(MeterUpload.park_user_id == "cement_grinding"))
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "meter.upload")))
    assert uploads == len(listed)
    assert ok.json()["id"] in [int(e.target.split(":")[1]) for e in events]
