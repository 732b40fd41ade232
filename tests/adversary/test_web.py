"""The web service against an adversary: one test per attack class of the outside review.

Each test plays the attack over HTTP (FastAPI's TestClient, ``https://testserver``) against a
service of its own or the module's simulated example park, and asserts the attack fails.
"""

from __future__ import annotations

import re
import statistics
import tempfile
import threading
import time
import typing
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, routing
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from greenlink.service import accounts, jobs
from greenlink.service.context import ServiceContext
from greenlink.service.demo import DEMO_DOMAIN, example_files, seed_demo
from greenlink.service.models import ApiToken, AuditEvent, Job, User, now_utc
from greenlink.service.settings import Settings, make_settings
from greenlink.service.startup import open_service
from greenlink.web.app import create_app
from tests.service.conftest import FAST_HASH, PASSWORD

BASE = "https://testserver"
SAME_SITE = {"Origin": BASE, "Sec-Fetch-Site": "same-origin"}
CROSS_SITE = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
METER_CSV = b"interval_start,energy_kwh\n2025-03-01T00:00:00+08:00,1.5\n"


def client_of(app: FastAPI, address: str = "testclient") -> TestClient:
    return TestClient(app, base_url=BASE, follow_redirects=False, client=(address, 50000))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def email(who: str) -> str:
    return f"{who}@{DEMO_DOMAIN}"


def web_login(client: TestClient, who: str) -> None:
    r = client.post("/login", data={"email": email(who), "password": PASSWORD},
                    headers=SAME_SITE)
    assert r.status_code == 303, r.text


def page_token(client: TestClient, path: str = "/parks") -> str:
    """The csrftoken of a page's forms ("" when the page has none)."""
    found = re.search(r'name="csrftoken" value="([^"]*)"', client.get(path).text)
    return found.group(1) if found else ""


def fill(path: str, values: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), 1)), path)


def routes(app: FastAPI, methods: set[str]) -> list[tuple[str, str, Any]]:
    """(method, path, route) of every route of the app (API and dashboard) with ``methods``,
    as the app resolves them (included routers with their prefixes)."""
    contexts = (routing.iter_route_contexts(app.routes)
                if hasattr(routing, "iter_route_contexts") else app.routes)
    return sorted(((m, r.path, r) for r in contexts
                   if isinstance(getattr(r, "original_route", r), APIRoute)
                   for m in (r.methods or set()) & methods), key=lambda t: (t[1], t[0]))


def takes_files(route: Any) -> bool:
    hints = typing.get_type_hints(route.endpoint, include_extras=True)
    return any("UploadFile" in str(h) for h in hints.values())


