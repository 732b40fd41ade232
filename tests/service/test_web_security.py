"""Units of the web hardening: the header middleware, the cross-site rule, server paths out of
messages, upload names."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from greenlink.errors import InputError
from greenlink.service.errors import public_data, public_text
from greenlink.service.settings import make_settings
from greenlink.service.uploads import check_upload_name
from greenlink.web.security import SecurityHeaders, from_this_site, security_headers


def test_security_headers_replace_the_apps_own_and_keep_the_rest(tmp_path) -> None:  # type: ignore[no-untyped-def]
    def home(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("x", headers={"Cache-Control": "public", "x-a": "1",
                                               "X-Frame-Options": "SAMEORIGIN", "x-b": "2"})

    app = Starlette(routes=[Route("/", home)])
    app.add_middleware(SecurityHeaders, secure=security_headers(make_settings(None, tmp_path)))
    items = TestClient(app).get("/").headers.multi_items()
    names = [k for k, _ in items]
    assert dict(items)["x-a"] == "1" and dict(items)["x-b"] == "2"
    assert names.count("x-frame-options") == 1 and dict(items)["x-frame-options"] == "DENY"
    assert names.count("cache-control") == 1 and dict(items)["cache-control"] == "no-store"
    assert "strict-transport-security" in names
    insecure = security_headers(make_settings(None, tmp_path, cookie_secure=False))
    assert "Strict-Transport-Security" not in insecure.headers


@pytest.mark.parametrize(("headers", "trusted"), [
    ({"sec-fetch-site": "same-origin", "cookie": "a=1"}, True),
    ({"sec-fetch-site": "none"}, True),
    ({"sec-fetch-site": "same-site", "origin": "https://h.test"}, False),
    ({"sec-fetch-site": "cross-site", "origin": "https://h.test"}, False),
    ({"origin": "https://h.test"}, True),
    ({"origin": "https://H.test"}, True),
    ({"origin": "https://evil.test"}, False),
    ({"origin": "null", "cookie": "a=1"}, False),
    ({"origin": "http://[::1"}, False),
    ({}, True),  # not a browser, no cookies: e.g. curl logging in
    ({"cookie": "greenlink_session=x"}, False),
])
def test_cross_site_rule(headers: dict[str, str], trusted: bool) -> None:
    assert from_this_site(Headers({"host": "h.test", **headers})) is trusted


def test_public_text_keeps_file_names_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    text = (f"{data}/parks/ab/scenario/loads.csv: line 3; see docs/metering.md, "
            "/api/v1/auth/login, 2.5 kWh/h, C:\\Users\\me\\park.toml, /usr/lib/python3/x.py")
    assert public_text(text, data) == ("loads.csv: line 3; see docs/metering.md, "
                                       "/api/v1/auth/login, 2.5 kWh/h, park.toml, x.py")
    assert public_text("greenlink-service/parks/ab/x.csv not found", "greenlink-service") \
        == "x.csv not found"
    assert public_data({"a": [f"{data}/y.csv", 1, None]}, data) == {"a": ["y.csv", 1, None]}


@pytest.mark.parametrize("name", ["", " ", "a" * 201, "../x.csv", "a/b.csv", "a\\b.csv", "..",
                                  "a\x00b.csv", "a\nb.csv", "a\u202eb.csv", "a\udce9.csv"])
def test_odd_upload_names_are_input_errors(name: str) -> None:
    with pytest.raises(InputError):
        check_upload_name(name)


def test_plain_upload_names_pass() -> None:
    for name in ("park.toml", "负荷 2025.csv", "café.csv", "a" * 200, "...csv"):
        assert check_upload_name(name) == name
    with pytest.raises(InputError, match="not UTF-8"):
        check_upload_name("caf\xe9.csv", utf8=False)
