"""Every API endpoint × every role: allowed roles pass the role check, the others get 403.

The expected matrix is :data:`greenlink.service.roles.ALLOWED`; :data:`ENDPOINTS` names the
action of each endpoint, and a test fails when an endpoint is added without an entry here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from greenlink.service.roles import ALLOWED, Action, Role
from tests.service.conftest import PASSWORD, Demo

_counter = itertools.count()
P = "/api/v1"


def _meter() -> dict[str, Any]:
    return {"files": {"file": ("m.csv", b"interval_start,energy_kwh\n"
                                        b"2025-01-01T00:00:00+08:00,1.0\n")}}


# (method, path template) -> (action, request kwargs factory)
ENDPOINTS: dict[tuple[str, str], tuple[Action | None, Callable[[], dict[str, Any]]]] = {
    ("POST", f"{P}/auth/login"): (None, lambda: {"json": {
        "email": "verifier@demo.greenlink", "password": PASSWORD}}),
    ("GET", f"{P}/auth/me"): (Action.TOKEN_MANAGE, dict),
    ("POST", f"{P}/auth/tokens"): (Action.TOKEN_MANAGE, lambda: {"json": {"name": "t"}}),
    ("GET", f"{P}/auth/tokens"): (Action.TOKEN_MANAGE, dict),
    ("DELETE", f"{P}/auth/tokens/{{token_id}}"): (Action.TOKEN_MANAGE, dict),
    ("GET", f"{P}/organisations"): (Action.ORG_LIST, dict),
    ("POST", f"{P}/organisations"): (
        Action.ORG_CREATE, lambda: {"json": {"name": f"matrix org {next(_counter)}"}}),
    ("GET", f"{P}/users"): (Action.USER_LIST, dict),
    ("POST", f"{P}/users"): (Action.USER_CREATE, lambda: {"json": {
        "email": f"m{next(_counter)}@demo.greenlink", "password": "long-enough-pw",
        "role": "tenant", "organisation_id": 1}}),
    ("GET", f"{P}/parks"): (Action.PARK_READ, dict),
    ("POST", f"{P}/parks"): (Action.PARK_CREATE, lambda: {
        "files": [("files", ("park.toml", b"not = [valid", "text/plain"))]}),
    ("GET", f"{P}/parks/{{park_id}}"): (Action.PARK_READ, dict),
    ("POST", f"{P}/parks/{{park_id}}/access"): (Action.PARK_GRANT, lambda: {
        "json": {"organisation_id": 999999}}),
    ("GET", f"{P}/parks/{{park_id}}/result"): (Action.PARK_READ, dict),
    ("GET", f"{P}/parks/{{park_id}}/users/{{user_id}}"): (Action.PARK_READ, dict),
    ("GET", f"{P}/parks/{{park_id}}/plots/{{name}}.svg"): (Action.PARK_READ, dict),
    ("GET", f"{P}/parks/{{park_id}}/report"): (Action.REPORT_DOWNLOAD, dict),
    ("POST", f"{P}/parks/{{park_id}}/jobs"): (Action.JOB_CREATE, lambda: {
        "json": {"kind": "check", "ruleset": "no-such-ruleset"}}),
    ("GET", f"{P}/parks/{{park_id}}/jobs"): (Action.JOB_READ, dict),
    ("GET", f"{P}/jobs/{{job_id}}"): (Action.JOB_READ, dict),
    ("GET", f"{P}/jobs/{{job_id}}/optimization"): (Action.OPTIMIZATION_READ, dict),
    ("POST", f"{P}/parks/{{park_id}}/meter-uploads"): (Action.METER_UPLOAD, _meter),
    ("GET", f"{P}/parks/{{park_id}}/meter-uploads"): (Action.METER_READ, dict),
    ("POST", f"{P}/parks/{{park_id}}/meter-files"): (Action.METER_INGEST, lambda: {
        "files": [("files", ("m.txt", b"not a meter file", "text/plain"))]}),
    ("GET", f"{P}/parks/{{park_id}}/meter-files"): (Action.METER_REPORT_READ, dict),
    ("GET", f"{P}/parks/{{park_id}}/meter-files/{{ingest_id}}"): (Action.METER_REPORT_READ, dict),
    ("POST", f"{P}/parks/{{park_id}}/certificates/issue"): (Action.CERT_ISSUE, dict),
    ("GET", f"{P}/parks/{{park_id}}/certificates"): (Action.CERT_READ, dict),
    ("POST", f"{P}/parks/{{park_id}}/certificates/{{bundle_id}}/transfer"): (
        Action.CERT_TRANSFER, lambda: {"json": {"to_account": "alu_extruder"}}),
    ("POST", f"{P}/parks/{{park_id}}/certificates/{{bundle_id}}/cancel"): (
        Action.CERT_CANCEL, lambda: {"json": {"purpose": "tenant_scope2",
                                              "beneficiary": "alu_extruder"}}),
    ("GET", f"{P}/parks/{{park_id}}/certificates/verify"): (Action.CERT_VERIFY, dict),
    ("GET", f"{P}/parks/{{park_id}}/certificates/claims"): (Action.CERT_READ, dict),
    ("POST", f"{P}/parks/{{park_id}}/certificates/gec"): (Action.CERT_ISSUE, lambda: {
        "files": [("records", ("gec.csv", b"not,a,gec,export\n", "text/csv")),
                  ("mapping", ("gec.toml", b"not = [toml", "text/plain"))]}),
    ("GET", f"{P}/parks/{{park_id}}/certificates/export"): (Action.CERT_EXPORT, dict),
    ("GET", f"{P}/parks/{{park_id}}/cbam"): (Action.CBAM_READ, dict),
    ("GET", f"{P}/parks/{{park_id}}/cbam/{{installation_id}}/see"): (Action.CBAM_READ, dict),
    ("GET", f"{P}/parks/{{park_id}}/cbam/{{installation_id}}/liability"): (
        Action.CBAM_READ, dict),
    ("GET", f"{P}/parks/{{park_id}}/cbam/{{installation_id}}/exposure"): (
        Action.CBAM_READ, dict),
    ("GET", f"{P}/parks/{{park_id}}/cbam/{{installation_id}}/pact"): (Action.CBAM_EXPORT, dict),
    ("GET", f"{P}/parks/{{park_id}}/cbam/{{installation_id}}/template"): (
        Action.CBAM_EXPORT, dict),
    ("GET", f"{P}/audit"): (Action.AUDIT_READ, dict),
    ("GET", f"{P}/shipments"): (Action.SHIPMENT_READ, dict),
}


def api_routes(demo: Demo) -> set[tuple[str, str]]:
    """Every (method, path) the published OpenAPI spec lists."""
    spec = demo.client.get("/openapi.json").json()
    return {(method.upper(), path) for path, item in spec["paths"].items() for method in item}


def test_every_endpoint_is_in_the_matrix(demo: Demo) -> None:
    assert api_routes(demo) == set(ENDPOINTS)


def _fill(path: str, demo: Demo) -> str:
    return (path.replace("{park_id}", str(demo.park_id)).replace("{job_id}", str(demo.job_id))
            .replace("{user_id}", "alu_extruder").replace("{name}", "monthly")
            .replace("{token_id}", "999999").replace("{ingest_id}", "999999")
            .replace("{bundle_id}", "999999").replace("{installation_id}", "alu_plant"))


@pytest.mark.parametrize("role", list(Role))
def test_role_matrix(demo: Demo, role: Role) -> None:
    """Allowed: neither 401 nor 403 (and never a 5xx); denied: 403. Without a token: 401."""
    who = "tenant" if role == Role.TENANT else role.value
    outcomes = {}
    for (method, path), (action, kwargs) in ENDPOINTS.items():
        url = _fill(path, demo)
        r = demo.client.request(method, url, headers=demo.headers(who), **kwargs())
        assert r.status_code < 500, (method, path, r.text)
        expected_allowed = action is None or role in ALLOWED[action]
        outcomes[(method, path)] = r.status_code
        if expected_allowed:
            assert r.status_code not in (401, 403), (role, method, path, r.status_code, r.text)
        else:
            assert r.status_code == 403, (role, method, path, r.status_code, r.text)
        if action is not None:
            anonymous = demo.client.request(method, url, **kwargs())
            assert anonymous.status_code == 401, (method, path, anonymous.text)
    assert len(outcomes) == len(ENDPOINTS)


@pytest.mark.parametrize("role", list(Role))
def test_template_job_follows_its_own_action(demo: Demo, role: Role) -> None:
    """``POST /parks/{id}/jobs`` with ``kind=cbam_template`` is checked against
    :data:`Action.CBAM_TEMPLATE` (tenants may fill their own plant's template), not JOB_CREATE."""
    who = "tenant" if role == Role.TENANT else role.value
    r = demo.client.post(f"{P}/parks/{demo.park_id}/jobs", headers=demo.headers(who),
                         json={"kind": "cbam_template", "installation": "no_such_plant"})
    assert r.status_code == (404 if role in ALLOWED[Action.CBAM_TEMPLATE] else 403), r.text