@dataclass
class Site:
    ctx: ServiceContext
    app: FastAPI
    settings: Settings
    park_id: int
    job_id: int
    tokens: dict[str, str]  # role or tenant user id -> bearer token

    def counts(self) -> tuple[int, int, int]:
        with self.ctx.sessions() as s:
            return (s.scalar(select(func.count()).select_from(Job)) or 0,
                    s.scalar(select(func.count()).select_from(AuditEvent)) or 0,
                    s.scalar(select(func.count()).select_from(ApiToken)) or 0)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The demo accounts and the example park, simulated once."""
    folder = tmp_path_factory.mktemp("adversary")
    settings = make_settings(f"sqlite:///{folder / 'service.db'}", folder / "data", **FAST_HASH)
    ctx = open_service(settings)
    park_id, made = seed_demo(ctx, PASSWORD)
    tokens = {acc.park_user_id or acc.role: accounts.login(ctx, acc.email, PASSWORD).secret
              for acc in made}
    operator = accounts.authenticate(ctx, tokens["operator"])
    job = jobs.submit_job(ctx, operator, park_id, "simulate")
    assert ctx.runner is not None
    ctx.runner.wait(job.id, timeout_s=180)
    yield Site(ctx, create_app(settings, ctx), settings, park_id, job.id, tokens)
    ctx.close()


@pytest.fixture()
def lone(tmp_path: Path) -> Iterator[tuple[ServiceContext, FastAPI]]:
    """An empty service of its own (fresh login counters), no job worker."""
    settings = make_settings(f"sqlite:///{tmp_path / 'service.db'}", tmp_path / "data",
                             **FAST_HASH)
    ctx = open_service(settings, start_runner=False)
    yield ctx, create_app(settings, ctx)
    ctx.close()


# ------------------------------------------------------------------ 1. password guessing


def test_password_guessing_is_throttled_per_account_and_per_client(lone) -> None:  # type: ignore[no-untyped-def]
    ctx, app = lone
    accounts.create_user(ctx, None, "victim@x.test", PASSWORD, "operator", "Victim Co",
                         create_org=True)
    attacker = client_of(app, "203.0.113.7")
    for _ in range(5):
        r = attacker.post("/api/v1/auth/login",
                          json={"email": "victim@x.test", "password": "guess-guess"})
        assert r.status_code == 401
    # the account is locked for a while: even the right password is refused, with Retry-After
    r = attacker.post("/api/v1/auth/login", json={"email": "victim@x.test", "password": PASSWORD})
    assert r.status_code == 429 and "token" not in r.json()
    assert int(r.headers["Retry-After"]) > 0
    web = attacker.post("/login", data={"email": "victim@x.test", "password": PASSWORD},
                        headers=SAME_SITE)
    assert web.status_code == 429 and "set-cookie" not in web.headers
    # from elsewhere too (the lock is on the account), and an unknown address locks the same
    r = client_of(app, "198.51.100.1").post(
        "/api/v1/auth/login", json={"email": "victim@x.test", "password": PASSWORD})
    assert r.status_code == 429
    # one client spraying many addresses is stopped by the per-client limit
    sprayer = client_of(app, "203.0.113.99")
    answers = [sprayer.post("/api/v1/auth/login", json={"email": f"u{i}@x.test",
                                                        "password": "guess-guess"}).status_code
               for i in range(21)]
    assert answers[:20] == [401] * 20 and answers[20] == 429
    # ... while another client is not affected
    accounts.create_user(ctx, None, "other@x.test", PASSWORD, "operator", "Victim Co")
    ok = client_of(app, "198.51.100.2").post(
        "/api/v1/auth/login", json={"email": "other@x.test", "password": PASSWORD})
    assert ok.status_code == 200


class HeldChecks:
    """Wraps ``accounts.verify_password`` so that every password check waits until each of
    ``expected`` concurrent logins has either reached its check or been answered: all the
    attempts that get past the throttle are in flight together, none has failed yet."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.checked: list[str] = []
        self.answered = 0
        self.expected = 0
        self.cond = threading.Condition()
        real = accounts.verify_password

        def held(stored: str, password: str) -> bool:
            with self.cond:
                self.checked.append(password)
                self.cond.notify_all()
                self.cond.wait_for(self._all_in, timeout=30)
            return real(stored, password)

        monkeypatch.setattr(accounts, "verify_password", held)

    def _all_in(self) -> bool:
        return len(self.checked) + self.answered >= self.expected

    def expect(self, logins: int) -> None:
        """``logins`` more are coming: checks wait for them too."""
        with self.cond:
            self.expected += logins

    def send(self, app: FastAPI, address: str, logins: list[tuple[str, str]]) -> list[int]:
        """Send ``logins`` (email, password) at once from ``address``; their status codes."""
        def one(login: tuple[str, str]) -> int:
            try:
                return client_of(app, address).post(
                    "/api/v1/auth/login",
                    json={"email": login[0], "password": login[1]}).status_code
            finally:
                with self.cond:
                    self.answered += 1
                    self.cond.notify_all()

        with ThreadPoolExecutor(len(logins)) as pool:
            return list(pool.map(one, logins))


def test_concurrent_guesses_count_against_the_limits(lone, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The review's race: 30 logins at once for one account (29 wrong, then the right one)
    were all checked, and the right one logged in, against a limit of 5 per account."""
    ctx, app = lone
    accounts.create_user(ctx, None, "victim@x.test", PASSWORD, "operator", "Victim Co",
                         create_org=True)
    held = HeldChecks(monkeypatch)
    guesses = [("victim@x.test", f"wrong-{i:02d}") for i in range(29)]
    right = ("victim@x.test", PASSWORD)
    held.expect(30)  # the guesses' checks wait for the right password's answer (or check)
    with ThreadPoolExecutor(1) as last:
        wrong = last.submit(held.send, app, "203.0.113.7", guesses)
        with held.cond:  # every guess past the throttle, none failed yet
            assert held.cond.wait_for(lambda: len(held.checked) + held.answered >= 29, 30)
        assert held.send(app, "203.0.113.7", [right]) == [429]  # sent while they are checked
        codes = wrong.result(timeout=60)
    assert sorted(set(codes)) == [401, 429] and codes.count(401) == 5, codes
    assert len(held.checked) == 5 and PASSWORD not in held.checked
    r = client_of(app, "198.51.100.1").post(
        "/api/v1/auth/login", json={"email": "victim@x.test", "password": PASSWORD})
    assert r.status_code == 429  # locked, from anywhere
    # one client spraying 30 addresses at once gets 20 checks (the per-client limit)
    checked = len(held.checked)
    held.expect(30)
    codes = held.send(app, "203.0.113.99", [(f"u{i}@x.test", "guess-guess") for i in range(30)])
    assert codes.count(401) == 20 and codes.count(429) == 10, codes
    assert len(held.checked) - checked == 20


def test_successful_logins_reset_the_account_and_cost_the_client_nothing(lone) -> None:  # type: ignore[no-untyped-def]
    """A login clears its address's failures, and many users behind one address (an office's
    NAT) may log in again and again without filling the per-client limit."""
    ctx, app = lone
    accounts.create_user(ctx, None, "user@x.test", PASSWORD, "operator", "Co", create_org=True)
    office = client_of(app, "192.0.2.10")

    def status(password: str) -> int:
        return office.post("/api/v1/auth/login",
                           json={"email": "user@x.test", "password": password}).status_code

    for _ in range(3):  # 4 failures and a login, 3 times: the address is never locked
        assert [status("guess-guess") for _ in range(4)] == [401] * 4
        assert status(PASSWORD) == 200
    assert [status(PASSWORD) for _ in range(20)] == [200] * 20  # logins are not counted
    assert [status("guess-guess") for _ in range(4)] == [401] * 4
    assert status(PASSWORD) == 200
    # 16 failures so far: 4 more fill the client's 20, and then the client waits
    others = [office.post("/api/v1/auth/login", json={"email": f"u{i}@x.test",
                                                      "password": "guess"}).status_code
              for i in range(5)]
    assert others == [401] * 4 + [429]
    assert status(PASSWORD) == 429


# ------------------------------------------------------------------ 2. user enumeration


def test_unknown_and_known_users_cannot_be_told_apart(tmp_path: Path) -> None:
    """Same status, same body, same time (within a tolerance) for an unknown email address,
    a wrong password and an inactive user."""
    settings = make_settings(f"sqlite:///{tmp_path / 'service.db'}", tmp_path / "data",
                             argon2_time_cost=1, argon2_memory_kib=32768)
    ctx = open_service(settings, start_runner=False)
    try:
        known = [f"known{i}@x.test" for i in range(4)]
        for address in [*known, "inactive@x.test"]:
            accounts.create_user(ctx, None, address, PASSWORD, "tenant", "Co", create_org=True)
        with ctx.sessions() as s, s.begin():
            user = s.scalar(select(User).where(User.email == "inactive@x.test"))
            assert user is not None
            user.active = False
        client = client_of(create_app(settings, ctx))

        def attempt(address: str) -> tuple[float, int, bytes]:
            start = time.perf_counter()
            r = client.post("/api/v1/auth/login", json={"email": address,
                                                        "password": "wrong-password"})
            return time.perf_counter() - start, r.status_code, r.content

        attempt("warm-up@x.test")
        unknown, wrong = [], []
        for i in range(8):  # interleaved, so that load changes hit both alike
            unknown.append(attempt(f"nobody{i}@x.test"))
            wrong.append(attempt(known[i % len(known)]))
        inactive = attempt("inactive@x.test")
    finally:
        ctx.close()
    answers = {(status, body) for _, status, body in [*unknown, *wrong, inactive]}
    assert len(answers) == 1 and answers.pop()[0] == 401
    t_unknown = statistics.median(t for t, _, _ in unknown)
    t_wrong = statistics.median(t for t, _, _ in wrong)
    assert abs(t_unknown - t_wrong) <= 0.3 * t_wrong + 0.005, (t_unknown, t_wrong)


# ------------------------------------------------------------------ 3. token escalation


def test_a_token_never_outlives_the_token_that_made_it(site: Site) -> None:
    """The review's attack: a 36-second token mints a 366-day one."""
    c = client_of(site.app)
    short = c.post("/api/v1/auth/tokens", headers=bearer(site.tokens["verifier"]),
                   json={"name": "36 s", "ttl_hours": 0.01})
    assert short.status_code == 201
    long = c.post("/api/v1/auth/tokens", headers=bearer(short.json()["token"]),
                  json={"name": "366 days", "ttl_hours": 24 * 366})
    assert long.status_code == 201
    parent_expiry = datetime.fromisoformat(short.json()["expires_at"])
    child_expiry = datetime.fromisoformat(long.json()["expires_at"])
    assert child_expiry <= parent_expiry <= now_utc() + timedelta(seconds=40)
    # same user, same role: a child has no more rights than its parent
    me = c.get("/api/v1/auth/me", headers=bearer(long.json()["token"])).json()
    assert me["role"] == "verifier"
    # once the parent's time is over, the child is dead too, and an expired token mints nothing
    shift = parent_expiry - now_utc() + timedelta(seconds=1)  # time passes for both
    with site.ctx.sessions() as s, s.begin():
        for row in s.scalars(select(ApiToken).where(
                ApiToken.id.in_([short.json()["id"], long.json()["id"]]))):
            row.expires_at = row.expires_at - shift
    assert c.get("/api/v1/auth/me", headers=bearer(long.json()["token"])).status_code == 401
    again = c.post("/api/v1/auth/tokens", headers=bearer(short.json()["token"]),
                   json={"name": "again", "ttl_hours": 1})
    assert again.status_code == 401


# ------------------------------------------------------------------ 4. session cookie theft


def test_session_cookie_is_secure_httponly_and_samesite(site: Site) -> None:
    r = client_of(site.app).post("/login", data={"email": email("verifier"),
                                                 "password": PASSWORD}, headers=SAME_SITE)
    assert r.status_code == 303
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie"
                  and "glk_" in v)
    attributes = {a.strip().split("=")[0].lower(): a for a in cookie.split(";")}
    assert {"secure", "httponly", "samesite"} <= set(attributes)
    assert attributes["samesite"].split("=")[1].strip().lower() in ("lax", "strict")
    assert cookie.startswith("__Host-")  # only from HTTPS, path /, no domain


# ------------------------------------------------------------------ 5. cross-site requests


def test_cross_site_posts_with_the_victims_cookie_are_refused_on_every_route(
        site: Site) -> None:
    victim = client_of(site.app)
    web_login(victim, "operator")
    throwaway = accounts.login(site.ctx, email("operator"), PASSWORD)
    values = {"park_id": site.park_id, "job_id": site.job_id, "token_id": throwaway.id,
              "bundle_id": 1}
    form = {"kind": "simulate", "installation": "alu_plant", "bundle_id": "1",
            "to_account": "alu_extruder", "purpose": "tenant_scope2", "name": "attacker",
            "email": email("operator"), "password": PASSWORD, "organisation_id": "1"}
    unsafe = routes(site.app, UNSAFE)
    assert len(unsafe) >= 15 and ("POST", "/logout") in {(m, p) for m, p, _ in unsafe}
    before = site.counts()
    accepted = {}
    for label, forged in (("cross-site", CROSS_SITE), ("opaque origin", {"Origin": "null"}),
                          ("sibling subdomain", {"Sec-Fetch-Site": "same-site"}),
                          ("no Origin, no Fetch Metadata", {})):
        for method, path, _route in unsafe:
            r = victim.request(method, fill(path, values), data=form, headers=forged)
            if r.status_code != 403:
                accepted[(label, method, path)] = (r.status_code, r.text[:100])
    assert not accepted, accepted
    assert site.counts() == before
    # from our own pages, the dashboard's forms still need the session's form token
    dashboard = [(m, p) for m, p, _ in unsafe if not p.startswith("/api/") and p != "/login"]
    for method, path in dashboard:
        for token in (None, "0" * 64):
            body = form if token is None else {**form, "csrftoken": token}
            r = victim.request(method, fill(path, values), data=body, headers=SAME_SITE)
            if r.status_code != 403:
                accepted[(f"token {token}", method, path)] = (r.status_code, r.text[:100])
    assert not accepted, accepted
    assert site.counts() == before
    # ... and with it they work
    ok = victim.post("/logout", data={"csrftoken": page_token(victim)}, headers=SAME_SITE)
    assert ok.status_code == 303 and victim.get("/parks").status_code == 303


# ------------------------------------------------------------------ 6. framing, XSS, sniffing


def _check_headers(r: Any, what: str) -> None:
    h = r.headers
    csp = h.get("content-security-policy", "")
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert "frame-ancestors 'none'" in directives.values(), (what, csp)
    for name in ("script-src", "style-src"):
        assert name in directives or "default-src" in directives, (what, csp)
        value = directives.get(name, directives.get("default-src", ""))
        assert "'unsafe-inline'" not in value and "'unsafe-eval'" not in value, (what, csp)
    assert h.get("x-frame-options", "").upper() == "DENY", what
    assert h.get("x-content-type-options", "").lower() == "nosniff", what
    assert h.get("referrer-policy"), what


def test_security_headers_on_every_route_family(site: Site) -> None:
    c = client_of(site.app)
    values = {"park_id": site.park_id, "job_id": site.job_id, "user_id": "alu_extruder",
              "name": "monthly", "installation_id": "alu_plant", "ingest_id": 1}
    h = bearer(site.tokens["operator"])
    for _method, path, _route in routes(site.app, {"GET"}):
        _check_headers(c.get(fill(path, values), headers=h), path)
    for path in ("/static/greenlink.css", "/openapi.json", "/no-such-page", "/api/v1/nothing",
                 "/parks", "/api/v1/parks", "/login"):  # the last three: not logged in
        _check_headers(c.get(path), path)
    _check_headers(c.post("/logout", headers=CROSS_SITE), "refused cross-site")
    big = b"x" * (site.settings.max_request_bytes + 1)
    _check_headers(c.post("/api/v1/parks", headers=h, files=[("files", ("a.toml", big))]),
                   "413")
    _check_headers(c.post("/api/v1/auth/login", json={}), "422")
    # nothing inline for the policy to have to allow
    web = Path(__file__).resolve().parents[2] / "src" / "greenlink" / "web"
    for template in (web / "templates").glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text, re.I), template.name
        assert not re.search(r"\son[a-z]+\s*=", text, re.I), template.name
        assert "style=" not in text and "javascript:" not in text.lower(), template.name


# ------------------------------------------------------------------ 7. tenant isolation


def test_a_tenant_sees_only_its_own_organisations_jobs(site: Site) -> None:
    with site.ctx.sessions() as s, s.begin():
        alu = s.scalar(select(User).where(User.email == email("alu_extruder")))
        assert alu is not None
        own = Job(park_id=site.park_id, kind="cbam_template", params={"installation": "x"},
                  status="failed", progress=0.0, message="failed",
                  error="alu_plant: secret detail", created_by=alu.id)
        s.add(own)
    c = client_of(site.app)
    steel = bearer(site.tokens["steel_fasteners"])
    listed = c.get(f"/api/v1/parks/{site.park_id}/jobs", headers=steel)
    assert listed.status_code == 200 and listed.json() == []
    for job_id in (own.id, site.job_id):
        assert c.get(f"/api/v1/jobs/{job_id}", headers=steel).status_code == 404
        assert c.get(f"/jobs/{job_id}", headers=steel).status_code == 404
    page = c.get(f"/parks/{site.park_id}", headers=steel).text
    assert f"/jobs/{own.id}" not in page and f"/jobs/{site.job_id}" not in page
    alu_jobs = c.get(f"/api/v1/parks/{site.park_id}/jobs",
                     headers=bearer(site.tokens["alu_extruder"])).json()
    assert [j["id"] for j in alu_jobs] == [own.id]
    operator = c.get(f"/api/v1/parks/{site.park_id}/jobs",
                     headers=bearer(site.tokens["operator"])).json()
    assert {own.id, site.job_id} <= {j["id"] for j in operator}


# ------------------------------------------------------------------ 8. job flooding


def test_an_organisation_cannot_flood_the_job_queue(site: Site) -> None:
    c = client_of(site.app)
    runner, site.ctx.runner = site.ctx.runner, None  # jobs stay queued
    try:
        answers = [c.post(f"/api/v1/parks/{site.park_id}/jobs", json={"kind": "simulate"},
                          headers=bearer(site.tokens["operator"])) for _ in range(12)]
        codes = [a.status_code for a in answers]
        assert 202 in codes and codes[-1] == 429, codes
        first_refused = codes.index(429)
        assert set(codes[first_refused:]) == {429}
        assert int(answers[-1].headers["Retry-After"]) > 0
        # another organisation is not held up by it
        other = c.post(f"/api/v1/parks/{site.park_id}/jobs", json={"kind": "check"},
                       headers=bearer(site.tokens["admin"]))
        assert other.status_code == 202
    finally:
        site.ctx.runner = runner
        with site.ctx.sessions() as s, s.begin():
            for job in s.scalars(select(Job).where(Job.status == "queued")):
                job.status, job.error = "failed", "test cleanup"


# ------------------------------------------------------------------ 9. information leaks


def test_no_server_path_in_any_response(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    data = site.settings.data_dir
    secrets_ = {str(data), str(data.resolve()), str(data.resolve().parent),
                tempfile.gettempdir() + "/"}
    c = client_of(site.app)
    op = bearer(site.tokens["operator"])

    # error cases first: jobs failing on a path, uploads failing inside the staging folder
    def fail_with_path(*_a: object, **_k: object) -> None:
        raise FileNotFoundError(2, "No such file or directory",
                                str(data / "parks" / "x" / "scenario" / "loads.csv"))

    def fail_with_input_path(*_a: object, **_k: object) -> None:
        from greenlink.errors import InputError

        raise InputError(f"cannot read {data.resolve() / 'parks' / 'x' / 'loads.csv'}")

    failed = []
    for broken in (fail_with_path, fail_with_input_path):
        monkeypatch.setattr("greenlink.workflows.run.run_scenario", broken)
        job = c.post(f"/api/v1/parks/{site.park_id}/jobs", json={"kind": "simulate"},
                     headers=op).json()
        assert site.ctx.runner is not None
        site.ctx.runner.wait(job["id"], timeout_s=60)
        failed.append(job["id"])
    monkeypatch.undo()
    bodies: dict[str, str] = {}
    r = c.post(f"/api/v1/parks/{site.park_id}/meter-files", headers=op,
               files=[("files", ("meters.csv", METER_CSV, "text/csv"))])
    bodies["meter-files 4xx"] = f"{r.status_code} {r.text}"
    r = c.post("/api/v1/parks", headers=op, files=[("files", ("park.toml", b"x = [", "x"))])
    bodies["park 4xx"] = f"{r.status_code} {r.text}"

    # a crawl of every GET route, as each role
    values = {"park_id": site.park_id, "user_id": "alu_extruder", "installation_id": "alu_plant",
              "ingest_id": 1}
    urls = set()
    for _method, path, _route in routes(site.app, {"GET"}):
        for job_id in (site.job_id, *failed):
            for name in ("monthly", "users", "seasonal"):
                urls.add(fill(path, {**values, "job_id": job_id, "name": name}))
    for who in ("operator", "verifier", "admin", "alu_extruder", "importer"):
        for url in sorted(urls):
            r = c.get(url, headers=bearer(site.tokens[who]))
            bodies[f"{who} {url}"] = f"{r.status_code} {r.text}"
    for url in ("/no-such-page", f"/api/v1/parks/{site.park_id}/plots/nope.svg"):
        bodies[url] = c.get(url, headers=op).text
    assert any(b.startswith("200") for b in bodies.values())
    leaks = {k: s for k, v in bodies.items() for s in secrets_ if s in v}
    assert not leaks, leaks
    job = c.get(f"/api/v1/jobs/{failed[1]}", headers=op).json()
    assert job["status"] == "failed" and "loads.csv" in job["error"]


# ------------------------------------------------------------------ 10. odd upload names


ODD_NAMES: dict[str, bytes] = {
    "300 characters": b"a" * 300,
    "parent folder": b"../../etc/x",
    "NUL": b"a\x00b",
    "control characters": b"a\x07\x1bb",
    "not UTF-8": b"caf\xe9\xff",
    "empty": b"",
    "dot dot": b"..",
}


def _multipart(field: str, filename: bytes, content: bytes,
               extra: dict[str, str] | None = None) -> tuple[bytes, str]:
    boundary = "greenlinkBoundary7MA4YWxk"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
             .encode() for k, v in (extra or {}).items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
                 'filename="'.encode() + filename + b'"\r\nContent-Type: text/csv\r\n\r\n'
                 + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), \
        f"multipart/form-data; boundary={boundary}"


def test_odd_upload_names_are_refused_not_crashed(site: Site) -> None:
    c = TestClient(site.app, base_url=BASE, follow_redirects=False,
                   raise_server_exceptions=False)
    web_login(c, "operator")
    token = page_token(c, f"/parks/{site.park_id}/certificates")
    park_toml = next(f.content for f in example_files() if f.filename == "park.toml")
    uploads = [(m, p, r) for m, p, r in routes(site.app, UNSAFE) if takes_files(r)]
    assert {p for _, p, _ in uploads} >= {"/api/v1/parks", "/parks",
                                          "/api/v1/parks/{park_id}/meter-files"}
    outcomes = {}
    for method, path, _route in uploads:
        field = "file" if "meter-uploads" in path else "files"
        is_park = path in ("/api/v1/parks", "/parks")
        for label, name in ODD_NAMES.items():
            bare = label in ("empty", "dot dot")  # "..": no suffix, "...csv" is a file name
            for suffix in ((b"",) if bare else (b".toml",) if is_park else (b".csv", b"")):
                body, ctype = _multipart(
                    field, name + suffix,
                    park_toml if is_park else METER_CSV,
                    {"csrftoken": token, "user_id": "alu_extruder"} if not is_park
                    else {"csrftoken": token})
                headers = {"content-type": ctype, **SAME_SITE}
                if path.startswith("/api/"):
                    headers.update(bearer(site.tokens["operator"]))
                r = c.request(method, fill(path, {"park_id": site.park_id}), content=body,
                              headers=headers)
                outcomes[(path, label, suffix)] = (r.status_code, r.text[:120])
    bad = {k: v for k, v in outcomes.items() if not 400 <= v[0] < 500}
    assert not bad, bad


# ------------------------------------------------------------------ 11. ids out of range


#: Ids no row can have: 2^63 overflows SQLite's and PostgreSQL's 64-bit integers (an HTTP 500
#: before), 23 digits too, and -1.
OUT_OF_RANGE_IDS = [str(2**63), "99999999999999999999999", "-1"]
API_BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/parks/{park_id}/certificates/{bundle_id}/cancel": {
        "purpose": "tenant_scope2", "beneficiary": "alu_extruder"},
    "/api/v1/parks/{park_id}/certificates/{bundle_id}/transfer": {"to_account": "alu_extruder"},
    "/api/v1/parks/{park_id}/jobs": {"kind": "check"},
    "/api/v1/parks/{park_id}/access": {"organisation_id": 1},
}


def _server_errors(site: Site, requests: list[tuple[str, str, dict[str, Any]]]
                   ) -> dict[str, tuple[int, str]]:
    """Send each (method, url, request keywords) as the operator (bearer token for the API,
    the session cookie and form token for the dashboard); the answers that are not 4xx."""
    c = TestClient(site.app, base_url=BASE, follow_redirects=False,
                   raise_server_exceptions=False)
    web_login(c, "operator")
    token = page_token(c, f"/parks/{site.park_id}/certificates")
    bad = {}
    for method, url, kwargs in requests:
        headers = dict(SAME_SITE)
        if url.startswith("/api/"):
            headers.update(bearer(site.tokens["operator"]))
        elif method in UNSAFE:
            kwargs = {**kwargs, "data": {**kwargs.get("data", {}), "csrftoken": token}}
        r = c.request(method, url, headers=headers, **kwargs)
        if not 400 <= r.status_code < 500:
            bad[f"{method} {url[:80]}"] = (r.status_code, r.text[:100])
    return bad


def test_ids_no_row_can_have_are_refused_on_every_route(site: Site) -> None:
    """The review's finding: any integer id >= 2^63 in a URL gave HTTP 500 (SQLite integer
    overflow). Every route of the app (API and dashboard) with an {...id...} path parameter,
    each such parameter in turn, with valid values for the rest and a valid body."""
    values = {"park_id": site.park_id, "job_id": site.job_id, "user_id": "alu_extruder",
              "installation_id": "alu_plant", "name": "monthly", "ingest_id": 1,
              "bundle_id": 1, "token_id": 1}
    form = {"kind": "check", "bundle_id": "1", "to_account": "alu_extruder",
            "purpose": "tenant_scope2", "beneficiary": "alu_extruder"}
    requests = []
    seen = set()
    for method, path, route in routes(site.app, {"GET", *UNSAFE}):
        for param in re.findall(r"\{(\w*id\w*)\}", path):
            seen.add((method, path))
            for bad_id in OUT_OF_RANGE_IDS:
                kwargs: dict[str, Any] = {}
                if takes_files(route):
                    field = "file" if "meter-uploads" in path else "files"
                    kwargs = {"files": [(field, ("m.csv", METER_CSV, "text/csv"))]}
                elif path in API_BODIES:
                    kwargs = {"json": API_BODIES[path]}
                elif method in UNSAFE and not path.startswith("/api/"):
                    kwargs = {"data": form}
                requests.append((method, fill(path, {**values, param: bad_id}), kwargs))
    named = {(m, p) for m, p in seen}
    assert {("GET", "/api/v1/jobs/{job_id}"), ("GET", "/parks/{park_id}"),
            ("GET", "/jobs/{job_id}"), ("DELETE", "/api/v1/auth/tokens/{token_id}"),
            ("POST", "/api/v1/parks/{park_id}/certificates/{bundle_id}/cancel"),
            ("GET", "/api/v1/parks/{park_id}/meter-files/{ingest_id}")} <= named
    assert len(named) >= 40, len(named)
    jobs_before = site.counts()[0]
    bad = _server_errors(site, requests)
    assert not bad, bad
    assert site.counts()[0] == jobs_before


def test_ids_no_row_can_have_in_bodies_forms_and_queries(site: Site) -> None:
    """The same numbers where an id (or a Wh amount, or an offset) comes in a JSON body, a
    dashboard form or a query string."""
    big = 2**63
    p = site.park_id
    user = {"email": "x@x.test", "password": PASSWORD, "role": "tenant"}
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", f"/api/v1/parks/{p}/access", {"json": {"organisation_id": big}}),
        ("POST", "/api/v1/users", {"json": {**user, "organisation_id": big}}),
        ("GET", f"/api/v1/audit?after_id={big}", {}),
        ("GET", f"/api/v1/parks/{p}/certificates?offset={big}", {}),
        ("POST", f"/api/v1/parks/{p}/certificates/1/cancel",
         {"json": {"purpose": "tenant_scope2", "beneficiary": "alu_extruder",
                   "quantity_wh": big}}),
        ("POST", f"/api/v1/parks/{p}/certificates/1/transfer",
         {"json": {"to_account": "alu_extruder", "quantity_wh": big}}),
    ]
    for action in ("transfer", "cancel"):
        for field in ("bundle_id", "quantity_wh"):
            data = {"bundle_id": "1", "to_account": "alu_extruder", "purpose": "tenant_scope2",
                    "beneficiary": "alu_extruder", field: str(big)}
            requests.append(("POST", f"/parks/{p}/certificates/{action}", {"data": data}))
    bad = _server_errors(site, requests)
    assert not bad, bad


def test_revoking_a_token_ends_the_tokens_made_with_it(site: Site) -> None:
    """A child token never outlives its parent: revoking the parent ends it (and its own
    children) at once."""
    c = client_of(site.app)
    parent = c.post("/api/v1/auth/tokens", headers=bearer(site.tokens["verifier"]),
                    json={"name": "parent", "ttl_hours": 1}).json()
    child = c.post("/api/v1/auth/tokens", headers=bearer(parent["token"]),
                   json={"name": "child", "ttl_hours": 1}).json()
    grandchild = c.post("/api/v1/auth/tokens", headers=bearer(child["token"]),
                        json={"name": "grandchild", "ttl_hours": 1}).json()
    assert c.get("/api/v1/auth/me", headers=bearer(grandchild["token"])).status_code == 200
    assert c.delete(f"/api/v1/auth/tokens/{parent['id']}",
                    headers=bearer(site.tokens["verifier"])).status_code in (200, 204)
    for t in (parent, child, grandchild):
        assert c.get("/api/v1/auth/me", headers=bearer(t["token"])).status_code == 401


@pytest.mark.parametrize("name", [" meters.csv", "meters .csv", "m e t e r s.csv", "电表 1.csv"])
def test_meter_upload_errors_name_the_upload_not_the_staging_folder(site: Site,
                                                                     name: str) -> None:
    """A name with spaces once cut the path scrubber short and showed the staging folder."""
    c = client_of(site.app)
    r = c.post(f"/api/v1/parks/{site.park_id}/meter-files", headers=bearer(site.tokens["operator"]),
               files=[("files", (name, b"interval_start,energy_kwh\nnot a time,1\n", "text/csv"))])
    assert r.status_code == 422, r.text
    assert name.strip() in r.text
    for secret in ("staging", "meters-", str(site.settings.data_dir)):
        assert secret not in r.text, (secret, r.text)
